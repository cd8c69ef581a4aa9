#!/usr/bin/env bash
# A 丽水-sized real-boundary city for the tile benchmarks: the 13 real
# districts of Hangzhou (data/hangzhou-districts.geojson, 16,850 km²)
# split by GDAL (SQLite dialect, SpatiaLite's ST_Intersection) into
# villages of about 3 km², every village partitioned into unit cells.
# Prints the store's path; then, e.g.:
#   CIVGRID_BENCH_STORE=$(benches/tiles/real-city.sh) cargo bench -p civgrid-service --bench tiles
#   civgrid --store STORE serve & python3 benches/tiles/scan.py http://127.0.0.1:8080 areas,cells,risk 0 13
# Usage: benches/tiles/real-city.sh [OUT_DIR]   (env: STEP_DEG=0.017; CIVGRID=target/release/civgrid)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/tmp/civgrid-real-city}
step=${STEP_DEG:-0.017}
bin=${CIVGRID:-target/release/civgrid}
[ -x "$bin" ] || { echo "real-city.sh: $bin is missing (cargo build --release -p civgrid-service)" >&2; exit 1; }
mkdir -p "$out"
work="$out/work.gpkg"
store="$out/real-city.gpkg"
rm -f "$work" "$store" "$out/villages-communities.gpkg"
ogr2ogr -q -f GPKG "$work" data/hangzhou-districts.geojson -nln districts -makevalid -nlt MULTIPOLYGON
# A lattice of squares over the districts' extent.
python3 - "$step" "$out/squares.geojson" <<'EOF'
import json, sys
step, path = float(sys.argv[1]), sys.argv[2]
w, s, e, n = 118.33, 29.18, 120.73, 30.57
features = []
y = s
j = 0
while y < n:
    x, i = w, 0
    while x < e:
        ring = [[x, y], [x + step, y], [x + step, y + step], [x, y + step], [x, y]]
        features.append({"type": "Feature", "properties": {"gx": i, "gy": j},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
        x += step
        i += 1
    y += step
    j += 1
json.dump({"type": "FeatureCollection", "features": features}, open(path, "w"))
print(f"real-city.sh: {len(features)} squares of {step}°", file=sys.stderr)
EOF
ogr2ogr -q -update "$work" "$out/squares.geojson" -nln squares
# Villages: each square cut by each district it meets, numbered within
# its district (50 villages to a township).
ogr2ogr -q -f GPKG "$out/villages-communities.gpkg" "$work" -nln communities -nlt MULTIPOLYGON -dialect SQLite -sql "
  WITH cut AS (
    SELECT d.code AS district, s.gx, s.gy,
           CastToMultiPolygon(ST_CollectionExtract(ST_Intersection(d.geom, s.geom), 3)) AS geom
    FROM districts d JOIN squares s ON ST_Intersects(d.geom, s.geom)
  ),
  kept AS (
    SELECT district, geom, ROW_NUMBER() OVER (PARTITION BY district ORDER BY gy, gx) AS k
    FROM cut WHERE geom IS NOT NULL AND ST_Area(geom) > 1e-7
  )
  SELECT geom,
         district || printf('%03d%03d', (k - 1) / 50 + 1, (k - 1) % 50 + 1) AS code,
         'village ' || k AS name, 'rural' AS kind
  FROM kept"
echo "real-city.sh: $(ogrinfo -so "$out/villages-communities.gpkg" communities | grep -o 'Feature Count: [0-9]*') villages" >&2
"$bin" --store "$store" import --repair data/hangzhou-districts.geojson "$out/villages-communities.gpkg" >&2
"$bin" --store "$store" cells >&2
echo "$store"

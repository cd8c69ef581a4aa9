#!/usr/bin/env bash
# civgrid's household grids against METIS on the same cells and households.
# usage: benches/grids/metis.sh [synth args, default: --preset town]
# Needs: pip install pymetis shapely; GDAL's ogr2ogr.
set -euo pipefail
cd "$(dirname "$0")/../.."
args=("$@"); ((${#args[@]})) || args=(--preset town)
cargo build --release -q -p civgrid-service
bin=target/release/civgrid
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
store=$dir/store.gpkg
RUST_LOG=warn $bin --store "$store" synth "${args[@]}"
RUST_LOG=warn $bin --store "$store" cells
RUST_LOG=warn $bin --store "$store" grids
for layer in communities cells buildings; do
  ogr2ogr -f GeoJSON "$dir/$layer.geojson" "$store" "$layer"
done
$bin --store "$store" export grids --out "$dir/grids.geojson"
python3 benches/grids/metis_baseline.py "$dir"

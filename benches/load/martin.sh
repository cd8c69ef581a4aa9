#!/usr/bin/env bash
# civgrid and martin side by side: the same unit cells in PostGIS served as
# MVT (below zoom 13, civgrid's areas overview, which stands in for cells
# there, against martin's cells), the same z-ZOOM tile list, wrk -t2 -c32 for DURATION each, in one
# run: both with their tile cache off (every request renders), then both
# with it on (after one warming pass). Not run in CI.
#
# Needs: wrk, curl, python3, PostgreSQL + PostGIS (scripts/postgis.sh) and
# martin (MARTIN, default `martin` on PATH; version 1.14.0 builds without
# its rendering features:
#   cargo install martin@1.14.0 --locked --no-default-features --features postgres).
# Usage: benches/load/martin.sh   (env: DURATION=10s PRESET=city ZOOM=14)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
duration=${DURATION:-10s}
zoom=${ZOOM:-14}
# Below the zoom where cells are served (13), civgrid's map shows the areas
# overview in their place; martin serves the cells table at any zoom,
# whatever size the tiles grow to.
if [ "$zoom" -ge 13 ]; then layer=cells; else layer=areas; fi
martin=${MARTIN:-martin}
command -v wrk >/dev/null || { echo "martin.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }
command -v "$martin" >/dev/null || { echo "martin.sh: martin is missing (see the header)" >&2; exit 1; }
work=$(mktemp -d)
cargo build --release -p civgrid-service >&2
bin=${CARGO_TARGET_DIR:-target}/release/civgrid

url=$(scripts/postgis.sh)
psql -q "$url" -c "DROP DATABASE IF EXISTS civgrid_martin" -c "CREATE DATABASE civgrid_martin"
db="${url%/*}/civgrid_martin"
"$bin" --store "$db" synth --preset "${PRESET:-city}" >&2
"$bin" --store "$db" cells >&2
psql -q "$db" -c "VACUUM ANALYZE cells"

server=
stop() { [ -z "$server" ] || { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=; }; }
trap stop EXIT
wait_up() { for _ in $(seq 1 300); do curl -sf -o /dev/null "$1" && return; sleep 0.2; done; echo "martin.sh: $1 never answered" >&2; exit 1; }
load() { # name base-url list warm
  if [ "$4" = warm ]; then while read -r p; do curl -sf -o /dev/null "$2$p"; done < "$3"; fi
  echo "== $1" >&2
  TILES="$3" wrk -t2 -c32 -d"$duration" -s benches/load/tiles.lua "$2" | grep -E "Requests/sec|Non-2xx|Latency "
}

for mode in cold cached; do
  if [ "$mode" = cold ]; then cache_mb=0; warm=no; else cache_mb=512; warm=warm; fi
  RUST_LOG=warn "$bin" --store "$db" serve --listen 127.0.0.1:18183 --tile-cache-mb "$cache_mb" >&2 &
  server=$!
  wait_up http://127.0.0.1:18183/health
  curl -sf http://127.0.0.1:18183/tiles/cells.json |
    python3 benches/load/tile-list.py "$zoom" "/tiles/$layer/{z}/{x}/{y}.mvt" > "$work/civgrid.txt"
  sed "s#^/tiles/$layer/#/cells/#; s#\.mvt\$##" "$work/civgrid.txt" > "$work/martin.txt"
  echo "== $(wc -l < "$work/civgrid.txt") z$zoom tiles" >&2
  load "civgrid $mode" http://127.0.0.1:18183 "$work/civgrid.txt" "$warm"
  stop
  RUST_LOG=warn "$martin" --listen-addresses 127.0.0.1:18184 --cache-size "$cache_mb" "$db" >&2 &
  server=$!
  wait_up http://127.0.0.1:18184/catalog
  load "martin $mode" http://127.0.0.1:18184 "$work/martin.txt" "$warm"
  stop
done

#!/usr/bin/env bash
# Load test of cached tiles: GET /tiles/{risk|cells}/{z}/{x}/{y}.{png|mvt}
# with wrk (2 threads, 32 connections, random tiles of one zoom over the
# territory), after one pass over every tile has filled the cache. The data
# is the seeded synthetic city (PRESET, default city: about 10,000 cells)
# with its unit cells, in a GeoPackage store. Not run in CI.
#
# Needs: wrk, curl, python3.
# Usage: benches/load/tiles.sh [WORK_DIR]
#   env: DURATION=20s PORT=18182 PRESET=city ZOOM=14 LAYER=risk (or cells)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
work=${1:-$(mktemp -d)}
duration=${DURATION:-20s}
port=${PORT:-18182}
zoom=${ZOOM:-14}
layer=${LAYER:-risk}
command -v wrk >/dev/null || { echo "tiles.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }

. benches/load/lib.sh
release_binary
store="$work/tiles.gpkg"
synth_store "$store" "${PRESET:-city}"
RUST_LOG=warn "$bin" --store "$store" serve --listen "127.0.0.1:$port" >&2 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
wait_up "http://127.0.0.1:$port/health"

format=png; [ "$layer" = risk ] || [ "$layer" = heat ] || format=mvt
curl -sf "http://127.0.0.1:$port/tiles/$layer.json" |
  python3 benches/load/tile-list.py "$zoom" "/tiles/$layer/{z}/{x}/{y}.$format" > "$work/tiles.txt"
echo "== $(wc -l < "$work/tiles.txt") $layer tiles at z$zoom: cold pass (render + cache), then wrk on the cache" >&2
start=$(date +%s.%N)
while read -r path; do curl -sf -o /dev/null "http://127.0.0.1:$port$path"; done < "$work/tiles.txt"
echo "cold pass (sequential curl, includes curl start-up): $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s" >&2
TILES="$work/tiles.txt" wrk -t2 -c32 -d"$duration" --latency -s benches/load/tiles.lua "http://127.0.0.1:$port"

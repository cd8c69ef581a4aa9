#!/usr/bin/env bash
# Load test of POST /api/v1/assign with wrk (2 threads, 32 connections)
# over the synthetic city (PRESET, default city) with unit cells and
# household grids: random points in the middle 80 % of the territory's
# extent, event classes 0408 火灾, 0403 燃气管道破裂, 0301 施工扰民,
# 0504 店外经营 and 0101 私搭乱建 (3 nearest responders of the class's
# kinds where it has some). Points between communities answer 404 (outside
# the territory): wrk counts them as answers. Not run in CI.
#
# Needs: wrk, ogrinfo (GDAL).
# Usage: benches/load/assign.sh [WORK_DIR]   (env: PRESET=city, DURATION=10s, ROUNDS=3, PORT=18182)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
work=${1:-$(mktemp -d)}
mkdir -p "$work"
preset=${PRESET:-city}
duration=${DURATION:-10s}
rounds=${ROUNDS:-3}
port=${PORT:-18182}
command -v wrk >/dev/null || { echo "assign.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }

cargo build --release -p civgrid-service >&2
bin=target/release/civgrid
store="$work/assign-$preset.gpkg"
if [ ! -f "$store" ]; then
  echo "== store: synthetic $preset, unit cells, household grids in $store" >&2
  "$bin" --store "$store" synth --preset "$preset" >&2
  "$bin" --store "$store" cells >&2
  "$bin" --store "$store" grids >&2
fi
# The middle 80 % of the communities' extent.
bbox=$(ogrinfo -so "$store" communities | awk -F'[(), -]+' '/^Extent/ {
  dx = ($4 - $2) * 0.1; dy = ($5 - $3) * 0.1;
  printf "%.6f %.6f %.6f %.6f", $2 + dx, $3 + dy, $4 - dx, $5 - dy }')
echo "== points in $bbox" >&2

RUST_LOG=warn "$bin" --store "$store" serve --listen "127.0.0.1:$port" >&2 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done

for round in $(seq 1 "$rounds"); do
  BBOX="$bbox" wrk -t2 -c32 -d"$duration" --latency -s benches/load/assign.lua "http://127.0.0.1:$port" >"$work/assign-wrk-$round.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/assign-wrk-$round.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/assign-wrk-$round.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$work/assign-wrk-$round.txt")
  echo "round $round: assign $rps req/s, p99 $p99, non-2xx (outside the territory) ${non2xx:-0}"
done

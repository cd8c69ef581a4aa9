#!/usr/bin/env bash
# Load test of GET /api/v1/nearest (k = 5 over 100,000 facilities) with wrk
# (2 threads, 32 connections, random points) against the same KNN in
# PostGIS (`ORDER BY geom <-> point LIMIT 5`, GiST index, prepared) with
# pgbench (2 clients). Both on the same machine as the server. Not run in CI.
#
# The two alternate ROUNDS times (DURATION each), so that a drift of the
# machine's speed during the run hits both alike; every round prints its
# ratio and the last line the median ratio.
#
# Needs: wrk, pgbench and PostgreSQL + PostGIS (scripts/postgis.sh).
# Usage: benches/load/nearest.sh [WORK_DIR]   (env: DURATION=10s, ROUNDS=3, PORT=18181)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
work=${1:-$(mktemp -d)}
mkdir -p "$work"
duration=${DURATION:-10s}
rounds=${ROUNDS:-3}
port=${PORT:-18181}
command -v wrk >/dev/null || { echo "nearest.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }

echo "== data: 100,000 facilities, 10,000 query points in $work" >&2
python3 benches/load/make-data.py "$work" 100000 10000
cargo build --release -p civgrid-service >&2
bin=target/release/civgrid

echo "== stores: GeoPackage for civgrid, PostGIS for the KNN" >&2
rm -f "$work/load.gpkg"
"$bin" --store "$work/load.gpkg" import "$work/facilities.geojson" >&2
url=$(scripts/postgis.sh)
psql -q "$url" -c "DROP DATABASE IF EXISTS civgrid_load" -c "CREATE DATABASE civgrid_load"
load_url="${url%/*}/civgrid_load"
"$bin" --store "$load_url" import "$work/facilities.geojson" >&2
psql -q "$load_url" -c "VACUUM ANALYZE facilities"

RUST_LOG=warn "$bin" --store "$work/load.gpkg" serve --listen "127.0.0.1:$port" >&2 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/api/v1/nearest?$(head -1 "$work/points.txt")&k=5" >/dev/null

ratios=()
for round in $(seq 1 "$rounds"); do
  civgrid=$(POINTS="$work/points.txt" wrk -t2 -c32 -d"$duration" --latency -s benches/load/nearest.lua "http://127.0.0.1:$port" |
    tee "$work/wrk-$round.txt" | awk '/Requests\/sec/ {print $2}')
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk-$round.txt")
  postgis=$(pgbench -n -M prepared -c 2 -j 2 -T "${duration%s}" -f benches/load/knn.sql "$load_url" 2>/dev/null |
    awk '/^tps/ {print $3}')
  ratio=$(python3 -c "print(f'{$civgrid / $postgis:.2f}')")
  ratios+=("$ratio")
  echo "round $round: civgrid $civgrid req/s (p99 $p99), PostGIS KNN $postgis queries/s: ${ratio}x"
done
echo "median ratio over $rounds rounds: $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')x"

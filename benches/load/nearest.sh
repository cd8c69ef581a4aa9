#!/usr/bin/env bash
# Load test of GET /api/v1/nearest (k = 5 over 100,000 facilities) with wrk
# (2 threads, 32 connections, 20 s, random points), then the same KNN in
# PostGIS (`ORDER BY geom <-> point LIMIT 5`, GiST index) with pgbench
# (2 clients, 20 s). Both on the same machine as the server. Not run in CI.
#
# Needs: wrk, pgbench and PostgreSQL + PostGIS (scripts/postgis.sh).
# Usage: benches/load/nearest.sh [WORK_DIR]   (env: DURATION=20s, PORT=18181)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
work=${1:-$(mktemp -d)}
mkdir -p "$work"
duration=${DURATION:-20s}
port=${PORT:-18181}
command -v wrk >/dev/null || { echo "nearest.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }

echo "== data: 100,000 facilities, 10,000 query points in $work" >&2
python3 benches/load/make-data.py "$work" 100000 10000
cargo build --release -p civgrid-service >&2
bin=target/release/civgrid

echo "== civgrid (GeoPackage store)" >&2
rm -f "$work/load.gpkg"
"$bin" --store "$work/load.gpkg" import "$work/facilities.geojson" >&2
RUST_LOG=warn "$bin" --store "$work/load.gpkg" serve --listen "127.0.0.1:$port" >&2 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/api/v1/nearest?$(head -1 "$work/points.txt")&k=5" >/dev/null
POINTS="$work/points.txt" wrk -t2 -c32 -d"$duration" --latency -s benches/load/nearest.lua "http://127.0.0.1:$port"
kill "$server"; wait "$server" 2>/dev/null || true
trap - EXIT

echo "== PostGIS KNN (pgbench)" >&2
url=$(scripts/postgis.sh)
psql -q "$url" -c "DROP DATABASE IF EXISTS civgrid_load" -c "CREATE DATABASE civgrid_load"
load_url="${url%/*}/civgrid_load"
"$bin" --store "$load_url" import "$work/facilities.geojson" >&2
psql -q "$load_url" -c "VACUUM ANALYZE facilities"
pgbench -n -M prepared -c 2 -j 2 -T "${duration%s}" -f benches/load/knn.sql "$load_url"

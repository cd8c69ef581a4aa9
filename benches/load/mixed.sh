#!/usr/bin/env bash
# Mixed load (locate 50 %, nearest 30 %, tiles 20 %) with wrk for DURATION
# against the seeded synthetic city (cells and grids built) in a GeoPackage
# store, sampling the server's memory (RSS) every 10 s: a long DURATION is
# the soak test. Prints wrk's figures, the non-200 count, p50/p99/p99.9 and
# the RSS samples (first, max, last). Not run in CI.
#
# Needs: wrk, curl, python3.
# Usage: benches/load/mixed.sh [WORK_DIR]
#   env: DURATION=60s PORT=18183 PRESET=city CONNECTIONS=32
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
work=${1:-$(mktemp -d)}
duration=${DURATION:-60s}
port=${PORT:-18183}
command -v wrk >/dev/null || { echo "mixed.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }

. benches/load/lib.sh
release_binary
store="$work/mixed.gpkg"
synth_store "$store" "${PRESET:-city}" grids
RUST_LOG=warn "$bin" --store "$store" serve --listen "127.0.0.1:$port" >&2 &
server=$!
sampler=
trap 'kill "$server" 2>/dev/null || true; [ -z "$sampler" ] || kill "$sampler" 2>/dev/null || true' EXIT
wait_up "http://127.0.0.1:$port/health"
curl -sf "http://127.0.0.1:$port/tiles/risk.json" | python3 benches/load/mixed-paths.py 100000 > "$work/paths.txt"

rss="$work/rss.txt"
: > "$rss"
( while kill -0 "$server" 2>/dev/null; do
    echo "$(date +%s) $(ps -o rss= -p "$server" | tr -d ' ')" >> "$rss"; sleep 10
  done ) &
sampler=$!
echo "== wrk -t2 -c${CONNECTIONS:-32} -d$duration, mixed workload (100,000 paths)" >&2
PATHS="$work/paths.txt" wrk -t2 -c"${CONNECTIONS:-32}" -d"$duration" --latency -s benches/load/mixed.lua "http://127.0.0.1:$port"
sleep 1
kill "$sampler" 2>/dev/null || true
python3 - "$rss" <<'PY'
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 2]
kib = [r for _, r in rows]
if kib:
    print(f"server RSS over {len(kib)} samples (10 s apart): first {kib[0] / 1024:.0f} MiB, "
          f"max {max(kib) / 1024:.0f} MiB, last {kib[-1] / 1024:.0f} MiB")
PY

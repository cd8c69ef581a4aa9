#!/usr/bin/env bash
# The province benchmark (issue 15): a 10-million-household synthetic
# province (64 districts, 13,050 communities; made once and cached in
# WORK_DIR), its unit cells and household grids, then `civgrid serve` on
# it, measured as its users meet it:
#
#   - partition: `civgrid cells` and `civgrid grids`, wall time and peak RSS
#     (only when the store is made);
#   - start-up: from launch to the first answer of /health, and RSS after;
#   - reads under writes: `locate`, then `nearest` (k = 5), with
#     wrk -t2 -c32 for DURATION each while one facility write a second
#     runs (p50/p99 and requests/s; any non-2xx is counted by errors.lua);
#   - writes: WRITES fire stations added one after another at random
#     points, each timed from request to answer (the answer comes after
#     the new snapshot is published): p50, p99, max;
#   - coverage of the whole province (fire stations, 5 minutes);
#   - a soak: SOAK (10 minutes; 0 skips it) of `locate` and `nearest` in
#     turn with one write a second, then RSS.
#
# Not run in CI (minutes, and GiB). Needs wrk, curl, python3.
# Usage: benches/load/province.sh [WORK_DIR]
#   env: BIN (default: a release build), HOUSEHOLDS=10000000, DURATION=20s,
#        WRITES=200, PORT=18191, SOAK=10m
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
. benches/load/lib.sh
work=${1:-/tmp/civgrid-province}
households=${HOUSEHOLDS:-10000000}
duration=${DURATION:-20s}
writes=${WRITES:-200}
port=${PORT:-18191}
token=province-bench
base="http://127.0.0.1:$port"
command -v wrk >/dev/null || { echo "province.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }
mkdir -p "$work"
if [ -n "${BIN:-}" ]; then bin=$BIN; else release_binary; fi
store="$work/province-$households.gpkg"

# timed LABEL COMMAND...: runs it, prints its wall time and peak RSS.
timed() {
  local label=$1
  shift
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >&2
  read -r secs kb <"$work/time.txt"
  echo "$label: ${secs} s, peak RSS $((kb / 1024)) MiB"
}

if [ ! -f "$store" ]; then
  # Made under another name (ending in .gpkg, as the store's kind is told
  # by it) and renamed once whole: an interrupted run leaves no store.
  part="$work/province-$households.part.gpkg"
  rm -f "$part"
  echo "== data: $households households in $store" >&2
  "$bin" --store "$part" synth --households "$households" >&2
  timed "civgrid cells" "$bin" --store "$part" cells
  timed "civgrid grids" "$bin" --store "$part" grids
  mv "$part" "$store"
fi

rss() { awk '/VmRSS/ {printf "%d MiB", $2 / 1024}' "/proc/$1/status"; }

echo "== serve $store" >&2
started=$(date +%s.%N)
RUST_LOG=warn "$bin" --store "$store" serve --listen "127.0.0.1:$port" --writer-token "$token" >&2 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 1500); do curl -sf -o /dev/null "$base/health" && break; sleep 0.2; done
up=$(date +%s.%N)
echo "start-up: $(python3 -c "print(f'{$up - $started:.1f}')") s, RSS $(rss "$server")"

# Query points: random points over the facilities' extent that lie in the
# territory (locate answers 200), so that every non-2xx under load counts.
curl -sf "$base/ogc/collections/facilities" | python3 -c '
import http.client, json, random, sys
w, s, e, n = json.load(sys.stdin)["extent"]["spatial"]["bbox"][0]
random.seed(15)
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[2]))
kept = []
while len(kept) < 10000:
    q = f"lon={random.uniform(w, e):.6f}&lat={random.uniform(s, n):.6f}"
    conn.request("GET", "/api/v1/locate?" + q)
    r = conn.getresponse()
    r.read()
    if r.status == 200:
        kept.append(q)
with open(sys.argv[1], "w") as out:
    out.write("\n".join(kept) + "\n")
' "$work/points.txt" "$port"

# write_one N: adds fire station N at a random query point; prints seconds.
write_one() {
  local p lon lat
  p=$(sed -n "$(($1 % 10000 + 1))p" "$work/points.txt")
  lon=${p#lon=}; lon=${lon%%&*}; lat=${p##*lat=}
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X POST "$base/api/v1/facilities" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/geo+json' \
    -d "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[$lon,$lat]},\"properties\":{\"kind\":\"fire_station\",\"name\":\"bench $1\"}}"
}

# start_writer FIRST: one facility write a second in the background
# (stations FIRST, FIRST + 1, …), until stop_writer.
start_writer() {
  (i=0; while :; do write_one $(($1 + i)) >>"$work/writes-under-load.txt"; i=$((i + 1)); sleep 1; done) &
  writer=$!
}
stop_writer() {
  kill "$writer" 2>/dev/null || true
  wait "$writer" 2>/dev/null || true
}

# Reads while one write a second runs.
for path in locate nearest; do
  query=""
  [ "$path" = nearest ] && query="&k=5"
  start_writer 5000
  POINTS="$work/points.txt" ENDPOINT="/api/v1/$path" QUERY="$query" wrk -t2 -c32 -d"$duration" --latency \
    -s benches/load/nearest.lua "$base" >"$work/wrk-$path.txt" 2>&1 || true
  stop_writer
  echo "$path under 1 write/s: $(awk '/Requests\/sec/ {print $2}' "$work/wrk-$path.txt") req/s," \
    "p50 $(awk '$1 == "50%" {print $2}' "$work/wrk-$path.txt")," \
    "p99 $(awk '$1 == "99%" {print $2}' "$work/wrk-$path.txt")" \
    "$(grep -E 'Non-2xx|errors' "$work/wrk-$path.txt" | tr '\n' ' ')"
done

: >"$work/writes.txt"
for i in $(seq 1 "$writes"); do write_one "$i" >>"$work/writes.txt"; done
python3 - "$work/writes.txt" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
bad = sum(1 for code, _ in rows if code != "201")
t = sorted(float(s) * 1000 for _, s in rows)
q = lambda p: t[min(len(t) - 1, int(p * len(t)))]
print(f"{len(t)} facility writes: p50 {q(0.5):.1f} ms, p99 {q(0.99):.1f} ms, max {t[-1]:.1f} ms, {bad} not 201")
EOF

echo "coverage (fire stations, 5 min, whole province): $(curl -s -o /dev/null -w '%{http_code} in %{time_total} s' "$base/api/v1/coverage?kind=fire_station&minutes=5")"
soak=${SOAK:-10m}
if [ "$soak" != 0 ]; then
  # Mixed: locate and nearest (k = 5) in turn, one write a second.
  awk '{print "/api/v1/locate?" $0; print "/api/v1/nearest?" $0 "&k=5"}' "$work/points.txt" >"$work/soak-paths.txt"
  start_writer 8000
  PATHS="$work/soak-paths.txt" wrk -t2 -c32 -d"$soak" --latency -s benches/load/mixed.lua "$base" \
    >"$work/wrk-soak.txt" 2>&1 || true
  stop_writer
  echo "soak of $soak (locate and nearest, one write/s): $(awk '/Requests\/sec/ {print $2}' "$work/wrk-soak.txt") req/s," \
    "p99 $(awk '$1 == "99%" {print $2}' "$work/wrk-soak.txt"), $(grep -E 'non-200|Non-2xx|errors' "$work/wrk-soak.txt" | tr '\n' ' ')" \
    "RSS after $(rss "$server")"
fi
echo "RSS at the end: $(rss "$server")"

-- wrk script: GET the paths of PATHS (one per line; a mixed workload made
-- by mixed-paths.py) round robin from a random start per thread, and count
-- answers that are not 200 (printed at the end; the first three shown).
local paths = {}
for line in io.lines(os.getenv("PATHS") or "paths.txt") do
  paths[#paths + 1] = line
end
local threads = {}

function setup(thread)
  thread:set("start", math.random(1, #paths))
  table.insert(threads, thread)
end

function init(args)
  i = start or 1
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

dofile("benches/load/errors.lua")

function done(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do
    failed = failed + t:get("errors")
  end
  io.write(string.format("non-200 answers: %d; socket errors: %d connect, %d read, %d write, %d timeout\n",
    failed, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  io.write(string.format("latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000))
end

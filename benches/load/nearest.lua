-- wrk script: GET /api/v1/nearest?lon=..&lat=..&k=5 (ENDPOINT and QUERY
-- choose another path and query) at points drawn at
-- random from POINTS (default points.txt; one `lon=..&lat=..` per line).
local points = {}
for line in io.lines(os.getenv("POINTS") or "points.txt") do
  points[#points + 1] = line
end
local query = os.getenv("QUERY") or "&k=5"
local endpoint = os.getenv("ENDPOINT") or "/api/v1/nearest"

function setup(thread)
  thread:set("seed", math.random(1, 1e9))
end

function init(args)
  math.randomseed(seed or 1)
end

function request()
  return wrk.format("GET", endpoint .. "?" .. points[math.random(#points)] .. query)
end

dofile("benches/load/errors.lua")

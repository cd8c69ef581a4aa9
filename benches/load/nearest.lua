-- wrk script: GET /api/v1/nearest?lon=..&lat=..&k=5 at points drawn at
-- random from POINTS (default points.txt; one `lon=..&lat=..` per line).
local points = {}
for line in io.lines(os.getenv("POINTS") or "points.txt") do
  points[#points + 1] = line
end
local query = os.getenv("QUERY") or "&k=5"

function setup(thread)
  thread:set("seed", math.random(1, 1e9))
end

function init(args)
  math.randomseed(seed or 1)
end

function request()
  return wrk.format("GET", "/api/v1/nearest?" .. points[math.random(#points)] .. query)
end

dofile("benches/load/errors.lua")

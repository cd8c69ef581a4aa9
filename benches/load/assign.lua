-- wrk script: POST /api/v1/assign with a JSON body at random points of
-- BBOX ("minlon minlat maxlon maxlat") and a class code drawn from CLASSES
-- (default "0408,0403,0301,0504,0101": 0101 goes with kind=event).
local bbox = {}
for v in string.gmatch(os.getenv("BBOX") or "", "[^%s]+") do
  bbox[#bbox + 1] = tonumber(v)
end
local classes = {}
for c in string.gmatch(os.getenv("CLASSES") or "0408,0403,0301,0504,0101", "[^,]+") do
  classes[#classes + 1] = c
end

function setup(thread)
  thread:set("seed", math.random(1, 1e9))
end

function init(args)
  math.randomseed(seed or 1)
end

function request()
  local lon = bbox[1] + math.random() * (bbox[3] - bbox[1])
  local lat = bbox[2] + math.random() * (bbox[4] - bbox[2])
  local class = classes[math.random(#classes)]
  local body = string.format(
    '{"lon":%.7f,"lat":%.7f,"class":"%s","kind":"event","time":"2026-09-23T10:00:00+08:00","level":%d}',
    lon, lat, class, math.random(1, 3))
  return wrk.format("POST", "/api/v1/assign", {["Content-Type"] = "application/json"}, body)
end

local outside, errors = 0, 0
function response(status, headers, body)
  if status == 404 then
    outside = outside + 1
  elseif status ~= 200 then
    errors = errors + 1
    if errors <= 3 then
      io.stderr:write("status " .. status .. ": " .. body .. "\n")
    end
  end
end

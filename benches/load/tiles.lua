-- wrk script: GET the tile paths of TILES (default tiles.txt; one
-- `/tiles/...` path per line) round robin; wrk itself counts answers that
-- are not 2xx/3xx.
local tiles = {}
for line in io.lines(os.getenv("TILES") or "tiles.txt") do
  tiles[#tiles + 1] = line
end
local next_tile = 0

function request()
  next_tile = next_tile % #tiles + 1
  return wrk.format("GET", tiles[next_tile])
end

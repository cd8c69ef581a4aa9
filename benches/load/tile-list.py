"""Prints the tile paths covering a TileJSON's bounds at one zoom.

Usage: tile-list.py ZOOM TEMPLATE < tilejson
TEMPLATE holds {z}, {x} and {y}, e.g. /tiles/cells/{z}/{x}/{y}.mvt.
"""
import json
import math
import sys

zoom, template = int(sys.argv[1]), sys.argv[2]
west, south, east, north = json.load(sys.stdin)["bounds"]


def tile(lon, lat):
    k = 2**zoom
    r = math.radians(lat)
    x = int((lon + 180) / 360 * k)
    y = int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * k)
    return x, y


x0, y0 = tile(west, north)
x1, y1 = tile(east, south)
for x in range(x0, x1 + 1):
    for y in range(y0, y1 + 1):
        print(template.replace("{z}", str(zoom)).replace("{x}", str(x)).replace("{y}", str(y)))

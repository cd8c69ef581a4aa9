"""Prints a shuffled mixed workload of request paths over a TileJSON's bounds:
locate 50 %, nearest 30 % (a tenth of them by road time), tiles 20 % (risk
PNG and cells MVT at z14). Seeded, so runs are comparable.

Usage: mixed-paths.py N < tilejson
"""
import json
import math
import random
import sys

n = int(sys.argv[1])
west, south, east, north = json.load(sys.stdin)["bounds"]
rng = random.Random(7)


def point():
    return rng.uniform(west, east), rng.uniform(south, north)


def tile(lon, lat, zoom=14):
    k = 2**zoom
    r = math.radians(lat)
    x = int((lon + 180) / 360 * k)
    y = int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * k)
    return x, y


paths = []
for i in range(n):
    lon, lat = point()
    u = rng.random()
    if u < 0.5:
        paths.append(f"/api/v1/locate?lon={lon:.6f}&lat={lat:.6f}")
    elif u < 0.8:
        by = "&by=time&kind=fire_station" if rng.random() < 0.1 else ""
        paths.append(f"/api/v1/nearest?lon={lon:.6f}&lat={lat:.6f}&k=5{by}")
    else:
        x, y = tile(lon, lat)
        layer = rng.choice([("risk", "png"), ("cells", "mvt")])
        paths.append(f"/tiles/{layer[0]}/14/{x}/{y}.{layer[1]}")
for p in paths:
    print(p)

"""Fetches every tile of the given layers and zooms over a running
service's territory (the bounds of its cells' TileJSON), cold: prints per
layer and zoom the tile count, the largest tile and the median and
slowest time, and exits 1 when a tile is over the cap.

Usage: scan.py URL LAYERS MINZOOM MAXZOOM [CAP_KB]
  e.g. scan.py http://127.0.0.1:8080 areas,cells,grids,base,risk 0 13
Layers are scanned from the larger of MINZOOM and their TileJSON minzoom.
Run it on a fresh service: a cached tile is not a cold one.
"""
import json
import math
import sys
import time
import urllib.request

base, layers, z0, z1 = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4])
cap = float(sys.argv[5]) * 1000 if len(sys.argv) > 5 else 500_000
west, south, east, north = json.load(urllib.request.urlopen(base + "/tiles/cells.json"))["bounds"]


def tile(lon, lat, z):
    k = 2**z
    r = math.radians(lat)
    return int((lon + 180) / 360 * k), int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * k)


over = []
for layer in layers:
    tj = json.load(urllib.request.urlopen(f"{base}/tiles/{layer}.json"))
    ext = tj["tiles"][0].rsplit(".", 1)[1]
    largest = (0, "")
    for z in range(max(z0, tj["minzoom"]), z1 + 1):
        x0, y0 = tile(west, north, z)
        x1, y1 = tile(east, south, z)
        sizes, times = [], []
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                t = time.time()
                n = len(urllib.request.urlopen(f"{base}/tiles/{layer}/{z}/{x}/{y}.{ext}").read())
                times.append(time.time() - t)
                sizes.append((n, f"{z}/{x}/{y}"))
                if n > cap:
                    over.append(f"{layer} {z}/{x}/{y}: {n / 1e3:.1f} KB")
        times.sort()
        big = max(sizes)
        largest = max(largest, big)
        print(f"{layer} z{z}: {len(sizes)} tiles, largest {big[0] / 1e3:.1f} KB at {big[1]}, "
              f"median {times[len(times) // 2] * 1e3:.1f} ms, slowest {times[-1] * 1e3:.0f} ms", flush=True)
    print(f"{layer}: largest tile {largest[0] / 1e3:.1f} KB at {largest[1]}", flush=True)
for o in over:
    print(f"over {cap / 1e3:.0f} KB: {o}")
sys.exit(1 if over else 0)

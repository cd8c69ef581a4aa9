#!/usr/bin/env python3
"""Writes the load test's data: N facilities at random places in a
50 km x 45 km box of Hangzhou (facilities.geojson, for `civgrid import`),
and M random query points in the same box (points.txt, one
`lon=..&lat=..` per line, for wrk; the box for pgbench in box.env).
Deterministic (seeded). Usage: make-data.py DIR [N] [M]"""
import json
import random
import sys

LON0, LAT0, DLON, DLAT = 119.90, 30.05, 0.52, 0.40
KINDS = ["fire_station", "micro_fire_station", "hospital", "clinic", "police", "shelter"]

def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    m = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    rng = random.Random(20240501)
    features = []
    for i in range(n):
        lon = LON0 + rng.random() * DLON
        lat = LAT0 + rng.random() * DLAT
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
            "properties": {"kind": rng.choice(KINDS), "name": f"load {i}"},
        })
    with open(f"{out}/facilities.geojson", "w") as f:
        json.dump({"type": "FeatureCollection", "name": "facilities", "features": features}, f)
    with open(f"{out}/points.txt", "w") as f:
        for _ in range(m):
            f.write(f"lon={LON0 + rng.random() * DLON:.6f}&lat={LAT0 + rng.random() * DLAT:.6f}\n")
    with open(f"{out}/box.env", "w") as f:
        f.write(f"LON0={LON0}\nLAT0={LAT0}\nDLON={DLON}\nDLAT={DLAT}\n")

if __name__ == "__main__":
    main()

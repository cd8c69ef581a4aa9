#!/usr/bin/env python3
"""METIS baseline for household grids (issue: 全科网格).

Reads a civgrid store's communities, unit cells, buildings and grids (as
GeoJSON exported by ogr2ogr / `civgrid export grids`), then partitions each
community's unit-cell graph with METIS (pymetis, contiguous partitions,
household weights, shared-boundary edge weights) into k = ceil(H / max)
parts, and measures both plans the same way, independently of civgrid:
households from building points, bound violations, Polsby-Popper of each
grid's union in a local metric plane.

Cells inside civgrid's special and building grids are left out of the METIS
graph (those premises are grids of their own in both plans), so both plans
share the same basic-grid territory.

usage: metis_baseline.py DIR   (DIR holds communities, cells, buildings, grids .geojson)
"""
import json
import math
import sys
import time
from collections import defaultdict

import pymetis
from shapely.geometry import shape, Point
from shapely.ops import unary_union
from shapely.strtree import STRtree
from shapely import affinity

URBAN = (0, 300)
RURAL = (80, 120)


def load(path):
    with open(path) as f:
        return json.load(f)["features"]


def rep_point(g):
    c = g.centroid
    return c if g.contains(c) else g.representative_point()


def metric(g, lat0):
    """lon/lat -> metres in a local equirectangular plane (same for both plans)."""
    return affinity.scale(g, xfact=111320.0 * math.cos(math.radians(lat0)), yfact=110540.0, origin=(0, 0))


def pp(g):
    return 4 * math.pi * g.area / (g.length ** 2) if g.length > 0 else 0.0


def main(d):
    communities = {f["properties"]["code"]: f for f in load(f"{d}/communities.geojson")}
    cells = [f for f in load(f"{d}/cells.geojson") if not f["properties"].get("end_date")]
    buildings = load(f"{d}/buildings.geojson")
    grids = [f for f in load(f"{d}/grids.geojson") if not f["properties"].get("end_date")]

    cell_geoms = [shape(c["geometry"]) for c in cells]
    tree = STRtree(cell_geoms)
    cell_hh = [0] * len(cells)
    points = []
    for b in buildings:
        p = rep_point(shape(b["geometry"]))
        points.append((p, b["properties"].get("households") or 0))
        for i in tree.query(p):
            if cell_geoms[i].intersects(p):
                cell_hh[i] += points[-1][1]
                break

    grid_geoms = [shape(g["geometry"]) for g in grids]
    premises = [g for g, f in zip(grid_geoms, grids) if f["properties"]["kind"] != "basic"]
    prem_tree = STRtree(premises) if premises else None

    by_comm = defaultdict(list)
    for i, c in enumerate(cells):
        rp = rep_point(cell_geoms[i])
        if prem_tree is not None and any(premises[j].contains(rp) for j in prem_tree.query(rp)):
            continue
        by_comm[c["properties"]["community"]].append(i)

    metis = {"grids": 0, "violations": 0, "pp": [], "lower_bound": 0}
    started = time.perf_counter()
    metis_time = 0.0
    for code, members in by_comm.items():
        kind = communities[code]["properties"].get("kind") or "urban"
        lo, hi = RURAL if kind == "rural" else URBAN
        lat0 = rep_point(shape(communities[code]["geometry"])).y
        h = sum(cell_hh[i] for i in members)
        k = max(1, math.ceil(h / hi))
        metis["lower_bound"] += k
        local = {m: j for j, m in enumerate(members)}
        sub = STRtree([cell_geoms[m] for m in members])
        adj = [[] for _ in members]
        w = [[] for _ in members]
        for j, m in enumerate(members):
            gm = metric(cell_geoms[m], lat0)
            for q in sub.query(cell_geoms[m]):
                if q == j:
                    continue
                shared = cell_geoms[m].boundary.intersection(cell_geoms[members[q]].boundary)
                length = metric(shared, lat0).length if not shared.is_empty else 0.0
                if length > 0.01:
                    adj[j].append(q)
                    w[j].append(max(1, int(length)))
        if k == 1:
            parts = [0] * len(members)
        else:
            xadj, adjncy, eweights = [0], [], []
            for j in range(len(members)):
                adjncy.extend(adj[j])
                eweights.extend(w[j])
                xadj.append(len(adjncy))
            opts = pymetis.Options(contig=1)
            t0 = time.perf_counter()
            try:
                _, parts = pymetis.part_graph(
                    k, xadj=xadj, adjncy=adjncy, vweights=[max(0, cell_hh[m]) for m in members],
                    eweights=eweights, options=opts)
            except Exception:  # a disconnected graph: METIS refuses contiguity
                opts = pymetis.Options()
                _, parts = pymetis.part_graph(
                    k, xadj=xadj, adjncy=adjncy, vweights=[max(0, cell_hh[m]) for m in members],
                    eweights=eweights, options=opts)
            metis_time += time.perf_counter() - t0
        groups = defaultdict(list)
        for j, p in enumerate(parts):
            groups[p].append(members[j])
        for p, idx in groups.items():
            hh = sum(cell_hh[i] for i in idx)
            metis["grids"] += 1
            metis["violations"] += not (lo <= hh <= hi)
            u = unary_union([cell_geoms[i] for i in idx])
            metis["pp"].append(pp(metric(u, lat0)))

    civ = {"grids": 0, "violations": 0, "pp": []}
    point_tree = STRtree([p for p, _ in points])
    for g, f in zip(grid_geoms, grids):
        if f["properties"]["kind"] != "basic":
            continue
        code = f["properties"]["community"]
        kind = communities[code]["properties"].get("kind") or "urban"
        lo, hi = RURAL if kind == "rural" else URBAN
        hh = sum(points[i][1] for i in point_tree.query(g) if g.intersects(points[i][0]))
        civ["grids"] += 1
        civ["violations"] += not (lo <= hh <= hi)
        lat0 = rep_point(g).y
        civ["pp"].append(pp(metric(g, lat0)))

    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0
    print(f"basic territory: {len(by_comm)} communities, {sum(len(v) for v in by_comm.values())} cells, "
          f"{sum(cell_hh)} households in cells; lower bound {metis['lower_bound']} grids")
    print(f"METIS (pymetis, contig):  {metis['grids']} grids, {metis['violations']} outside bounds, "
          f"mean Polsby-Popper {mean(metis['pp']):.3f} (METIS itself {metis_time:.2f}s)")
    print(f"civgrid:                  {civ['grids']} grids, {civ['violations']} outside bounds, "
          f"mean Polsby-Popper {mean(civ['pp']):.3f}")
    print(f"script time {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main(sys.argv[1])

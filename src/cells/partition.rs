//! One community → its cells: blocks between roads and barriers, a grid in
//! each block, footprints kept whole, slivers merged.

use std::collections::{BTreeMap, HashMap};

use geo::{BoundingRect, Centroid, Contains, InteriorPoint, Validation};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use rstar::primitives::{GeomWithData, Line, Rectangle};
use rstar::{PointDistance, RTree, AABB};

use super::adjacency::{ring_segments, shared_edges};
use super::buildings::{footprints, holders, meets, outlines, Footprint};
use super::frame::{bounds, lonlat_bounds, polygon, Frame, Ring, Shape, Snap, Zones, P};
use super::slivers::{merge, Unit};
use super::{CellConfig, CellError};
use crate::model::{AdminArea, Building, Territory};

/// Faces closer than this share an edge, metres.
const FACE_TOL_M: f64 = 1e-3;
/// A footprint with less than this share of its area outside the block
/// holding most of it is whole: snapping moves outlines by micrometres, and
/// a hair's breadth across a road or the community boundary cuts nothing a
/// planner would see, m²/m².
const CUT_SHARE: f64 = 1e-4;
/// Margin around a community's box for the lines clipped to it, metres.
const MARGIN_M: f64 = 1.0;

type BoxEntry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// The projections, lines and footprints of a territory, lines and
/// footprints indexed by lon/lat box.
pub(super) struct Context<'a> {
    /// The zone of each community's centre.
    zones: Zones,
    pub config: &'a CellConfig,
    /// The lines cells are cut along: road centre lines, then barriers.
    lines: Vec<&'a LineString<f64>>,
    /// How many of `lines` are roads.
    roads: usize,
    /// One entry per line segment: data = line index × 2³² + segment.
    line_index: RTree<BoxEntry>,
    buildings: &'a [Building],
    building_index: RTree<BoxEntry>,
}

fn box_entry(r: geo_types::Rect<f64>, data: usize) -> BoxEntry {
    GeomWithData::new(
        Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
        data,
    )
}

impl<'a> Context<'a> {
    pub(super) fn new(config: &'a CellConfig, territory: &'a Territory) -> Self {
        let buildings = &territory.buildings;
        let zones = Zones::new(
            territory
                .communities
                .iter()
                .filter_map(|a| Some(lonlat_bounds(&a.geometry)?.center().x)),
        );
        let lines: Vec<&LineString<f64>> = if config.follow_lines {
            let roads = territory.roads.iter().map(|r| &r.geometry);
            roads
                .chain(territory.barriers.iter().map(|b| &b.geometry))
                .collect()
        } else {
            Vec::new()
        };
        let (line_index, building_index) = if config.follow_lines {
            let segs = lines
                .iter()
                .enumerate()
                .flat_map(|(i, line)| {
                    line.lines().enumerate().map(move |(j, l)| {
                        box_entry(geo_types::Rect::new(l.start, l.end), (i << 32) | j)
                    })
                })
                .collect();
            let blds = buildings
                .iter()
                .enumerate()
                .filter_map(|(i, b)| Some(box_entry(b.geometry.bounding_rect()?, i)))
                .collect();
            (RTree::bulk_load(segs), RTree::bulk_load(blds))
        } else {
            (RTree::new(), RTree::new())
        };
        Self {
            zones,
            config,
            roads: territory.roads.len(),
            lines,
            line_index,
            buildings,
            building_index,
        }
    }
}

/// A cell before it has a code.
#[derive(Debug, Clone)]
pub(super) struct Draft {
    pub geometry: MultiPolygon<f64>,
    pub area_m2: f64,
    /// Interior point, lon/lat.
    pub point: Coord<f64>,
    /// Numbering row (0 = northernmost) and position along it, frame metres.
    pub row: i64,
    pub x: f64,
}

/// The cells of one community and what it took to make them.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub drafts: Vec<Draft>,
    pub slivers_merged: usize,
    /// Territory indices of the footprints that had to be cut.
    pub buildings_cut: Vec<usize>,
}

/// A face of a block: inside one grid square, inside the footprints in
/// `footprints` (none, one, or several where footprints overlap).
struct Face {
    shape: Shape,
    area: f64,
    block: usize,
    square: (usize, usize),
    footprints: Vec<usize>,
}

/// Partitions one community.
pub(super) fn community(ctx: &Context, area: &AdminArea) -> Result<Outcome, CellError> {
    let cfg = ctx.config;
    let (code, name) = (area.code, area.name.clone());
    let Some(bbox) = lonlat_bounds(&area.geometry) else {
        return Err(CellError::EmptyCommunity { code, name });
    };
    if let Some(e) = area.geometry.validation_errors().first() {
        return Err(CellError::InvalidCommunity {
            code,
            name,
            reason: e.to_string(),
        });
    }
    let frame = ctx
        .zones
        .get(bbox.center().x)
        .and_then(|proj| Frame::new(proj, bbox))
        .map_err(|e| CellError::Projection {
            code,
            name: name.clone(),
            reason: e.to_string(),
        })?;
    let shapes: Vec<Shape> = area.geometry.iter().map(|p| frame.shape(p)).collect();
    let Some(fbox) = bounds(shapes.iter().flatten().flatten()) else {
        return Err(CellError::EmptyCommunity { code, name });
    };
    let (roads, barriers) = cut_lines(ctx, &frame, bbox, fbox);
    let candidates: Vec<usize> = if cfg.follow_lines {
        let env = AABB::from_corners([bbox.min().x, bbox.min().y], [bbox.max().x, bbox.max().y]);
        let mut c: Vec<usize> = ctx
            .building_index
            .locate_in_envelope_intersecting(&env)
            .map(|e| e.data)
            .collect();
        c.sort_unstable();
        c
    } else {
        Vec::new()
    };
    let prints = footprints(&frame, ctx.buildings, &candidates);
    let all = bounds(
        shapes
            .iter()
            .flatten()
            .flatten()
            .chain(roads.iter().chain(&barriers).flatten())
            .chain(prints.iter().flat_map(|f| &f.outline)),
    )
    .unwrap_or(fbox);
    let snap = Snap::new([
        all[0] - MARGIN_M,
        all[1] - MARGIN_M,
        all[2] + MARGIN_M,
        all[3] + MARGIN_M,
    ]);

    // Barriers first cut the community into banks, roads each bank into
    // blocks; slivers never merge across a barrier.
    let (blocks, banks): (Vec<Shape>, Vec<usize>) = if barriers.is_empty() {
        let blocks = snap.slice(&shapes, &roads);
        let banks = vec![0; blocks.len()];
        (blocks, banks)
    } else {
        snap.slice(&shapes, &barriers)
            .iter()
            .enumerate()
            .flat_map(|(k, bank)| {
                let blocks = snap.slice(std::slice::from_ref(bank), &roads);
                blocks.into_iter().map(move |b| (b, k))
            })
            .unzip()
    };
    let total: f64 = blocks.iter().map(|b| frame.metric_area(b)).sum();
    if blocks.is_empty() || total <= 0.0 {
        return Err(CellError::EmptyCommunity { code, name });
    }
    if total < cfg.min_m2 {
        return Err(CellError::TooSmall {
            code,
            name,
            area_m2: total,
            min_m2: cfg.min_m2,
        });
    }

    let side = cfg.side_m();
    let mut faces = Vec::new();
    for (b, block) in blocks.iter().enumerate() {
        grid_faces(&snap, &frame, &prints, side, b, block, &mut faces);
    }
    let buildings_cut = keep_footprints_whole(&mut faces, &prints);
    let mut units = units(&faces, &banks);
    let slivers_merged = merge(&mut units, cfg.min_m2);
    let boundary = Boundary::new(&frame, &snap, &area.geometry);
    let drafts = units
        .iter()
        .filter(|u| u.alive)
        .map(|u| draft(&snap, &frame, &boundary, &faces, u, fbox[3], side))
        .collect();
    Ok(Outcome {
        drafts,
        slivers_merged,
        buildings_cut,
    })
}

/// The road and the barrier segments near the community, in the frame,
/// clipped to its box.
fn cut_lines(
    ctx: &Context,
    frame: &Frame,
    bbox: geo_types::Rect<f64>,
    fbox: [f64; 4],
) -> (Vec<Vec<P>>, Vec<Vec<P>>) {
    if !ctx.config.follow_lines {
        return (Vec::new(), Vec::new());
    }
    let env = AABB::from_corners([bbox.min().x, bbox.min().y], [bbox.max().x, bbox.max().y]);
    let mut ids: Vec<usize> = ctx
        .line_index
        .locate_in_envelope_intersecting(&env)
        .map(|e| e.data)
        .collect();
    ids.sort_unstable();
    let clip_box = [
        fbox[0] - MARGIN_M,
        fbox[1] - MARGIN_M,
        fbox[2] + MARGIN_M,
        fbox[3] + MARGIN_M,
    ];
    let (mut roads, mut barriers) = (Vec::new(), Vec::new());
    for id in ids {
        let Some(line) = ctx.lines[id >> 32]
            .0
            .get((id & 0xffff_ffff)..=(id & 0xffff_ffff) + 1)
        else {
            continue;
        };
        if let Some((p, q)) = clip(frame.forward(line[0]), frame.forward(line[1]), clip_box) {
            if id >> 32 < ctx.roads {
                roads.push(vec![p, q]);
            } else {
                barriers.push(vec![p, q]);
            }
        }
    }
    (roads, barriers)
}

/// A segment clipped to a box (Liang–Barsky), if any of it is inside.
fn clip(p: P, q: P, bbox: [f64; 4]) -> Option<(P, P)> {
    let dir = [q[0] - p[0], q[1] - p[1]];
    let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
    for (den, num) in [
        (-dir[0], p[0] - bbox[0]),
        (dir[0], bbox[2] - p[0]),
        (-dir[1], p[1] - bbox[1]),
        (dir[1], bbox[3] - p[1]),
    ] {
        if den == 0.0 {
            if num < 0.0 {
                return None;
            }
        } else {
            let t = num / den;
            if den < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    (t0 < t1).then(|| {
        let at = |t: f64| [p[0] + dir[0] * t, p[1] + dir[1] * t];
        (
            if t0 > 0.0 { at(t0) } else { p },
            if t1 < 1.0 { at(t1) } else { q },
        )
    })
}

/// Cuts a block by its grid (and the footprint outlines in it) into faces.
///
/// The grid divides the block's bounding box into n × m equal rectangles,
/// n = round(width / side) and m = round(height / side), at least 1: pieces
/// of about the target area, and a grid that only depends on the block, so
/// editing one block leaves the cells of every other block as they were.
fn grid_faces(
    snap: &Snap,
    frame: &Frame,
    prints: &[Footprint],
    side: f64,
    b: usize,
    block: &Shape,
    faces: &mut Vec<Face>,
) {
    let Some(bb) = bounds(block.iter().flatten()) else {
        return;
    };
    let divide = |lo: f64, hi: f64| -> Vec<f64> {
        let n = ((hi - lo) / side).round().max(1.0) as usize;
        (1..n)
            .map(|k| snap.round(lo + (hi - lo) * k as f64 / n as f64))
            .collect()
    };
    let (xs, ys) = (divide(bb[0], bb[2]), divide(bb[1], bb[3]));
    let mut lines: Vec<Vec<P>> = xs
        .iter()
        .map(|&x| vec![[x, bb[1] - MARGIN_M], [x, bb[3] + MARGIN_M]])
        .chain(
            ys.iter()
                .map(|&y| vec![[bb[0] - MARGIN_M, y], [bb[2] + MARGIN_M, y]]),
        )
        .collect();
    lines.extend(outlines(prints, bb));
    let pieces = if lines.is_empty() {
        vec![block.clone()]
    } else {
        snap.slice(std::slice::from_ref(block), &lines)
    };
    for shape in pieces {
        let Some(fb) = bounds(shape.iter().flatten()) else {
            continue;
        };
        let (cx, cy) = (f64::midpoint(fb[0], fb[2]), f64::midpoint(fb[1], fb[3]));
        let square = (
            xs.partition_point(|&x| x <= cx),
            ys.partition_point(|&y| y <= cy),
        );
        let footprints = if prints.iter().any(|f| meets(f.bbox, fb)) {
            holders(prints, &shape, fb)
        } else {
            Vec::new()
        };
        faces.push(Face {
            area: frame.metric_area(&shape),
            shape,
            block: b,
            square,
            footprints,
        });
    }
}

/// Moves every face of a footprint to the square holding most of its area
/// in that block, footprints that overlap moving together (the faces they
/// share are counted once); returns the buildings that were cut (by a road,
/// a barrier or the community boundary), by territory index: those of which
/// no block holds all but [`CUT_SHARE`].
fn keep_footprints_whole(faces: &mut [Face], prints: &[Footprint]) -> Vec<usize> {
    // Overlapping footprints form a group, named by its smallest footprint.
    let mut group: Vec<usize> = (0..prints.len()).collect();
    for f in faces.iter() {
        if let [first, rest @ ..] = f.footprints.as_slice() {
            for &other in rest {
                let (ra, rb) = (root(&mut group, *first), root(&mut group, other));
                group[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    // (group, block) → (row, column) → area
    let mut shares: BTreeMap<(usize, usize), BTreeMap<(usize, usize), f64>> = BTreeMap::new();
    // footprint → block → area of it there
    let mut held: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); prints.len()];
    for f in faces.iter() {
        let Some(&first) = f.footprints.first() else {
            continue;
        };
        *shares
            .entry((root(&mut group, first), f.block))
            .or_default()
            .entry((f.square.1, f.square.0))
            .or_default() += f.area;
        for &fp in &f.footprints {
            *held[fp].entry(f.block).or_default() += f.area;
        }
    }
    let winner: BTreeMap<(usize, usize), (usize, usize)> = shares
        .into_iter()
        .filter_map(|(k, sq)| {
            sq.into_iter()
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
                .map(|((row, col), _)| (k, (col, row)))
        })
        .collect();
    for f in faces.iter_mut() {
        let Some(&first) = f.footprints.first() else {
            continue;
        };
        if let Some(&sq) = winner.get(&(root(&mut group, first), f.block)) {
            f.square = sq;
        }
    }
    let mut cut: Vec<usize> = prints
        .iter()
        .zip(&held)
        .filter(|(f, blocks)| {
            let most = blocks.values().copied().fold(0.0, f64::max);
            !blocks.is_empty() && most < f.area * (1.0 - CUT_SHARE)
        })
        .map(|(f, _)| f.building)
        .collect();
    cut.dedup();
    cut
}

/// The root of `i` in a union-find forest, halving paths on the way.
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Groups faces into units: one per connected part of each (block, square);
/// the largest part of a square is the square's unit, the others are
/// detached. `banks` gives each block's bank (its side of the barriers).
fn units(faces: &[Face], banks: &[usize]) -> Vec<Unit> {
    let segments: Vec<_> = faces
        .iter()
        .enumerate()
        .flat_map(|(i, f)| f.shape.iter().flat_map(move |r| ring_segments(i, r)))
        .collect();
    let mut touching: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    for s in shared_edges(&segments, FACE_TOL_M) {
        *touching.entry((s.a, s.b)).or_default() += s.length();
    }
    // Connected parts of each square, by union-find over touching faces.
    let mut parent: Vec<usize> = (0..faces.len()).collect();
    for &(a, b) in touching.keys() {
        if faces[a].block == faces[b].block && faces[a].square == faces[b].square {
            let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut parts: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..faces.len() {
        let r = root(&mut parent, i);
        parts.entry(r).or_default().push(i);
    }
    let area = |p: &[usize]| p.iter().map(|&i| faces[i].area).sum::<f64>();
    let mut squares: BTreeMap<SquareKey, Vec<Vec<usize>>> = BTreeMap::new();
    for part in parts.into_values() {
        let f = &faces[part[0]];
        squares.entry((f.block, f.square)).or_default().push(part);
    }
    let mut units = Vec::new();
    let mut unit_of = vec![0; faces.len()];
    for ((block, _), mut parts) in squares {
        parts.sort_by(|a, b| area(b).total_cmp(&area(a)).then(a[0].cmp(&b[0])));
        for (k, part) in parts.into_iter().enumerate() {
            for &i in &part {
                unit_of[i] = units.len();
            }
            units.push(Unit {
                area: area(&part),
                faces: part,
                block,
                bank: banks[block],
                detached: k > 0,
                alive: true,
                neighbours: BTreeMap::new(),
            });
        }
    }
    for ((a, b), len) in touching {
        let (ua, ub) = (unit_of[a], unit_of[b]);
        if ua != ub {
            *units[ua].neighbours.entry(ub).or_default() += len;
            *units[ub].neighbours.entry(ua).or_default() += len;
        }
    }
    units
}

/// A grid square of a block: (block, (column, row)).
type SquareKey = (usize, (usize, usize));

/// An original edge of a community in the frame, with its lon/lat ends.
type EdgeEntry = GeomWithData<Line<P>, (Coord<f64>, Coord<f64>)>;

/// The community's boundary, to put cell vertices back on it exactly.
struct Boundary {
    /// Original vertices by snapped frame position.
    vertices: HashMap<(i64, i64), Coord<f64>>,
    /// Original edges in the frame, with their lon/lat ends.
    edges: RTree<EdgeEntry>,
    /// Vertices closer than this to an edge are on it, metres.
    tol: f64,
}

impl Boundary {
    fn new(frame: &Frame, snap: &Snap, g: &MultiPolygon<f64>) -> Self {
        let key = |p: P| {
            (
                (p[0] / snap.step()).round() as i64,
                (p[1] / snap.step()).round() as i64,
            )
        };
        let mut vertices = HashMap::new();
        let mut edges = Vec::new();
        for ring in g
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        {
            for w in ring.0.windows(2) {
                let (a, b) = (frame.forward(w[0]), frame.forward(w[1]));
                vertices.entry(key(a)).or_insert(w[0]);
                edges.push(GeomWithData::new(Line::new(a, b), (w[0], w[1])));
            }
        }
        Self {
            vertices,
            edges: RTree::bulk_load(edges),
            tol: 4.0 * snap.step(),
        }
    }

    /// lon/lat of a cell vertex: the original vertex, the exact point on an
    /// original edge, or the frame's inverse.
    fn lonlat(&self, frame: &Frame, snap: &Snap, p: P) -> Coord<f64> {
        let key = (
            (p[0] / snap.step()).round() as i64,
            (p[1] / snap.step()).round() as i64,
        );
        if let Some(&c) = self.vertices.get(&key) {
            return c;
        }
        let c = frame.inverse(p);
        let near = AABB::from_corners(
            [p[0] - self.tol, p[1] - self.tol],
            [p[0] + self.tol, p[1] + self.tol],
        );
        let Some(edge) = self
            .edges
            .locate_in_envelope_intersecting(&near)
            .filter(|e| e.distance_2(&p) <= self.tol * self.tol)
            .min_by(|a, b| a.distance_2(&p).total_cmp(&b.distance_2(&p)))
        else {
            return c;
        };
        let (from, to) = edge.data;
        let dir = Coord {
            x: to.x - from.x,
            y: to.y - from.y,
        };
        let len2 = dir.x * dir.x + dir.y * dir.y;
        if len2 <= 0.0 {
            return from;
        }
        let t = (((c.x - from.x) * dir.x + (c.y - from.y) * dir.y) / len2).clamp(0.0, 1.0);
        Coord {
            x: from.x + dir.x * t,
            y: from.y + dir.y * t,
        }
    }
}

/// The cell a unit becomes.
fn draft(
    snap: &Snap,
    frame: &Frame,
    boundary: &Boundary,
    faces: &[Face],
    u: &Unit,
    north: f64,
    side: f64,
) -> Draft {
    let shapes: Vec<Shape> = if let [one] = u.faces.as_slice() {
        vec![faces[*one].shape.clone()]
    } else {
        snap.union(&u.faces.iter().map(|&i| &faces[i].shape).collect::<Vec<_>>())
    };
    let fp: MultiPolygon<f64> = shapes
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| polygon(s))
        .collect();
    let ip = representative_point(&fp).map_or([0.0, 0.0], |p| [p.x, p.y]);
    let mut polygons: Vec<Polygon<f64>> = shapes
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            let ring =
                |r: &Ring| canonical(r.iter().map(|&p| boundary.lonlat(frame, snap, p)).collect());
            Polygon::new(ring(&s[0]), s[1..].iter().map(ring).collect())
        })
        .collect();
    polygons.sort_by(|a, b| {
        let (p, q) = (a.exterior().0[0], b.exterior().0[0]);
        p.x.total_cmp(&q.x).then(p.y.total_cmp(&q.y))
    });
    Draft {
        geometry: MultiPolygon(polygons),
        area_m2: u.area,
        point: frame.inverse(ip),
        row: ((north - ip[1]) / side).floor() as i64,
        x: ip[0],
    }
}

/// The point a cell is numbered and indexed by: its centroid when that lies
/// inside it (strictly), else geo's interior point.
pub(crate) fn representative_point(g: &MultiPolygon<f64>) -> Option<Coord<f64>> {
    g.centroid()
        .filter(|c| g.contains(c))
        .or_else(|| g.interior_point())
        .map(|p| p.0)
}

/// A closed ring starting at its smallest vertex (by lon, then lat), so
/// the same cell always has the same coordinates in the same order.
fn canonical(mut coords: Vec<Coord<f64>>) -> LineString<f64> {
    if let Some(k) = (0..coords.len()).min_by(|&i, &j| {
        coords[i]
            .x
            .total_cmp(&coords[j].x)
            .then(coords[i].y.total_cmp(&coords[j].y))
    }) {
        coords.rotate_left(k);
    }
    let mut ring = LineString::from(coords);
    ring.close();
    ring
}

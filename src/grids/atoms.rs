//! Atoms: the pieces grids are built from. A unit cell is one atom unless
//! it holds more households than [`Bounds::atom_max`](super::Bounds::atom_max);
//! then it is cut between building footprints, by straight cuts (guillotine
//! cuts, each across the whole piece) that pass through no footprint,
//! until every piece holds few enough or no such cut exists.

use geo::Contains;
use geo_types::{Coord, Point};

use crate::cells::adjacency::{ring_segments, shared_edges};
use crate::cells::frame::{bounds, polygon, ring_moments, Shape, Snap, P};

/// Distance within which atoms' edges count as shared, metres.
const SHARED_EDGE_TOL_M: f64 = 0.01;
/// How far a cut line reaches past the piece it cuts, metres.
const CUT_REACH_M: f64 = 1.0;

/// A building inside one cell, in frame metres.
#[derive(Debug, Clone)]
pub(super) struct Item {
    /// Index of the building in the territory.
    pub building: usize,
    /// Households.
    pub households: u32,
    /// Footprint box `[x0, y0, x1, y1]`.
    pub bbox: [f64; 4],
    /// The building's representative point.
    pub point: P,
}

/// A piece of the community that grids are built from.
#[derive(Debug, Clone)]
pub(super) struct Atom {
    /// Its polygons in frame metres.
    pub shapes: Vec<Shape>,
    /// Its buildings.
    pub items: Vec<Item>,
    /// Households of its buildings.
    pub households: u32,
    /// Area-weighted centre, frame metres.
    pub centre: P,
}

/// The atoms of one cell: the whole cell, or its pieces.
pub(super) fn of_cell(
    snap: &Snap,
    shapes: Vec<Shape>,
    items: Vec<Item>,
    atom_max: u32,
) -> Vec<Atom> {
    let mut out = Vec::new();
    split(snap, shapes, items, atom_max, &mut out);
    out
}

fn split(snap: &Snap, shapes: Vec<Shape>, items: Vec<Item>, atom_max: u32, out: &mut Vec<Atom>) {
    let total: u32 = items.iter().map(|i| i.households).sum();
    let cut = if total > atom_max && items.len() > 1 {
        best_cut(&items, total)
    } else {
        None
    };
    let Some((axis, at)) = cut else {
        out.push(atom(shapes, items));
        return;
    };
    let Some(b) = bounds(shapes.iter().flatten().flatten()) else {
        out.push(atom(shapes, items));
        return;
    };
    let line = if axis == 0 {
        vec![[at, b[1] - CUT_REACH_M], [at, b[3] + CUT_REACH_M]]
    } else {
        vec![[b[0] - CUT_REACH_M, at], [b[2] + CUT_REACH_M, at]]
    };
    let faces = snap.slice(&shapes, &[line]);
    if faces.len() < 2 {
        out.push(atom(shapes, items));
        return;
    }
    let polygons: Vec<_> = faces.iter().map(|f| polygon(f)).collect();
    let mut per_face: Vec<Vec<Item>> = vec![Vec::new(); faces.len()];
    for item in items {
        let p = Point::from(Coord {
            x: item.point[0],
            y: item.point[1],
        });
        let k = polygons
            .iter()
            .position(|poly| poly.contains(&p))
            .unwrap_or_else(|| nearest_face(&faces, item.point));
        per_face[k].push(item);
    }
    for (face, items) in faces.into_iter().zip(per_face) {
        split(snap, vec![face], items, atom_max, out);
    }
}

/// The face whose centre is nearest to `p` (a point on a cut edge).
fn nearest_face(faces: &[Shape], p: P) -> usize {
    let d = |f: &Shape| {
        let (c, _) = centre(std::slice::from_ref(f));
        (c[0] - p[0]).hypot(c[1] - p[1])
    };
    (0..faces.len())
        .min_by(|&a, &b| d(&faces[a]).total_cmp(&d(&faces[b])))
        .unwrap_or(0)
}

/// The straight cut (axis 0: x = at, axis 1: y = at) through a gap between
/// footprint boxes that balances households best.
fn best_cut(items: &[Item], total: u32) -> Option<(usize, f64)> {
    let mut best: Option<(u32, usize, f64)> = None;
    for axis in 0..2 {
        let mut sorted: Vec<&Item> = items.iter().collect();
        sorted.sort_by(|a, b| a.bbox[axis].total_cmp(&b.bbox[axis]));
        let mut reach = f64::NEG_INFINITY;
        let mut before = 0;
        for pair in sorted.windows(2) {
            reach = reach.max(pair[0].bbox[axis + 2]);
            before += pair[0].households;
            let next = pair[1].bbox[axis];
            if reach < next {
                let imbalance = (2 * before).abs_diff(total);
                if best.is_none_or(|(b, ..)| imbalance < b) {
                    best = Some((imbalance, axis, f64::midpoint(reach, next)));
                }
            }
        }
    }
    best.map(|(_, axis, at)| (axis, at))
}

fn atom(shapes: Vec<Shape>, items: Vec<Item>) -> Atom {
    let (centre, _) = centre(&shapes);
    Atom {
        households: items.iter().map(|i| i.households).sum(),
        shapes,
        items,
        centre,
    }
}

/// Area-weighted centre and area of shapes (holes subtract).
pub(super) fn centre(shapes: &[Shape]) -> (P, f64) {
    let (a, mx, my) = shapes
        .iter()
        .flatten()
        .map(|r| ring_moments(r))
        .fold((0.0, 0.0, 0.0), |s, m| (s.0 + m.0, s.1 + m.1, s.2 + m.2));
    if a.abs() < f64::MIN_POSITIVE {
        let first = shapes
            .iter()
            .flatten()
            .flatten()
            .next()
            .copied()
            .unwrap_or([0.0, 0.0]);
        return (first, 0.0);
    }
    ([mx / a, my / a], a.abs())
}

/// Neighbours of each atom with the length of boundary they share, metres.
pub(super) fn adjacency(atoms: &[Atom]) -> Vec<Vec<(usize, f64)>> {
    let segments: Vec<_> = atoms
        .iter()
        .enumerate()
        .flat_map(|(i, a)| {
            a.shapes
                .iter()
                .flatten()
                .flat_map(move |r| ring_segments(i, r))
        })
        .collect();
    let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); atoms.len()];
    for s in shared_edges(&segments, SHARED_EDGE_TOL_M) {
        let len = s.length();
        for (x, y) in [(s.a, s.b), (s.b, s.a)] {
            match adj[x].iter_mut().find(|(n, _)| *n == y) {
                Some((_, l)) => *l += len,
                None => adj[x].push((y, len)),
            }
        }
    }
    for list in &mut adj {
        list.sort_by_key(|&(n, _)| n);
    }
    adj
}

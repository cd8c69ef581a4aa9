//! Shared edges: which pieces touch along a line, and for how long.
//!
//! Neighbours rarely share exact vertices: a grid line ends on a road as a
//! T-junction, two communities are cut by different grids, coordinates
//! differ in the last bits. So edges are matched as collinear overlapping
//! segments within a tolerance, found through an R-tree of segment boxes.

use geo_types::Coord;
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::frame::P;

/// A segment owned by a piece.
pub(crate) type Segment = (usize, [P; 2]);

type Entry = GeomWithData<Rectangle<P>, usize>;

/// A stretch of boundary shared by pieces `a < b`, in the segments' frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shared {
    pub a: usize,
    pub b: usize,
    pub from: P,
    pub to: P,
}

impl Shared {
    pub(crate) fn length(&self) -> f64 {
        norm([self.to[0] - self.from[0], self.to[1] - self.from[1]])
    }
}

/// A segment's ends by their bits, in a canonical order.
type EndsKey = ((u64, u64), (u64, u64));

/// Every stretch where segments of two different owners lie on one line
/// (each end within `tol` of the other segment's line) and overlap, in a
/// deterministic order.
///
/// Pieces cut in one boolean operation share exact vertices, so most shared
/// edges are found by exact lookup first; only the segments left over go
/// through the R-tree.
pub(crate) fn shared_edges(segments: &[Segment], tol: f64) -> Vec<Shared> {
    // Exact matches: segments keyed by their ends in a canonical order,
    // sorted in parallel; a segment pairs with the lowest-indexed segment
    // of another owner running the other way between the same ends.
    let bits = |p: P| (p[0].to_bits(), p[1].to_bits());
    let mut keyed: Vec<(EndsKey, bool, usize)> = segments
        .par_iter()
        .enumerate()
        .map(|(i, &(_, [p, q]))| {
            let (from, to) = (bits(p), bits(q));
            if from <= to {
                ((from, to), false, i)
            } else {
                ((to, from), true, i)
            }
        })
        .collect();
    keyed.par_sort_unstable();
    let mut out: Vec<(usize, usize, Shared)> = Vec::new();
    let mut matched = vec![false; segments.len()];
    for run in keyed.chunk_by(|x, y| x.0 == y.0) {
        // The lowest index running each way (the run is sorted by direction, then index).
        let first = |reversed: bool| run.iter().find(|x| x.1 == reversed).map(|x| x.2);
        let (forward, backward) = (first(false), first(true));
        for &(_, reversed, i) in run {
            let Some(j) = (if reversed { forward } else { backward }) else {
                continue;
            };
            let (owner, [from, to]) = segments[i];
            let other = segments[j].0;
            if other != owner {
                matched[i] = true;
                if i < j {
                    let (a, b) = (owner.min(other), owner.max(other));
                    out.push((i, j, Shared { a, b, from, to }));
                }
            }
        }
    }
    let rest: Vec<usize> = (0..segments.len()).filter(|&i| !matched[i]).collect();
    let entries = rest
        .iter()
        .map(|&i| {
            let [p, q] = segments[i].1;
            GeomWithData::new(
                Rectangle::from_corners(
                    [p[0].min(q[0]) - tol, p[1].min(q[1]) - tol],
                    [p[0].max(q[0]) + tol, p[1].max(q[1]) + tol],
                ),
                i,
            )
        })
        .collect();
    let tree: RTree<Entry> = RTree::bulk_load(entries);
    out.par_extend(rest.par_iter().flat_map_iter(|&i| {
        let (owner, s) = segments[i];
        let env = AABB::from_corners(
            [s[0][0].min(s[1][0]), s[0][1].min(s[1][1])],
            [s[0][0].max(s[1][0]), s[0][1].max(s[1][1])],
        );
        tree.locate_in_envelope_intersecting(&env)
            .filter(|e| e.data > i && segments[e.data].0 != owner)
            .filter_map(|e| {
                let (other, t) = segments[e.data];
                overlap(s, t, tol).map(|(from, to)| {
                    let (a, b) = (owner.min(other), owner.max(other));
                    (i, e.data, Shared { a, b, from, to })
                })
            })
            .collect::<Vec<_>>()
    }));
    out.sort_unstable_by_key(|&(i, j, _)| (i, j));
    out.into_iter().map(|(_, _, s)| s).collect()
}

/// The overlap of two nearly collinear segments, if longer than zero.
fn overlap(s: [P; 2], t: [P; 2], tol: f64) -> Option<(P, P)> {
    let d = [s[1][0] - s[0][0], s[1][1] - s[0][1]];
    let len = norm(d);
    let e = [t[1][0] - t[0][0], t[1][1] - t[0][1]];
    let len_t = norm(e);
    if len <= tol || len_t <= tol {
        return None;
    }
    let off = |p: P, a: P, dir: [f64; 2], l: f64| {
        ((p[0] - a[0]) * dir[1] - (p[1] - a[1]) * dir[0]).abs() / l
    };
    if off(t[0], s[0], d, len) > tol
        || off(t[1], s[0], d, len) > tol
        || off(s[0], t[0], e, len_t) > tol
        || off(s[1], t[0], e, len_t) > tol
    {
        return None;
    }
    let along = |p: P| ((p[0] - s[0][0]) * d[0] + (p[1] - s[0][1]) * d[1]) / len;
    let (u0, u1) = (along(t[0]), along(t[1]));
    let lo = u0.min(u1).max(0.0);
    let hi = u0.max(u1).min(len);
    (hi - lo > tol).then(|| {
        let at = |u: f64| [s[0][0] + d[0] * u / len, s[0][1] + d[1] * u / len];
        (at(lo), at(hi))
    })
}

/// Length of a vector (a plain square root: `hypot`'s overflow guard is not
/// needed at these magnitudes and costs a third of the time).
fn norm(v: [f64; 2]) -> f64 {
    (v[0] * v[0] + v[1] * v[1]).sqrt()
}

/// The segments of a ring, closing it.
pub(crate) fn ring_segments(owner: usize, ring: &[P]) -> impl Iterator<Item = Segment> + '_ {
    (0..ring.len()).map(move |i| (owner, [ring[i], ring[(i + 1) % ring.len()]]))
}

/// The segments of a lon/lat ring (closed, last point = first) in a frame.
pub(crate) fn lonlat_segments<'a>(
    owner: usize,
    ring: &'a [Coord<f64>],
    to_frame: &'a impl Fn(Coord<f64>) -> P,
) -> impl Iterator<Item = Segment> + 'a {
    ring.windows(2)
        .map(move |w| (owner, [to_frame(w[0]), to_frame(w[1])]))
}

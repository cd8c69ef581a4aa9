//! Grid outlines: from frame shapes back to the exact lon/lat vertices of
//! the cells they were made of, and their measures.

use std::collections::HashMap;
use std::f64::consts::PI;

use geo::{Contains, InteriorPoint};
use geo_types::{Coord, LineString, MultiPolygon, Point, Polygon};

use super::atoms::centre;
use crate::cells::frame::{polygon, Frame, Ring, Shape, Snap, P};

/// The lon/lat vertices of the cells, by their snapped frame position: a
/// grid's vertex that was a cell's vertex gets the cell's exact lon/lat
/// back, so neighbouring grids share vertices and tile the community as
/// the cells do. New vertices (on cuts through a cell) are mapped back by
/// the frame.
pub(super) struct VertexMap {
    vertices: HashMap<(i64, i64), Coord<f64>>,
    step: f64,
}

impl VertexMap {
    pub(super) fn new<'a>(
        frame: &Frame,
        snap: &Snap,
        geometries: impl Iterator<Item = &'a MultiPolygon<f64>>,
    ) -> Self {
        let step = snap.step();
        let mut vertices = HashMap::new();
        for g in geometries {
            for p in g {
                for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                    for &c in &r.0 {
                        vertices.entry(key(frame.forward(c), step)).or_insert(c);
                    }
                }
            }
        }
        Self { vertices, step }
    }

    fn lonlat(&self, frame: &Frame, p: P) -> Coord<f64> {
        self.vertices
            .get(&key(p, self.step))
            .copied()
            .unwrap_or_else(|| frame.inverse(p))
    }

    /// Frame shapes as a lon/lat multipolygon.
    pub(super) fn multipolygon(&self, frame: &Frame, shapes: &[Shape]) -> MultiPolygon<f64> {
        let ring = |r: &Ring| {
            let mut ls =
                LineString::from(r.iter().map(|&p| self.lonlat(frame, p)).collect::<Vec<_>>());
            ls.close();
            ls
        };
        MultiPolygon(
            shapes
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| Polygon::new(ring(&s[0]), s[1..].iter().map(ring).collect()))
                .collect(),
        )
    }
}

fn key(p: P, step: f64) -> (i64, i64) {
    ((p[0] / step).round() as i64, (p[1] / step).round() as i64)
}

/// Area (the projection's m²) and perimeter (m) of shapes.
pub(super) fn measure(frame: &Frame, shapes: &[Shape]) -> (f64, f64) {
    let area = shapes.iter().map(|s| frame.metric_area(s)).sum();
    let perimeter = shapes
        .iter()
        .flatten()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    let (p, q) = (r[i], r[(i + 1) % r.len()]);
                    (q[0] - p[0]).hypot(q[1] - p[1])
                })
                .sum::<f64>()
        })
        .sum();
    (area, perimeter)
}

/// Length of every ring of a polygon, in its own units.
pub(super) fn perimeter(g: &MultiPolygon<f64>) -> f64 {
    use geo::{Euclidean, Length as _};
    g.iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .map(|r| Euclidean.length(r))
        .sum()
}

/// Polsby–Popper compactness: 4π·area ÷ perimeter².
pub(super) fn polsby_popper(area: f64, perimeter: f64) -> f64 {
    if perimeter > 0.0 {
        4.0 * PI * area / (perimeter * perimeter)
    } else {
        0.0
    }
}

/// A point inside the shapes: the centre when inside, else an interior point.
pub(super) fn representative(shapes: &[Shape]) -> P {
    let (c, _) = centre(shapes);
    let polys: Vec<Polygon<f64>> = shapes.iter().map(|s| polygon(s)).collect();
    let mp = MultiPolygon(polys);
    if mp.contains(&Point::new(c[0], c[1])) {
        return c;
    }
    mp.interior_point().map_or(c, |p| [p.x(), p.y()])
}

/// Inserts into every ring the vertices of the other rings that lie on its
/// edges (within `tol` metres, copied exactly), so that neighbours which
/// share a stretch of boundary share its vertices too and a union merges
/// them. Cells meet at T-junctions (a grid line ending on a road) whose
/// vertex lies on the neighbour's edge only to rounding.
pub(super) fn node(pieces: &mut [Vec<Shape>], tol: f64) {
    use rstar::primitives::GeomWithData;
    use rstar::{RTree, AABB};
    let mut all: Vec<P> = pieces
        .iter()
        .flatten()
        .flatten()
        .flatten()
        .copied()
        .collect();
    all.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    all.dedup();
    let tree: RTree<GeomWithData<[f64; 2], ()>> =
        RTree::bulk_load(all.into_iter().map(|p| GeomWithData::new(p, ())).collect());
    let tol2 = tol * tol;
    for ring in pieces.iter_mut().flatten().flatten() {
        let mut out = Vec::with_capacity(ring.len());
        for i in 0..ring.len() {
            let (p, q) = (ring[i], ring[(i + 1) % ring.len()]);
            out.push(p);
            let d = [q[0] - p[0], q[1] - p[1]];
            let len2 = d[0] * d[0] + d[1] * d[1];
            if len2 <= tol2 {
                continue;
            }
            let envelope = AABB::from_corners(
                [p[0].min(q[0]) - tol, p[1].min(q[1]) - tol],
                [p[0].max(q[0]) + tol, p[1].max(q[1]) + tol],
            );
            let mut on: Vec<(f64, P)> = tree
                .locate_in_envelope(&envelope)
                .map(|v| *v.geom())
                .filter_map(|v| {
                    let t = ((v[0] - p[0]) * d[0] + (v[1] - p[1]) * d[1]) / len2;
                    let foot = [p[0] + d[0] * t, p[1] + d[1] * t];
                    let off = (v[0] - foot[0]).powi(2) + (v[1] - foot[1]).powi(2);
                    let inner = t * t * len2 > tol2 && (1.0 - t) * (1.0 - t) * len2 > tol2;
                    (inner && (0.0..1.0).contains(&t) && off <= tol2).then_some((t, v))
                })
                .collect();
            on.sort_by(|a, b| a.0.total_cmp(&b.0));
            out.extend(on.into_iter().map(|(_, v)| v));
        }
        *ring = out;
    }
}

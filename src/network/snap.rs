//! Snapping points to the nearest road segment, and the partial travel
//! times between the snapped point and the segment's ends.

use geo_types::{Coord, Point};

use super::{NetworkError, RoadGraph};
use crate::index::project_point;

/// Where a point meets the road network: the nearest point of the nearest
/// segment, which splits that segment.
///
/// Travel between the snapped point and the segment's ends takes the
/// segment's time in the allowed direction times the fraction of it
/// covered, rounded to the millisecond: from the point to `to` takes
/// `round(forward_ms × (1 − fraction))`, to `from` takes
/// `round(backward_ms × fraction)`, and the reverse legs likewise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    /// Index of the segment in [`RoadGraph::segments`].
    pub segment: usize,
    /// Position along the segment: 0 at its `from` node, 1 at its `to` node.
    pub fraction: f64,
    /// The snapped point in the local projection, metres.
    pub point: Coord<f64>,
    /// Distance from the point to the road, metres.
    pub distance_m: f64,
}

/// `ms` × `fraction`, rounded to the millisecond.
fn part(ms: u32, fraction: f64) -> u64 {
    (f64::from(ms) * fraction).round() as u64
}

impl RoadGraph {
    /// Snaps a lon/lat point to the nearest road segment.
    ///
    /// # Errors
    /// [`NetworkError::Point`] for a point out of range,
    /// [`NetworkError::TooFarFromRoad`] beyond the graph's snapping limit.
    pub fn snap(&self, point: Point<f64>) -> Result<Snap, NetworkError> {
        self.snap_metric(project_point(&self.projection, point)?)
    }

    /// Snaps a point given in the local projection.
    pub(super) fn snap_metric(&self, xy: Coord<f64>) -> Result<Snap, NetworkError> {
        let found = self
            .segment_tree
            .nearest_neighbor(&Point(xy))
            .ok_or(NetworkError::Empty)?;
        let s = &self.segments[found.data];
        let (a, b) = (self.nodes_xy[s.from], self.nodes_xy[s.to]);
        let d = b - a;
        let len2 = d.x * d.x + d.y * d.y;
        let fraction = if len2 > 0.0 {
            (((xy.x - a.x) * d.x + (xy.y - a.y) * d.y) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let point = a + d * fraction;
        let distance_m = (xy.x - point.x).hypot(xy.y - point.y);
        if distance_m > self.max_snap_m {
            return Err(NetworkError::TooFarFromRoad {
                distance_m,
                max_m: self.max_snap_m,
            });
        }
        Ok(Snap {
            segment: found.data,
            fraction,
            point,
            distance_m,
        })
    }

    /// Where travel leaving the snapped point enters the graph: (node, ms).
    pub(super) fn departures(&self, s: &Snap) -> impl Iterator<Item = (usize, u64)> {
        let seg = self.segments[s.segment];
        let forward = seg.forward_ms.map(|w| (seg.to, part(w, 1.0 - s.fraction)));
        let backward = seg.backward_ms.map(|w| (seg.from, part(w, s.fraction)));
        forward.into_iter().chain(backward)
    }

    /// Where travel to the snapped point leaves the graph: (node, ms).
    pub(super) fn arrivals(&self, s: &Snap) -> impl Iterator<Item = (usize, u64)> {
        let seg = self.segments[s.segment];
        let forward = seg.forward_ms.map(|w| (seg.from, part(w, s.fraction)));
        let backward = seg.backward_ms.map(|w| (seg.to, part(w, 1.0 - s.fraction)));
        forward.into_iter().chain(backward)
    }

    /// Travel time along one segment between two points snapped to it, when
    /// its direction allows.
    pub(super) fn direct_ms(&self, from: &Snap, to: &Snap) -> Option<u64> {
        if from.segment != to.segment {
            return None;
        }
        let seg = self.segments[from.segment];
        let along = to.fraction - from.fraction;
        let forward = seg
            .forward_ms
            .filter(|_| along >= 0.0)
            .map(|w| part(w, along));
        let backward = seg
            .backward_ms
            .filter(|_| along <= 0.0)
            .map(|w| part(w, -along));
        forward.into_iter().chain(backward).min()
    }

    /// Length in metres of the part of a segment between the snapped point
    /// and the segment's end at `node`.
    pub(super) fn partial_length_m(&self, s: &Snap, node: usize) -> f64 {
        let seg = self.segments[s.segment];
        let share = if node == seg.to {
            1.0 - s.fraction
        } else {
            s.fraction
        };
        seg.length_m * share
    }
}

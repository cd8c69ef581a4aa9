//! Isochrones: the area a facility reaches within a time limit.

use geo::Buffer;
use geo_types::{Coord, Line, MultiLineString, MultiPolygon};

use super::{to_ms, CoverageSource, NetworkError, RoadGraph};

impl RoadGraph {
    /// The service area of `source` within `limit_s` seconds of dispatch,
    /// in lon/lat.
    ///
    /// Definition: the part of the road network reached within the limit
    /// (turn-out, then driving away from the source; a segment whose far
    /// end is not reached in time is cut where the time runs out, assuming
    /// constant speed along it), buffered by `buffer_m` metres in the local
    /// projection and unioned (geo's buffer). Empty when the turn-out time
    /// alone exceeds the limit.
    ///
    /// # Errors
    /// [`NetworkError::Point`] for a point out of range,
    /// [`NetworkError::TooFarFromRoad`] when the source is too far from any road.
    pub fn isochrone(
        &self,
        source: &CoverageSource,
        limit_s: f64,
        buffer_m: f64,
    ) -> Result<MultiPolygon<f64>, NetworkError> {
        let limit_ms = to_ms(limit_s);
        let placed = self.place(std::slice::from_ref(source))?;
        let Some(&(snap, turnout_ms)) = placed.snaps.first() else {
            return Err(NetworkError::TooFarFromRoad {
                distance_m: self.snap(source.point)?.distance_m,
                max_m: self.max_snap_m,
            });
        };
        if turnout_ms > limit_ms {
            return Ok(MultiPolygon::new(Vec::new()));
        }
        let budget = (limit_ms - turnout_ms) as f64;
        let dist = self.bounded_search(&placed.seeds, limit_ms).dist;
        let at = |a: Coord<f64>, b: Coord<f64>, t: f64| a + (b - a) * t;
        let mut pieces = Vec::new();
        // Along the source's own segment, away from the snapped point.
        let seg = self.segments[snap.segment];
        let (a, b) = (self.nodes_xy[seg.from], self.nodes_xy[seg.to]);
        if let Some(w) = seg.forward_ms {
            let end = (snap.fraction + budget / f64::from(w)).min(1.0);
            pieces.push(Line::new(snap.point, at(a, b, end)));
        }
        if let Some(w) = seg.backward_ms {
            let end = (snap.fraction - budget / f64::from(w)).max(0.0);
            pieces.push(Line::new(snap.point, at(a, b, end)));
        }
        // Every edge whose tail is reached before the limit, cut at the limit.
        for e in self.edges() {
            let reached = dist[e.from];
            if reached < limit_ms {
                let share = ((limit_ms - reached) as f64 / f64::from(e.weight_ms)).min(1.0);
                let (from, to) = (self.nodes_xy[e.from], self.nodes_xy[e.to]);
                pieces.push(Line::new(from, at(from, to, share)));
            }
        }
        let lines = MultiLineString::new(
            pieces
                .into_iter()
                .filter(|l| l.start != l.end)
                .map(Into::into)
                .collect(),
        );
        let area = lines.buffer(buffer_m);
        Ok(self.projection.unproject(&area)?)
    }
}

//! The road network: travel times, nearest responders by time, coverage and
//! isochrones (DESIGN.md, standard 5).
//!
//! - [`RoadGraph::build`] turns roads into a directed graph with travel
//!   times per OSM class ([`SpeedTable`]), one-way streets respected, and
//!   prepares a contraction hierarchy (fast_paths).
//! - [`RoadGraph::snap`]: a point meets the network at the nearest point of
//!   the nearest road segment, which it splits.
//! - [`RoadGraph::nearest_by_time`]: the `k` facilities that reach a point
//!   first, turn-out time ([`TurnoutTable`]) plus driving time, with routes.
//! - [`RoadGraph::coverage`] and [`RoadGraph::isochrone`]: what the
//!   facilities reach within a time limit.
//!
//! Travel always runs from the facility to the place.

mod coverage;
mod graph;
mod isochrone;
mod route;
mod snap;
mod speeds;

pub use coverage::{
    Arrival, Coverage, CoverageSource, CoverageTarget, Reached, Share, SnappedTargets,
};
pub use graph::{Edge, RoadGraph, Segment, DEFAULT_MAX_SNAP_M};
pub use route::{ByTime, TimeQuery, TimedNearest, Unreachable, UnreachableReason};
pub use snap::Snap;
pub use speeds::{SpeedTable, TurnoutTable};

use crate::crs::CrsError;
use crate::index::PointError;

/// Why the road network could not be built or could not answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// A query point is unusable (out of range, not projectable).
    #[error("{0}")]
    Point(#[from] PointError),
    /// The graph's projection could not be set up.
    #[error("projection failed: {0}")]
    Projection(#[from] CrsError),
    /// A road's line could not be projected.
    #[error("road {road}: {source}")]
    RoadGeometry {
        /// The road's id.
        road: i64,
        /// What the projection said.
        source: CrsError,
    },
    /// No road is driven: there is no network to route on.
    #[error("the road network is empty: no road of a driven class")]
    Empty,
    /// The point is farther from every road than the snapping limit.
    #[error("the point is {distance_m:.0} m from the nearest road, farther than the {max_m:.0} m allowed")]
    TooFarFromRoad {
        /// Distance to the nearest road, metres.
        distance_m: f64,
        /// The limit, metres.
        max_m: f64,
    },
    /// The facility index and the graph measure in different projections.
    #[error(
        "the facility index projects on central meridian {index}°, the road graph on {graph}°"
    )]
    ProjectionMismatch {
        /// The index's central meridian.
        index: f64,
        /// The graph's central meridian.
        graph: f64,
    },
}

/// Seconds to whole milliseconds (negative: 0).
pub(super) fn to_ms(seconds: f64) -> u64 {
    (seconds * 1000.0).round().max(0.0) as u64
}

//! Why a community got no cells.

use serde::Serialize;

use crate::model::AdminCode;

/// Why the cells of one community could not be made; the other communities
/// are partitioned all the same.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CellError {
    /// A setting of [`CellConfig`](super::CellConfig) is out of range.
    #[error("invalid cell setting `{field}`: {reason}")]
    InvalidConfig {
        /// The setting at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The community's polygon is not valid (self-intersecting ring, …).
    #[error("community {code} {name:?} has an invalid polygon: {reason}")]
    InvalidCommunity {
        /// The community.
        code: AdminCode,
        /// Its name.
        name: String,
        /// What the validity check found.
        reason: String,
    },
    /// The community has no polygon (or only zero-area rings).
    #[error("community {code} {name:?} has an empty polygon")]
    EmptyCommunity {
        /// The community.
        code: AdminCode,
        /// Its name.
        name: String,
    },
    /// The community is smaller than the smallest cell.
    #[error("community {code} {name:?} covers {area_m2:.1} m², less than the smallest cell ({min_m2} m²)")]
    TooSmall {
        /// The community.
        code: AdminCode,
        /// Its name.
        name: String,
        /// Its area, m².
        area_m2: f64,
        /// The smallest cell, m² ([`CellConfig::min_m2`](super::CellConfig::min_m2)).
        min_m2: f64,
    },
    /// The community needs more sequence numbers than its code profile holds.
    #[error("community {code} {name:?} would need sequence numbers up to {needed}; its codes hold at most {capacity}")]
    TooManyCells {
        /// The community.
        code: AdminCode,
        /// Its name.
        name: String,
        /// Highest sequence number it would need (retired numbers included).
        needed: usize,
        /// Highest the profile holds (999 or 99).
        capacity: u16,
    },
    /// A coordinate of the community could not be projected.
    #[error("community {code} {name:?}: {reason}")]
    Projection {
        /// The community.
        code: AdminCode,
        /// Its name.
        name: String,
        /// What the projection said.
        reason: String,
    },
}

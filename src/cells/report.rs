//! What a partition produced: counts, the area distribution, the cells
//! outside the band and the communities that failed.

use std::fmt;

use serde::Serialize;

use super::{CellCode, CellError};
use crate::model::AdminCode;

/// A community that got no cells, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommunityFailure {
    /// The community.
    pub code: AdminCode,
    /// Its name.
    pub name: String,
    /// What went wrong.
    pub error: CellError,
}

/// Distribution of the active cells' areas, m² (all 0 without cells).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct AreaStats {
    /// Smallest.
    pub min: f64,
    /// 5th percentile (nearest rank).
    pub p5: f64,
    /// Median (nearest rank).
    pub median: f64,
    /// 95th percentile (nearest rank).
    pub p95: f64,
    /// Largest.
    pub max: f64,
}

impl AreaStats {
    /// The distribution of `areas` (in any order).
    #[must_use]
    pub fn new(areas: &[f64]) -> Self {
        let mut v = areas.to_vec();
        v.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let n = v.len() as f64;
            v.get(((p * n).ceil() as usize).saturating_sub(1))
                .copied()
                .unwrap_or(0.0)
        };
        Self {
            min: v.first().copied().unwrap_or(0.0),
            p5: rank(0.05),
            median: rank(0.5),
            p95: rank(0.95),
            max: v.last().copied().unwrap_or(0.0),
        }
    }
}

/// The report of one [`partition`](super::partition) run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CellReport {
    /// Communities in the territory.
    pub communities: usize,
    /// Active cells after the run.
    pub cells: usize,
    /// Active cells that kept the code they had.
    pub kept: usize,
    /// Cells with a new code.
    pub new: usize,
    /// Cells retired by this run.
    pub retired: usize,
    /// Slivers (and detached parts of grid squares) merged into a neighbour.
    pub slivers_merged: usize,
    /// Building footprints that had to be cut, by a road, a barrier or a community boundary.
    pub buildings_cut: usize,
    /// Distribution of the active cells' areas.
    pub area: AreaStats,
    /// The band of [`CellConfig::band_m2`](super::CellConfig::band_m2), m².
    pub band_m2: (f64, f64),
    /// Active cells outside the band, with their area (m²), by code.
    pub outside_band: Vec<(CellCode, f64)>,
    /// Communities that got no new cells (their previous cells stay as they were).
    pub failed: Vec<CommunityFailure>,
}

impl fmt::Display for CellReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} cells in {} communities ({} kept, {} new, {} retired); area m² min {:.0} p5 {:.0} median {:.0} p95 {:.0} max {:.0}; {} outside {:.0}–{:.0} m²; {} slivers merged; {} buildings cut; {} communities failed",
            self.cells,
            self.communities,
            self.kept,
            self.new,
            self.retired,
            self.area.min,
            self.area.p5,
            self.area.median,
            self.area.p95,
            self.area.max,
            self.outside_band.len(),
            self.band_m2.0,
            self.band_m2.1,
            self.slivers_merged,
            self.buildings_cut,
            self.failed.len()
        )
    }
}

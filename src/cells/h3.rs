//! The H3 view: per-cell values summed into H3 hexagons for analytics.

use std::collections::BTreeMap;

use serde::Serialize;

use super::numbering::h3_index;
use super::partition::representative_point;
use super::Cell;

/// What the cells whose representative point falls in one H3 hexagon add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct H3Aggregate {
    /// Number of cells.
    pub cells: usize,
    /// Sum of their values.
    pub sum: f64,
}

/// Sums a per-cell value (`values[i]` belongs to `cells[i]`; the shorter
/// slice sets the length) into the H3 hexagons at `resolution` that hold
/// each cell's representative point.
///
/// A cell's own [`Cell::h3`] is used when it is at `resolution` or finer
/// (its parent at `resolution`); otherwise the hexagon is found from the
/// cell's representative point.
#[must_use]
pub fn aggregate_h3(
    cells: &[Cell],
    values: &[f64],
    resolution: h3o::Resolution,
) -> BTreeMap<h3o::CellIndex, H3Aggregate> {
    let mut out: BTreeMap<h3o::CellIndex, H3Aggregate> = BTreeMap::new();
    for (cell, &value) in cells.iter().zip(values) {
        let hex = cell
            .h3
            .parent(resolution)
            .or_else(|| h3_index(representative_point(&cell.geometry)?, resolution));
        if let Some(hex) = hex {
            let a = out.entry(hex).or_default();
            a.cells += 1;
            a.sum += value;
        }
    }
    out
}

//! An R-tree of the active grids: which grid holds a point.

use std::collections::HashMap;

use geo_types::Point;
use rstar::RTree;

use super::Grid;
use crate::cells::CellCode;
use crate::locate::{box_tree, holding, nearest, Entry};

/// The active grids, indexed by envelope and by code.
#[derive(Debug, Clone, Default)]
pub struct GridIndex {
    grids: Vec<Grid>,
    by_code: HashMap<CellCode, usize>,
    tree: RTree<Entry>,
}

impl GridIndex {
    /// Indexes the active grids among `grids` (retired ones are dropped).
    #[must_use]
    pub fn new(grids: impl IntoIterator<Item = Grid>) -> Self {
        let mut grids: Vec<Grid> = grids.into_iter().filter(|g| g.end.is_none()).collect();
        grids.sort_by_key(|g| g.code);
        let tree = box_tree(grids.iter().map(|g| &g.geometry));
        let by_code = grids.iter().enumerate().map(|(i, g)| (g.code, i)).collect();
        Self {
            grids,
            by_code,
            tree,
        }
    }

    /// The grid holding `p` (the lowest code if a point lies on a shared boundary).
    #[must_use]
    pub fn locate(&self, p: Point<f64>) -> Option<&Grid> {
        holding(
            &self.tree,
            p,
            |i| &self.grids[i].geometry,
            |i| self.grids[i].code,
        )
        .map(|i| &self.grids[i])
    }

    /// The grid holding `p` or, when none does (a point in a hairline crack
    /// between grids), the nearest within `tolerance_deg` degrees.
    #[must_use]
    pub fn locate_near(&self, p: Point<f64>, tolerance_deg: f64) -> Option<&Grid> {
        self.locate(p).or_else(|| {
            nearest(
                &self.tree,
                p,
                tolerance_deg,
                |i| &self.grids[i].geometry,
                |i| self.grids[i].code,
            )
            .map(|i| &self.grids[i])
        })
    }

    /// The active grid with this code.
    #[must_use]
    pub fn get(&self, code: CellCode) -> Option<&Grid> {
        self.by_code.get(&code).map(|&i| &self.grids[i])
    }

    /// Every active grid, by code.
    #[must_use]
    pub fn grids(&self) -> &[Grid] {
        &self.grids
    }
}

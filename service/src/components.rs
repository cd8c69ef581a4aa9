//! Each component's household grid, kept beside the grids: found once when
//! the engine is built, again for a component written, and for the
//! components under the grids an edit or a plan changed (their anchors are
//! kept, so only those are searched again). Lists and counts by grid read
//! it instead of searching the grids per request.

use std::collections::HashMap;

use civgrid::cells::CellCode;
use civgrid::components::{anchor, Component, ComponentIndex, SNAP_DEG};
use civgrid::grids::GridIndex;
use geo::Intersects;
use geo_types::{Point, Rect};

/// Each component's anchor and the active household grid holding it (or
/// nearest within [`SNAP_DEG`], as for cells), by store id.
#[derive(Debug, Clone, Default)]
pub struct ComponentGrids(HashMap<i64, (Point<f64>, Option<CellCode>)>);

impl ComponentGrids {
    /// The grids of every component.
    #[must_use]
    pub fn new(components: &ComponentIndex, grids: &GridIndex) -> Self {
        let mut out = Self::default();
        for c in components.iter() {
            out.place(c, grids);
        }
        out
    }

    /// The grid of component `id`.
    #[must_use]
    pub fn get(&self, id: i64) -> Option<CellCode> {
        self.0.get(&id).and_then(|(_, g)| *g)
    }

    /// Finds the anchor and grid of `c` (written or moved).
    pub fn place(&mut self, c: &Component, grids: &GridIndex) {
        match anchor(&c.geometry) {
            Some(p) => self.0.insert(c.id, (p, grid_at(grids, p))),
            None => self.0.remove(&c.id),
        };
    }

    /// Forgets component `id` (deleted).
    pub fn forget(&mut self, id: i64) {
        self.0.remove(&id);
    }

    /// Finds again the grids of the components whose anchor lies in one
    /// of `areas` (lon/lat boxes of the grids before and after a change).
    pub fn refresh(&mut self, grids: &GridIndex, areas: &[Rect<f64>]) {
        for (p, grid) in self.0.values_mut() {
            if areas.iter().any(|r| r.intersects(p)) {
                *grid = grid_at(grids, *p);
            }
        }
    }
}

/// The active grid holding `p`, or the nearest within [`SNAP_DEG`].
pub fn grid_at(grids: &GridIndex, p: Point<f64>) -> Option<CellCode> {
    grids.locate_near(p, SNAP_DEG).map(|g| g.code)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use civgrid::components::ComponentState;
    use civgrid::grids::{Grid, GridKind};
    use geo::BoundingRect;
    use geo_types::{point, polygon, MultiPolygon};

    use super::*;

    fn grid(code: &str, x0: f64, x1: f64) -> Grid {
        let g: MultiPolygon<f64> =
            polygon![(x: x0, y: 0.0), (x: x1, y: 0.0), (x: x1, y: 1.0), (x: x0, y: 1.0)].into();
        Grid {
            code: code.parse().unwrap(),
            community: "330106001001".parse().unwrap(),
            kind: GridKind::Basic,
            name: String::new(),
            households: 100,
            population: None,
            worker: None,
            leader: None,
            geometry: g,
            area_m2: 1.0,
            start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            end: None,
        }
    }

    fn component(id: i64, code: &str, x: f64) -> Component {
        Component {
            id,
            code: code.parse().unwrap(),
            name: String::new(),
            owner: "o".into(),
            maintainer: "o".into(),
            state: ComponentState::Good,
            geometry: point!(x: x, y: 0.5).into(),
            cell: None,
        }
    }

    /// After an edit moves the boundary between two grids, the components
    /// under the changed grids take their new grid.
    #[test]
    fn components_follow_an_edit_of_the_grids() {
        let before = [
            grid("330106001001001", 0.0, 1.0),
            grid("330106001001002", 1.0, 2.0),
        ];
        let (index, _) = ComponentIndex::new(
            vec![
                component(1, "3301060101000001", 0.5),
                component(2, "3301060101000002", 1.5),
                component(3, "3301060101000003", 5.0),
            ],
            &civgrid::Locator::default(),
        );
        let grids = GridIndex::new(before.clone());
        let mut by_id = ComponentGrids::new(&index, &grids);
        let code = |id| by_id.get(id).map(|c: CellCode| c.to_string());
        assert_eq!(code(1).as_deref(), Some("330106001001001"));
        assert_eq!(code(2).as_deref(), Some("330106001001002"));
        assert_eq!(code(3), None);
        // The boundary moves east to x = 1.6: component 2 changes grid.
        let after = [
            grid("330106001001001", 0.0, 1.6),
            grid("330106001001002", 1.6, 2.0),
        ];
        let areas: Vec<_> = before
            .iter()
            .chain(&after)
            .filter_map(|g| g.geometry.bounding_rect())
            .collect();
        let grids = GridIndex::new(after);
        by_id.refresh(&grids, &areas);
        let code = |id| by_id.get(id).map(|c: CellCode| c.to_string());
        assert_eq!(code(2).as_deref(), Some("330106001001001"));
        assert_eq!(code(1).as_deref(), Some("330106001001001"));
        by_id.forget(2);
        assert_eq!(by_id.get(2), None);
    }
}

//! Point location: which district, subdistrict, community and unit cell
//! hold a point.
//!
//! The [`Locator`] keeps an R-tree of the bounding boxes of every
//! administrative polygon per level; a query checks the few candidates whose
//! box holds the point with an exact point-in-polygon test. Upper levels that
//! the data does not give are derived from the community's code prefix.

use std::collections::HashMap;

use geo::{BoundingRect, Intersects};
use geo_types::{MultiPolygon, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use serde::Serialize;

use crate::cells::{Cell, CellCode};
use crate::model::{AdminArea, AdminCode, AdminLevel, CommunityKind, Territory};

/// One administrative area in a [`Location`] answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaRef {
    /// The area's code.
    pub code: AdminCode,
    /// Its name (`None` when only its code is known, derived from a child's code).
    pub name: Option<String>,
    /// Urban or rural (communities only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<CommunityKind>,
}

/// The unit cell in a [`Location`] answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CellRef {
    /// The cell's code.
    pub code: CellCode,
}

/// The administrative chain (and unit cell) holding a point.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The district.
    pub district: Option<AreaRef>,
    /// The subdistrict.
    pub subdistrict: Option<AreaRef>,
    /// The community.
    pub community: Option<AreaRef>,
    /// The active unit cell, when the locator was given cells
    /// ([`Locator::with_cells`]).
    pub cell: Option<CellRef>,
}

impl Location {
    /// `true` when no area holds the point.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.district.is_none()
            && self.subdistrict.is_none()
            && self.community.is_none()
            && self.cell.is_none()
    }
}

/// A bounding box in an R-tree, with the position of its geometry.
pub(crate) type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// An R-tree of the bounding boxes of `geometries`, by position.
pub(crate) fn box_tree<'a>(
    geometries: impl Iterator<Item = &'a MultiPolygon<f64>>,
) -> RTree<Entry> {
    let entries = geometries
        .enumerate()
        .filter_map(|(i, g)| {
            let r = g.bounding_rect()?;
            Some(GeomWithData::new(
                Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                i,
            ))
        })
        .collect();
    RTree::bulk_load(entries)
}

/// The geometry holding `p` (interior or boundary); on a shared boundary the
/// smallest key wins, so answers are deterministic.
pub(crate) fn holding<'a, K: Ord>(
    tree: &RTree<Entry>,
    p: Point<f64>,
    geometry: impl Fn(usize) -> &'a MultiPolygon<f64>,
    key: impl Fn(usize) -> K,
) -> Option<usize> {
    let env = AABB::from_point([p.x(), p.y()]);
    tree.locate_in_envelope_intersecting(&env)
        .map(|e| e.data)
        .filter(|&i| geometry(i).intersects(&p))
        .min_by_key(|&i| key(i))
}

/// The polygon nearest to `p` within `tolerance` (degrees) among those of
/// `tree`; ties by `key`.
pub(crate) fn nearest<'a, K: Ord>(
    tree: &RTree<Entry>,
    p: Point<f64>,
    tolerance: f64,
    geometry: impl Fn(usize) -> &'a MultiPolygon<f64>,
    key: impl Fn(usize) -> K,
) -> Option<usize> {
    use geo::{Distance, Euclidean};
    let env = AABB::from_corners(
        [p.x() - tolerance, p.y() - tolerance],
        [p.x() + tolerance, p.y() + tolerance],
    );
    tree.locate_in_envelope_intersecting(&env)
        .map(|e| (Euclidean.distance(geometry(e.data), &p), e.data))
        .filter(|(d, _)| *d <= tolerance)
        .min_by(|a, b| a.0.total_cmp(&b.0).then_with(|| key(a.1).cmp(&key(b.1))))
        .map(|(_, i)| i)
}

/// One level's polygons and their R-tree.
#[derive(Debug, Default)]
struct LevelIndex {
    areas: Vec<(AdminCode, String, Option<CommunityKind>, MultiPolygon<f64>)>,
    tree: RTree<Entry>,
}

impl LevelIndex {
    fn new(areas: &[AdminArea]) -> Self {
        let areas: Vec<_> = areas
            .iter()
            .map(|a| (a.code, a.name.clone(), a.kind, a.geometry.clone()))
            .collect();
        let tree = box_tree(areas.iter().map(|a| &a.3));
        Self { areas, tree }
    }

    /// The area holding `p`; on a shared boundary the smallest code wins, so
    /// answers are deterministic.
    fn find(&self, p: Point<f64>) -> Option<usize> {
        holding(&self.tree, p, |i| &self.areas[i].3, |i| self.areas[i].0)
    }

    fn area_ref(&self, i: usize) -> AreaRef {
        let (code, name, kind, _) = &self.areas[i];
        AreaRef {
            code: *code,
            name: Some(name.clone()),
            kind: *kind,
        }
    }
}

/// Answers "which administrative areas hold this point" from in-memory R-trees.
#[derive(Debug, Default)]
pub struct Locator {
    levels: [LevelIndex; 3],
    names: HashMap<AdminCode, String>,
    cells: Vec<(CellCode, MultiPolygon<f64>)>,
    cell_tree: RTree<Entry>,
}

impl Locator {
    /// Builds the indexes of a territory's districts, subdistricts and communities.
    #[must_use]
    pub fn new(territory: &Territory) -> Self {
        let levels = [
            AdminLevel::District,
            AdminLevel::Subdistrict,
            AdminLevel::Community,
        ]
        .map(|l| LevelIndex::new(territory.areas(l)));
        let names = levels
            .iter()
            .flat_map(|l| l.areas.iter().map(|(c, n, _, _)| (*c, n.clone())))
            .collect();
        Self {
            levels,
            names,
            ..Self::default()
        }
    }

    /// Adds the unit cells that [`Locator::locate`] answers with; only the
    /// active ones (no end date) are kept. Replaces cells given before.
    #[must_use]
    pub fn with_cells(mut self, cells: &[Cell]) -> Self {
        self.cells = cells
            .iter()
            .filter(|c| c.end.is_none())
            .map(|c| (c.code, c.geometry.clone()))
            .collect();
        self.cell_tree = box_tree(self.cells.iter().map(|c| &c.1));
        self
    }

    /// The active cell holding `p`; on an edge shared by cells, the smallest code.
    fn cell(&self, p: Point<f64>) -> Option<CellRef> {
        holding(
            &self.cell_tree,
            p,
            |i| &self.cells[i].1,
            |i| self.cells[i].0,
        )
        .map(|i| CellRef {
            code: self.cells[i].0,
        })
    }

    /// The active cell holding `p` or, when none does (a point on a cut
    /// between cells that floating point left a hair apart), the nearest
    /// cell within `tolerance_deg` degrees.
    #[must_use]
    pub fn cell_near(&self, p: Point<f64>, tolerance_deg: f64) -> Option<CellCode> {
        self.cell(p)
            .map(|c| c.code)
            .or_else(|| self.nearest_cell(p, tolerance_deg))
    }

    /// The active cell nearest to `p` within `tolerance_deg` degrees.
    #[must_use]
    pub fn nearest_cell(&self, p: Point<f64>, tolerance_deg: f64) -> Option<CellCode> {
        nearest(
            &self.cell_tree,
            p,
            tolerance_deg,
            |i| &self.cells[i].1,
            |i| self.cells[i].0,
        )
        .map(|i| self.cells[i].0)
    }

    /// The administrative chain holding `p` (lon/lat).
    ///
    /// The community is found first; its subdistrict and district follow from
    /// its code (with their names when the data has them). A point inside a
    /// district but in no community gets the district (and subdistrict) alone.
    /// The unit cell comes from the cells given to [`Locator::with_cells`],
    /// independently of the community.
    #[must_use]
    pub fn locate(&self, p: Point<f64>) -> Location {
        let [districts, subdistricts, communities] = &self.levels;
        if let Some(i) = communities.find(p) {
            let community = communities.area_ref(i);
            let up = |level| {
                community.code.ancestor(level).map(|code| AreaRef {
                    code,
                    name: self.names.get(&code).cloned(),
                    kind: None,
                })
            };
            return Location {
                district: up(AdminLevel::District),
                subdistrict: up(AdminLevel::Subdistrict),
                community: Some(community),
                cell: self.cell(p),
            };
        }
        let subdistrict = subdistricts.find(p).map(|i| subdistricts.area_ref(i));
        let district = match &subdistrict {
            Some(s) => s.code.parent().map(|code| AreaRef {
                code,
                name: self.names.get(&code).cloned(),
                kind: None,
            }),
            None => districts.find(p).map(|i| districts.area_ref(i)),
        };
        Location {
            district,
            subdistrict,
            community: None,
            cell: self.cell(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{point, polygon};

    fn area(code: &str, name: &str, x0: f64, y0: f64, x1: f64, y1: f64) -> AdminArea {
        AdminArea {
            code: code.parse().unwrap(),
            name: name.into(),
            kind: None,
            geometry: polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)]
                .into(),
        }
    }

    #[test]
    fn community_then_derived_parents() {
        let t = Territory {
            districts: vec![area("330102", "上城区", 0.0, 0.0, 2.0, 1.0)],
            communities: vec![
                area("330102001001", "A", 0.0, 0.0, 1.0, 1.0),
                area("330102001002", "B", 1.0, 0.0, 2.0, 0.5),
            ],
            ..Territory::default()
        };
        let loc = Locator::new(&t);
        let a = loc.locate(point!(x: 0.5, y: 0.5));
        assert_eq!(a.community.unwrap().name.as_deref(), Some("A"));
        assert_eq!(
            a.subdistrict.as_ref().unwrap().code.to_string(),
            "330102001"
        );
        assert_eq!(a.subdistrict.unwrap().name, None);
        assert_eq!(a.district.unwrap().name.as_deref(), Some("上城区"));
        // On the shared edge: the smaller code.
        let edge = loc.locate(point!(x: 1.0, y: 0.25));
        assert_eq!(edge.community.unwrap().name.as_deref(), Some("A"));
        // In the district, outside every community.
        let gap = loc.locate(point!(x: 1.5, y: 0.75));
        assert!(gap.community.is_none());
        assert_eq!(gap.district.unwrap().code.to_string(), "330102");
        assert!(loc.locate(point!(x: 5.0, y: 5.0)).is_empty());
    }
}

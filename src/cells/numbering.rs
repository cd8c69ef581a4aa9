//! Codes: rows from north to south, west to east within a row; stable
//! across runs.
//!
//! Rows are bands of height √target from the community's northernmost
//! point (in its frame, grid north); a cell belongs to the band holding its
//! representative point (its centroid when that lies inside it, else an
//! interior point), and cells in a band are ordered by that point's easting.
//! A new cell whose geometry matches an active cell of the previous run
//! (identical coordinates, or a symmetric difference under 10⁻⁶ of its
//! area) keeps that cell's code and start date. Previous active cells left
//! unmatched retire (end date = today). New cells take sequence numbers
//! above the highest the community ever used, retired ones included, in
//! row order, so a retired code is never reused.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use geo::{Area, BooleanOps, BoundingRect};
use geo_types::{Coord, MultiPolygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::partition::Draft;
use super::{Cell, CellCode, CellConfig, CellError};
use crate::model::AdminArea;

/// Largest symmetric difference, as a share of a cell's area, for a cell
/// to count as unchanged.
const SAME_CELL: f64 = 1e-6;

/// One community's cells after numbering.
pub(super) struct Numbered {
    /// Its whole history: active cells, retired now and retired before.
    pub cells: Vec<Cell>,
    pub kept: usize,
    pub new: usize,
    pub retired: usize,
}

/// Gives codes to a community's drafts, against its `previous` cells.
pub(super) fn number(
    community: &AdminArea,
    mut drafts: Vec<Draft>,
    previous: &[&Cell],
    today: NaiveDate,
    config: &CellConfig,
) -> Result<Numbered, CellError> {
    drafts.sort_by(|a, b| {
        a.row
            .cmp(&b.row)
            .then(a.x.total_cmp(&b.x))
            .then(b.point.y.total_cmp(&a.point.y))
    });
    let highest = previous
        .iter()
        .map(|c| c.code.sequence())
        .max()
        .unwrap_or(0);
    let active: Vec<&Cell> = previous
        .iter()
        .copied()
        .filter(|c| c.end.is_none())
        .collect();
    let mut matcher = Matcher::new(&active);
    let matches: Vec<Option<usize>> = drafts.iter().map(|d| matcher.find(&d.geometry)).collect();
    let fresh = matches.iter().filter(|m| m.is_none()).count();
    let capacity = config.profile.capacity();
    let needed = usize::from(highest) + fresh;
    if needed > usize::from(capacity) {
        return Err(CellError::TooManyCells {
            code: community.code,
            name: community.name.clone(),
            needed,
            capacity,
        });
    }
    let mut cells = Vec::with_capacity(previous.len() + fresh);
    let mut next = highest;
    for (d, m) in drafts.into_iter().zip(&matches) {
        let (code, start) = if let Some(j) = m {
            (active[*j].code, active[*j].start)
        } else {
            next += 1;
            let code = CellCode::new(community.code, next, config.profile).map_err(|e| {
                CellError::InvalidCommunity {
                    code: community.code,
                    name: community.name.clone(),
                    reason: e.to_string(),
                }
            })?;
            (code, today)
        };
        cells.push(Cell {
            code,
            community: community.code,
            h3: h3_index(d.point, config.h3_resolution).ok_or_else(|| CellError::Projection {
                code: community.code,
                name: community.name.clone(),
                reason: format!(
                    "representative point {:?} is not a valid latitude/longitude",
                    d.point
                ),
            })?,
            geometry: d.geometry,
            area_m2: d.area_m2,
            start,
            end: None,
        });
    }
    let mut retired = 0;
    for (j, c) in active.iter().enumerate() {
        if !matcher.used[j] {
            retired += 1;
            cells.push(Cell {
                end: Some(today),
                ..(*c).clone()
            });
        }
    }
    cells.extend(
        previous
            .iter()
            .filter(|c| c.end.is_some())
            .map(|&c| c.clone()),
    );
    Ok(Numbered {
        cells,
        kept: matches.len() - fresh,
        new: fresh,
        retired,
    })
}

/// The H3 cell of a lon/lat point.
pub(super) fn h3_index(p: Coord<f64>, resolution: h3o::Resolution) -> Option<h3o::CellIndex> {
    h3o::LatLng::new(p.y, p.x)
        .ok()
        .map(|ll| ll.to_cell(resolution))
}

/// Finds, for a new cell, the previous active cell with the same geometry.
struct Matcher<'a> {
    active: &'a [&'a Cell],
    used: Vec<bool>,
    /// Cells by their first coordinate's bits: the fast path for identical geometry.
    by_start: BTreeMap<(u64, u64), Vec<usize>>,
    boxes: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

fn start_key(g: &MultiPolygon<f64>) -> Option<(u64, u64)> {
    let c = g.0.first()?.exterior().0.first()?;
    Some((c.x.to_bits(), c.y.to_bits()))
}

impl<'a> Matcher<'a> {
    fn new(active: &'a [&'a Cell]) -> Self {
        let mut by_start: BTreeMap<(u64, u64), Vec<usize>> = BTreeMap::new();
        let mut boxes = Vec::new();
        for (j, c) in active.iter().enumerate() {
            if let Some(k) = start_key(&c.geometry) {
                by_start.entry(k).or_default().push(j);
            }
            if let Some(r) = c.geometry.bounding_rect() {
                boxes.push(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    j,
                ));
            }
        }
        Self {
            active,
            used: vec![false; active.len()],
            by_start,
            boxes: RTree::bulk_load(boxes),
        }
    }

    fn find(&mut self, g: &MultiPolygon<f64>) -> Option<usize> {
        let exact = start_key(g)
            .and_then(|k| self.by_start.get(&k))
            .and_then(|js| {
                js.iter()
                    .copied()
                    .find(|&j| !self.used[j] && self.active[j].geometry == *g)
            });
        let found = exact.or_else(|| {
            let r = g.bounding_rect()?;
            let area = g.unsigned_area();
            let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
            let mut candidates: Vec<usize> = self
                .boxes
                .locate_in_envelope_intersecting(&env)
                .map(|e| e.data)
                .filter(|&j| !self.used[j])
                .collect();
            candidates.sort_unstable();
            candidates.into_iter().find(|&j| {
                let other = &self.active[j].geometry;
                (other.unsigned_area() - area).abs() <= SAME_CELL * area
                    && g.xor(other).unsigned_area() <= SAME_CELL * area
            })
        })?;
        self.used[found] = true;
        Some(found)
    }
}

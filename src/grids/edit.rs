//! Planner edits of a community's grids: move a building or a cell to a
//! neighbouring grid, redraw a boundary, merge two grids, split one, name a
//! worker. An edit is applied to copies, the community is validated before
//! and after ([`validate`]), and the edit is accepted only when it breaks no
//! rule the touched grids did not already break and opens no new gap.
//!
//! Codes stay: a moved, redrawn or merged grid keeps its code; the grid a
//! merge absorbs retires (its code is never reused); the part a split carves
//! out takes the next number above the highest the community ever used.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use geo::{Area, BooleanOps, BoundingRect, Intersects};
use geo_types::MultiPolygon;

use super::numbering::highest;
use super::shape::perimeter;
use super::validate::{validate, Proposal, ProposalError, Validation, Violation};
use super::{Bounds, Contact, Grid, GridKind};
use crate::cells::{Cell, CellCode};
use crate::model::{AdminArea, Building};

/// One planner edit.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Move a unit cell (the part of it in its grid) to a neighbouring grid.
    MoveCell {
        /// The cell.
        cell: CellCode,
        /// The grid that receives it.
        to: CellCode,
    },
    /// Move a building, with the part of its unit cell in its grid, to a
    /// neighbouring grid.
    MoveBuilding {
        /// The building's id.
        building: i64,
        /// The grid that receives it.
        to: CellCode,
    },
    /// Give a grid a new outline: neighbours lose what it takes (one it
    /// takes whole retires); what it gives up goes to the neighbour sharing
    /// the longest boundary with each part given up.
    Redraw {
        /// The grid.
        grid: CellCode,
        /// Its new outline in lon/lat.
        geometry: MultiPolygon<f64>,
    },
    /// Merge `absorb` into `keep`; `absorb` retires.
    Merge {
        /// The grid that stays.
        keep: CellCode,
        /// The grid that goes.
        absorb: CellCode,
    },
    /// Carve the part of `grid` inside `geometry` out as a new grid.
    Split {
        /// The grid.
        grid: CellCode,
        /// The part to carve out, lon/lat.
        geometry: MultiPolygon<f64>,
    },
    /// Name a grid's worker and leader.
    Assign {
        /// The grid.
        grid: CellCode,
        /// Its worker (网格员).
        worker: Option<Contact>,
        /// Its leader (网格长).
        leader: Option<Contact>,
    },
}

impl Edit {
    /// A short name of the edit.
    #[must_use]
    pub const fn op(&self) -> &'static str {
        match self {
            Self::MoveCell { .. } => "move_cell",
            Self::MoveBuilding { .. } => "move_building",
            Self::Redraw { .. } => "redraw",
            Self::Merge { .. } => "merge",
            Self::Split { .. } => "split",
            Self::Assign { .. } => "assign",
        }
    }
}

/// An edit that cannot be applied at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// No active grid of the community has that code.
    #[error("no active grid {0} in this community")]
    UnknownGrid(CellCode),
    /// No active cell has that code.
    #[error("no active cell {0} in this community")]
    UnknownCell(CellCode),
    /// No building has that id, or it is in no grid.
    #[error("building {0} is in no grid of this community")]
    UnknownBuilding(i64),
    /// The receiving grid does not touch what it would receive.
    #[error("grid {to} does not border what it would receive")]
    NotNeighbour {
        /// The receiving grid.
        to: CellCode,
    },
    /// Source and target are the same grid.
    #[error("{0} is already in grid {1}")]
    SameGrid(String, CellCode),
    /// A split that leaves one side empty.
    #[error("the split of {0} leaves one side empty")]
    EmptySide(CellCode),
    /// No sequence numbers are left in the community.
    #[error("community {0} has no grid numbers left")]
    NoNumbers(String),
    /// The proposed geometry cannot be checked.
    #[error(transparent)]
    Proposal(#[from] ProposalError),
}

/// The result of [`apply_edit`].
#[derive(Debug, Clone, PartialEq)]
pub struct EditOutcome {
    /// The touched grids as they were (absent for a new grid).
    pub before: Vec<Grid>,
    /// The touched grids as they are after the edit (retired ones with `end`).
    pub after: Vec<Grid>,
    /// The community's validation after the edit.
    pub validation: Validation,
    /// Violations the edit introduces, by grid: non-empty means refused.
    pub introduced: Vec<(String, Violation)>,
    /// Gap area the edit opens, m² (over the tolerance: refused).
    pub new_gap_m2: f64,
}

impl EditOutcome {
    /// `true` when the edit may be stored.
    #[must_use]
    pub fn accepted(&self) -> bool {
        self.introduced.is_empty() && self.new_gap_m2 <= 0.0
    }
}

/// What an edit needs of its community.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The community.
    pub community: &'a AdminArea,
    /// Its bounds.
    pub bounds: Bounds,
    /// Its grids, active and retired.
    pub grids: &'a [Grid],
    /// Its active cells.
    pub cells: &'a [&'a Cell],
    /// Its buildings.
    pub buildings: &'a [&'a Building],
    /// The day of the edit.
    pub today: NaiveDate,
}

/// Applies `edit` to a copy of the community's grids and validates it.
pub fn apply_edit(ctx: &Context<'_>, edit: &Edit) -> Result<EditOutcome, EditError> {
    let mut w = Working {
        active: ctx
            .grids
            .iter()
            .filter(|g| g.end.is_none())
            .cloned()
            .collect(),
        touched: BTreeSet::new(),
        retired: Vec::new(),
    };
    match edit {
        Edit::MoveCell { cell, to } => {
            let c = ctx
                .cells
                .iter()
                .find(|c| c.code == *cell)
                .ok_or(EditError::UnknownCell(*cell))?;
            let from =
                largest_share(&w.active, &c.geometry).ok_or(EditError::UnknownCell(*cell))?;
            w.move_piece(from, *to, &c.geometry, cell.to_string())?;
        }
        Edit::MoveBuilding { building, to } => {
            let (from, cell) = w.building_cell(ctx, *building)?;
            w.move_piece(from, *to, &cell.geometry, format!("building {building}"))?;
        }
        Edit::Redraw { grid, geometry } => w.redraw(*grid, geometry, ctx.today)?,
        Edit::Merge { keep, absorb } => w.merge(*keep, *absorb, ctx.today)?,
        Edit::Split { grid, geometry } => w.split(ctx, *grid, geometry)?,
        Edit::Assign {
            grid,
            worker,
            leader,
        } => {
            let i = w.find(*grid)?;
            w.active[i].worker.clone_from(worker);
            w.active[i].leader.clone_from(leader);
            w.touched.insert(*grid);
        }
    }
    judge(ctx, w)
}

/// The community's grids while an edit is applied.
struct Working {
    /// Active grids.
    active: Vec<Grid>,
    /// Codes of the grids the edit changed or made.
    touched: BTreeSet<CellCode>,
    /// Grids the edit retired.
    retired: Vec<Grid>,
}

impl Working {
    fn find(&self, code: CellCode) -> Result<usize, EditError> {
        self.active
            .iter()
            .position(|g| g.code == code)
            .ok_or(EditError::UnknownGrid(code))
    }

    /// The grid holding a building and the building's cell.
    fn building_cell<'a>(
        &self,
        ctx: &Context<'a>,
        building: i64,
    ) -> Result<(usize, &'a Cell), EditError> {
        let unknown = || EditError::UnknownBuilding(building);
        let b = ctx
            .buildings
            .iter()
            .find(|b| b.id == building)
            .ok_or_else(unknown)?;
        let point = b.point().ok_or_else(unknown)?;
        let from = self
            .active
            .iter()
            .position(|g| g.geometry.intersects(&point))
            .ok_or_else(unknown)?;
        let cell = ctx
            .cells
            .iter()
            .find(|c| c.geometry.intersects(&point))
            .ok_or_else(unknown)?;
        Ok((from, *cell))
    }

    /// Moves the part of `area` in grid `from` to the grid `to`.
    fn move_piece(
        &mut self,
        from: usize,
        to: CellCode,
        area: &MultiPolygon<f64>,
        what: String,
    ) -> Result<(), EditError> {
        let to = self.find(to)?;
        let grids = &mut self.active;
        if from == to {
            return Err(EditError::SameGrid(what, grids[to].code));
        }
        let piece = grids[from].geometry.intersection(area);
        if !borders(&grids[to].geometry, &piece) {
            return Err(EditError::NotNeighbour { to: grids[to].code });
        }
        grids[from].geometry = grids[from].geometry.difference(&piece);
        grids[to].geometry = grids[to].geometry.union(&piece);
        self.touched.extend([grids[from].code, grids[to].code]);
        Ok(())
    }

    fn redraw(
        &mut self,
        grid: CellCode,
        geometry: &MultiPolygon<f64>,
        today: NaiveDate,
    ) -> Result<(), EditError> {
        self.find(grid)?;
        for g in &mut self.active {
            if g.code != grid && g.geometry.intersects(geometry) {
                let rest = g.geometry.difference(geometry);
                if rest.unsigned_area() < g.geometry.unsigned_area() {
                    self.touched.insert(g.code);
                    g.geometry = rest;
                }
            }
        }
        // Neighbours the new outline swallows whole retire.
        let (gone, kept): (Vec<Grid>, Vec<Grid>) = std::mem::take(&mut self.active)
            .into_iter()
            .partition(|g| g.code != grid && g.geometry.unsigned_area() <= 0.0);
        self.active = kept;
        for g in gone {
            self.touched.remove(&g.code);
            self.retired.push(Grid {
                end: Some(today),
                ..g
            });
        }
        let i = self.find(grid)?;
        let old = self.active[i].geometry.clone();
        self.active[i].geometry = geometry.clone();
        self.touched.insert(grid);
        for part in old.difference(geometry) {
            let part = MultiPolygon::new(vec![part]);
            if let Some(j) = longest_border(&self.active, i, &part) {
                self.active[j].geometry = self.active[j].geometry.union(&part);
                self.touched.insert(self.active[j].code);
            }
        }
        Ok(())
    }

    fn merge(
        &mut self,
        keep: CellCode,
        absorb: CellCode,
        today: NaiveDate,
    ) -> Result<(), EditError> {
        let (k, a) = (self.find(keep)?, self.find(absorb)?);
        if k == a {
            return Err(EditError::SameGrid(absorb.to_string(), keep));
        }
        if !borders(&self.active[k].geometry, &self.active[a].geometry) {
            return Err(EditError::NotNeighbour { to: keep });
        }
        self.active[k].geometry = self.active[k].geometry.union(&self.active[a].geometry);
        let gone = self.active.remove(a);
        self.touched.insert(keep);
        self.retired.push(Grid {
            end: Some(today),
            ..gone
        });
        Ok(())
    }

    fn split(
        &mut self,
        ctx: &Context<'_>,
        grid: CellCode,
        geometry: &MultiPolygon<f64>,
    ) -> Result<(), EditError> {
        let i = self.find(grid)?;
        let carved = self.active[i].geometry.intersection(geometry);
        let rest = self.active[i].geometry.difference(geometry);
        if carved.unsigned_area() <= 0.0 || rest.unsigned_area() <= 0.0 {
            return Err(EditError::EmptySide(grid));
        }
        let all: Vec<&Grid> = ctx.grids.iter().collect();
        let code = CellCode::new(ctx.community.code, highest(&all) + 1, grid.profile())
            .map_err(|_| EditError::NoNumbers(ctx.community.code.to_string()))?;
        self.active[i].geometry = rest;
        let new = Grid {
            code,
            kind: GridKind::Basic,
            name: String::new(),
            worker: None,
            leader: None,
            population: None,
            geometry: carved,
            start: ctx.today,
            end: None,
            ..self.active[i].clone()
        };
        self.active.push(new);
        self.touched.extend([grid, code]);
        Ok(())
    }
}

/// Validates the community before and after, and what the edit introduced.
fn judge(ctx: &Context<'_>, w: Working) -> Result<EditOutcome, EditError> {
    let Working {
        mut active,
        touched,
        retired,
    } = w;
    let before_check = check(
        ctx,
        &ctx.grids
            .iter()
            .filter(|g| g.end.is_none())
            .cloned()
            .collect::<Vec<_>>(),
    )?;
    let after_check = check(ctx, &active)?;
    for (g, c) in active.iter_mut().zip(&after_check.grids) {
        if touched.contains(&g.code) {
            g.households = c.households;
            g.area_m2 = c.area_m2;
        }
    }
    let was: BTreeSet<(String, String)> = before_check
        .grids
        .iter()
        .flat_map(|c| c.violations.iter().map(|v| (c.id.clone(), v.rule())))
        .collect();
    let introduced = after_check
        .grids
        .iter()
        .filter(|c| {
            c.id.parse()
                .is_ok_and(|code: CellCode| touched.contains(&code))
        })
        .flat_map(|c| c.violations.iter().map(|v| (c.id.clone(), v.clone())))
        .filter(|(id, v)| !was.contains(&(id.clone(), v.rule())))
        .collect();
    let tol = (after_check.gap_m2.max(before_check.gap_m2) * 1e-9).max(0.01);
    let new_gap_m2 = if after_check.gap_m2 > before_check.gap_m2 + tol {
        after_check.gap_m2 - before_check.gap_m2
    } else {
        0.0
    };
    let before = ctx
        .grids
        .iter()
        .filter(|g| {
            g.end.is_none() && touched.contains(&g.code)
                || retired.iter().any(|r| r.code == g.code && g.end.is_none())
        })
        .cloned()
        .collect();
    let mut after: Vec<Grid> = active
        .into_iter()
        .filter(|g| touched.contains(&g.code))
        .collect();
    after.extend(retired);
    Ok(EditOutcome {
        before,
        after,
        validation: after_check,
        introduced,
        new_gap_m2,
    })
}

/// The community's validation for a set of active grids.
fn check(ctx: &Context<'_>, grids: &[Grid]) -> Result<Validation, EditError> {
    let proposals: Vec<Proposal> = grids
        .iter()
        .map(|g| Proposal {
            id: g.code.to_string(),
            kind: g.kind,
            geometry: g.geometry.clone(),
        })
        .collect();
    Ok(validate(
        ctx.community,
        ctx.buildings,
        &proposals,
        ctx.bounds,
    )?)
}

/// The grid holding most of `g`.
fn largest_share(grids: &[Grid], g: &MultiPolygon<f64>) -> Option<usize> {
    let bbox = g.bounding_rect()?;
    grids
        .iter()
        .enumerate()
        .filter(|(_, x)| {
            x.geometry
                .bounding_rect()
                .is_some_and(|b| b.intersects(&bbox))
        })
        .map(|(i, x)| (i, x.geometry.intersection(g).unsigned_area()))
        .filter(|&(_, a)| a > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// `true` when two outlines touch: closer than [`TOUCH_DEG`] (cells meet
/// at T-junctions that lie on the neighbour's edge only to rounding, so
/// an exact test would call real neighbours apart).
fn borders(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> bool {
    use geo::{Distance, Euclidean};
    a.iter()
        .any(|p| b.iter().any(|q| Euclidean.distance(p, q) <= TOUCH_DEG))
}

/// Distance under which two grids touch, degrees (about 1 cm).
const TOUCH_DEG: f64 = 1e-7;

/// The grid other than `skip` sharing the longest boundary with `part`:
/// the perimeter the union saves, halved.
fn longest_border(grids: &[Grid], skip: usize, part: &MultiPolygon<f64>) -> Option<usize> {
    let own = perimeter(part);
    let bbox = part.bounding_rect()?;
    grids
        .iter()
        .enumerate()
        .filter(|&(j, g)| {
            j != skip
                && g.geometry
                    .bounding_rect()
                    .is_some_and(|b| b.intersects(&bbox))
        })
        .map(|(j, g)| {
            (
                j,
                (own + perimeter(&g.geometry) - perimeter(&g.geometry.union(part))) / 2.0,
            )
        })
        .filter(|&(_, shared)| shared > 1e-9)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(j, _)| j)
}

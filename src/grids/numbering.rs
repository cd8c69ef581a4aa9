//! Grid codes: rows of [`ROW_M`] from north to south, west to east within a
//! row; a grid matching an active previous grid (intersection over union
//! ≥ ½) keeps its code, start date, worker and leader; new grids take
//! numbers above the highest the community ever used.

use chrono::NaiveDate;
use geo::{Area, BooleanOps, BoundingRect, Intersects};

use super::{Bounds, Draft, Grid, GridError, GridKind, GridStat, ROW_M, SAME_GRID_IOU};
use crate::cells::{CellCode, CodeProfile};
use crate::model::AdminArea;

/// One community's grids after numbering.
pub(super) struct Numbered {
    /// Active grids, retired now and retired before.
    pub grids: Vec<Grid>,
    /// Report lines of the active grids, by code.
    pub stats: Vec<GridStat>,
    pub kept: usize,
    pub new: usize,
    pub retired: usize,
}

pub(super) fn number(
    area: &AdminArea,
    bounds: Bounds,
    mut drafts: Vec<Draft>,
    previous: &[&Grid],
    today: NaiveDate,
    profile: CodeProfile,
) -> Result<Numbered, GridError> {
    let north = drafts
        .iter()
        .map(|d| d.point[1])
        .fold(f64::NEG_INFINITY, f64::max);
    let row = |d: &Draft| ((north - d.point[1]) / ROW_M).floor() as i64;
    drafts.sort_by(|a, b| row(a).cmp(&row(b)).then(a.point[0].total_cmp(&b.point[0])));
    let active: Vec<&Grid> = previous
        .iter()
        .copied()
        .filter(|g| g.end.is_none())
        .collect();
    let matches = match_previous(&drafts, &active);
    let mut next = highest(previous);
    let fresh = matches.iter().filter(|m| m.is_none()).count();
    let needed = usize::from(next) + fresh;
    if needed > usize::from(profile.capacity()) {
        return Err(GridError::TooManyGrids {
            code: area.code,
            name: area.name.clone(),
            needed,
            capacity: profile.capacity(),
        });
    }
    let mut out = Numbered {
        grids: Vec::new(),
        stats: Vec::new(),
        kept: 0,
        new: 0,
        retired: 0,
    };
    let mut used = vec![false; active.len()];
    for (d, m) in drafts.into_iter().zip(matches) {
        let grid = if let Some(j) = m {
            used[j] = true;
            out.kept += 1;
            Grid {
                kind: d.kind,
                name: d.name,
                households: d.households,
                geometry: d.geometry,
                area_m2: d.area_m2,
                ..active[j].clone()
            }
        } else {
            next += 1;
            out.new += 1;
            Grid {
                code: CellCode::new(area.code, next, profile)
                    .map_err(|e| GridError::Config(e.to_string()))?,
                community: area.code,
                kind: d.kind,
                name: d.name,
                households: d.households,
                population: None,
                worker: None,
                leader: None,
                geometry: d.geometry,
                area_m2: d.area_m2,
                start: today,
                end: None,
            }
        };
        out.stats.push(GridStat {
            code: grid.code,
            kind: grid.kind,
            households: grid.households,
            compactness: d.compactness,
            within_bounds: grid.kind != GridKind::Basic || bounds.holds(grid.households),
        });
        out.grids.push(grid);
    }
    for (g, used) in active.iter().zip(used) {
        if !used {
            out.retired += 1;
            out.grids.push(Grid {
                end: Some(today),
                ..(*g).clone()
            });
        }
    }
    out.grids.extend(
        previous
            .iter()
            .filter(|g| g.end.is_some())
            .map(|&g| g.clone()),
    );
    out.stats.sort_by_key(|s| s.code);
    Ok(out)
}

/// The highest sequence number used by any of `grids`.
pub(super) fn highest(grids: &[&Grid]) -> u16 {
    grids.iter().map(|g| g.code.sequence()).max().unwrap_or(0)
}

/// For each draft, the active previous grid it continues, if any.
fn match_previous(drafts: &[Draft], active: &[&Grid]) -> Vec<Option<usize>> {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, d) in drafts.iter().enumerate() {
        let Some(db) = d.geometry.bounding_rect() else {
            continue;
        };
        for (j, g) in active.iter().enumerate() {
            if !g
                .geometry
                .bounding_rect()
                .is_some_and(|gb| gb.intersects(&db))
            {
                continue;
            }
            let inter = d.geometry.intersection(&g.geometry).unsigned_area();
            if inter <= 0.0 {
                continue;
            }
            let union = d.geometry.unsigned_area() + g.geometry.unsigned_area() - inter;
            let iou = inter / union;
            if iou >= SAME_GRID_IOU {
                pairs.push((iou, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut out = vec![None; drafts.len()];
    let mut taken = vec![false; active.len()];
    for (_, i, j) in pairs {
        if out[i].is_none() && !taken[j] {
            out[i] = Some(j);
            taken[j] = true;
        }
    }
    out
}

//! The administrative hierarchy: districts, subdistricts and communities as
//! blocks of lattice cells, with their codes, names and boundaries.

use std::ops::Range;

use geo_types::{LineString, MultiPolygon, Polygon};

use super::blocks::Splits;
use super::config::SynthConfig;
use super::lattice::{Axis, LRect, Lattice, UNITS};
use super::roads::RoadClass;
use super::{names, SynthError};
use crate::model::{AdminArea, AdminCode, AdminLevel, CommunityKind};

/// A block of lattice cells: columns `i0..i1` (west to east), rows `j0..j1`
/// (south to north).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CellRect {
    pub i0: usize,
    pub j0: usize,
    pub i1: usize,
    pub j1: usize,
}

impl CellRect {
    /// Number of cells.
    pub fn count(self) -> usize {
        (self.i1 - self.i0) * (self.j1 - self.j0)
    }

    /// The same block in lattice units.
    pub fn units(self) -> LRect {
        let u = |n: usize| n as i64 * UNITS;
        LRect {
            s0: u(self.i0),
            t0: u(self.j0),
            s1: u(self.i1),
            t1: u(self.j1),
        }
    }
}

/// Where one district lies and how it divides.
#[derive(Debug, Clone)]
pub(super) struct DistrictLayout {
    pub kind: CommunityKind,
    pub cells: CellRect,
    /// Community column boundaries, in cells from `cells.i0`.
    pub cols: Vec<usize>,
    /// Community row boundaries, in cells from `cells.j0`.
    pub rows: Vec<usize>,
    /// Subdistrict column boundaries, in community columns.
    pub sub_cols: Vec<usize>,
    /// Subdistrict row boundaries, in community rows.
    pub sub_rows: Vec<usize>,
}

/// The districts on the lattice, without codes or geometry: cheap enough to
/// estimate a configuration's size.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    /// Lattice cells west to east.
    pub nx: usize,
    /// Lattice cells south to north.
    pub ny: usize,
    /// Districts in code order: rows from north to south, west to east.
    pub districts: Vec<DistrictLayout>,
}

impl Layout {
    /// Lays out the district grid: rural columns are `k` times wider and
    /// rural rows `k` times taller than urban ones (`k` = village side in
    /// cells), a district is rural when its column or its row is.
    pub fn new(cfg: &SynthConfig) -> Self {
        let k = cfg.rural_cells();
        let (rural_cols, rural_rows) =
            rural_lines(cfg.districts_x, cfg.districts_y, cfg.rural_share);
        let base_w = cfg.subdistricts_x * cfg.communities_x;
        let base_h = cfg.subdistricts_y * cfg.communities_y;
        let widths: Vec<usize> = rural_cols
            .iter()
            .map(|&r| if r { k * base_w } else { base_w })
            .collect();
        let heights: Vec<usize> = rural_rows
            .iter()
            .map(|&r| if r { k * base_h } else { base_h })
            .collect();
        let starts = |sizes: &[usize]| {
            sizes
                .iter()
                .scan(0, |acc, &s| {
                    let start = *acc;
                    *acc += s;
                    Some(start)
                })
                .collect::<Vec<_>>()
        };
        let (x0, y0) = (starts(&widths), starts(&heights));
        let mut districts = Vec::with_capacity(cfg.districts_x * cfg.districts_y);
        for dy in (0..cfg.districts_y).rev() {
            for dx in 0..cfg.districts_x {
                let rural = rural_cols[dx] || rural_rows[dy];
                let unit = if rural { k } else { 1 };
                let cols = unit_bounds(widths[dx], unit);
                let rows = unit_bounds(heights[dy], unit);
                districts.push(DistrictLayout {
                    kind: if rural {
                        CommunityKind::Rural
                    } else {
                        CommunityKind::Urban
                    },
                    cells: CellRect {
                        i0: x0[dx],
                        j0: y0[dy],
                        i1: x0[dx] + widths[dx],
                        j1: y0[dy] + heights[dy],
                    },
                    sub_cols: split_even(cols.len() - 1, cfg.subdistricts_x),
                    sub_rows: split_even(rows.len() - 1, cfg.subdistricts_y),
                    cols,
                    rows,
                });
            }
        }
        Self {
            nx: widths.iter().sum(),
            ny: heights.iter().sum(),
            districts,
        }
    }
}

/// Which district columns and rows are rural: the outer `a` columns and `b`
/// rows, chosen so that the share of rural districts is closest to `share`
/// (ties: columns and rows in like proportion, then fewer columns).
fn rural_lines(nx: usize, ny: usize, share: f64) -> (Vec<bool>, Vec<bool>) {
    let mut best = (0, 0);
    let mut best_key = (f64::INFINITY, f64::INFINITY);
    for a in 0..=nx {
        for b in 0..=ny {
            let urban = ((nx - a) * (ny - b)) as f64 / (nx * ny) as f64;
            let key = (
                (1.0 - urban - share).abs(),
                (a as f64 / nx as f64 - b as f64 / ny as f64).abs(),
            );
            if key.0 < best_key.0 - 1e-12
                || (key.0 <= best_key.0 + 1e-12 && key.1 < best_key.1 - 1e-12)
            {
                best = (a, b);
                best_key = key;
            }
        }
    }
    (outer_first(nx, best.0), outer_first(ny, best.1))
}

/// Marks the `count` outermost of `n` lines, alternating between the two ends.
fn outer_first(n: usize, count: usize) -> Vec<bool> {
    let mut marks = vec![false; n];
    for m in 0..count {
        let line = if m % 2 == 0 { m / 2 } else { n - 1 - m / 2 };
        marks[line] = true;
    }
    marks
}

/// Boundaries of units of `unit` cells along `cells` cells; the last unit
/// takes the remainder (at least one unit).
fn unit_bounds(cells: usize, unit: usize) -> Vec<usize> {
    let n = (cells / unit).max(1);
    (0..n).map(|m| m * unit).chain([cells]).collect()
}

/// Boundaries of `parts` groups (fewer when `n` is smaller) of nearly equal
/// size over `n` items.
fn split_even(n: usize, parts: usize) -> Vec<usize> {
    let parts = parts.clamp(1, n.max(1));
    let (base, extra) = (n / parts, n % parts);
    let mut bounds = vec![0];
    for p in 0..parts {
        bounds.push(bounds[p] + base + usize::from(p < extra));
    }
    bounds
}

/// One administrative area of the synthetic territory.
#[derive(Debug, Clone)]
pub(super) struct Area {
    pub code: AdminCode,
    pub name: String,
    /// The district's kind (every community of a district has it).
    pub kind: CommunityKind,
    pub cells: CellRect,
    /// Index of the parent area in the level above (0 for districts).
    pub parent: usize,
    /// Indices of the area's communities.
    pub communities: Range<usize>,
}

impl Area {
    /// Area in km², from the nominal lattice spacing.
    pub fn km2(&self, lattice: &Lattice) -> f64 {
        self.cells.count() as f64 * (lattice.spacing_m() / 1000.0).powi(2)
    }
}

/// The three levels of areas and which community holds each lattice cell.
#[derive(Debug, Clone)]
pub(super) struct Hierarchy {
    pub nx: usize,
    pub ny: usize,
    pub districts: Vec<Area>,
    pub subdistricts: Vec<Area>,
    pub communities: Vec<Area>,
    cell_community: Vec<u32>,
}

impl Hierarchy {
    /// Codes and names every area of `layout`; subdistricts and communities
    /// are numbered row by row from north to south, west to east in a row.
    pub fn new(cfg: &SynthConfig, layout: &Layout) -> Result<Self, SynthError> {
        let mut h = Self {
            nx: layout.nx,
            ny: layout.ny,
            districts: Vec::with_capacity(layout.districts.len()),
            subdistricts: Vec::new(),
            communities: Vec::new(),
            cell_community: vec![0; layout.nx * layout.ny],
        };
        for (n, d) in layout.districts.iter().enumerate() {
            let code = district_code(cfg.first_district, n, layout.districts.len())?;
            let first_community = h.communities.len();
            let subdistricts = grid_blocks(&d.sub_cols, &d.sub_rows);
            if subdistricts.len() > 999 {
                return Err(SynthError::TooManySubdistricts {
                    district: code,
                    count: subdistricts.len(),
                });
            }
            for (seq, (sc, sr)) in (1..).zip(subdistricts) {
                let sub_code = child(code, seq)?;
                let sub_index = h.subdistricts.len();
                let first = h.communities.len();
                let count = sc.len() * sr.len();
                if count > 999 {
                    return Err(SynthError::TooManyCommunities {
                        subdistrict: sub_code,
                        count,
                    });
                }
                let communities = sr
                    .clone()
                    .rev()
                    .flat_map(|r| sc.clone().map(move |c| (c, r)));
                for (cseq, (c, r)) in (1..).zip(communities) {
                    let c_code = child(sub_code, cseq)?;
                    let n = h.communities.len();
                    h.communities.push(Area {
                        name: names::community(cfg.seed, c_code, d.kind),
                        code: c_code,
                        kind: d.kind,
                        cells: d.block(c..c + 1, r..r + 1),
                        parent: sub_index,
                        communities: n..n + 1,
                    });
                }
                h.subdistricts.push(Area {
                    name: names::subdistrict(cfg.seed, sub_code, d.kind),
                    code: sub_code,
                    kind: d.kind,
                    cells: d.block(sc, sr),
                    parent: n,
                    communities: first..h.communities.len(),
                });
            }
            h.districts.push(Area {
                name: names::district(cfg.seed, code, d.kind),
                code,
                kind: d.kind,
                cells: d.cells,
                parent: 0,
                communities: first_community..h.communities.len(),
            });
        }
        for (n, c) in h.communities.iter().enumerate() {
            for j in c.cells.j0..c.cells.j1 {
                let row = j * h.nx;
                h.cell_community[row + c.cells.i0..row + c.cells.i1].fill(n as u32);
            }
        }
        Ok(h)
    }

    /// The community holding lattice cell (`i`, `j`), if it is inside.
    fn community_at(&self, i: Option<usize>, j: Option<usize>) -> Option<usize> {
        let (i, j) = (i?, j?);
        (i < self.nx && j < self.ny).then(|| self.cell_community[j * self.nx + i] as usize)
    }

    /// Number of lattice cells along lines of `axis`.
    pub fn along(&self, axis: Axis) -> usize {
        match axis {
            Axis::H => self.nx,
            Axis::V => self.ny,
        }
    }

    /// The road class of the lattice edge at cell `along` on grid line
    /// `line` of `axis`: from the areas on its two sides (`None` inside a
    /// community).
    pub fn edge_class(&self, axis: Axis, along: usize, line: usize) -> Option<RoadClass> {
        let (before, after) = (line.checked_sub(1), Some(line));
        let (a, b) = match axis {
            Axis::H => (
                self.community_at(Some(along), before),
                self.community_at(Some(along), after),
            ),
            Axis::V => (
                self.community_at(before, Some(along)),
                self.community_at(after, Some(along)),
            ),
        };
        let (Some(a), Some(b)) = (a, b) else {
            return Some(RoadClass::Primary);
        };
        let (sa, sb) = (self.communities[a].parent, self.communities[b].parent);
        if self.subdistricts[sa].parent != self.subdistricts[sb].parent {
            Some(RoadClass::Primary)
        } else if sa != sb {
            Some(RoadClass::Secondary)
        } else if a != b {
            Some(RoadClass::Tertiary)
        } else {
            None
        }
    }

    /// The model areas of one level, with boundaries through every lattice
    /// vertex and street end on them (so neighbours share exact vertices).
    pub fn admin_areas(
        &self,
        level: AdminLevel,
        lattice: &Lattice,
        splits: &Splits,
    ) -> Vec<AdminArea> {
        let areas = match level {
            AdminLevel::District => &self.districts,
            AdminLevel::Subdistrict => &self.subdistricts,
            AdminLevel::Community => &self.communities,
        };
        areas
            .iter()
            .map(|a| AdminArea {
                code: a.code,
                name: a.name.clone(),
                kind: (level == AdminLevel::Community).then_some(a.kind),
                geometry: MultiPolygon(vec![Polygon::new(ring(a.cells, lattice, splits), vec![])]),
            })
            .collect()
    }
}

impl DistrictLayout {
    /// The cells of the communities in columns `cols` and rows `rows`.
    fn block(&self, cols: Range<usize>, rows: Range<usize>) -> CellRect {
        CellRect {
            i0: self.cells.i0 + self.cols[cols.start],
            i1: self.cells.i0 + self.cols[cols.end],
            j0: self.cells.j0 + self.rows[rows.start],
            j1: self.cells.j0 + self.rows[rows.end],
        }
    }
}

/// The blocks of a grid given by its column and row boundaries, as ranges
/// between boundaries, rows from north to south, west to east in a row.
fn grid_blocks(cols: &[usize], rows: &[usize]) -> Vec<(Range<usize>, Range<usize>)> {
    rows.windows(2)
        .rev()
        .flat_map(|r| cols.windows(2).map(move |c| (c[0]..c[1], r[0]..r[1])))
        .collect()
}

/// The counter-clockwise boundary of a block of cells through every lattice
/// vertex and street end on it.
fn ring(cells: CellRect, lattice: &Lattice, splits: &Splits) -> LineString<f64> {
    let bottom = splits.positions(Axis::H, cells.j0, cells.i0..cells.i1);
    let right = splits.positions(Axis::V, cells.i1, cells.j0..cells.j1);
    let top = splits.positions(Axis::H, cells.j1, cells.i0..cells.i1);
    let left = splits.positions(Axis::V, cells.i0, cells.j0..cells.j1);
    let (t0, t1) = (cells.j0 as i64 * UNITS, cells.j1 as i64 * UNITS);
    let (s0, s1) = (cells.i0 as i64 * UNITS, cells.i1 as i64 * UNITS);
    let mut coords = Vec::with_capacity(bottom.len() + right.len() + top.len() + left.len());
    coords.extend(
        bottom[..bottom.len() - 1]
            .iter()
            .map(|&s| lattice.at(s, t0)),
    );
    coords.extend(right[..right.len() - 1].iter().map(|&t| lattice.at(s1, t)));
    coords.extend(top[1..].iter().rev().map(|&s| lattice.at(s, t1)));
    coords.extend(left[1..].iter().rev().map(|&t| lattice.at(s0, t)));
    coords.push(coords[0]);
    LineString(coords)
}

/// The code of the `n`-th of `count` districts.
fn district_code(first: AdminCode, n: usize, count: usize) -> Result<AdminCode, SynthError> {
    (first.value() + n as u64)
        .to_string()
        .parse::<AdminCode>()
        .ok()
        .filter(|c| c.level() == first.level())
        .ok_or(SynthError::TooManyDistricts { first, count })
}

/// The code of child number `seq` (already checked to be at most 999).
fn child(parent: AdminCode, seq: u16) -> Result<AdminCode, SynthError> {
    parent.child(seq).map_err(|_| match parent.level() {
        AdminLevel::District => SynthError::TooManySubdistricts {
            district: parent,
            count: usize::from(seq),
        },
        _ => SynthError::TooManyCommunities {
            subdistrict: parent,
            count: usize::from(seq),
        },
    })
}

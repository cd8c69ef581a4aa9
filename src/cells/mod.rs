//! Unit cells (万米单元网格): every community tiled by cells of about
//! 10,000 m², with standard codes that stay stable across runs (DESIGN.md,
//! standards 1–2).
//!
//! [`partition`] works community by community (in parallel):
//! 1. **Frame.** Metric work happens in a tangent plane of the Gauss-Krüger
//!    3° zone of the community's own centre (DESIGN.md, standard 6; one
//!    territory may hold regions far apart, each in its own zone): an
//!    affine map of lon/lat, so cells tile the stored lon/lat polygon
//!    exactly; areas are the zone projection's.
//! 2. **Blocks.** Road centre lines and [barriers](crate::model::Barrier)
//!    (rivers, canals, streams, walls, fences) cut the community into
//!    blocks. A road's centre line is a cell boundary: each half of the
//!    carriageway belongs to the cell on its side; so is a river's centre
//!    line when the river is given as a line (each bank's half of the water
//!    goes with its bank), and a wall or fence. Rivers given as areas
//!    (water polygons) are out of scope: give their centre lines, or leave
//!    the water out of the community polygon. A line that ends inside a
//!    block (a dead end, a wall's end) cuts nothing.
//! 3. **Grid.** Each block's bounding box is divided into n × m equal
//!    rectangles of about the target area (n = round(width / √target), at
//!    least 1). The grid depends on its block alone, so an edit in one block
//!    (a building, a road) leaves every other block's cells, and their codes,
//!    as they were; a lattice shared by the whole territory would instead
//!    leave a sliver along every road.
//! 4. **Buildings.** A footprint cut by a grid line goes whole to the grid
//!    square holding most of it, and the cell boundary follows its outline;
//!    footprints that overlap go together. Footprints crossing a road, a
//!    barrier or the community boundary are cut there and counted in the
//!    report, unless all but a hair of one (a ten-thousandth of its area)
//!    lies in one block.
//! 5. **Slivers.** A grid square that the block's shape splits into several
//!    parts keeps the largest; the others, and every piece under
//!    [`CellConfig::min_m2`], merge into the neighbour with the longest
//!    shared edge: in the same block if there is one, else across a road;
//!    never across a barrier (a piece whose only neighbours lie across one
//!    stays as it is) nor the community boundary.
//! 6. **Codes.** Rows north to south, west to east within a row; stable
//!    against the previous run (see [`partition`]).
//!
//! With [`CellConfig::follow_lines`] off (plain grid mode) roads, barriers
//! and buildings are ignored: each community polygon is one block.
//!
//! Cell adjacency is the length of boundary two active cells share, matched
//! as collinear overlapping segments within 1 cm (vertices of neighbours
//! need not coincide; the tolerance is measured in one affine frame of the
//! whole territory, so it grows or shrinks with the cosine of latitude in
//! regions far from the territory's centre) and measured in the
//! Gauss-Krüger 3° zone of each shared stretch.
//!
//! # Example
//! ```
//! use civgrid::cells::{partition, CellConfig};
//! use civgrid::synth::{synthesize, SynthConfig};
//! let territory = synthesize(&SynthConfig::test())?;
//! let today = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
//! let p = partition(&territory, &[], today, &CellConfig::default());
//! assert!(p.report.failed.is_empty());
//! assert_eq!(p.cells.len(), p.report.cells);
//! # Ok::<(), civgrid::synth::SynthError>(())
//! ```

pub(crate) mod adjacency;
mod buildings;
mod code;
mod config;
mod error;
pub(crate) mod frame;
mod h3;
mod numbering;
pub(crate) mod partition;
mod report;
mod slivers;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use geo::BoundingRect;
use geo_types::{Coord, MultiPolygon, Rect};
use rayon::prelude::*;

use crate::crs::LocalProjection;
use crate::model::{AdminCode, Territory};
use frame::Zones;

pub use code::{CellCode, InvalidCellCode};
pub use config::{CellConfig, CodeProfile};
pub use error::CellError;
pub use h3::{aggregate_h3, H3Aggregate};
pub use report::{AreaStats, CellReport, CommunityFailure};

/// Distance within which two cells' edges count as shared, metres.
const SHARED_EDGE_TOL_M: f64 = 0.01;

/// A unit cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Its code (community + sequence number).
    pub code: CellCode,
    /// The community it lies in.
    pub community: AdminCode,
    /// Its outline in lon/lat (EPSG:4490).
    pub geometry: MultiPolygon<f64>,
    /// Area in m², in the Gauss-Krüger 3° zone of its community's centre.
    pub area_m2: f64,
    /// The H3 cell holding its representative point (centroid when inside, else an interior point).
    pub h3: h3o::CellIndex,
    /// First day the cell existed.
    pub start: NaiveDate,
    /// `None` while active; the day it was retired.
    pub end: Option<NaiveDate>,
}

impl Cell {
    /// The point the cell is numbered and counted by: its centroid when
    /// that lies inside it, else an interior point.
    #[must_use]
    pub fn point(&self) -> Option<geo_types::Point<f64>> {
        partition::representative_point(&self.geometry).map(geo_types::Point::from)
    }
}

/// Two active cells that share an edge.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Adjacency {
    /// The smaller code.
    pub a: CellCode,
    /// The larger code.
    pub b: CellCode,
    /// Length of the shared boundary, metres.
    pub shared_m: f64,
}

/// The result of [`partition`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Partition {
    /// Every cell to store, active and retired, sorted by code then start.
    pub cells: Vec<Cell>,
    /// Shared edges among the active cells, sorted by codes.
    pub adjacency: Vec<Adjacency>,
    /// What the run did.
    pub report: CellReport,
}

/// Partitions every community of `territory` into unit cells.
///
/// `previous` is the stored cell history (active and retired). A new cell
/// whose geometry matches an active previous cell of its community keeps
/// that cell's code and start date; previous active cells left unmatched
/// retire with `end = today`; new cells are numbered above the highest
/// sequence number the community ever used. A community that fails (see
/// [`CellError`]) keeps its previous cells unchanged and is listed in the
/// report; the others are partitioned all the same. Active cells of
/// communities no longer in the territory retire.
///
/// Same input, same output: no result depends on thread scheduling or hash
/// order.
#[must_use]
pub fn partition(
    territory: &Territory,
    previous: &[Cell],
    today: NaiveDate,
    config: &CellConfig,
) -> Partition {
    partition_with_progress(territory, previous, today, config, &|_, _| {})
}

/// [`partition`], calling `progress(done, total)` after each community
/// (from worker threads, in no particular order).
#[must_use]
pub fn partition_with_progress(
    territory: &Territory,
    previous: &[Cell],
    today: NaiveDate,
    config: &CellConfig,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Partition {
    let communities = &territory.communities;
    let mut history: BTreeMap<AdminCode, Vec<&Cell>> = BTreeMap::new();
    for c in previous {
        history.entry(c.community).or_default().push(c);
    }
    let mut report = CellReport {
        communities: communities.len(),
        band_m2: config.band_m2,
        ..CellReport::default()
    };
    let context = config
        .validate()
        .map(|()| partition::Context::new(config, territory));
    let done = AtomicUsize::new(0);
    let outcomes: Vec<_> = communities
        .par_iter()
        .map(|area| {
            let empty = Vec::new();
            let before = history.get(&area.code).unwrap_or(&empty);
            let result = context.as_ref().map_err(Clone::clone).and_then(|ctx| {
                let outcome = partition::community(ctx, area)?;
                let numbered = numbering::number(area, outcome.drafts, before, today, config)?;
                Ok((numbered, outcome.slivers_merged, outcome.buildings_cut))
            });
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, communities.len());
            result
        })
        .collect();

    let mut cells = Vec::new();
    let mut cut = Vec::new();
    for (area, outcome) in communities.iter().zip(outcomes) {
        let before = history.remove(&area.code).unwrap_or_default();
        match outcome {
            Ok((numbered, slivers, buildings_cut)) => {
                report.kept += numbered.kept;
                report.new += numbered.new;
                report.retired += numbered.retired;
                report.slivers_merged += slivers;
                cut.extend(buildings_cut);
                cells.extend(numbered.cells);
            }
            Err(error) => {
                report.failed.push(CommunityFailure {
                    code: area.code,
                    name: area.name.clone(),
                    error,
                });
                cells.extend(before.into_iter().cloned());
            }
        }
    }
    // Communities gone from the territory: their active cells retire.
    for c in history.into_values().flatten() {
        if c.end.is_none() {
            report.retired += 1;
        }
        cells.push(Cell {
            end: c.end.or(Some(today)),
            ..c.clone()
        });
    }
    cut.sort_unstable();
    cut.dedup();
    report.buildings_cut = cut.len();
    cells.sort_by(|a, b| a.code.cmp(&b.code).then(a.start.cmp(&b.start)));

    let active: Vec<&Cell> = cells.iter().filter(|c| c.end.is_none()).collect();
    report.cells = active.len();
    report.area = AreaStats::new(&active.iter().map(|c| c.area_m2).collect::<Vec<_>>());
    let (lo, hi) = config.band_m2;
    report.outside_band = active
        .iter()
        .filter(|c| c.area_m2 < lo || c.area_m2 > hi)
        .map(|c| (c.code, c.area_m2))
        .collect();
    let adjacency = adjacency_of(&active);
    Partition {
        cells,
        adjacency,
        report,
    }
}

/// The lon/lat box covering every geometry.
fn cover<'a>(geometries: impl Iterator<Item = &'a MultiPolygon<f64>>) -> Option<Rect<f64>> {
    crate::extent::extent(geometries.filter_map(BoundingRect::bounding_rect))
}

/// Shared edges among active cells: matched in the tangent plane of the
/// Gauss-Krüger zone of the cells' common centre, each stretch measured in
/// its own zone.
fn adjacency_of(active: &[&Cell]) -> Vec<Adjacency> {
    let Some(bbox) = cover(active.iter().map(|c| &c.geometry)) else {
        return Vec::new();
    };
    let Ok(frame) = LocalProjection::gauss_kruger_3deg(bbox.center().x)
        .and_then(|proj| frame::Frame::new(&proj, bbox))
    else {
        return Vec::new();
    };
    let to_frame = |c: Coord<f64>| frame.forward(c);
    let segments: Vec<_> = active
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, c)| {
            c.geometry
                .iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .flat_map(|r| adjacency::lonlat_segments(i, &r.0, &to_frame).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        })
        .collect();
    let shared = adjacency::shared_edges(&segments, SHARED_EDGE_TOL_M);
    let midpoint_lon = |s: &adjacency::Shared| {
        frame
            .inverse([
                f64::midpoint(s.from[0], s.to[0]),
                f64::midpoint(s.from[1], s.to[1]),
            ])
            .x
    };
    let zones = Zones::new(shared.iter().map(midpoint_lon));
    let mut lengths: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    let measured: Vec<_> = shared
        .into_par_iter()
        .map(|s| {
            let ends = zones.get(midpoint_lon(&s)).and_then(|proj| {
                Ok([
                    proj.forward(frame.inverse(s.from))?,
                    proj.forward(frame.inverse(s.to))?,
                ])
            });
            let len = match ends {
                Ok([p, q]) => (q.x - p.x).hypot(q.y - p.y),
                Err(_) => s.length(),
            };
            (s.a, s.b, len)
        })
        .collect();
    for (a, b, len) in measured {
        *lengths.entry((a, b)).or_default() += len;
    }
    let mut out: Vec<Adjacency> = lengths
        .into_iter()
        .map(|((i, j), shared_m)| {
            let (a, b) = (
                active[i].code.min(active[j].code),
                active[i].code.max(active[j].code),
            );
            Adjacency { a, b, shared_m }
        })
        .collect();
    out.sort_by_key(|x| (x.a, x.b));
    out
}

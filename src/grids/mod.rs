//! Household grids (全科网格): every household in exactly one grid, each
//! grid contiguous, inside one community and within its household bounds
//! (DESIGN.md, standard 3): urban grids hold at most 300 households, rural
//! ones 80 to 120; bounds are per community kind and per community
//! ([`GridConfig`]).
//!
//! # What a grid is built from
//! Grids are unions of **unit cells** ([`crate::cells`]), cut between
//! buildings where one cell alone holds too many households. Cells already
//! tile each community with no gap or overlap, follow roads, rivers and
//! walls and never cut a footprint; a grid made of whole cells inherits all
//! of that, so the tiling needs no geometry of its own, and a case pinned
//! to a cell has exactly one grid. Where a dense cell holds more households
//! than one step of a grid allows ([`Bounds::atom_max`]: the width of the
//! band, or half the maximum when there is no minimum), the cell is cut by
//! straight lines through gaps between footprints into pieces; the pieces
//! are the "atoms" then, and grid boundaries follow the cuts. Blocks
//! between roads would be too coarse for rural bounds (a block of 500
//! households cannot make 80-120 grids), and building groups would leave
//! the open land between buildings to no grid.
//!
//! # How a plan is made ([`plan`])
//! Per community, in parallel:
//! 1. Each building goes to the cell holding its representative point;
//!    cells are cut into atoms as above.
//! 2. **Special grids** (专属网格): the cell holding a facility of a kind
//!    in [`GridConfig::special_kinds`] (schools and hospitals by default)
//!    is a grid of its own, named after the facilities. **Building grids**
//!    (楼栋网格): an atom that is one building with more households than
//!    the maximum (or buildings no straight cut separates) is a grid of its
//!    own. Neither kind is held to the bounds.
//! 3. The other atoms form connected components of the adjacency graph.
//!    Each with `H` households gets `k = ⌈H ÷ max⌉` grids (the lower
//!    bound), by recursive bisection ([`bisect`](self)): if no split within
//!    the bounds is found, k + 1, up to 4 more; then a balanced split into
//!    k grids is repaired by moving single atoms across boundaries (each
//!    move keeps both grids contiguous). If the bounds cannot be met
//!    at all (a rural component of 130 households: 1 grid is too many
//!    households, 2 too few), the component is split into k balanced grids
//!    and flagged infeasible; one under the minimum becomes one grid
//!    flagged under-size.
//! 4. **Re-cut.** A component whose bounds could be met but were not
//!    (unsolved) may leave each grid a window narrower than its atoms:
//!    242 households in three 80–120 grids leave each 80 to 82, which
//!    whole cells of 20-odd households jump over. Its cells are cut again
//!    into atoms of at most the window's width ([`Bounds::atom_max_for`]),
//!    down to single buildings, and the community's grids are made again
//!    (the other components' cells keep their atoms); the second plan is
//!    kept when it leaves fewer components unsolved.
//! 5. Codes: community code + 3-digit sequence, numbered in rows of
//!    [`ROW_M`] metres from north to south, west to east. A grid that
//!    covers at least half of an active grid of the previous plan (and is
//!    at least half covered by it: intersection over union ≥ ½) keeps its
//!    code, start date, worker and leader; unmatched previous grids retire;
//!    new ones take numbers above the highest ever used.

mod atoms;
mod bisect;
mod config;
mod edit;
mod index;
mod numbering;
mod shape;
mod validate;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use geo::BoundingRect;
use geo_types::{MultiPolygon, Point};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cells::frame::{bounds as frame_bounds, lonlat_bounds, Frame, Shape, Snap, Zones, P};
use crate::cells::{Cell, CellCode};
use crate::locate::{box_tree, holding};
use crate::model::{AdminArea, AdminCode, Territory};
use atoms::{Atom, Item};
use bisect::Graph;

pub use config::{Bounds, GridConfig};
pub use edit::{apply_edit, Context as EditContext, Edit, EditError, EditOutcome};
pub use index::GridIndex;
pub use validate::{
    validate, Gap, GridCheck, Overlap, Proposal, ProposalError, Validation, Violation,
};

/// Height of the numbering rows, metres.
pub const ROW_M: f64 = 200.0;
/// Smallest intersection over union for a new grid to keep an old grid's code.
const SAME_GRID_IOU: f64 = 0.5;
/// Margin of the snapping box around a community, metres.
const MARGIN_M: f64 = 10.0;
/// Distance within which a vertex lies on a neighbour's edge, metres.
const NODE_TOL_M: f64 = 0.01;
/// Extra grids tried above the lower bound before a component is flagged.
const EXTRA_GRIDS: u32 = 4;

/// What a grid is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridKind {
    /// 基础网格: a basic grid held to the community's bounds.
    Basic,
    /// 专属网格: the premises of a school, hospital, park or market.
    Special,
    /// 楼栋网格: one building too large for a basic grid.
    Building,
}

impl GridKind {
    /// The name used in files and the store.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "basic",
            Self::Special => "special",
            Self::Building => "building",
        }
    }
}

impl std::str::FromStr for GridKind {
    type Err = GridError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "basic" => Ok(Self::Basic),
            "special" => Ok(Self::Special),
            "building" => Ok(Self::Building),
            other => Err(GridError::Config(format!(
                "unknown grid kind {other:?}: basic, special or building"
            ))),
        }
    }
}

/// A person responsible for a grid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Name.
    pub name: String,
    /// Phone number.
    pub phone: String,
}

/// A household grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Its code: community code + sequence (the form of a cell code).
    pub code: CellCode,
    /// The community it lies in.
    pub community: AdminCode,
    /// Basic, special or building.
    pub kind: GridKind,
    /// Name: the premises' or building's for special and building grids.
    pub name: String,
    /// Households of the buildings whose representative point lies in it.
    pub households: u32,
    /// People living in it, where known.
    pub population: Option<u32>,
    /// Its grid worker (网格员).
    pub worker: Option<Contact>,
    /// Its grid leader (网格长).
    pub leader: Option<Contact>,
    /// Outline in lon/lat.
    pub geometry: MultiPolygon<f64>,
    /// Area in m², in the community's Gauss-Krüger zone.
    pub area_m2: f64,
    /// First day it existed.
    pub start: NaiveDate,
    /// `None` while active; the day it was retired.
    pub end: Option<NaiveDate>,
}

/// What went wrong making one community's grids, or with the settings.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GridError {
    /// A setting is out of range.
    #[error("invalid grid setting: {0}")]
    Config(String),
    /// The community has no active unit cells: run `civgrid cells` first.
    #[error("community {code} {name:?} has no unit cells; make cells first")]
    NoCells {
        /// The community.
        code: AdminCode,
        /// Its name.
        name: String,
    },
    /// The community's zone projection failed.
    #[error("community {code} {name:?}: projection: {reason}")]
    Projection {
        /// The community.
        code: AdminCode,
        /// Its name.
        name: String,
        /// What failed.
        reason: String,
    },
    /// More grids than the code profile holds.
    #[error(
        "community {code} {name:?} would need grid numbers up to {needed}; its codes hold at most {capacity}"
    )]
    TooManyGrids {
        /// The community.
        code: AdminCode,
        /// Its name.
        name: String,
        /// Numbers needed.
        needed: usize,
        /// Numbers the profile holds.
        capacity: u16,
    },
}

/// Why a community's grids are not all within bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommunityFlag {
    /// Fewer households than a grid's minimum: one grid, under-size.
    UnderSize,
    /// No number of grids meets the bounds (⌈H ÷ max⌉ > ⌊H ÷ min⌋):
    /// balanced grids outside them.
    Infeasible,
    /// Some number of grids would meet the bounds, but no contiguous split
    /// within them was found: balanced grids, some outside.
    Unsolved,
}

/// One grid in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridStat {
    /// Code.
    pub code: CellCode,
    /// Kind.
    pub kind: GridKind,
    /// Households.
    pub households: u32,
    /// Polsby–Popper compactness, 4π·area ÷ perimeter² (1 for a disc).
    pub compactness: f64,
    /// Within the bounds (always for special and building grids).
    pub within_bounds: bool,
}

/// One community in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommunityGrids {
    /// Community code.
    pub code: AdminCode,
    /// Its name.
    pub name: String,
    /// Households.
    pub households: u32,
    /// Its bounds.
    pub bounds: Bounds,
    /// ⌈households in basic grids ÷ max⌉, summed over connected parts.
    pub lower_bound: u32,
    /// Basic grids made.
    pub basic: u32,
    /// Special grids.
    pub special: u32,
    /// Building grids.
    pub building: u32,
    /// Why bounds were not met, if they were not.
    pub flags: Vec<CommunityFlag>,
    /// Its grids.
    pub grids: Vec<GridStat>,
}

/// A community left without grids, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridFailure {
    /// Community code.
    pub code: AdminCode,
    /// Its name.
    pub name: String,
    /// What went wrong.
    pub error: String,
}

/// What a [`plan`] run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GridReport {
    /// Active grids.
    pub grids: usize,
    /// Households in them.
    pub households: u64,
    /// Grids per kind: basic, special, building.
    pub by_kind: [usize; 3],
    /// Basic grids within their bounds.
    pub within_bounds: usize,
    /// Sum over communities of their lower bounds.
    pub lower_bound: u64,
    /// Mean Polsby–Popper compactness of the basic grids.
    pub mean_compactness: f64,
    /// Grids that kept their code, new ones, retired ones.
    pub kept: usize,
    /// New grids.
    pub new: usize,
    /// Grids retired.
    pub retired: usize,
    /// Buildings in no cell (outside every community), not in any grid.
    pub unplaced_buildings: usize,
    /// Per community.
    pub communities: Vec<CommunityGrids>,
    /// Communities that failed (their previous grids are kept).
    pub failed: Vec<GridFailure>,
}

impl GridReport {
    /// The report's entry for a community, if it was planned.
    #[must_use]
    pub fn community(&self, code: AdminCode) -> Option<&CommunityGrids> {
        self.communities.iter().find(|c| c.code == code)
    }
}

/// The result of [`plan`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GridPlan {
    /// Every grid to store, active and retired, by code then start.
    pub grids: Vec<Grid>,
    /// What the run did.
    pub report: GridReport,
}

/// A grid before it has a code.
#[derive(Debug, Clone)]
struct Draft {
    kind: GridKind,
    name: String,
    households: u32,
    geometry: MultiPolygon<f64>,
    area_m2: f64,
    compactness: f64,
    /// Representative point in the frame, for numbering.
    point: P,
}

/// Makes the household grids of every community of `territory` from its
/// active `cells`.
///
/// `previous` is the stored grid history: matching grids keep their codes,
/// workers and leaders (see the module docs). A community that fails keeps
/// its previous grids and is listed in the report. Same input, same output.
#[must_use]
pub fn plan(
    territory: &Territory,
    cells: &[Cell],
    previous: &[Grid],
    today: NaiveDate,
    config: &GridConfig,
) -> GridPlan {
    plan_with_progress(territory, cells, previous, today, config, &|_, _| {})
}

/// [`plan`], calling `progress(done, total)` after each community.
#[must_use]
pub fn plan_with_progress(
    territory: &Territory,
    cells: &[Cell],
    previous: &[Grid],
    today: NaiveDate,
    config: &GridConfig,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> GridPlan {
    let mut report = GridReport::default();
    if let Err(e) = config.validate() {
        report.failed = territory
            .communities
            .iter()
            .map(|a| GridFailure {
                code: a.code,
                name: a.name.clone(),
                error: e.to_string(),
            })
            .collect();
        return GridPlan {
            grids: previous.to_vec(),
            report,
        };
    }
    let active: Vec<&Cell> = cells.iter().filter(|c| c.end.is_none()).collect();
    let placement = Placement::new(territory, &active, config);
    report.unplaced_buildings = placement.unplaced;
    let zones = Zones::new(
        territory
            .communities
            .iter()
            .filter_map(|a| Some(lonlat_bounds(&a.geometry)?.center().x)),
    );
    let mut history: BTreeMap<AdminCode, Vec<&Grid>> = BTreeMap::new();
    for g in previous {
        history.entry(g.community).or_default().push(g);
    }
    let done = AtomicUsize::new(0);
    let total = territory.communities.len();
    let outcomes: Vec<_> = territory
        .communities
        .par_iter()
        .map(|area| {
            let out = community(territory, &zones, &placement, area, config).and_then(
                |(drafts, stats)| {
                    let before = history.get(&area.code).map_or(&[][..], Vec::as_slice);
                    let numbered = numbering::number(
                        area,
                        stats.bounds,
                        drafts,
                        before,
                        today,
                        config.profile,
                    )?;
                    Ok((numbered, stats))
                },
            );
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            out
        })
        .collect();
    let mut grids = Vec::new();
    let mut compactness = Vec::new();
    for (area, outcome) in territory.communities.iter().zip(outcomes) {
        let before = history.remove(&area.code).unwrap_or_default();
        match outcome {
            Ok((numbered, mut stats)) => {
                report.kept += numbered.kept;
                report.new += numbered.new;
                report.retired += numbered.retired;
                stats.grids = numbered.stats;
                compactness.extend(
                    stats
                        .grids
                        .iter()
                        .filter(|g| g.kind == GridKind::Basic)
                        .map(|g| g.compactness),
                );
                grids.extend(numbered.grids);
                report.communities.push(stats);
            }
            Err(error) => {
                report.failed.push(GridFailure {
                    code: area.code,
                    name: area.name.clone(),
                    error: error.to_string(),
                });
                grids.extend(before.into_iter().cloned());
            }
        }
    }
    for g in history.into_values().flatten() {
        if g.end.is_none() {
            report.retired += 1;
        }
        grids.push(Grid {
            end: g.end.or(Some(today)),
            ..g.clone()
        });
    }
    grids.sort_by(|a, b| a.code.cmp(&b.code).then(a.start.cmp(&b.start)));
    tally(&mut report, &grids, &compactness);
    GridPlan { grids, report }
}

/// The report's totals over its communities and the stored grids.
fn tally(report: &mut GridReport, grids: &[Grid], compactness: &[f64]) {
    for c in &report.communities {
        report.lower_bound += u64::from(c.lower_bound);
        for g in &c.grids {
            report.by_kind[g.kind as usize] += 1;
            report.within_bounds += usize::from(g.kind == GridKind::Basic && g.within_bounds);
        }
    }
    let live = grids.iter().filter(|g| g.end.is_none());
    report.grids = live.clone().count();
    report.households = live.map(|g| u64::from(g.households)).sum();
    report.mean_compactness = if compactness.is_empty() {
        0.0
    } else {
        compactness.iter().sum::<f64>() / compactness.len() as f64
    };
}

/// Which cell holds each building and each special facility.
struct Placement<'a> {
    /// Active cells per community.
    cells: HashMap<AdminCode, Vec<&'a Cell>>,
    /// Buildings per cell code.
    buildings: HashMap<CellCode, Vec<usize>>,
    /// Special facilities per cell code.
    specials: HashMap<CellCode, Vec<usize>>,
    /// Buildings in no cell.
    unplaced: usize,
}

impl<'a> Placement<'a> {
    fn new(territory: &Territory, active: &[&'a Cell], config: &GridConfig) -> Self {
        let tree = box_tree(active.iter().map(|c| &c.geometry));
        let holder = |p: Point<f64>| holding(&tree, p, |i| &active[i].geometry, |i| active[i].code);
        let held: Vec<Option<usize>> = territory
            .buildings
            .par_iter()
            .map(|b| b.point().and_then(holder))
            .collect();
        let mut cells: HashMap<AdminCode, Vec<&Cell>> = HashMap::new();
        for c in active {
            cells.entry(c.community).or_default().push(c);
        }
        let mut buildings: HashMap<CellCode, Vec<usize>> = HashMap::new();
        let mut unplaced = 0;
        for (b, cell) in held.into_iter().enumerate() {
            match cell {
                Some(i) => buildings.entry(active[i].code).or_default().push(b),
                None => unplaced += 1,
            }
        }
        let mut specials: HashMap<CellCode, Vec<usize>> = HashMap::new();
        for (f, facility) in territory.facilities.iter().enumerate() {
            if config.special_kinds.contains(&facility.kind) {
                if let Some(i) = holder(facility.location) {
                    specials.entry(active[i].code).or_default().push(f);
                }
            }
        }
        Self {
            cells,
            buildings,
            specials,
            unplaced,
        }
    }
}

/// One community's drafts and its report entry (grids filled in later).
fn community(
    territory: &Territory,
    zones: &Zones,
    placement: &Placement<'_>,
    area: &AdminArea,
    config: &GridConfig,
) -> Result<(Vec<Draft>, CommunityGrids), GridError> {
    let no_cells = || GridError::NoCells {
        code: area.code,
        name: area.name.clone(),
    };
    let cells = placement.cells.get(&area.code).ok_or_else(no_cells)?;
    let bbox = crate::extent::extent(cells.iter().filter_map(|c| c.geometry.bounding_rect()))
        .ok_or_else(no_cells)?;
    let frame = zones
        .get(bbox.center().x)
        .and_then(|proj| Frame::new(proj, bbox))
        .map_err(|e| GridError::Projection {
            code: area.code,
            name: area.name.clone(),
            reason: e.to_string(),
        })?;
    let shapes = cell_shapes(cells, &frame);
    let fb = frame_bounds(shapes.iter().flatten().flatten().flatten()).ok_or_else(no_cells)?;
    let snap = Snap::new([
        fb[0] - MARGIN_M,
        fb[1] - MARGIN_M,
        fb[2] + MARGIN_M,
        fb[3] + MARGIN_M,
    ]);
    let lonlat = shape::VertexMap::new(&frame, &snap, cells.iter().map(|c| &c.geometry));
    let bounds = config.bounds(area);
    let ground = Ground {
        territory,
        placement,
        cells,
        frame: &frame,
        snap: &snap,
        bounds,
    };

    let mut layout = ground.lay_out(shapes, &|_| bounds.atom_max());
    if !layout.recut.is_empty() {
        // Re-cut the cells of the unsolved components finer and try again.
        let recut = std::mem::take(&mut layout.recut);
        let finer = ground.lay_out(cell_shapes(cells, &frame), &|c| {
            recut.get(&c).copied().unwrap_or_else(|| bounds.atom_max())
        });
        if finer.unsolved < layout.unsolved {
            layout = finer;
        }
    }

    let drafts: Vec<Draft> = layout
        .parts
        .into_iter()
        .map(|(kind, name, members)| {
            draft(&frame, &snap, &lonlat, &layout.atoms, kind, name, &members)
        })
        .collect();
    let count = |k: GridKind| drafts.iter().filter(|d| d.kind == k).count() as u32;
    let stats = CommunityGrids {
        code: area.code,
        name: area.name.clone(),
        households: layout.atoms.iter().map(|a| a.households).sum(),
        bounds,
        lower_bound: layout.lower_bound,
        basic: count(GridKind::Basic),
        special: count(GridKind::Special),
        building: count(GridKind::Building),
        flags: layout.flags,
        grids: Vec::new(),
    };
    Ok((drafts, stats))
}

/// The shapes of `cells` in the frame.
fn cell_shapes(cells: &[&Cell], frame: &Frame) -> Vec<Vec<Shape>> {
    cells
        .iter()
        .map(|c| c.geometry.iter().map(|p| frame.shape(p)).collect())
        .collect()
}

/// What one community's grids are made from.
struct Ground<'a> {
    territory: &'a Territory,
    placement: &'a Placement<'a>,
    /// Its active cells.
    cells: &'a [&'a Cell],
    frame: &'a Frame,
    snap: &'a Snap,
    /// Its bounds.
    bounds: Bounds,
}

/// A community's atoms and the grids made of them.
struct Layout {
    atoms: Vec<Atom>,
    /// The grids: kind, name and atoms.
    parts: Vec<(GridKind, String, Vec<usize>)>,
    /// Why bounds were not met, sorted, each once.
    flags: Vec<CommunityFlag>,
    /// ⌈households ÷ max⌉ summed over the connected parts.
    lower_bound: u32,
    /// Connected parts flagged [`CommunityFlag::Unsolved`].
    unsolved: usize,
    /// Per cell (index in [`Ground::cells`]) of an unsolved part, the
    /// atom size that part's bounds ask for ([`Bounds::atom_max_for`]),
    /// where it is smaller than the usual one.
    recut: BTreeMap<usize, u32>,
}

impl Ground<'_> {
    /// Cuts the cells (`shapes`, in the frame) into atoms of at most
    /// `atom_max(cell)` households and makes the special, building and
    /// basic grids of them.
    fn lay_out(&self, shapes: Vec<Vec<Shape>>, atom_max: &dyn Fn(usize) -> u32) -> Layout {
        let (mut atoms, cell_of, special) = self.atoms(shapes, atom_max);
        let mut pieces: Vec<Vec<Shape>> = atoms
            .iter_mut()
            .map(|a| std::mem::take(&mut a.shapes))
            .collect();
        shape::node(&mut pieces, NODE_TOL_M);
        for (a, shapes) in atoms.iter_mut().zip(pieces) {
            a.shapes = shapes;
        }
        let adj = atoms::adjacency(&atoms);
        let weight: Vec<u32> = atoms.iter().map(|a| a.households).collect();
        let centre: Vec<P> = atoms.iter().map(|a| a.centre).collect();
        let graph = Graph {
            weight: &weight,
            centre: &centre,
            adj: &adj,
        };

        let bounds = self.bounds;
        let mut parts: Vec<(GridKind, String, Vec<usize>)> = Vec::new();
        let mut basic_atoms = vec![true; atoms.len()];
        for (a, name) in special {
            basic_atoms[a] = false;
            parts.push((GridKind::Special, name, vec![a]));
        }
        for (a, atom) in atoms.iter().enumerate() {
            if basic_atoms[a] && atom.households > bounds.max {
                basic_atoms[a] = false;
                let names: Vec<&str> = atom
                    .items
                    .iter()
                    .map(|i| self.territory.buildings[i.building].name.as_str())
                    .filter(|n| !n.is_empty())
                    .collect();
                parts.push((GridKind::Building, names.join("、"), vec![a]));
            }
        }
        let members: Vec<usize> = (0..atoms.len()).filter(|&a| basic_atoms[a]).collect();
        let mut flags = Vec::new();
        let mut lower_bound = 0;
        let mut unsolved = 0;
        let mut recut: BTreeMap<usize, u32> = BTreeMap::new();
        for comp in bisect::components(&graph, &members) {
            let h: u32 = comp.iter().map(|&a| weight[a]).sum();
            lower_bound += bounds.lower_bound(h);
            let (grids, flag) = split_component(&graph, comp, h, bounds);
            if flag == Some(CommunityFlag::Unsolved) {
                unsolved += 1;
                let finer = bounds.atom_max_for(h);
                if finer < bounds.atom_max() {
                    for &a in grids.iter().flatten() {
                        let m = recut.entry(cell_of[a]).or_insert(finer);
                        *m = (*m).min(finer);
                    }
                }
            }
            flags.extend(flag);
            parts.extend(
                grids
                    .into_iter()
                    .map(|g| (GridKind::Basic, String::new(), g)),
            );
        }
        flags.sort_by_key(|f| *f as u8);
        flags.dedup();
        Layout {
            atoms,
            parts,
            flags,
            lower_bound,
            unsolved,
            recut,
        }
    }

    /// The atoms of the cells (`shapes`, in the frame), at most
    /// `atom_max(cell)` households each except in special cells (one atom
    /// each); the cell of each atom; the special atoms with their names.
    fn atoms(
        &self,
        shapes: Vec<Vec<Shape>>,
        atom_max: &dyn Fn(usize) -> u32,
    ) -> (Vec<Atom>, Vec<usize>, Vec<(usize, String)>) {
        let (territory, placement) = (self.territory, self.placement);
        let mut atoms: Vec<Atom> = Vec::new();
        let mut cell_of: Vec<usize> = Vec::new();
        let mut special: Vec<(usize, String)> = Vec::new();
        for (c, (cell, shapes)) in self.cells.iter().zip(shapes).enumerate() {
            let items: Vec<Item> = placement
                .buildings
                .get(&cell.code)
                .into_iter()
                .flatten()
                .filter_map(|&b| item(self.frame, territory, b))
                .collect();
            if let Some(fs) = placement.specials.get(&cell.code) {
                let mut names: Vec<&str> = fs
                    .iter()
                    .map(|&f| territory.facilities[f].name.as_str())
                    .filter(|n| !n.is_empty())
                    .collect();
                names.dedup();
                special.push((atoms.len(), names.join("、")));
                atoms.extend(atoms::of_cell(self.snap, shapes, items, u32::MAX));
            } else {
                atoms.extend(atoms::of_cell(self.snap, shapes, items, atom_max(c)));
            }
            cell_of.resize(atoms.len(), c);
        }
        (atoms, cell_of, special)
    }
}

/// The grid made of atoms `members`.
fn draft(
    frame: &Frame,
    snap: &Snap,
    lonlat: &shape::VertexMap,
    atoms: &[Atom],
    kind: GridKind,
    name: String,
    members: &[usize],
) -> Draft {
    let faces: Vec<&Shape> = members.iter().flat_map(|&a| &atoms[a].shapes).collect();
    let union = snap.union(&faces);
    let (area_m2, perimeter) = shape::measure(frame, &union);
    Draft {
        kind,
        name,
        households: members.iter().map(|&a| atoms[a].households).sum(),
        point: shape::representative(&union),
        geometry: lonlat.multipolygon(frame, &union),
        area_m2,
        compactness: shape::polsby_popper(area_m2, perimeter),
    }
}

/// The grids of one connected component of basic atoms holding `h`
/// households, and the flag when they cannot all be within bounds.
fn split_component(
    graph: &Graph<'_>,
    comp: Vec<usize>,
    h: u32,
    bounds: Bounds,
) -> (Vec<Vec<usize>>, Option<CommunityFlag>) {
    if h < bounds.min {
        return (vec![comp], Some(CommunityFlag::UnderSize));
    }
    let k0 = bounds.lower_bound(h);
    for k in k0..=k0 + EXTRA_GRIDS {
        if u64::from(k) * u64::from(bounds.min) > u64::from(h) || k as usize > comp.len() {
            break;
        }
        if let Some(parts) = bisect::split(graph, comp.clone(), k, bounds) {
            return (parts, None);
        }
    }
    let relaxed = Bounds {
        min: 0,
        max: u32::MAX,
    };
    let k = (k0 as usize).min(comp.len()) as u32;
    let mut parts = bisect::split(graph, comp.clone(), k, relaxed).unwrap_or_else(|| vec![comp]);
    if bisect::repair(graph, &mut parts, bounds) {
        return (parts, None);
    }
    let flag = if bounds.feasible(h) {
        CommunityFlag::Unsolved
    } else {
        CommunityFlag::Infeasible
    };
    (parts, Some(flag))
}

/// A building as an atom item, in the frame.
fn item(frame: &Frame, territory: &Territory, b: usize) -> Option<Item> {
    let building = &territory.buildings[b];
    let pts: Vec<P> = building
        .geometry
        .iter()
        .flat_map(|p| p.exterior().0.iter().map(|&c| frame.forward(c)))
        .collect();
    let bbox = frame_bounds(&pts)?;
    let point = frame.forward(building.point()?.0);
    Some(Item {
        building: b,
        households: building.households,
        bbox,
        point,
    })
}

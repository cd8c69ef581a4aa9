//! The risk map: a score and a level for every unit cell.
//!
//! # Formula
//!
//! For a cell *c*:
//!
//! - **hazard term** H = Σₕ w(levelₕ) · f(dₕ), over the hazards *h* whose zone
//!   of influence reaches *c*. dₕ is the distance in metres from the
//!   hazard's point or area to the cell's outline (0 when they meet); the
//!   zone of a kind is a radius r and a decay exponent p
//!   ([`Zone`]), and f(d) = (1 − d/r)ᵖ for d < r (f = 1 inside an area or
//!   on the cell; p = 0 gives a flat zone, p = 1 a linear fall-off). w is
//!   [`LevelWeights`] (default 1, 2, 4, 8 for blue … red).
//! - **exposure factor** E = 1 + a · min(households / H₀, 1) + b · min(v / V₀, 1),
//!   with v the vulnerable places (facilities of [`ExposureWeights::vulnerable_kinds`]:
//!   schools, hospitals, clinics by default) inside the cell.
//! - **response factor** R = 1 + g · clamp((t − T)/T, 0, 1), with t the
//!   travel time (turn-out + drive) from the nearest fire station and T the
//!   target (300 s, DESIGN standard 5); R = 1 + g when no station reaches
//!   the cell, R = 1 when there is no road graph to tell.
//! - **score** S = H · E · R; **level** = the band of S in
//!   [`ScoreThresholds`] (default yellow ≥ 2, orange ≥ 4, red ≥ 8: one
//!   hazard at full influence on an empty, well-served cell gives its own
//!   level), raised to the highest level of the hazards *inside* the cell
//!   (meeting it): a cell is never lower than a hazard it holds (DESIGN
//!   standard 4).
//!
//! Distances are measured in a tangent plane at each hazard (equirectangular
//! on the mean Earth radius): within a zone of a few km its error is far
//! below a metre, and it needs no projection per region.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use geo::{BoundingRect, Contains, Distance, Euclidean, MapCoords};
use geo_types::{Coord, Geometry, MultiPolygon};
use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};
use serde::{Deserialize, Serialize};

use crate::cells::{Cell, CellCode};
use crate::cow::CowVec;
use crate::model::{AdminCode, AdminLevel, Facility, FacilityKind, Hazard, HazardGeometry};
use crate::risk::{band, RiskLevel};

/// Mean Earth radius, metres (IUGG).
const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// Metres per degree of latitude on the mean sphere.
const M_PER_DEG: f64 = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;

/// A hazard kind's zone of influence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    /// Reach beyond the hazard's point or area, metres.
    pub radius_m: f64,
    /// Exponent p of the fall-off f(d) = (1 − d/r)ᵖ: 0 flat, 1 linear.
    pub decay: f64,
}

/// Weight of a hazard of each level in the hazard term.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LevelWeights {
    /// Blue (default 1).
    pub blue: f64,
    /// Yellow (default 2).
    pub yellow: f64,
    /// Orange (default 4).
    pub orange: f64,
    /// Red (default 8).
    pub red: f64,
}

impl Default for LevelWeights {
    fn default() -> Self {
        Self {
            blue: 1.0,
            yellow: 2.0,
            orange: 4.0,
            red: 8.0,
        }
    }
}

impl LevelWeights {
    /// The weight of `level`.
    #[must_use]
    pub const fn of(&self, level: RiskLevel) -> f64 {
        match level {
            RiskLevel::Blue => self.blue,
            RiskLevel::Yellow => self.yellow,
            RiskLevel::Orange => self.orange,
            RiskLevel::Red => self.red,
        }
    }
}

/// Weights of the exposure factor E.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExposureWeights {
    /// a: added at `households_ref` households or more (default 0.5).
    pub households: f64,
    /// H₀, households (default 300, an urban household grid).
    pub households_ref: f64,
    /// b: added at `vulnerable_ref` vulnerable places or more (default 0.5).
    pub vulnerable: f64,
    /// V₀ (default 1: one school is enough).
    pub vulnerable_ref: f64,
    /// Facility kinds that count as vulnerable places.
    pub vulnerable_kinds: Vec<FacilityKind>,
}

impl Default for ExposureWeights {
    fn default() -> Self {
        Self {
            households: 0.5,
            households_ref: 300.0,
            vulnerable: 0.5,
            vulnerable_ref: 1.0,
            vulnerable_kinds: vec![
                FacilityKind::School,
                FacilityKind::Hospital,
                FacilityKind::Clinic,
            ],
        }
    }
}

/// Weights of the response factor R.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResponseWeights {
    /// g: added at twice the target or when unreachable (default 0.5).
    pub weight: f64,
    /// T, seconds after dispatch (default 300, DESIGN standard 5).
    pub target_s: f64,
}

impl Default for ResponseWeights {
    fn default() -> Self {
        Self {
            weight: 0.5,
            target_s: 300.0,
        }
    }
}

/// Lowest score of each level above blue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoreThresholds {
    /// Yellow from this score (default 2).
    pub yellow: f64,
    /// Orange from this score (default 4).
    pub orange: f64,
    /// Red from this score (default 8).
    pub red: f64,
}

impl Default for ScoreThresholds {
    fn default() -> Self {
        Self {
            yellow: 2.0,
            orange: 4.0,
            red: 8.0,
        }
    }
}

impl ScoreThresholds {
    /// The level of a score.
    #[must_use]
    pub fn level(&self, score: f64) -> RiskLevel {
        band(score, self.red, self.orange, self.yellow)
    }
}

/// The risk map's settings: every weight of the formula (module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Zones of influence by hazard kind.
    pub zones: BTreeMap<String, Zone>,
    /// The zone of a kind not in `zones`.
    pub default_zone: Zone,
    /// Hazard weights by level.
    pub levels: LevelWeights,
    /// Exposure weights.
    pub exposure: ExposureWeights,
    /// Response weights.
    pub response: ResponseWeights,
    /// Score bands.
    pub thresholds: ScoreThresholds,
}

impl Default for RiskConfig {
    /// Zones after common safety-distance practice: fuel and gas stations a
    /// few hundred metres, chemical and fireworks stores and industrial
    /// parks up to a kilometre, local hazards (waterlogging, building
    /// sites) 100–150 m; linear fall-off.
    fn default() -> Self {
        let zone = |radius_m| Zone {
            radius_m,
            decay: 1.0,
        };
        let zones = [
            ("gas_station", 300.0),
            ("lpg_station", 500.0),
            ("chemical_store", 1000.0),
            ("chemical_plant", 1000.0),
            ("fireworks_store", 800.0),
            ("industrial_park", 500.0),
            ("construction_site", 150.0),
            ("landslide_zone", 200.0),
            ("waterlogging_point", 100.0),
        ]
        .into_iter()
        .map(|(k, r)| (k.to_owned(), zone(r)))
        .collect();
        Self {
            zones,
            default_zone: zone(200.0),
            levels: LevelWeights::default(),
            exposure: ExposureWeights::default(),
            response: ResponseWeights::default(),
            thresholds: ScoreThresholds::default(),
        }
    }
}

impl RiskConfig {
    /// The zone of a hazard kind.
    #[must_use]
    pub fn zone(&self, kind: &str) -> Zone {
        self.zones.get(kind).copied().unwrap_or(self.default_zone)
    }
}

/// How fast a fire station reaches a cell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Response {
    /// No road graph: not known (R = 1).
    Unknown,
    /// Reached after this many seconds (turn-out + drive).
    Eta {
        /// Seconds after dispatch.
        seconds: f64,
    },
    /// No station reaches it within the searched time.
    Unreachable,
}

/// What the service knows of a cell besides its hazards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellExposure {
    /// Households living in it.
    pub households: u64,
    /// The fire response.
    pub response: Response,
}

/// A hazard reaching a cell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HazardReach {
    /// The hazard's id.
    pub hazard: i64,
    /// Its level.
    pub level: RiskLevel,
    /// Distance from its point or area to the cell, metres (0: inside).
    pub distance_m: f64,
    /// f(d), 0..=1.
    pub influence: f64,
    /// w(level) · f(d): its share of the hazard term.
    pub contribution: f64,
}

/// A cell's score, level and the factors behind them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellRisk {
    /// The cell.
    pub code: CellCode,
    /// Its community.
    pub community: AdminCode,
    /// The level (never below `floor`).
    pub level: RiskLevel,
    /// S = H · E · R.
    pub score: f64,
    /// The highest level of the hazards inside the cell, if any.
    pub floor: Option<RiskLevel>,
    /// H.
    pub hazard_term: f64,
    /// E.
    pub exposure_factor: f64,
    /// R.
    pub response_factor: f64,
    /// Households in the cell.
    pub households: u64,
    /// Ids of the vulnerable places in the cell.
    pub vulnerable: Vec<i64>,
    /// The fire response.
    pub response: Response,
    /// The hazards reaching the cell, nearest first (ties by id).
    pub hazards: Vec<HazardReach>,
}

/// Cells of each level in an area, and the highest level found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LevelCounts {
    /// Red cells.
    pub red: usize,
    /// Orange cells.
    pub orange: usize,
    /// Yellow cells.
    pub yellow: usize,
    /// Blue cells.
    pub blue: usize,
    /// The highest level of its cells (`None`: no cell).
    pub level: Option<RiskLevel>,
}

impl LevelCounts {
    /// Counts one more cell of `level`.
    pub fn add(&mut self, level: RiskLevel) {
        match level {
            RiskLevel::Red => self.red += 1,
            RiskLevel::Orange => self.orange += 1,
            RiskLevel::Yellow => self.yellow += 1,
            RiskLevel::Blue => self.blue += 1,
        }
        self.level = self.level.max(Some(level));
    }

    /// Adds the cells counted in `other` (another part of the same area).
    pub fn merge(&mut self, other: &Self) {
        self.red += other.red;
        self.orange += other.orange;
        self.yellow += other.yellow;
        self.blue += other.blue;
        self.level = self.level.max(other.level);
    }

    /// Cells of every level.
    #[must_use]
    pub const fn cells(&self) -> usize {
        self.red + self.orange + self.yellow + self.blue
    }
}

/// Every cell's risk, in the order of the cells given to [`assess`], and
/// the index of those cells that lets one write rescore only the cells it
/// reaches ([`RiskMap::put_hazard`] and its siblings). Cloning it shares
/// both; a write copies only the chunks of the cells it rescores.
#[derive(Debug, Clone, Default)]
pub struct RiskMap {
    /// One entry per cell.
    pub cells: CowVec<CellRisk>,
    /// The cells' envelopes, by index.
    tree: Arc<RTree<CellEntry>>,
}

impl PartialEq for RiskMap {
    fn eq(&self, other: &Self) -> bool {
        self.cells == other.cells
    }
}

impl RiskMap {
    /// Cells per level in every area of `level` (communities, subdistricts
    /// or districts), by code.
    #[must_use]
    pub fn counts(&self, level: AdminLevel) -> BTreeMap<AdminCode, LevelCounts> {
        let mut out: BTreeMap<AdminCode, LevelCounts> = BTreeMap::new();
        for c in self.cells.iter() {
            if let Some(area) = c.community.ancestor(level) {
                out.entry(area).or_default().add(c.level);
            }
        }
        out
    }

    /// The indexes of the cells the zone of `hazard` reaches, ascending.
    /// `cells` are those the map was assessed with.
    #[must_use]
    pub fn reach(&self, config: &RiskConfig, hazard: &Hazard, cells: &[Cell]) -> Vec<usize> {
        zone_cells(config, hazard, cells, &self.tree)
            .into_iter()
            .map(|(i, ..)| i)
            .collect()
    }

    /// Adds `hazard` (not in the map yet: take a replaced one out first
    /// with [`RiskMap::remove_hazard`]) and rescores the cells its zone
    /// reaches; returns their indexes.
    pub fn put_hazard(
        &mut self,
        config: &RiskConfig,
        hazard: &Hazard,
        cells: &[Cell],
    ) -> Vec<usize> {
        let hits = reaches(config, hazard, cells, &self.tree);
        for &(i, reach) in &hits {
            self.rescore(config, cells, i, |r| {
                let at = r.hazards.partition_point(|h| order(h, &reach).is_lt());
                r.hazards.insert(at, reach);
            });
        }
        hits.into_iter().map(|(i, _)| i).collect()
    }

    /// Takes `hazard` (as it was put) out and rescores the cells its zone
    /// reached; returns their indexes.
    pub fn remove_hazard(
        &mut self,
        config: &RiskConfig,
        hazard: &Hazard,
        cells: &[Cell],
    ) -> Vec<usize> {
        let reached = self.reach(config, hazard, cells);
        for &i in &reached {
            self.rescore(config, cells, i, |r| {
                r.hazards.retain(|h| h.hazard != hazard.id);
            });
        }
        reached
    }

    /// Counts (`add`) or no longer counts a facility as a vulnerable place
    /// of the cell holding it, when its kind is one; returns that cell.
    pub fn count_vulnerable(
        &mut self,
        config: &RiskConfig,
        facility: &Facility,
        cells: &[Cell],
        add: bool,
    ) -> Option<usize> {
        if !config.exposure.vulnerable_kinds.contains(&facility.kind) {
            return None;
        }
        let i = holding(&self.tree, cells, facility)?;
        self.rescore(config, cells, i, |r| {
            r.vulnerable.retain(|&v| v != facility.id);
            if add {
                let at = r.vulnerable.partition_point(|&v| v < facility.id);
                r.vulnerable.insert(at, facility.id);
            }
        });
        Some(i)
    }

    /// Sets the fire response of cell `i` and rescores it.
    pub fn set_response(
        &mut self,
        config: &RiskConfig,
        i: usize,
        response: Response,
        cells: &[Cell],
    ) {
        if self.cells[i].response != response {
            self.rescore(config, cells, i, |r| r.response = response);
        }
    }

    /// Changes cell `i`'s inputs with `change`, then computes its score
    /// and level again from them.
    fn rescore(
        &mut self,
        config: &RiskConfig,
        cells: &[Cell],
        i: usize,
        change: impl FnOnce(&mut CellRisk),
    ) {
        let r = self.cells.make_mut(i);
        change(r);
        let x = CellExposure {
            households: r.households,
            response: r.response,
        };
        let hazards = std::mem::take(&mut r.hazards);
        let vulnerable = std::mem::take(&mut r.vulnerable);
        *r = score(config, &cells[i], x, hazards, vulnerable);
    }
}

/// The order of a cell's hazards: nearest first, ties by id.
fn order(a: &HazardReach, b: &HazardReach) -> Ordering {
    a.distance_m
        .total_cmp(&b.distance_m)
        .then(a.hazard.cmp(&b.hazard))
}

/// What `hazard` adds to each cell its zone reaches, by cell index.
fn reaches(
    config: &RiskConfig,
    hazard: &Hazard,
    cells: &[Cell],
    tree: &RTree<CellEntry>,
) -> Vec<(usize, HazardReach)> {
    let level = hazard.level();
    let w = config.levels.of(level);
    zone_cells(config, hazard, cells, tree)
        .into_iter()
        .map(|(i, distance_m, influence)| {
            let reach = HazardReach {
                hazard: hazard.id,
                level,
                distance_m,
                influence,
                contribution: w * influence,
            };
            (i, reach)
        })
        .collect()
}

/// The index of the cell holding a facility, if any (the first the tree
/// finds when the facility lies on an edge).
fn holding(tree: &RTree<CellEntry>, cells: &[Cell], f: &Facility) -> Option<usize> {
    let p = [f.location.x(), f.location.y()];
    tree.locate_all_at_point(&p)
        .find(|e| cells[e.data].geometry.contains(&f.location))
        .map(|e| e.data)
}

/// f(d) of a zone: 1 at 0, falling to 0 at the radius; `None` beyond it.
#[must_use]
pub fn influence_m(zone: Zone, distance_m: f64) -> Option<f64> {
    if distance_m <= 0.0 {
        return Some(1.0);
    }
    (distance_m < zone.radius_m).then(|| (1.0 - distance_m / zone.radius_m).powf(zone.decay))
}

type CellEntry = GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, usize>;

/// Scores every cell (module docs for the formula). `exposure` runs
/// parallel to `cells`; `facilities` gives the vulnerable places.
///
/// # Panics
/// When `exposure` and `cells` differ in length.
#[must_use]
pub fn assess(
    config: &RiskConfig,
    cells: &[Cell],
    exposure: &[CellExposure],
    hazards: &[Hazard],
    facilities: &[Facility],
) -> RiskMap {
    assert_eq!(cells.len(), exposure.len(), "one exposure per cell");
    let tree: RTree<CellEntry> = RTree::bulk_load(
        cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let r = c.geometry.bounding_rect()?;
                Some(GeomWithData::new(
                    rstar::primitives::Rectangle::from_corners(
                        [r.min().x, r.min().y],
                        [r.max().x, r.max().y],
                    ),
                    i,
                ))
            })
            .collect(),
    );
    let mut per_cell: Vec<Vec<HazardReach>> = vec![Vec::new(); cells.len()];
    for h in hazards {
        for (i, reach) in reaches(config, h, cells, &tree) {
            per_cell[i].push(reach);
        }
    }
    let mut vulnerable: Vec<Vec<i64>> = vec![Vec::new(); cells.len()];
    for f in facilities
        .iter()
        .filter(|f| config.exposure.vulnerable_kinds.contains(&f.kind))
    {
        if let Some(i) = holding(&tree, cells, f) {
            vulnerable[i].push(f.id);
        }
    }
    let scored = cells
        .iter()
        .zip(exposure)
        .zip(per_cell.into_iter().zip(vulnerable))
        .map(|((cell, x), (mut hazards, mut vulnerable))| {
            hazards.sort_by(order);
            vulnerable.sort_unstable();
            score(config, cell, *x, hazards, vulnerable)
        })
        .collect();
    RiskMap {
        cells: scored,
        tree: Arc::new(tree),
    }
}

/// One cell's score and level from its reaching hazards and exposure.
fn score(
    config: &RiskConfig,
    cell: &Cell,
    x: CellExposure,
    hazards: Vec<HazardReach>,
    vulnerable: Vec<i64>,
) -> CellRisk {
    let e = &config.exposure;
    let share = |v: f64, reference: f64| {
        if reference > 0.0 {
            (v / reference).min(1.0)
        } else {
            1.0
        }
    };
    let exposure_factor = 1.0
        + e.households * share(x.households as f64, e.households_ref)
        + e.vulnerable * share(vulnerable.len() as f64, e.vulnerable_ref);
    let r = config.response;
    let lateness = match x.response {
        Response::Eta { seconds } if r.target_s > 0.0 => {
            ((seconds - r.target_s) / r.target_s).clamp(0.0, 1.0)
        }
        Response::Unknown | Response::Eta { .. } => 0.0,
        Response::Unreachable => 1.0,
    };
    let response_factor = 1.0 + r.weight * lateness;
    let hazard_term: f64 = hazards.iter().map(|h| h.contribution).sum();
    let score = hazard_term * exposure_factor * response_factor;
    let floor = hazards
        .iter()
        .filter(|h| h.distance_m <= 0.0)
        .map(|h| h.level)
        .max();
    let level = config
        .thresholds
        .level(score)
        .max(floor.unwrap_or(RiskLevel::Blue));
    CellRisk {
        code: cell.code,
        community: cell.community,
        level,
        score,
        floor,
        hazard_term,
        exposure_factor,
        response_factor,
        households: x.households,
        vulnerable,
        response: x.response,
        hazards,
    }
}

/// The cells a hazard's zone reaches: (index, distance in metres, f(d)),
/// by index.
fn zone_cells(
    config: &RiskConfig,
    h: &Hazard,
    cells: &[Cell],
    tree: &RTree<CellEntry>,
) -> Vec<(usize, f64, f64)> {
    let zone = config.zone(&h.kind);
    let geometry: Geometry<f64> = match &h.geometry {
        HazardGeometry::Point(p) => Geometry::Point(*p),
        HazardGeometry::Area(a) => Geometry::MultiPolygon(a.clone()),
    };
    let Some(envelope) = geometry.bounding_rect() else {
        return Vec::new();
    };
    let plane = Plane::at(envelope.center());
    let (dx, dy) = plane.degrees(zone.radius_m.max(0.0));
    let query = AABB::from_corners(
        [envelope.min().x - dx, envelope.min().y - dy],
        [envelope.max().x + dx, envelope.max().y + dy],
    );
    let source = plane.map(&geometry);
    let mut out: Vec<(usize, f64, f64)> = tree
        .locate_in_envelope_intersecting(&query)
        .filter_map(|e| {
            let cell = Geometry::MultiPolygon(plane.map_polygons(&cells[e.data].geometry));
            let d = Euclidean.distance(&source, &cell);
            influence_m(zone, d).map(|f| (e.data, d, f))
        })
        .collect();
    out.sort_by_key(|&(i, ..)| i);
    out
}

/// The tangent plane at a point: equirectangular metres on the mean sphere.
struct Plane {
    origin: Coord<f64>,
    kx: f64,
}

impl Plane {
    fn at(origin: Coord<f64>) -> Self {
        Self {
            origin,
            kx: M_PER_DEG * origin.y.to_radians().cos(),
        }
    }

    /// Degrees of longitude and latitude spanning `m` metres here.
    fn degrees(&self, m: f64) -> (f64, f64) {
        (m / self.kx.max(1.0), m / M_PER_DEG)
    }

    fn to_m(&self, c: Coord<f64>) -> Coord<f64> {
        Coord {
            x: (c.x - self.origin.x) * self.kx,
            y: (c.y - self.origin.y) * M_PER_DEG,
        }
    }

    fn map(&self, g: &Geometry<f64>) -> Geometry<f64> {
        g.map_coords(|c| self.to_m(c))
    }

    fn map_polygons(&self, g: &MultiPolygon<f64>) -> MultiPolygon<f64> {
        g.map_coords(|c| self.to_m(c))
    }
}

#[cfg(test)]
#[path = "map_tests.rs"]
mod tests;

//! Hazards: point sources and areas, assessed by a given level, LEC or the
//! 5 × 5 matrix, with all four risk levels.

use geo_types::{LineString, MultiPolygon, Point, Polygon};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::blocks::BlockPlan;
use super::facilities::Scope;
use super::hierarchy::Hierarchy;
use super::lattice::{LRect, Lattice};
use super::{draw, stream, Stage};
use crate::model::{CommunityKind, Hazard, HazardGeometry};
use crate::risk::{Assessment, RiskLevel};

/// Point hazards: kind, label appended to the community name, expected
/// number per community.
const POINT_HAZARDS: [(&str, &str, Scope); 6] = [
    ("gas_station", "加油站", Scope::Community(0.12, 0.05)),
    ("lpg_station", "液化气站", Scope::Community(0.03, 0.04)),
    ("chemical_store", "危化品仓库", Scope::Community(0.04, 0.03)),
    (
        "fireworks_store",
        "烟花爆竹仓库",
        Scope::Community(0.0, 0.03),
    ),
    (
        "construction_site",
        "建筑工地",
        Scope::Community(0.10, 0.02),
    ),
    ("waterlogging_point", "易涝点", Scope::Community(0.08, 0.02)),
];
/// Chance that a village has a landslide zone.
const LANDSLIDE: f64 = 0.05;
/// Levels are dealt from shuffled bags of this mix (4 blue, 3 yellow, 2
/// orange, 1 red), so every ten hazards hold all four levels.
const LEVEL_BAG: [RiskLevel; 10] = [
    RiskLevel::Blue,
    RiskLevel::Blue,
    RiskLevel::Blue,
    RiskLevel::Blue,
    RiskLevel::Yellow,
    RiskLevel::Yellow,
    RiskLevel::Yellow,
    RiskLevel::Orange,
    RiskLevel::Orange,
    RiskLevel::Red,
];
/// The values of the LEC tables: likelihood, exposure, consequence.
const LEC_L: [f64; 7] = [0.1, 0.2, 0.5, 1.0, 3.0, 6.0, 10.0];
const LEC_E: [f64; 6] = [0.5, 1.0, 2.0, 3.0, 6.0, 10.0];
const LEC_C: [f64; 6] = [1.0, 3.0, 7.0, 15.0, 40.0, 100.0];

/// Every hazard of the territory, in metres.
pub(super) fn hazards(
    seed: u64,
    lattice: &Lattice,
    hier: &Hierarchy,
    plans: &[BlockPlan],
) -> Vec<Hazard> {
    let mut rng = stream(seed, Stage::Hazards, 0);
    let mut assessor = Assessor::new();
    let mut out = Vec::new();
    for (c, plan) in hier.communities.iter().zip(plans) {
        let mut add = |kind: &str, label: &str, geometry, rng: &mut ChaCha8Rng| {
            out.push(Hazard {
                id: 0,
                kind: kind.to_owned(),
                name: format!("{}{label}", c.name),
                assessment: assessor.assess(rng),
                geometry,
            });
        };
        for (kind, label, scope) in POINT_HAZARDS {
            for _ in 0..draw(scope.of(c.kind), &mut rng) {
                let at = Point(plan.interior_point(lattice, &mut rng));
                add(kind, label, HazardGeometry::Point(at), &mut rng);
            }
        }
        if let Some(park) = plan.industrial.and_then(|r| r.inset(lattice.units(15.0))) {
            add("industrial_park", "工业园区", area(lattice, park), &mut rng);
        }
        if c.kind == CommunityKind::Rural && rng.random_bool(LANDSLIDE) {
            if let Some(r) = plan.pick_region(lattice, 100.0, &mut rng) {
                let (s0, t0) =
                    r.at_fraction(rng.random_range(0.1..=0.4), rng.random_range(0.1..=0.4));
                let (s1, t1) =
                    r.at_fraction(rng.random_range(0.6..=0.9), rng.random_range(0.6..=0.9));
                add(
                    "landslide_zone",
                    "地质灾害隐患区",
                    area(lattice, LRect { s0, t0, s1, t1 }),
                    &mut rng,
                );
            }
        }
    }
    out
}

/// The quadrilateral of a rectangle of lattice units inside one region.
fn area(lattice: &Lattice, rect: LRect) -> HazardGeometry {
    let [sw, se, ne, nw] = lattice.quad(rect);
    HazardGeometry::Area(MultiPolygon(vec![Polygon::new(
        LineString(vec![sw, se, ne, nw, sw]),
        vec![],
    )]))
}

/// Deals risk levels and builds assessments of them by each method.
struct Assessor {
    /// Per level (blue to red), every LEC assessment from the tables with
    /// that level.
    lec: [Vec<Assessment>; 4],
    /// Per level, every matrix assessment with that level.
    matrix: [Vec<Assessment>; 4],
    bag: Vec<RiskLevel>,
}

impl Assessor {
    fn new() -> Self {
        let by_level = |all: Vec<Assessment>| {
            let mut levels: [Vec<Assessment>; 4] = Default::default();
            for a in all {
                levels[a.level() as usize].push(a);
            }
            levels
        };
        let lec = LEC_L
            .iter()
            .flat_map(|&l| {
                LEC_E
                    .iter()
                    .flat_map(move |&e| LEC_C.iter().map(move |&c| (l, e, c)))
            })
            .filter_map(|(l, e, c)| Assessment::lec(l, e, c).ok())
            .collect();
        let matrix = (1..=5)
            .flat_map(|l| (1..=5).map(move |s| (l, s)))
            .filter_map(|(l, s)| Assessment::matrix(f64::from(l), f64::from(s)).ok())
            .collect();
        Self {
            lec: by_level(lec),
            matrix: by_level(matrix),
            bag: Vec::new(),
        }
    }

    /// The next level from the bag, assessed as given (1 in 5), by LEC or
    /// by the matrix (2 in 5 each).
    fn assess(&mut self, rng: &mut ChaCha8Rng) -> Assessment {
        if self.bag.is_empty() {
            self.bag.extend(LEVEL_BAG);
            self.bag.shuffle(rng);
        }
        let level = self.bag.pop().unwrap_or(RiskLevel::Blue);
        let choices = match rng.random_range(0..5) {
            0 => &[][..],
            1 | 2 => &self.lec[level as usize][..],
            _ => &self.matrix[level as usize][..],
        };
        if choices.is_empty() {
            Assessment::Given { level }
        } else {
            choices[rng.random_range(0..choices.len())]
        }
    }
}

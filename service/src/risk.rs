//! The risk map of the loaded territory (engine: [`civgrid::risk::assess`]),
//! kept current on every facility or hazard write.
//!
//! Inputs gathered here: each cell's households (buildings by centroid, as
//! coverage counts them), the hazards and facilities of every region, and
//! the fire response: the earliest arrival of a fire station or micro fire
//! station by road ([`Responders::arrivals`]) searched up to twice the
//! target time (beyond it the response factor is at its maximum anyway).
//! A cell in a region without roads has an unknown response.
//!
//! # One write, its own neighbourhood
//!
//! A write changes only what it reaches, and the result equals a fresh
//! computation (a test applies random writes and compares):
//! - a new or moved fire station: a search from it alone, bounded by the
//!   search limit; a cell takes it where it arrives first (ties: the lowest
//!   id, as in the full search);
//! - a removed or moved fire station: the cells it reached first are
//!   searched again from the stations near enough to reach them in time;
//! - a vulnerable place (school, hospital…): the cell holding it;
//! - a hazard: the cells its zone of influence reaches, before and after.

use civgrid::cells::Cell;
use civgrid::cow::CowVec;
use civgrid::network::NetworkError;
use civgrid::risk::{assess, CellExposure, Response, RiskConfig, RiskMap};
use civgrid::{Facility, FacilityKind, Hazard, RiskLevel};
use geo::BoundingRect;
use geo_types::Rect;
use serde_json::json;

use crate::ogc::{self, Collection, Feature};
use crate::responders::{CellTarget, First, Responders};
use crate::state::Engine;

/// Facility kinds whose travel time is the fire response.
pub const FIRE_KINDS: [FacilityKind; 2] =
    [FacilityKind::FireStation, FacilityKind::MicroFireStation];

/// The risk map and what it was computed with. Cloning it is cheap: its
/// per-cell parts are shared until a write changes them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RiskState {
    /// The formula's weights.
    pub config: RiskConfig,
    /// Each cell's first fire arrival within the search limit, in the
    /// engine's cell order: the fire response and the station behind it.
    pub first: CowVec<Option<First>>,
    /// Each cell's risk, in the engine's cell order.
    pub map: RiskMap,
}

impl RiskState {
    /// Computes the fire response and the risk map.
    ///
    /// # Errors
    /// [`NetworkError`] when a travel-time search fails.
    pub fn new(
        config: RiskConfig,
        responders: &Responders,
        cells: &[Cell],
    ) -> Result<Self, NetworkError> {
        let first = responders
            .arrivals(&FIRE_KINDS, search_limit_s(&config), None)?
            .first;
        let exposure: Vec<CellExposure> = responders
            .cells()
            .iter()
            .zip(&first)
            .map(|(t, &first)| CellExposure {
                households: t.households,
                response: response(responders, t, first),
            })
            .collect();
        let map = assess(
            &config,
            cells,
            &exposure,
            &responders.hazards(),
            &responders.facilities(),
        );
        Ok(Self {
            config,
            first: first.into(),
            map,
        })
    }

    /// The state after a facility write: `old` is the facility replaced or
    /// removed, `new` the one `responders` now hold (see the module docs
    /// for what is searched again). Also the lon/lat envelopes of the
    /// cells whose level or score changed.
    ///
    /// # Errors
    /// [`NetworkError`] when a travel-time search fails.
    pub fn after_facility(
        &self,
        responders: &Responders,
        cells: &[Cell],
        old: Option<&Facility>,
        new: Option<&Facility>,
    ) -> Result<(Self, Vec<Rect<f64>>), NetworkError> {
        let mut next = self.clone();
        let limit_s = search_limit_s(&self.config);
        let fire = |f: &&Facility| FIRE_KINDS.contains(&f.kind);
        let mut moved: Vec<usize> = Vec::new();
        if let Some(old) = old.filter(fire) {
            let lost: Vec<usize> = self
                .first
                .iter()
                .enumerate()
                .filter(|(_, f)| f.is_some_and(|f| f.facility == old.id))
                .map(|(c, _)| c)
                .collect();
            for &c in &lost {
                *next.first.make_mut(c) = None;
            }
            for (c, first) in responders.arrivals_at(&lost, &FIRE_KINDS, limit_s)? {
                *next.first.make_mut(c) = Some(first);
            }
            moved.extend(lost);
        }
        if let Some(new) = new.filter(fire) {
            for (c, first) in responders.arrivals_from(new.id, limit_s)? {
                if next.first[c].is_none_or(|f| first < f) {
                    *next.first.make_mut(c) = Some(first);
                    moved.push(c);
                }
            }
        }
        let targets = responders.cells();
        for &c in &moved {
            let now = response(responders, &targets[c], next.first[c]);
            next.map.set_response(&self.config, c, now, cells);
        }
        let vulnerable = [(old, false), (new, true)]
            .into_iter()
            .filter_map(|(f, add)| Some((f?, add)))
            .filter_map(|(f, add)| next.map.count_vulnerable(&self.config, f, cells, add));
        moved.extend(vulnerable.collect::<Vec<_>>());
        let changed = next.changed_since(self, moved, cells);
        Ok((next, changed))
    }

    /// The state after a hazard write: `old` is the hazard replaced or
    /// removed, `new` the one now stored. Also the indexes of the cells the
    /// zones of both reach (their hazard levels change with them), and the
    /// lon/lat envelopes of the cells whose level or score changed.
    pub fn after_hazard(
        &self,
        cells: &[Cell],
        old: Option<&Hazard>,
        new: Option<&Hazard>,
    ) -> (Self, Vec<usize>, Vec<Rect<f64>>) {
        let mut next = self.clone();
        let mut reached = Vec::new();
        if let Some(old) = old {
            reached.extend(next.map.remove_hazard(&self.config, old, cells));
        }
        if let Some(new) = new {
            reached.extend(next.map.put_hazard(&self.config, new, cells));
        }
        reached.sort_unstable();
        reached.dedup();
        let changed = next.changed_since(self, reached.iter().copied(), cells);
        (next, reached, changed)
    }

    /// The envelopes of the cells among `which` whose level or score
    /// differs from `before`.
    fn changed_since(
        &self,
        before: &Self,
        which: impl IntoIterator<Item = usize>,
        cells: &[Cell],
    ) -> Vec<Rect<f64>> {
        let mut which: Vec<usize> = which.into_iter().collect();
        which.sort_unstable();
        which.dedup();
        which
            .into_iter()
            .filter(|&i| {
                let (old, new) = (&before.map.cells[i], &self.map.cells[i]);
                old.level != new.level || old.score.to_bits() != new.score.to_bits()
            })
            .filter_map(|i| cells[i].geometry.bounding_rect())
            .collect()
    }
}

/// How far the fire response is searched: twice the target time.
fn search_limit_s(config: &RiskConfig) -> f64 {
    2.0 * config.response.target_s.max(1.0)
}

/// A cell's fire response from its first arrival: unreachable when its
/// region has roads but no station arrives in time, unknown without roads.
fn response(responders: &Responders, target: &CellTarget, first: Option<First>) -> Response {
    let regions = responders.regions();
    match (first, target.region.and_then(|r| regions[r].graph.as_ref())) {
        (Some(f), _) => Response::Eta {
            seconds: f.ms as f64 / 1000.0,
        },
        (None, Some(_)) => Response::Unreachable,
        (None, None) => Response::Unknown,
    }
}

/// The risk map as features: each active cell with its level, score and
/// factors (`civgrid export risk`).
pub fn collection(engine: &Engine) -> Collection {
    let features = engine
        .cells
        .iter()
        .zip(engine.risk.map.cells.iter())
        .map(|(c, r)| {
            let hazards: Vec<String> = r.hazards.iter().map(|h| h.hazard.to_string()).collect();
            let properties = ogc::properties([
                ("code", json!(c.code.to_string())),
                ("community", json!(c.community.to_string())),
                ("level", json!(r.level.as_str())),
                ("score", json!(r.score)),
                ("floor", json!(r.floor.map(RiskLevel::as_str))),
                ("hazard_term", json!(r.hazard_term)),
                ("exposure", json!(r.exposure_factor)),
                ("response", json!(r.response_factor)),
                ("households", json!(r.households)),
                ("vulnerable", json!(r.vulnerable.len())),
                (
                    "eta_s",
                    json!(match r.response {
                        Response::Eta { seconds } => Some(seconds),
                        Response::Unknown | Response::Unreachable => None,
                    }),
                ),
                ("hazards", json!(hazards.join(","))),
            ]);
            Feature {
                id: c.code.to_string(),
                geometry: c.geometry.clone().into(),
                properties,
            }
        })
        .collect();
    Collection::new(
        "risk",
        "Risk map",
        "unit cells with their risk level (red, orange, yellow, blue), score and factors",
        features,
    )
}

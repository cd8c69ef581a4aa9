//! The risk map of the loaded territory (engine: [`civgrid::risk::assess`]),
//! kept current on every facility or hazard write.
//!
//! Inputs gathered here: each cell's households (buildings by centroid, as
//! coverage counts them), the hazards and facilities of every region, and
//! the fire response: the earliest arrival of a fire station or micro fire
//! station by road ([`Responders::coverage`]) searched up to twice the
//! target time (beyond it the response factor is at its maximum anyway).
//! A cell in a region without roads has an unknown response.

use civgrid::cells::Cell;
use civgrid::network::NetworkError;
use civgrid::risk::{assess, CellExposure, Response, RiskConfig, RiskMap};
use civgrid::{FacilityKind, RiskLevel};
use geo::BoundingRect;
use geo_types::Rect;
use serde_json::json;

use crate::ogc::{self, Collection, Feature};
use crate::responders::{CoverageQuery, Responders};
use crate::state::Engine;

/// Facility kinds whose travel time is the fire response.
pub const FIRE_KINDS: [FacilityKind; 2] =
    [FacilityKind::FireStation, FacilityKind::MicroFireStation];

/// The risk map and what it was computed with.
#[derive(Debug, Default)]
pub struct RiskState {
    /// The formula's weights.
    pub config: RiskConfig,
    /// Each cell's fire response, in the engine's cell order.
    pub response: Vec<Response>,
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
        let empty = Self {
            config,
            response: Vec::new(),
            map: RiskMap::default(),
        };
        Ok(empty.refreshed(responders, cells, true)?.0)
    }

    /// The state after a write: the map recomputed (and the fire response
    /// when `facilities_changed`; else this one's, copied), and the lon/lat
    /// envelopes of the cells whose level or score changed. Built anew, so
    /// a snapshot's copy is never made only to be overwritten.
    ///
    /// # Errors
    /// [`NetworkError`] when a travel-time search fails.
    pub fn refreshed(
        &self,
        responders: &Responders,
        cells: &[Cell],
        facilities_changed: bool,
    ) -> Result<(Self, Vec<Rect<f64>>), NetworkError> {
        let response = if facilities_changed || self.response.len() != cells.len() {
            fire_response(responders, self.config.response.target_s)?
        } else {
            self.response.clone()
        };
        let exposure: Vec<CellExposure> = responders
            .cells()
            .iter()
            .zip(&response)
            .map(|(t, &response)| CellExposure {
                households: t.households,
                response,
            })
            .collect();
        let map = assess(
            &self.config,
            cells,
            &exposure,
            &responders.hazards(),
            &responders.facilities(),
        );
        let changed = cells
            .iter()
            .enumerate()
            .filter(|&(i, _)| {
                self.map.cells.get(i).is_none_or(|old| {
                    old.level != map.cells[i].level
                        || old.score.to_bits() != map.cells[i].score.to_bits()
                })
            })
            .filter_map(|(_, c)| c.geometry.bounding_rect())
            .collect();
        let next = Self {
            config: self.config.clone(),
            response,
            map,
        };
        Ok((next, changed))
    }
}

/// Each cell's earliest fire arrival, searched up to twice `target_s`.
fn fire_response(responders: &Responders, target_s: f64) -> Result<Vec<Response>, NetworkError> {
    let report = responders.coverage(&CoverageQuery {
        kinds: &FIRE_KINDS,
        limit_s: 2.0 * target_s.max(1.0),
        turnout_s: None,
        isochrones: false,
        buffer_m: 0.0,
    })?;
    let regions = responders.regions();
    Ok(responders
        .cells()
        .iter()
        .zip(report.eta_s)
        .map(
            |(t, eta)| match (eta, t.region.and_then(|r| regions[r].graph.as_ref())) {
                (Some(seconds), _) => Response::Eta { seconds },
                (None, Some(_)) => Response::Unreachable,
                (None, None) => Response::Unknown,
            },
        )
        .collect())
}

/// The risk map as features: each active cell with its level, score and
/// factors (`civgrid export risk`).
pub fn collection(engine: &Engine) -> Collection {
    let features = engine
        .cells
        .iter()
        .zip(&engine.risk.map.cells)
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

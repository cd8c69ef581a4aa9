//! `GET /api/v1/risk?lon=&lat=[&datum=]`: the risk of the unit cell holding
//! a point, with the hazards and factors behind it; `GET
//! /api/v1/hazards/{id}/impact`: the cells and communities within a
//! hazard's zone of influence, with their households and vulnerable places;
//! `GET /api/v1/risk/counts?level=community|subdistrict|district`: the
//! cells of each level in every area, and the highest level found.
//! The formula is in [`civgrid::risk`] (and docs/risk.md).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use civgrid::AdminLevel;
use civgrid::risk::{CellRisk, HazardReach};
use serde::Deserialize;
use serde_json::{Value, json};

use super::params;
use crate::error::{ServiceError, ServiceResult};
use crate::state::{AppState, Engine};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/risk", get(risk))
        .route("/risk/counts", get(counts))
        .route("/hazards/{id}/impact", get(impact))
}

/// Raw parameters: parsed by hand so that errors name the parameter.
#[derive(Debug, Default, Deserialize)]
struct RiskParams {
    lon: Option<String>,
    lat: Option<String>,
    datum: Option<String>,
}

/// 409 when the store has no unit cells yet.
fn require_cells(engine: &Engine) -> ServiceResult<()> {
    if engine.cells.is_empty() {
        return Err(ServiceError::Conflict(
            "there are no unit cells yet: run `civgrid cells` first, then restart the server"
                .into(),
        ));
    }
    Ok(())
}

async fn risk(
    State(state): State<AppState>,
    Query(q): Query<RiskParams>,
) -> ServiceResult<Json<Value>> {
    let p = params::point(q.lon.as_deref(), q.lat.as_deref(), q.datum.as_deref())?;
    let engine = state.engine();
    require_cells(&engine)?;
    let cell = engine
        .locator
        .locate(p)
        .cell
        .and_then(|c| engine.cells.binary_search_by_key(&c.code, |x| x.code).ok())
        .ok_or_else(|| {
            ServiceError::NotFound(format!(
                "no unit cell of the territory contains ({}, {})",
                p.x(),
                p.y()
            ))
        })?;
    let r = &engine.risk.map.cells[cell];
    Ok(Json(json!({
        "lon": p.x(),
        "lat": p.y(),
        "cell": r.code.to_string(),
        "community": r.community.to_string(),
        "level": r.level,
        "score": r.score,
        "floor": r.floor,
        "factors": factors(r),
        "hazards": r.hazards.iter().map(|h| reach(&engine, h)).collect::<Vec<_>>(),
    })))
}

/// The factors of a cell's score.
fn factors(r: &CellRisk) -> Value {
    json!({
        "hazard_term": r.hazard_term,
        "exposure": r.exposure_factor,
        "response": r.response_factor,
        "households": r.households,
        "vulnerable": r.vulnerable,
        "fire_response": r.response,
    })
}

/// A hazard reaching a cell, with its kind and name.
fn reach(engine: &Engine, h: &HazardReach) -> Value {
    let hazard = engine.responders.hazard(h.hazard);
    json!({
        "id": h.hazard,
        "kind": hazard.map(|x| x.kind.as_str()),
        "name": hazard.map(|x| x.name.as_str()),
        "level": h.level,
        "distance_m": h.distance_m,
        "influence": h.influence,
        "contribution": h.contribution,
    })
}

/// Raw parameters of `/risk/counts`.
#[derive(Debug, Default, Deserialize)]
struct CountsParams {
    level: Option<String>,
}

async fn counts(
    State(state): State<AppState>,
    Query(q): Query<CountsParams>,
) -> ServiceResult<Json<Value>> {
    let level = match q.level.as_deref().map(str::trim) {
        None | Some("community") => AdminLevel::Community,
        Some("subdistrict") => AdminLevel::Subdistrict,
        Some("district") => AdminLevel::District,
        Some(other) => {
            return Err(ServiceError::BadRequest(format!(
                "parameter level = {other:?} is not community, subdistrict or district"
            )));
        }
    };
    let engine = state.engine();
    require_cells(&engine)?;
    let areas: Vec<Value> = engine
        .risk
        .map
        .counts(level)
        .into_iter()
        .map(|(code, c)| {
            json!({
                "code": code.to_string(),
                "level": c.level,
                "red": c.red,
                "orange": c.orange,
                "yellow": c.yellow,
                "blue": c.blue,
            })
        })
        .collect();
    Ok(Json(json!({ "level": level, "areas": areas })))
}

async fn impact(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ServiceResult<Json<Value>> {
    let engine = state.engine();
    let hazard = id
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|id| engine.responders.hazard(id))
        .ok_or_else(|| ServiceError::NotFound(format!("no hazard with id {id:?}")))?;
    require_cells(&engine)?;
    let zone = engine.risk.config.zone(&hazard.kind);
    let reached = engine
        .risk
        .map
        .reach
        .get(&hazard.id)
        .map_or(&[][..], Vec::as_slice);
    let mut communities: BTreeMap<String, (usize, u64, usize)> = BTreeMap::new();
    let mut households = 0;
    let mut vulnerable = Vec::new();
    let cells: Vec<Value> = reached
        .iter()
        .map(|&i| {
            let r = &engine.risk.map.cells[i];
            let h = r.hazards.iter().find(|h| h.hazard == hazard.id);
            let entry = communities.entry(r.community.to_string()).or_default();
            entry.0 += 1;
            entry.1 += r.households;
            entry.2 += r.vulnerable.len();
            households += r.households;
            vulnerable.extend(r.vulnerable.iter().copied());
            json!({
                "code": r.code.to_string(),
                "community": r.community.to_string(),
                "level": r.level,
                "distance_m": h.map(|h| h.distance_m),
                "influence": h.map(|h| h.influence),
                "households": r.households,
                "vulnerable": r.vulnerable,
            })
        })
        .collect();
    let places: Vec<Value> = vulnerable
        .iter()
        .filter_map(|&id| engine.responders.facility(id))
        .map(|f| json!({ "id": f.id, "kind": f.kind, "name": f.name }))
        .collect();
    Ok(Json(json!({
        "hazard": { "id": hazard.id, "kind": hazard.kind, "name": hazard.name, "level": hazard.level() },
        "zone": { "radius_m": zone.radius_m, "decay": zone.decay },
        "households": households,
        "vulnerable": places,
        "communities": communities
            .into_iter()
            .map(|(code, (cells, households, vulnerable))| {
                json!({ "code": code, "cells": cells, "households": households, "vulnerable": vulnerable })
            })
            .collect::<Vec<_>>(),
        "cells": cells,
    })))
}

//! `GET /api/v1/risk?lon=&lat=[&datum=]`: the risk of the unit cell holding
//! a point, with the hazards and factors behind it; `GET
//! /api/v1/hazards/{id}/impact`: the cells, household grids and communities
//! within a hazard's zone of influence, with their households and
//! vulnerable places; `GET
//! /api/v1/risk/counts?level=grid|community|subdistrict|district`: the
//! cells of each level in every area, and the highest level found (a cell
//! counts in the household grid holding its point).
//! The formula is in [`civgrid::risk`] (and docs/risk.md).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use civgrid::cells::CellCode;
use civgrid::risk::{CellRisk, HazardReach, LevelCounts};
use civgrid::AdminLevel;
use serde::Deserialize;
use serde_json::{json, Value};

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
        Some("grid") => return grid_counts(&state),
        Some(other) => {
            return Err(ServiceError::BadRequest(format!(
                "parameter level = {other:?} is not grid, community, subdistrict or district"
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
        .map(|(code, c)| counts_json(&code.to_string(), &c))
        .collect();
    Ok(Json(json!({ "level": level, "areas": areas })))
}

/// Areas with their reached cells, households and vulnerable places.
fn tally(areas: BTreeMap<String, (usize, u64, usize)>) -> Vec<Value> {
    areas
        .into_iter()
        .map(|(code, (cells, households, vulnerable))| {
            json!({ "code": code, "cells": cells, "households": households, "vulnerable": vulnerable })
        })
        .collect()
}

fn counts_json(code: &str, c: &LevelCounts) -> Value {
    json!({
        "code": code,
        "level": c.level,
        "red": c.red,
        "orange": c.orange,
        "yellow": c.yellow,
        "blue": c.blue,
    })
}

/// The household grid of each cell (the grid holding the cell's point), in
/// the order of the risk map's cells.
fn grid_of_cells(engine: &Engine) -> Vec<Option<CellCode>> {
    engine
        .cells
        .iter()
        .map(|c| {
            c.point()
                .and_then(|p| engine.grids.index.locate(p))
                .map(|g| g.code)
        })
        .collect()
}

/// `/risk/counts?level=grid`: cells per level in every household grid
/// (a cell counts in the grid holding its point).
fn grid_counts(state: &AppState) -> ServiceResult<Json<Value>> {
    let engine = state.engine();
    require_cells(&engine)?;
    if engine.grids.index.grids().is_empty() {
        return Err(ServiceError::Conflict(
            "no household grids yet: run `civgrid grids` first".into(),
        ));
    }
    let mut per_grid: BTreeMap<CellCode, LevelCounts> = BTreeMap::new();
    for (r, grid) in engine.risk.map.cells.iter().zip(grid_of_cells(&engine)) {
        if let Some(g) = grid {
            per_grid.entry(g).or_default().add(r.level);
        }
    }
    let areas: Vec<Value> = per_grid
        .iter()
        .map(|(code, c)| counts_json(&code.to_string(), c))
        .collect();
    Ok(Json(json!({ "level": "grid", "areas": areas })))
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
        .reach(&engine.risk.config, hazard, &engine.cells);
    let mut communities: BTreeMap<String, (usize, u64, usize)> = BTreeMap::new();
    let mut grids: BTreeMap<String, (usize, u64, usize)> = BTreeMap::new();
    let grid_of = grid_of_cells(&engine);
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
            if let Some(g) = grid_of[i] {
                let entry = grids.entry(g.to_string()).or_default();
                entry.0 += 1;
                entry.1 += r.households;
                entry.2 += r.vulnerable.len();
            }
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
        "communities": tally(communities),
        "grids": tally(grids),
        "cells": cells,
    })))
}

//! `GET /api/v1/coverage?kind=fire_station&minutes=5[&turnout_s=][&isochrones=true][&buffer_m=50][&bbox=][&limit=][&offset=]`:
//! which unit cells the facilities reach in time (DESIGN standard 5).
//!
//! Each active unit cell is a target at its interior point, standing for
//! the households of the buildings whose centroid lies in it, and counted
//! as high-risk when the highest level of the hazards meeting it is red or
//! orange. A cell is covered when some facility of the kinds arrives within
//! `minutes` of dispatch: turn-out (the kind's default, or `turnout_s` for
//! every kind) plus the drive along the roads of its region. The answer
//! gives the covered shares of cells, households and high-risk cells, the
//! uncovered cells as a GeoJSON FeatureCollection and, with
//! `isochrones=true`, each facility's service area (the roads reached,
//! buffered by `buffer_m`) as a MultiPolygon.
//!
//! A province leaves a million cells uncovered: the collection lists a
//! page of them, most urgent first (the highest hazard level meeting the
//! cell, then the most households, then by code), `limit` (default
//! [`DEFAULT_LIMIT`]) from `offset`, of those meeting `bbox` when given
//! (the map's view). `numberMatched` says how many there are in all.
//!
//! The search is kept per question on the engine snapshot ([`Memo`])
//! until a facility or hazard write: asking again, for another page or
//! view, only lists cells.
//!
//! [`Memo`]: crate::live::Memo

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use civgrid::network::Share;
use civgrid::FacilityKind;
use geo::{BoundingRect, Intersects};
use geo_types::Rect;
use serde::Deserialize;
use serde_json::{json, Value};

use super::params;
use crate::error::{ServiceError, ServiceResult};
use crate::responders::{CoverageQuery, CoverageReport};
use crate::state::{AppState, Engine};

/// Default buffer around reached roads for service areas, metres.
pub const DEFAULT_BUFFER_M: f64 = 50.0;

/// Uncovered cells listed when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 1_000;

/// The most uncovered cells one answer lists.
pub const MAX_LIMIT: usize = 10_000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/coverage", get(coverage))
}

/// Raw parameters: parsed by hand so that errors name the parameter.
#[derive(Debug, Default, Deserialize)]
struct CoverageParams {
    kind: Option<String>,
    minutes: Option<String>,
    turnout_s: Option<String>,
    isochrones: Option<String>,
    buffer_m: Option<String>,
    bbox: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// A checked coverage question.
struct Asked {
    kinds: Vec<FacilityKind>,
    minutes: f64,
    turnout_s: Option<f64>,
    isochrones: bool,
    buffer_m: f64,
    /// Which uncovered cells to list.
    page: Page,
}

/// The uncovered cells asked for: those meeting `bbox`, `limit` from `offset`.
struct Page {
    bbox: Option<Rect<f64>>,
    limit: usize,
    offset: usize,
}

impl Asked {
    /// The search in one canonical line: the key of kept searches (the
    /// page is not part of it).
    fn question(&self) -> String {
        let kinds: Vec<&str> = self.kinds.iter().map(|k| k.as_str()).collect();
        format!(
            "kinds={} minutes={} turnout_s={:?} isochrones={} buffer_m={}",
            kinds.join(","),
            self.minutes,
            self.turnout_s,
            self.isochrones,
            self.buffer_m
        )
    }

    fn parse(q: &CoverageParams) -> ServiceResult<Self> {
        let optional = |name, v: Option<&str>, range| {
            v.map(|v| params::number(name, Some(v), range)).transpose()
        };
        Ok(Self {
            kinds: params::kinds(q.kind.as_deref(), &[FacilityKind::FireStation])?,
            minutes: optional("minutes", q.minutes.as_deref(), 1.0..=60.0)?.unwrap_or(5.0),
            turnout_s: optional("turnout_s", q.turnout_s.as_deref(), 0.0..=600.0)?,
            isochrones: params::flag("isochrones", q.isochrones.as_deref())?,
            buffer_m: optional("buffer_m", q.buffer_m.as_deref(), 1.0..=1000.0)?
                .unwrap_or(DEFAULT_BUFFER_M),
            page: Page {
                bbox: q.bbox.as_deref().map(params::bbox).transpose()?,
                limit: params::count("limit", q.limit.as_deref(), DEFAULT_LIMIT, 0..=MAX_LIMIT)?,
                offset: params::count("offset", q.offset.as_deref(), 0, 0..=usize::MAX)?,
            },
        })
    }
}

fn share(s: Share) -> Value {
    json!({ "covered": s.covered, "total": s.total, "share": s.ratio() })
}

/// The search, on the engine (a bounded Dijkstra per region, the regions
/// in parallel).
fn search(engine: &Engine, a: &Asked) -> ServiceResult<CoverageReport> {
    let responders = &engine.responders;
    if responders.cells().is_empty() {
        return Err(ServiceError::Conflict(
            "there are no unit cells yet: run `civgrid cells` first, then restart the server"
                .into(),
        ));
    }
    if responders.regions().iter().all(|r| r.graph.is_none()) {
        return Err(ServiceError::Conflict(
            "coverage needs roads, and none are loaded: import a road layer (OSM highways or `roads` with a class), then restart the server".into(),
        ));
    }
    responders
        .coverage(&CoverageQuery {
            kinds: &a.kinds,
            limit_s: a.minutes * 60.0,
            turnout_s: a.turnout_s,
            isochrones: a.isochrones,
            buffer_m: a.buffer_m,
        })
        .map_err(|e| ServiceError::Internal(format!("coverage failed: {e}")))
}

/// The uncovered cells of the page, as a FeatureCollection with how many
/// match and how many are listed.
fn uncovered(engine: &Engine, report: &CoverageReport, page: &Page) -> Value {
    // The targets are in the engine's cell order.
    let targets = engine.responders.cells();
    let matching = report.uncovered.iter().copied().filter(|&i| {
        page.bbox.is_none_or(|b| {
            let g = &engine.cells[i].geometry;
            g.bounding_rect().is_some_and(|r| r.intersects(&b)) && g.intersects(&b)
        })
    });
    let mut matched = 0;
    let mut features = Vec::new();
    for i in matching {
        if (page.offset..page.offset.saturating_add(page.limit)).contains(&matched) {
            let t = &targets[i];
            features.push(json!({
                "type": "Feature",
                "id": t.code.to_string(),
                "geometry": geojson::Geometry::from(&engine.cells[i].geometry),
                "properties": {
                    "code": t.code.to_string(),
                    "community": t.community.to_string(),
                    "households": t.households,
                    "risk": t.level.map(civgrid::RiskLevel::as_str),
                },
            }));
        }
        matched += 1;
    }
    json!({
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": features.len(),
        "features": features,
    })
}

/// The answer to `a` from its search.
fn answer(engine: &Engine, report: &CoverageReport, a: &Asked) -> Value {
    let responders = &engine.responders;
    let mut out = json!({
        "kinds": a.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "minutes": a.minutes,
        "turnout_s": a
            .kinds
            .iter()
            .map(|&k| {
                let s = a.turnout_s.unwrap_or_else(|| responders.turnout().seconds(k));
                (k.as_str().to_owned(), json!(s))
            })
            .collect::<serde_json::Map<_, _>>(),
        "facilities": report.facilities,
        "facilities_far_from_roads": report.unsnapped,
        "cells_without_roads": report.cells_without_roads,
        "cells": share(report.cells),
        "households": share(report.households),
        "high_risk_cells": share(report.high_risk),
        "uncovered": uncovered(engine, report, &a.page),
    });
    if a.isochrones {
        let features: Vec<Value> = report
            .isochrones
            .iter()
            .map(|(f, area)| {
                json!({
                    "type": "Feature",
                    "id": f.id.to_string(),
                    "geometry": geojson::Geometry::from(area),
                    "properties": { "id": f.id, "kind": f.kind.as_str(), "name": f.name },
                })
            })
            .collect();
        out["isochrones"] = json!({ "type": "FeatureCollection", "features": features });
    }
    out
}

async fn coverage(
    State(state): State<AppState>,
    Query(q): Query<CoverageParams>,
) -> ServiceResult<Response> {
    let asked = Asked::parse(&q)?;
    let body = tokio::task::spawn_blocking(move || {
        let engine = state.engine();
        let report = engine
            .coverage
            .get_or(&asked.question(), || search(&engine, &asked).map(Arc::new))?;
        serde_json::to_vec(&answer(&engine, &report, &asked))
            .map_err(|e| ServiceError::Internal(format!("coverage answer: {e}")))
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("coverage worker failed: {e}")))??;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

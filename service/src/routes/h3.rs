//! `GET /api/v1/h3?resolution=9&value=households|area_m2|cells|high_risk`:
//! the H3 view of the unit cells for analytics (issue 3): a per-cell value
//! summed into the H3 hexagons (h3o) holding each cell's representative
//! point, as a GeoJSON FeatureCollection of hexagons with `h3`, `cells`
//! (unit cells in the hexagon) and `sum`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use civgrid::cells::aggregate_h3;
use geo_types::{LineString, Polygon};
use serde::Deserialize;
use serde_json::{json, Value};

use super::params;
use crate::error::{ServiceError, ServiceResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/h3", get(h3))
}

/// Raw parameters: parsed by hand so that errors name the parameter.
#[derive(Debug, Default, Deserialize)]
struct H3Params {
    resolution: Option<String>,
    value: Option<String>,
}

/// The per-cell values that can be summed.
const VALUES: [&str; 4] = ["households", "area_m2", "cells", "high_risk"];

async fn h3(State(state): State<AppState>, Query(q): Query<H3Params>) -> ServiceResult<Response> {
    let resolution = params::count("resolution", q.resolution.as_deref(), 9, 0..=15)?;
    let resolution = h3o::Resolution::try_from(resolution as u8)
        .map_err(|e| ServiceError::BadRequest(format!("parameter resolution: {e}")))?;
    let value = q.value.as_deref().unwrap_or("households").trim();
    if !VALUES.contains(&value) {
        return Err(ServiceError::BadRequest(format!(
            "parameter value = {value:?} is not one of {}",
            VALUES.join(", ")
        )));
    }
    let engine = state.engine();
    if engine.cells.is_empty() {
        return Err(ServiceError::Conflict(
            "there are no unit cells yet: run `civgrid cells` first, then restart the server"
                .into(),
        ));
    }
    // Coverage targets are in the engine's cell order.
    let targets = engine.responders.cells();
    let values: Vec<f64> = engine
        .cells
        .iter()
        .zip(targets.iter())
        .map(|(c, t)| match value {
            "households" => t.households as f64,
            "area_m2" => c.area_m2,
            "high_risk" => f64::from(u8::from(t.high_risk())),
            _ => 1.0,
        })
        .collect();
    let features: Vec<Value> = aggregate_h3(&engine.cells, &values, resolution)
        .into_iter()
        .map(|(hex, a)| {
            let ring: LineString<f64> = hex
                .boundary()
                .iter()
                .map(|ll| (ll.lng(), ll.lat()))
                .collect();
            let mut ring = ring;
            ring.close();
            json!({
                "type": "Feature",
                "id": hex.to_string(),
                "geometry": geojson::Geometry::from(&Polygon::new(ring, vec![])),
                "properties": { "h3": hex.to_string(), "cells": a.cells, "sum": a.sum },
            })
        })
        .collect();
    let body = json!({
        "type": "FeatureCollection",
        "resolution": u8::from(resolution),
        "value": value,
        "features": features,
    });
    Ok(super::geojson(StatusCode::OK, &body))
}

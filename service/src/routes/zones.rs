//! Overlay zones over HTTP:
//!
//! - `GET /api/v1/zones`: every layer with its validation report: zones,
//!   codes used twice and, for a layer that claims to be complete, its gaps
//!   in the territory and the overlaps of its zones (m², over 1 m²);
//! - `GET /api/v1/zones/{layer}`: the layer's zones as a GeoJSON
//!   FeatureCollection, by code (ids `layer:code`, as in the OGC collection
//!   `zones`).
//!
//! `GET /api/v1/locate` answers every zone holding the point.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::{ServiceError, ServiceResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/zones", get(layers))
        .route("/zones/{layer}", get(layer))
}

async fn layers(State(state): State<AppState>) -> Json<Value> {
    let engine = state.engine();
    let z = &engine.zones;
    let layers: Vec<Value> = z
        .zones
        .layers()
        .iter()
        .zip(&z.reports)
        .map(|(l, report)| match report {
            Ok(r) => json!({
                "layer": l.name,
                "complete": l.complete,
                "zones": l.zones().len(),
                "valid": r.is_valid(),
                "duplicate_codes": r.duplicate_codes,
                "overlaps": r.overlaps,
                "gaps": r.gaps,
            }),
            Err(e) => json!({
                "layer": l.name,
                "complete": l.complete,
                "zones": l.zones().len(),
                "valid": false,
                "error": e,
            }),
        })
        .collect();
    Json(json!({ "layers": layers }))
}

async fn layer(State(state): State<AppState>, Path(name): Path<String>) -> ServiceResult<Response> {
    let engine = state.engine();
    let features: Vec<Value> = engine
        .collections
        .zones
        .features()
        .filter(|f| f.properties.get("layer").and_then(Value::as_str) == Some(name.as_str()))
        .map(|f| f.to_json())
        .collect();
    if features.is_empty() {
        let known: Vec<&str> = engine
            .zones
            .zones
            .layers()
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        return Err(ServiceError::NotFound(format!(
            "no zone layer {name:?} (layers: {})",
            if known.is_empty() {
                "none imported".to_owned()
            } else {
                known.join(", ")
            }
        )));
    }
    let body = json!({"type": "FeatureCollection", "features": features});
    Ok(super::geojson(StatusCode::OK, &body))
}

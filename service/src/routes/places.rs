//! `GET /api/v1/places`: the territory's places, most cells first (see
//! [`crate::tiles::places`]); the web map opens on the first.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::ServiceResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/places", get(places))
}

async fn places(State(state): State<AppState>) -> ServiceResult<Json<Value>> {
    let places = tokio::task::spawn_blocking(move || {
        let engine = state.engine();
        state.tiles.places(&engine)
    })
    .await
    .map_err(|e| crate::error::ServiceError::Internal(format!("places stopped: {e}")))?;
    Ok(Json(json!({ "places": places })))
}

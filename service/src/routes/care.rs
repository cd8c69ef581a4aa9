//! `GET /api/v1/care[?grid=]`: people cared for by grid workers (特殊人群),
//! as counts per household grid and group — the only form in which civgrid
//! holds them (see [`crate::care`]).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use civgrid::CellCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::params;
use crate::error::ServiceResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/care", get(care))
}

/// Raw parameters: parsed by hand so that errors name the parameter.
#[derive(Debug, Default, Deserialize)]
struct CareParams {
    grid: Option<String>,
}

async fn care(
    State(state): State<AppState>,
    Query(q): Query<CareParams>,
) -> ServiceResult<Json<Value>> {
    let grid: Option<CellCode> = params::parsed("grid", q.grid.as_deref())?;
    let counts = state.store.load_care_counts().await?;
    let mut by_grid: BTreeMap<CellCode, BTreeMap<String, u32>> = BTreeMap::new();
    for c in counts
        .into_iter()
        .filter(|c| grid.is_none_or(|g| g == c.grid))
    {
        by_grid.entry(c.grid).or_default().insert(c.group, c.people);
    }
    let grids: Vec<Value> = by_grid
        .into_iter()
        .map(|(code, groups)| {
            json!({
                "grid": code.to_string(),
                "total": groups.values().map(|&n| u64::from(n)).sum::<u64>(),
                "groups": groups,
            })
        })
        .collect();
    Ok(Json(json!({ "grids": grids })))
}

//! HTTP routes: one module per resource, merged in [`app`].

mod assign;
mod care;
mod coverage;
mod features;
mod grids;
mod h3;
mod health;
mod hotspots;
mod locate;
mod nearest;
mod ogc;
pub mod params;
mod risk;
mod tiles;

use axum::http::StatusCode;
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::error::problem;
use crate::state::AppState;

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .nest("/api/v1", locate::routes())
        .nest("/api/v1", assign::routes())
        .nest("/api/v1", hotspots::routes())
        .nest("/api/v1", care::routes())
        .nest("/api/v1", nearest::routes())
        .nest("/api/v1", coverage::routes())
        .nest("/api/v1", features::routes())
        .nest("/api/v1", h3::routes())
        .nest("/api/v1", grids::routes())
        .nest("/api/v1", risk::routes())
        .nest("/ogc", ogc::routes())
        .merge(tiles::routes())
        .fallback(|| async { problem(StatusCode::NOT_FOUND, "no such endpoint; see /health") })
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

//! HTTP routes: one module per resource, merged in [`app`].

mod coverage;
mod features;
mod grids;
mod h3;
mod health;
mod locate;
mod nearest;
mod ogc;
pub mod params;
mod risk;
mod tiles;
mod web;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::error::{problem, ServiceError, ServiceResult};
use crate::state::AppState;

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .nest("/api/v1", locate::routes())
        .nest("/api/v1", nearest::routes())
        .nest("/api/v1", coverage::routes())
        .nest("/api/v1", features::routes())
        .nest("/api/v1", h3::routes())
        .nest("/api/v1", grids::routes())
        .nest("/api/v1", risk::routes())
        .nest("/ogc", ogc::routes())
        .merge(tiles::routes())
        .merge(web::routes())
        .fallback(|| async { problem(StatusCode::NOT_FOUND, "no such endpoint; see /health") })
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// An answer that a client may keep and revalidate: `body` with its
/// `Content-Type`, the strong `etag` (quoted) and `Cache-Control:
/// no-cache`; 304 without a body when `If-None-Match` names the tag (or `*`).
fn tagged(
    headers: &HeaderMap,
    etag: &str,
    content_type: &'static str,
    body: impl IntoResponse,
) -> ServiceResult<Response> {
    let tag = HeaderValue::from_str(etag)
        .map_err(|e| ServiceError::Internal(format!("bad ETag: {e}")))?;
    let cache_control = HeaderValue::from_static("no-cache");
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        });
    if matches {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, tag), (header::CACHE_CONTROL, cache_control)],
        )
            .into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::ETAG, tag),
            (header::CACHE_CONTROL, cache_control),
        ],
        body,
    )
        .into_response())
}

//! HTTP routes: one module per resource, merged in [`app`] under the
//! service's layers: metrics, the read guard, body limits, time limits,
//! and problem+json for every error (see [`problem_bodies`]).

mod assign;
mod audit;
mod care;
pub(crate) mod components;
mod coverage;
pub(crate) mod features;
pub(crate) mod grids;
mod h3;
mod health;
mod hotspots;
mod imports;
mod locate;
mod nearest;
mod ogc;
pub mod params;
mod places;
mod risk;
mod tiles;
mod web;
mod zones;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::error::{problem, ServiceError, ServiceResult};
use crate::state::AppState;
use crate::{auth, metrics};

/// Largest request body by default: 16 MiB (a county's grids as GeoJSON).
pub const DEFAULT_BODY_LIMIT: usize = 16 << 20;

pub use imports::DEFAULT_IMPORT_LIMIT;

/// Longest time a read may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let reads = Router::new()
        .nest("/api/v1", locate::routes())
        .nest("/api/v1", assign::routes())
        .nest("/api/v1", hotspots::routes())
        .nest("/api/v1", care::routes())
        .nest("/api/v1", components::routes())
        .nest("/api/v1", zones::routes())
        .nest("/api/v1", nearest::routes())
        .nest("/api/v1", coverage::routes())
        .nest("/api/v1", features::routes())
        .nest("/api/v1", h3::routes())
        .nest("/api/v1", grids::routes())
        .nest("/api/v1", risk::routes())
        .nest("/api/v1", places::routes())
        .nest("/api/v1", audit::routes())
        .nest("/api/v1", imports::routes(state.config.max_import_bytes))
        .nest("/ogc", ogc::routes())
        .merge(tiles::routes())
        .route("/metrics", get(metrics::endpoint))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::guard_reads,
        ));
    Router::new()
        .merge(health::routes())
        .route("/openapi.json", get(openapi))
        // The page and its files hold no data: open like /health.
        .merge(web::routes())
        .merge(reads)
        .fallback(|| async { problem(StatusCode::NOT_FOUND, "no such endpoint; see /health") })
        .layer(middleware::from_fn_with_state(
            state.config.max_body_bytes,
            problem_bodies,
        ))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.config.timeout,
            time_limit,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(middleware::from_fn(run_to_completion))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `GET /openapi.json`: the document, built once.
async fn openapi() -> Response {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let text = DOCUMENT.get_or_init(|| crate::openapi::document().to_string());
    ([(header::CONTENT_TYPE, "application/json")], text.as_str()).into_response()
}

/// Answers 503 when a read takes longer than `limit`. Writes are not cut
/// short (see [`run_to_completion`]); the store's own time limits bound them.
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let started = std::time::Instant::now();
    // A response that comes back in the same wake-up as the deadline (the
    // timer fires at millisecond ticks) is late all the same.
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) if started.elapsed() <= limit => response,
        _ => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "the request took longer than this server's time limit of {} s; try again or narrow it",
                limit.as_secs_f64()
            ),
        ),
    }
}

/// Runs a write (any method but GET and HEAD) to its end on a task of its
/// own, whatever its client does. A client that hangs up makes the server
/// drop the connection's future; a write dropped between its store commit
/// and its engine update would be stored and audited but never served (and
/// a PostGIS transaction dropped mid-way would return its connection to
/// the pool in the middle of it). Reads may be dropped: they change nothing.
async fn run_to_completion(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down; try again shortly",
        ),
    }
}

/// Longest error body kept as a problem's `detail`.
const MAX_DETAIL: usize = 4096;

/// Turns an error answered in plain text (axum's rejections: a body over
/// the limit, a missing content type, a bad path) into problem+json with
/// the text as its detail, so that every error has one form.
async fn problem_bodies(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // Handlers answer errors as problem+json, or as JSON on purpose (a
    // refused grid edit's report); only plain text and empty bodies are
    // axum's own.
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|t| t.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_DETAIL)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let detail = match status {
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "the request body is larger than this server's limit of {} bytes ({} MiB)",
            limit,
            limit >> 20
        ),
        _ if text.is_empty() => status.canonical_reason().unwrap_or("error").to_owned(),
        _ => text,
    };
    let mut answer = problem(status, &detail);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

/// A GeoJSON answer (`application/geo+json`) with `status`.
/// Applies a stored write to the engine ([`AppState::apply`]); `what` says
/// what was stored ("facility 12 was updated"), for the error when the
/// engine cannot follow: the store and the engine then disagree until the
/// next start.
///
/// # Errors
/// [`ServiceError::Internal`] saying so.
pub(crate) fn follow_stored(
    state: &AppState,
    update: crate::state::Update,
    what: &dyn Fn() -> String,
) -> ServiceResult<()> {
    state.apply(update).map_err(|e| {
        ServiceError::Internal(format!(
            "the {} in the store but the in-memory indexes could not follow ({e}); restart the server to reload",
            what()
        ))
    })
}

fn geojson(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/geo+json")],
        body.to_string(),
    )
        .into_response()
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

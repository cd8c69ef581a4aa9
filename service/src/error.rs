//! Service errors and their HTTP form: `application/problem+json` (RFC 9457).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// An error answered over HTTP.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The request is malformed; `detail` says how.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing matches; `detail` says what was looked for.
    #[error("{0}")]
    NotFound(String),
    /// The request needs the writers' bearer token (answered with
    /// `WWW-Authenticate`).
    #[error("{0}")]
    Unauthorized(String),
    /// The request is refused whatever the credentials (writes disabled).
    #[error("{0}")]
    Forbidden(String),
    /// The request's content goes past a bound of the server (an import
    /// that would unpack or read beyond its bounds); `detail` names the
    /// bound and its value.
    #[error("{0}")]
    TooLarge(String),
    /// The request is well formed but the loaded data cannot answer it
    /// (no unit cells, no roads); `detail` says what to do.
    #[error("{0}")]
    Conflict(String),
    /// A write was stored but the in-memory state could not follow.
    #[error("{0}")]
    Internal(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Result of service operations.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let (status, detail) = match &self {
            Self::BadRequest(d) => (StatusCode::BAD_REQUEST, d.clone()),
            Self::NotFound(d) => (StatusCode::NOT_FOUND, d.clone()),
            Self::Unauthorized(d) => {
                let mut r = problem(StatusCode::UNAUTHORIZED, d);
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static(r#"Bearer realm="civgrid writers""#),
                );
                return r;
            }
            Self::Forbidden(d) => (StatusCode::FORBIDDEN, d.clone()),
            Self::Conflict(d) => (StatusCode::CONFLICT, d.clone()),
            Self::TooLarge(d) => (StatusCode::PAYLOAD_TOO_LARGE, d.clone()),
            Self::Internal(d) => {
                tracing::error!("{d}");
                (StatusCode::INTERNAL_SERVER_ERROR, d.clone())
            }
            Self::Store(e @ StoreError::EmptyImport { .. }) => {
                (StatusCode::BAD_REQUEST, e.to_string())
            }
            Self::Store(e @ StoreError::Full { .. }) => {
                tracing::error!(error = %e, "store full");
                (StatusCode::INSUFFICIENT_STORAGE, e.to_string())
            }
            Self::Store(e) => {
                tracing::error!(error = %e, "store error");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the store is not available; try again shortly".to_owned(),
                )
            }
        };
        problem(status, &detail)
    }
}

/// A problem+json response.
pub fn problem(status: StatusCode, detail: &str) -> Response {
    let body = json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

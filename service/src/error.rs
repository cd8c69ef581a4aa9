//! Service errors and their HTTP form: `application/problem+json` (RFC 9457).

use axum::http::{StatusCode, header};
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

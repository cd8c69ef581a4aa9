//! `GET /api/v1/audit`: the audit log of writes, newest first, for admins.
//!
//! Query: `limit` (default 100, at most 1,000), `offset`, and filters
//! `layer`, `actor`, `action`.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::params;
use crate::auth::{Administration, Writer};
use crate::error::ServiceResult;
use crate::state::AppState;

/// Entries per page without `limit`.
const DEFAULT_LIMIT: usize = 100;
/// The largest `limit`.
const MAX_LIMIT: usize = 1000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(audit))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    limit: Option<String>,
    offset: Option<String>,
    layer: Option<String>,
    actor: Option<String>,
    action: Option<String>,
}

async fn audit(
    _admin: Writer<Administration>,
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> ServiceResult<Json<Value>> {
    let limit = params::count("limit", q.limit.as_deref(), DEFAULT_LIMIT, 1..=MAX_LIMIT)?;
    let offset = params::count("offset", q.offset.as_deref(), 0, 0..=usize::MAX)?;
    let matches = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    let parse = |s: &Option<String>| {
        s.as_deref().map_or(Value::Null, |s| {
            serde_json::from_str(s).unwrap_or(Value::Null)
        })
    };
    let log = state.store.load_audit().await?;
    let selected: Vec<_> = log
        .iter()
        .rev()
        .filter(|r| {
            matches(&q.layer, &r.layer)
                && matches(&q.actor, &r.actor.name)
                && matches(&q.action, &r.action)
        })
        .collect();
    let entries: Vec<Value> = selected
        .iter()
        .skip(offset)
        .take(limit)
        .map(|r| {
            json!({
                "id": r.id,
                "at": chrono::DateTime::from_timestamp(r.at, 0).map(|t| t.to_rfc3339()),
                "actor": r.actor.name,
                "role": r.actor.role,
                "action": r.action,
                "layer": r.layer,
                "feature_id": r.feature_id,
                "community": r.community,
                "before": parse(&r.before),
                "after": parse(&r.after),
            })
        })
        .collect();
    Ok(Json(json!({ "total": selected.len(), "entries": entries })))
}

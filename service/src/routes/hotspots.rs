//! `GET /api/v1/hotspots?by=grid|cell&from=&to=[&class=][&top=10][&rank=count|growth]`:
//! the unit cells or household grids with the most incidents in a time
//! window, or with the largest growth over the window of the same length
//! just before, with counts per class.
//!
//! - `from`, `to`: the window `[from, to)`, RFC 3339 with an offset or a
//!   date (`2026-06-01`, midnight in the working calendar's offset); required.
//! - `class`: only incidents of this kind or class code.
//! - `top`: how many places, 1..=1000, default 10.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use civgrid::cells::CellCode;
use civgrid::hotspots::{hotspots, HotspotQuery, Placed, Rank};
use serde::Deserialize;
use serde_json::{json, Value};

use super::params;
use crate::error::{ServiceError, ServiceResult};
use crate::state::AppState;

/// The largest `top`.
const MAX_TOP: usize = 1000;
/// `top` without the parameter.
const DEFAULT_TOP: usize = 10;

pub fn routes() -> Router<AppState> {
    Router::new().route("/hotspots", get(hotspots_route))
}

/// Raw parameters: parsed by hand so that errors name the parameter.
#[derive(Debug, Default, Deserialize)]
struct HotspotParams {
    by: Option<String>,
    class: Option<String>,
    from: Option<String>,
    to: Option<String>,
    top: Option<String>,
    rank: Option<String>,
}

/// A time parameter: RFC 3339, or a date at midnight in `zone`.
fn instant(name: &str, v: Option<&str>, zone: FixedOffset) -> ServiceResult<DateTime<FixedOffset>> {
    let v = v
        .map(str::trim)
        .ok_or_else(|| ServiceError::BadRequest(format!("missing parameter {name}")))?;
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t);
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_time(NaiveTime::MIN).and_local_timezone(zone).single())
        .ok_or_else(|| {
            ServiceError::BadRequest(format!(
                "parameter {name} = {v:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time with a UTC offset"
            ))
        })
}

async fn hotspots_route(
    State(state): State<AppState>,
    Query(q): Query<HotspotParams>,
) -> ServiceResult<Json<Value>> {
    let by_grid = match q.by.as_deref().map(str::trim) {
        None | Some("cell") => false,
        Some("grid") => true,
        Some(other) => {
            return Err(ServiceError::BadRequest(format!(
                "parameter by = {other:?}: expected cell or grid"
            )))
        }
    };
    let rank = match q.rank.as_deref().map(str::trim) {
        None | Some("count") => Rank::Count,
        Some("growth") => Rank::Growth,
        Some(other) => {
            return Err(ServiceError::BadRequest(format!(
                "parameter rank = {other:?}: expected count or growth"
            )))
        }
    };
    let top = params::count("top", q.top.as_deref(), DEFAULT_TOP, 1..=MAX_TOP)?;
    let zone = state.config.assign.calendar.zone();
    let from = instant("from", q.from.as_deref(), zone)?;
    let to = instant("to", q.to.as_deref(), zone)?;
    if to <= from {
        return Err(ServiceError::BadRequest(format!(
            "parameters from, to: the window {from} .. {to} is empty"
        )));
    }
    let class = q.class.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let engine = state.engine();
    let placed: Vec<Placed<'_, CellCode>> = engine
        .incidents
        .iter()
        .filter_map(|i| {
            Some(Placed {
                place: if by_grid { i.grid? } else { i.cell? },
                class: &i.kind,
                time_unix_s: i.time_unix_s,
            })
        })
        .collect();
    let query = HotspotQuery {
        class,
        from_unix_s: from.timestamp(),
        to_unix_s: to.timestamp(),
        rank,
        top,
    };
    let found = hotspots(&placed, &query);
    let previous_from = from - (to - from);
    let taxonomy = &state.config.assign.taxonomy;
    let class_name = class
        .and_then(|c| taxonomy.lookup(None, c).ok())
        .map(|c| c.name.clone());
    Ok(Json(json!({
        "by": if by_grid { "grid" } else { "cell" },
        "class": class,
        "class_name": class_name,
        "from": from.to_rfc3339(),
        "to": to.to_rfc3339(),
        "previous_from": previous_from.to_rfc3339(),
        "rank": rank,
        "top": top,
        "places": found.iter().map(|h| json!({
            "code": h.place.to_string(),
            "count": h.count,
            "previous": h.previous,
            "growth": h.growth,
            "by_class": h.by_class,
        })).collect::<Vec<_>>(),
    })))
}

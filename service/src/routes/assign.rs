//! `POST /api/v1/assign`: from a reported point and a class code to the
//! unit cell and grid, the grid worker and leader, the overlay zones
//! holding the point (police beat, fire district…), the responsible
//! department, the deadline on the working calendar, the escalation level
//! and the nearest responders of the class's kinds.
//!
//! Body (JSON): `lon`, `lat` (numbers), `datum` (`gcj02`/`bd09`, optional),
//! `class` (4 digits), `kind` (`component`/`event`, needed only when both
//! have the code), `time` (RFC 3339 with an offset; default now), `level`
//! (1–3 or urgent/important/normal; default normal), `now` (RFC 3339: the
//! moment the escalation is judged at; default now), `k` (responders,
//! 1–100, default 3). Nothing is stored: the calling system owns the case.
//! The worker and leader are given only to callers with a token.

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset};
use civgrid::assign::{CaseLevel, ClassKind};
use civgrid::{FacilityKind, NearestQuery};
use geo_types::Point;
use serde::Deserialize;
use serde_json::{json, Value};

use super::locate::{add_people, chain_json, locate_in_territory};
use super::params;
use crate::auth::Reader;
use crate::error::{ServiceError, ServiceResult};
use crate::state::{AppState, Engine};

/// The largest `k`.
const MAX_K: usize = 100;
/// `k` when the body has none.
const DEFAULT_K: usize = 3;

pub fn routes() -> Router<AppState> {
    Router::new().route("/assign", post(assign))
}

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    lon: f64,
    lat: f64,
    datum: Option<String>,
    class: String,
    kind: Option<String>,
    time: Option<String>,
    level: Option<Value>,
    now: Option<String>,
    k: Option<usize>,
}

fn time(
    name: &str,
    v: Option<&str>,
    now: DateTime<FixedOffset>,
) -> ServiceResult<DateTime<FixedOffset>> {
    v.map_or(Ok(now), |s| {
        DateTime::parse_from_rfc3339(s.trim()).map_err(|_| {
            ServiceError::BadRequest(format!(
                "{name} = {s:?} is not an RFC 3339 time with a UTC offset (e.g. 2026-09-23T10:00:00+08:00)"
            ))
        })
    })
}

/// A request validated into domain values.
struct Request {
    point: Point<f64>,
    kind: Option<ClassKind>,
    level: CaseLevel,
    k: usize,
}

fn parse_request(b: &AssignBody) -> ServiceResult<Request> {
    let point = params::lonlat(b.lon, b.lat, b.datum.as_deref())?;
    let kind: Option<ClassKind> = b
        .kind
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(ServiceError::BadRequest)?;
    let level: CaseLevel = match &b.level {
        None => CaseLevel::default(),
        Some(Value::Number(n)) => n.to_string().parse().map_err(ServiceError::BadRequest)?,
        Some(Value::String(s)) => s.parse().map_err(ServiceError::BadRequest)?,
        Some(other) => {
            return Err(ServiceError::BadRequest(format!(
                "level {other}: expected 1, 2, 3, urgent, important or normal"
            )))
        }
    };
    let k = b.k.unwrap_or(DEFAULT_K);
    if !(1..=MAX_K).contains(&k) {
        return Err(ServiceError::BadRequest(format!(
            "k = {k} is out of range 1..{MAX_K}"
        )));
    }
    Ok(Request {
        point,
        kind,
        level,
        k,
    })
}

/// The `k` nearest facilities of `kinds` (by straight line), as JSON.
fn nearest_responders(
    state: &AppState,
    engine: &Engine,
    p: Point<f64>,
    kinds: &[FacilityKind],
    k: usize,
) -> ServiceResult<Vec<Value>> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let responders = &engine.responders;
    let lonlat = |e: &dyn std::fmt::Display| ServiceError::BadRequest(format!("lon, lat: {e}"));
    let region = responders
        .region_at(p, state.config.max_outside_m)
        .map_err(|e| lonlat(&e))?;
    let found = responders.regions()[region]
        .facilities
        .nearest(&NearestQuery {
            point: p,
            kinds,
            k,
            max_distance_m: None,
        })
        .map_err(|e| lonlat(&e))?;
    Ok(found
        .iter()
        .map(|n| {
            json!({
                "id": n.facility.id,
                "kind": n.facility.kind.as_str(),
                "name": n.facility.name,
                "lon": n.facility.location.x(),
                "lat": n.facility.location.y(),
                "distance_m": n.distance_m,
            })
        })
        .collect())
}

async fn assign(
    reader: Reader,
    State(state): State<AppState>,
    body: Bytes,
) -> ServiceResult<Json<Value>> {
    let b: AssignBody = serde_json::from_slice(&body)
        .map_err(|e| ServiceError::BadRequest(format!("body: {e}")))?;
    let Request {
        point: p,
        kind,
        level,
        k,
    } = parse_request(&b)?;
    let data = &state.config.assign;
    let now = chrono::Utc::now().with_timezone(&data.calendar.zone());
    let reported = time("time", b.time.as_deref(), now)?;
    let judged = time("now", b.now.as_deref(), now)?;
    let class = data
        .taxonomy
        .lookup(kind, &b.class)
        .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    let limit = class.limit(level);
    let deadline = data
        .calendar
        .deadline(reported, limit)
        .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    let escalation = data.calendar.escalation(reported, deadline, judged);

    let engine = state.engine();
    let loc = locate_in_territory(&engine, p)?;
    let grid = engine.grids.index.locate(p);
    let responders = nearest_responders(&state, &engine, p, &class.responders, k)?;
    let mut answer = chain_json(p, &loc);
    let rest = json!({
        "grid": grid.map(|g| json!({
            "code": g.code.to_string(),
            "kind": g.kind.as_str(),
            "name": g.name,
        })),
        "zones": engine.zones.zones.locate(p),
        "class": {
            "code": class.code,
            "kind": class.kind,
            "major": class.major,
            "name": class.name,
        },
        "department": class.department,
        "level": level,
        "time": reported.to_rfc3339(),
        "limit": limit,
        "deadline": deadline.to_rfc3339(),
        "escalation": {
            "level": escalation.number(),
            "state": escalation,
            "at": judged.to_rfc3339(),
        },
        "responders": responders,
    });
    if let (Value::Object(a), Value::Object(r)) = (&mut answer, rest) {
        a.extend(r);
    }
    add_people(&mut answer, grid, reader.people());
    Ok(Json(answer))
}

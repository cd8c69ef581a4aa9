//! `GET /api/v1/nearest?lon=&lat=[&kind=][&k=][&by=distance|time][&max_m=][&datum=]`:
//! the nearest responders of some kinds, by straight line or by road
//! travel time, in the region of the territory holding the point (see
//! [`crate::responders`]).
//!
//! - `kind`: one or several facility kinds, comma-separated; absent: every kind.
//! - `k`: how many, 1..=1000, default 5. Exact; ties broken by id.
//! - `by=distance` (default): `distance_m` in the region's local projection;
//!   `max_m` drops facilities farther than that.
//! - `by=time`: `eta_s` = turn-out of the kind + drive, with `turnout_s`,
//!   `drive_s`, the route's `distance_m` along the roads and the route as a
//!   GeoJSON LineString; every facility of the kinds that cannot reach the
//!   point is listed in `unreachable` with its reason.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use civgrid::network::{NetworkError, TimeQuery, TurnoutTable, UnreachableReason};
use civgrid::{Facility, FacilityKind, NearestQuery};
use geo_types::LineString;
use serde::{Deserialize, Serialize};

use super::params;
use crate::error::{ServiceError, ServiceResult};
use crate::responders::Region;
use crate::state::AppState;

/// The largest `k`.
pub const MAX_K: usize = 1000;
/// `k` without the parameter.
pub const DEFAULT_K: usize = 5;
/// The largest `max_m`: beyond any territory.
const MAX_DISTANCE_M: f64 = 20_000_000.0;

pub fn routes() -> Router<AppState> {
    Router::new().route("/nearest", get(nearest))
}

/// Raw parameters: parsed by hand so that errors name the parameter.
#[derive(Debug, Default, Deserialize)]
struct NearestParams {
    lon: Option<String>,
    lat: Option<String>,
    datum: Option<String>,
    kind: Option<String>,
    k: Option<String>,
    by: Option<String>,
    max_m: Option<String>,
}

/// What the answer is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Distance,
    Time,
}

impl By {
    fn parse(v: Option<&str>) -> ServiceResult<Self> {
        match v.map(str::trim) {
            None | Some("distance") => Ok(Self::Distance),
            Some("time") => Ok(Self::Time),
            Some(other) => Err(ServiceError::BadRequest(format!(
                "parameter by = {other:?}: expected distance or time"
            ))),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Distance => "distance",
            Self::Time => "time",
        }
    }
}

/// A facility in an answer.
#[derive(Serialize)]
struct FacilityJson<'a> {
    id: i64,
    kind: &'static str,
    name: &'a str,
    lon: f64,
    lat: f64,
}

impl<'a> From<&'a Facility> for FacilityJson<'a> {
    fn from(f: &'a Facility) -> Self {
        Self {
            id: f.id,
            kind: f.kind.as_str(),
            name: &f.name,
            lon: f.location.x(),
            lat: f.location.y(),
        }
    }
}

/// One facility by distance.
#[derive(Serialize)]
struct ByDistance<'a> {
    facility: FacilityJson<'a>,
    distance_m: f64,
}

/// A GeoJSON LineString.
#[derive(Serialize)]
struct LineJson {
    #[serde(rename = "type")]
    kind: &'static str,
    coordinates: Vec<[f64; 2]>,
}

impl From<&LineString<f64>> for LineJson {
    fn from(l: &LineString<f64>) -> Self {
        Self {
            kind: "LineString",
            coordinates: l.0.iter().map(|c| [c.x, c.y]).collect(),
        }
    }
}

/// One facility by travel time.
#[derive(Serialize)]
struct ByTimeJson<'a> {
    facility: FacilityJson<'a>,
    eta_s: f64,
    turnout_s: f64,
    drive_s: f64,
    distance_m: f64,
    snap_distance_m: f64,
    route: LineJson,
}

/// A facility that cannot reach the point.
#[derive(Serialize)]
struct UnreachableJson<'a> {
    facility: FacilityJson<'a>,
    reason: &'static str,
    detail: String,
}

/// The answer.
#[derive(Serialize)]
struct Answer<'a, T> {
    lon: f64,
    lat: f64,
    by: &'static str,
    kinds: Vec<&'static str>,
    k: usize,
    /// By time: how far the point is from the road it was snapped to.
    #[serde(skip_serializing_if = "Option::is_none")]
    snap_distance_m: Option<f64>,
    nearest: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unreachable: Option<Vec<UnreachableJson<'a>>>,
}

/// What every answer starts with.
struct Head {
    lon: f64,
    lat: f64,
    by: By,
    kinds: Vec<&'static str>,
    k: usize,
}

impl Head {
    fn answer<T>(
        self,
        nearest: Vec<T>,
        snap_distance_m: Option<f64>,
        unreachable: Option<Vec<UnreachableJson<'_>>>,
    ) -> Answer<'_, T> {
        Answer {
            lon: self.lon,
            lat: self.lat,
            by: self.by.as_str(),
            kinds: self.kinds,
            k: self.k,
            snap_distance_m,
            nearest,
            unreachable,
        }
    }
}

async fn nearest(
    State(state): State<AppState>,
    Query(q): Query<NearestParams>,
) -> ServiceResult<Response> {
    let p = params::point(q.lon.as_deref(), q.lat.as_deref(), q.datum.as_deref())?;
    let kinds = params::kinds(q.kind.as_deref(), &[])?;
    let k = params::count("k", q.k.as_deref(), DEFAULT_K, 1..=MAX_K)?;
    let by = By::parse(q.by.as_deref())?;
    let max_m = q
        .max_m
        .as_deref()
        .map(|v| params::number("max_m", Some(v), 0.0..=MAX_DISTANCE_M))
        .transpose()?;
    if by == By::Time && max_m.is_some() {
        return Err(ServiceError::BadRequest(
            "parameter max_m applies to by=distance only".into(),
        ));
    }
    let engine = state.engine();
    let responders = &engine.responders;
    let region = responders
        .region_at(p, state.config.max_outside_m)
        .map_err(|e| lonlat_error(&e))?;
    let region = &responders.regions()[region];
    let query = NearestQuery {
        point: p,
        kinds: &kinds,
        k,
        max_distance_m: max_m,
    };
    let head = Head {
        lon: p.x(),
        lat: p.y(),
        by,
        kinds: kind_names(&kinds),
        k,
    };
    match by {
        By::Distance => by_distance(region, &query, head),
        By::Time => by_time(region, &query, responders.turnout(), head),
    }
}

fn lonlat_error(e: &impl std::fmt::Display) -> ServiceError {
    ServiceError::BadRequest(format!("parameters lon, lat: {e}"))
}

fn by_distance(region: &Region, q: &NearestQuery<'_>, head: Head) -> ServiceResult<Response> {
    let found = region.facilities.nearest(q).map_err(|e| lonlat_error(&e))?;
    let nearest: Vec<ByDistance<'_>> = found
        .iter()
        .map(|n| ByDistance {
            facility: n.facility.into(),
            distance_m: n.distance_m,
        })
        .collect();
    Ok(Json(head.answer(nearest, None, None)).into_response())
}

fn by_time(
    region: &Region,
    q: &NearestQuery<'_>,
    turnout: &TurnoutTable,
    head: Head,
) -> ServiceResult<Response> {
    let graph = region.graph.as_ref().ok_or_else(|| {
        ServiceError::Conflict(
            "by=time needs roads, and none are loaded near this point: import a road layer (OSM highways or `roads` with a class), restart the server, or ask by=distance".into(),
        )
    })?;
    let found = graph
        .nearest_by_time(
            &region.facilities,
            &TimeQuery {
                point: q.point,
                kinds: q.kinds,
                k: q.k,
                turnout,
            },
        )
        .map_err(|e| match e {
            NetworkError::TooFarFromRoad { .. } | NetworkError::Point(_) => lonlat_error(&e),
            other => ServiceError::Internal(format!("nearest by time failed: {other}")),
        })?;
    let nearest: Vec<ByTimeJson<'_>> = found
        .nearest
        .iter()
        .map(|t| ByTimeJson {
            facility: t.facility.into(),
            eta_s: t.eta_s,
            turnout_s: t.turnout_s,
            drive_s: t.drive_s,
            distance_m: t.distance_m,
            snap_distance_m: t.snap_distance_m,
            route: (&t.route).into(),
        })
        .collect();
    let unreachable = found
        .unreachable
        .iter()
        .map(|u| {
            let (reason, detail) = match u.reason {
                UnreachableReason::NoRoute => (
                    "no_route",
                    "no road path leads from it to the point (one-way streets or a separate network)".to_owned(),
                ),
                UnreachableReason::FarFromRoad { distance_m } => (
                    "far_from_road",
                    format!("it is {distance_m:.0} m from the nearest road"),
                ),
            };
            UnreachableJson {
                facility: u.facility.into(),
                reason,
                detail,
            }
        })
        .collect();
    Ok(Json(head.answer(nearest, Some(found.snap_distance_m), Some(unreachable))).into_response())
}

/// The kinds asked for (every kind when none was named).
fn kind_names(kinds: &[FacilityKind]) -> Vec<&'static str> {
    let kinds = if kinds.is_empty() {
        &FacilityKind::ALL[..]
    } else {
        kinds
    };
    kinds.iter().map(|k| k.as_str()).collect()
}

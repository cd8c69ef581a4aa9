//! Household grids over HTTP:
//!
//! - `GET /api/v1/grids[?community=CODE]`: the active grids (GeoJSON);
//! - `GET /api/v1/grids/{code}`: one grid;
//! - `GET /api/v1/grids/summary[?community=CODE]`: per community, the
//!   lower bound on its basic grids against their count, the grids outside
//!   the bounds and those without a worker;
//! - `POST /api/v1/grids/validate[?community=CODE]`: a FeatureCollection of
//!   proposed grids for one community (drawn in QGIS, say) → a report per
//!   grid: households, bounds, contiguity, overlaps and gaps with their
//!   areas, compactness, buildings cut. Features may carry `code` and
//!   `kind` (basic, special, building) properties. The community comes
//!   from the query, the collection's `community` member, or the
//!   community holding the first feature;
//! - `POST /api/v1/grids/edits[?dry_run=true]` (writers): one planner edit,
//!   `{"op": "move_cell" | "move_building" | "redraw" | "merge" | "split" |
//!   "assign", "author": "…", …}` (see [`parse_edit`]). It is validated
//!   first; refused (422, nothing stored) when it breaks a rule the touched
//!   grids did not already break or opens a gap; else stored with its log
//!   entry in one transaction (201) and indexed;
//! - `GET /api/v1/grids/edits[?community=CODE]`: the edit log, for
//!   planners and admins;
//! - `POST /api/v1/grids/edits/{id}/revert` (writers): undoes an edit if
//!   its grids have not changed since (else 409).
//!
//! Workers' and leaders' names and phones are given only to callers with a
//! token of any role ([`Reader`]).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use civgrid::cells::CellCode;
use civgrid::grids::{validate, Contact, Edit, EditOutcome, Grid, GridKind, Proposal, Validation};
use civgrid::AdminCode;
use geo::InteriorPoint;
use geo_types::{Geometry, MultiPolygon};
use serde::Deserialize;
use serde_json::{json, Value};

use super::params;
use crate::auth::{Planning, Reader, Writer};
use crate::error::{ServiceError, ServiceResult};
use crate::grids::{self as service_grids, feature_collection};
use crate::ogc::{self, People};
use crate::state::{AppState, Update};
use crate::values;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/grids", get(list))
        .route("/grids/summary", get(summary))
        .route("/grids/validate", post(check))
        .route("/grids/edits", get(log).post(edit))
        .route("/grids/edits/{id}/revert", post(revert))
        .route("/grids/{code}", get(one))
}

#[derive(Debug, Default, Deserialize)]
struct CommunityParam {
    community: Option<String>,
    dry_run: Option<String>,
}

fn community_code(s: &str) -> ServiceResult<AdminCode> {
    s.parse()
        .map_err(|e| ServiceError::BadRequest(format!("community: {e}")))
}

async fn list(
    reader: Reader,
    State(state): State<AppState>,
    Query(q): Query<CommunityParam>,
) -> ServiceResult<Json<Value>> {
    let community = q.community.as_deref().map(community_code).transpose()?;
    let engine = state.engine();
    if let Some(c) = community {
        engine.grids.community(c).map_err(ServiceError::NotFound)?;
    }
    let grids: Vec<Grid> = engine
        .grids
        .index
        .grids()
        .iter()
        .filter(|g| community.is_none_or(|c| g.community == c))
        .cloned()
        .collect();
    Ok(Json(feature_collection(&grids, reader.people())))
}

/// `GET /grids/summary`: per community, its households and bounds, the
/// lower bound on its basic grids against their count, the grids outside
/// the bounds, and the grids without a worker.
async fn summary(
    State(state): State<AppState>,
    Query(q): Query<CommunityParam>,
) -> ServiceResult<Json<Value>> {
    let community = q.community.as_deref().map(community_code).transpose()?;
    let engine = state.engine();
    let grids = &engine.grids;
    if let Some(c) = community {
        grids.community(c).map_err(ServiceError::NotFound)?;
    }
    let rows: Vec<Value> = grids
        .communities
        .values()
        .filter(|a| community.is_none_or(|c| a.code == c))
        .map(|area| {
            let bounds = grids.config.bounds(area);
            let mine: Vec<&Grid> = grids
                .index
                .grids()
                .iter()
                .filter(|g| g.community == area.code)
                .collect();
            let basic: Vec<&&Grid> = mine.iter().filter(|g| g.kind == GridKind::Basic).collect();
            let basic_households: u32 = basic.iter().map(|g| g.households).sum();
            let count = |k: GridKind| mine.iter().filter(|g| g.kind == k).count();
            let codes = |keep: &dyn Fn(&Grid) -> bool| -> Vec<String> {
                mine.iter().filter(|g| keep(g)).map(|g| g.code.to_string()).collect()
            };
            json!({
                "community": area.code.to_string(),
                "name": area.name,
                "households": grids.buildings_of(area.code).iter().map(|b| u64::from(b.households)).sum::<u64>(),
                "bounds": bounds,
                "feasible": bounds.feasible(basic_households),
                "lower_bound": bounds.lower_bound(basic_households),
                "basic": basic.len(),
                "special": count(GridKind::Special),
                "building": count(GridKind::Building),
                "outside_bounds": codes(&|g| g.kind == GridKind::Basic && !bounds.holds(g.households)),
                "without_worker": codes(&|g| g.worker.is_none()),
            })
        })
        .collect();
    Ok(Json(json!({ "communities": rows })))
}

async fn one(
    reader: Reader,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ServiceResult<Json<Value>> {
    let code: CellCode = code
        .parse()
        .map_err(|e| ServiceError::BadRequest(format!("grid code: {e}")))?;
    let engine = state.engine();
    let grid = engine
        .grids
        .index
        .get(code)
        .ok_or_else(|| ServiceError::NotFound(format!("no active grid {code}")))?;
    Ok(Json(ogc::grid(grid).to_json_for(reader.people())))
}

/// `POST /grids/validate`.
async fn check(
    State(state): State<AppState>,
    Query(q): Query<CommunityParam>,
    body: Bytes,
) -> ServiceResult<Json<Value>> {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ServiceError::BadRequest(format!("body is not JSON: {e}")))?;
    if body.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(ServiceError::BadRequest(
            "body must be a GeoJSON FeatureCollection of proposed grids".into(),
        ));
    }
    let features = body
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| ServiceError::BadRequest("FeatureCollection without features".into()))?;
    if features.is_empty() {
        return Err(ServiceError::BadRequest(
            "no proposed grids: features is empty".into(),
        ));
    }
    let proposals = features
        .iter()
        .enumerate()
        .map(|(i, f)| proposal(i, f))
        .collect::<ServiceResult<Vec<_>>>()?;
    let named = q
        .community
        .as_deref()
        .or_else(|| body.get("community").and_then(Value::as_str));
    let engine = state.engine();
    let community = if let Some(s) = named {
        community_code(s)?
    } else {
        let first = &proposals[0];
        let p = first.geometry.interior_point().ok_or_else(|| {
            ServiceError::BadRequest(format!("grid {}: empty geometry", first.id))
        })?;
        engine
            .locator
            .locate(p)
            .community
            .map(|c| c.code)
            .ok_or_else(|| {
                ServiceError::BadRequest(format!(
                    "grid {} lies in no community; name one with ?community=CODE",
                    first.id
                ))
            })?
    };
    let area = engine
        .grids
        .community(community)
        .map_err(ServiceError::BadRequest)?;
    let buildings = engine.grids.buildings_of(community);
    let v = validate(
        area,
        &buildings,
        &proposals,
        engine.grids.config.bounds(area),
    )
    .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    Ok(Json(validation_json(&v)))
}

/// One proposed grid: feature `i` (0-based) of the collection.
fn proposal(i: usize, f: &Value) -> ServiceResult<Proposal> {
    let props = f.get("properties").cloned().unwrap_or(Value::Null);
    let id = props
        .get("code")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            f.get("id")
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        })
        .unwrap_or_else(|| format!("feature {}", i + 1));
    let bad = |what: String| ServiceError::BadRequest(format!("grid {id}: {what}"));
    let kind = match props.get("kind").and_then(Value::as_str) {
        None => GridKind::Basic,
        Some(k) => k
            .parse()
            .map_err(|e: civgrid::grids::GridError| bad(e.to_string()))?,
    };
    let geometry = polygon_of(f.get("geometry")).map_err(bad)?;
    Ok(Proposal { id, kind, geometry })
}

/// A GeoJSON Polygon or MultiPolygon.
fn polygon_of(g: Option<&Value>) -> Result<MultiPolygon<f64>, String> {
    let g = g.filter(|g| !g.is_null()).ok_or("no geometry")?;
    let g: geojson::Geometry =
        serde_json::from_value(g.clone()).map_err(|e| format!("geometry: {e}"))?;
    match params::geometry(&g.value)? {
        Geometry::Polygon(p) => Ok(MultiPolygon::new(vec![p])),
        Geometry::MultiPolygon(m) => Ok(m),
        _ => Err("geometry must be a Polygon or MultiPolygon".into()),
    }
}

fn validation_json(v: &Validation) -> Value {
    let mut out = serde_json::to_value(v).unwrap_or(Value::Null);
    out["gaps"] = json!({
        "type": "FeatureCollection",
        "features": v.gaps.iter().map(|g| json!({
            "type": "Feature",
            "geometry": geojson::Geometry::from(&Geometry::Polygon(g.geometry.clone())),
            "properties": {"area_m2": g.area_m2},
        })).collect::<Vec<_>>(),
    });
    out
}

/// The edit a request body describes, its community and its author, if it
/// names one (otherwise the edit is the token's).
///
/// Fields: `move_cell`: `cell`, `to`; `move_building`: `building` (id),
/// `to`; `redraw`: `grid`, `geometry` (GeoJSON); `merge`: `keep`,
/// `absorb`; `split`: `grid`, `geometry` (the part to carve out);
/// `assign`: `grid`, `worker` and `leader` (`{name, phone}` or null).
pub fn parse_edit(body: &Value) -> Result<(Edit, AdminCode, Option<String>), String> {
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("missing field `{k}`"))
    };
    let code =
        |k: &str| -> Result<CellCode, String> { text(k)?.parse().map_err(|e| format!("{k}: {e}")) };
    let contact = |k: &str| -> Result<Option<Contact>, String> {
        match body.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let c: Contact =
                    serde_json::from_value(v.clone()).map_err(|e| format!("{k}: {e}"))?;
                values::text(&format!("{k}.name"), &c.name).map_err(|e| e.to_string())?;
                values::text(&format!("{k}.phone"), &c.phone).map_err(|e| e.to_string())?;
                Ok(Some(c))
            }
        }
    };
    let author = match body.get("author") {
        None | Some(Value::Null) => None,
        Some(Value::String(a)) if !a.trim().is_empty() => {
            values::text("author", a).map_err(|e| e.to_string())?;
            Some(a.trim().to_owned())
        }
        Some(_) => return Err("author: a name, or leave it out to sign with the token's".into()),
    };
    let op = text("op")?;
    let edit = match op {
        "move_cell" => Edit::MoveCell {
            cell: code("cell")?,
            to: code("to")?,
        },
        "move_building" => Edit::MoveBuilding {
            building: body
                .get("building")
                .and_then(Value::as_i64)
                .ok_or("missing field `building` (a building id)")?,
            to: code("to")?,
        },
        "redraw" => Edit::Redraw {
            grid: code("grid")?,
            geometry: polygon_of(body.get("geometry"))?,
        },
        "merge" => Edit::Merge {
            keep: code("keep")?,
            absorb: code("absorb")?,
        },
        "split" => Edit::Split {
            grid: code("grid")?,
            geometry: polygon_of(body.get("geometry"))?,
        },
        "assign" => Edit::Assign {
            grid: code("grid")?,
            worker: contact("worker")?,
            leader: contact("leader")?,
        },
        other => {
            return Err(format!(
                "op {other:?}: one of move_cell, move_building, redraw, merge, split, assign"
            ));
        }
    };
    let community = match &edit {
        Edit::MoveCell { to, .. } | Edit::MoveBuilding { to, .. } => to.community(),
        Edit::Redraw { grid, .. } | Edit::Split { grid, .. } | Edit::Assign { grid, .. } => {
            grid.community()
        }
        Edit::Merge { keep, .. } => keep.community(),
    };
    Ok((edit, community, author))
}

fn outcome_json(o: &EditOutcome) -> Value {
    json!({
        "accepted": o.accepted(),
        "grids": feature_collection(&o.after, People::Shown),
        "violations": o.introduced.iter().map(|(grid, v)| {
            let mut v = serde_json::to_value(v).unwrap_or(Value::Null);
            v["grid"] = json!(grid);
            v
        }).collect::<Vec<_>>(),
        "new_gap_m2": o.new_gap_m2,
        "validation": validation_json(&o.validation),
    })
}

/// `POST /grids/edits`.
async fn edit(
    writer: Writer<Planning>,
    State(state): State<AppState>,
    Query(q): Query<CommunityParam>,
    body: Bytes,
) -> ServiceResult<(StatusCode, Json<Value>)> {
    let dry_run = params::flag("dry_run", q.dry_run.as_deref())?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ServiceError::BadRequest(format!("body is not JSON: {e}")))?;
    let (edit, community, author) = parse_edit(&body).map_err(ServiceError::BadRequest)?;
    let author = author.unwrap_or_else(|| writer.caller.name.clone());
    let today = chrono::Local::now().date_naive();
    let _order = state.writes.lock().await;
    let outcome = {
        let engine = state.engine();
        engine
            .grids
            .community(community)
            .map_err(ServiceError::NotFound)?;
        engine
            .grids
            .apply(community, &engine.cells, &edit, today)
            .map_err(ServiceError::BadRequest)?
    };
    let mut answer = outcome_json(&outcome);
    if !outcome.accepted() {
        answer["stored"] = json!(false);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(answer)));
    }
    if dry_run {
        answer["stored"] = json!(false);
        return Ok((StatusCode::OK, Json(answer)));
    }
    let record = service_grids::record(
        community,
        edit.op(),
        &author,
        &body,
        &outcome.before,
        &outcome.after,
        None,
    );
    let id = state
        .store
        .write_grid_edit(&outcome.after, &record, &writer.actor())
        .await?;
    reindex(&state, &outcome.after)?;
    answer["stored"] = json!(true);
    answer["edit"] = json!(id);
    Ok((StatusCode::CREATED, Json(answer)))
}

/// Puts stored grid rows into the engine (see [`crate::live::apply`]).
///
/// # Errors
/// [`ServiceError::Internal`] when the engine cannot follow.
pub(crate) fn reindex(state: &AppState, rows: &[Grid]) -> ServiceResult<()> {
    super::follow_stored(state, Update::Grids(rows.to_vec()), &|| {
        format!("{} grids were stored", rows.len())
    })
}

/// `GET /grids/edits`: for planners and admins (authors, and the grids'
/// workers and leaders before and after).
async fn log(
    _planner: Writer<Planning>,
    State(state): State<AppState>,
    Query(q): Query<CommunityParam>,
) -> ServiceResult<Json<Value>> {
    let community = q.community.as_deref().map(community_code).transpose()?;
    let edits = state.store.load_grid_edits().await?;
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
    let reverted_by: BTreeMap<i64, i64> = edits
        .iter()
        .filter_map(|r| Some((r.reverts?, r.id)))
        .collect();
    let list: Vec<Value> = edits
        .iter()
        .filter(|e| community.is_none_or(|c| e.community == c.to_string()))
        .map(|e| {
            json!({
                "id": e.id,
                "community": e.community,
                "op": e.op,
                "author": e.author,
                "at": chrono::DateTime::from_timestamp(e.at, 0).map(|t| t.to_rfc3339()),
                "request": parse(&e.request),
                "before": parse(&e.before),
                "after": parse(&e.after),
                "reverts": e.reverts,
                "reverted_by": reverted_by.get(&e.id),
            })
        })
        .collect();
    Ok(Json(json!({ "edits": list })))
}

/// `POST /grids/edits/{id}/revert`.
async fn revert(
    writer: Writer<Planning>,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    body: Bytes,
) -> ServiceResult<(StatusCode, Json<Value>)> {
    let request: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ServiceError::BadRequest(format!("body is not JSON: {e}")))?
    };
    let author = request
        .get("author")
        .and_then(Value::as_str)
        .unwrap_or(&writer.caller.name)
        .to_owned();
    let today = chrono::Local::now().date_naive();
    let _order = state.writes.lock().await;
    let edits = state.store.load_grid_edits().await?;
    let edit = edits
        .iter()
        .find(|e| e.id == id)
        .ok_or_else(|| ServiceError::NotFound(format!("no grid edit {id}")))?;
    if let Some(r) = edits.iter().find(|r| r.reverts == Some(id)) {
        return Err(ServiceError::Conflict(format!(
            "edit {id} was already reverted by edit {}",
            r.id
        )));
    }
    let community: AdminCode = edit
        .community
        .parse()
        .map_err(|e| ServiceError::Internal(format!("edit {id}: community: {e}")))?;
    let (current, rows) = {
        let engine = state.engine();
        service_grids::undo(edit, &engine.grids.history, today).map_err(ServiceError::Conflict)?
    };
    let record = service_grids::record(
        community,
        "revert",
        &author,
        &json!({"revert": id}),
        &current,
        &rows,
        Some(id),
    );
    let new_id = state
        .store
        .write_grid_edit(&rows, &record, &writer.actor())
        .await?;
    reindex(&state, &rows)?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"edit": new_id, "reverts": id, "grids": feature_collection(&rows, People::Shown)}),
        ),
    ))
}

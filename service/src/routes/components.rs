//! Components (部件) over HTTP:
//!
//! - `GET /api/v1/components[?cell=][&grid=][&class=][&state=][&limit=1000]`:
//!   the components, by code, as a GeoJSON FeatureCollection;
//! - `GET /api/v1/components/counts?by=cell|grid|class|state[&class=][&state=]`:
//!   counts per unit cell, household grid, class or state, each with its
//!   count per class;
//! - `GET|PUT|DELETE /api/v1/components/{code}` and `POST /api/v1/components`
//!   (planners): GeoJSON Feature bodies, a Point, LineString or Polygon, with
//!   properties `code` (16 digits; numbered in its district and class when
//!   missing), `class` (a component class of the served taxonomy), `owner`
//!   (required), `maintainer`, `state` and `name`. A move re-ties the
//!   component to the unit cell holding it; the answer carries the cell.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use civgrid::assign::ClassCode;
use civgrid::assign::ClassKind;
use civgrid::cells::CellCode;
use civgrid::components::{self, ClassCounts, Component, ComponentCode, ComponentState};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::params;
use crate::auth::{Planning, Writer};
use crate::error::{ServiceError, ServiceResult};
use crate::import::{self, ComponentDraft, FeatureProblem, Fields};
use crate::ogc;
use crate::state::{AppState, Engine, Update};
use crate::store::{self, AuditRecord, Layer};

/// Features a list answers with by default, and at most.
const DEFAULT_LIMIT: usize = 1000;
const MAX_LIMIT: usize = 10_000;

/// Properties a body may carry.
const PROPERTIES: &[&str] = &["code", "class", "name", "owner", "maintainer", "state"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/components", get(list).post(create))
        .route("/components/counts", get(counts))
        .route("/components/{code}", get(read).put(replace).delete(remove))
}

/// Raw filters: parsed by hand so that errors name the parameter.
#[derive(Debug, Default, Deserialize)]
struct Filters {
    cell: Option<String>,
    grid: Option<String>,
    class: Option<String>,
    state: Option<String>,
    limit: Option<String>,
    by: Option<String>,
}

/// The parsed filters of a list or a count.
struct Filter {
    cell: Option<CellCode>,
    grid: Option<CellCode>,
    class: Option<ClassCode>,
    state: Option<ComponentState>,
}

impl Filter {
    fn parse(q: &Filters) -> ServiceResult<Self> {
        let class = q
            .class
            .as_deref()
            .map(|c| {
                ClassCode::parse(c).ok_or_else(|| {
                    ServiceError::BadRequest(format!(
                        "parameter class = {c:?}: a class code has 4 digits, major (01-99) and minor (01-99)"
                    ))
                })
            })
            .transpose()?;
        Ok(Self {
            cell: params::parsed("cell", q.cell.as_deref())?,
            grid: params::parsed("grid", q.grid.as_deref())?,
            class,
            state: params::parsed("state", q.state.as_deref())?,
        })
    }

    /// The components that pass.
    fn select<'a>(&self, engine: &'a Engine) -> Vec<&'a Component> {
        engine
            .components
            .iter()
            .filter(|c| self.cell.is_none_or(|x| c.cell == Some(x)))
            .filter(|c| self.class.is_none_or(|x| c.code.class_code() == x))
            .filter(|c| self.state.is_none_or(|x| c.state == x))
            .filter(|c| self.grid.is_none_or(|x| grid_of(engine, c) == Some(x)))
            .collect()
    }
}

/// The active household grid holding a component's anchor.
fn grid_of(engine: &Engine, c: &Component) -> Option<CellCode> {
    engine.component_grids.get(c.id)
}

/// Applies a stored write of component `id` (now `now`, or gone) to the
/// engine (see [`crate::live::apply`]).
fn apply(state: &AppState, id: i64, now: Option<Component>, what: &str) -> ServiceResult<()> {
    super::follow_stored(state, Update::Component { id, now }, &|| {
        format!("component {id} was {what}")
    })
}

/// A component as a GeoJSON Feature (id = its code, as in the OGC
/// collection), with its class's name in the served taxonomy and its grid.
fn feature(state: &AppState, c: &Component, grid: Option<CellCode>) -> ogc::Feature {
    let class = c.code.class();
    let class_name = state
        .config
        .assign
        .taxonomy
        .lookup(Some(ClassKind::Component), &class)
        .ok()
        .map(|k| format!("{} / {}", k.major, k.name));
    let mut f = ogc::component(c);
    f.properties.insert("class_name".into(), json!(class_name));
    f.properties
        .insert("grid".into(), json!(grid.map(|x| x.to_string())));
    f
}

async fn list(State(state): State<AppState>, Query(q): Query<Filters>) -> ServiceResult<Response> {
    let filter = Filter::parse(&q)?;
    let limit = params::count("limit", q.limit.as_deref(), DEFAULT_LIMIT, 1..=MAX_LIMIT)?;
    let engine = state.engine();
    let selected = filter.select(&engine);
    let features: Vec<Value> = selected
        .iter()
        .take(limit)
        .map(|c| feature(&state, c, grid_of(&engine, c)).to_json())
        .collect();
    let body = json!({
        "type": "FeatureCollection",
        "numberMatched": selected.len(),
        "numberReturned": features.len(),
        "features": features,
    });
    Ok(super::geojson(StatusCode::OK, &body))
}

/// One key of a count: a cell, grid, class or state.
#[derive(Serialize)]
struct CountRow {
    key: String,
    total: usize,
    classes: BTreeMap<ClassCode, usize>,
}

/// The counts per key, keys in order.
fn rows<K: Ord + std::fmt::Display>(groups: BTreeMap<K, ClassCounts>) -> Vec<CountRow> {
    groups
        .into_iter()
        .map(|(k, c)| CountRow {
            key: k.to_string(),
            total: c.total,
            classes: c.classes,
        })
        .collect()
}

/// `GET /components/counts`: typed rows serialised once (a city's
/// counts per cell are thousands of rows).
#[derive(Serialize)]
struct CountsAnswer<'a> {
    by: &'a str,
    total: usize,
    /// Components without a key (outside every cell or grid).
    outside: usize,
    counts: Vec<CountRow>,
}

async fn counts(
    State(state): State<AppState>,
    Query(q): Query<Filters>,
) -> ServiceResult<Response> {
    let filter = Filter::parse(&q)?;
    let by = q.by.as_deref().unwrap_or("class");
    let engine = state.engine();
    let selected = filter.select(&engine);
    let chosen = selected.iter().copied();
    let counts = match by {
        "cell" => rows(components::count_by(chosen, |c| c.cell)),
        "grid" => rows(components::count_by(chosen, |c| grid_of(&engine, c))),
        "class" => rows(components::count_by(chosen, |c| Some(c.code.class_code()))),
        "state" => rows(components::count_by(chosen, |c| Some(c.state.as_str()))),
        other => {
            return Err(ServiceError::BadRequest(format!(
                "parameter by = {other:?}: expected cell, grid, class or state"
            )))
        }
    };
    let keyed: usize = counts.iter().map(|r| r.total).sum();
    let answer = CountsAnswer {
        by,
        total: selected.len(),
        outside: selected.len() - keyed,
        counts,
    };
    let body =
        serde_json::to_vec(&answer).map_err(|e| ServiceError::Internal(format!("counts: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// A code from the path.
fn parse_code(code: &str) -> ServiceResult<ComponentCode> {
    code.parse()
        .map_err(|e| ServiceError::NotFound(format!("no component {code:?}: {e}")))
}

async fn read(State(state): State<AppState>, Path(code): Path<String>) -> ServiceResult<Response> {
    let code = parse_code(&code)?;
    let engine = state.engine();
    let c = engine
        .components
        .get(code)
        .ok_or_else(|| ServiceError::NotFound(format!("no component {code}")))?;
    Ok(geojson(StatusCode::OK, &state, &engine, c))
}

fn geojson(status: StatusCode, state: &AppState, engine: &Engine, c: &Component) -> Response {
    super::geojson(status, &feature(state, c, grid_of(engine, c)).to_json())
}

/// A body's component before it is placed: its code is the body's or, on
/// a PUT, the path's; its class one of the served taxonomy. Read before
/// the writes' lock is taken.
fn read_body(
    state: &AppState,
    body: &[u8],
    path_code: Option<ComponentCode>,
) -> ServiceResult<ComponentDraft> {
    let params::FeatureBody {
        geometry,
        mut properties,
        ..
    } = params::feature_body(body, "component", PROPERTIES)?;
    if let Some(path) = path_code {
        match Fields::get(&properties, "code") {
            Some(given) if given.trim() != path.to_string() => {
                return Err(ServiceError::BadRequest(format!(
                    "properties: code {given} is not the path's {path}"
                )));
            }
            _ => {
                properties.insert("code".into(), Value::String(path.to_string()));
            }
        }
    }
    let geometry = match geometry {
        g @ (geo_types::Geometry::Point(_)
        | geo_types::Geometry::LineString(_)
        | geo_types::Geometry::MultiLineString(_)
        | geo_types::Geometry::MultiPolygon(_)) => g,
        geo_types::Geometry::Polygon(p) => geo_types::MultiPolygon(vec![p]).into(),
        _ => {
            return Err(ServiceError::BadRequest(
                "geometry: a component is a Point, a LineString or a Polygon".into(),
            ))
        }
    };
    let bad = |e: FeatureProblem| ServiceError::BadRequest(format!("properties: {e}"));
    let draft = import::component_draft(&properties, geometry).map_err(bad)?;
    state
        .config
        .assign
        .taxonomy
        .lookup(Some(ClassKind::Component), &draft.class)
        .map_err(|e| {
            ServiceError::BadRequest(format!(
                "properties: class {:?}: {e} (component classes of the served taxonomy)",
                draft.class
            ))
        })?;
    Ok(draft)
}

/// A draft placed in `engine`: its code (given, or the next serial of its
/// district and class) and its cell; `id` is the store id of the component
/// it replaces (0 for a new one).
fn place(engine: &Engine, draft: ComponentDraft, id: i64) -> ServiceResult<Component> {
    let (code, cell) = components::place(&engine.locator, draft.code, &draft.geometry, |d| {
        engine.components.next_code(d, &draft.class)
    })
    .map_err(|e| ServiceError::BadRequest(format!("{}: {e}", e.field())))?;
    if let Some(other) = engine.components.get(code).filter(|c| c.id != id) {
        return Err(ServiceError::Conflict(format!(
            "code: component {} (store id {}) already has this code",
            other.code, other.id
        )));
    }
    Ok(Component {
        id,
        code,
        name: draft.name,
        owner: draft.owner,
        maintainer: draft.maintainer,
        state: draft.state,
        geometry: draft.geometry,
        cell,
    })
}

/// The audit entry of `action` on component `id` (`before`: the engine's
/// copy, read under the writes' lock).
fn audit(
    writer: &Writer<Planning>,
    state: &AppState,
    action: &str,
    before: Option<&Component>,
    after: Option<&Component>,
) -> AuditRecord {
    let engine = state.engine();
    let json = |c: &Component| feature(state, c, grid_of(&engine, c)).to_json().to_string();
    AuditRecord {
        feature_id: before.map(|c| c.id),
        before: before.map(json),
        after: after.map(json),
        ..AuditRecord::now(&writer.actor(), action, Layer::Components.table())
    }
}

async fn create(
    writer: Writer<Planning>,
    State(state): State<AppState>,
    body: Bytes,
) -> ServiceResult<Response> {
    let draft = read_body(&state, &body, None)?;
    let _order = state.writes.lock().await;
    let mut c = place(&state.engine(), draft, 0)?;
    let record = audit(&writer, &state, "create", None, Some(&c));
    c.id = state
        .store
        .insert(&store::Feature::Component(c.clone()), &record)
        .await?;
    let code = c.code;
    apply(&state, c.id, Some(c.clone()), "stored")?;
    let mut response = geojson(StatusCode::CREATED, &state, &state.engine(), &c);
    if let Ok(location) = format!("/api/v1/components/{code}").parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The component with `code`, as the engine has it.
fn stored(state: &AppState, code: ComponentCode) -> ServiceResult<Component> {
    state
        .engine()
        .components
        .get(code)
        .cloned()
        .ok_or_else(|| ServiceError::NotFound(format!("no component {code}")))
}

async fn replace(
    writer: Writer<Planning>,
    State(state): State<AppState>,
    Path(code): Path<String>,
    body: Bytes,
) -> ServiceResult<Response> {
    let code = parse_code(&code)?;
    let draft = read_body(&state, &body, Some(code))?;
    let _order = state.writes.lock().await;
    let before = stored(&state, code)?;
    let c = place(&state.engine(), draft, before.id)?;
    let record = audit(&writer, &state, "update", Some(&before), Some(&c));
    if !state
        .store
        .update(&store::Feature::Component(c.clone()), &record)
        .await?
    {
        return Err(ServiceError::NotFound(format!("no component {code}")));
    }
    apply(&state, c.id, Some(c.clone()), "updated")?;
    Ok(geojson(StatusCode::OK, &state, &state.engine(), &c))
}

async fn remove(
    writer: Writer<Planning>,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ServiceResult<StatusCode> {
    let code = parse_code(&code)?;
    let _order = state.writes.lock().await;
    let before = stored(&state, code)?;
    let record = audit(&writer, &state, "delete", Some(&before), None);
    if !state
        .store
        .delete(Layer::Components, before.id, &record)
        .await?
    {
        return Err(ServiceError::NotFound(format!("no component {code}")));
    }
    apply(&state, before.id, None, "deleted")?;
    Ok(StatusCode::NO_CONTENT)
}

/// Applies another process's stored write of component `id` (`stored`:
/// the row now, or `None` when it is gone), re-tied to this process's
/// cells; the cached tiles over it are dropped.
///
/// # Errors
/// [`ServiceError::Internal`] when the engine cannot follow.
pub(crate) fn follow(
    state: &AppState,
    id: i64,
    mut stored: Option<Component>,
) -> ServiceResult<()> {
    if let Some(c) = &mut stored {
        components::tie(std::slice::from_mut(c), &state.engine().locator);
    }
    apply(state, id, stored, "written by another process")
}

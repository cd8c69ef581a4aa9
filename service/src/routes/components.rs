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
use axum::{Json, Router};
use civgrid::assign::ClassKind;
use civgrid::cells::CellCode;
use civgrid::components::{self, ClassCounts, Component, ComponentCode, ComponentState, Serials};
use serde::Deserialize;
use serde_json::{json, Value};

use super::params;
use crate::auth::{Planning, Writer};
use crate::error::{ServiceError, ServiceResult};
use crate::import::{self, FeatureProblem, Fields};
use crate::ogc;
use crate::state::{AppState, Engine};
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
    class: Option<String>,
    state: Option<ComponentState>,
}

impl Filter {
    fn parse(q: &Filters) -> ServiceResult<Self> {
        let code = |name: &str, v: &Option<String>| -> ServiceResult<Option<CellCode>> {
            v.as_deref()
                .map(|s| {
                    s.parse().map_err(|e| {
                        ServiceError::BadRequest(format!("parameter {name} = {s:?}: {e}"))
                    })
                })
                .transpose()
        };
        if let Some(c) = q.class.as_deref().filter(|c| !components::is_class_code(c)) {
            return Err(ServiceError::BadRequest(format!(
                "parameter class = {c:?}: a class code has 4 digits, major (01-99) and minor (01-99)"
            )));
        }
        Ok(Self {
            cell: code("cell", &q.cell)?,
            grid: code("grid", &q.grid)?,
            class: q.class.clone(),
            state: q
                .state
                .as_deref()
                .map(|s| {
                    s.parse()
                        .map_err(|e| ServiceError::BadRequest(format!("parameter state: {e}")))
                })
                .transpose()?,
        })
    }

    /// The components that pass, with the active grid holding each.
    fn select<'a>(&self, engine: &'a Engine) -> Vec<(&'a Component, Option<CellCode>)> {
        engine
            .components
            .iter()
            .filter(|c| self.cell.is_none_or(|x| c.cell == Some(x)))
            .filter(|c| self.class.as_ref().is_none_or(|x| c.code.class() == *x))
            .filter(|c| self.state.is_none_or(|x| c.state == x))
            .map(|c| (c, grid_of(engine, c)))
            .filter(|(_, g)| self.grid.is_none_or(|x| *g == Some(x)))
            .collect()
    }
}

/// The active household grid holding a component's anchor.
fn grid_of(engine: &Engine, c: &Component) -> Option<CellCode> {
    components::anchor(&c.geometry)
        .and_then(|p| engine.grids.index.locate(p))
        .map(|g| g.code)
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
        .map(|(c, g)| feature(&state, c, *g).to_json())
        .collect();
    let body = json!({
        "type": "FeatureCollection",
        "numberMatched": selected.len(),
        "numberReturned": features.len(),
        "features": features,
    });
    Ok((
        [(header::CONTENT_TYPE, "application/geo+json")],
        body.to_string(),
    )
        .into_response())
}

async fn counts(
    State(state): State<AppState>,
    Query(q): Query<Filters>,
) -> ServiceResult<Json<Value>> {
    let filter = Filter::parse(&q)?;
    let by = q.by.as_deref().unwrap_or("class");
    let engine = state.engine();
    let selected = filter.select(&engine);
    let key: fn(&(&Component, Option<CellCode>)) -> Option<String> = match by {
        "cell" => |(c, _)| c.cell.map(|x| x.to_string()),
        "grid" => |(_, g)| g.map(|x| x.to_string()),
        "class" => |(c, _)| Some(c.code.class()),
        "state" => |(c, _)| Some(c.state.as_str().to_owned()),
        other => {
            return Err(ServiceError::BadRequest(format!(
                "parameter by = {other:?}: expected cell, grid, class or state"
            )))
        }
    };
    let mut groups: BTreeMap<String, ClassCounts> = BTreeMap::new();
    let mut outside = 0;
    for item in &selected {
        match key(item) {
            Some(k) => groups.entry(k).or_default().add(item.0),
            None => outside += 1,
        }
    }
    let counts: Vec<Value> = groups
        .into_iter()
        .map(|(k, c)| json!({"key": k, "total": c.total, "classes": c.classes}))
        .collect();
    Ok(Json(json!({
        "by": by,
        "total": selected.len(),
        "outside": outside,
        "counts": counts,
    })))
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
    (
        status,
        [(header::CONTENT_TYPE, "application/geo+json")],
        feature(state, c, grid_of(engine, c)).to_json().to_string(),
    )
        .into_response()
}

/// A body's component, placed: its code (the body's or, on a PUT, the
/// path's; else the next serial of its district and class) and its cell.
/// `id` is the store id of the component it replaces (0 for a new one).
fn parse_body(
    state: &AppState,
    engine: &Engine,
    body: &[u8],
    path_code: Option<ComponentCode>,
    id: i64,
) -> ServiceResult<Component> {
    let (geometry, mut properties, _) = params::feature_body(body, "component", PROPERTIES)?;
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
    let mut serials = Serials::new(engine.components.iter().map(|c| &c.code));
    let (code, cell) = components::place(
        &engine.locator,
        &mut serials,
        draft.code,
        &draft.class,
        &draft.geometry,
    )
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
    let _order = state.writes.lock().await;
    let mut c = parse_body(&state, &state.engine(), &body, None, 0)?;
    let record = audit(&writer, &state, "create", None, Some(&c));
    c.id = state
        .store
        .insert(&store::Feature::Component(c.clone()), &record)
        .await?;
    let code = c.code;
    let mut engine = state.engine_mut();
    engine.components.put(c.clone());
    engine.counts.components += 1;
    sync_collection(&mut engine);
    let mut response = geojson(StatusCode::CREATED, &state, &engine, &c);
    drop(engine);
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
    let _order = state.writes.lock().await;
    let before = stored(&state, code)?;
    let c = parse_body(&state, &state.engine(), &body, Some(code), before.id)?;
    let record = audit(&writer, &state, "update", Some(&before), Some(&c));
    if !state
        .store
        .update(&store::Feature::Component(c.clone()), &record)
        .await?
    {
        return Err(ServiceError::NotFound(format!("no component {code}")));
    }
    let mut engine = state.engine_mut();
    engine.components.put(c.clone());
    sync_collection(&mut engine);
    Ok(geojson(StatusCode::OK, &state, &engine, &c))
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
    let mut engine = state.engine_mut();
    engine.components.remove(before.id);
    engine.counts.components = engine.counts.components.saturating_sub(1);
    sync_collection(&mut engine);
    Ok(StatusCode::NO_CONTENT)
}

/// Rebuilds the OGC collection of components from the index.
fn sync_collection(engine: &mut Engine) {
    engine.collections.components = ogc::components(engine.components.iter());
}

/// Applies another process's stored write of component `id` (`stored`:
/// the row now, or `None` when it is gone), re-tied to this process's cells.
pub(crate) fn follow(state: &AppState, id: i64, stored: Option<Component>) {
    let mut engine = state.engine_mut();
    match stored {
        Some(mut c) => {
            components::tie(std::slice::from_mut(&mut c), &engine.locator);
            if engine.components.put(c).is_none() {
                engine.counts.components += 1;
            }
        }
        None => {
            if engine.components.remove(id).is_some() {
                engine.counts.components = engine.counts.components.saturating_sub(1);
            }
        }
    }
    sync_collection(&mut engine);
}

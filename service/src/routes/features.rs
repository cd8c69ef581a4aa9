//! Writers' API for facilities and hazards: `POST /api/v1/{layer}`,
//! `GET|PUT|DELETE /api/v1/{layer}/{id}` with GeoJSON Feature bodies.
//!
//! - facility: a Point; properties `kind` (required), `name`, `capacity`,
//!   `staff`, `contact`;
//! - hazard: a Point, Polygon or MultiPolygon; properties `kind` (required),
//!   `name` and one of `level` | `lec_l` + `lec_e` + `lec_c` |
//!   `likelihood` + `severity` (the import's attribute rules).
//!
//! Writes need the writers' bearer token ([`Writer`]). A write is stored in
//! one transaction first; then the next engine snapshot is built with the
//! indexes, the cells' risk levels (hazards), the risk map, the counts and
//! the OGC collection following, and published ([`AppState::update`]);
//! the cached tiles over the change are dropped. Readers go on with the
//! snapshot before meanwhile. Writes are serialised from the store to the
//! engine so both see them in the same order. The feature must lie within the territory (see
//! [`crate::responders`]). Answers: 201 with `Location` and the stored
//! feature, 200 on PUT, 204 on DELETE, 404 for an unknown id, 400 naming
//! the bad field.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use civgrid::{Facility, FacilityKind, Hazard, HazardGeometry, Indexed};
use geo::Centroid;
use geo_types::{Geometry, MultiPolygon, Point};
use serde_json::{Map, Value};

use super::params;
use crate::auth::{Dispatch, Writer};
use crate::error::{ServiceError, ServiceResult};
use crate::import::{self, FeatureProblem, Fields};
use crate::ogc;
use crate::state::{AppState, Engine, Update};
use crate::store::{self, AuditRecord, Layer};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/facilities", post(create::<Facility>))
        .route(
            "/facilities/{id}",
            get(read::<Facility>)
                .put(replace::<Facility>)
                .delete(remove::<Facility>),
        )
        .route("/hazards", post(create::<Hazard>))
        .route(
            "/hazards/{id}",
            get(read::<Hazard>)
                .put(replace::<Hazard>)
                .delete(remove::<Hazard>),
        )
}

/// A layer that writers edit through the API.
trait Writable: Indexed + Send + Sync + Sized + 'static {
    /// The layer's URL segment (`facilities`).
    const PATH: &'static str;
    /// One feature, in messages (`facility`).
    const NOUN: &'static str;
    /// The properties a body may carry.
    const PROPERTIES: &'static [&'static str];
    /// The store layer.
    const LAYER: Layer;

    /// The feature of a body's geometry and properties (id 0).
    fn parse(geometry: Geometry<f64>, properties: &Map<String, Value>) -> ServiceResult<Self>;

    /// Sets the store id.
    fn set_id(&mut self, id: i64);

    /// The store's form.
    fn stored(&self) -> store::Feature;

    /// The feature as served (GeoJSON, like the OGC collection's items).
    fn feature(&self) -> ogc::Feature;

    /// The indexed feature with this id.
    fn find(engine: &Engine, id: i64) -> Option<&Self>;

    /// The engine's update: feature `id` is now `now` (in its region), or gone.
    fn update(id: i64, now: Option<(usize, Self)>) -> Update;
}

impl Writable for Facility {
    const PATH: &'static str = "facilities";
    const NOUN: &'static str = "facility";
    const LAYER: Layer = Layer::Facilities;
    const PROPERTIES: &'static [&'static str] = &["kind", "name", "capacity", "staff", "contact"];

    fn parse(geometry: Geometry<f64>, properties: &Map<String, Value>) -> ServiceResult<Self> {
        let Geometry::Point(p) = geometry else {
            return Err(ServiceError::BadRequest(format!(
                "geometry: a facility is a Point, not a {}",
                geometry_name(&geometry)
            )));
        };
        let kind: FacilityKind = properties
            .parsed("kind")
            .and_then(|k| k.ok_or(FeatureProblem::MissingField { field: "kind" }))
            .map_err(|e| bad_property(&e))?;
        import::facility(properties, kind, p).map_err(|e| bad_property(&e))
    }

    fn set_id(&mut self, id: i64) {
        self.id = id;
    }

    fn stored(&self) -> store::Feature {
        store::Feature::Facility(self.clone())
    }

    fn feature(&self) -> ogc::Feature {
        ogc::facility(self)
    }

    fn find(engine: &Engine, id: i64) -> Option<&Self> {
        engine.responders.facility(id)
    }

    fn update(id: i64, now: Option<(usize, Self)>) -> Update {
        Update::Facility { id, now }
    }
}

impl Writable for Hazard {
    const PATH: &'static str = "hazards";
    const NOUN: &'static str = "hazard";
    const LAYER: Layer = Layer::Hazards;
    const PROPERTIES: &'static [&'static str] = &[
        "kind",
        "name",
        "level",
        "lec_l",
        "lec_e",
        "lec_c",
        "likelihood",
        "severity",
        "score",
    ];

    fn parse(geometry: Geometry<f64>, properties: &Map<String, Value>) -> ServiceResult<Self> {
        // Checked by the import's rules (params::written_geometry).
        let geometry = match geometry {
            Geometry::Point(p) => HazardGeometry::Point(p),
            Geometry::Polygon(p) => HazardGeometry::Area(MultiPolygon(vec![p])),
            Geometry::MultiPolygon(m) => HazardGeometry::Area(m),
            other => {
                return Err(ServiceError::BadRequest(format!(
                    "geometry: a hazard is a Point, Polygon or MultiPolygon, not a {}",
                    geometry_name(&other)
                )));
            }
        };
        import::hazard(properties, geometry).map_err(|e| bad_property(&e))
    }

    fn set_id(&mut self, id: i64) {
        self.id = id;
    }

    fn stored(&self) -> store::Feature {
        store::Feature::Hazard(self.clone())
    }

    fn feature(&self) -> ogc::Feature {
        ogc::hazard(self)
    }

    fn find(engine: &Engine, id: i64) -> Option<&Self> {
        engine.responders.hazard(id)
    }

    fn update(id: i64, now: Option<(usize, Self)>) -> Update {
        Update::Hazard { id, now }
    }
}

fn bad_property(e: &FeatureProblem) -> ServiceError {
    ServiceError::BadRequest(format!("properties: {e}"))
}

fn geometry_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) | Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}

/// A body's feature and the id it names, if any.
fn parse_body<T: Writable>(body: &[u8]) -> ServiceResult<(T, Option<String>)> {
    let f = params::feature_body(body, T::NOUN, T::PROPERTIES)?;
    Ok((T::parse(f.geometry, &f.properties)?, f.id))
}

/// A store id from the path.
fn parse_id<T: Writable>(id: &str) -> ServiceResult<i64> {
    id.trim()
        .parse()
        .map_err(|_| ServiceError::NotFound(format!("no {} with id {id:?}", T::NOUN)))
}

/// The region a feature is indexed in: the one nearest to its centroid,
/// when that lies within `limit_m` of the territory.
fn region_of<T: Writable>(state: &AppState, item: &T, limit_m: f64) -> ServiceResult<usize> {
    let at: Point<f64> = item
        .geometry()
        .centroid()
        .ok_or_else(|| ServiceError::BadRequest("geometry: it is empty".into()))?;
    state
        .engine()
        .responders
        .region_at(at, limit_m)
        .map_err(|e| ServiceError::BadRequest(format!("geometry: {e}")))
}

fn geojson_response(status: StatusCode, item: &impl Writable) -> Response {
    super::geojson(status, &item.feature().to_json())
}

/// Applies a stored write of feature `id` (now `Some((region, item))`, or
/// gone) to the engine (see [`crate::live::apply`]).
fn apply<T: Writable>(
    state: &AppState,
    what: &str,
    id: i64,
    now: Option<(usize, T)>,
) -> ServiceResult<()> {
    super::follow_stored(state, T::update(id, now), &|| {
        format!("{} {id} was {what}", T::NOUN)
    })
}

/// The audit entry of `action` on a feature by `writer`: the engine's copy
/// of feature `id` before (read under the writes' lock, so it is the
/// stored one) and `after`.
fn audit<T: Writable>(
    writer: &Writer<Dispatch>,
    state: &AppState,
    action: &str,
    id: Option<i64>,
    after: Option<&T>,
) -> AuditRecord {
    let json = |x: &T| x.feature().to_json().to_string();
    AuditRecord {
        feature_id: id,
        before: id.and_then(|id| T::find(&state.engine(), id).map(json)),
        after: after.map(json),
        ..AuditRecord::now(&writer.actor(), action, T::LAYER.table())
    }
}

/// Applies another process's stored write of feature `id` of `layer`
/// (`stored`: the row now, or `None` when it is gone) to the engine, like
/// a write of this process: indexes, risk, collection and tiles.
///
/// # Errors
/// [`ServiceError`] when the feature cannot be placed or indexed.
pub(crate) fn follow(
    state: &AppState,
    layer: Layer,
    id: i64,
    stored: Option<store::Feature>,
) -> ServiceResult<()> {
    match (layer, stored) {
        (_, Some(store::Feature::Facility(f))) => follow_one(state, id, Some(f)),
        (_, Some(store::Feature::Hazard(h))) => follow_one(state, id, Some(h)),
        (Layer::Facilities, None) => follow_one::<Facility>(state, id, None),
        (Layer::Hazards, None) => follow_one::<Hazard>(state, id, None),
        (other, _) => Err(ServiceError::Internal(format!(
            "the {} layer is not followed feature by feature",
            other.table()
        ))),
    }
}

fn follow_one<T: Writable>(state: &AppState, id: i64, item: Option<T>) -> ServiceResult<()> {
    let Some(item) = item else {
        return apply::<T>(state, "deleted by another process", id, None);
    };
    // The store holds it: it is served wherever it lies (a process with a
    // larger --max-outside-km wrote it), in the nearest region.
    let region = region_of(state, &item, state.config.max_outside_m).or_else(|e| {
        tracing::warn!(layer = T::PATH, id, error = %e, "another process stored a {} farther from the territory than this one's --max-outside-km; serving it as stored", T::NOUN);
        region_of(state, &item, f64::INFINITY)
    })?;
    apply(
        state,
        "written by another process",
        id,
        Some((region, item)),
    )
}

async fn create<T: Writable>(
    writer: Writer<Dispatch>,
    State(state): State<AppState>,
    body: Bytes,
) -> ServiceResult<Response> {
    let (mut item, _) = parse_body::<T>(&body)?;
    let _order = state.writes.lock().await;
    let region = region_of(&state, &item, state.config.max_outside_m)?;
    let record = audit(&writer, &state, "create", None, Some(&item));
    let id = state.store.insert(&item.stored(), &record).await?;
    item.set_id(id);
    apply(&state, "stored", id, Some((region, item.clone())))?;
    let mut response = geojson_response(StatusCode::CREATED, &item);
    if let Ok(location) = format!("/api/v1/{}/{id}", T::PATH).parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn read<T: Writable>(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ServiceResult<Response> {
    let id = parse_id::<T>(&id)?;
    let engine = state.engine();
    let item = T::find(&engine, id)
        .ok_or_else(|| ServiceError::NotFound(format!("no {} with id {id}", T::NOUN)))?;
    Ok(geojson_response(StatusCode::OK, item))
}

async fn replace<T: Writable>(
    writer: Writer<Dispatch>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ServiceResult<Response> {
    let id = parse_id::<T>(&id)?;
    let (mut item, body_id) = parse_body::<T>(&body)?;
    if let Some(b) = body_id.filter(|b| b.trim() != id.to_string()) {
        return Err(ServiceError::BadRequest(format!(
            "id: the body names {} {b:?}, the path {id}",
            T::NOUN
        )));
    }
    item.set_id(id);
    let _order = state.writes.lock().await;
    let region = region_of(&state, &item, state.config.max_outside_m)?;
    let record = audit(&writer, &state, "update", Some(id), Some(&item));
    if !state.store.update(&item.stored(), &record).await? {
        return Err(ServiceError::NotFound(format!(
            "no {} with id {id}",
            T::NOUN
        )));
    }
    apply(&state, "updated", id, Some((region, item.clone())))?;
    Ok(geojson_response(StatusCode::OK, &item))
}

async fn remove<T: Writable>(
    writer: Writer<Dispatch>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ServiceResult<Response> {
    let id = parse_id::<T>(&id)?;
    let _order = state.writes.lock().await;
    let record = audit::<T>(&writer, &state, "delete", Some(id), None);
    if !state.store.delete(T::LAYER, id, &record).await? {
        return Err(ServiceError::NotFound(format!(
            "no {} with id {id}",
            T::NOUN
        )));
    }
    apply::<T>(&state, "deleted", id, None)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

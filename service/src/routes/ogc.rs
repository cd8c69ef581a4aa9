//! OGC API Features (Part 1: Core, GeoJSON) under `/ogc`: landing page,
//! conformance, collections and their items by `bbox`, `limit` and `offset`,
//! so GDAL (`ogrinfo OAPIF:http://…/ogc`) and QGIS read the layers directly.
//! The grids' workers and leaders ([`crate::ogc::PEOPLE`]) are given only
//! to callers with a token.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::params;
use crate::auth::Reader;
use crate::error::{ServiceError, ServiceResult};
use crate::ogc::Collection;
use crate::state::AppState;

/// Items per page without `limit`.
const DEFAULT_LIMIT: usize = 100;
/// The largest `limit`.
const MAX_LIMIT: usize = 10_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .route("/conformance", get(conformance))
        .route("/collections", get(collections))
        .route("/collections/{id}", get(collection))
        .route("/collections/{id}/items", get(items))
        .route("/collections/{id}/items/{fid}", get(item))
}

/// `http://host/ogc` as the client reached it.
fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    format!("{proto}://{host}/ogc")
}

fn link(href: impl Into<String>, rel: &str, ty: &str, title: &str) -> Value {
    let href: String = href.into();
    json!({ "href": href, "rel": rel, "type": ty, "title": title })
}

async fn landing(headers: HeaderMap) -> Json<Value> {
    let base = base(&headers);
    Json(json!({
        "title": "civgrid",
        "description": "Unit cells, household grids, facilities and hazards of the territory",
        "links": [
            link(base.clone(), "self", "application/json", "this document"),
            link(format!("{base}/conformance"), "conformance", "application/json", "conformance classes"),
            link(format!("{base}/collections"), "data", "application/json", "collections"),
        ],
    }))
}

async fn conformance() -> Json<Value> {
    Json(json!({
        "conformsTo": [
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        ]
    }))
}

fn describe(c: &Collection, base: &str) -> Value {
    let items = format!("{base}/collections/{}/items", c.id);
    let bbox = c.extent().map_or_else(
        || json!([[-180.0, -90.0, 180.0, 90.0]]),
        |e| json!([[e.min().x, e.min().y, e.max().x, e.max().y]]),
    );
    json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "extent": { "spatial": { "bbox": bbox, "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84" } },
        "links": [
            link(format!("{base}/collections/{}", c.id), "self", "application/json", c.title),
            link(items, "items", "application/geo+json", c.title),
        ],
    })
}

async fn collections(State(state): State<AppState>, headers: HeaderMap) -> Json<Value> {
    let base = base(&headers);
    let engine = state.engine();
    let list: Vec<Value> = engine
        .collections
        .all()
        .iter()
        .map(|c| describe(c, &base))
        .collect();
    Json(json!({
        "links": [link(format!("{base}/collections"), "self", "application/json", "collections")],
        "collections": list,
    }))
}

fn no_collection(id: &str) -> ServiceError {
    ServiceError::NotFound(format!(
        "no collection {id:?}; see /ogc/collections for the list"
    ))
}

async fn collection(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ServiceResult<Json<Value>> {
    let engine = state.engine();
    let c = engine
        .collections
        .get(&id)
        .ok_or_else(|| no_collection(&id))?;
    Ok(Json(describe(c, &base(&headers))))
}

/// Raw parameters: parsed by hand so that errors name the parameter.
#[derive(Debug, Default, Deserialize)]
struct ItemsParams {
    bbox: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

fn geojson(body: &Value) -> Response {
    super::geojson(StatusCode::OK, body)
}

async fn items(
    reader: Reader,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ItemsParams>,
) -> ServiceResult<Response> {
    let bbox = q.bbox.as_deref().map(params::bbox).transpose()?;
    let limit = params::count("limit", q.limit.as_deref(), DEFAULT_LIMIT, 1..=MAX_LIMIT)?;
    let offset = params::count("offset", q.offset.as_deref(), 0, 0..=usize::MAX)?;
    let engine = state.engine();
    let c = engine
        .collections
        .get(&id)
        .ok_or_else(|| no_collection(&id))?;
    let page = c.query(bbox, offset, limit);
    let url = |offset: usize| {
        let mut u = format!(
            "{}/collections/{id}/items?limit={limit}&offset={offset}",
            base(&headers)
        );
        if let Some(b) = &q.bbox {
            u.push_str("&bbox=");
            u.push_str(b);
        }
        u
    };
    let mut links = vec![link(
        url(offset),
        "self",
        "application/geo+json",
        "this page",
    )];
    if offset + page.features.len() < page.matched {
        links.push(link(
            url(offset + page.features.len()),
            "next",
            "application/geo+json",
            "next page",
        ));
    }
    let people = reader.people();
    let features: Vec<Value> = page
        .features
        .iter()
        .map(|f| f.to_json_for(people))
        .collect();
    Ok(geojson(&json!({
        "type": "FeatureCollection",
        "numberMatched": page.matched,
        "numberReturned": features.len(),
        "timeStamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "links": links,
        "features": features,
    })))
}

async fn item(
    reader: Reader,
    State(state): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
) -> ServiceResult<Response> {
    let engine = state.engine();
    let c = engine
        .collections
        .get(&id)
        .ok_or_else(|| no_collection(&id))?;
    let f = c.get(&fid).ok_or_else(|| {
        ServiceError::NotFound(format!("collection {id:?} has no feature {fid:?}"))
    })?;
    Ok(geojson(&f.to_json_for(reader.people())))
}

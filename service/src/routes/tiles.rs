//! `GET /tiles/{layer}/{z}/{x}/{y}[@2x].{png|mvt}` and `GET /tiles/{layer}.json`
//! (TileJSON 3).
//!
//! Served: `risk` (PNG, 256 px, 512 px with `@2x`), `heat` (PNG, 256 px;
//! `?kind=a,b&from=&to=` filter the incidents, ISO 8601 or Unix seconds;
//! `?of=hazards[&kind=]` is the density of hazards weighted by level),
//! `base` (MVT: layers `water`, `roads`, `buildings`), `areas` (MVT:
//! layers `districts`, `subdistricts`, `communities` with their cells per
//! risk level), and `cells`, `grids`, `facilities`, `hazards`,
//! `components`, `zones` (MVT 2.1, one layer of that name; see
//! [`crate::tiles`] and docs/tiles.md). Each layer is served from its
//! least zoom on (its TileJSON's `minzoom`; a tile below it → 404 naming
//! the zooms). Answers carry a strong
//! `ETag` and `Cache-Control: no-cache` (a client or proxy may keep the
//! tile but revalidates it, so an edit is seen at once); `If-None-Match`
//! with the current tag → 304. A zoom outside 0–22 or a column or row
//! outside the zoom's range → 400; an unknown layer, or a format the layer
//! is not served in → 404.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use civgrid_tiles::{TileCoord, TileKey};
use serde::Deserialize;
use serde_json::json;

use super::tagged;
use crate::error::{ServiceError, ServiceResult};
use crate::state::AppState;
use crate::tiles::layer::served;
use crate::tiles::{HeatSource, IncidentFilter, Tile, TileLayer, VectorLayer, MAX_SERVED_ZOOM};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tiles/{layer}/{z}/{x}/{file}", get(tile))
        .route("/tiles/{file}", get(tilejson))
}

/// A checked tile request.
#[derive(Debug)]
struct Request {
    layer: TileLayer,
    coord: TileCoord,
    scale: u8,
}

impl Request {
    fn parse(layer: &str, z: &str, x: &str, file: &str) -> ServiceResult<Self> {
        let layer = TileLayer::parse(layer).map_err(ServiceError::NotFound)?;
        let Some((stem, format)) = file.rsplit_once('.') else {
            return Err(ServiceError::NotFound(format!(
                "tile {file:?} has no format: ask for {{y}}.{}",
                layer.format()
            )));
        };
        if format != layer.format() {
            return Err(ServiceError::NotFound(format!(
                "layer {} is served as {}, not {format:?}",
                layer.name(),
                layer.format()
            )));
        }
        let (y, scale) = match stem.strip_suffix("@2x") {
            Some(y) if layer == TileLayer::Risk => (y, 2),
            _ => (stem, 1),
        };
        let z: u8 = z
            .parse()
            .ok()
            .filter(|z| *z <= MAX_SERVED_ZOOM)
            .ok_or_else(|| {
                ServiceError::BadRequest(format!(
                    "zoom {z:?} is not a whole number from 0 to {MAX_SERVED_ZOOM}"
                ))
            })?;
        let n = 1u64 << z;
        let index = |name: &str, v: &str| {
            v.parse::<u32>()
                .ok()
                .filter(|v| u64::from(*v) < n)
                .ok_or_else(|| {
                    ServiceError::BadRequest(format!(
                        "tile {name} {v:?} is not a whole number from 0 to {} at zoom {z}",
                        n - 1
                    ))
                })
        };
        if z < layer.minzoom() {
            return Err(ServiceError::NotFound(format!(
                "layer {} is served from zoom {} to {MAX_SERVED_ZOOM}, not at {z}{}",
                layer.name(),
                layer.minzoom(),
                match layer {
                    TileLayer::Vector(VectorLayer::Cells | VectorLayer::Grids) => {
                        "; below, the areas layer shows communities with their cells per risk level"
                    }
                    _ => "",
                }
            )));
        }
        let (x, y) = (index("x", x)?, index("y", y)?);
        let coord = TileCoord::new_checked(z, x, y)
            .ok_or_else(|| ServiceError::BadRequest(format!("no tile {z}/{x}/{y}")))?;
        Ok(Self {
            layer,
            coord,
            scale,
        })
    }
}

/// Heat-map filters, parsed by hand so that errors name the parameter.
#[derive(Debug, Default, Deserialize)]
struct HeatParams {
    of: Option<String>,
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl HeatParams {
    fn filter(&self) -> ServiceResult<IncidentFilter> {
        let time = |name: &str, v: &Option<String>| {
            v.as_deref()
                .map(|v| {
                    v.trim()
                        .parse::<i64>()
                        .ok()
                        .or_else(|| {
                            chrono::DateTime::parse_from_rfc3339(v.trim())
                                .ok()
                                .map(|t| t.timestamp())
                        })
                        .ok_or_else(|| {
                            ServiceError::BadRequest(format!(
                                "parameter {name} = {v:?} is not an ISO 8601 time with offset (2026-01-01T00:00:00+08:00) or Unix seconds"
                            ))
                        })
                })
                .transpose()
        };
        let source = match self.of.as_deref().map(str::trim) {
            None | Some("incidents") => HeatSource::Incidents,
            Some("hazards") if self.from.is_none() && self.to.is_none() => HeatSource::Hazards,
            Some("hazards") => {
                return Err(ServiceError::BadRequest(
                    "from and to filter incidents, not hazards".into(),
                ));
            }
            Some(other) => {
                return Err(ServiceError::BadRequest(format!(
                    "parameter of = {other:?} is not incidents or hazards"
                )));
            }
        };
        Ok(IncidentFilter {
            source,
            kinds: self
                .kind
                .as_deref()
                .map(|k| {
                    k.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            from_unix_s: time("from", &self.from)?,
            to_unix_s: time("to", &self.to)?,
        })
    }
}

#[tracing::instrument(skip_all, fields(tile.layer = %layer, tile.z = %zoom, tile.x = %column, tile.file = %file))]
async fn tile(
    State(state): State<AppState>,
    Path((layer, zoom, column, file)): Path<(String, String, String, String)>,
    Query(query): Query<HeatParams>,
    headers: HeaderMap,
) -> ServiceResult<Response> {
    let r = Request::parse(&layer, &zoom, &column, &file)?;
    let filter = query.filter()?;
    if r.layer != TileLayer::Heat && !filter.is_empty() {
        return Err(ServiceError::BadRequest(format!(
            "of, kind, from and to filter the heat layer, not {}",
            r.layer.name()
        )));
    }
    let key = TileKey {
        layer: r.layer.name(),
        coord: r.coord,
        scale: r.scale,
    };
    // Filtered heat maps are not cached (the key does not hold the
    // filter), nor hazard heat maps (hazards move, and a heat tile is
    // touched by a hazard up to a bandwidth away).
    let cacheable = filter.is_empty();
    let tile = match cacheable.then(|| state.tiles.cache.get(&key)).flatten() {
        Some(cached) => cached,
        None => tokio::task::spawn_blocking(move || {
            // The generation before the snapshot (see crate::tiles).
            let generation = state.tiles.cache.generation();
            let engine = state.engine();
            let render = || {
                state.tiles.render(
                    &engine,
                    &state.config.styles,
                    r.layer,
                    r.coord,
                    r.scale,
                    &filter,
                )
            };
            if cacheable {
                state.tiles.get(generation, key, render)
            } else {
                render().map(Tile::new)
            }
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("tile rendering stopped: {e}")))?
        .map_err(|e| ServiceError::Internal(format!("tile rendering failed: {e}")))?,
    };
    tagged(&headers, &tile.etag, r.layer.content_type(), tile.bytes)
}

/// `GET /tiles/{layer}.json`: TileJSON 3.0.0 with absolute tile URLs from
/// the request's `Host`.
async fn tilejson(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> ServiceResult<Response> {
    let layer = file
        .strip_suffix(".json")
        .ok_or_else(|| {
            ServiceError::NotFound(format!("no TileJSON {file:?}; served: {}", served()))
        })
        .and_then(|l| TileLayer::parse(l).map_err(ServiceError::NotFound))?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let extent = civgrid::extent::extent(
        state
            .engine()
            .cells
            .iter()
            .filter_map(|c| geo::BoundingRect::bounding_rect(&c.geometry)),
    );
    let mut body = json!({
        "tilejson": "3.0.0",
        "name": layer.name(),
        "description": layer.description(),
        "scheme": "xyz",
        "tiles": [format!(
            "http://{host}/tiles/{}/{{z}}/{{x}}/{{y}}.{}",
            layer.name(),
            layer.format()
        )],
        "minzoom": layer.minzoom(),
        "maxzoom": MAX_SERVED_ZOOM,
        "attribution": "civgrid",
    });
    let vector_layers = crate::tiles::layer::vector_layers_json(
        layer,
        &state.tiles.fields(&state.engine(), layer),
        layer.minzoom(),
        MAX_SERVED_ZOOM,
    );
    if !vector_layers.is_empty() {
        body["vector_layers"] = vector_layers.into();
    }
    if let Some(e) = extent {
        body["bounds"] = json!([e.min().x, e.min().y, e.max().x, e.max().y]);
        body["center"] = json!([e.center().x, e.center().y, 14]);
    }
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}

//! The web map: `GET /` (the page) and `GET /web/{file}` (its scripts,
//! styles and the MapLibre stylesheet), built from `web/` by `npm run
//! build` into `web/dist/` and embedded in the binary, so the service needs
//! neither npm nor files beside it and the page needs nothing from outside.
//! `GET /web/palette.json` is the risk palette the tiles are drawn with
//! (`--styles`), for the page's legend and hazard colours.
//!
//! Every answer carries its `Content-Type`, a strong `ETag` (SHA-256 of the
//! bytes, computed once) and `Cache-Control: no-cache` (a browser keeps the
//! files but revalidates them, so a new build is seen at once);
//! `If-None-Match` with the current tag → 304. HEAD is answered like GET
//! without a body (axum's `get`).

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use include_dir::{include_dir, Dir};
use serde_json::json;

use super::tagged;
use crate::error::{ServiceError, ServiceResult};
use crate::state::AppState;
use crate::tiles::strong_etag;

/// `web/dist`, as built by `npm run build` and committed.
static DIST: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../web/dist");

/// The page served at `/`.
pub const INDEX: &str = "index.html";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/web/palette.json", get(palette))
        .route("/web/{*file}", get(asset))
}

/// A built file, with what its answers carry.
struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
    etag: String,
}

/// Every file of the build by its path, with its tag (hashed once).
fn assets() -> &'static HashMap<&'static str, Asset> {
    static ASSETS: OnceLock<HashMap<&'static str, Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        let mut out = HashMap::new();
        let mut dirs = vec![&DIST];
        while let Some(dir) = dirs.pop() {
            for file in dir.files() {
                let Some(path) = file.path().to_str() else {
                    continue;
                };
                out.insert(
                    path,
                    Asset {
                        bytes: file.contents(),
                        content_type: content_type(path),
                        etag: strong_etag(file.contents()),
                    },
                );
            }
            dirs.extend(dir.dirs());
        }
        out
    })
}

/// The media type of a built file, by extension. Written out rather than
/// taken from a MIME crate: the build makes these few kinds only.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn index(headers: HeaderMap) -> ServiceResult<Response> {
    serve(INDEX, &headers)
}

/// `GET /web/palette.json`: `{"red": "#E60012", "orange": …, "yellow": …,
/// "blue": …}`, the colours of the served risk tiles.
async fn palette(State(state): State<AppState>, headers: HeaderMap) -> ServiceResult<Response> {
    let p = state.config.styles.palette;
    let body = json!({
        "red": p.red.to_hex(),
        "orange": p.orange.to_hex(),
        "yellow": p.yellow.to_hex(),
        "blue": p.blue.to_hex(),
    })
    .to_string();
    tagged(
        &headers,
        &strong_etag(body.as_bytes()),
        "application/json",
        body,
    )
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> ServiceResult<Response> {
    serve(&file, &headers)
}

fn serve(path: &str, headers: &HeaderMap) -> ServiceResult<Response> {
    let asset = assets().get(path).ok_or_else(|| {
        ServiceError::NotFound(format!("no web map file {path:?}; the page is at /"))
    })?;
    tagged(headers, &asset.etag, asset.content_type, asset.bytes)
}

//! The web map's files over HTTP: `GET /` is the page, `/web/…` its
//! assets, byte for byte the committed `web/dist/` build, with their media
//! types, strong ETags (304 on revalidation) and `no-cache`; the page asks
//! for nothing outside the service.

use std::path::PathBuf;

use axum::http::{header, HeaderMap, StatusCode};
use axum::Router;
use civgrid_service::state::ServeConfig;
use civgrid_service::store;
use civgrid_service::tiles::Palette;
use civgrid_service::{app, AppState};

use crate::common::{fresh_gpkg, get_bytes};

/// The app over an empty GeoPackage store (the page needs no data).
async fn web_app() -> (Router, crate::common::TestStore) {
    web_app_with(ServeConfig::default()).await
}

/// The same with `config`.
async fn web_app_with(config: ServeConfig) -> (Router, crate::common::TestStore) {
    let s = fresh_gpkg();
    let store = store::open(&s.spec).await.expect("open the store");
    let state = AppState::load_with(store, config)
        .await
        .expect("load the state");
    (app(state), s)
}

fn dist(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../web/dist")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `src` and `href` attributes of the page.
fn references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').expect("a closed attribute");
            out.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    out
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_with_their_types_and_tags() {
    let (app, _store) = web_app().await;
    let (status, headers, body) = get_bytes(&app, "/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert!(body == dist("index.html"), "/ is not web/dist/index.html");
    let html = String::from_utf8(body).expect("UTF-8");
    assert!(html.contains("<div id=\"map\">"), "the page has the map");

    let mut refs = references(&html);
    refs.sort();
    let expected = [
        ("/web/app.css", "text/css; charset=utf-8"),
        ("/web/app.js", "text/javascript; charset=utf-8"),
        ("/web/maplibre-gl.css", "text/css; charset=utf-8"),
    ];
    assert_eq!(
        refs.iter().map(String::as_str).collect::<Vec<_>>(),
        expected.map(|(uri, _)| uri),
        "the page loads exactly its three assets, all from /web/"
    );
    for (uri, content_type) in expected {
        let (status, headers, body) = get_bytes(&app, uri, None).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(headers[header::CONTENT_TYPE], content_type, "{uri}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache", "{uri}");
        let file = uri.trim_start_matches("/web/");
        let want = dist(file);
        assert!(
            body == want,
            "{uri} ({} bytes) is not web/dist/{file} ({} bytes)",
            body.len(),
            want.len()
        );
        // A strong tag; revalidating with it gives 304 and no body.
        let etag = headers[header::ETAG].to_str().expect("an ETag").to_owned();
        assert!(
            etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
            "{uri}: {etag}"
        );
        let (status, again, body) = get_bytes(&app, uri, Some(&etag)).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{uri}");
        assert_eq!(again[header::ETAG], etag.as_str());
        assert!(body.is_empty(), "{uri}: 304 has no body");
        // Another tag: the file again.
        let (status, _, body) = get_bytes(&app, uri, Some("\"stale\"")).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert!(body == want, "{uri} again");
    }
    // The files differ, so do their tags.
    let tag = |h: &HeaderMap| h[header::ETAG].to_str().expect("tag").to_owned();
    let (_, a, _) = get_bytes(&app, "/web/app.js", None).await;
    let (_, b, _) = get_bytes(&app, "/web/app.css", None).await;
    assert_ne!(tag(&a), tag(&b));
}

#[tokio::test]
async fn the_page_needs_nothing_from_outside() {
    let (app, _store) = web_app().await;
    for uri in ["/", "/web/app.css"] {
        let (_, _, body) = get_bytes(&app, uri, None).await;
        let text = String::from_utf8(body).expect("UTF-8");
        for outside in ["http://", "https://", "//fonts.", "@import"] {
            assert!(!text.contains(outside), "{uri} refers to {outside:?}");
        }
    }
    // The script's tile URLs are built from the page's own origin (the
    // e2e tests refuse every request elsewhere in a real browser).
    let (_, _, body) = get_bytes(&app, "/web/app.js", None).await;
    let text = String::from_utf8(body).expect("UTF-8");
    assert!(
        text.contains("location.origin"),
        "tile URLs use the page's origin"
    );
    for outside in ["fonts.googleapis", "api.maptiler", "demotiles.maplibre"] {
        assert!(!text.contains(outside), "app.js names {outside}");
    }
}

#[tokio::test]
async fn unknown_web_files_are_problems() {
    let (app, _store) = web_app().await;
    for uri in ["/web/nope.js", "/web/../Cargo.toml", "/web/"] {
        let (status, headers, body) = get_bytes(&app, uri, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/problem+json",
            "{uri}"
        );
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert!(
            body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{uri}: {body}"
        );
    }
}

#[tokio::test]
async fn the_palette_is_the_one_the_tiles_are_drawn_with() {
    let (shipped_app, _store) = web_app().await;
    let (status, headers, body) = get_bytes(&shipped_app, "/web/palette.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let served: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let shipped: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../styles/risk.json"),
        )
        .expect("styles/risk.json"),
    )
    .expect("JSON");
    assert_eq!(served, shipped, "by default, styles/risk.json");

    // Another palette (`--styles`): the page is told that one.
    let mut config = ServeConfig::default();
    config.styles.palette = Palette::from_json(
        r##"{"red": "#AA0000", "orange": "#BB5500", "yellow": "#CCCC00", "blue": "#0000DD80"}"##,
    )
    .expect("a palette");
    let (app, _other) = web_app_with(config).await;
    let (_, _, body) = get_bytes(&app, "/web/palette.json", None).await;
    let served: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(
        served,
        serde_json::json!({"red": "#AA0000", "orange": "#BB5500", "yellow": "#CCCC00", "blue": "#0000DD80"})
    );
}

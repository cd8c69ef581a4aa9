//! The OpenAPI document against the router, both ways: it is a valid
//! OpenAPI 3 document, every documented operation is answered by its
//! route (not the fallback, not 405), and every route in the source is
//! documented with its methods.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use civgrid_service::auth::WriterToken;
use civgrid_service::openapi::{In, OPERATIONS};
use civgrid_service::state::ServeConfig;
use civgrid_service::{app, AppState};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::common::{test_city_store, Backend};

const TOKEN: &str = "openapi-admin";

/// Every `(METHOD, path)` the routers in `service/src/routes` declare,
/// with the prefixes they are nested under.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes");
    let prefix = |file: &str| match file {
        "ogc.rs" => "/ogc",
        "tiles.rs" | "health.rs" | "mod.rs" | "web.rs" => "",
        _ => "/api/v1",
    };
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("the routes folder") {
        let path = entry.expect("an entry").path();
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_owned();
        let text = std::fs::read_to_string(&path).expect("a source file");
        for chunk in text.split(".route(").skip(1) {
            let Some(literal) = chunk.split('"').nth(1) else {
                continue;
            };
            // The methods of this route: up to the next route or the end
            // of the builder.
            let end = chunk.find("\n}").unwrap_or(chunk.len());
            let body = &chunk[..end];
            let full = match (prefix(&file), literal) {
                ("/ogc", "/") => "/ogc".to_owned(),
                // A catch-all `{*name}` is the path parameter `{name}`.
                (p, l) => format!("{p}{l}").replace("{*", "{"),
            };
            for method in ["get", "post", "put", "delete"] {
                if body.contains(&format!("{method}(")) {
                    out.insert((method.to_owned(), full.clone()));
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn the_document_matches_the_router_both_ways() {
    let (_holder, store, _) = test_city_store(Backend::Gpkg).await;
    let state = AppState::load(store)
        .await
        .expect("load")
        .with_config(ServeConfig {
            writer_token: WriterToken::new(TOKEN),
            ..ServeConfig::default()
        });
    let app = app(state);

    // A valid OpenAPI 3 document.
    let req = Request::get("/openapi.json")
        .body(Body::empty())
        .expect("request");
    let r = app.clone().oneshot(req).await.expect("answer");
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.into_body().collect().await.expect("body").to_bytes();
    let doc: openapiv3::OpenAPI = serde_json::from_slice(&bytes).expect("an OpenAPI 3 document");
    assert!(doc.openapi.starts_with("3.0"));
    let raw: Value = serde_json::from_slice(&bytes).expect("JSON");

    // Every documented operation is routed.
    let mut documented = BTreeSet::new();
    for o in OPERATIONS {
        documented.insert((o.method.to_owned(), o.path.to_owned()));
        let mut path = o.path.to_owned();
        let mut query = Vec::new();
        for p in o.params {
            // Writes aim at ids that do not exist, so nothing changes.
            let value = if o.method == "get" {
                p.example
            } else {
                "999999"
            };
            match p.at {
                In::Path => path = path.replace(&format!("{{{}}}", p.name), value),
                In::Query if p.required => query.push(format!("{}={}", p.name, p.example)),
                In::Query => {}
            }
        }
        let uri = if query.is_empty() {
            path
        } else {
            format!("{path}?{}", query.join("&"))
        };
        let method: Method = o.method.to_uppercase().parse().expect("a method");
        let body = if o.request.is_some() {
            Body::from("{}")
        } else {
            Body::empty()
        };
        let req = Request::builder()
            .method(method)
            .uri(&uri)
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .body(body)
            .expect("request");
        let r = app.clone().oneshot(req).await.expect("answer");
        let status = r.status();
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes);
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{} {uri}", o.method);
        assert!(
            !text.contains("no such endpoint"),
            "{} {uri}: the fallback answered",
            o.method
        );
        assert!(
            raw["paths"][o.path][o.method]["responses"][o.answer.0.to_string()].is_object(),
            "{} {}: its success is documented",
            o.method,
            o.path
        );
        if status.is_success() {
            assert_eq!(status.as_u16(), o.answer.0, "{} {uri}: {text}", o.method);
        } else {
            let documented = &raw["paths"][o.path][o.method]["responses"][status.as_str()];
            assert!(
                documented.is_object(),
                "{} {uri}: {status} is not documented: {text}",
                o.method
            );
        }
    }

    // Every route in the source is documented.
    let source = routes_in_source();
    assert!(source.len() >= 30, "the source scan found {source:?}");
    let missing: Vec<_> = source.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes without documentation: {missing:?}"
    );
    let stale: Vec<_> = documented.difference(&source).collect();
    assert!(
        stale.is_empty(),
        "documented operations without a route: {stale:?}"
    );
}

//! People's names and phones (grid workers and leaders) and the grid edit
//! log, on both stores with open reads (the default): anonymous answers
//! carry none of the stored names and phones anywhere (searched for in
//! every answer's bytes), a token's answers of any role do, tiles never do
//! (not even when a token's request filled the cache), and the edit log
//! with its authors is for planners and admins.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use civgrid::grids::Grid;
use civgrid_service::auth::{token_digest, Access};
use civgrid_service::state::ServeConfig;
use civgrid_service::{app, AppState};
use geo::InteriorPoint;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::{both_stores, Backend, TestStore};

const PLANNER: &str = "people-planner-token";
const DISPATCHER: &str = "people-dispatcher-token";
/// The author of the stored assignments, in the edit log only.
const AUTHOR: &str = "编辑人甲";

struct Fixture {
    app: Router,
    /// The active grids, each with a worker and a leader.
    grids: Vec<Grid>,
    _holder: TestStore,
}

async fn fixture(backend: Backend) -> Fixture {
    let (_, holder, store, _) = crate::grids::planned_test_city(backend).await;
    crate::grids::staff_grids(&store, 1, AUTHOR).await;
    let access = Access::parse(
        &format!(
            "[[token]]\nname = \"规划\"\nrole = \"planner\"\nsha256 = \"{}\"\n\
             [[token]]\nname = \"指挥\"\nrole = \"dispatcher\"\nsha256 = \"{}\"\n",
            token_digest(PLANNER),
            token_digest(DISPATCHER)
        ),
        "access.toml",
    )
    .expect("an access file");
    let state = AppState::load_with(
        store.clone(),
        ServeConfig {
            access,
            ..ServeConfig::default()
        },
    )
    .await
    .expect("state");
    let grids = store.load_grids().await.expect("grids");
    Fixture {
        app: app(state),
        grids: grids.into_iter().filter(|g| g.end.is_none()).collect(),
        _holder: holder,
    }
}

/// The status and body bytes of a request, with `token` if given.
async fn fetch(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> (StatusCode, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("a request");
    let r = app.clone().oneshot(req).await.expect("an answer");
    let status = r.status();
    let bytes = r.into_body().collect().await.expect("body").to_bytes();
    (status, bytes.to_vec())
}

/// The needles found in `bytes`.
fn found<'a>(bytes: &[u8], needles: &'a [String]) -> Vec<&'a str> {
    needles
        .iter()
        .filter(|n| bytes.windows(n.len()).any(|w| w == n.as_bytes()))
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn people_are_given_to_tokens_only_and_never_in_tiles_on_both_stores() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        // Every stored name and phone, and the edit log's author.
        let mut everyone: Vec<String> = f
            .grids
            .iter()
            .flat_map(|g| [&g.worker, &g.leader])
            .flatten()
            .flat_map(|c| [c.name.clone(), c.phone.clone()])
            .collect();
        assert_eq!(everyone.len(), 4 * f.grids.len(), "{backend:?}");
        everyone.push(AUTHOR.to_owned());
        let g = &f.grids[0];
        let mine: Vec<String> = [&g.worker, &g.leader]
            .into_iter()
            .flatten()
            .flat_map(|c| [c.name.clone(), c.phone.clone()])
            .collect();
        let p = g.geometry.interior_point().expect("a point");
        let (lon, lat) = (p.x(), p.y());
        let code = g.code.to_string();
        let assign = json!({"lon": lon, "lat": lat, "class": "0408", "kind": "event"});
        let reads: [(Method, String, Option<&Value>); 7] = [
            (
                Method::GET,
                format!("/api/v1/locate?lon={lon}&lat={lat}"),
                None,
            ),
            (Method::POST, "/api/v1/assign".into(), Some(&assign)),
            (Method::GET, "/api/v1/grids".into(), None),
            (Method::GET, format!("/api/v1/grids/{code}"), None),
            (Method::GET, "/api/v1/grids/summary".into(), None),
            (
                Method::GET,
                "/ogc/collections/grids/items?limit=10000".into(),
                None,
            ),
            (
                Method::GET,
                format!("/ogc/collections/grids/items/{code}"),
                None,
            ),
        ];
        for (method, uri, body) in &reads {
            let (s, anonymous) = fetch(&f.app, method.clone(), uri, *body, None).await;
            assert_eq!(s, StatusCode::OK, "{backend:?} {uri}");
            assert_eq!(
                found(&anonymous, &everyone),
                Vec::<&str>::new(),
                "{backend:?} {uri}: anonymous"
            );
            // The summary names no one to anyone; the others name the grid's people.
            let (s, tokened) = fetch(&f.app, method.clone(), uri, *body, Some(DISPATCHER)).await;
            assert_eq!(s, StatusCode::OK, "{backend:?} {uri}");
            let want: Vec<&str> = if uri.contains("summary") {
                Vec::new()
            } else {
                mine.iter().map(String::as_str).collect()
            };
            let shown: Vec<&str> = found(&tokened, &mine);
            assert_eq!(shown, want, "{backend:?} {uri}: with a token");
        }
        // Anonymous answers leave the fields out (null would mean nobody).
        let (_, b) = fetch(&f.app, Method::GET, &reads[3].1, None, None).await;
        let one: Value = serde_json::from_slice(&b).expect("JSON");
        assert!(one["properties"].get("worker_name").is_none(), "{one}");
        assert_eq!(one["properties"]["code"], code, "{one}");

        // Tiles: a token's request fills the cache; neither answer names anyone.
        let t = civgrid_tiles::TileCoord::containing(lon, lat, 14).expect("a tile");
        let tile = format!("/tiles/grids/14/{}/{}.mvt", t.x, t.y);
        for token in [Some(PLANNER), None] {
            let (s, bytes) = fetch(&f.app, Method::GET, &tile, None, token).await;
            assert_eq!(s, StatusCode::OK, "{backend:?} {tile}");
            assert_eq!(
                found(&bytes, &[code.clone()]),
                [code.as_str()],
                "the tile holds the grid"
            );
            assert_eq!(
                found(&bytes, &everyone),
                Vec::<&str>::new(),
                "{backend:?} {tile} {token:?}"
            );
        }

        // The edit log: planners and admins only.
        let log = "/api/v1/grids/edits";
        let (s, _) = fetch(&f.app, Method::GET, log, None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{backend:?}");
        let (s, _) = fetch(&f.app, Method::GET, log, None, Some(DISPATCHER)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{backend:?}");
        let (s, b) = fetch(&f.app, Method::GET, log, None, Some(PLANNER)).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}");
        let shown = found(&b, &everyone);
        assert!(shown.contains(&AUTHOR), "{backend:?}: {shown:?}");
        assert!(shown.contains(&mine[0].as_str()), "{backend:?}: {shown:?}");
    }
}

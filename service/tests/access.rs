//! Production controls through the HTTP app on both stores: tokens with
//! roles from an access file, reads behind a token, the audit log written
//! with every write (and not without it), metrics counting what was
//! answered, and body limits answered as problem+json.

use axum::http::{Method, StatusCode};
use axum::Router;
use civgrid_service::auth::{token_digest, Access, Reads};
use civgrid_service::state::ServeConfig;
use civgrid_service::store::Store;
use civgrid_service::{app, AppState};
use geo::BoundingRect;
use serde_json::{json, Value};

use crate::common::{both_stores, test_city_store, Backend, TestStore};
use crate::responders::send;

const PLANNER: &str = "planner-token-0001";
const DISPATCHER: &str = "dispatcher-token-0002";
const ADMIN: &str = "admin-token-0003";

fn access(reads: &str) -> Access {
    let text = format!(
        "reads = {reads:?}\n\
         [[token]]\nname = \"西湖区规划\"\nrole = \"planner\"\nsha256 = \"{}\"\n\
         [[token]]\nname = \"指挥中心\"\nrole = \"dispatcher\"\nsha256 = \"{}\"\n\
         [[token]]\nname = \"root\"\nrole = \"admin\"\nsha256 = \"{}\"\n",
        token_digest(PLANNER),
        token_digest(DISPATCHER),
        token_digest(ADMIN)
    );
    Access::parse(&text, "access.toml").expect("a valid access file")
}

struct Fixture {
    store: std::sync::Arc<dyn Store>,
    state: AppState,
    center: (f64, f64),
    _holder: TestStore,
}

async fn fixture(backend: Backend) -> Fixture {
    let (holder, store, city) = test_city_store(backend).await;
    let bbox = city.districts[0]
        .geometry
        .bounding_rect()
        .expect("a district extent");
    let state = AppState::load(store.clone()).await.expect("load");
    Fixture {
        store,
        state,
        center: (bbox.center().x, bbox.center().y),
        _holder: holder,
    }
}

/// Audit entries other than the fixture's import.
async fn writes_audited(f: &Fixture) -> usize {
    let log = f.store.load_audit().await.expect("audit");
    let imports: Vec<_> = log.iter().filter(|r| r.action == "import").collect();
    assert_eq!(imports.len(), 1, "the fixture's import is audited");
    assert_eq!(imports[0].actor.role, "cli");
    log.len() - imports.len()
}

/// Settings with the test tokens, reads open.
fn open() -> ServeConfig {
    ServeConfig {
        access: access("open"),
        ..ServeConfig::default()
    }
}

fn with(state: &AppState, config: ServeConfig) -> Router {
    app(state.clone().with_config(config))
}

fn station(lon: f64, lat: f64, name: &str) -> Value {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"kind": "fire_station", "name": name}})
}

#[tokio::test]
async fn roles_decide_who_writes_and_every_write_is_audited_on_both_stores() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        let app = with(&f.state, open());
        let (lon, lat) = f.center;
        let body = station(lon, lat, "一号站");

        // Reads are open; writes need the right role.
        let locate = format!("/api/v1/locate?lon={lon}&lat={lat}");
        assert_eq!(
            send(&app, Method::GET, &locate, None, None).await.0,
            StatusCode::OK
        );
        for (token, status, needle) in [
            (
                None,
                StatusCode::UNAUTHORIZED,
                "adding a facility needs a token with the role dispatcher or admin",
            ),
            (Some("nobody"), StatusCode::UNAUTHORIZED, "not known"),
            (Some(PLANNER), StatusCode::FORBIDDEN, "has the role planner"),
        ] {
            let (s, _, b) =
                send(&app, Method::POST, "/api/v1/facilities", Some(&body), token).await;
            assert_eq!(s, status, "{backend:?} {token:?}: {b}");
            assert!(
                b["detail"].as_str().expect("detail").contains(needle),
                "{b}"
            );
        }
        // A dispatcher may not edit grids; a planner passes the check (and
        // is then told what is wrong with the body).
        let edit = json!({"op": "fold"});
        let (s, _, b) = send(
            &app,
            Method::POST,
            "/api/v1/grids/edits",
            Some(&edit),
            Some(DISPATCHER),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        let (s, _, b) = send(
            &app,
            Method::POST,
            "/api/v1/grids/edits",
            Some(&edit),
            Some(PLANNER),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert!(writes_audited(&f).await == 0, "refusals write nothing");

        // Create, update, delete as the dispatcher; the admin may too.
        let (s, _, created) = send(
            &app,
            Method::POST,
            "/api/v1/facilities",
            Some(&body),
            Some(DISPATCHER),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        let id: i64 = created["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("an id");
        let moved = station(lon + 0.001, lat, "一号站（新址）");
        let uri = format!("/api/v1/facilities/{id}");
        let (s, _, b) = send(&app, Method::PUT, &uri, Some(&moved), Some(DISPATCHER)).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        // An update of a feature that is not there writes no audit entry.
        let (s, _, b) = send(
            &app,
            Method::PUT,
            "/api/v1/facilities/987654",
            Some(&moved),
            Some(ADMIN),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
        let (s, _, _) = send(&app, Method::DELETE, &uri, None, Some(ADMIN)).await;
        assert_eq!(s, StatusCode::NO_CONTENT);

        // The store's audit log, oldest first: exactly the three writes.
        let log: Vec<_> = f
            .store
            .load_audit()
            .await
            .expect("audit")
            .into_iter()
            .filter(|r| r.action != "import")
            .collect();
        let summary: Vec<_> = log
            .iter()
            .map(|r| {
                (
                    r.action.as_str(),
                    r.actor.name.as_str(),
                    r.actor.role.as_str(),
                    r.feature_id,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("create", "指挥中心", "dispatcher", Some(id)),
                ("update", "指挥中心", "dispatcher", Some(id)),
                ("delete", "root", "admin", Some(id)),
            ],
            "{backend:?}"
        );
        let geometry = |s: &Option<String>| -> Option<Value> {
            s.as_deref().map(|s| {
                serde_json::from_str::<Value>(s).expect("GeoJSON")["geometry"]["coordinates"]
                    .clone()
            })
        };
        assert_eq!(geometry(&log[0].before), None);
        assert_eq!(geometry(&log[0].after), Some(json!([lon, lat])));
        assert_eq!(geometry(&log[1].before), Some(json!([lon, lat])));
        assert_eq!(geometry(&log[1].after), Some(json!([lon + 0.001, lat])));
        assert_eq!(geometry(&log[2].before), Some(json!([lon + 0.001, lat])));
        assert_eq!(geometry(&log[2].after), None);
        assert!(log
            .windows(2)
            .all(|w| w[0].at <= w[1].at && w[0].id < w[1].id));

        // Over HTTP: admins only, newest first, filtered and paged.
        let (s, _, _) = send(&app, Method::GET, "/api/v1/audit", None, Some(DISPATCHER)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _, b) = send(&app, Method::GET, "/api/v1/audit", None, Some(ADMIN)).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["total"], 4);
        let actions: Vec<_> = b["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["action"].as_str().expect("action").to_owned())
            .collect();
        assert_eq!(actions, ["delete", "update", "create", "import"]);
        let (_, _, b) = send(
            &app,
            Method::GET,
            "/api/v1/audit?actor=%E6%8C%87%E6%8C%A5%E4%B8%AD%E5%BF%83&limit=1&offset=1",
            None,
            Some(ADMIN),
        )
        .await;
        assert_eq!(b["total"], 2, "{b}");
        assert_eq!(b["entries"][0]["action"], "create", "{b}");
        assert_eq!(
            b["entries"][0]["after"]["properties"]["name"], "一号站",
            "{b}"
        );
        for (uri, word) in [
            ("/api/v1/audit?limit=0", "limit"),
            ("/api/v1/audit?limit=ten", "limit"),
            ("/api/v1/audit?offset=-1", "offset"),
        ] {
            let (s, _, b) = send(&app, Method::GET, uri, None, Some(ADMIN)).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {b}");
            assert!(
                b["detail"].as_str().expect("detail").contains(word),
                "{uri}: {b}"
            );
        }
    }
}

#[tokio::test]
async fn refusals_name_the_action_and_the_role_needed() {
    let f = fixture(Backend::Gpkg).await;
    let app = with(&f.state, open());
    let body = station(f.center.0, f.center.1, "站");
    let planner = "the token \"西湖区规划\" has the role planner";
    let dispatcher = "the token \"指挥中心\" has the role dispatcher";
    let cases: &[(Method, &str, &str, &str)] = &[
        (Method::POST, "/api/v1/facilities", PLANNER, "adding a facility needs a token with the role dispatcher or admin; the token \"西湖区规划\" has the role planner"),
        (Method::PUT, "/api/v1/facilities/1", PLANNER, "changing a facility needs a token with the role dispatcher or admin"),
        (Method::DELETE, "/api/v1/facilities/1", PLANNER, "deleting a facility needs a token with the role dispatcher or admin"),
        (Method::POST, "/api/v1/hazards", PLANNER, "adding a hazard needs a token with the role dispatcher or admin"),
        (Method::PUT, "/api/v1/hazards/1", PLANNER, "changing a hazard needs"),
        (Method::DELETE, "/api/v1/hazards/1", PLANNER, "deleting a hazard needs"),
        (Method::POST, "/api/v1/components", DISPATCHER, "adding a component needs a token with the role planner or admin; the token \"指挥中心\" has the role dispatcher"),
        (Method::PUT, "/api/v1/components/3390010118000001", DISPATCHER, "changing or moving a component needs a token with the role planner or admin"),
        (Method::DELETE, "/api/v1/components/3390010118000001", DISPATCHER, "deleting a component needs a token with the role planner or admin"),
        (Method::POST, "/api/v1/grids/edits", DISPATCHER, "editing household grids needs a token with the role planner or admin"),
        (Method::POST, "/api/v1/grids/edits/1/revert", DISPATCHER, "reverting a grid edit needs a token with the role planner or admin"),
        (Method::GET, "/api/v1/grids/edits", DISPATCHER, "reading the grid edit log needs a token with the role planner or admin"),
        (Method::POST, "/api/v1/imports?name=a.geojson", PLANNER, "importing a file needs a token with the role admin; the token \"西湖区规划\" has the role planner"),
        (Method::GET, "/api/v1/audit", DISPATCHER, "reading the audit log needs a token with the role admin; the token \"指挥中心\" has the role dispatcher"),
    ];
    for (method, uri, token, needle) in cases {
        let sent = (*method != Method::GET && *method != Method::DELETE).then_some(&body);
        let (s, _, b) = send(&app, method.clone(), uri, sent, Some(token)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{method} {uri}: {b}");
        let detail = b["detail"].as_str().expect("detail");
        assert!(detail.starts_with(needle), "{method} {uri}: {detail}");
        let who = if *token == PLANNER {
            planner
        } else {
            dispatcher
        };
        assert!(detail.ends_with(who), "{method} {uri}: {detail}");
        assert!(!detail.contains("admin or admin"), "{detail}");
        if !uri.contains("/grids/") {
            assert!(!detail.contains("grid"), "{method} {uri}: {detail}");
        }
        // Without a token: the same action and role, and how to send one.
        let (s, _, b) = send(&app, method.clone(), uri, sent, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {uri}: {b}");
        let detail = b["detail"].as_str().expect("detail");
        let action = needle.split("; ").next().expect("the action");
        assert!(detail.starts_with(action), "{method} {uri}: {detail}");
        assert!(detail.contains("Authorization: Bearer TOKEN"), "{detail}");
    }
    // Every operation that needs a role is refused in its own words.
    for o in civgrid_service::openapi::OPERATIONS {
        let civgrid_service::openapi::Access::Role(_, action) = o.access else {
            continue;
        };
        let uri = o
            .path
            .replace("{id}", "1")
            .replace("{code}", "3390010118000001");
        let method: Method = o.method.to_uppercase().parse().expect("a method");
        let (_, _, b) = send(&app, method, &uri, None, None).await;
        let detail = b["detail"].as_str().unwrap_or_default();
        assert!(detail.starts_with(action), "{} {uri}: {b}", o.method);
    }
    // A server without tokens says so, naming the action.
    let bare = with(&f.state, ServeConfig::default());
    let (s, _, b) = send(
        &bare,
        Method::POST,
        "/api/v1/facilities",
        Some(&body),
        Some(ADMIN),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let detail = b["detail"].as_str().expect("detail");
    assert!(
        detail.starts_with("adding a facility needs a token with the role dispatcher or admin, and this server has none"),
        "{detail}"
    );
}

#[tokio::test]
async fn reads_behind_a_token_and_health_open() {
    let f = fixture(Backend::Gpkg).await;
    let app = with(
        &f.state,
        ServeConfig {
            access: access("token"),
            ..ServeConfig::default()
        },
    );
    assert_eq!(access("token").reads, Reads::Token);
    let (lon, lat) = f.center;
    for uri in [
        format!("/api/v1/locate?lon={lon}&lat={lat}"),
        "/ogc/collections".to_owned(),
        "/tiles/risk/14/13700/6700.png".to_owned(),
        "/metrics".to_owned(),
    ] {
        let (s, h, b) = send(&app, Method::GET, &uri, None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri}: {b}");
        assert!(h.contains_key("www-authenticate"), "{uri}");
        let (s, _, _) = send(&app, Method::GET, &uri, None, Some("stranger")).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri}");
    }
    for token in [PLANNER, DISPATCHER, ADMIN] {
        let uri = format!("/api/v1/locate?lon={lon}&lat={lat}");
        let (s, _, b) = send(&app, Method::GET, &uri, None, Some(token)).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let (s, _, b) = send(&app, Method::GET, "/health", None, None).await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("ok")));
}

/// The value of the first sample of `name` with every label in `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.split(['{', ' ']).next() == Some(name) && labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{text}"))
}

#[tokio::test]
async fn metrics_count_routes_statuses_and_tile_cache_hits() {
    let f = fixture(Backend::Gpkg).await;
    let app = app(f.state.clone());
    let (lon, lat) = f.center;
    for _ in 0..3 {
        let uri = format!("/api/v1/locate?lon={lon}&lat={lat}");
        assert_eq!(
            send(&app, Method::GET, &uri, None, None).await.0,
            StatusCode::OK
        );
    }
    let (s, _, _) = send(&app, Method::GET, "/api/v1/locate?lon=x", None, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let tile = tile_over(lon, lat);
    for _ in 0..2 {
        let req = axum::http::Request::get(&tile)
            .body(axum::body::Body::empty())
            .expect("request");
        let r = tower::ServiceExt::oneshot(app.clone(), req)
            .await
            .expect("answer");
        assert_eq!(r.status(), StatusCode::OK, "{tile}");
    }
    let req = axum::http::Request::get("/metrics")
        .body(axum::body::Body::empty())
        .expect("request");
    let r = tower::ServiceExt::oneshot(app.clone(), req)
        .await
        .expect("answer");
    assert!(r.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/plain; version=0.0.4"));
    let body = http_body_util::BodyExt::collect(r.into_body())
        .await
        .expect("body")
        .to_bytes();
    let text = String::from_utf8(body.to_vec()).expect("utf-8");
    let locate = ["method=\"GET\"", "route=\"/api/v1/locate\""];
    assert_eq!(
        sample(
            &text,
            "civgrid_http_requests_total",
            &[locate[0], locate[1], "status=\"2xx\""]
        ),
        3.0
    );
    assert_eq!(
        sample(
            &text,
            "civgrid_http_requests_total",
            &[locate[0], locate[1], "status=\"4xx\""]
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "civgrid_http_request_duration_seconds_count",
            &locate
        ),
        4.0
    );
    assert_eq!(
        sample(
            &text,
            "civgrid_http_request_duration_seconds_bucket",
            &[locate[1], "le=\"+Inf\""]
        ),
        4.0
    );
    let tiles = "route=\"/tiles/{layer}/{z}/{x}/{file}\"";
    assert_eq!(
        sample(
            &text,
            "civgrid_http_requests_total",
            &[tiles, "status=\"2xx\""]
        ),
        2.0,
        "{text}"
    );
    assert_eq!(sample(&text, "civgrid_tile_cache_hits_total", &[]), 1.0);
    assert_eq!(sample(&text, "civgrid_tile_cache_misses_total", &[]), 1.0);
    assert_eq!(sample(&text, "civgrid_tile_cache_entries", &[]), 1.0);
}

/// The z14 risk tile over a point.
fn tile_over(lon: f64, lat: f64) -> String {
    let t = civgrid_tiles::TileCoord::containing(lon, lat, 14).expect("a tile");
    format!("/tiles/risk/14/{}/{}.png", t.x, t.y)
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_as_problems() {
    let f = fixture(Backend::Gpkg).await;
    let app = with(
        &f.state,
        ServeConfig {
            max_body_bytes: 4096,
            ..open()
        },
    );
    let (lon, lat) = f.center;
    let mut body = station(lon, lat, "站");
    body["properties"]["name"] = json!("x".repeat(5000));
    let (s, h, b) = send(
        &app,
        Method::POST,
        "/api/v1/facilities",
        Some(&body),
        Some(ADMIN),
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{b}");
    assert_eq!(h["content-type"], "application/problem+json");
    assert!(
        b["detail"].as_str().expect("detail").contains("4096 bytes"),
        "{b}"
    );
    assert!(writes_audited(&f).await == 0);
    // Just under the limit is taken.
    body["properties"]["name"] = json!("x".repeat(3000));
    let (s, _, b) = send(
        &app,
        Method::POST,
        "/api/v1/facilities",
        Some(&body),
        Some(ADMIN),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // An import has its own limit, and its 413 names that one.
    let app = with(
        &f.state,
        ServeConfig {
            max_body_bytes: 4096,
            max_import_bytes: 10_000,
            ..open()
        },
    );
    let uri = "/api/v1/imports?name=big.geojson";
    let (s, ct, b) = raw(&app, Method::POST, uri, vec![b' '; 20_000], ADMIN).await;
    assert_eq!(
        (s, ct.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "application/problem+json")
    );
    let detail = b["detail"].as_str().expect("detail");
    assert!(
        detail.contains("10000 bytes") && !detail.contains("4096"),
        "{b}"
    );
}

/// Sends raw bytes with `token`: the status, the content type and the
/// body as JSON (`Null` when it is not).
pub(crate) async fn raw(
    app: &Router,
    method: Method,
    uri: &str,
    body: Vec<u8>,
    token: &str,
) -> (StatusCode, String, Value) {
    let req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::from(body))
        .expect("a request");
    let r = tower::ServiceExt::oneshot(app.clone(), req)
        .await
        .expect("an answer");
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|c| c.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = http_body_util::BodyExt::collect(r.into_body())
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        ct,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Sends raw bytes as the admin; returns the status and the problem's
/// detail (every error must be problem+json).
pub(crate) async fn problem_of(
    app: &Router,
    method: Method,
    uri: &str,
    body: Vec<u8>,
    token: &str,
) -> (StatusCode, String) {
    let (status, ct, v) = raw(app, method, uri, body, token).await;
    if status.is_success() {
        return (status, String::new());
    }
    assert_eq!(ct, "application/problem+json", "{uri}: {status}");
    (status, v["detail"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn hostile_bodies_and_paths_get_a_quick_clear_4xx() {
    let f = fixture(Backend::Gpkg).await;
    let app = with(&f.state, open());
    let (lon, lat) = f.center;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let nested = format!(
        r#"{{"type": "Feature", "properties": {{}}, "geometry": {{"type": "Point", "coordinates": {deep}}}}}"#
    )
    .into_bytes();
    // A polygon of 150,000 vertices (about 5 MB: under the body limit).
    let n = 150_000;
    let ring: Vec<Value> = (0..=n)
        .map(|i| {
            let a = std::f64::consts::TAU * f64::from(i % n) / f64::from(n);
            json!([lon + 0.001 * a.cos(), lat + 0.001 * a.sin()])
        })
        .collect();
    let huge_polygon = json!({"type": "Polygon", "coordinates": [ring]});
    let many_vertices = json!({"type": "Feature", "geometry": huge_polygon.clone(),
        "properties": {"kind": "chemical_plant", "name": "x", "level": "red"}});
    let grids_body = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": huge_polygon, "properties": {}}]});
    let cases: Vec<(Method, &str, Vec<u8>, StatusCode, &str)> = vec![
        (
            Method::POST,
            "/api/v1/facilities",
            br#"{"type": "Feature", "geometry": "#.to_vec(),
            StatusCode::BAD_REQUEST,
            "not a GeoJSON Feature",
        ),
        (
            Method::POST,
            "/api/v1/facilities",
            nested.clone(),
            StatusCode::BAD_REQUEST,
            "recursion limit",
        ),
        (
            Method::POST,
            "/api/v1/grids/validate",
            nested,
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            Method::POST,
            "/api/v1/facilities",
            vec![0xff, 0xfe, 0x00, 0x7b],
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            Method::POST,
            "/api/v1/hazards",
            many_vertices.to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
            "150001 vertices",
        ),
        (
            Method::POST,
            "/api/v1/grids/validate",
            grids_body.to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
            "150001 vertices",
        ),
        (
            Method::POST,
            "/api/v1/facilities",
            vec![b' '; 17 << 20],
            StatusCode::PAYLOAD_TOO_LARGE,
            "limit",
        ),
        (
            Method::POST,
            "/api/v1/facilities",
            br#"{"type":"Feature","geometry":{"type":"Point","coordinates":[120.1]},"properties":{"kind":"police","name":"x"}}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "position must contain two or more",
        ),
        (
            Method::POST,
            "/api/v1/grids/validate",
            br#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[119.5],[120.11,30.16],[120.1,30.15]]]},"properties":{}}]}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "position 0 is [119.5]",
        ),
        (
            Method::GET,
            "/tiles/risk/99/1/1.png",
            vec![],
            StatusCode::BAD_REQUEST,
            "zoom",
        ),
        (
            Method::GET,
            "/tiles/risk/14/99999999999/1.png",
            vec![],
            StatusCode::BAD_REQUEST,
            "tile x \"99999999999\" is not a whole number from 0 to 16383",
        ),
        (
            Method::GET,
            "/tiles/risk/14/1/1.exe",
            vec![],
            StatusCode::NOT_FOUND,
            "served as png",
        ),
        (
            Method::GET,
            "/tiles/..%2F..%2Fetc/14/1/1.png",
            vec![],
            StatusCode::NOT_FOUND,
            "no tile layer",
        ),
        (
            Method::GET,
            "/tiles/risk/14/1/1%00.png",
            vec![],
            StatusCode::BAD_REQUEST,
            "tile y",
        ),
        (
            Method::GET,
            "/api/v1/locate?lon=1e309&lat=NaN",
            vec![],
            StatusCode::BAD_REQUEST,
            "lon",
        ),
    ];
    for (method, uri, body, status, needle) in cases {
        let start = std::time::Instant::now();
        let (got, detail) = problem_of(&app, method, uri, body, ADMIN).await;
        assert_eq!(got, status, "{uri}: {detail}");
        assert!(
            detail.contains(needle),
            "{uri}: {detail:?} lacks {needle:?}"
        );
        eprintln!("hostile {uri}: {got} in {:?}", start.elapsed());
    }
    assert!(writes_audited(&f).await == 0, "nothing was written");
}

#[tokio::test]
async fn imports_over_http_are_for_admins_checked_whole_audited_and_served_at_once() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        let app = with(&f.state, open());
        let (lon, lat) = f.center;
        let file = json!({"type": "FeatureCollection", "name": "facilities", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
             "properties": {"kind": "hospital", "name": "导入医院"}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon + 0.001, lat]},
             "properties": {"kind": "police", "name": "导入派出所"}}]});
        let body = file.to_string().into_bytes();
        let uri = "/api/v1/imports?name=facilities.geojson";
        let (s, detail) = problem_of(&app, Method::POST, uri, body.clone(), DISPATCHER).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{detail}");
        for bad in ["../x.geojson", "noextension", ""] {
            let (s, detail) = problem_of(
                &app,
                Method::POST,
                &format!("/api/v1/imports?name={bad}"),
                body.clone(),
                ADMIN,
            )
            .await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {detail}");
            assert!(detail.contains("name"), "{detail}");
        }
        // A broken feature refuses the whole file, naming it.
        let mut broken = file.clone();
        broken["features"][1]["geometry"]["coordinates"] = json!([lon]);
        let (s, detail) = problem_of(
            &app,
            Method::POST,
            uri,
            broken.to_string().into_bytes(),
            ADMIN,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{detail}");
        assert!(detail.contains("facilities.geojson"), "{detail}");
        assert!(!detail.contains("/tmp"), "no server paths: {detail}");
        let before = f.store.counts().await.expect("counts");
        let (s, _, answer) = raw(&app, Method::POST, uri, body, ADMIN).await;
        assert_eq!(s, StatusCode::CREATED, "{answer}");
        assert_eq!(answer["written"]["facilities"], 2, "{answer}");
        let after = f.store.counts().await.expect("counts");
        assert_eq!(after.facilities, before.facilities + 2, "{backend:?}");
        // Served at once: the nearest hospital is the imported one.
        let (s, _, near) = send(
            &app,
            Method::GET,
            &format!("/api/v1/nearest?lon={lon}&lat={lat}&kind=hospital&k=1"),
            None,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(near["nearest"][0]["facility"]["name"], "导入医院", "{near}");
        let log = f.store.load_audit().await.expect("audit");
        let last = log.last().expect("an entry");
        assert_eq!(
            (last.action.as_str(), last.actor.name.as_str()),
            ("import", "root")
        );
        let after_json: Value =
            serde_json::from_str(last.after.as_deref().expect("after")).expect("JSON");
        assert_eq!(after_json["sources"], json!(["facilities.geojson"]));
    }
}

#[tokio::test]
async fn reads_over_the_time_limit_get_503_and_writes_are_not_cut_short() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        let app = with(
            &f.state,
            ServeConfig {
                timeout: std::time::Duration::from_nanos(1),
                ..open()
            },
        );
        // A cold heat tile (65,536 pixels, each summing the incidents
        // around it, on a blocking thread) takes longer than 1 ns.
        let (lon, lat) = f.center;
        let t = civgrid_tiles::TileCoord::containing(lon, lat, 13).expect("a tile");
        let uri = format!("/tiles/heat/13/{}/{}.png", t.x, t.y);
        let (s, _, b) = send(&app, Method::GET, &uri, None, None).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{backend:?}: {b}");
        assert!(
            b["detail"].as_str().expect("detail").contains("time limit"),
            "{b}"
        );
        let (lon, lat) = f.center;
        let (s, _, b) = send(
            &app,
            Method::POST,
            "/api/v1/facilities",
            Some(&station(lon, lat, "限时")),
            Some(ADMIN),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{backend:?}: {b}");
    }
}

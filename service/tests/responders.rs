//! Responders over HTTP on both stores: nearest by distance (against a
//! brute force and against PostGIS), by time (against the engine's own
//! call, with unreachable stations), coverage (against a brute force),
//! writes with their authorization, and every bad-input answer.
//!
//! The tests walk long scenarios with short names for the fixture, points
//! and replies.
#![allow(clippy::many_single_char_names, clippy::too_many_lines)]

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use civgrid::cells::Cell;
use civgrid::network::{TimeQuery, TurnoutTable};
use civgrid::synth::{synthesize, SynthConfig};
use civgrid::{
    Assessment, Facility, FacilityKind, Hazard, HazardGeometry, Oneway, RiskLevel, Road, Territory,
};
use civgrid_service::auth::WriterToken;
use civgrid_service::state::ServeConfig;
use civgrid_service::store::Store;
use civgrid_service::{app, AppState};
use geo::{BoundingRect, Centroid, Distance, Geodesic, InteriorPoint, Intersects};
use geo_types::{line_string, MultiPolygon, Point, Rect};
use http_body_util::BodyExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use sqlx::Connection;
use tower::ServiceExt;

use crate::cells::{active_cells, store_with};
use crate::common::{both_stores, rect, Backend, TestStore};
use crate::http::{get, problem, Reply};

/// The writers' token of the fixture's servers.
const TOKEN: &str = "test-writer-token";

/// Helsinki: a second region, without roads.
const HELSINKI: (f64, f64) = (24.94, 60.17);

/// The served test city on one backend.
struct Fixture {
    store: Arc<dyn Store>,
    state: AppState,
    app: Router,
    /// The same data before `civgrid cells`.
    app_without_cells: Router,
    city: Territory,
    cells: Vec<Cell>,
    /// The city's extent (communities).
    bbox: Rect<f64>,
    holder: TestStore,
}

/// The test city plus: 300 random facilities, two at the same place, a
/// fire station on a road of its own (no route to the city), one 3 km from
/// any road, a red hazard area, and three facilities in Helsinki.
fn city() -> (Territory, Rect<f64>) {
    let mut t = synthesize(&SynthConfig::test()).expect("the test city");
    let bbox = MultiPolygon(
        t.communities
            .iter()
            .flat_map(|c| c.geometry.0.clone())
            .collect(),
    )
    .bounding_rect()
    .expect("an extent");
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let facility = |kind, name: String, lon, lat| Facility {
        id: 0,
        kind,
        name,
        capacity: None,
        staff: None,
        contact: None,
        location: Point::new(lon, lat),
    };
    for i in 0..300 {
        // Not fire stations: those stay the city's own (for coverage).
        let kind = FacilityKind::ALL[rng.random_range(1..5)];
        let lon = rng.random_range(bbox.min().x..bbox.max().x);
        let lat = rng.random_range(bbox.min().y..bbox.max().y);
        t.facilities
            .push(facility(kind, format!("random {i}"), lon, lat));
    }
    let c = bbox.center();
    for name in ["twin a", "twin b"] {
        t.facilities
            .push(facility(FacilityKind::Hospital, name.into(), c.x, c.y));
    }
    // East of the city: a road of its own with a station on it, and a
    // station 3 km from any road.
    let x = bbox.max().x + 0.01;
    t.roads.push(Road {
        id: 0,
        class: "residential".into(),
        name: "island road".into(),
        speed_kmh: None,
        oneway: Oneway::No,
        geometry: line_string![(x: x, y: c.y), (x: x + 0.003, y: c.y)],
    });
    t.facilities.push(facility(
        FacilityKind::FireStation,
        "island station".into(),
        x + 0.001,
        c.y,
    ));
    t.facilities.push(facility(
        FacilityKind::FireStation,
        "far station".into(),
        c.x,
        bbox.min().y - 0.03,
    ));
    t.hazards.push(Hazard {
        id: 0,
        kind: "chemical_plant".into(),
        name: "red area".into(),
        assessment: Assessment::Given {
            level: RiskLevel::Red,
        },
        geometry: HazardGeometry::Area(rect(c.x, c.y, c.x + 0.004, c.y + 0.003)),
    });
    for (i, (dx, dy)) in [(0.0, 0.0), (0.01, 0.005), (-0.02, 0.01)]
        .iter()
        .enumerate()
    {
        t.facilities.push(facility(
            FacilityKind::FireStation,
            format!("Helsinki {i}"),
            HELSINKI.0 + dx,
            HELSINKI.1 + dy,
        ));
    }
    (t, bbox)
}

fn config() -> ServeConfig {
    ServeConfig {
        writer_token: WriterToken::new(TOKEN),
        ..ServeConfig::default()
    }
}

async fn fixture(backend: Backend) -> Fixture {
    let (city, bbox) = city();
    let (s, store) = store_with(backend, &city).await;
    let before = AppState::load(store.clone()).await.expect("load");
    let cells = active_cells(&store).await;
    let state = AppState::load(store.clone())
        .await
        .expect("load")
        .with_config(config());
    let city = store.load().await.expect("the stored city (with ids)");
    Fixture {
        store,
        app: app(state.clone()),
        state,
        app_without_cells: app(before.with_config(config())),
        city,
        cells,
        bbox,
        holder: s,
    }
}

/// Sends a request with an optional body and bearer token.
pub async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("a request");
    let resp = app.clone().oneshot(req).await.expect("the app answers");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = resp.into_body().collect().await.expect("a body").to_bytes();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    (status, headers, value)
}

fn random_point(rng: &mut ChaCha8Rng, bbox: Rect<f64>) -> Point<f64> {
    let (mx, my) = (bbox.width() * 0.1, bbox.height() * 0.1);
    Point::new(
        rng.random_range(bbox.min().x - mx..bbox.max().x + mx),
        rng.random_range(bbox.min().y - my..bbox.max().y + my),
    )
}

/// The (id, distance) pairs of a nearest answer.
fn answered(r: &Reply) -> Vec<(i64, f64)> {
    r.body["nearest"]
        .as_array()
        .expect("nearest")
        .iter()
        .map(|n| {
            (
                n["facility"]["id"].as_i64().expect("id"),
                n["distance_m"].as_f64().expect("distance_m"),
            )
        })
        .collect()
}

/// Asserts an answer has the expected ranks: the same distances rank by
/// rank within `tol_m`, and the same ids except among near-ties.
fn assert_same_ranking(got: &[(i64, f64)], expected: &[(i64, f64)], tol_m: f64, what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: {got:?} vs {expected:?}");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g.1 - e.1).abs() <= tol_m,
            "{what}: rank {i}: {g:?} vs {e:?}"
        );
        let tied = expected
            .iter()
            .filter(|o| (o.1 - e.1).abs() <= tol_m)
            .count()
            > 1;
        if !tied {
            assert_eq!(g.0, e.0, "{what}: rank {i}: {got:?} vs {expected:?}");
        }
    }
}

#[tokio::test]
async fn nearest_by_distance_agrees_with_brute_force_and_postgis() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        let city: Vec<&Facility> = f
            .city
            .facilities
            .iter()
            .filter(|x| x.location.x() > 100.0)
            .collect();
        for round in 0..150 {
            let p = random_point(&mut rng, f.bbox);
            let k = rng.random_range(1..=8);
            let kinds: Vec<FacilityKind> = match round % 3 {
                0 => Vec::new(),
                1 => vec![FacilityKind::ALL[rng.random_range(0..4)]],
                _ => vec![FacilityKind::Hospital, FacilityKind::FireStation],
            };
            let kind_param = kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(",");
            let mut uri = format!("/api/v1/nearest?lon={}&lat={}&k={k}", p.x(), p.y());
            if !kinds.is_empty() {
                uri = format!("{uri}&kind={kind_param}");
            }
            let r = get(&f.app, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
            let got = answered(&r);
            // Brute force: ellipsoidal distance to every facility.
            let mut all: Vec<(i64, f64)> = city
                .iter()
                .filter(|x| kinds.is_empty() || kinds.contains(&x.kind))
                .map(|x| (x.id, Geodesic.distance(p, x.location)))
                .collect();
            all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            all.truncate(k);
            assert_same_ranking(
                &got,
                &all,
                0.01 + 1e-5 * all.last().map_or(0.0, |l| l.1),
                &uri,
            );
            // Exact ties come out by id.
            for w in got.windows(2) {
                assert!((w[0].1, w[0].0) < (w[1].1, w[1].0), "{uri}: {got:?}");
            }
            if backend == Backend::Postgis {
                let pg = postgis_knn(&f, p, &kinds, k).await;
                assert_same_ranking(
                    &got,
                    &pg,
                    0.01 + 1e-5 * pg.last().map_or(0.0, |l| l.1),
                    &format!("PostGIS {uri}"),
                );
            }
        }
        // The twins: same place, ids in order.
        let c = f.bbox.center();
        let r = get(
            &f.app,
            &format!("/api/v1/nearest?lon={}&lat={}&kind=hospital&k=2", c.x, c.y),
        )
        .await;
        let got = answered(&r);
        assert!(got[0].1.abs() < 1e-9, "{}", r.body);
        assert!(got[1].1.abs() < 1e-9, "{}", r.body);
        assert!(got[0].0 < got[1].0, "{got:?}");
        // max_m drops the farther ones.
        let p = Point::new(c.x + 0.001, c.y);
        let r = get(
            &f.app,
            &format!("/api/v1/nearest?lon={}&lat={}&k=50&max_m=300", p.x(), p.y()),
        )
        .await;
        let got = answered(&r);
        let expected = city
            .iter()
            .filter(|x| Geodesic.distance(p, x.location) <= 300.0)
            .count();
        assert_eq!(got.len(), expected.min(50), "{}", r.body);
        assert!(got.iter().all(|g| g.1 <= 300.0));
    }
}

/// The `k` nearest facilities by PostGIS: ellipsoidal `ST_Distance` on
/// geography (what the local projection's metres approximate to 10⁻⁶ here),
/// ties by id.
async fn postgis_knn(
    f: &Fixture,
    p: Point<f64>,
    kinds: &[FacilityKind],
    k: usize,
) -> Vec<(i64, f64)> {
    let url = &f.holder.spec;
    let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
    let kinds: Vec<String> = kinds.iter().map(|k| k.as_str().to_owned()).collect();
    let rows: Vec<(i64, f64)> = sqlx::query_as(
        "SELECT id, ST_Distance(geom::geography, q) AS d \
         FROM facilities, (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4490)::geography AS q) AS p \
         WHERE (cardinality($3::text[]) = 0 OR kind = ANY($3)) AND ST_X(geom) > 100 \
         ORDER BY d, id LIMIT $4",
    )
    .bind(p.x())
    .bind(p.y())
    .bind(&kinds)
    .bind(k as i64)
    .fetch_all(&mut c)
    .await
    .expect("the KNN query");
    rows
}

#[tokio::test]
async fn helsinki_is_its_own_region_with_true_distances() {
    let f = fixture(Backend::Gpkg).await;
    let p = Point::new(HELSINKI.0 + 0.003, HELSINKI.1 - 0.002);
    let r = get(
        &f.app,
        &format!("/api/v1/nearest?lon={}&lat={}&k=10", p.x(), p.y()),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got = answered(&r);
    assert_eq!(
        got.len(),
        3,
        "only Helsinki's facilities answer: {}",
        r.body
    );
    for (id, d) in got {
        let x = f
            .city
            .facilities
            .iter()
            .find(|x| x.id == id)
            .expect("a facility");
        let truth = Geodesic.distance(p, x.location);
        assert!(
            (d - truth).abs() < 1e-4 * truth + 0.01,
            "{id}: {d} vs {truth}"
        );
    }
    // No roads there: by=time cannot be answered.
    let uri = format!("/api/v1/nearest?lon={}&lat={}&by=time", p.x(), p.y());
    let detail = problem(&get(&f.app, &uri).await, StatusCode::CONFLICT, &uri);
    assert!(detail.contains("roads"), "{detail}");
}

#[tokio::test]
async fn nearest_by_time_reports_routes_and_unreachable_stations() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        let mut rng = ChaCha8Rng::seed_from_u64(23);
        let island = f
            .city
            .facilities
            .iter()
            .find(|x| x.name == "island station")
            .expect("island")
            .id;
        let far = f
            .city
            .facilities
            .iter()
            .find(|x| x.name == "far station")
            .expect("far")
            .id;
        let mut checked = 0;
        while checked < 40 {
            let p = random_point(&mut rng, f.bbox);
            let uri = format!(
                "/api/v1/nearest?lon={}&lat={}&kind=fire_station,micro_fire_station&k=3&by=time",
                p.x(),
                p.y()
            );
            let r = get(&f.app, &uri).await;
            if r.status == StatusCode::BAD_REQUEST {
                // Too far from any road: the detail says so.
                assert!(
                    r.body["detail"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("road"),
                    "{}",
                    r.body
                );
                continue;
            }
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
            checked += 1;
            let b = &r.body;
            assert_eq!(b["by"], "time");
            // The engine's own answer.
            let engine = f.state.engine();
            let resp = &engine.responders;
            let region = &resp.regions()[resp.region_at(p, 20_000.0).expect("a region")];
            let kinds = [FacilityKind::FireStation, FacilityKind::MicroFireStation];
            let want = region
                .graph
                .as_ref()
                .expect("roads")
                .nearest_by_time(
                    &region.facilities,
                    &TimeQuery {
                        point: p,
                        kinds: &kinds,
                        k: 3,
                        turnout: resp.turnout(),
                    },
                )
                .expect("by time");
            let nearest = b["nearest"].as_array().expect("nearest");
            assert_eq!(nearest.len(), want.nearest.len(), "{uri}");
            let mut last = (0.0, 0);
            for (n, w) in nearest.iter().zip(&want.nearest) {
                let id = n["facility"]["id"].as_i64().expect("id");
                assert_eq!(id, w.facility.id, "{uri}");
                let eta = n["eta_s"].as_f64().expect("eta");
                assert!((eta - w.eta_s).abs() < 1e-9, "{uri}");
                let d = n["distance_m"].as_f64().expect("distance_m");
                assert!((d - w.distance_m).abs() < 1e-6, "{uri}");
                let (t, d) = (
                    n["turnout_s"].as_f64().expect("t"),
                    n["drive_s"].as_f64().expect("d"),
                );
                assert!((t + d - eta).abs() < 1e-9, "{n}");
                let expected_turnout = if w.facility.kind == FacilityKind::FireStation {
                    60.0
                } else {
                    30.0
                };
                assert!((t - expected_turnout).abs() < 1e-9, "{n}");
                assert!((eta, id) > last, "sorted by (eta, id): {uri}");
                last = (eta, id);
                let route = &n["route"];
                assert_eq!(route["type"], "LineString");
                let coords = route["coordinates"].as_array().expect("coordinates");
                assert_eq!(coords.len(), w.route.0.len());
                let end = Point::new(
                    coords[coords.len() - 1][0].as_f64().expect("x"),
                    coords[coords.len() - 1][1].as_f64().expect("y"),
                );
                let snap = b["snap_distance_m"].as_f64().expect("snap");
                assert!(
                    (Geodesic.distance(end, p) - snap).abs() < 0.05,
                    "the route ends at the point's road: {uri}"
                );
            }
            let unreachable: BTreeMap<i64, &str> = b["unreachable"]
                .as_array()
                .expect("unreachable")
                .iter()
                .map(|u| {
                    (
                        u["facility"]["id"].as_i64().expect("id"),
                        u["reason"].as_str().expect("reason"),
                    )
                })
                .collect();
            assert_eq!(
                unreachable.get(&island),
                Some(&"no_route"),
                "{uri}: {}",
                b["unreachable"]
            );
            assert_eq!(
                unreachable.get(&far),
                Some(&"far_from_road"),
                "{uri}: {}",
                b["unreachable"]
            );
            assert_eq!(unreachable.len(), want.unreachable.len());
        }
    }
}

/// Households per cell by brute force: every building's centroid against
/// every cell (smallest code on a shared edge).
fn households(city: &Territory, cells: &[Cell]) -> Vec<u64> {
    let mut out = vec![0; cells.len()];
    for b in &city.buildings {
        let c = b.geometry.centroid().expect("a centroid");
        if let Some(i) = cells.iter().position(|cell| cell.geometry.intersects(&c)) {
            out[i] += u64::from(b.households);
        }
    }
    out
}

/// Red or orange cells by brute force over every hazard.
fn high_risk(hazards: &[Hazard], cells: &[Cell]) -> Vec<bool> {
    cells
        .iter()
        .map(|cell| {
            hazards.iter().any(|h| {
                h.level() >= RiskLevel::Orange
                    && match &h.geometry {
                        HazardGeometry::Point(p) => cell.geometry.intersects(p),
                        HazardGeometry::Area(a) => cell.geometry.intersects(a),
                    }
            })
        })
        .collect()
}

fn share(v: &Value) -> (u64, u64) {
    (
        v["covered"].as_u64().expect("covered"),
        v["total"].as_u64().expect("total"),
    )
}

/// Checks one coverage answer against brute force: each cell is covered
/// when its fastest station (one-to-one searches of the engine, not the
/// bounded Dijkstra of coverage) arrives in time.
fn check_coverage(
    f: &Fixture,
    body: &Value,
    minutes: f64,
    turnout: &TurnoutTable,
    hazards: &[Hazard],
) {
    let engine = f.state.engine();
    let resp = &engine.responders;
    let homes = households(&f.city, &f.cells);
    let risky = high_risk(hazards, &f.cells);
    let limit = minutes * 60.0;
    let (mut cells, mut hh, mut hr) = ((0, 0), (0, 0), (0, 0));
    let mut uncovered = Vec::new();
    let mut borderline = 0;
    for (i, cell) in f.cells.iter().enumerate() {
        let p = cell.geometry.interior_point().expect("a point");
        let region = &resp.regions()[resp.region_at(p, 20_000.0).expect("a region")];
        let eta = region
            .graph
            .as_ref()
            .expect("roads")
            .nearest_by_time(
                &region.facilities,
                &TimeQuery {
                    point: p,
                    kinds: &[FacilityKind::FireStation],
                    k: 1,
                    turnout,
                },
            )
            .ok()
            .and_then(|t| t.nearest.first().map(|n| n.eta_s));
        if eta.is_some_and(|e| (e - limit).abs() < 0.002) {
            borderline += 1;
        }
        let covered = eta.is_some_and(|e| e <= limit);
        cells.1 += 1;
        hh.1 += homes[i];
        hr.1 += u64::from(risky[i]);
        if covered {
            cells.0 += 1;
            hh.0 += homes[i];
            hr.0 += u64::from(risky[i]);
        } else {
            uncovered.push(cell.code.to_string());
        }
    }
    assert_eq!(borderline, 0, "no cell sits on the limit");
    assert_eq!(share(&body["cells"]), cells);
    assert_eq!(share(&body["households"]), hh);
    assert_eq!(share(&body["high_risk_cells"]), hr);
    let listed = &body["uncovered"];
    assert_eq!(
        listed["numberMatched"].as_u64(),
        Some(uncovered.len() as u64)
    );
    let features = listed["features"].as_array().expect("features");
    assert_eq!(
        listed["numberReturned"].as_u64(),
        Some(features.len() as u64)
    );
    // Every uncovered cell, with its households, most urgent first.
    let rank = |x: &Value| {
        let level = match x["properties"]["risk"].as_str() {
            Some("red") => 4,
            Some("orange") => 3,
            Some("yellow") => 2,
            Some("blue") => 1,
            _ => 0,
        };
        (
            std::cmp::Reverse(level),
            std::cmp::Reverse(x["properties"]["households"].as_u64().expect("households")),
            x["properties"]["code"].as_str().expect("code").to_owned(),
        )
    };
    let ranks: Vec<_> = features.iter().map(rank).collect();
    assert!(ranks.is_sorted(), "most urgent first");
    let mut codes: Vec<(String, u64)> = ranks
        .into_iter()
        .map(|(_, hh, code)| (code, hh.0))
        .collect();
    codes.sort();
    let mut expected: Vec<(String, u64)> = uncovered
        .iter()
        .map(|c| {
            let i = f
                .cells
                .iter()
                .position(|x| x.code.to_string() == *c)
                .expect("a cell");
            (c.clone(), homes[i])
        })
        .collect();
    expected.sort();
    assert_eq!(codes, expected);
}

/// Pages of the uncovered cells of the answer to `question`: `limit` and
/// `offset` cut its list, and `bbox` keeps the cells meeting it, in the
/// same order.
async fn check_pages(f: &Fixture, question: &str) {
    let whole = &get(&f.app, &format!("/api/v1/coverage?{question}"))
        .await
        .body;
    let codes = |v: &Value| -> Vec<String> {
        v["uncovered"]["features"]
            .as_array()
            .expect("features")
            .iter()
            .map(|x| x["properties"]["code"].as_str().expect("code").to_owned())
            .collect()
    };
    let all = codes(whole);
    assert!(
        all.len() > 4,
        "enough uncovered cells to page: {}",
        all.len()
    );
    let page = get(
        &f.app,
        &format!("/api/v1/coverage?{question}&limit=3&offset=2"),
    )
    .await;
    assert_eq!(codes(&page.body), all[2..5].to_vec());
    assert_eq!(
        page.body["uncovered"]["numberMatched"],
        whole["uncovered"]["numberMatched"]
    );
    assert_eq!(page.body["cells"], whole["cells"]);
    let counts = get(&f.app, &format!("/api/v1/coverage?{question}&limit=0")).await;
    assert_eq!(counts.body["uncovered"]["numberReturned"], 0);
    // The south-west quarter of the city.
    let (min, c) = (f.bbox.min(), f.bbox.center());
    let view = Rect::new(min, c);
    let r = get(
        &f.app,
        &format!(
            "/api/v1/coverage?{question}&bbox={},{},{},{}",
            min.x, min.y, c.x, c.y
        ),
    )
    .await;
    let expected: Vec<String> = all
        .iter()
        .filter(|code| {
            let cell = f
                .cells
                .iter()
                .find(|x| x.code.to_string() == **code)
                .expect("a cell");
            cell.geometry.intersects(&view)
        })
        .cloned()
        .collect();
    assert!(
        !expected.is_empty() && expected.len() < all.len(),
        "a part: {}",
        expected.len()
    );
    assert_eq!(codes(&r.body), expected);
    assert_eq!(
        r.body["uncovered"]["numberMatched"].as_u64(),
        Some(expected.len() as u64)
    );
    let bad = get(&f.app, "/api/v1/coverage?minutes=5&bbox=1,2,3").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.to_string().contains("bbox"), "{}", bad.body);
    let bad = get(&f.app, "/api/v1/coverage?minutes=5&limit=10001").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.to_string().contains("limit"), "{}", bad.body);
}

#[tokio::test]
async fn coverage_agrees_with_brute_force_and_follows_hazard_writes() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        for (minutes, zero) in [(1.0, true), (5.0, false)] {
            let mut uri =
                format!("/api/v1/coverage?kind=fire_station&minutes={minutes}&isochrones=true");
            let turnout = if zero {
                uri.push_str("&turnout_s=0");
                TurnoutTable::zero()
            } else {
                TurnoutTable::default()
            };
            let r = get(&f.app, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
            let b = &r.body;
            let (covered, total) = share(&b["cells"]);
            assert_eq!(total, f.cells.len() as u64);
            assert!(
                covered > 0 && (covered < total || !zero),
                "{uri}: a partial coverage: {covered}/{total}"
            );
            assert!(share(&b["households"]).1 > 0);
            assert!(
                share(&b["high_risk_cells"]).1 > 0,
                "the red area meets cells"
            );
            check_coverage(&f, b, minutes, &turnout, &f.city.hazards);
            // One service area per station that reaches a road.
            let iso = b["isochrones"]["features"].as_array().expect("isochrones");
            let far = f
                .city
                .facilities
                .iter()
                .find(|x| x.name == "far station")
                .expect("far")
                .id;
            assert_eq!(b["facilities_far_from_roads"], json!([far]));
            let stations = f
                .city
                .facilities
                .iter()
                .filter(|x| x.kind == FacilityKind::FireStation && x.location.x() > 100.0)
                .count();
            assert_eq!(iso.len(), stations - 1, "{uri}");
            for x in iso {
                assert_eq!(x["geometry"]["type"], "MultiPolygon");
            }
        }
        // Without isochrones they are left out.
        let r = get(&f.app, "/api/v1/coverage?minutes=5").await;
        assert!(r.body.get("isochrones").is_none());
        check_pages(&f, "minutes=1&turnout_s=0").await;
        // A new red hazard point makes its cell high-risk.
        let target = &f.cells[f.cells.len() / 2];
        let p = target.geometry.interior_point().expect("a point");
        let body = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.x(), p.y()]},
            "properties": {"kind": "gas_station", "name": "new", "lec_l": 10, "lec_e": 6, "lec_c": 40}});
        let (status, _, created) = send(
            &f.app,
            Method::POST,
            "/api/v1/hazards",
            Some(&body),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["properties"]["level"], "red");
        let hazards = f.store.load().await.expect("load").hazards;
        let r = get(&f.app, "/api/v1/coverage?minutes=5").await;
        check_coverage(&f, &r.body, 5.0, &TurnoutTable::default(), &hazards);
        // Answers are kept until a facility write: asked again, the same;
        // after a new station, one more facility responds.
        let again = get(&f.app, "/api/v1/coverage?minutes=5").await;
        assert_eq!(again.body, r.body, "{backend:?}");
        let station = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.x(), p.y()]},
            "properties": {"kind": "fire_station", "name": "new station"}});
        let (status, _, created) = send(
            &f.app,
            Method::POST,
            "/api/v1/facilities",
            Some(&station),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let after = get(&f.app, "/api/v1/coverage?minutes=5").await;
        assert_eq!(
            after.body["facilities"].as_u64(),
            r.body["facilities"].as_u64().map(|n| n + 1),
            "{backend:?}: the kept answer was dropped by the write"
        );
    }
}

#[tokio::test]
async fn writes_are_stored_then_indexed_and_survive_a_reload() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        let c = f.bbox.center();
        let at = |dx: f64| json!({"type": "Point", "coordinates": [c.x + dx, c.y + 0.0013]});
        let body = json!({"type": "Feature", "geometry": at(0.0),
            "properties": {"kind": "micro_fire_station", "name": "新站", "staff": 6, "contact": "12345"}});
        let (status, headers, created) = send(
            &f.app,
            Method::POST,
            "/api/v1/facilities",
            Some(&body),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id: i64 = created["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("a number");
        assert_eq!(
            headers[header::LOCATION],
            format!("/api/v1/facilities/{id}").as_str()
        );
        assert_eq!(created["properties"]["staff"], 6);
        let (status, _, read) = send(
            &f.app,
            Method::GET,
            &format!("/api/v1/facilities/{id}"),
            None,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(read, created);
        let nearest = |dx: f64| {
            format!(
                "/api/v1/nearest?lon={}&lat={}&kind=micro_fire_station&k=1",
                c.x + dx,
                c.y + 0.0013
            )
        };
        let r = get(&f.app, &nearest(0.0)).await;
        assert_eq!(answered(&r), vec![(id, 0.0)], "{}", r.body);
        // PUT moves it.
        let moved = json!({"type": "Feature", "id": id, "geometry": at(0.002),
            "properties": {"kind": "micro_fire_station", "name": "新站"}});
        let (status, _, put) = send(
            &f.app,
            Method::PUT,
            &format!("/api/v1/facilities/{id}"),
            Some(&moved),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{put}");
        assert!(put["properties"].get("staff").is_none());
        assert_eq!(
            answered(&get(&f.app, &nearest(0.002)).await),
            vec![(id, 0.0)]
        );
        assert_ne!(answered(&get(&f.app, &nearest(0.0)).await)[0].0, id);
        // The store has it, and a reload sees what the live state sees.
        let stored = f.store.load().await.expect("load");
        let s = stored
            .facilities
            .iter()
            .find(|x| x.id == id)
            .expect("stored");
        assert!((s.location.x() - (c.x + 0.002)).abs() < 1e-9 && s.staff.is_none());
        let reloaded = AppState::load(f.store.clone()).await.expect("reload");
        let mut live = f.state.engine().responders.facilities();
        let mut fresh = reloaded.engine().responders.facilities();
        live.sort_by_key(|x| x.id);
        fresh.sort_by_key(|x| x.id);
        assert_eq!(live, fresh);
        let health = get(&f.app, "/health").await;
        assert_eq!(health.body["counts"]["facilities"], stored.facilities.len());
        let ogc = get(&f.app, &format!("/ogc/collections/facilities/items/{id}")).await;
        assert_eq!(ogc.body["geometry"], moved["geometry"]);
        // DELETE removes it.
        let (status, _, _) = send(
            &f.app,
            Method::DELETE,
            &format!("/api/v1/facilities/{id}"),
            None,
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_ne!(answered(&get(&f.app, &nearest(0.002)).await)[0].0, id);
        assert!(f
            .store
            .load()
            .await
            .expect("load")
            .facilities
            .iter()
            .all(|x| x.id != id));
        for (method, body) in [
            (Method::GET, None),
            (Method::PUT, Some(&moved)),
            (Method::DELETE, None),
        ] {
            let (status, _, b) = send(
                &f.app,
                method.clone(),
                &format!("/api/v1/facilities/{id}"),
                body,
                Some(TOKEN),
            )
            .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} after delete: {b}");
        }
        // Hazards: an area, moved, removed.
        let area = json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[c.x, c.y], [c.x + 0.001, c.y], [c.x + 0.001, c.y + 0.001], [c.x, c.y]]]},
            "properties": {"kind": "landslide", "likelihood": 3, "severity": 4}});
        let (status, _, h) = send(
            &f.app,
            Method::POST,
            "/api/v1/hazards",
            Some(&area),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{h}");
        assert_eq!(h["properties"]["level"], "yellow");
        let hid = h["id"].as_str().expect("id");
        let (status, _, _) = send(
            &f.app,
            Method::DELETE,
            &format!("/api/v1/hazards/{hid}"),
            None,
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _, _) = send(
            &f.app,
            Method::GET,
            &format!("/api/v1/hazards/{hid}"),
            None,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn writes_need_the_token_and_name_the_bad_field() {
    let f = fixture(Backend::Gpkg).await;
    let c = f.bbox.center();
    let point = json!({"type": "Point", "coordinates": [c.x, c.y]});
    let good = json!({"type": "Feature", "geometry": point, "properties": {"kind": "police"}});
    let check = |status: StatusCode, expected: StatusCode, body: &Value, words: &[&str]| {
        assert_eq!(status, expected, "{body}");
        let detail = body["detail"].as_str().unwrap_or_default();
        for w in words {
            assert!(detail.contains(w), "{w:?} not in {detail:?}");
        }
    };
    // No token configured: 403 saying how to enable writes.
    let plain = app(AppState::load(f.store.clone()).await.expect("load"));
    let (s, _, b) = send(
        &plain,
        Method::POST,
        "/api/v1/facilities",
        Some(&good),
        Some(TOKEN),
    )
    .await;
    check(s, StatusCode::FORBIDDEN, &b, &["--writer-token"]);
    // Missing or wrong token: 401 with WWW-Authenticate.
    for token in [None, Some("wrong")] {
        for (method, uri) in [
            (Method::POST, "/api/v1/facilities".to_owned()),
            (Method::DELETE, "/api/v1/hazards/1".to_owned()),
        ] {
            let (s, h, b) = send(&f.app, method, &uri, Some(&good), token).await;
            check(s, StatusCode::UNAUTHORIZED, &b, &["token"]);
            assert!(h[header::WWW_AUTHENTICATE]
                .to_str()
                .expect("ascii")
                .starts_with("Bearer"));
        }
    }
    // Bad bodies: 400 naming the field.
    let feature = |geometry: Value, properties: Value| json!({"type": "Feature", "geometry": geometry, "properties": properties});
    let cases = [
        (
            "/api/v1/facilities",
            json!("not a feature"),
            vec!["GeoJSON Feature"],
        ),
        (
            "/api/v1/facilities",
            feature(point.clone(), json!({"name": "x"})),
            vec!["kind"],
        ),
        (
            "/api/v1/facilities",
            feature(point.clone(), json!({"kind": "castle"})),
            vec!["kind", "castle", "fire_station"],
        ),
        (
            "/api/v1/facilities",
            feature(point.clone(), json!({"kind": "police", "capacity": -3})),
            vec!["capacity"],
        ),
        (
            "/api/v1/facilities",
            feature(point.clone(), json!({"kind": "police", "colour": "blue"})),
            vec!["colour"],
        ),
        (
            "/api/v1/facilities",
            feature(
                json!({"type": "Point", "coordinates": [190.0, 30.0]}),
                json!({"kind": "police"}),
            ),
            vec!["geometry", "190"],
        ),
        (
            "/api/v1/facilities",
            feature(
                json!({"type": "Point", "coordinates": [0.0, 0.0]}),
                json!({"kind": "police"}),
            ),
            vec!["geometry", "km from the territory"],
        ),
        (
            "/api/v1/facilities",
            feature(
                json!({"type": "LineString", "coordinates": [[c.x, c.y], [c.x + 0.001, c.y]]}),
                json!({"kind": "police"}),
            ),
            vec!["geometry", "Point"],
        ),
        (
            "/api/v1/hazards",
            feature(point.clone(), json!({"kind": "gas_station"})),
            vec!["level"],
        ),
        (
            "/api/v1/hazards",
            feature(
                point.clone(),
                json!({"kind": "gas_station", "level": "purple"}),
            ),
            vec!["level", "purple"],
        ),
        (
            "/api/v1/hazards",
            feature(
                point.clone(),
                json!({"kind": "gas_station", "lec_l": 0, "lec_e": 1, "lec_c": 1}),
            ),
            vec!["lec_l"],
        ),
        (
            "/api/v1/hazards",
            feature(
                point.clone(),
                json!({"kind": "gas_station", "likelihood": 6, "severity": 1}),
            ),
            vec!["likelihood"],
        ),
        (
            "/api/v1/hazards",
            feature(point.clone(), json!({"level": "red"})),
            vec!["kind"],
        ),
        (
            "/api/v1/hazards",
            feature(
                json!({"type": "Polygon", "coordinates": [[[c.x, c.y], [c.x + 0.001, c.y + 0.001], [c.x + 0.001, c.y], [c.x, c.y + 0.001], [c.x, c.y]]]}),
                json!({"kind": "x", "level": "red"}),
            ),
            vec!["geometry", "invalid"],
        ),
    ];
    for (uri, body, words) in cases {
        let (s, _, b) = send(&f.app, Method::POST, uri, Some(&body), Some(TOKEN)).await;
        check(s, StatusCode::BAD_REQUEST, &b, &words);
    }
    let (s, _, b) = send(&f.app, Method::PUT, "/api/v1/facilities/1", Some(&json!({"type": "Feature", "id": 2, "geometry": point, "properties": {"kind": "police"}})), Some(TOKEN)).await;
    check(s, StatusCode::BAD_REQUEST, &b, &["id"]);
    let (s, _, b) = send(
        &f.app,
        Method::PUT,
        "/api/v1/facilities/999999",
        Some(&good),
        Some(TOKEN),
    )
    .await;
    check(s, StatusCode::NOT_FOUND, &b, &["999999"]);
    let (s, _, b) = send(
        &f.app,
        Method::DELETE,
        "/api/v1/hazards/abc",
        None,
        Some(TOKEN),
    )
    .await;
    check(s, StatusCode::NOT_FOUND, &b, &["abc"]);
    // Nothing of this reached the store.
    assert_eq!(
        f.store.counts().await.expect("counts").facilities,
        f.city.facilities.len()
    );
}

#[tokio::test]
async fn bad_queries_are_400_problems_naming_the_parameter() {
    let f = fixture(Backend::Gpkg).await;
    let c = f.bbox.center();
    let at = format!("lon={}&lat={}", c.x, c.y);
    let cases: Vec<(String, StatusCode, Vec<&str>)> = vec![
        (
            "nearest?lon=abc&lat=30".into(),
            StatusCode::BAD_REQUEST,
            vec!["lon", "abc"],
        ),
        (
            "nearest?lon=120".into(),
            StatusCode::BAD_REQUEST,
            vec!["lat", "missing"],
        ),
        (
            "nearest?lon=181&lat=30".into(),
            StatusCode::BAD_REQUEST,
            vec!["lon", "181"],
        ),
        (
            "nearest?lon=120&lat=-91".into(),
            StatusCode::BAD_REQUEST,
            vec!["lat", "-91"],
        ),
        (
            format!("nearest?{at}&kind=castle"),
            StatusCode::BAD_REQUEST,
            vec!["kind", "castle", "fire_station", "defibrillator"],
        ),
        (
            format!("nearest?{at}&kind=hospital,castle"),
            StatusCode::BAD_REQUEST,
            vec!["kind", "castle"],
        ),
        (
            format!("nearest?{at}&k=0"),
            StatusCode::BAD_REQUEST,
            vec!["k", "1..1000"],
        ),
        (
            format!("nearest?{at}&k=-2"),
            StatusCode::BAD_REQUEST,
            vec!["k", "-2"],
        ),
        (
            format!("nearest?{at}&k=1001"),
            StatusCode::BAD_REQUEST,
            vec!["k", "1001"],
        ),
        (
            format!("nearest?{at}&k=two"),
            StatusCode::BAD_REQUEST,
            vec!["k", "two"],
        ),
        (
            format!("nearest?{at}&by=foot"),
            StatusCode::BAD_REQUEST,
            vec!["by", "foot"],
        ),
        (
            format!("nearest?{at}&max_m=-1"),
            StatusCode::BAD_REQUEST,
            vec!["max_m"],
        ),
        (
            format!("nearest?{at}&by=time&max_m=100"),
            StatusCode::BAD_REQUEST,
            vec!["max_m", "distance"],
        ),
        (
            format!("nearest?{at}&datum=mars"),
            StatusCode::BAD_REQUEST,
            vec!["datum"],
        ),
        (
            "nearest?lon=121.5&lat=30.25".into(),
            StatusCode::BAD_REQUEST,
            vec!["lon, lat", "km from the territory", "20.0 km"],
        ),
        (
            format!("nearest?lon={}&lat={}&by=time", c.x, f.bbox.min().y - 0.025),
            StatusCode::BAD_REQUEST,
            vec!["lon, lat", "road"],
        ),
        (
            "coverage?minutes=0".into(),
            StatusCode::BAD_REQUEST,
            vec!["minutes", "1..60"],
        ),
        (
            "coverage?minutes=61".into(),
            StatusCode::BAD_REQUEST,
            vec!["minutes"],
        ),
        (
            "coverage?minutes=soon".into(),
            StatusCode::BAD_REQUEST,
            vec!["minutes", "soon"],
        ),
        (
            "coverage?kind=castle".into(),
            StatusCode::BAD_REQUEST,
            vec!["kind", "castle"],
        ),
        (
            "coverage?isochrones=maybe".into(),
            StatusCode::BAD_REQUEST,
            vec!["isochrones"],
        ),
        (
            "coverage?turnout_s=-5".into(),
            StatusCode::BAD_REQUEST,
            vec!["turnout_s"],
        ),
    ];
    for (q, status, words) in cases {
        let uri = format!("/api/v1/{q}");
        let detail = problem(&get(&f.app, &uri).await, status, &uri);
        for w in words {
            assert!(detail.contains(w), "{uri}: {w:?} not in {detail:?}");
        }
    }
    // The territory limit is configurable.
    let wide = app(AppState::load(f.store.clone())
        .await
        .expect("load")
        .with_config(ServeConfig {
            max_outside_m: 500_000.0,
            ..config()
        }));
    let r = get(&wide, "/api/v1/nearest?lon=121.5&lat=30.25").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // No cells yet: coverage says what to run.
    let uri = "/api/v1/coverage?kind=fire_station&minutes=5";
    let detail = problem(
        &get(&f.app_without_cells, uri).await,
        StatusCode::CONFLICT,
        uri,
    );
    assert!(detail.contains("civgrid cells"), "{detail}");
}

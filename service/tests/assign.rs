//! `POST /api/v1/assign` on both stores over the synthetic test city with
//! cells, grids and workers: the cell, grid and worker found by brute-force
//! point-in-polygon over everything stored, the nearest responders by
//! brute force over the stored facilities (distances in the same local
//! projection), the deadline checked against a hand-worked case, and the
//! 4xx answers that name the problem.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use axum::Router;
use civgrid::cells::CellConfig;
use civgrid::grids::{Contact, GridConfig};
use civgrid::synth::{synthesize, SynthConfig};
use civgrid::FacilityKind;
use civgrid_service::store::Store;
use civgrid_service::{app, cells, grids, AppState};
use geo::{BoundingRect, Contains, Distance, Geodesic, Intersects};
use geo_types::Point;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::cells::store_with;
use crate::common::{both_stores, Backend, TestStore};
use crate::responders::send;

struct Fixture {
    store: Arc<dyn Store>,
    app: Router,
    _holder: TestStore,
}

async fn fixture(backend: Backend) -> Fixture {
    let city = synthesize(&SynthConfig::test()).expect("city");
    let (holder, store) = store_with(backend, &city).await;
    let day = "2026-01-01".parse().expect("a date");
    cells::run(&store, CellConfig::default(), day)
        .await
        .expect("cells");
    grids::run(&store, GridConfig::default(), day, false)
        .await
        .expect("grids");
    // A worker and a leader for every other grid.
    let stored = store.load_grids().await.expect("grids");
    let rows: grids::Assignments = stored
        .iter()
        .filter(|g| g.end.is_none())
        .step_by(2)
        .map(|g| {
            let c = |who: &str| Contact {
                name: format!("{who} {}", g.code),
                phone: format!("1380000{:04}", g.code.to_string().len()),
            };
            (g.code, Some(c("worker")), Some(c("leader")))
        })
        .collect();
    grids::assign_workers(&store, &rows, "test", "assign.rs")
        .await
        .expect("workers");
    let state = AppState::load(store.clone()).await.expect("state");
    Fixture {
        store,
        app: app(state),
        _holder: holder,
    }
}

async fn post(app: &Router, body: &Value) -> (StatusCode, Value) {
    let (s, _, v) = send(app, Method::POST, "/api/v1/assign", Some(body), None).await;
    (s, v)
}

#[tokio::test]
async fn assign_answers_match_brute_force() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        let city = f.store.load().await.expect("city");
        let (cells, _) = f.store.load_cells().await.expect("cells");
        let cells: Vec<_> = cells.into_iter().filter(|c| c.end.is_none()).collect();
        let grids: Vec<_> = f
            .store
            .load_grids()
            .await
            .expect("grids")
            .into_iter()
            .filter(|g| g.end.is_none())
            .collect();
        let communities = city.areas(civgrid::AdminLevel::Community);
        let bbox = communities
            .iter()
            .filter_map(|c| c.geometry.bounding_rect())
            .reduce(|a, b| {
                geo_types::Rect::new(
                    geo_types::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                    geo_types::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
                )
            })
            .expect("a bbox");
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (mut checked, mut staffed) = (0, 0);
        while checked < 40 {
            let p = Point::new(
                rng.random_range(bbox.min().x..bbox.max().x),
                rng.random_range(bbox.min().y..bbox.max().y),
            );
            // Points on shared boundaries are decided by a tie rule: skip them.
            let holders = cells.iter().filter(|c| c.geometry.intersects(&p)).count();
            if holders != 1 || !communities.iter().any(|c| c.geometry.contains(&p)) {
                continue;
            }
            checked += 1;
            // 0408 火灾: fire stations, micro fire stations and hospitals.
            let body = json!({
                "lon": p.x(), "lat": p.y(), "class": "0408",
                "time": "2026-09-23T10:00:00+08:00", "level": 1,
                "now": "2026-09-23T10:25:00+08:00", "k": 3,
            });
            let (status, v) = post(&f.app, &body).await;
            assert_eq!(status, StatusCode::OK, "{backend:?} {v}");
            let cell = cells
                .iter()
                .find(|c| c.geometry.contains(&p))
                .expect("a cell");
            assert_eq!(
                v["cell"]["code"],
                json!(cell.code.to_string()),
                "{backend:?} {p:?}"
            );
            let grid = grids.iter().find(|g| g.geometry.intersects(&p));
            match grid {
                Some(g) => {
                    assert_eq!(v["grid"]["code"], json!(g.code.to_string()));
                    let name = |c: &Option<Contact>| c.as_ref().map(|c| c.name.clone());
                    assert_eq!(
                        v["worker"]["name"].as_str().map(str::to_owned),
                        name(&g.worker)
                    );
                    assert_eq!(
                        v["leader"]["name"].as_str().map(str::to_owned),
                        name(&g.leader)
                    );
                    staffed += usize::from(g.worker.is_some());
                }
                None => assert_eq!(v["grid"], Value::Null),
            }
            assert_eq!(v["department"], "消防救援大队");
            assert_eq!(v["limit"], "30m");
            assert_eq!(v["deadline"], "2026-09-23T10:30:00+08:00");
            assert_eq!(
                v["escalation"]["state"], "warning",
                "25 of 30 minutes is ≥ 80 %: {v}"
            );
            assert_eq!(v["escalation"]["level"], 1);
            // Brute-force nearest over the stored facilities of the kinds.
            let kinds = [
                FacilityKind::FireStation,
                FacilityKind::MicroFireStation,
                FacilityKind::Hospital,
            ];
            // Geodesic distances on the ellipsoid: independent of the service's projection,
            // within 0.1 % of it at city scale.
            let mut want: Vec<(f64, i64)> = city
                .facilities
                .iter()
                .filter(|x| kinds.contains(&x.kind))
                .map(|x| (Geodesic.distance(x.location, p), x.id))
                .collect();
            want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let got = v["responders"].as_array().expect("responders");
            assert_eq!(got.len(), 3.min(want.len()));
            for (g, w) in got.iter().zip(&want) {
                let d = g["distance_m"].as_f64().expect("distance");
                assert!(
                    (d - w.0).abs() <= 0.001 * w.0 + 0.5,
                    "{backend:?}: {d} vs {}",
                    w.0
                );
            }
        }
        assert!(
            staffed > 0,
            "{backend:?}: no point fell in a grid with a worker"
        );
    }
}

#[tokio::test]
async fn assign_refuses_bad_input_with_a_named_problem() {
    let f = fixture(Backend::Gpkg).await;
    let city = f.store.load().await.expect("city");
    let inside = city.areas(civgrid::AdminLevel::Community)[0]
        .geometry
        .bounding_rect()
        .expect("a box")
        .center();
    let base = json!({
        "lon": inside.x, "lat": inside.y, "class": "0408",
        "time": "2026-09-23T10:00:00+08:00",
    });
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases = [
        (
            with("class", json!("9999")),
            StatusCode::BAD_REQUEST,
            "unknown class code 9999",
        ),
        (
            with("class", json!("0101")),
            StatusCode::BAD_REQUEST,
            "both a component and an event",
        ),
        (
            with("lon", json!(10.0)),
            StatusCode::NOT_FOUND,
            "outside the territory",
        ),
        (
            with("time", json!("2026-09-23T10:00:00")),
            StatusCode::BAD_REQUEST,
            "UTC offset",
        ),
        (
            with("time", json!("2027-03-01T10:00:00+08:00")),
            StatusCode::BAD_REQUEST,
            "no working calendar for 2027-03-01",
        ),
        (with("level", json!(7)), StatusCode::BAD_REQUEST, "level"),
        (
            with("kind", json!("thing")),
            StatusCode::BAD_REQUEST,
            "expected component or event",
        ),
        (
            with("datum", json!("wgs72")),
            StatusCode::BAD_REQUEST,
            "datum",
        ),
        (
            with("colour", json!("red")),
            StatusCode::BAD_REQUEST,
            "unknown field",
        ),
    ];
    for (body, status, detail) in cases {
        let (s, v) = post(&f.app, &body).await;
        assert_eq!(s, status, "{body}: {v}");
        let d = v["detail"].as_str().unwrap_or_default();
        assert!(d.contains(detail), "{body}: {d:?} should say {detail:?}");
    }
    // The ambiguous code with its kind, at a level given by name.
    let (s, v) = post(
        &f.app,
        &with("kind", json!("event"))
            .as_object()
            .map(|o| {
                let mut o = o.clone();
                o.insert("class".into(), json!("0101"));
                o.insert("level".into(), json!("normal"));
                Value::Object(o)
            })
            .expect("an object"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["class"]["name"], "私搭乱建");
    // 5 working days after Wed 9-23: 9-24, 9-28, 9-29, 9-30, 10-8 (中秋, 国庆).
    assert_eq!(v["deadline"], "2026-10-08T17:30:00+08:00");
    assert_eq!(v["responders"], json!([]));
}

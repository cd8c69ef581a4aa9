//! `POST /api/v1/assign` on both stores over the synthetic test city with
//! cells, grids and workers: the cell, grid and worker found by brute-force
//! point-in-polygon over everything stored, the nearest responders by
//! brute force over the stored facilities (distances in the same local
//! projection), the deadline checked against a hand-worked case, and the
//! 4xx answers that name the problem.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use axum::Router;
use civgrid::grids::Contact;
use civgrid::FacilityKind;
use civgrid_service::auth::WriterToken;
use civgrid_service::state::ServeConfig;
use civgrid_service::store::Store;
use civgrid_service::{app, AppState};
use geo::{BoundingRect, Contains, Distance, Geodesic, Intersects};
use geo_types::Point;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::common::{both_stores, Backend, TestStore};
use crate::responders::send;

const TOKEN: &str = "assign-test-token";

struct Fixture {
    store: Arc<dyn Store>,
    app: Router,
    /// The active cells and grids, as stored.
    cells: Vec<civgrid::Cell>,
    grids: Vec<civgrid::grids::Grid>,
    _holder: TestStore,
}

async fn fixture(backend: Backend) -> Fixture {
    let (_, holder, store, _) = crate::grids::planned_test_city(backend).await;
    // A worker and a leader for every other grid.
    crate::grids::staff_grids(&store, 2, "test").await;
    let state = AppState::load(store.clone())
        .await
        .expect("state")
        .with_config(ServeConfig {
            writer_token: WriterToken::new(TOKEN),
            ..ServeConfig::default()
        });
    let (cells, _) = store.load_cells().await.expect("cells");
    let grids = store.load_grids().await.expect("grids");
    Fixture {
        store,
        app: app(state),
        cells: cells.into_iter().filter(|c| c.end.is_none()).collect(),
        grids: grids.into_iter().filter(|g| g.end.is_none()).collect(),
        _holder: holder,
    }
}

async fn post(app: &Router, body: &Value) -> (StatusCode, Value) {
    // With a token: the worker and leader are shown to tokens only.
    let (s, _, v) = send(app, Method::POST, "/api/v1/assign", Some(body), Some(TOKEN)).await;
    (s, v)
}

#[tokio::test]
async fn assign_answers_match_brute_force() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        let city = f.store.load().await.expect("city");
        let (cells, grids) = (&f.cells, &f.grids);
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
                "lon": p.x(), "lat": p.y(), "class": "0408", "kind": "event",
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
            // Every overlay zone holding the point (police beat, school zone).
            let zones: Vec<String> = city
                .zones
                .iter()
                .filter(|z| z.geometry.intersects(&p))
                .map(|z| format!("{}:{}", z.layer, z.code))
                .collect();
            let answered: Vec<String> = v["zones"]
                .as_array()
                .expect("zones")
                .iter()
                .map(|z| {
                    format!(
                        "{}:{}",
                        z["layer"].as_str().unwrap_or(""),
                        z["code"].as_str().unwrap_or("")
                    )
                })
                .collect();
            assert_eq!(answered, zones, "{backend:?} {p:?}");
            assert_eq!(
                answered
                    .iter()
                    .filter(|z| z.starts_with("police_beats:"))
                    .count(),
                1
            );
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
        "lon": inside.x, "lat": inside.y, "class": "0408", "kind": "event",
        "time": "2026-09-23T10:00:00+08:00",
    });
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let (bad, missing) = (StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND);
    let cases = [
        ("class", json!("9999"), bad, "unknown class code 9999"),
        // 0408 is 火灾 (event) and 绿地护栏 (component): without a kind, ambiguous.
        ("kind", Value::Null, bad, "both a component and an event"),
        ("lon", json!(10.0), missing, "outside the territory"),
        ("lat", json!(91.0), bad, "field lat = 91 is out of range"),
        ("time", json!("2026-09-23T10:00:00"), bad, "UTC offset"),
        (
            "time",
            json!("2027-03-01T10:00:00+08:00"),
            bad,
            "no working calendar for 2027-03-01",
        ),
        ("level", json!(7), bad, "level"),
        ("kind", json!("thing"), bad, "expected component or event"),
        ("datum", json!("wgs72"), bad, "datum"),
        ("colour", json!("red"), bad, "unknown field"),
    ];
    for (field, value, status, detail) in cases {
        let body = with(field, value);
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

/// The places holding `p` by brute force: the smallest code among the
/// polygons touching it (the locator's rule on shared boundaries).
fn holder<'a>(
    places: impl Iterator<Item = (civgrid::CellCode, &'a geo_types::MultiPolygon<f64>)>,
    p: Point<f64>,
) -> Option<civgrid::CellCode> {
    places
        .filter(|(_, g)| g.intersects(&p))
        .map(|(c, _)| c)
        .min()
}

#[tokio::test]
async fn hotspots_match_counting_by_hand() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        let city = f.store.load().await.expect("city");
        assert!(
            city.incidents.len() > 50,
            "{} incidents",
            city.incidents.len()
        );
        let (cells, grids) = (&f.cells, &f.grids);
        let (t0, t1) = city
            .incidents
            .iter()
            .fold((i64::MAX, i64::MIN), |(a, b), i| {
                (a.min(i.time_unix_s), b.max(i.time_unix_s))
            });
        // The window is the middle third of the incidents' span; the
        // previous window the third before it.
        let third = (t1 - t0) / 3;
        let (from, to) = (t0 + third, t0 + 2 * third);
        let rfc = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .expect("a time")
                .to_rfc3339()
                .replace('+', "%2B")
        };
        for (by, rank, class) in [
            ("cell", "count", None),
            ("grid", "count", None),
            ("cell", "growth", None),
            ("grid", "count", Some("fire")),
        ] {
            // Counting by hand: place → (now, before).
            let mut counts: std::collections::BTreeMap<civgrid::CellCode, (i64, i64)> =
                std::collections::BTreeMap::new();
            for i in &city.incidents {
                if class.is_some_and(|c| c != i.kind) {
                    continue;
                }
                let place = if by == "cell" {
                    holder(cells.iter().map(|c| (c.code, &c.geometry)), i.location)
                } else {
                    holder(grids.iter().map(|g| (g.code, &g.geometry)), i.location)
                };
                let Some(place) = place else { continue };
                let e = counts.entry(place).or_default();
                if (from..to).contains(&i.time_unix_s) {
                    e.0 += 1;
                } else if (from - (to - from)..from).contains(&i.time_unix_s) {
                    e.1 += 1;
                }
            }
            let mut want: Vec<(i64, i64, String)> = counts
                .into_iter()
                .filter(|(_, (now, before))| *now > 0 || (rank == "growth" && *before > 0))
                .map(|(c, (now, before))| {
                    if rank == "count" {
                        (now, now - before, c.to_string())
                    } else {
                        (now - before, now, c.to_string())
                    }
                })
                .collect();
            want.sort_by(|a, b| (b.0, b.1).cmp(&(a.0, a.1)).then(a.2.cmp(&b.2)));
            want.truncate(5);
            let uri = format!(
                "/api/v1/hotspots?by={by}&rank={rank}&top=5&from={}&to={}{}",
                rfc(from),
                rfc(to),
                class.map_or(String::new(), |c| format!("&class={c}"))
            );
            let r = crate::http::get(&f.app, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
            let v = r.body;
            let got: Vec<(i64, i64, String)> = v["places"]
                .as_array()
                .expect("places")
                .iter()
                .map(|p| {
                    let (count, growth) = (
                        p["count"].as_i64().expect("count"),
                        p["growth"].as_i64().expect("growth"),
                    );
                    let code = p["code"].as_str().expect("code").to_owned();
                    if rank == "count" {
                        (count, growth, code)
                    } else {
                        (growth, count, code)
                    }
                })
                .collect();
            assert!(!want.is_empty(), "{by} {rank}: nothing to rank");
            assert_eq!(got, want, "{backend:?} {uri}");
        }
        // Bad parameters name themselves.
        for (uri, word) in [
            ("/api/v1/hotspots?from=2026-01-01", "missing parameter to"),
            (
                "/api/v1/hotspots?from=2026-01-01&to=2026-13-01",
                "parameter to",
            ),
            ("/api/v1/hotspots?from=2026-02-01&to=2026-01-01", "empty"),
            (
                "/api/v1/hotspots?from=2026-01-01&to=2026-02-01&by=street",
                "parameter by",
            ),
            (
                "/api/v1/hotspots?from=2026-01-01&to=2026-02-01&rank=size",
                "parameter rank",
            ),
        ] {
            let r = crate::http::get(&f.app, uri).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}");
            let detail = r.body["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(word), "{uri}: {detail}");
        }
    }
}

/// Writes `text` as a CSV file in a fresh directory.
fn csv(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("care.csv");
    std::fs::write(&path, text).expect("the CSV");
    (dir, path)
}

#[tokio::test]
async fn care_counts_are_per_grid_numbers_only() {
    use civgrid_service::care::{read_care, store_care, CareError};
    for backend in both_stores() {
        let f = fixture(backend).await;
        let (g1, g2) = (f.grids[0].code, f.grids[1].code);
        let (_d, good) = csv(&format!(
            "grid,group,count\n{g1},elderly_alone,3\n{g1},disabled,1\n{g2},elderly_alone,0\n"
        ));
        let rows = read_care(&good).expect("a per-grid table");
        assert_eq!(
            store_care(&f.store, rows, "care.csv")
                .await
                .expect("stored"),
            3
        );
        let r = crate::http::get(&f.app, "/api/v1/care").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let mut want = vec![
            json!({"grid": g1.to_string(), "total": 4, "groups": {"disabled": 1, "elderly_alone": 3}}),
            json!({"grid": g2.to_string(), "total": 0, "groups": {"elderly_alone": 0}}),
        ];
        want.sort_by_key(|v| v["grid"].as_str().map(str::to_owned));
        assert_eq!(r.body, json!({ "grids": want }), "{backend:?}");
        let r = crate::http::get(&f.app, &format!("/api/v1/care?grid={g2}")).await;
        let only = want
            .iter()
            .find(|w| w["grid"] == g2.to_string())
            .expect("g2");
        assert_eq!(r.body, json!({ "grids": [only] }), "{backend:?}");

        // Person-level columns are refused, naming the column; nothing changes.
        for (header, row, column) in [
            ("grid,group,count,name", "1,张三", "name"),
            (
                "grid,group,count,id_number",
                "1,330102190001010000",
                "id_number",
            ),
            (
                "grid,phone,group,count",
                "13800000000,elderly_alone,1",
                "phone",
            ),
        ] {
            let (_d, bad) = csv(&format!("{header}\n{g1},{row}\n"));
            match read_care(&bad) {
                Err(e @ CareError::PersonLevel { .. }) => {
                    assert!(e.to_string().contains(&format!("{column:?}")), "{e}");
                }
                other => panic!("{header}: expected a refusal, got {other:?}"),
            }
        }
        // An unknown grid stores nothing either.
        let (_d, unknown) = csv(&format!(
            "grid,group,count\n{g1},disabled,2\n999999999999999,disabled,1\n"
        ));
        let rows = read_care(&unknown).expect("parses");
        match store_care(&f.store, rows, "unknown.csv").await {
            Err(CareError::UnknownGrid { line: 3, .. }) => {}
            other => panic!("expected an unknown grid on line 3, got {other:?}"),
        }
        let stored = f.store.load_care_counts().await.expect("counts");
        assert_eq!(
            stored.len(),
            3,
            "{backend:?}: the refused file changed nothing"
        );
        assert!(stored
            .iter()
            .any(|c| c.grid == g1 && c.group == "disabled" && c.people == 1));
        // Bad rows name their line.
        let (_d, bad) = csv(&format!("grid,group,count\n{g1},elderly_alone,-2\n"));
        assert!(matches!(
            read_care(&bad),
            Err(CareError::Row { line: 2, .. })
        ));
        let (_d, twice) = csv(&format!("grid,group,count\n{g1},a,1\n{g1},a,2\n"));
        assert!(matches!(
            read_care(&twice),
            Err(CareError::Row { line: 3, .. })
        ));
    }
}

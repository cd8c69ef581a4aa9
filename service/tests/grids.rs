//! Household grids through the service, on both stores: `grids::run`
//! stores the plan (read back exactly), `locate` answers the grid holding
//! a point (checked by brute force), `/grids/validate` reports gaps and
//! bad input, and planner edits are refused, stored, logged and reverted,
//! with the store unchanged by a refused one.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use axum::Router;
use civgrid::cells::CellConfig;
use civgrid::grids::{Grid, GridConfig, GridKind};
use civgrid::synth::{synthesize, SynthConfig};
use civgrid::{Building, Territory};
use civgrid_service::auth::WriterToken;
use civgrid_service::state::ServeConfig;
use civgrid_service::store::Store;
use civgrid_service::{app, cells, grids, AppState};
use geo::{Area, BooleanOps, Contains, InteriorPoint, Intersects};
use geo_types::Point;
use serde_json::{json, Value};

use crate::cells::store_with;
use crate::common::{both_stores, multipolygon_diff, multipolygon_json, TestStore};
use crate::http::get;
use crate::responders::send;

const TOKEN: &str = "grid-writer";

/// Entries of the edit log other than plans.
async fn hand_log(store: &Arc<dyn Store>) -> usize {
    let log = store.load_grid_edits().await.expect("log");
    log.iter().filter(|e| e.op != "plan").count()
}

struct Fixture {
    store: Arc<dyn Store>,
    app: Router,
    city: Territory,
    grids: Vec<Grid>,
    _holder: TestStore,
}

/// Names a worker and a leader for every `step`-th active grid of `store`,
/// each with its own name and phone (`网格员007`, `13900000007`), logged as
/// edits by `author`.
pub async fn staff_grids(store: &Arc<dyn Store>, step: usize, author: &str) {
    let person = |role: &str, prefix: &str, i: usize| civgrid::grids::Contact {
        name: format!("{role}{i:03}"),
        phone: format!("{prefix}{i:08}"),
    };
    let stored = store.load_grids().await.expect("grids");
    let rows: grids::Assignments = stored
        .iter()
        .filter(|g| g.end.is_none())
        .step_by(step)
        .enumerate()
        .map(|(i, g)| {
            (
                g.code,
                Some(person("网格员", "139", i)),
                Some(person("网格长", "137", i)),
            )
        })
        .collect();
    grids::assign_workers(store, &rows, author, "tests")
        .await
        .expect("workers");
}

/// A store holding the synthetic test city with its unit cells and a
/// first grid plan (both made on 2026-01-01), and the plan's run.
pub async fn planned_test_city(
    backend: crate::common::Backend,
) -> (Territory, TestStore, Arc<dyn Store>, grids::GridsRun) {
    let city = synthesize(&SynthConfig::test()).expect("city");
    let (holder, store) = store_with(backend, &city).await;
    let day = "2026-01-01".parse().expect("a date");
    cells::run(&store, CellConfig::default(), day)
        .await
        .expect("cells");
    let run = grids::run(&store, GridConfig::default(), day, false)
        .await
        .expect("grids");
    (city, holder, store, run)
}

async fn fixture(backend: crate::common::Backend) -> Fixture {
    let (_, holder, store, run) = planned_test_city(backend).await;
    assert!(run.report.failed.is_empty(), "{:?}", run.report.failed);
    assert_eq!(
        run.stored, run.report.grids,
        "a first plan stores only active grids"
    );
    let grids = store.load_grids().await.expect("load grids");
    assert_eq!(grids.len(), run.stored);
    let config = ServeConfig {
        writer_token: WriterToken::new(TOKEN),
        ..ServeConfig::default()
    };
    let state = AppState::load_with(store.clone(), config)
        .await
        .expect("state");
    let city = store.load().await.expect("the stored city");
    Fixture {
        store,
        app: app(state),
        city,
        grids,
        _holder: holder,
    }
}

fn point_of(b: &Building) -> Point<f64> {
    b.geometry.interior_point().expect("a point")
}

#[tokio::test]
async fn plan_stored_located_and_exported_on_both_stores() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        // Stored exactly: rerunning the same plan keeps every code and geometry.
        let again = grids::run(
            &f.store,
            GridConfig::default(),
            "2026-02-01".parse().expect("day"),
            false,
        )
        .await
        .expect("again");
        assert_eq!(again.report.kept, f.grids.len(), "{backend:?}");
        assert_eq!(again.report.new, 0);
        let reloaded = f.store.load_grids().await.expect("reload");
        for (a, b) in f.grids.iter().zip(&reloaded) {
            assert_eq!(a.code, b.code);
            assert_eq!(a.households, b.households);
            assert_eq!(a.start, b.start);
            assert!(
                multipolygon_diff(&a.geometry, &b.geometry) < 1e-9,
                "{backend:?} {}",
                a.code
            );
        }
        // Households: every building in exactly one stored grid.
        let total: u32 = f.city.buildings.iter().map(|b| b.households).sum();
        assert_eq!(f.grids.iter().map(|g| g.households).sum::<u32>(), total);

        // locate: the grid holding a building's point, found here by brute force.
        for b in f.city.buildings.iter().step_by(7) {
            let p = point_of(b);
            let holder = f
                .grids
                .iter()
                .find(|g| g.geometry.contains(&p))
                .expect("a grid");
            let r = get(
                &f.app,
                &format!("/api/v1/locate?lon={}&lat={}", p.x(), p.y()),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK);
            assert_eq!(
                r.body["grid"]["code"],
                holder.code.to_string(),
                "{backend:?}"
            );
            assert_eq!(r.body["grid"]["households"], holder.households);
        }
        // OGC: the grids collection holds every active grid.
        let r = get(&f.app, "/ogc/collections/grids/items?limit=1000").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["numberMatched"], f.grids.len());
        let r = get(&f.app, &format!("/api/v1/grids/{}", f.grids[0].code)).await;
        assert_eq!(r.body["properties"]["kind"], f.grids[0].kind.as_str());
        // Summary: counts and lower bounds recomputed from the stored grids.
        let r = get(&f.app, "/api/v1/grids/summary").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let rows = r.body["communities"].as_array().expect("communities");
        assert_eq!(rows.len(), f.city.communities.len());
        for row in rows {
            let code = row["community"].as_str().expect("code");
            let basic: Vec<&Grid> = f
                .grids
                .iter()
                .filter(|g| g.community.to_string() == code && g.kind == GridKind::Basic)
                .collect();
            let hh: u32 = basic.iter().map(|g| g.households).sum();
            assert_eq!(row["basic"], basic.len(), "{code}");
            assert_eq!(row["lower_bound"], hh.div_ceil(300).max(1), "{code}");
            assert_eq!(row["outside_bounds"].as_array().expect("list").len(), 0);
            let area = f
                .city
                .communities
                .iter()
                .find(|a| a.code.to_string() == code)
                .expect("area");
            let inside: u64 = f
                .city
                .buildings
                .iter()
                .filter(|b| area.geometry.contains(&point_of(b)))
                .map(|b| u64::from(b.households))
                .sum();
            assert_eq!(row["households"], inside, "{code}");
            let staffless = f
                .grids
                .iter()
                .filter(|g| g.community.to_string() == code)
                .count();
            assert_eq!(
                row["without_worker"].as_array().expect("list").len(),
                staffless
            );
        }
        let r = get(&f.app, "/api/v1/grids?community=999999999999").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    }
}

fn proposals(grids: &[&Grid]) -> Value {
    json!({
        "type": "FeatureCollection",
        "features": grids.iter().map(|g| json!({
            "type": "Feature",
            "properties": {"code": g.code.to_string(), "kind": g.kind.as_str()},
            "geometry": multipolygon_json(&g.geometry),
        })).collect::<Vec<_>>(),
    })
}

#[tokio::test]
async fn validate_reports_gaps_and_names_bad_features() {
    let f = fixture(crate::common::Backend::Gpkg).await;
    let community = f.grids[0].community;
    let mine: Vec<&Grid> = f
        .grids
        .iter()
        .filter(|g| g.community == community)
        .collect();
    let uri = format!("/api/v1/grids/validate?community={community}");
    let (status, _, body) = send(&f.app, Method::POST, &uri, Some(&proposals(&mine)), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["valid"], true, "{body}");
    assert_eq!(body["unassigned_households"], 0);
    // Without the community in the query: found from the first feature.
    let (status, _, body) = send(
        &f.app,
        Method::POST,
        "/api/v1/grids/validate",
        Some(&proposals(&mine)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["community"], community.to_string());

    // The last grid left out: a gap of its area, its households unassigned.
    let (status, _, body) = send(
        &f.app,
        Method::POST,
        &uri,
        Some(&proposals(&mine[..mine.len() - 1])),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["valid"], false);
    let gap = body["gap_m2"].as_f64().expect("gap");
    let last = mine[mine.len() - 1];
    assert!(
        (gap - last.area_m2).abs() < last.area_m2 * 1e-3,
        "{gap} vs {}",
        last.area_m2
    );
    assert_eq!(body["unassigned_households"], last.households);
    assert_eq!(body["gaps"]["features"].as_array().expect("gaps").len(), 1);

    // Two grids' union proposed twice: overlap named both ways.
    let mut two = proposals(&mine);
    let dup = two["features"][0].clone();
    let mut dup = dup;
    dup["properties"]["code"] = json!("copy");
    two["features"].as_array_mut().expect("features").push(dup);
    let (_, _, body) = send(&f.app, Method::POST, &uri, Some(&two), None).await;
    let copy = body["grids"]
        .as_array()
        .expect("grids")
        .iter()
        .find(|g| g["id"] == "copy")
        .expect("copy");
    assert_eq!(copy["overlaps"][0]["with"], mine[0].code.to_string());
    let area = copy["overlaps"][0]["area_m2"].as_f64().expect("area");
    assert!((area - mine[0].area_m2).abs() < mine[0].area_m2 * 1e-3);

    // Bad input: named.
    let bow = json!({"type": "FeatureCollection", "features": [{"type": "Feature", "id": "bow", "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [[[120.1, 30.15], [120.11, 30.16], [120.11, 30.15], [120.1, 30.16], [120.1, 30.15]]]}}]});
    let (status, _, body) = send(&f.app, Method::POST, &uri, Some(&bow), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"].as_str().expect("detail").contains("bow"),
        "{body}"
    );
    let line = json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
        "geometry": {"type": "LineString", "coordinates": [[120.1, 30.15], [120.11, 30.16]]}}]});
    let (status, _, body) = send(&f.app, Method::POST, &uri, Some(&line), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("feature 1"),
        "{body}"
    );
    let (status, _, body) = send(
        &f.app,
        Method::POST,
        "/api/v1/grids/validate?community=339999999999",
        Some(&proposals(&mine)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("339999999999"),
        "{body}"
    );
}

#[tokio::test]
async fn edits_refused_stored_logged_and_reverted_on_both_stores() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        let live: Vec<&Grid> = f
            .grids
            .iter()
            .filter(|g| g.kind == GridKind::Basic)
            .collect();
        let (a, b) = live
            .iter()
            .flat_map(|a| live.iter().map(move |b| (*a, *b)))
            .find(|(a, b)| {
                a.code < b.code
                    && a.community == b.community
                    && a.geometry.intersects(&b.geometry)
                    && a.households + b.households > 300
            })
            .expect("two neighbours over 300 together");
        let merge = json!({"op": "merge", "keep": a.code.to_string(), "absorb": b.code.to_string(), "author": "张三"});
        // Writers only.
        let (status, _, _) = send(
            &f.app,
            Method::POST,
            "/api/v1/grids/edits",
            Some(&merge),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // Refused: over the bound; nothing stored.
        let (status, _, body) = send(
            &f.app,
            Method::POST,
            "/api/v1/grids/edits",
            Some(&merge),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["stored"], false);
        assert!(
            body["violations"]
                .as_array()
                .expect("violations")
                .iter()
                .any(|v| v["rule"] == "bounds" && v["grid"] == a.code.to_string()),
            "{body}"
        );
        let stored = f.store.load_grids().await.expect("grids");
        assert_eq!(
            stored.len(),
            f.grids.len(),
            "{backend:?}: a refused edit changes nothing"
        );
        assert_eq!(
            hand_log(&f.store).await,
            0,
            "{backend:?}: a refused edit logs nothing"
        );

        // Accepted: name a worker; locate shows it; logged with its author.
        let assign = json!({"op": "assign", "grid": a.code.to_string(), "author": "李四",
            "worker": {"name": "王芳", "phone": "13800000000"}});
        let (status, _, body) = send(
            &f.app,
            Method::POST,
            "/api/v1/grids/edits",
            Some(&assign),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let edit_id = body["edit"].as_i64().expect("edit id");
        let p = a.geometry.interior_point().expect("point");
        // Workers are shown to tokens only.
        let locate = format!("/api/v1/locate?lon={}&lat={}", p.x(), p.y());
        let (_, _, r) = send(&f.app, Method::GET, &locate, None, Some(TOKEN)).await;
        assert_eq!(r["grid"]["worker"]["name"], "王芳", "{backend:?}");
        let r = get(&f.app, &locate).await;
        assert!(r.body["grid"].get("worker").is_none(), "{backend:?}");

        // Move a cell of `a` into `b`: households follow the buildings in it.
        let cells = f.store.load_cells().await.expect("cells").0;
        let cell = cells
            .iter()
            .filter(|c| c.end.is_none())
            .find(|c| {
                let inside = a.geometry.intersection(&c.geometry).unsigned_area();
                inside > c.geometry.unsigned_area() * 0.999 && c.geometry.intersects(&b.geometry)
            })
            .expect("a cell of a on its border with b");
        let hh: u32 = f
            .city
            .buildings
            .iter()
            .filter(|x| cell.geometry.contains(&point_of(x)))
            .map(|x| x.households)
            .sum();
        let mv = json!({"op": "move_cell", "cell": cell.code.to_string(), "to": b.code.to_string(), "author": "李四"});
        let (status, _, body) = send(
            &f.app,
            Method::POST,
            "/api/v1/grids/edits?dry_run=true",
            Some(&mv),
            Some(TOKEN),
        )
        .await;
        assert_eq!(body["stored"], false, "{body}");
        let households_of = |code: &str| {
            body["grids"]["features"]
                .as_array()
                .expect("features")
                .iter()
                .find(|x| x["id"] == code)
                .map(|x| x["properties"]["households"].clone())
                .expect("the grid in the answer")
        };
        assert_eq!(households_of(&a.code.to_string()), a.households - hh);
        assert_eq!(households_of(&b.code.to_string()), b.households + hh);
        let violations = body["violations"].as_array().expect("violations");
        if b.households + hh > 300 {
            assert!(
                violations
                    .iter()
                    .any(|v| v["rule"] == "bounds" && v["grid"] == b.code.to_string()),
                "{body}"
            );
        }
        assert_eq!(
            status == StatusCode::OK,
            violations.is_empty(),
            "200 exactly when nothing is broken: {body}"
        );
        assert_eq!(hand_log(&f.store).await, 1, "a dry run stores nothing");

        let (_, _, log) = send(
            &f.app,
            Method::GET,
            "/api/v1/grids/edits",
            None,
            Some(TOKEN),
        )
        .await;
        let edits: Vec<&Value> = log["edits"]
            .as_array()
            .expect("edits")
            .iter()
            .filter(|e| e["op"] != "plan")
            .collect();
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0]["author"], "李四");
        assert_eq!(edits[0]["op"], "assign");
        assert_eq!(
            edits[0]["before"]["features"][0]["properties"]["worker_name"],
            Value::Null
        );
        assert_eq!(
            edits[0]["after"]["features"][0]["properties"]["worker_name"],
            "王芳"
        );

        // Revert: the worker is gone; a second revert is a conflict.
        let uri = format!("/api/v1/grids/edits/{edit_id}/revert");
        let (status, _, body) = send(
            &f.app,
            Method::POST,
            &uri,
            Some(&json!({"author": "李四"})),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (_, _, r) = send(&f.app, Method::GET, &locate, None, Some(TOKEN)).await;
        assert_eq!(r["grid"]["worker"], Value::Null);
        let (status, _, _) = send(&f.app, Method::POST, &uri, None, Some(TOKEN)).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let stored = f.store.load_grids().await.expect("grids");
        let back = stored.iter().find(|g| g.code == a.code).expect("a");
        assert_eq!(back.worker, None, "{backend:?}");

        // A hand edit (here a redraw to the same outline) stops a new plan
        // unless it may replace it; the plan is logged.
        let redraw = json!({"op": "redraw", "grid": a.code.to_string(), "author": "赵六",
            "geometry": multipolygon_json(&a.geometry)});
        let (status, _, body) = send(
            &f.app,
            Method::POST,
            "/api/v1/grids/edits",
            Some(&redraw),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let day = "2026-03-01".parse().expect("day");
        let e = grids::run(&f.store, GridConfig::default(), day, false)
            .await
            .expect_err("hand edits since the last plan");
        assert!(
            e.to_string().contains("1 hand edits") && e.to_string().contains("赵六"),
            "{e}"
        );
        let stored = f.store.load_grids().await.expect("grids");
        assert_eq!(
            stored.len(),
            f.grids.len(),
            "{backend:?}: a refused plan changes nothing"
        );
        grids::run(&f.store, GridConfig::default(), day, true)
            .await
            .expect("a plan over the edits");
        grids::run(&f.store, GridConfig::default(), day, false)
            .await
            .expect("no hand edit since that plan");
        let log = f.store.load_grid_edits().await.expect("log");
        assert_eq!(
            log.iter().filter(|e| e.op == "plan").count(),
            3,
            "{backend:?}"
        );

        // Bad edits are named.
        for (body, needle) in [
            (
                json!({"op": "merge", "keep": a.code.to_string(), "absorb": b.code.to_string(), "author": 7}),
                "author",
            ),
            (json!({"op": "fold", "author": "x"}), "fold"),
            (
                json!({"op": "merge", "keep": "12", "absorb": b.code.to_string(), "author": "x"}),
                "keep",
            ),
            (
                json!({"op": "split", "grid": a.code.to_string(), "author": "x", "geometry": {"type": "Point", "coordinates": [120.1, 30.1]}}),
                "Polygon",
            ),
        ] {
            let (status, _, answer) = send(
                &f.app,
                Method::POST,
                "/api/v1/grids/edits",
                Some(&body),
                Some(TOKEN),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
            assert!(
                answer["detail"].as_str().expect("detail").contains(needle),
                "{answer}"
            );
        }
        let unknown = json!({"op": "merge", "keep": format!("{}999", a.community), "absorb": b.code.to_string(), "author": "x"});
        let (status, _, answer) = send(
            &f.app,
            Method::POST,
            "/api/v1/grids/edits",
            Some(&unknown),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            answer["detail"].as_str().expect("detail").contains("999"),
            "{answer}"
        );
    }
}

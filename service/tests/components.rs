//! Components (部件) and overlay zones on both stores, over the synthetic
//! test city: every component's cell checked against a brute-force
//! point-in-polygon over the stored cells; counts against counting the
//! stored rows; numbering, moves, audit and refusals through the API;
//! imports through GDAL that place, number and refuse; zone reports whose
//! gap and overlap areas are known by construction; `locate` against a
//! brute-force search of the zones.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use axum::Router;
use civgrid::cells::{Cell, CellCode};
use civgrid::components::{anchor, Component};
use civgrid::zones::ZoneFeature;
use civgrid::{LocalProjection, Territory};
use civgrid_service::auth::WriterToken;
use civgrid_service::import::ImportOptions;
use civgrid_service::state::ServeConfig;
use civgrid_service::store::{CellRows, NewCells, Store};
use civgrid_service::{app, cli, AppState};
use geo::{Area, InteriorPoint, Intersects};
use geo_types::{MultiPolygon, Point};
use serde_json::{json, Value};

use crate::common::get_bytes;
use crate::common::{
    both_stores, feature, multipolygon_json, point_json, test_city_store, write_geojson,
};
use crate::grids::planned_test_city;
use crate::responders::send;
use crate::risk::{decode_mvt, string};

const TOKEN: &str = "components-writer";

async fn served(store: Arc<dyn Store>) -> Router {
    let config = ServeConfig {
        writer_token: WriterToken::new(TOKEN),
        ..ServeConfig::default()
    };
    app(AppState::load_with(store, config).await.expect("state"))
}

/// The active cells holding `p`, by brute force.
fn cells_holding(cells: &[Cell], p: Point<f64>) -> Vec<CellCode> {
    cells
        .iter()
        .filter(|c| c.end.is_none() && c.geometry.intersects(&p))
        .map(|c| c.code)
        .collect()
}

/// Checks that a component's cell is one holding its anchor or, when a
/// hairline crack between cells holds it, the nearest within half a metre.
fn assert_tied(c: &Component, cells: &[Cell]) {
    use geo::{Distance, Euclidean};
    let p = anchor(&c.geometry).expect("an anchor");
    let mut holding = cells_holding(cells, p);
    if holding.is_empty() {
        let nearest = cells
            .iter()
            .filter(|x| x.end.is_none())
            .map(|x| (Euclidean.distance(&x.geometry, &p), x.code))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .expect("cells");
        assert!(
            nearest.0 <= civgrid::components::SNAP_DEG,
            "{}: {nearest:?}",
            c.code
        );
        holding.push(nearest.1);
    }
    let cell = c.cell.unwrap_or_else(|| panic!("{}: no cell", c.code));
    assert!(
        holding.contains(&cell),
        "{}: {cell} not in {holding:?}",
        c.code
    );
}

/// Per key and class, as counted from the stored rows or answered.
type Counts = BTreeMap<String, BTreeMap<String, u64>>;

/// A counts answer per key and class; each row's total must be the sum of
/// its classes.
fn counts_of(v: &Value) -> Counts {
    v["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|c| {
            let classes: BTreeMap<String, u64> =
                serde_json::from_value(c["classes"].clone()).expect("classes");
            assert_eq!(c["total"].as_u64(), Some(classes.values().sum()), "{c}");
            (c["key"].as_str().expect("key").to_owned(), classes)
        })
        .collect()
}

fn add(counts: &mut Counts, key: String, class: String) {
    *counts.entry(key).or_default().entry(class).or_default() += 1;
}

#[tokio::test]
async fn components_are_tied_to_the_cells_holding_them_and_counted() {
    for backend in both_stores() {
        let (city, _holder, store, _) = planned_test_city(backend).await;
        let stored = store.load().await.expect("load");
        let (cells, _) = store.load_cells().await.expect("cells");
        assert_eq!(
            stored.components.len(),
            city.components.len(),
            "{backend:?}"
        );
        assert!(stored.components.len() > 100, "{}", stored.components.len());
        // The cells run tied every component, and stored the ties.
        for c in &stored.components {
            assert_tied(c, &cells);
        }
        let app = served(store.clone()).await;
        // Per cell, class and state: what the stored rows say.
        let (mut by_cell, mut by_class, mut by_state) =
            (Counts::new(), Counts::new(), Counts::new());
        for c in &stored.components {
            let class = c.code.class();
            add(
                &mut by_cell,
                c.cell.expect("a cell").to_string(),
                class.clone(),
            );
            add(&mut by_class, class.clone(), class.clone());
            add(&mut by_state, c.state.as_str().to_owned(), class);
        }
        for (by, expected) in [
            ("cell", &by_cell),
            ("class", &by_class),
            ("state", &by_state),
        ] {
            let (s, _, v) = send(
                &app,
                Method::GET,
                &format!("/api/v1/components/counts?by={by}"),
                None,
                None,
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{v}");
            assert_eq!(&counts_of(&v), expected, "{backend:?} by {by}");
            assert_eq!(v["total"], stored.components.len());
        }
        assert!(by_state.contains_key("damaged") && by_state.contains_key("good"));
        // Per grid: each listed component's grid holds it, and the counts
        // are those of the list.
        let grids = store.load_grids().await.expect("grids");
        let (s, _, list) = send(
            &app,
            Method::GET,
            "/api/v1/components?limit=10000",
            None,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list["numberMatched"], stored.components.len());
        let mut by_grid = Counts::new();
        for f in list["features"].as_array().expect("features") {
            let code: civgrid::components::ComponentCode =
                f["id"].as_str().expect("id").parse().expect("a code");
            let c = stored
                .components
                .iter()
                .find(|c| c.code == code)
                .expect("stored");
            assert_eq!(
                f["properties"]["cell"],
                json!(c.cell.map(|x| x.to_string()))
            );
            let p = anchor(&c.geometry).expect("anchor");
            if let Some(g) = f["properties"]["grid"].as_str() {
                let grid = grids
                    .iter()
                    .find(|x| x.code.to_string() == g && x.end.is_none());
                // In the grid, or in a hairline crack beside it.
                let d = geo::Distance::distance(
                    &geo::Euclidean,
                    &grid.expect("an active grid").geometry,
                    &p,
                );
                assert!(d <= civgrid::components::SNAP_DEG, "{code} not in {g}");
                add(&mut by_grid, g.to_owned(), c.code.class());
            } else {
                let near = |x: &civgrid::grids::Grid| {
                    geo::Distance::distance(&geo::Euclidean, &x.geometry, &p)
                        <= civgrid::components::SNAP_DEG
                };
                assert!(
                    !grids.iter().any(|x| x.end.is_none() && near(x)),
                    "{code} lies in a grid but has none"
                );
            }
        }
        let (_, _, v) = send(
            &app,
            Method::GET,
            "/api/v1/components/counts?by=grid",
            None,
            None,
        )
        .await;
        assert_eq!(counts_of(&v), by_grid);
        // Filters: class and state together (the damaged class with most
        // rows, so that the answer cannot be empty by chance), and one cell
        // (the one with most components): the same components as the rows.
        let ids = |v: &Value| -> Vec<String> {
            let mut ids: Vec<String> = v["features"]
                .as_array()
                .expect("features")
                .iter()
                .map(|f| f["id"].as_str().expect("id").to_owned())
                .collect();
            ids.sort();
            ids
        };
        let rows = |keep: &dyn Fn(&Component) -> bool| -> Vec<String> {
            let mut ids: Vec<String> = stored
                .components
                .iter()
                .filter(|c| keep(c))
                .map(|c| c.code.to_string())
                .collect();
            ids.sort();
            ids
        };
        let (class, _) = by_state["damaged"]
            .iter()
            .max_by_key(|(_, n)| **n)
            .expect("a damaged class");
        let expected = rows(&|c| c.code.class() == *class && c.state.as_str() == "damaged");
        assert!(!expected.is_empty());
        let uri = format!("/api/v1/components?class={class}&state=damaged");
        let (_, _, v) = send(&app, Method::GET, &uri, None, None).await;
        assert_eq!(ids(&v), expected);
        let (cell, _) = by_cell
            .iter()
            .max_by_key(|(_, classes)| classes.values().sum::<u64>())
            .expect("a cell");
        let expected = rows(&|c| c.cell.map(|x| x.to_string()).as_ref() == Some(cell));
        let uri = format!("/api/v1/components?cell={cell}");
        let (_, _, v) = send(&app, Method::GET, &uri, None, None).await;
        assert_eq!(ids(&v), expected);
        // The OGC collections hold every component and zone.
        for (collection, n) in [
            ("components", stored.components.len()),
            ("zones", stored.zones.len()),
        ] {
            let uri = format!("/ogc/collections/{collection}/items?limit=1");
            let (s, _, v) = send(&app, Method::GET, &uri, None, None).await;
            assert_eq!(
                (s, v["numberMatched"].as_u64()),
                (StatusCode::OK, Some(n as u64)),
                "{collection}"
            );
        }
        // Rebuilt cells rewrite a component's cell and nothing else of it
        // (a copy read before the rebuild may be stale).
        let mut stale = stored.components[0].clone();
        let other = cells
            .iter()
            .find(|x| x.end.is_none() && Some(x.code) != stale.cell)
            .expect("another cell")
            .code;
        stale.cell = Some(other);
        stale.owner = "stale copy".into();
        let (all, adjacency) = store.load_cells().await.expect("cells");
        let rows = CellRows {
            cells: &all,
            adjacency: &adjacency,
        };
        let same = NewCells {
            cells: Arc::new(all.clone()),
            adjacency: Arc::new(adjacency.clone()),
        };
        store
            .replace_cells(rows, &same, std::slice::from_ref(&stale))
            .await
            .expect("replace cells");
        let row = store
            .load()
            .await
            .expect("load")
            .components
            .into_iter()
            .find(|c| c.code == stale.code)
            .expect("kept");
        assert_eq!(row.cell, Some(other), "{backend:?}");
        assert_eq!(row.owner, stored.components[0].owner, "{backend:?}");
        // Bad parameters are named.
        for (uri, word) in [
            ("/api/v1/components/counts?by=street", "by"),
            ("/api/v1/components?class=117", "class"),
            ("/api/v1/components?state=broken", "state"),
            ("/api/v1/components?cell=12", "cell"),
            ("/api/v1/components?limit=0", "limit"),
        ] {
            let (s, _, v) = send(&app, Method::GET, uri, None, None).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}");
            assert!(
                v["detail"].as_str().expect("detail").contains(word),
                "{uri}: {v}"
            );
        }
    }
}

/// A point-component body.
fn body(p: Point<f64>, properties: Value) -> Value {
    feature(properties, point_json(p))
}

#[tokio::test]
async fn writes_number_move_audit_and_refuse_components() {
    for backend in both_stores() {
        let (_, _holder, store, _) = planned_test_city(backend).await;
        let before = store.load().await.expect("load");
        let (cells, _) = store.load_cells().await.expect("cells");
        let app = served(store.clone()).await;
        let lamp = before
            .components
            .iter()
            .find(|c| c.code.class() == "0118")
            .expect("a lamp")
            .clone();
        // A move into another cell: the answer and the store follow.
        // The cell of its district farthest from it: another tile too.
        let from = anchor(&lamp.geometry).expect("an anchor");
        let district = lamp.code.district().to_string();
        let target = cells
            .iter()
            .filter(|c| c.end.is_none() && c.community.to_string().starts_with(&district))
            .max_by(|a, b| {
                let d = |c: &Cell| {
                    geo::Distance::distance(
                        &geo::Euclidean,
                        &c.geometry.interior_point().expect("a point"),
                        &from,
                    )
                };
                d(a).total_cmp(&d(b))
            })
            .expect("another cell");
        let q = target.geometry.interior_point().expect("a point");
        let uri = format!("/api/v1/components/{}", lamp.code);
        // Its vector tiles, read (and cached) before the move.
        let tile_at = |p: Point<f64>| {
            let t = civgrid_tiles::TileCoord::containing(p.x(), p.y(), 17).expect("a tile");
            format!("/tiles/components/17/{}/{}.mvt", t.x, t.y)
        };
        let codes_in = |bytes: Vec<u8>| -> Vec<String> {
            decode_mvt(bytes, "components")
                .iter()
                .map(|f| string(f, "code"))
                .collect()
        };
        let lamp_code = lamp.code.to_string();
        let (_, _, old_tile) = get_bytes(&app, &tile_at(from), None).await;
        assert!(codes_in(old_tile).contains(&lamp_code));
        let (_, _, new_tile) = get_bytes(&app, &tile_at(q), None).await;
        assert!(!codes_in(new_tile).contains(&lamp_code));
        let moved = body(
            q,
            json!({"class": "0118", "owner": "新城管所", "state": "破损"}),
        );
        let (s, _, v) = send(&app, Method::PUT, &uri, Some(&moved), Some(TOKEN)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["properties"]["cell"], target.code.to_string());
        assert_eq!(v["properties"]["state"], "damaged");
        assert_eq!(v["properties"]["maintainer"], "新城管所");
        let row = store
            .load()
            .await
            .expect("load")
            .components
            .into_iter()
            .find(|c| c.code == lamp.code)
            .expect("kept");
        assert_eq!(
            row.cell,
            Some(target.code),
            "{backend:?}: the store has the new cell"
        );
        assert_eq!((row.owner.as_str(), row.id), ("新城管所", lamp.id));
        // The move dropped both cached tiles: the lamp is in the new one only.
        let (_, _, old_tile) = get_bytes(&app, &tile_at(from), None).await;
        assert!(!codes_in(old_tile).contains(&lamp_code));
        let (_, _, new_tile) = get_bytes(&app, &tile_at(q), None).await;
        assert!(codes_in(new_tile).contains(&lamp_code));
        let (s, _, audit) = send(
            &app,
            Method::GET,
            "/api/v1/audit?layer=components",
            None,
            Some(TOKEN),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{audit}");
        let entry = &audit["entries"][0];
        assert_eq!(entry["action"], "update", "{audit}");
        assert_eq!(
            entry["before"]["properties"]["cell"],
            lamp.cell.expect("cell").to_string(),
            "{entry}"
        );
        assert_eq!(
            entry["after"]["properties"]["cell"],
            target.code.to_string(),
            "{entry}"
        );
        assert_eq!(entry["feature_id"], lamp.id);
        // A PUT may leave the code and class to the path; a body naming
        // another code is refused.
        let (s, v) = {
            let b = body(q, json!({"owner": "新城管所", "state": "good"}));
            let (s, _, v) = send(&app, Method::PUT, &uri, Some(&b), Some(TOKEN)).await;
            (s, v)
        };
        assert_eq!(
            (s, v["properties"]["state"].as_str()),
            (StatusCode::OK, Some("good")),
            "{v}"
        );
        let other_code = before
            .components
            .iter()
            .find(|c| c.code != lamp.code)
            .expect("another")
            .code;
        let b = body(q, json!({"code": other_code.to_string(), "owner": "x"}));
        let (s, _, v) = send(&app, Method::PUT, &uri, Some(&b), Some(TOKEN)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert!(
            v["detail"].as_str().expect("detail").contains("path"),
            "{v}"
        );
        // A new component without a code: the next serial of its district and class.
        let district = lamp.code.district();
        let last = before
            .components
            .iter()
            .filter(|c| c.code.district() == district && c.code.class() == "0118")
            .map(|c| c.code.serial())
            .max()
            .expect("lamps");
        let (s, headers, v) = send(
            &app,
            Method::POST,
            "/api/v1/components",
            Some(&body(
                q,
                json!({"class": "0118", "owner": "区城管局", "name": "新灯"}),
            )),
            Some(TOKEN),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let code = format!("{district}0118{:06}", last + 1);
        assert_eq!(v["id"], code);
        assert_eq!(v["properties"]["cell"], target.code.to_string());
        assert_eq!(v["properties"]["class_name"], "公用设施 / 路灯");
        assert_eq!(
            headers["location"],
            format!("/api/v1/components/{code}").as_str()
        );
        assert_eq!(
            store.load().await.expect("load").components.len(),
            before.components.len() + 1
        );
        // Refusals name the problem and write nothing.
        let other = format!("110101011800000{}", 1);
        for (b, status, word) in [
            (
                json!({"code": other, "owner": "x"}),
                StatusCode::BAD_REQUEST,
                "district",
            ),
            (
                json!({"class": "0999", "owner": "x"}),
                StatusCode::BAD_REQUEST,
                "class",
            ),
            (json!({"class": "0118"}), StatusCode::BAD_REQUEST, "owner"),
            (
                json!({"class": "0118", "owner": "x", "colour": "red"}),
                StatusCode::BAD_REQUEST,
                "colour",
            ),
            (
                json!({"code": code, "owner": "x"}),
                StatusCode::CONFLICT,
                "already",
            ),
        ] {
            let (s, _, v) = send(
                &app,
                Method::POST,
                "/api/v1/components",
                Some(&body(q, b.clone())),
                Some(TOKEN),
            )
            .await;
            assert_eq!(s, status, "{b}: {v}");
            assert!(
                v["detail"].as_str().expect("detail").contains(word),
                "{b}: {v}"
            );
        }
        let far = Point::new(q.x() + 5.0, q.y());
        let (s, _, v) = send(
            &app,
            Method::POST,
            "/api/v1/components",
            Some(&body(far, json!({"class": "0118", "owner": "x"}))),
            Some(TOKEN),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(
            v["detail"].as_str().expect("detail").contains("outside"),
            "{v}"
        );
        let (s, _, _) = send(
            &app,
            Method::POST,
            "/api/v1/components",
            Some(&body(q, json!({"class": "0118", "owner": "x"}))),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(
            store.load().await.expect("load").components.len(),
            before.components.len() + 1
        );
        let item = format!("/ogc/collections/components/items/{code}");
        let (s, _, v) = send(&app, Method::GET, &item, None, None).await;
        assert_eq!(
            (s, v["properties"]["owner"].as_str()),
            (StatusCode::OK, Some("区城管局")),
            "{v}"
        );
        // Delete; then it is gone everywhere.
        let uri = format!("/api/v1/components/{code}");
        let (s, _, _) = send(&app, Method::DELETE, &uri, None, Some(TOKEN)).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _, _) = send(&app, Method::GET, &uri, None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _, _) = send(&app, Method::GET, &item, None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "the OGC collection follows");
        assert_eq!(
            store.load().await.expect("load").components.len(),
            before.components.len()
        );
    }
}

#[tokio::test]
async fn imports_number_place_and_refuse_components() {
    for backend in both_stores() {
        let (city, holder, store, _) = planned_test_city(backend).await;
        let (cells, _) = store.load_cells().await.expect("cells");
        let cell = cells.iter().find(|c| c.end.is_none()).expect("a cell");
        let p = cell.geometry.interior_point().expect("a point");
        let district = cell.community.to_string()[..6].to_owned();
        let dir = tempfile::tempdir().expect("tempdir");
        let square = |d: f64| -> MultiPolygon<f64> {
            crate::common::rect(p.x() - d, p.y() - d, p.x() + d, p.y() + d)
        };
        let given = format!("{district}0101900001");
        let good = vec![
            feature(
                json!({"code": given, "owner": "区水务局", "name": "given"}),
                point_json(p),
            ),
            feature(
                json!({"class": "0120", "owner": "区环卫中心", "state": "破损"}),
                point_json(p),
            ),
            // A code given after a row numbered in its class: taken first,
            // so the numbered one takes the next serial.
            feature(
                json!({"code": format!("{district}0120000001"), "owner": "区环卫中心"}),
                point_json(p),
            ),
            feature(
                json!({"class": "0211", "owner": "区交通运输局"}),
                json!({"type": "LineString", "coordinates": [[p.x() - 1e-4, p.y()], [p.x() + 1e-4, p.y()]]}),
            ),
            feature(
                json!({"class": "0405", "owner": "区园林绿化局"}),
                multipolygon_json(&square(5e-5)),
            ),
        ];
        let path = write_geojson(dir.path(), "components.geojson", good);
        let opts = ImportOptions::default();
        cli::import_files(&holder.spec, std::slice::from_ref(&path), &opts, Vec::new())
            .await
            .expect("the import");
        let stored = store.load().await.expect("load");
        let imported: Vec<&Component> = stored
            .components
            .iter()
            .filter(|c| !city.components.iter().any(|x| x.code == c.code))
            .collect();
        let mut codes: Vec<String> = imported.iter().map(|c| c.code.to_string()).collect();
        codes.sort();
        let mut expected = vec![
            given.clone(),
            format!("{district}0120000001"),
            format!("{district}0120000002"),
            format!(
                "{district}0211{:06}",
                1 + city
                    .components
                    .iter()
                    .filter(
                        |c| c.code.class() == "0211" && c.code.district().to_string() == district
                    )
                    .count()
            ),
            format!("{district}0405000001"),
        ];
        expected.sort();
        assert_eq!(codes, expected, "{backend:?}");
        for c in &imported {
            assert_tied(c, &cells);
        }
        let damaged = imported
            .iter()
            .find(|c| c.code.to_string() == format!("{district}0120000002"))
            .expect("the numbered 0120");
        assert_eq!(damaged.state.as_str(), "damaged");
        // Again: the same codes (the file's earlier components are replaced).
        cli::import_files(&holder.spec, &[path], &opts, Vec::new())
            .await
            .expect("again");
        let again = store.load().await.expect("load");
        assert_eq!(again.components.len(), stored.components.len());
        let mut codes_again: Vec<String> = again
            .components
            .iter()
            .map(|c| c.code.to_string())
            .collect();
        let mut codes_before: Vec<String> = stored
            .components
            .iter()
            .map(|c| c.code.to_string())
            .collect();
        codes_again.sort();
        codes_before.sort();
        assert_eq!(codes_again, codes_before);
        // Refused files name the feature and what is wrong; nothing is written.
        let taken = city.components[0].code.to_string();
        for (props, words) in [
            (
                json!({"code": "1101010101000001", "owner": "x"}),
                vec![
                    "bad-components.geojson",
                    "feature 0",
                    "code",
                    "district 110101",
                ],
            ),
            (
                json!({"code": taken, "owner": "x"}),
                vec!["code", "already used"],
            ),
            (json!({"class": "0101"}), vec!["owner"]),
            (json!({"class": "01a1", "owner": "x"}), vec!["class"]),
            (
                json!({"code": given, "class": "0102", "owner": "x"}),
                vec!["class", "0101"],
            ),
        ] {
            let bad = write_geojson(
                dir.path(),
                "bad-components.geojson",
                vec![feature(props.clone(), point_json(p))],
            );
            let e = cli::import_files(&holder.spec, &[bad], &opts, Vec::new())
                .await
                .err()
                .expect("refused");
            let message = format!("{e:#}");
            for w in words {
                assert!(message.contains(w), "{props}: {message}");
            }
            assert_eq!(
                store.counts().await.expect("counts").components,
                again.components.len()
            );
        }
    }
}

/// Area of `g` in m², in the projection the service measures zones in.
fn area_m2(t: &Territory, g: &MultiPolygon<f64>) -> f64 {
    let lon = t.extent().expect("extent").center().x;
    LocalProjection::gauss_kruger_3deg(lon)
        .expect("projection")
        .project(g)
        .expect("projected")
        .unsigned_area()
}

fn zone(layer: &str, code: &str, complete: bool, g: &MultiPolygon<f64>) -> Value {
    feature(
        json!({"layer": layer, "code": code, "name": code, "complete": complete}),
        multipolygon_json(g),
    )
}

#[tokio::test]
async fn zones_are_validated_located_and_checked_on_import() {
    for backend in both_stores() {
        let (holder, store, city) = test_city_store(backend).await;
        let subs = &city.subdistricts;
        assert!(subs.len() >= 2);
        // A complete layer with a known gap (the last subdistrict is left
        // out) and a known overlap (the first is there twice).
        let dir = tempfile::tempdir().expect("tempdir");
        let mut beats: Vec<Value> = subs[..subs.len() - 1]
            .iter()
            .map(|s| zone("beats_2027", &format!("B{}", s.code), true, &s.geometry))
            .collect();
        beats.push(zone("beats_2027", "B-extra", true, &subs[0].geometry));
        let path = write_geojson(dir.path(), "zones.geojson", beats);
        cli::import_files(&holder.spec, &[path], &ImportOptions::default(), Vec::new())
            .await
            .expect("import");
        let app = served(store.clone()).await;
        let (s, _, v) = send(&app, Method::GET, "/api/v1/zones", None, None).await;
        assert_eq!(s, StatusCode::OK);
        let layers = v["layers"].as_array().expect("layers");
        let names: Vec<&str> = layers
            .iter()
            .map(|l| l["layer"].as_str().expect("name"))
            .collect();
        assert_eq!(names, ["beats_2027", "police_beats", "school_safety"]);
        let police = &layers[1];
        assert_eq!(
            (police["complete"].as_bool(), police["valid"].as_bool()),
            (Some(true), Some(true)),
            "{police}"
        );
        assert_eq!(police["zones"], subs.len());
        let schools = city
            .facilities
            .iter()
            .filter(|f| f.kind == civgrid::FacilityKind::School)
            .count();
        assert_eq!(layers[2]["zones"], schools);
        assert_eq!(layers[2]["complete"], false);
        let broken = &layers[0];
        assert_eq!(broken["valid"], false);
        let gaps = broken["gaps"].as_array().expect("gaps");
        assert_eq!(gaps.len(), 1, "{broken}");
        let last = &subs[subs.len() - 1];
        let gap = gaps[0]["area_m2"].as_f64().expect("area");
        let expected = area_m2(&city, &last.geometry);
        assert!(
            (gap - expected).abs() < 1e-3 * expected,
            "gap {gap} m², the left-out subdistrict {expected} m²"
        );
        let at = Point::new(
            gaps[0]["point"][0].as_f64().expect("x"),
            gaps[0]["point"][1].as_f64().expect("y"),
        );
        assert!(
            last.geometry.intersects(&at),
            "the gap's point lies in the left-out subdistrict"
        );
        let overlaps = broken["overlaps"].as_array().expect("overlaps");
        assert_eq!(overlaps.len(), 1, "{broken}");
        assert_eq!(
            (overlaps[0]["a"].as_str(), overlaps[0]["b"].as_str()),
            (Some("B-extra"), Some(format!("B{}", subs[0].code).as_str())),
            "the smaller code first"
        );
        let overlap = overlaps[0]["area_m2"].as_f64().expect("area");
        let expected = area_m2(&city, &subs[0].geometry);
        assert!(
            (overlap - expected).abs() < 1e-3 * expected,
            "overlap {overlap} m², the subdistrict {expected} m²"
        );
        // locate: every zone holding the point, against a brute-force search.
        let stored = store.load().await.expect("load");
        let probes: Vec<Point<f64>> = city
            .facilities
            .iter()
            .filter(|f| f.kind == civgrid::FacilityKind::School)
            .map(|f| f.location)
            .chain(
                city.communities
                    .iter()
                    .filter_map(|c| c.geometry.interior_point()),
            )
            .collect();
        for p in probes {
            let mut expected: Vec<(String, String)> = stored
                .zones
                .iter()
                .filter(|z: &&ZoneFeature| z.geometry.intersects(&p))
                .map(|z| (z.layer.clone(), z.code.clone()))
                .collect();
            expected.sort();
            let uri = format!("/api/v1/locate?lon={}&lat={}", p.x(), p.y());
            let (s, _, v) = send(&app, Method::GET, &uri, None, None).await;
            assert_eq!(s, StatusCode::OK);
            let found: Vec<(String, String)> = v["zones"]
                .as_array()
                .expect("zones")
                .iter()
                .map(|z| {
                    (
                        z["layer"].as_str().expect("layer").to_owned(),
                        z["code"].as_str().expect("code").to_owned(),
                    )
                })
                .collect();
            assert_eq!(found, expected, "{backend:?} at {p:?}");
            assert!(found.iter().any(|(l, _)| l == "police_beats"));
        }
        // One layer's zones as GeoJSON; an unknown layer is named.
        let (s, _, v) = send(&app, Method::GET, "/api/v1/zones/police_beats", None, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            v["features"].as_array().expect("features").len(),
            subs.len()
        );
        let (s, _, v) = send(&app, Method::GET, "/api/v1/zones/beat", None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(
            v["detail"]
                .as_str()
                .expect("detail")
                .contains("police_beats"),
            "{v}"
        );
        // Refused: a code twice in a layer; a zone disagreeing with its
        // layer's claim. Nothing is written.
        let count = store.counts().await.expect("counts").zones;
        for (features, words) in [
            (
                vec![
                    zone("wards", "W1", false, &subs[0].geometry),
                    zone("wards", "W1", false, &subs[1].geometry),
                ],
                vec!["code", "W1", "wards"],
            ),
            (
                vec![zone("police_beats", "PB-new", false, &subs[0].geometry)],
                vec!["complete", "police_beats"],
            ),
            (
                vec![feature(
                    json!({"code": "X", "complete": "maybe"}),
                    multipolygon_json(&subs[0].geometry),
                )],
                vec!["complete", "maybe"],
            ),
        ] {
            let bad = write_geojson(dir.path(), "bad-zones.geojson", features);
            let e = cli::import_files(&holder.spec, &[bad], &ImportOptions::default(), Vec::new())
                .await
                .err()
                .expect("refused");
            let message = format!("{e:#}");
            for w in words {
                assert!(message.contains(w), "{message}");
            }
            assert_eq!(store.counts().await.expect("counts").zones, count);
        }
    }
}

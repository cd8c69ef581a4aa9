//! Unit cells through the service: `civgrid cells` on both stores, the
//! stored history, the export read back through GDAL and checked with GEOS
//! (an independent geometry library: union = community, no overlaps, every
//! cell inside its community), OGC API Features paging and `bbox` against a
//! brute force, `locate` answering the cell, and GDAL's OAPIF driver
//! reading a live server.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use axum::http::StatusCode;
use chrono::NaiveDate;
use civgrid::cells::{Cell, CellCode, CellConfig};
use civgrid::synth::{synthesize, SynthConfig};
use civgrid::{AdminArea, AdminCode, CommunityKind, Territory};
use civgrid_service::cells;
use civgrid_service::export::{self, ExportLayer};
use civgrid_service::ogc;
use civgrid_service::store::{self, ImportBatch, Store};
use civgrid_service::{app, AppState};
use gdal::vector::{Geometry as GdalGeometry, LayerAccess, ToGdal};
use gdal::Dataset;
use geo::{BoundingRect, Contains, Intersects};
use geo_types::{Point, Rect};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::common::{both_stores, fresh_gpkg, rect, TestStore};
use crate::http::{get, problem};

fn day(d: &str) -> NaiveDate {
    d.parse().expect("a date")
}

/// The test city plus a community far too small for a cell (named, so the
/// failure can be checked by name).
fn city_with_a_tiny_community() -> (Territory, AdminArea) {
    let mut city = synthesize(&SynthConfig::test()).expect("the test city synthesizes");
    let last = city
        .communities
        .iter()
        .map(|c| c.code)
        .max()
        .expect("communities");
    let code: AdminCode = (last.to_string().parse::<u64>().expect("digits") + 1)
        .to_string()
        .parse()
        .expect("a community code");
    let bbox = city.extent().expect("an extent");
    // About 20 m × 20 m, east of the city: 400 m² < the 1,000 m² minimum.
    let x = bbox.max().x + 0.01;
    let y = bbox.min().y;
    let tiny = AdminArea {
        code,
        name: "袖珍社区".into(),
        kind: Some(CommunityKind::Urban),
        geometry: rect(x, y, x + 0.0002, y + 0.00018),
    };
    city.communities.push(tiny.clone());
    (city, tiny)
}

pub async fn store_with(
    backend: crate::common::Backend,
    t: &Territory,
) -> (TestStore, Arc<dyn Store>) {
    let s = TestStore::new(backend).await;
    let store = store::open(&s.spec).await.expect("open the store");
    store
        .import(&[ImportBatch {
            source: "synthetic".into(),
            territory: t.clone(),
        }])
        .await
        .expect("import the city");
    (s, store)
}

/// Runs `civgrid cells` on a store (as on 2026-01-01) and returns the
/// active cells in the engine's order (by code).
pub async fn active_cells(store: &Arc<dyn Store>) -> Vec<Cell> {
    let day = "2026-01-01".parse().expect("a date");
    cells::run(store, CellConfig::default(), day)
        .await
        .expect("cells");
    let (mut cells, _) = store.load_cells().await.expect("cells");
    cells.retain(|c| c.end.is_none());
    cells.sort_by_key(|c| c.code);
    cells
}

/// Area of the polygonal parts of a GEOS result (lines and points of a
/// touching edge have none).
fn surface(g: Option<GdalGeometry>) -> f64 {
    fn parts(g: &GdalGeometry) -> f64 {
        use gdal::vector::OGRwkbGeometryType as T;
        match gdal::vector::geometry_type_flatten(g.geometry_type()) {
            T::wkbPolygon | T::wkbMultiPolygon => g.area(),
            T::wkbGeometryCollection => (0..g.geometry_count())
                .map(|i| parts(&g.get_geometry(i).clone()))
                .sum(),
            _ => 0.0,
        }
    }
    g.map_or(0.0, |g| parts(&g))
}

fn gdal_geom(g: &geo_types::MultiPolygon<f64>) -> GdalGeometry {
    g.to_gdal().expect("GDAL takes the geometry")
}

/// Checks the exported cells with GEOS (through GDAL): per community the
/// cells' union equals the community, no two cells overlap, and every cell
/// lies inside its community. Areas in degrees² (relative tolerances).
fn check_with_geos(file: &Path, communities: &[AdminArea], expected_cells: usize) {
    let ds = Dataset::open(file).expect("GDAL opens the export");
    let mut layer = ds.layer_by_name("cells").expect("a cells layer");
    assert_eq!(
        layer.feature_count() as usize,
        expected_cells,
        "cells in the file"
    );
    let mut by_community: BTreeMap<String, Vec<(String, GdalGeometry)>> = BTreeMap::new();
    for f in layer.features() {
        let text = |name: &str| {
            f.field_index(name)
                .and_then(|i| f.field_as_string(i))
                .expect("the field")
                .expect("a value")
        };
        let (code, community) = (text("code"), text("community"));
        assert!(
            code.starts_with(&community),
            "{code} starts with {community}"
        );
        assert_eq!(code.len(), 15, "{code}: 15 digits");
        let g = f.geometry().expect("a geometry").clone();
        assert!(g.is_valid(), "cell {code} is valid for GEOS");
        by_community.entry(community).or_default().push((code, g));
    }
    for c in communities {
        let Some(cells) = by_community.get(&c.code.to_string()) else {
            continue;
        };
        let community = gdal_geom(&c.geometry);
        let area = community.area();
        let mut union = cells[0].1.clone();
        for (_, g) in &cells[1..] {
            union = union.union(g).expect("GEOS unions the cells");
        }
        let gap = surface(community.difference(&union));
        let spill = surface(union.difference(&community));
        assert!(
            gap <= 1e-6 * area && spill <= 1e-6 * area,
            "community {}: union of {} cells differs from it: gap {:.3e}, outside {:.3e} of {area:.3e} deg²",
            c.code,
            cells.len(),
            gap / area,
            spill / area
        );
        let sum: f64 = cells.iter().map(|(_, g)| g.area()).sum();
        assert!(
            (sum - area).abs() <= 1e-6 * area,
            "community {}: cell areas sum to {sum:.6e}, community {area:.6e}",
            c.code
        );
        for (i, (a_code, a)) in cells.iter().enumerate() {
            let outside = surface(a.difference(&community));
            assert!(
                outside <= 1e-9 * a.area(),
                "cell {a_code} reaches {outside:.3e} deg² outside community {}",
                c.code
            );
            let ea = a.envelope();
            for (b_code, b) in &cells[i + 1..] {
                let eb = b.envelope();
                if ea.MaxX < eb.MinX || eb.MaxX < ea.MinX || ea.MaxY < eb.MinY || eb.MaxY < ea.MinY
                {
                    continue;
                }
                let overlap = surface(a.intersection(b));
                assert!(
                    overlap <= 1e-6 * a.area().min(b.area()),
                    "cells {a_code} and {b_code} overlap by {overlap:.3e} deg²"
                );
            }
        }
    }
}

fn active(cells: &[Cell]) -> Vec<Cell> {
    cells.iter().filter(|c| c.end.is_none()).cloned().collect()
}

#[tokio::test]
async fn cells_are_stored_with_history_and_exported_gap_free_on_both_stores() {
    let (city, tiny) = city_with_a_tiny_community();
    for backend in both_stores() {
        let (_s, store) = store_with(backend, &city).await;
        let run = cells::run(&store, CellConfig::default(), day("2026-01-01"))
            .await
            .expect("cells run");
        let what = format!("{backend:?}");
        assert_eq!(
            run.report.failed.len(),
            1,
            "{what}: {:?}",
            run.report.failed
        );
        let failure = &run.report.failed[0];
        assert_eq!(failure.code, tiny.code, "{what}: the tiny community fails");
        assert_eq!(failure.name, tiny.name);
        assert!(
            failure.error.to_string().contains(&tiny.code.to_string()),
            "{what}: the error names the community: {}",
            failure.error
        );
        let (stored, adjacency) = store.load_cells().await.expect("load cells");
        assert_eq!(stored.len(), run.stored, "{what}: every cell is stored");
        assert_eq!(adjacency.len(), run.adjacency, "{what}: adjacency stored");
        assert!(stored.len() > 100, "{what}: {} cells", stored.len());
        assert!(stored
            .iter()
            .all(|c| c.end.is_none() && c.start == day("2026-01-01")));
        let codes: BTreeSet<CellCode> = stored.iter().map(|c| c.code).collect();
        assert_eq!(codes.len(), stored.len(), "{what}: codes are unique");
        assert!(
            adjacency.iter().all(|a| a.a < a.b
                && codes.contains(&a.a)
                && codes.contains(&a.b)
                && a.shared_m > 0.0),
            "{what}: adjacency joins stored cells"
        );
        let communities: BTreeSet<AdminCode> = stored.iter().map(|c| c.community).collect();
        assert_eq!(
            communities.len(),
            city.communities.len() - 1,
            "{what}: all but the tiny one"
        );

        // Independent check of the partition: GEOS on the exported file.
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("cells.gpkg");
        let n = export::write(
            ExportLayer::Cells,
            &ogc::cells(std::sync::Arc::new(stored.clone())),
            &file,
        )
        .expect("export");
        assert_eq!(n, stored.len());
        check_with_geos(&file, &city.communities, stored.len());

        // Unchanged input: every code kept.
        let again = cells::run(&store, CellConfig::default(), day("2026-02-01"))
            .await
            .expect("second run");
        assert_eq!(
            (again.report.kept, again.report.new, again.report.retired),
            (stored.len(), 0, 0),
            "{what}"
        );
        let (reloaded, _) = store.load_cells().await.expect("reload");
        assert_eq!(
            reloaded, stored,
            "{what}: same cells, same codes, same start dates"
        );

        // One building moved: cells change only around it; retired codes
        // stay retired and new ones continue above the community's maximum.
        let mut changed = city.clone();
        let b = &mut changed.buildings[0];
        let shift = 0.0004;
        for p in &mut b.geometry.0 {
            p.exterior_mut(|r| r.0.iter_mut().for_each(|c| c.x += shift));
        }
        store
            .import(&[ImportBatch {
                source: "synthetic".into(),
                territory: changed.clone(),
            }])
            .await
            .expect("re-import");
        let third = cells::run(&store, CellConfig::default(), day("2026-03-01"))
            .await
            .expect("third run");
        let (history, _) = store.load_cells().await.expect("history");
        let now = active(&history);
        assert!(
            third.report.kept * 10 >= now.len() * 9,
            "{what}: most cells kept: {}",
            third.report
        );
        assert_eq!(
            history.len(),
            stored.len() + third.report.new,
            "{what}: history grows by the new cells"
        );
        for old in &stored {
            let h = history
                .iter()
                .find(|c| c.code == old.code)
                .expect("history keeps every code");
            if h.end.is_some() {
                assert_eq!(h.end, Some(day("2026-03-01")), "{what}: retired today");
                assert_eq!(
                    h.geometry, old.geometry,
                    "{what}: a retired cell keeps its outline"
                );
            }
        }
        for new in now.iter().filter(|c| c.start == day("2026-03-01")) {
            let max_before = stored
                .iter()
                .filter(|c| c.community == new.community)
                .map(|c| c.code.sequence())
                .max()
                .unwrap_or(0);
            assert!(
                new.code.sequence() > max_before,
                "{what}: {} reuses no code",
                new.code
            );
        }
    }
}

/// The app over a GeoPackage store with the test city and its cells.
async fn served_city() -> (TestStore, Arc<dyn Store>, axum::Router, Vec<Cell>) {
    let city = synthesize(&SynthConfig::test()).expect("city");
    let s = fresh_gpkg();
    let store = store::open(&s.spec).await.expect("open");
    store
        .import(&[ImportBatch {
            source: "synthetic".into(),
            territory: city,
        }])
        .await
        .expect("import");
    cells::run(&store, CellConfig::default(), day("2026-01-01"))
        .await
        .expect("cells");
    let (cells, _) = store.load_cells().await.expect("cells");
    let state = AppState::load(store.clone()).await.expect("state");
    (s, store, app(state), cells)
}

#[tokio::test]
async fn ogc_items_page_through_a_bbox_like_a_brute_force() {
    let (_s, _store, app, cells) = served_city().await;
    let r = get(&app, "/ogc/collections").await;
    assert_eq!(r.status, StatusCode::OK);
    let ids: Vec<&str> = r.body["collections"]
        .as_array()
        .expect("collections")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "cells",
            "grids",
            "facilities",
            "hazards",
            "components",
            "zones"
        ]
    );
    assert_eq!(get(&app, "/ogc/conformance").await.status, StatusCode::OK);

    let extent = civgrid::extent::extent(cells.iter().filter_map(|c| c.geometry.bounding_rect()))
        .expect("extent");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..5 {
        let w = extent.width() * rng.random_range(0.05..0.4);
        let h = extent.height() * rng.random_range(0.05..0.4);
        let x = rng.random_range(extent.min().x..extent.max().x - w);
        let y = rng.random_range(extent.min().y..extent.max().y - h);
        let bbox = Rect::new((x, y), (x + w, y + h));
        let expected: BTreeSet<String> = cells
            .iter()
            .filter(|c| c.geometry.intersects(&bbox))
            .map(|c| c.code.to_string())
            .collect();
        assert!(!expected.is_empty());
        let mut uri = format!(
            "/ogc/collections/cells/items?bbox={x},{y},{},{}&limit=17",
            x + w,
            y + h
        );
        let mut seen = Vec::new();
        loop {
            let r = get(&app, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
            assert_eq!(r.content_type, "application/geo+json");
            assert_eq!(r.body["numberMatched"], expected.len(), "{uri}");
            let page = r.body["features"].as_array().expect("features");
            assert_eq!(r.body["numberReturned"], page.len());
            assert!(page.len() <= 17);
            for f in page {
                assert_eq!(f["geometry"]["type"], "MultiPolygon");
                seen.push(f["id"].as_str().expect("id").to_owned());
            }
            let next = r.body["links"]
                .as_array()
                .expect("links")
                .iter()
                .find(|l| l["rel"] == "next")
                .and_then(|l| l["href"].as_str())
                .map(|h| h.split_once("/ogc").expect("an /ogc link").1.to_owned());
            match next {
                Some(n) => uri = format!("/ogc{n}"),
                None => break,
            }
        }
        let seen_set: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(seen.len(), seen_set.len(), "no feature twice across pages");
        assert_eq!(seen_set, expected, "pages = brute force");
    }
    let one = &cells[cells.len() / 2];
    let r = get(&app, &format!("/ogc/collections/cells/items/{}", one.code)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["properties"]["community"], one.community.to_string());
    for (uri, status, names) in [
        (
            "/ogc/collections/cells/items?bbox=1,2,3",
            StatusCode::BAD_REQUEST,
            "bbox",
        ),
        (
            "/ogc/collections/cells/items?bbox=a,2,3,4",
            StatusCode::BAD_REQUEST,
            "bbox",
        ),
        (
            "/ogc/collections/cells/items?bbox=3,2,1,4",
            StatusCode::BAD_REQUEST,
            "bbox",
        ),
        (
            "/ogc/collections/cells/items?limit=0",
            StatusCode::BAD_REQUEST,
            "limit",
        ),
        (
            "/ogc/collections/cells/items?offset=-1",
            StatusCode::BAD_REQUEST,
            "offset",
        ),
        (
            "/ogc/collections/parks/items",
            StatusCode::NOT_FOUND,
            "parks",
        ),
        (
            "/ogc/collections/cells/items/999",
            StatusCode::NOT_FOUND,
            "999",
        ),
    ] {
        let detail = problem(&get(&app, uri).await, status, uri);
        assert!(detail.contains(names), "{uri}: {detail}");
    }
}

#[tokio::test]
async fn locate_answers_the_cell_holding_the_point() {
    let (_s, _store, app, cells) = served_city().await;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut checked = 0;
    for c in cells.iter().step_by(7) {
        let r = c.geometry.bounding_rect().expect("bbox");
        let p = Point::new(
            rng.random_range(r.min().x..r.max().x),
            rng.random_range(r.min().y..r.max().y),
        );
        let holders: Vec<&Cell> = cells.iter().filter(|c| c.geometry.contains(&p)).collect();
        if holders.len() != 1 {
            continue; // outside the bbox's cell or on an edge: covered elsewhere
        }
        let reply = get(&app, &format!("/api/v1/locate?lon={}&lat={}", p.x(), p.y())).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            reply.body["cell"]["code"],
            holders[0].code.to_string(),
            "({}, {})",
            p.x(),
            p.y()
        );
        assert_eq!(
            reply.body["community"]["code"],
            holders[0].community.to_string()
        );
        checked += 1;
    }
    assert!(checked > 20, "{checked} points checked");
}

#[tokio::test]
async fn gdal_reads_the_cells_from_a_live_server() {
    let (_s, _store, app, cells) = served_city().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("OAPIF:http://{addr}/ogc");
    let out = tokio::task::spawn_blocking(move || {
        crate::common::gdal_tool("ogrinfo", &["-ro", "-so", &url, "cells"])
    })
    .await
    .expect("ogrinfo ran");
    server.abort();
    assert!(
        out.contains(&format!("Feature Count: {}", cells.len())),
        "ogrinfo over OAPIF sees every cell:\n{out}"
    );
}

#[tokio::test]
async fn h3_view_sums_cell_values_into_hexagons_holding_them() {
    let (_s, store, app, cells) = served_city().await;
    let city = store.load().await.expect("the city");
    let households: u64 = city.buildings.iter().map(|b| u64::from(b.households)).sum();
    let area: f64 = cells.iter().map(|c| c.area_m2).sum();
    for (value, total) in [
        ("households", households as f64),
        ("cells", cells.len() as f64),
        ("area_m2", area),
    ] {
        let uri = format!("/api/v1/h3?resolution=8&value={value}");
        let r = get(&app, &uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
        assert_eq!(r.content_type, "application/geo+json");
        let features = r.body["features"].as_array().expect("features");
        assert!(features.len() > 1, "{uri}: several hexagons");
        let sum: f64 = features
            .iter()
            .map(|f| f["properties"]["sum"].as_f64().expect("a sum"))
            .sum();
        assert!(
            (sum - total).abs() <= 1e-6 * total.max(1.0),
            "{uri}: hexagons sum to {sum}, the cells to {total}"
        );
        let counted: u64 = features
            .iter()
            .map(|f| f["properties"]["cells"].as_u64().expect("a count"))
            .sum();
        assert_eq!(
            counted as usize,
            cells.len(),
            "{uri}: every cell in one hexagon"
        );
    }
    // Each cell's hexagon (its H3 index's parent at the resolution) is
    // served, and its outline holds the centre of the cell's own index.
    let r = get(&app, "/api/v1/h3?resolution=8&value=cells").await;
    let hexagons: BTreeMap<String, geo_types::Polygon<f64>> = r.body["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            let g: geojson::Geometry =
                serde_json::from_value(f["geometry"].clone()).expect("a GeoJSON geometry");
            let p: geo_types::Polygon<f64> = g.try_into().expect("a polygon");
            (f["id"].as_str().expect("an id").to_owned(), p)
        })
        .collect();
    for c in cells.iter().step_by(5) {
        let parent = c.h3.parent(h3o::Resolution::Eight).expect("a parent");
        let hex = hexagons
            .get(&parent.to_string())
            .unwrap_or_else(|| panic!("cell {}: hexagon {parent} served", c.code));
        let centre = h3o::LatLng::from(c.h3);
        assert!(
            hex.contains(&Point::new(centre.lng(), centre.lat())),
            "cell {}: hexagon {parent} holds its index's centre",
            c.code
        );
    }
    for (uri, names) in [
        ("/api/v1/h3?resolution=16", "resolution"),
        ("/api/v1/h3?resolution=x", "resolution"),
        ("/api/v1/h3?value=fires", "value"),
    ] {
        let detail = problem(&get(&app, uri).await, StatusCode::BAD_REQUEST, uri);
        assert!(detail.contains(names), "{uri}: {detail}");
    }
}

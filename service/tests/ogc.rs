//! OGC API Features read by GDAL's OAPIF driver (what QGIS uses), from a
//! live server over PostGIS: every collection, paged in small pages, gives
//! exactly the stored features, and a bbox gives exactly those meeting it.

use std::collections::BTreeSet;

use civgrid_service::{app, AppState};
use geo::{BoundingRect, Intersects};
use geo_types::Rect;
use serde_json::Value;

use crate::common::{gdal_tool, test_city_store, Backend};

fn day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a day")
}

/// The ids GDAL read from `collection` (ogr2ogr to GeoJSON), in the order
/// read, with `extra` options; `key` is the property naming each feature.
fn read_with_gdal(addr: &str, collection: &str, key: &str, extra: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.geojson");
    let url = format!("OAPIF:http://{addr}/ogc");
    let mut args = vec![
        "-f",
        "GeoJSON",
        out.to_str().expect("utf-8"),
        &url,
        collection,
        "-oo",
        "PAGE_SIZE=3",
    ];
    args.extend_from_slice(extra);
    gdal_tool("ogr2ogr", &args);
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("output")).expect("GeoJSON");
    v["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| match &f["properties"][key] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

#[tokio::test]
async fn gdal_pages_through_every_collection_and_filters_by_bbox() {
    let (_holder, store, _) = test_city_store(Backend::Postgis).await;
    civgrid_service::cells::run(&store, civgrid::cells::CellConfig::default(), day())
        .await
        .expect("cells");
    civgrid_service::grids::run(&store, civgrid::grids::GridConfig::default(), day(), true)
        .await
        .expect("grids");
    let city = store.load().await.expect("load");
    let (cells, _) = store.load_cells().await.expect("cells");
    let grids = store.load_grids().await.expect("grids");
    let state = AppState::load(store.clone()).await.expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let server = tokio::spawn(async move { axum::serve(listener, app(state)).await });

    let expected: [(&str, &str, BTreeSet<String>); 6] = [
        (
            "cells",
            "code",
            cells
                .iter()
                .filter(|c| c.end.is_none())
                .map(|c| c.code.to_string())
                .collect(),
        ),
        (
            "grids",
            "code",
            grids
                .iter()
                .filter(|g| g.end.is_none())
                .map(|g| g.code.to_string())
                .collect(),
        ),
        (
            "facilities",
            "id",
            city.facilities.iter().map(|f| f.id.to_string()).collect(),
        ),
        (
            "hazards",
            "id",
            city.hazards.iter().map(|h| h.id.to_string()).collect(),
        ),
        (
            "components",
            "code",
            city.components.iter().map(|c| c.code.to_string()).collect(),
        ),
        (
            "zones",
            "code",
            city.zones.iter().map(|z| z.code.clone()).collect(),
        ),
    ];
    // A bbox over the south-west quarter of the territory.
    let extent = city.districts[0]
        .geometry
        .bounding_rect()
        .expect("an extent");
    let quarter = Rect::new(extent.min(), extent.center());
    let spat = [
        quarter.min().x.to_string(),
        quarter.min().y.to_string(),
        quarter.max().x.to_string(),
        quarter.max().y.to_string(),
    ];
    let a = addr.clone();
    tokio::task::spawn_blocking(move || {
        for (collection, key, ids) in &expected {
            assert!(ids.len() > 3, "{collection}: more than one page");
            let read = read_with_gdal(&a, collection, key, &[]);
            assert_eq!(read.len(), ids.len(), "{collection}: every feature, once");
            let read: BTreeSet<String> = read.into_iter().collect();
            assert_eq!(&read, ids, "{collection}: every feature, once");
        }
        let inside: BTreeSet<String> = cells
            .iter()
            .filter(|c| c.end.is_none() && c.geometry.intersects(&quarter))
            .map(|c| c.code.to_string())
            .collect();
        let mut args = vec!["-spat"];
        args.extend(spat.iter().map(String::as_str));
        let read = read_with_gdal(&a, "cells", "code", &args);
        assert!(!inside.is_empty() && inside.len() < expected[0].2.len());
        assert_eq!(read.len(), inside.len(), "cells meeting the bbox, once");
        assert_eq!(
            read.into_iter().collect::<BTreeSet<_>>(),
            inside,
            "cells meeting the bbox"
        );
    })
    .await
    .expect("GDAL checks");
    server.abort();
}

//! Values and geometries every writing path checks the same way, on both
//! stores (issue 23: integers beyond the column, NUL in text, GCJ-02 /
//! BD-09 outside China, one geometry rule for HTTP and import, geometry
//! errors that say what is wrong). Each refusal names the field or the
//! feature and leaves the store as it was.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use axum::Router;
use civgrid::LayerCounts;
use civgrid_service::auth::WriterToken;
use civgrid_service::cli::import_files;
use civgrid_service::import::ImportOptions;
use civgrid_service::state::ServeConfig;
use civgrid_service::store::Store;
use civgrid_service::{app, AppState};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::{both_stores, gdal_tool, test_city_store, write_geojson, Backend, TestStore};

const TOKEN: &str = "values-writer";

/// A served test city on one backend.
struct Served {
    holder: TestStore,
    store: Arc<dyn Store>,
    app: Router,
    /// A point inside the city.
    at: (f64, f64),
}

async fn served(backend: Backend) -> Served {
    let (holder, store, city) = test_city_store(backend).await;
    let config = ServeConfig {
        writer_token: WriterToken::new(TOKEN),
        ..ServeConfig::default()
    };
    let app = app(AppState::load_with(store.clone(), config)
        .await
        .expect("state"));
    let c = geo::InteriorPoint::interior_point(&city.communities[0].geometry).expect("a point");
    Served {
        holder,
        store,
        app,
        at: (c.x(), c.y()),
    }
}

/// Sends `body` with the writer's token; the status and the problem's
/// detail (or the answer).
async fn call(app: &Router, method: Method, uri: &str, body: Vec<u8>) -> (StatusCode, String) {
    let req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(axum::body::Body::from(body))
        .expect("a request");
    let r = app.clone().oneshot(req).await.expect("an answer");
    let status = r.status();
    let bytes = r.into_body().collect().await.expect("a body").to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let detail = v["detail"]
        .as_str()
        .map_or_else(|| v.to_string(), str::to_owned);
    (status, detail)
}

fn feature(geometry: Value, properties: Value) -> Value {
    json!({"type": "Feature", "geometry": geometry, "properties": properties})
}

fn point(lon: f64, lat: f64) -> Value {
    json!({"type": "Point", "coordinates": [lon, lat]})
}

/// Posts `body` to `uri`: it must be refused with 400 naming every word.
async fn refused(s: &Served, uri: &str, body: &Value, words: &[&str]) -> String {
    let (status, detail) = call(&s.app, Method::POST, uri, body.to_string().into_bytes()).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{:?} {uri}: {detail}",
        s.holder.backend
    );
    for w in words {
        assert!(
            detail.contains(w),
            "{:?} {uri}: {w:?} not in {detail:?}",
            s.holder.backend
        );
    }
    detail
}

/// `civgrid import FILE` into the served store: the error's text.
async fn import_error(s: &Served, file: &Path, opts: &ImportOptions) -> String {
    match import_files(&s.holder.spec, &[file.to_owned()], opts, Vec::new()).await {
        Ok(_) => panic!(
            "{:?}: {} should be refused",
            s.holder.backend,
            file.display()
        ),
        Err(e) => format!("{e:#}"),
    }
}

/// The import's error names the file, the layer, the feature and `words`.
fn names(msg: &str, file: &Path, layer: &str, feature: &str, words: &[&str]) {
    let file = file.display().to_string();
    let layer = format!("layer {layer:?}");
    for w in [file.as_str(), layer.as_str(), feature].iter().chain(words) {
        assert!(msg.contains(w), "{w:?} not in {msg:?}");
    }
}

async fn counts(s: &Served) -> LayerCounts {
    s.store.counts().await.expect("counts")
}

/// A facilities file with one good facility and then `bad`.
fn facilities_file(dir: &Path, s: &Served, bad: Value) -> PathBuf {
    let (lon, lat) = s.at;
    write_geojson(
        dir,
        "facilities.geojson",
        vec![
            feature(
                point(lon, lat),
                json!({"kind": "hospital", "name": "好医院"}),
            ),
            bad,
        ],
    )
}

#[tokio::test]
async fn integer_beyond_the_column_is_refused_naming_the_field() {
    for backend in both_stores() {
        let s = served(backend).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let (lon, lat) = s.at;
        let before = counts(&s).await;
        for (field, value) in [
            ("capacity", json!(3_000_000_000_u64)),
            ("staff", json!(2_147_483_648_u64)),
        ] {
            let body = feature(point(lon, lat), json!({"kind": "police", field: value}));
            refused(
                &s,
                "/api/v1/facilities",
                &body,
                &[&format!("field {field} = {value}"), "at most 2147483647"],
            )
            .await;
            let file = facilities_file(dir.path(), &s, body.clone());
            let msg = import_error(&s, &file, &ImportOptions::default()).await;
            names(
                &msg,
                &file,
                "facilities",
                "feature 1",
                &[&format!("field {field} = {value}"), "at most 2147483647"],
            );
            let (status, detail) = call(
                &s.app,
                Method::POST,
                "/api/v1/imports?name=facilities.geojson",
                std::fs::read(&file).expect("read"),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?}: {detail}");
            assert!(
                detail.contains(&format!("field {field}")),
                "{backend:?}: {detail}"
            );
        }
        // The largest value the column keeps is taken, on both stores.
        let body = feature(
            point(lon, lat),
            json!({"kind": "police", "staff": 2_147_483_647_u64}),
        );
        let (status, detail) = call(
            &s.app,
            Method::POST,
            "/api/v1/facilities",
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {detail}");
        let after = counts(&s).await;
        assert_eq!(
            after,
            LayerCounts {
                facilities: before.facilities + 1,
                ..before
            },
            "{backend:?}: only the good write was stored"
        );
        // A building's households are an INTEGER column too.
        let buildings = write_geojson(
            dir.path(),
            "buildings.geojson",
            vec![feature(
                json!({"type": "Polygon", "coordinates": [[[lon, lat], [lon + 0.0004, lat], [lon + 0.0004, lat + 0.0003], [lon, lat + 0.0003], [lon, lat]]]}),
                json!({"name": "大楼", "households": 2_147_483_648_u64}),
            )],
        );
        let msg = import_error(&s, &buildings, &ImportOptions::default()).await;
        names(
            &msg,
            &buildings,
            "buildings",
            "feature 0 (大楼)",
            &["field households = 2147483648"],
        );
        assert_eq!(counts(&s).await, after, "{backend:?}");
    }
}

#[tokio::test]
async fn nul_in_a_name_is_refused_on_every_path() {
    for backend in both_stores() {
        let s = served(backend).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let (lon, lat) = s.at;
        let before = counts(&s).await;
        let name = "消防\u{0}站";
        // HTTP writes: facilities, hazards, components.
        for (uri, properties, field) in [
            (
                "/api/v1/facilities",
                json!({"kind": "police", "name": name}),
                "name",
            ),
            (
                "/api/v1/facilities",
                json!({"kind": "police", "contact": "0571\u{0}"}),
                "contact",
            ),
            (
                "/api/v1/hazards",
                json!({"kind": "gas\u{0}station", "level": "red"}),
                "kind",
            ),
            (
                "/api/v1/components",
                json!({"class": "0118", "owner": "城管\u{0}所"}),
                "owner",
            ),
        ] {
            let body = feature(point(lon, lat), properties);
            refused(&s, uri, &body, &[&format!("field {field}"), "NUL"]).await;
        }
        // civgrid import of a GeoJSON file and of a GeoPackage: refused,
        // not cut at the NUL.
        let file = facilities_file(
            dir.path(),
            &s,
            feature(point(lon, lat), json!({"kind": "police", "name": name})),
        );
        let msg = import_error(&s, &file, &ImportOptions::default()).await;
        names(
            &msg,
            &file,
            "facilities",
            "feature 1",
            &["field name", "NUL", "\"消防\""],
        );
        let gpkg = dir.path().join("facilities.gpkg");
        let gpkg_s = gpkg.to_str().expect("utf-8");
        let clean_dir = dir.path().join("clean");
        std::fs::create_dir_all(&clean_dir).expect("mkdir");
        let clean = facilities_file(
            &clean_dir,
            &s,
            feature(point(lon, lat), json!({"kind": "police", "name": "消防站"})),
        );
        gdal_tool(
            "ogr2ogr",
            &["-f", "GPKG", gpkg_s, clean.to_str().expect("utf-8")],
        );
        gdal_tool(
            "ogrinfo",
            &[
                gpkg_s,
                "-sql",
                "UPDATE facilities SET name = '消防' || char(0) || '站' WHERE fid = 2",
            ],
        );
        let msg = import_error(&s, &gpkg, &ImportOptions::default()).await;
        names(
            &msg,
            &gpkg,
            "facilities",
            "feature 2",
            &["field name", "NUL"],
        );
        // The HTTP import.
        let (status, detail) = call(
            &s.app,
            Method::POST,
            "/api/v1/imports?name=facilities.geojson",
            std::fs::read(&file).expect("read"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?}: {detail}");
        assert!(detail.contains("field name"), "{detail}");
        assert_eq!(counts(&s).await, before, "{backend:?}: nothing was written");
    }
}

#[tokio::test]
async fn gcj02_point_outside_china_is_refused() {
    for backend in both_stores() {
        let s = served(backend).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let before = counts(&s).await;
        let paris = (2.35, 48.86);
        for datum in ["gcj02", "bd09"] {
            let (status, detail) = call(
                &s.app,
                Method::GET,
                &format!(
                    "/api/v1/locate?lon={}&lat={}&datum={datum}",
                    paris.0, paris.1
                ),
                Vec::new(),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{detail}");
            for w in ["datum", datum, "(2.35, 48.86)", "only defined in China"] {
                assert!(detail.contains(w), "{w:?} not in {detail:?}");
            }
            let (status, detail) = call(
                &s.app,
                Method::POST,
                "/api/v1/assign",
                json!({"lon": paris.0, "lat": paris.1, "datum": datum, "class": "0118"})
                    .to_string()
                    .into_bytes(),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{detail}");
            assert!(detail.contains(datum), "{detail}");
            let file = facilities_file(
                dir.path(),
                &s,
                feature(
                    point(paris.0, paris.1),
                    json!({"kind": "police", "name": "巴黎派出所", "datum": datum}),
                ),
            );
            let msg = import_error(&s, &file, &ImportOptions::default()).await;
            names(
                &msg,
                &file,
                "facilities",
                "feature 1 (巴黎派出所)",
                &[datum, "only defined in China"],
            );
        }
        assert_eq!(counts(&s).await, before, "{backend:?}: nothing was written");
    }
}

/// A square near `(lon, lat)` whose last position is not its first.
fn unclosed(lon: f64, lat: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[lon, lat], [lon + 0.001, lat], [lon + 0.001, lat + 0.001], [lon, lat + 0.001]]]})
}

#[tokio::test]
async fn unclosed_ring_is_refused_over_http_as_on_import() {
    for backend in both_stores() {
        let s = served(backend).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let (lon, lat) = s.at;
        let before = counts(&s).await;
        let props = json!({"kind": "gas_station", "name": "缺口", "level": "red"});
        let file = write_geojson(
            dir.path(),
            "hazards.geojson",
            vec![feature(unclosed(lon, lat), props.clone())],
        );
        let msg = import_error(&s, &file, &ImportOptions::default()).await;
        let problem = msg
            .split("feature 0 (缺口): ")
            .nth(1)
            .unwrap_or_else(|| panic!("{msg}"))
            .to_owned();
        assert!(problem.contains("ring 0 is not closed"), "{problem}");
        // The same words over HTTP, for hazards and components.
        let detail = refused(
            &s,
            "/api/v1/hazards",
            &feature(unclosed(lon, lat), props.clone()),
            &["geometry"],
        )
        .await;
        assert_eq!(detail, format!("geometry: {problem}"), "{backend:?}");
        refused(
            &s,
            "/api/v1/components",
            &feature(
                unclosed(lon, lat),
                json!({"class": "0118", "owner": "城管所"}),
            ),
            &["ring 0 is not closed"],
        )
        .await;
        // The import over HTTP, even with repair=true.
        let (status, detail) = call(
            &s.app,
            Method::POST,
            "/api/v1/imports?name=hazards.geojson&repair=true",
            std::fs::read(&file).expect("read"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{detail}");
        assert!(detail.contains(&problem), "{detail}");
        // A self-intersection and a one-point line: the import's words.
        let bow_tie = json!({"type": "Polygon", "coordinates": [[[lon, lat], [lon + 0.001, lat + 0.001], [lon + 0.001, lat], [lon, lat + 0.001], [lon, lat]]]});
        refused(
            &s,
            "/api/v1/hazards",
            &feature(bow_tie, props.clone()),
            &[
                "geometry: invalid geometry",
                "self-intersection",
                "--repair",
            ],
        )
        .await;
        refused(
            &s,
            "/api/v1/components",
            &feature(
                json!({"type": "LineString", "coordinates": [[lon, lat], [lon, lat]]}),
                json!({"class": "0118", "owner": "城管所"}),
            ),
            &["a line needs at least 2 distinct points"],
        )
        .await;
        assert_eq!(counts(&s).await, before, "{backend:?}: nothing was written");
    }
}

#[tokio::test]
async fn geometry_errors_say_what_is_wrong_on_import() {
    let s = served(Backend::Gpkg).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (lon, lat) = s.at;
    let before = counts(&s).await;
    let cases = [
        ("null", Value::Null, "has no geometry"),
        (
            "nested",
            json!({"type": "Point", "coordinates": [[lon, lat]]}),
            "must be nested as its type needs",
        ),
        (
            "empty",
            json!({"type": "GeometryCollection", "geometries": []}),
            "geometry is empty",
        ),
    ];
    for (what, geometry, words) in cases {
        let d = dir.path().join(what);
        std::fs::create_dir_all(&d).expect("mkdir");
        let file = facilities_file(
            &d,
            &s,
            feature(geometry, json!({"kind": "police", "name": what})),
        );
        let msg = import_error(&s, &file, &ImportOptions::default()).await;
        names(
            &msg,
            &file,
            "facilities",
            &format!("feature 1 ({what})"),
            &[words],
        );
        assert!(!msg.contains("Unknown"), "{msg}");
    }
    // A GeoPackage whose geometry blob is damaged, and one with a NULL.
    let gpkg = dir.path().join("facilities.gpkg");
    let gpkg_s = gpkg.to_str().expect("utf-8");
    let clean = facilities_file(
        dir.path(),
        &s,
        feature(point(lon, lat), json!({"kind": "police", "name": "坏块"})),
    );
    gdal_tool(
        "ogr2ogr",
        &["-f", "GPKG", gpkg_s, clean.to_str().expect("utf-8")],
    );
    gdal_tool(
        "ogrinfo",
        &[
            gpkg_s,
            "-sql",
            "UPDATE facilities SET geom = x'4750000100000000ffffffff' WHERE fid = 2",
        ],
    );
    let msg = import_error(&s, &gpkg, &ImportOptions::default()).await;
    names(
        &msg,
        &gpkg,
        "facilities",
        "feature 2 (坏块)",
        &["geometry blob cannot be read"],
    );
    gdal_tool(
        "ogrinfo",
        &[
            gpkg_s,
            "-sql",
            "UPDATE facilities SET geom = NULL WHERE fid = 2",
        ],
    );
    let msg = import_error(&s, &gpkg, &ImportOptions::default()).await;
    names(
        &msg,
        &gpkg,
        "facilities",
        "feature 2 (坏块)",
        &["has no geometry"],
    );
    assert_eq!(counts(&s).await, before, "nothing was written");
}

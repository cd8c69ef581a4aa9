//! Imports under faults (issue 23) on both stores, over HTTP and through
//! the CLI: a zip bomb and an over-long file refused before they are
//! expanded (413 naming the bound), an empty file that would silently
//! delete what its source brought, and files GDAL cannot open named with
//! what is wrong. Each refusal leaves the store as it was.

use std::io::Write;
use std::path::{Path, PathBuf};

use axum::http::{Method, StatusCode};
use axum::Router;
use civgrid::LayerCounts;
use civgrid_service::auth::WriterToken;
use civgrid_service::cli::import_files;
use civgrid_service::import::{ImportLimits, ImportOptions};
use civgrid_service::state::ServeConfig;
use civgrid_service::store::Store;
use civgrid_service::{app, AppState};
use geo::BoundingRect;
use geo_types::Point;
use serde_json::{json, Value};

use crate::access::{problem_of, raw};
use crate::common::process::civgrid;
use crate::common::{
    both_stores, feature, ogr_to_shapefile, point_json, test_city_store, write_geojson, Backend,
    TestStore,
};

const TOKEN: &str = "import-integrity-admin";

/// The test city in a fresh store of `backend`, served with `limits`.
struct Served {
    store: std::sync::Arc<dyn Store>,
    app: Router,
    spec: String,
    center: (f64, f64),
    holder: TestStore,
}

async fn served(backend: Backend, limits: ImportLimits) -> Served {
    let (holder, store, city) = test_city_store(backend).await;
    let bbox = city.districts[0].geometry.bounding_rect().expect("extent");
    let state = AppState::load(store.clone()).await.expect("load");
    let app = app(state.with_config(ServeConfig {
        writer_token: WriterToken::new(TOKEN),
        import_limits: limits,
        ..ServeConfig::default()
    }));
    Served {
        store,
        app,
        spec: holder.spec.clone(),
        center: (bbox.center().x, bbox.center().y),
        holder,
    }
}

/// The store's counts and the length of its audit log.
async fn snapshot(store: &dyn Store) -> (LayerCounts, usize) {
    (
        store.counts().await.expect("counts"),
        store.load_audit().await.expect("audit").len(),
    )
}

/// A GeoJSON file of `n` hospitals in a row east of `(lon, lat)`.
fn hospitals(n: usize, (lon, lat): (f64, f64)) -> Vec<u8> {
    let features: Vec<Value> = (0..n)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let x = lon + 1e-6 * i as f64;
            feature(
                json!({"kind": "hospital", "name": format!("医院{i}")}),
                point_json(Point::new(x, lat)),
            )
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
        .to_string()
        .into_bytes()
}

/// `files` (name, bytes) deflated into a zip.
fn zipped(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        w.start_file(*name, options).expect("a zip entry");
        w.write_all(bytes).expect("zip data");
    }
    w.finish().expect("a zip").into_inner()
}

/// A one-file zip whose headers declare `declared` bytes uncompressed
/// (the local header and the central directory both lie).
fn lying(zip: &[u8], declared: u32) -> Vec<u8> {
    let mut out = zip.to_vec();
    let at = |sig: &[u8]| out.windows(4).position(|w| w == sig).expect("a zip header");
    let (local, central) = (at(b"PK\x03\x04"), at(b"PK\x01\x02"));
    out[local + 22..local + 26].copy_from_slice(&declared.to_le_bytes());
    out[central + 24..central + 28].copy_from_slice(&declared.to_le_bytes());
    out
}

fn post(name: &str, params: &str) -> String {
    format!("/api/v1/imports?name={name}{params}")
}

fn assert_names(msg: &str, parts: &[&str], what: &str) {
    for part in parts {
        assert!(msg.contains(part), "{what}: {part:?} missing from: {msg}");
    }
}

/// Posts `body` as the import `name`: it must be refused with 413 naming
/// every one of `parts`; the problem's detail.
async fn too_large(s: &Served, name: &str, body: Vec<u8>, parts: &[&str], what: &str) -> String {
    let (status, detail) = problem_of(&s.app, Method::POST, &post(name, ""), body, TOKEN).await;
    assert_eq!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{what} ({:?}): {detail}",
        s.holder.backend
    );
    assert_names(&detail, parts, what);
    detail
}

#[tokio::test]
async fn zip_bomb_is_refused_naming_the_bound() {
    let limits = ImportLimits {
        max_uncompressed_bytes: 1 << 20,
        ..ImportLimits::default()
    };
    for backend in both_stores() {
        let s = served(backend, limits).await;
        let before = snapshot(s.store.as_ref()).await;
        // 30,000 points: about 3.5 MB of GeoJSON in a zip of a few kB.
        let geojson = hospitals(30_000, s.center);
        let bomb = zipped(&[("facilities.geojson", &geojson)]);
        assert!(bomb.len() < geojson.len() / 10, "{}", bomb.len());
        let bounds = ["1048576 bytes", "1 MiB", "--max-import-uncompressed-mb"];
        too_large(
            &s,
            "facilities.geojson.zip",
            bomb.clone(),
            &[&["facilities.geojson.zip", "declare"][..], &bounds[..]].concat(),
            "declared",
        )
        .await;
        // Declared sizes lie: the bound holds while inflating.
        let liar = lying(&bomb, 100);
        let detail = too_large(
            &s,
            "facilities.geojson.zip",
            liar,
            &[
                &["facilities.geojson.zip", "inflates past"][..],
                &bounds[..],
            ]
            .concat(),
            "inflated",
        )
        .await;
        assert!(!detail.contains("/tmp"), "no server paths: {detail}");
        assert_eq!(
            snapshot(s.store.as_ref()).await,
            before,
            "{backend:?}: nothing written"
        );
        // A zip within the bound imports.
        let small = zipped(&[("facilities.geojson", &hospitals(3, s.center))]);
        let (status, _, answer) = raw(
            &s.app,
            Method::POST,
            &post("facilities.geojson.zip", ""),
            small,
            TOKEN,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {answer}");
        assert_eq!(answer["written"]["facilities"], 3, "{answer}");
    }
}

#[tokio::test]
async fn a_file_over_the_feature_bound_is_refused_naming_it() {
    let limits = ImportLimits {
        max_features: 50,
        ..ImportLimits::default()
    };
    for backend in both_stores() {
        let s = served(backend, limits).await;
        let before = snapshot(s.store.as_ref()).await;
        let geojson = hospitals(200, s.center);
        too_large(
            &s,
            "facilities.geojson",
            geojson.clone(),
            &["facilities.geojson", "50 features", "--max-import-features"],
            "HTTP",
        )
        .await;
        // The CLI takes the same bound.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("facilities.geojson");
        std::fs::write(&path, &geojson).expect("write");
        let opts = ImportOptions {
            limits,
            ..ImportOptions::default()
        };
        let err = import_files(&s.spec, &[path], &opts, Vec::new())
            .await
            .err()
            .expect("over the bound");
        assert_names(
            &format!("{err:#}"),
            &["facilities.geojson", "50 features", "--max-import-features"],
            "CLI",
        );
        assert_eq!(
            snapshot(s.store.as_ref()).await,
            before,
            "{backend:?}: nothing written"
        );
    }
}

/// An empty FeatureCollection named `name` in `dir`.
fn empty_file(dir: &Path, name: &str) -> PathBuf {
    write_geojson(dir, name, Vec::new())
}

#[tokio::test]
async fn empty_import_does_not_delete_without_replace_empty() {
    for backend in both_stores() {
        let s = served(backend, ImportLimits::default()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let (full, empty) = (dir.path().join("full"), dir.path().join("empty"));
        std::fs::create_dir_all(&full).expect("mkdir");
        std::fs::create_dir_all(&empty).expect("mkdir");
        let name = "x-facilities.geojson";
        std::fs::write(full.join(name), hospitals(4, s.center)).expect("write");
        let empty_path = empty_file(&empty, name);
        let ok = civgrid(
            &s.spec,
            &["import", full.join(name).to_str().expect("utf-8")],
        );
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );

        // The CLI: refused, nothing written, the message says what it would do.
        let before = snapshot(s.store.as_ref()).await;
        let refused = civgrid(&s.spec, &["import", empty_path.to_str().expect("utf-8")]);
        assert!(
            !refused.status.success(),
            "{backend:?}: the empty import is refused"
        );
        assert_names(
            &String::from_utf8_lossy(&refused.stderr),
            &[
                name,
                "only remove them",
                "no features",
                "the 4 features",
                "--replace-empty",
            ],
            "CLI refusal",
        );
        assert_eq!(
            snapshot(s.store.as_ref()).await,
            before,
            "{backend:?}: nothing written"
        );

        // Over HTTP too.
        let body = std::fs::read(&empty_path).expect("read");
        let (status, detail) =
            problem_of(&s.app, Method::POST, &post(name, ""), body.clone(), TOKEN).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?}: {detail}");
        assert_names(
            &detail,
            &[
                name,
                "the 4 features",
                "only remove them",
                "replace_empty=true",
            ],
            "HTTP refusal",
        );
        assert_eq!(
            snapshot(s.store.as_ref()).await,
            before,
            "{backend:?}: nothing written"
        );

        // Said so, it removes them, and the answer counts them.
        let (status, _, answer) = raw(
            &s.app,
            Method::POST,
            &post(name, "&replace_empty=true"),
            body,
            TOKEN,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {answer}");
        assert_eq!(answer["removed"], 4, "{answer}");
        assert_eq!(
            s.store.counts().await.expect("counts").facilities,
            before.0.facilities - 4
        );

        // The CLI's summary line says how many were removed.
        let again = civgrid(
            &s.spec,
            &["import", full.join(name).to_str().expect("utf-8")],
        );
        assert!(
            again.status.success(),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
        let removed = civgrid(
            &s.spec,
            &[
                "import",
                "--replace-empty",
                empty_path.to_str().expect("utf-8"),
            ],
        );
        assert!(
            removed.status.success(),
            "{}",
            String::from_utf8_lossy(&removed.stderr)
        );
        assert_names(
            &String::from_utf8_lossy(&removed.stdout),
            &["4 features of earlier imports of the same source(s) removed"],
            "CLI summary",
        );
    }
}

/// A file with a file-level problem and what its error must say.
struct BadFile {
    what: &'static str,
    path: PathBuf,
    says: Vec<String>,
}

/// Communities as GeoJSON: `(code, name)` squares side by side.
fn communities(dir: &Path, name: &str, areas: &[(&str, &str)]) -> PathBuf {
    let features = areas
        .iter()
        .enumerate()
        .map(|(i, (code, n))| {
            #[allow(clippy::cast_precision_loss)]
            let x = 120.1 + 0.01 * i as f64;
            feature(
                json!({"code": code, "name": n, "kind": "urban"}),
                json!({"type": "Polygon", "coordinates": [[
                    [x, 30.25], [x + 0.005, 30.25], [x + 0.005, 30.255], [x, 30.255], [x, 30.25]]]}),
            )
        })
        .collect();
    write_geojson(dir, name, features)
}

#[allow(clippy::too_many_lines)]
fn bad_files(dir: &Path) -> Vec<BadFile> {
    let sub = |name: &str| {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    };
    let shapefile = |name: &str| {
        let d = sub(name);
        let gj = communities(&d, "communities.geojson", &[("330106001001", "甲社区")]);
        let shp = ogr_to_shapefile(&gj, &d).remove(0);
        std::fs::remove_file(gj).expect("rm");
        shp
    };
    let shown = |p: &Path| p.display().to_string();
    let mut cases = Vec::new();

    let gone = sub("gone").join("communities.shp");
    cases.push(BadFile {
        what: "a missing .shp",
        says: vec![format!("{}: no such file", shown(&gone))],
        path: gone,
    });
    let no_dbf = shapefile("nodbf");
    std::fs::remove_file(no_dbf.with_extension("dbf")).expect("rm .dbf");
    cases.push(BadFile {
        what: "a Shapefile without its .dbf",
        says: vec![format!(
            "{}: the Shapefile's attribute table communities.dbf is missing",
            shown(&no_dbf)
        )],
        path: no_dbf,
    });
    let no_shx = shapefile("noshx");
    std::fs::remove_file(no_shx.with_extension("shx")).expect("rm .shx");
    cases.push(BadFile {
        what: "a Shapefile without its .shx",
        says: vec![format!(
            "{}: the Shapefile's index communities.shx is missing",
            shown(&no_shx)
        )],
        path: no_shx,
    });
    let not_json = sub("notjson").join("facilities.geojson");
    std::fs::write(&not_json, "name,kind\n医院,hospital\n").expect("write");
    cases.push(BadFile {
        what: "a .geojson that is not JSON",
        says: vec![
            format!("{}: not a GeoJSON file GDAL can read (", shown(&not_json)),
            "not recognized".into(),
        ],
        path: not_json,
    });
    let broken_json = sub("brokenjson").join("facilities.geojson");
    std::fs::write(
        &broken_json,
        r#"{"type": "FeatureCollection", "features": [{"#,
    )
    .expect("write");
    cases.push(BadFile {
        what: "a .geojson cut short",
        says: vec![format!(
            "{}: not a GeoJSON file GDAL can read (",
            shown(&broken_json)
        )],
        path: broken_json,
    });
    let unknown = sub("unknown").join("notes.txt");
    std::fs::write(&unknown, [0u8, 159, 146, 150, 1, 2, 3]).expect("write");
    cases.push(BadFile {
        what: "a file of no known format",
        says: vec![format!(
            "{}: not a vector file GDAL can read (",
            shown(&unknown)
        )],
        path: unknown,
    });
    // A zipped Shapefile without its .dbf names the file inside the zip.
    let parts = shapefile("zipped");
    let read = |ext: &str| std::fs::read(parts.with_extension(ext)).expect("read a part");
    let zip = sub("zip").join("communities.shp.zip");
    std::fs::write(
        &zip,
        zipped(&[
            ("communities.shp", &read("shp")),
            ("communities.shx", &read("shx")),
            ("communities.prj", &read("prj")),
        ]),
    )
    .expect("write");
    cases.push(BadFile {
        what: "a zipped Shapefile without its .dbf",
        says: vec![format!(
            "{}/communities.shp: the Shapefile's attribute table communities.dbf is missing",
            shown(&zip)
        )],
        path: zip,
    });
    // Duplicate codes: the file, its layer and both features.
    let dup = communities(
        &sub("dup"),
        "communities.geojson",
        &[
            ("330106001001", "甲社区"),
            ("330106001002", "乙社区"),
            ("330106001001", "丙社区"),
        ],
    );
    cases.push(BadFile {
        what: "a code twice",
        says: vec![
            format!(
                "{}: layer \"communities\": feature 2 (丙社区): code 330106001001 appears twice in this file",
                shown(&dup)
            ),
            "layer \"communities\": feature 0 (甲社区) has it too".into(),
        ],
        path: dup,
    });
    cases
}

#[tokio::test]
async fn file_errors_name_the_file_and_what_is_wrong() {
    for backend in both_stores() {
        let s = served(backend, ImportLimits::default()).await;
        let before = snapshot(s.store.as_ref()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        for case in bad_files(dir.path()) {
            let err = import_files(
                &s.spec,
                std::slice::from_ref(&case.path),
                &ImportOptions::default(),
                Vec::new(),
            )
            .await
            .err()
            .unwrap_or_else(|| panic!("{}: refused", case.what));
            let msg = format!("{err:#}");
            let says: Vec<&str> = case.says.iter().map(String::as_str).collect();
            assert_names(&msg, &says, case.what);
            for vague in ["NULL pointer", "missing required field", "feature ?"] {
                assert!(!msg.contains(vague), "{}: {vague:?} in: {msg}", case.what);
            }
        }
        assert_eq!(
            snapshot(s.store.as_ref()).await,
            before,
            "{backend:?}: nothing written"
        );
    }
}

//! The harness of civgrid's fuzz targets: the whole HTTP app over a small
//! synthetic territory (cells and grids built), driven in process. Every
//! input must get an answer that is not a server error, and every error
//! must be problem+json: a panic, a 500 or an error in another form is a
//! finding.

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Method, Request};
use axum::Router;
use civgrid::synth::{synthesize, SynthConfig};
use civgrid_service::auth::WriterToken;
use civgrid_service::state::ServeConfig;
use civgrid_service::store::{self, ImportBatch};
use civgrid_service::{app, AppState};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The bearer token the harness sends (an admin's).
pub const TOKEN: &str = "fuzz";

struct Harness {
    runtime: tokio::runtime::Runtime,
    app: Router,
    _dir: tempfile::TempDir,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("fuzz.gpkg");
        let app = runtime.block_on(async {
            let store = store::open(path.to_str().expect("utf-8"))
                .await
                .expect("a store");
            let city = synthesize(&SynthConfig::test()).expect("the test city");
            store
                .import(&[ImportBatch {
                    source: "synthetic".into(),
                    territory: city,
                }])
                .await
                .expect("import");
            let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a day");
            civgrid_service::cells::run(&store, civgrid::cells::CellConfig::default(), today)
                .await
                .expect("cells");
            civgrid_service::grids::run(&store, civgrid::grids::GridConfig::default(), today, true)
                .await
                .expect("grids");
            let state = AppState::load(store).await.expect("load");
            app(state.with_config(ServeConfig {
                writer_token: WriterToken::new(TOKEN),
                ..ServeConfig::default()
            }))
        });
        Harness {
            runtime,
            app,
            _dir: dir,
        }
    })
}

/// Sends one request (with the admin token) and checks the answer: no
/// server error, and problem+json for every client error. Returns `false`
/// when the input is no request a client could send (nothing was sent).
///
/// # Panics
/// On a finding.
pub fn check(method: Method, uri: &str, body: &[u8]) -> bool {
    let h = harness();
    let Ok(request) = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_vec()))
    else {
        return false; // not a request a client could send
    };
    let (status, content_type, bytes) = h.runtime.block_on(async {
        let r = h.app.clone().oneshot(request).await.expect("an answer");
        let status = r.status();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = r.into_body().collect().await.expect("a body").to_bytes();
        (status, ct, bytes)
    });
    assert!(
        !status.is_server_error(),
        "{uri}: {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    if status.is_client_error() && status.as_u16() != 422 {
        assert_eq!(content_type, "application/problem+json", "{uri}: {status}");
    }
    true
}

//! HTTP end to end through the axum app (no network): `/health` and
//! `/api/v1/locate` against an independent point-in-polygon computation.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use civgrid::synth::{synthesize, SynthConfig};
use civgrid::{AdminLevel, Datum, Territory};
use civgrid_service::store::{self, ImportBatch};
use civgrid_service::{app, AppState};
use geo::{BoundingRect, Contains};
use geo_types::{Coord, Point};
use http_body_util::BodyExt;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tower::ServiceExt;

use crate::common::fresh_gpkg;

async fn state_with(t: &Territory) -> (AppState, crate::common::TestStore) {
    let ts = fresh_gpkg();
    let store = store::open(&ts.spec).await.unwrap();
    store
        .import(&[ImportBatch {
            source: "synthetic".into(),
            territory: t.clone(),
        }])
        .await
        .unwrap();
    (AppState::load(store).await.unwrap(), ts)
}

/// GET `uri`; returns status, content type and the JSON body.
async fn get(state: &AppState, uri: &str) -> (StatusCode, String, Value) {
    let res = app(state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{uri}: {status}: body is not JSON ({e}): {bytes:?}"));
    (status, ctype, body)
}

#[tokio::test]
async fn health_reports_the_stored_counts() {
    let t = synthesize(&SynthConfig::test()).unwrap();
    let (state, _store) = state_with(&t).await;
    let (status, _, body) = get(&state, "/health").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ok");
    let c = t.counts();
    assert_eq!(body["counts"]["communities"], c.communities);
    assert_eq!(body["counts"]["buildings"], c.buildings);
    assert_eq!(body["counts"]["roads"], c.roads);
    assert_eq!(body["counts"]["incidents"], c.incidents);
}

#[tokio::test]
async fn locate_agrees_with_brute_force_point_in_polygon() {
    let t = synthesize(&SynthConfig::test()).unwrap();
    let (state, _store) = state_with(&t).await;
    let bbox = t.districts[0].geometry.bounding_rect().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let (mut inside, mut outside) = (0, 0);
    for _ in 0..300 {
        let p = Point::new(
            bbox.min().x - 0.1 * bbox.width() + rng.random::<f64>() * 1.2 * bbox.width(),
            bbox.min().y - 0.1 * bbox.height() + rng.random::<f64>() * 1.2 * bbox.height(),
        );
        let uri = format!("/api/v1/locate?lon={}&lat={}", p.x(), p.y());
        let (status, ctype, body) = get(&state, &uri).await;
        // Random points are never on an edge: strict containment is exact.
        let expected = t.communities.iter().find(|c| c.geometry.contains(&p));
        match expected {
            Some(c) => {
                inside += 1;
                assert_eq!(status, StatusCode::OK, "{uri}: {body}");
                assert_eq!(body["community"]["code"], c.code.to_string(), "{uri}");
                assert_eq!(body["community"]["name"], c.name.as_str());
                assert_eq!(
                    body["subdistrict"]["code"],
                    c.code.parent().unwrap().to_string()
                );
                let d = c.code.ancestor(AdminLevel::District).unwrap();
                assert_eq!(body["district"]["code"], d.to_string());
                let name = &t.districts.iter().find(|x| x.code == d).unwrap().name;
                assert_eq!(body["district"]["name"], name.as_str());
            }
            None if t.districts.iter().any(|d| d.geometry.contains(&p)) => {
                panic!("{uri}: inside a district but in no community: the synthetic city has gaps");
            }
            None => {
                outside += 1;
                assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
                assert_eq!(ctype, "application/problem+json");
                assert!(
                    body["detail"].as_str().unwrap().contains("contains"),
                    "{body}"
                );
            }
        }
    }
    assert!(
        inside > 150 && outside > 20,
        "inside {inside}, outside {outside}"
    );
}

#[tokio::test]
async fn locate_converts_gcj02_and_bd09_points() {
    let t = synthesize(&SynthConfig::test()).unwrap();
    let (state, _store) = state_with(&t).await;
    let c = &t.communities[3];
    let p = geo::InteriorPoint::interior_point(&c.geometry).unwrap();
    for datum in [Datum::Gcj02, Datum::Bd09] {
        let shifted = datum.from_cgcs2000(Coord { x: p.x(), y: p.y() });
        let uri = format!(
            "/api/v1/locate?lon={}&lat={}&datum={datum}",
            shifted.x, shifted.y
        );
        let (status, _, body) = get(&state, &uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        assert_eq!(body["community"]["code"], c.code.to_string(), "{uri}");
        assert!(
            (body["lon"].as_f64().unwrap() - p.x()).abs() < 1e-7,
            "{body}"
        );
    }
}

#[tokio::test]
async fn bad_requests_are_problems_naming_the_parameter() {
    let t = synthesize(&SynthConfig::test()).unwrap();
    let (state, _store) = state_with(&t).await;
    for (uri, status, names) in [
        (
            "/api/v1/locate?lon=abc&lat=30.2",
            StatusCode::BAD_REQUEST,
            "lon",
        ),
        ("/api/v1/locate?lon=120.1", StatusCode::BAD_REQUEST, "lat"),
        (
            "/api/v1/locate?lon=120.1&lat=95",
            StatusCode::BAD_REQUEST,
            "lat",
        ),
        (
            "/api/v1/locate?lon=NaN&lat=30",
            StatusCode::BAD_REQUEST,
            "lon",
        ),
        (
            "/api/v1/locate?lon=120.1&lat=30.2&datum=mars",
            StatusCode::BAD_REQUEST,
            "datum",
        ),
        ("/api/v1/nowhere", StatusCode::NOT_FOUND, "endpoint"),
    ] {
        let (got, ctype, body) = get(&state, uri).await;
        assert_eq!(got, status, "{uri}: {body}");
        assert_eq!(ctype, "application/problem+json", "{uri}");
        assert_eq!(body["status"], status.as_u16());
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(names), "{uri}: {detail}");
    }
}

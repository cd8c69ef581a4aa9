//! The HTTP API end to end: the axum app over a GeoPackage store holding the
//! synthetic test city, driven with `tower::ServiceExt::oneshot` (no network).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use civgrid::synth::{synthesize, SynthConfig};
use civgrid::{AdminArea, AdminCode, AdminLevel, Datum, Territory};
use civgrid_service::store::{self, ImportBatch, Store};
use civgrid_service::{app, AppState};
use geo::{InteriorPoint, Intersects};
use geo_types::Point;
use http_body_util::BodyExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use tower::ServiceExt;

use crate::common::fresh_gpkg;

/// The app over a fresh GeoPackage store holding the test city (with its
/// districts), and the city as generated.
struct Fixture {
    app: Router,
    store: Arc<dyn Store>,
    city: Territory,
    _store: crate::common::TestStore,
}

async fn fixture() -> Fixture {
    let s = fresh_gpkg();
    let city = synthesize(&SynthConfig::test()).expect("the test city synthesizes");
    assert_eq!(city.districts.len(), 1, "the city comes with its district");
    let store = store::open(&s.spec).await.expect("open the store");
    store
        .import(&[ImportBatch {
            source: "synthetic".into(),
            territory: city.clone(),
        }])
        .await
        .expect("import the city");
    let state = AppState::load(store.clone()).await.expect("load the state");
    Fixture {
        app: app(state),
        store,
        city,
        _store: s,
    }
}

/// An answer of the app: status, content type and JSON body.
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

/// `GET uri` through the app; the body must be JSON.
pub async fn get(app: &Router, uri: &str) -> Reply {
    let req = Request::builder()
        .uri(uri)
        .body(Body::empty())
        .expect("a request");
    let resp = app.clone().oneshot(req).await.expect("the app answers");
    let status = resp.status();
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = resp.into_body().collect().await.expect("a body").to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{uri}: body is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    Reply {
        status,
        content_type,
        body,
    }
}

/// Asserts an RFC 9457 problem answer and returns its detail.
pub fn problem(r: &Reply, status: StatusCode, uri: &str) -> String {
    assert_eq!(r.status, status, "{uri}: {}", r.body);
    assert_eq!(
        r.content_type, "application/problem+json",
        "{uri}: content type"
    );
    assert_eq!(r.body["status"], status.as_u16(), "{uri}: {}", r.body);
    assert!(r.body["title"].is_string(), "{uri}: {}", r.body);
    let detail = r.body["detail"].as_str().unwrap_or_default().to_owned();
    assert!(
        !detail.is_empty(),
        "{uri}: a problem has a detail: {}",
        r.body
    );
    detail
}

#[tokio::test]
async fn health_reports_the_stores_counts() {
    let f = fixture().await;
    let r = get(&f.app, "/health").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.content_type.starts_with("application/json"),
        "{}",
        r.content_type
    );
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["store"], f.store.location());
    let counts = f.store.counts().await.expect("counts");
    assert_eq!(counts, f.city.counts(), "the store holds the city");
    assert_eq!(
        r.body["counts"],
        serde_json::to_value(counts).expect("json"),
        "/health counts = store counts"
    );
    assert_eq!(r.body["counts"]["communities"], 8);
    assert_eq!(r.body["counts"]["buildings"], counts.buildings);
}

/// What `/locate` must answer, worked out by brute force over every polygon:
/// a point belongs to the areas it intersects (boundary included); on a
/// shared boundary the smallest code wins. Upper levels follow from the
/// community's code; with no community, the subdistrict, then the district.
#[derive(Debug, PartialEq)]
struct Expected {
    community: Option<(AdminCode, String, String)>,
    subdistrict: Option<(AdminCode, Option<String>)>,
    district: Option<(AdminCode, Option<String>)>,
    /// How many communities hold the point (2 or more: a shared boundary).
    holders: usize,
}

fn holding(areas: &[AdminArea], p: Point<f64>) -> Vec<&AdminArea> {
    let mut v: Vec<&AdminArea> = areas.iter().filter(|a| a.geometry.intersects(&p)).collect();
    v.sort_by_key(|a| a.code);
    v
}

fn brute_force(t: &Territory, p: Point<f64>) -> Expected {
    let name_of = |code: AdminCode| {
        t.areas(code.level())
            .iter()
            .find(|a| a.code == code)
            .map(|a| a.name.clone())
    };
    let communities = holding(&t.communities, p);
    if let Some(c) = communities.first() {
        let up = |level| {
            let code = c.code.ancestor(level).expect("an ancestor");
            (code, name_of(code))
        };
        return Expected {
            community: Some((
                c.code,
                c.name.clone(),
                c.kind.expect("a community kind").as_str().to_owned(),
            )),
            subdistrict: Some(up(AdminLevel::Subdistrict)),
            district: Some(up(AdminLevel::District)),
            holders: communities.len(),
        };
    }
    let subdistrict = holding(&t.subdistricts, p)
        .first()
        .map(|s| (s.code, Some(s.name.clone())));
    let district = match &subdistrict {
        Some((code, _)) => {
            let d = code.parent().expect("a district");
            Some((d, name_of(d)))
        }
        None => holding(&t.districts, p)
            .first()
            .map(|d| (d.code, Some(d.name.clone()))),
    };
    Expected {
        community: None,
        subdistrict,
        district,
        holders: 0,
    }
}

fn area_of(v: &Value) -> Option<(AdminCode, Option<String>)> {
    if v.is_null() {
        return None;
    }
    let code = v["code"]
        .as_str()
        .expect("a code")
        .parse()
        .expect("a valid code");
    Some((code, v["name"].as_str().map(str::to_owned)))
}

/// Compares one `/locate` answer with the brute-force expectation.
async fn check_point(app: &Router, t: &Territory, p: Point<f64>) -> Expected {
    let expected = brute_force(t, p);
    let uri = format!("/api/v1/locate?lon={}&lat={}", p.x(), p.y());
    let r = get(app, &uri).await;
    if expected.district.is_none() && expected.subdistrict.is_none() {
        let detail = problem(&r, StatusCode::NOT_FOUND, &uri);
        assert!(
            detail.contains(&p.x().to_string()) && detail.contains(&p.y().to_string()),
            "{uri}: the detail names the point: {detail}"
        );
        return expected;
    }
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
    let b = &r.body;
    // The point comes back as given (serde_json's default float parsing may
    // be one unit in the last place off, hence the tolerance).
    let (lon, lat) = (
        b["lon"].as_f64().expect("lon"),
        b["lat"].as_f64().expect("lat"),
    );
    assert!(
        (lon - p.x()).abs() < 1e-12 && (lat - p.y()).abs() < 1e-12,
        "{uri}: echoed ({lon}, {lat})"
    );
    let community = if b["community"].is_null() {
        None
    } else {
        Some((
            b["community"]["code"]
                .as_str()
                .expect("code")
                .parse()
                .expect("valid"),
            b["community"]["name"].as_str().expect("name").to_owned(),
            b["community"]["kind"].as_str().expect("kind").to_owned(),
        ))
    };
    assert_eq!(community, expected.community, "{uri}: community");
    assert_eq!(
        area_of(&b["subdistrict"]),
        expected.subdistrict,
        "{uri}: subdistrict"
    );
    assert_eq!(
        area_of(&b["district"]),
        expected.district,
        "{uri}: district"
    );
    expected
}

#[tokio::test]
async fn locate_agrees_with_brute_force_point_in_polygon() {
    let f = fixture().await;
    let t = &f.city;
    // Every name is known: the city has its district and subdistricts.
    assert!(t.subdistricts.len() == 2 && t.districts.len() == 1);

    let bbox = t.extent().expect("a bounding box");
    let (mx, my) = (bbox.width() * 0.15, bbox.height() * 0.15);
    let mut rng = ChaCha8Rng::seed_from_u64(20_240_301);
    let mut points: Vec<Point<f64>> = (0..300)
        .map(|_| {
            Point::new(
                rng.random_range(bbox.min().x - mx..bbox.max().x + mx),
                rng.random_range(bbox.min().y - my..bbox.max().y + my),
            )
        })
        .collect();
    // Boundary points: every vertex of two communities (shared with their
    // neighbours, so ties are decided by the smallest code).
    for c in t.communities.iter().take(2) {
        points.extend(c.geometry.0[0].exterior().0.iter().map(|&c| Point::from(c)));
    }

    let (mut inside, mut outside, mut ties) = (0, 0, 0);
    for p in points {
        let e = check_point(&f.app, t, p).await;
        match (&e.community, e.holders) {
            (Some(_), h) if h >= 2 => ties += 1,
            (Some(_), _) => inside += 1,
            (None, _) => outside += 1,
        }
    }
    // The sample exercised all three cases.
    assert!(inside >= 150, "{inside} points inside a community");
    assert!(outside >= 20, "{outside} points outside the city");
    assert!(ties >= 3, "{ties} points on shared boundaries");
}

#[tokio::test]
async fn locate_converts_gcj02_and_bd09_points() {
    let f = fixture().await;
    for c in &f.city.communities {
        let p = c.geometry.interior_point().expect("an interior point");
        let plain = get(
            &f.app,
            &format!("/api/v1/locate?lon={}&lat={}", p.x(), p.y()),
        )
        .await;
        assert_eq!(plain.status, StatusCode::OK);
        assert_eq!(plain.body["community"]["code"], c.code.to_string());
        for datum in [Datum::Gcj02, Datum::Bd09] {
            // What a phone map app reports for the same place: hundreds of
            // metres off, yet it must land in the same community.
            let g = datum.from_cgcs2000(p.0).expect("in China");
            assert!((g.x - p.x()).hypot(g.y - p.y()) > 1e-3, "{g:?} vs {p:?}");
            let uri = format!("/api/v1/locate?lon={}&lat={}&datum={datum}", g.x, g.y);
            let r = get(&f.app, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
            assert_eq!(r.body["community"], plain.body["community"], "{uri}");
            assert_eq!(r.body["subdistrict"], plain.body["subdistrict"], "{uri}");
            assert_eq!(r.body["district"], plain.body["district"], "{uri}");
            let (lon, lat) = (
                r.body["lon"].as_f64().expect("lon"),
                r.body["lat"].as_f64().expect("lat"),
            );
            assert!(
                (lon - p.x()).abs() < 1e-7 && (lat - p.y()).abs() < 1e-7,
                "{uri}: converted to ({lon}, {lat}), expected ({}, {})",
                p.x(),
                p.y()
            );
        }
    }
}

#[tokio::test]
async fn bad_locate_requests_are_400_problems_naming_the_parameter() {
    let f = fixture().await;
    for (query, names) in [
        ("lon=abc&lat=30.2", &["lon", "abc"][..]),
        ("lon=120.1", &["lat", "missing"][..]),
        ("lat=30.2", &["lon", "missing"][..]),
        ("lon=120.1&lat=95", &["lat", "95"][..]),
        ("lon=-181&lat=30.2", &["lon", "-181"][..]),
        ("lon=120.1&lat=NaN", &["lat"][..]),
        ("lon=120.1&lat=30.2&datum=mars", &["datum", "mars"][..]),
    ] {
        let uri = format!("/api/v1/locate?{query}");
        let r = get(&f.app, &uri).await;
        let detail = problem(&r, StatusCode::BAD_REQUEST, &uri);
        for n in names {
            assert!(
                detail.contains(n),
                "{uri}: {n:?} missing from detail {detail:?}"
            );
        }
    }
}

#[tokio::test]
async fn an_unknown_path_is_a_404_problem() {
    let f = fixture().await;
    for uri in [
        "/nope",
        "/api/v1/nowhere",
        "/api/v2/locate?lon=120.1&lat=30.2",
    ] {
        let r = get(&f.app, uri).await;
        let detail = problem(&r, StatusCode::NOT_FOUND, uri);
        assert!(detail.contains("/health"), "{uri}: {detail}");
    }
}

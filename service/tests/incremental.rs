//! Incremental writes equal a fresh build, on both stores: random facility
//! and hazard writes over HTTP (fire stations added, moved, retyped and
//! removed; schools and hospitals; point and area hazards of every level
//! put, moved and deleted), each applied to the live snapshot alone; after
//! them, a service loaded afresh from the same store must hold the same
//! engine: every cell's first fire arrival, response, score and level, its
//! hazards and vulnerable places, the cells' hazard levels as coverage
//! targets, every count and every facility and hazard collection.
#![allow(clippy::too_many_lines)]

use axum::http::{Method, StatusCode};
use civgrid_service::auth::WriterToken;
use civgrid_service::state::{Engine, ServeConfig};
use civgrid_service::{app, AppState};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::cells::{active_cells, store_with};
use crate::common::both_stores;
use crate::responders::send;

const TOKEN: &str = "incremental-writer";

/// Facility kinds written: two that respond to fire, two vulnerable, one
/// neither.
const KINDS: [&str; 5] = [
    "fire_station",
    "micro_fire_station",
    "school",
    "hospital",
    "police",
];

/// The features of a collection as GeoJSON, in collection order.
fn served(engine: &Engine, id: &str) -> Vec<Value> {
    let c = engine.collections.get(id).expect("a collection");
    c.query(None, 0, usize::MAX)
        .features
        .into_iter()
        .map(|f| f.to_json())
        .collect()
}

/// Asserts that the engine kept up by writes equals a fresh one, naming
/// the first cell that differs.
fn assert_same(live: &Engine, fresh: &Engine, what: &str) {
    assert_eq!(live.counts, fresh.counts, "{what}: counts");
    assert_eq!(live.cells.len(), fresh.cells.len(), "{what}: cells");
    for i in 0..live.cells.len() {
        let code = live.cells[i].code;
        assert_eq!(
            live.risk.first[i], fresh.risk.first[i],
            "{what}: first fire arrival at {code}"
        );
        assert_eq!(
            live.risk.map.cells[i], fresh.risk.map.cells[i],
            "{what}: risk of {code}"
        );
        assert_eq!(
            live.responders.cells()[i],
            fresh.responders.cells()[i],
            "{what}: {code} as a coverage target"
        );
    }
    assert!(live.risk == fresh.risk, "{what}: the risk state");
    for id in ["facilities", "hazards"] {
        assert_eq!(served(live, id), served(fresh, id), "{what}: {id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_writes_leave_the_engine_a_fresh_build_would_make() {
    for backend in both_stores() {
        let city = civgrid::synth::synthesize(&civgrid::synth::SynthConfig::test()).expect("city");
        let (_holder, store) = store_with(backend, &city).await;
        active_cells(&store).await;
        let config = || ServeConfig {
            writer_token: WriterToken::new(TOKEN),
            ..ServeConfig::default()
        };
        let state = AppState::load_with(store.clone(), config())
            .await
            .expect("state");
        let router = app(state.clone());
        let bbox = city.extent().expect("an extent");
        let mut rng = ChaCha8Rng::seed_from_u64(15);
        let point = |rng: &mut ChaCha8Rng| {
            let x = bbox.min().x + rng.random::<f64>() * bbox.width();
            let y = bbox.min().y + rng.random::<f64>() * bbox.height();
            (x, y)
        };
        let (mut facilities, mut hazards): (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
        let before = state.engine();
        let mut writes = 0;
        for step in 0..80 {
            let (x, y) = point(&mut rng);
            let facility = rng.random_bool(0.6);
            let (path, ids) = if facility {
                ("facilities", &mut facilities)
            } else {
                ("hazards", &mut hazards)
            };
            let body = if facility {
                let kind = KINDS[rng.random_range(0..KINDS.len())];
                json!({"type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [x, y]},
                    "properties": {"kind": kind, "name": format!("f{step}")}})
            } else {
                let level = ["blue", "yellow", "orange", "red"][rng.random_range(0..4)];
                let geometry = if rng.random_bool(0.3) {
                    let d = 0.001 + rng.random::<f64>() * 0.002;
                    json!({"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]})
                } else {
                    json!({"type": "Point", "coordinates": [x, y]})
                };
                let kind = if rng.random_bool(0.5) {
                    "gas_station"
                } else {
                    "landslide_zone"
                };
                json!({"type": "Feature", "geometry": geometry,
                    "properties": {"kind": kind, "name": format!("h{step}"), "level": level}})
            };
            let op = if ids.is_empty() {
                0
            } else {
                rng.random_range(0..3)
            };
            let (status, _, answer) = match op {
                0 => {
                    let r = send(
                        &router,
                        Method::POST,
                        &format!("/api/v1/{path}"),
                        Some(&body),
                        Some(TOKEN),
                    )
                    .await;
                    if r.0 == StatusCode::CREATED {
                        ids.push(r.2["id"].as_str().expect("id").parse().expect("a number"));
                    }
                    r
                }
                1 => {
                    let id = ids[rng.random_range(0..ids.len())];
                    let uri = format!("/api/v1/{path}/{id}");
                    send(&router, Method::PUT, &uri, Some(&body), Some(TOKEN)).await
                }
                _ => {
                    let id = ids.swap_remove(rng.random_range(0..ids.len()));
                    let uri = format!("/api/v1/{path}/{id}");
                    let r = send(&router, Method::DELETE, &uri, None, Some(TOKEN)).await;
                    assert_eq!(r.0, StatusCode::NO_CONTENT, "{backend:?}: {}", r.2);
                    r
                }
            };
            assert!(
                status.is_success(),
                "{backend:?}: write {step} ({path}, op {op}): {status} {answer}"
            );
            writes += 1;
        }
        assert_eq!(writes, 80);
        let live = state.engine();
        // The writes changed what the fresh build is compared on.
        assert!(!facilities.is_empty() && !hazards.is_empty(), "{backend:?}");
        assert!(
            before.risk.first != live.risk.first,
            "{backend:?}: fire stations changed the response"
        );
        assert!(
            before.risk.map != live.risk.map,
            "{backend:?}: the writes changed the risk map"
        );
        let fresh = AppState::load_with(store.clone(), config())
            .await
            .expect("a fresh state");
        assert_same(&live, &fresh.engine(), &format!("{backend:?}"));
    }
}

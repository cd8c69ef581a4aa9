//! Snapshot reads on both stores: a reader holding the engine never holds
//! up a write, and sees the state before it whole; readers running through
//! a stream of writes only ever see snapshots whose counts, indexes and
//! collections agree; parts a write does not change are shared, not copied.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use civgrid_service::auth::WriterToken;
use civgrid_service::state::{Engine, ServeConfig};
use civgrid_service::{app, AppState};
use geo::BoundingRect;
use serde_json::json;

use crate::common::{both_stores, test_city_store};
use crate::responders::send;

const TOKEN: &str = "snapshots-writer";

/// Facilities as counted, indexed and served as a collection.
fn facilities(engine: &Engine) -> (usize, usize, usize) {
    (
        engine.counts.facilities,
        engine.responders.facilities().len(),
        engine.collections.facilities.len(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_holding_a_snapshot_never_holds_up_a_write() {
    for backend in both_stores() {
        let (_holder, store, city) = test_city_store(backend).await;
        let config = ServeConfig {
            writer_token: WriterToken::new(TOKEN),
            ..ServeConfig::default()
        };
        let state = AppState::load_with(store, config).await.expect("state");
        let router = app(state.clone());
        let c = city.districts[0]
            .geometry
            .bounding_rect()
            .expect("extent")
            .center();
        let body = |dx: f64| {
            json!({"type": "Feature",
                "geometry": {"type": "Point", "coordinates": [c.x + dx, c.y]},
                "properties": {"kind": "fire_station", "name": "新站"}})
        };

        // A snapshot held across a write (a lock held by a reader would
        // make the write wait for ever).
        let before = state.engine();
        let n = facilities(&before);
        assert_eq!((n.0, n.0), (n.1, n.2), "{backend:?}: a whole snapshot");
        let (status, _, created) = tokio::time::timeout(
            Duration::from_secs(60),
            send(
                &router,
                Method::POST,
                "/api/v1/facilities",
                Some(&body(0.0)),
                Some(TOKEN),
            ),
        )
        .await
        .unwrap_or_else(|_| panic!("{backend:?}: the write waited for a reader"));
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {created}");
        let id: i64 = created["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("a number");
        // The held snapshot is the state before the write, whole.
        assert_eq!(facilities(&before), n, "{backend:?}");
        assert!(before.responders.facility(id).is_none(), "{backend:?}");
        // The current one has it, everywhere.
        let after = state.engine();
        assert_eq!(
            facilities(&after),
            (n.0 + 1, n.1 + 1, n.2 + 1),
            "{backend:?}"
        );
        let indexed = after.responders.facility(id).expect("indexed");
        assert!((indexed.location.x() - c.x).abs() < 1e-9, "{backend:?}");
        assert!(after.collections.facilities.get(&id.to_string()).is_some());
        // What a facility write does not change is shared, not copied.
        assert!(Arc::ptr_eq(&before.locator, &after.locator), "{backend:?}");
        assert!(Arc::ptr_eq(&before.cells, &after.cells), "{backend:?}");
        assert!(Arc::ptr_eq(&before.grids, &after.grids), "{backend:?}");
        assert!(Arc::ptr_eq(&before.components, &after.components));
        assert!(Arc::ptr_eq(
            &before.collections.hazards,
            &after.collections.hazards
        ));
        drop(before);

        // Readers on other threads through a stream of writes: every
        // snapshot they see agrees with itself, and none goes back.
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (state, stop) = (state.clone(), stop.clone());
                std::thread::spawn(move || {
                    let (mut seen, mut last) = (0_usize, 0_usize);
                    while !stop.load(Ordering::Relaxed) {
                        let (counted, indexed, served) = facilities(&state.engine());
                        assert_eq!((counted, counted), (indexed, served), "half a write");
                        assert!(counted >= last, "a snapshot went back");
                        last = counted;
                        seen += 1;
                    }
                    seen
                })
            })
            .collect();
        for i in 1..=10 {
            #[allow(clippy::cast_precision_loss)]
            let dx = 1e-4 * f64::from(i);
            let (status, _, answer) = send(
                &router,
                Method::POST,
                "/api/v1/facilities",
                Some(&body(dx)),
                Some(TOKEN),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{backend:?}: {answer}");
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            let seen = r.join().expect("a reader saw half a write");
            assert!(seen > 0, "{backend:?}: the readers ran");
        }
        assert_eq!(
            facilities(&state.engine()),
            (n.0 + 11, n.1 + 11, n.2 + 11),
            "{backend:?}"
        );
    }
}

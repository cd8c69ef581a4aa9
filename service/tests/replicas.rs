//! Two `civgrid serve` processes over one PostGIS database: a write through
//! one is seen through the other within a second (LISTEN/NOTIFY), with the
//! other's indexes and tiles following it.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::process::{self, Served};
use crate::common::{Backend, TestStore};

const TOKEN: &str = "replica-writer";

/// How soon a replica must show another's write.
const WITHIN: Duration = Duration::from_secs(1);

fn civgrid(store: &str, args: &[&str]) {
    let out = process::civgrid(store, args);
    assert!(
        out.status.success(),
        "civgrid {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn serve(store: &str) -> Served {
    let served = process::serve(store, &["--writer-token", TOKEN]);
    assert!(
        served.line.contains("follows other processes' writes"),
        "{}",
        served.line
    );
    served
}

fn http(addr: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Vec<u8>) {
    let body = body.map(Value::to_string).unwrap_or_default();
    process::http(addr, method, path, &body, Some(TOKEN))
}

fn json_of(addr: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let (status, bytes) = http(addr, method, path, body);
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Polls `check` until it holds; returns how long that took, failing after
/// five times the allowed delay (so a slow replica is measured, not hung).
fn until(what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < 5 * WITHIN,
            "{what}: not seen after {:?}",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    start.elapsed()
}

#[test]
fn a_write_through_one_replica_is_seen_through_the_other_within_a_second() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = rt.block_on(TestStore::new(Backend::Postgis));
    civgrid(&store.spec, &["synth", "--preset", "test"]);
    civgrid(&store.spec, &["cells"]);
    civgrid(&store.spec, &["grids"]);
    let (a, b) = (serve(&store.spec), serve(&store.spec));

    // A point in the territory, a tile over it, and B's answers before.
    let (_, grids) = json_of(&b.addr, "GET", "/api/v1/grids", None);
    let grid = &grids["features"][0];
    let code = grid["properties"]["code"]
        .as_str()
        .expect("a grid code")
        .to_owned();
    let (_, one) = json_of(&b.addr, "GET", &format!("/api/v1/grids/{code}"), None);
    let ring = &one["geometry"]["coordinates"][0][0];
    let (lon, lat) = (
        ring[0][0].as_f64().expect("lon") + 1e-5,
        ring[0][1].as_f64().expect("lat") + 1e-5,
    );
    let t = civgrid_tiles::TileCoord::containing(lon, lat, 15).expect("a tile");
    let tile = format!("/tiles/facilities/15/{}/{}.mvt", t.x, t.y);
    let (s, tile_before) = http(&b.addr, "GET", &tile, None);
    assert_eq!(s, 200);
    let nearest = format!("/api/v1/nearest?lon={lon}&lat={lat}&kind=fire_station&k=1");

    // Created through A: B finds it by id, as the nearest, and in its tile.
    let station = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"kind": "fire_station", "name": "副本站"}});
    let (s, created) = json_of(&a.addr, "POST", "/api/v1/facilities", Some(&station));
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().expect("an id").to_owned();
    let seen = until("the new station through B", || {
        http(&b.addr, "GET", &format!("/api/v1/facilities/{id}"), None).0 == 200
    });
    let (_, near) = json_of(&b.addr, "GET", &nearest, None);
    assert_eq!(
        near["nearest"][0]["facility"]["id"]
            .as_i64()
            .map(|i| i.to_string()),
        Some(id.clone()),
        "{near}"
    );
    assert!(near["nearest"][0]["distance_m"].as_f64().expect("distance") < 1.0);
    let (_, tile_after) = http(&b.addr, "GET", &tile, None);
    let names = |bytes: Vec<u8>| -> Vec<String> {
        crate::risk::decode_mvt(bytes, "facilities")
            .iter()
            .map(|f| crate::risk::string(f, "name"))
            .collect()
    };
    assert!(
        !names(tile_before).contains(&"副本站".to_owned())
            && names(tile_after).contains(&"副本站".to_owned()),
        "B dropped and redrew the tile over the new station"
    );
    let mut timings = vec![seen];

    // Moved, then deleted, through A.
    let moved = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon + 0.002, lat]},
        "properties": {"kind": "fire_station", "name": "副本站"}});
    let (s, _) = json_of(
        &a.addr,
        "PUT",
        &format!("/api/v1/facilities/{id}"),
        Some(&moved),
    );
    assert_eq!(s, 200);
    timings.push(until("the move through B", || {
        let (_, f) = json_of(&b.addr, "GET", &format!("/api/v1/facilities/{id}"), None);
        f["geometry"]["coordinates"][0].as_f64() == Some(lon + 0.002)
    }));
    let (s, _) = http(&a.addr, "DELETE", &format!("/api/v1/facilities/{id}"), None);
    assert_eq!(s, 204);
    timings.push(until("the deletion through B", || {
        http(&b.addr, "GET", &format!("/api/v1/facilities/{id}"), None).0 == 404
    }));

    // A component moved through A is seen through B in its new cell.
    let (_, here) = json_of(
        &b.addr,
        "GET",
        &format!("/api/v1/locate?lon={lon}&lat={lat}"),
        None,
    );
    let (district, cell) = (
        here["district"]["code"]
            .as_str()
            .expect("a district")
            .to_owned(),
        here["cell"]["code"].as_str().expect("a cell").to_owned(),
    );
    let (_, list) = json_of(&b.addr, "GET", "/api/v1/components?limit=10000", None);
    let component = list["features"]
        .as_array()
        .expect("components")
        .iter()
        .find(|f| {
            let id = f["id"].as_str().unwrap_or_default();
            id.starts_with(&district) && f["properties"]["cell"] != cell.as_str()
        })
        .expect("a component of the district in another cell");
    let ccode = component["id"].as_str().expect("a code").to_owned();
    let moved = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"class": component["properties"]["class"], "owner": "副本单位"}});
    let (s, answer) = json_of(
        &a.addr,
        "PUT",
        &format!("/api/v1/components/{ccode}"),
        Some(&moved),
    );
    assert_eq!(
        (s, answer["properties"]["cell"].as_str()),
        (200, Some(cell.as_str())),
        "{answer}"
    );
    timings.push(until("the component's move through B", || {
        let (_, c) = json_of(&b.addr, "GET", &format!("/api/v1/components/{ccode}"), None);
        c["properties"]["cell"] == cell.as_str() && c["properties"]["owner"] == "副本单位"
    }));

    // A grid edit through B is seen through A.
    let assign =
        json!({"op": "assign", "grid": code, "worker": {"name": "王五", "phone": "13800000000"}});
    let (s, answer) = json_of(&b.addr, "POST", "/api/v1/grids/edits", Some(&assign));
    assert_eq!(s, 201, "{answer}");
    timings.push(until("the grid worker through A", || {
        let (_, g) = json_of(&a.addr, "GET", &format!("/api/v1/grids/{code}"), None);
        g["properties"]["worker_name"] == "王五"
    }));

    // A CLI write (workers from a table) reaches both serving processes.
    let dir = tempfile::tempdir().expect("tempdir");
    let table = dir.path().join("workers.csv");
    std::fs::write(
        &table,
        format!(
            "code,worker_name,worker_phone,leader_name,leader_phone\n{code},赵六,13900000000,,\n"
        ),
    )
    .expect("write the table");
    civgrid(&store.spec, &["workers", table.to_str().expect("utf-8")]);
    for s in [&a, &b] {
        timings.push(until("the CLI's worker through both", || {
            let (_, g) = json_of(&s.addr, "GET", &format!("/api/v1/grids/{code}"), None);
            g["properties"]["worker_name"] == "赵六"
        }));
    }
    for t in &timings {
        assert!(*t < WITHIN, "seen after {t:?}: {timings:?}");
    }
    eprintln!("replicas: writes seen through the other process after {timings:?}");
}

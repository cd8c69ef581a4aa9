//! Faults: PostgreSQL restarted under load, processes killed in the middle
//! of an import, a full disk under a GeoPackage. Each runs the real thing:
//! a PostgreSQL cluster of its own (so the other tests' server stays up),
//! SIGKILL, a small tmpfs.

use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use civgrid_service::store;

use crate::common::process::{self, civgrid};

const TOKEN: &str = "faults-writer";

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"))
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A PostgreSQL cluster of its own on `port`, dropped (stopped and
/// removed) with this.
struct Cluster {
    version: String,
    name: String,
    port: u16,
}

impl Cluster {
    fn new(name: &str, port: u16) -> Self {
        let list = ok(&run("pg_lsclusters", &["-h"]), "pg_lsclusters");
        let version = list
            .split_whitespace()
            .next()
            .expect("a PostgreSQL cluster (scripts/install-deps.sh)")
            .to_owned();
        // A cluster left by an earlier, interrupted run goes first.
        let _ = run("pg_dropcluster", &[&version, name, "--stop"]);
        let port_s = port.to_string();
        ok(
            &run(
                "pg_createcluster",
                &[&version, name, "-p", &port_s, "--start"],
            ),
            "pg_createcluster (the fault tests run as root, like CI)",
        );
        let sql = "CREATE ROLE civgrid LOGIN SUPERUSER PASSWORD 'civgrid'; CREATE DATABASE faults OWNER civgrid;";
        for stmt in sql.split_inclusive(';') {
            ok(
                &run(
                    "su",
                    &["postgres", "-c", &format!("psql -p {port} -qc \"{stmt}\"")],
                ),
                "create the role and database",
            );
        }
        Self {
            version,
            name: name.to_owned(),
            port,
        }
    }

    fn url(&self) -> String {
        format!("postgres://civgrid:civgrid@127.0.0.1:{}/faults", self.port)
    }

    fn ctl(&self, action: &str) {
        ok(
            &run(
                "pg_ctlcluster",
                &[&self.version, &self.name, action, "-m", "fast"],
            ),
            action,
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = run("pg_dropcluster", &[&self.version, &self.name, "--stop"]);
    }
}

/// One request with the writers' token: the status and the body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let (status, bytes) = process::http(addr, method, path, body, Some(TOKEN));
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// What one request of the load saw.
#[derive(Debug, Clone)]
struct Seen {
    at: Duration,
    write: bool,
    status: u16,
    took: Duration,
    body: String,
}

#[test]
fn postgis_restarted_under_load_fails_fast_and_recovers() {
    let cluster = Cluster::new("civgrid_faults", 5499);
    let url = cluster.url();
    for args in [&["synth", "--preset", "test"][..], &["cells"]] {
        ok(&civgrid(&url, args), "prepare the store");
    }
    let served = process::serve(&url, &["--writer-token", TOKEN]);
    let addr = served.addr.clone();
    let (_, health) = http(&addr, "GET", "/health", "");
    let center: serde_json::Value = serde_json::from_str(&health).expect("health JSON");
    assert!(
        center["counts"]["communities"].as_u64() > Some(0),
        "{health}"
    );
    let (_, cells) = http(&addr, "GET", "/ogc/collections/cells/items?limit=1", "");
    let cells: serde_json::Value = serde_json::from_str(&cells).expect("cells JSON");
    let ring = &cells["features"][0]["geometry"]["coordinates"][0][0];
    let (lon, lat) = (
        ring[0][0].as_f64().expect("lon") + 1e-5,
        ring[0][1].as_f64().expect("lat") + 1e-5,
    );

    // Load: one thread reads (locate), one writes (a facility every 20 ms),
    // while the cluster is stopped for 3 s and started again.
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
    let load: Vec<_> = [false, true]
        .into_iter()
        .map(|write| {
            let (stop, seen, addr) = (stop.clone(), seen.clone(), addr.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let (status, body) = if write {
                        i += 1;
                        let f = format!(
                            r#"{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{lon},{lat}]}},"properties":{{"kind":"fire_station","name":"load {i}"}}}}"#
                        );
                        let r = http(&addr, "POST", "/api/v1/facilities", &f);
                        std::thread::sleep(Duration::from_millis(20));
                        r
                    } else {
                        http(&addr, "GET", &format!("/api/v1/locate?lon={lon}&lat={lat}"), "")
                    };
                    seen.lock().expect("seen").push(Seen {
                        at: start.elapsed(),
                        write,
                        status,
                        took: t.elapsed(),
                        body,
                    });
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let down_at = start.elapsed();
    cluster.ctl("stop");
    std::thread::sleep(Duration::from_secs(3));
    let up_at = start.elapsed();
    cluster.ctl("start");
    std::thread::sleep(Duration::from_secs(4));
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().expect("a load thread");
    }
    let seen = seen.lock().expect("seen").clone();

    // Reads come from memory: never refused.
    let reads: Vec<_> = seen.iter().filter(|s| !s.write).collect();
    assert!(reads.len() > 100, "{} reads", reads.len());
    assert!(
        reads.iter().all(|s| s.status == 200),
        "{:?}",
        reads.iter().find(|s| s.status != 200)
    );
    // Writes while the database was down: 503 problems, answered fast.
    let writes: Vec<_> = seen.iter().filter(|s| s.write).collect();
    let refused: Vec<_> = writes.iter().filter(|s| s.status != 201).collect();
    assert!(!refused.is_empty(), "no write fell in the outage");
    for s in &refused {
        assert_eq!(s.status, 503, "{s:?}");
        let problem: serde_json::Value = serde_json::from_str(&s.body).expect("a problem");
        assert_eq!(problem["status"], 503, "{s:?}");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("store is not available")),
            "{s:?}"
        );
        assert!(
            s.at >= down_at && s.at <= up_at + Duration::from_secs(3),
            "{s:?} (down {down_at:?}, up {up_at:?})"
        );
        assert!(s.took < Duration::from_secs(3), "slow refusal: {s:?}");
    }
    // And writes succeed again by themselves after the restart.
    let back = writes
        .iter()
        .filter(|s| s.at > up_at && s.status == 201)
        .map(|s| s.at)
        .next()
        .expect("a write succeeds after the restart");
    let max_refusal = refused.iter().map(|s| s.took).max().unwrap_or_default();
    eprintln!(
        "faults: {} reads all 200; {} writes, {} refused with 503 (slowest refusal {max_refusal:?}); writes back {:?} after the start",
        reads.len(),
        writes.len(),
        refused.len(),
        back.saturating_sub(up_at)
    );
    // Nothing acknowledged is lost: every 201 is in the store.
    let acknowledged = writes.iter().filter(|s| s.status == 201).count();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let stored = rt.block_on(async {
        let s = store::open(&url).await.expect("open after the restart");
        s.load().await.expect("load").facilities
    });
    let loaded = stored
        .iter()
        .filter(|f| f.name.starts_with("load "))
        .count();
    assert_eq!(
        loaded, acknowledged,
        "every acknowledged write is stored, nothing else"
    );
    drop(served);
}

/// Kills `civgrid ARGS` with SIGKILL after `after`; returns whether it had
/// already finished.
fn kill_after(store: &str, args: &[&str], after: Duration) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_civgrid"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("civgrid starts");
    std::thread::sleep(after);
    let finished = child.try_wait().expect("status").is_some();
    let _ = child.kill();
    let _ = child.wait();
    finished
}

#[test]
fn an_import_killed_midway_leaves_all_or_nothing_on_both_stores() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for backend in crate::common::both_stores() {
        let holder = rt.block_on(crate::common::TestStore::new(backend));
        let spec = holder.spec.clone();
        ok(
            &civgrid(&spec, &["synth", "--preset", "test"]),
            "the test city",
        );
        let counts = |spec: &str| {
            rt.block_on(async {
                let s = store::open(spec)
                    .await
                    .expect("the store opens after a kill");
                s.counts().await.expect("counts")
            })
        };
        let before = counts(&spec);
        // The county (about a second: synthesis, then 76,000 buildings
        // written) replaces the city; killed at several moments, the store
        // holds either the city or the whole county.
        let mut outcomes = Vec::new();
        for ms in [300, 450, 600, 750, 900, 1200, 1800, 3000, 6000] {
            let finished = kill_after(
                &spec,
                &["synth", "--preset", "county"],
                Duration::from_millis(ms),
            );
            let now = counts(&spec);
            let whole = now.buildings > before.buildings;
            if whole {
                assert!(now.communities > before.communities, "{backend:?}: {now:?}");
            } else {
                assert_eq!(
                    now, before,
                    "{backend:?}: killed after {ms} ms, half an import is stored"
                );
            }
            outcomes.push((ms, finished, whole));
            if whole {
                break;
            }
        }
        assert!(
            outcomes
                .iter()
                .any(|(_, finished, whole)| !finished && !whole),
            "{backend:?}: no kill landed in the middle of the import: {outcomes:?}"
        );
        eprintln!("faults: {backend:?} kills (ms, had finished, stored whole): {outcomes:?}");
    }
}

/// A mount point, unmounted when dropped.
struct Unmount(String);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = run("umount", &[&self.0]);
    }
}

#[test]
fn a_full_disk_under_a_geopackage_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mount = dir.path().join("small");
    std::fs::create_dir(&mount).expect("mount point");
    let m = mount.to_str().expect("utf-8");
    ok(
        &run("mount", &["-t", "tmpfs", "-o", "size=3m", "tmpfs", m]),
        "mount a 3 MiB tmpfs (the fault tests run as root, like CI)",
    );
    let _unmount = Unmount(m.to_owned());
    let spec = mount.join("full.gpkg");
    let spec = spec.to_str().expect("utf-8");
    ok(
        &civgrid(spec, &["synth", "--preset", "test"]),
        "the test city fits",
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let counts = || {
        rt.block_on(async {
            store::open(spec)
                .await
                .expect("open")
                .counts()
                .await
                .expect("counts")
        })
    };
    let before = counts();
    let out = civgrid(spec, &["synth", "--preset", "county"]);
    assert!(!out.status.success(), "the county does not fit in 3 MiB");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("full.gpkg"), "names the store: {err}");
    assert!(err.contains("disk is full"), "says the disk is full: {err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(counts(), before, "the store is as it was");
}

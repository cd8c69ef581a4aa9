//! The `civgrid` binary end to end: the demo's import, cells and grids, `cells`
//! again (codes kept), `export` read back by `ogrinfo`, and bad arguments.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{gdal_tool, ogrinfo_counts};

use crate::common::process::{self, civgrid};

fn stdout_ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The number after `label` in `text` ("2718 cells" → 2718 for label " cells").
fn count_before(text: &str, label: &str) -> usize {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} in {text}"));
    text[..at]
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a number before {label:?} in {text}"))
}

#[test]
fn demo_builds_cells_and_exports_read_back_by_ogrinfo() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("demo.gpkg");
    let out = stdout_ok(&civgrid(&store, &["demo", "--no-serve"]), "demo");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("imported 4 source(s)"), "{out}");
    let cells_line = lines
        .iter()
        .find(|l| l.starts_with("cells: "))
        .unwrap_or_else(|| panic!("a cells summary line in {out}"));
    let cells = count_before(cells_line, " cells in ");
    assert!(cells > 1_000, "{cells_line}");
    assert!(cells_line.contains("0 communities failed"), "{cells_line}");
    let counts = ogrinfo_counts(&store);
    assert_eq!(
        counts["cells"], cells as i64,
        "ogrinfo sees the stored cells"
    );

    let grids_line = lines
        .iter()
        .find(|l| l.starts_with("grids: "))
        .unwrap_or_else(|| panic!("a grids summary line in {out}"));
    let grids = count_before(grids_line, " grids (");
    assert!(grids > 100, "{grids_line}");
    assert_eq!(
        counts["grids"], grids as i64,
        "ogrinfo sees the stored grids"
    );
    let path = dir.path().join("grids.geojson");
    let exported = stdout_ok(
        &civgrid(
            &store,
            &["export", "grids", "--out", path.to_str().expect("utf-8")],
        ),
        "export grids",
    );
    assert!(
        exported.starts_with(&format!("exported {grids} grids")),
        "{exported}"
    );
    let info = gdal_tool(
        "ogrinfo",
        &["-ro", "-so", "-al", path.to_str().expect("utf-8")],
    );
    assert!(info.contains("households: Integer"), "{info}");
    workers_from_a_table(&store, &path);

    // Components and zones of the synthetic town, exported and read back.
    for (layer, file) in [
        ("components", "components.gpkg"),
        ("zones", "zones.geojson"),
    ] {
        let path = dir.path().join(file);
        let out = stdout_ok(
            &civgrid(
                &store,
                &["export", layer, "--out", path.to_str().expect("utf-8")],
            ),
            "export",
        );
        let n = count_before(&out, &format!(" {layer} from"));
        assert!(
            n > 0 && i64::try_from(n).ok() == counts.get(layer).copied(),
            "{out}: {counts:?}"
        );
        let read = ogrinfo_counts(&path);
        assert_eq!(read.values().sum::<i64>(), n as i64, "{layer}: {read:?}");
    }
    let shp = dir.path().join("components.shp");
    let refused = civgrid(
        &store,
        &[
            "export",
            "components",
            "--out",
            shp.to_str().expect("utf-8"),
        ],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("mixes"),
        "{refused:?}"
    );

    let again = stdout_ok(
        &civgrid(&store, &["cells", "--date", "2030-01-01"]),
        "cells",
    );
    assert!(
        again.contains(&format!("({cells} kept, 0 new, 0 retired)")),
        "unchanged input keeps every code: {again}"
    );

    for file in ["cells.gpkg", "cells.geojson", "cells.shp"] {
        let path = dir.path().join(file);
        let out = stdout_ok(
            &civgrid(
                &store,
                &["export", "cells", "--out", path.to_str().expect("utf-8")],
            ),
            "export",
        );
        assert!(out.starts_with(&format!("exported {cells} cells")), "{out}");
        let info = gdal_tool(
            "ogrinfo",
            &["-ro", "-so", "-al", path.to_str().expect("utf-8")],
        );
        assert!(
            info.contains(&format!("Feature Count: {cells}")),
            "{file}: {info}"
        );
        assert!(info.contains("code: String"), "{file}: {info}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".civgrid-export")
        })
        .collect();
    assert!(leftovers.is_empty(), "no staging directory is left behind");

    let mixed = civgrid(
        &store,
        &[
            "export",
            "hazards",
            "--out",
            dir.path().join("h.shp").to_str().expect("utf-8"),
        ],
    );
    assert!(!mixed.status.success());
    let err = String::from_utf8_lossy(&mixed.stderr);
    assert!(
        err.contains("one geometry type") && err.contains(".gpkg"),
        "{err}"
    );
    assert!(
        !dir.path().join("h.shp").exists(),
        "a refused export writes nothing"
    );

    for (args, names) in [
        (vec!["cells", "--code-digits", "13"], "code-digits"),
        (vec!["cells", "--min-m2=-5"], "min"),
        (vec!["export", "cells", "--out", "x.kml"], "unknown format"),
    ] {
        let out = civgrid(&store, &args);
        assert!(!out.status.success(), "{args:?} must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(names), "{args:?}: {err}");
    }
}

/// `civgrid workers`: a CSV names two grids' workers (read back from an
/// export); a file with an unknown code is refused naming its line, and
/// nothing changes.
fn workers_from_a_table(store: &Path, grids_geojson: &Path) {
    let exported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(grids_geojson).expect("read")).expect("json");
    let codes: Vec<String> = exported["features"]
        .as_array()
        .expect("features")
        .iter()
        .take(2)
        .map(|f| f["properties"]["code"].as_str().expect("code").to_owned())
        .collect();
    let dir = grids_geojson.parent().expect("dir");
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "code,worker_name,worker_phone\n{},王芳,13800000000\n110101001001999,李四,1\n",
            codes[0]
        ),
    )
    .expect("write");
    let out = civgrid(store, &["workers", bad.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3") && err.contains("110101001001999"),
        "{err}"
    );

    let good = dir.join("workers.csv");
    std::fs::write(
        &good,
        format!(
            "code,worker_name,worker_phone,leader_name,leader_phone\n{},王芳,13800000000,张伟,13900000000\n{},李强,13700000000,,\n",
            codes[0], codes[1]
        ),
    )
    .expect("write");
    let out = stdout_ok(
        &civgrid(store, &["workers", good.to_str().expect("utf-8")]),
        "workers",
    );
    assert!(out.starts_with("workers: 2 grids"), "{out}");
    let again = dir.join("grids-after.geojson");
    stdout_ok(
        &civgrid(
            store,
            &["export", "grids", "--out", again.to_str().expect("utf-8")],
        ),
        "export",
    );
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&again).expect("read")).expect("json");
    let props = |code: &str| {
        after["features"]
            .as_array()
            .expect("features")
            .iter()
            .find(|f| f["properties"]["code"] == code)
            .map(|f| f["properties"].clone())
            .expect("the grid")
    };
    assert_eq!(props(&codes[0])["worker_name"], "王芳");
    assert_eq!(props(&codes[0])["leader_phone"], "13900000000");
    assert_eq!(props(&codes[1])["worker_name"], "李强");
    assert!(props(&codes[1])
        .get("leader_name")
        .is_none_or(serde_json::Value::is_null));
}

/// `civgrid serve` end to end: it prints its URL, answers on every one of
/// its threads' sockets (several connections), and stops cleanly on SIGTERM.
#[test]
fn serve_answers_and_stops_on_sigterm() {
    use std::io::Read;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("served.gpkg");
    stdout_ok(&civgrid(&store, &["synth", "--preset", "test"]), "synth");
    let mut served = process::serve(&store, &[]);
    for _ in 0..16 {
        let (status, _) = process::http(&served.addr, "GET", "/health", "", None);
        assert_eq!(status, 200);
    }
    let pid = served.child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = served.child.wait().expect("exits");
    let mut rest = String::new();
    served.out.read_to_string(&mut rest).expect("the rest");
    assert!(status.success(), "{status}: {rest}");
    assert!(rest.contains("civgrid stopped"), "{rest}");
}

/// `--log-json`: every log line is one JSON object with a level, a target
/// and the event's fields; `civgrid token` prints a token whose digest is
/// the entry it prints, and that entry is a valid access file.
#[test]
fn json_logs_and_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("logs.gpkg");
    stdout_ok(&civgrid(&store, &["synth", "--preset", "test"]), "synth");
    let out = Command::new(env!("CARGO_BIN_EXE_civgrid"))
        .arg("--store")
        .arg(&store)
        .args(["--log-json", "cells"])
        .env("RUST_LOG", "info")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    assert!(!lines.is_empty());
    assert!(lines
        .iter()
        .all(|l| l["level"].is_string() && l["fields"]["message"].is_string()));

    let out = civgrid(
        &store,
        &["token", "--name", "西湖区规划", "--role", "planner"],
    );
    let text = stdout_ok(&out, "token");
    let token = text.lines().next().expect("the token");
    assert_eq!(token.len(), 64, "{text}");
    let entry = text
        .split("# add to the access file:")
        .nth(1)
        .expect("an entry");
    let access = civgrid_service::auth::Access::parse(entry, "entry").expect("a valid entry");
    assert_eq!(access.len(), 1);
    assert!(entry.contains(&civgrid_service::auth::token_digest(token)));
    assert!(entry.contains("role = \"planner\""));
}

/// `civgrid backup`: copies taken while a server writes facilities are
/// whole GeoPackages that `ogrinfo -ro` opens, each with every layer as
/// stored and the facilities of some moment of the writing (never fewer
/// than an earlier copy); once the writes stop, a copy has exactly the
/// store's counts. Staging leaves nothing beside it; a PostGIS store is
/// refused, naming pg_dump.
#[test]
fn backup_copies_the_whole_store_while_a_server_writes() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    const TOKEN: &str = "backup-writer";
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("live.gpkg");
    stdout_ok(&civgrid(&store, &["synth", "--preset", "test"]), "synth");
    let before = ogrinfo_counts(&store);
    let served = process::serve(&store, &["--writer-token", TOKEN]);
    // A point of the territory: the middle of the facilities' extent.
    let (_, layer) = process::http(&served.addr, "GET", "/ogc/collections/facilities", "", None);
    let layer: serde_json::Value = serde_json::from_slice(&layer).expect("JSON");
    let b = &layer["extent"]["spatial"]["bbox"][0];
    let mid = |i: usize, j: usize| {
        f64::midpoint(
            b[i].as_f64().expect("a number"),
            b[j].as_f64().expect("a number"),
        )
    };
    let at = serde_json::json!([mid(0, 2), mid(1, 3)]);
    let station =
        serde_json::json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": at},
        "properties": {"kind": "fire_station", "name": "备份站"}})
        .to_string();

    let stop = Arc::new(AtomicBool::new(false));
    let writer = std::thread::spawn({
        let (addr, stop) = (served.addr.clone(), stop.clone());
        move || {
            let mut written = 0_i64;
            while !stop.load(Ordering::Relaxed) {
                let (s, b) =
                    process::http(&addr, "POST", "/api/v1/facilities", &station, Some(TOKEN));
                assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));
                written += 1;
            }
            written
        }
    });
    let mut seen = Vec::new();
    for i in 0..3 {
        let out = dir.path().join(format!("during-{i}.gpkg"));
        let text = stdout_ok(
            &civgrid(&store, &["backup", "--out", out.to_str().expect("utf-8")]),
            "backup",
        );
        assert!(text.starts_with("backed up "), "{text}");
        let counts = ogrinfo_counts(&out);
        for (layer, n) in &before {
            // The writes add facilities and their audit entries.
            if layer != "facilities" && layer != "audit" {
                assert_eq!(counts.get(layer), Some(n), "{layer} in copy {i}");
            }
        }
        assert_eq!(
            counts["audit"] - before["audit"],
            counts["facilities"] - before["facilities"],
            "each write with its audit entry, in copy {i}"
        );
        seen.push(counts["facilities"]);
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().expect("the writer");
    assert!(written > 0, "the server wrote during the copies");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    let (low, high) = (before["facilities"], before["facilities"] + written);
    assert!(
        seen.iter().all(|n| (low..=high).contains(n)),
        "{seen:?} in {low}..={high}"
    );

    // Idle: the copy is the store; it replaces an existing file.
    let idle = dir.path().join("during-0.gpkg");
    stdout_ok(
        &civgrid(&store, &["backup", "--out", idle.to_str().expect("utf-8")]),
        "backup",
    );
    let now = ogrinfo_counts(&store);
    assert_eq!(now["facilities"], high);
    assert_eq!(ogrinfo_counts(&idle), now);
    drop(served);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("the folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(".civgrid-backup"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // PostGIS: refused, naming its own tool.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let pg = rt.block_on(crate::common::TestStore::new(
        crate::common::Backend::Postgis,
    ));
    let out = civgrid(&pg.spec, &["backup", "--out", "never.gpkg"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pg_dump"), "{err}");
    assert!(!Path::new("never.gpkg").exists());
}

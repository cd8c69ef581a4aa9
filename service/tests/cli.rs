//! The `civgrid` binary end to end: the demo's import, cells and grids, `cells`
//! again (codes kept), `export` read back by `ogrinfo`, and bad arguments.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{gdal_tool, ogrinfo_counts};

fn civgrid(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_civgrid"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the civgrid binary runs")
}

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

//! civgrid's plain-grid cells against PostGIS's best plain square grid, in
//! one run on the same communities (issue 3's performance check).
//!
//! PostGIS: the communities in the local Gauss-Krüger zone, `ST_Subdivide`d,
//! a `ST_SquareGrid(side)` over each part clipped to it, and the pieces of
//! one square in one community unioned back into one cell, written to a
//! table (`CREATE TABLE … AS`).
//! civgrid: the whole `civgrid cells --plain` command on a GeoPackage
//! holding the territory (read the store, partition, number, adjacency,
//! cells and adjacency written in one transaction), against a fresh copy
//! each run; and, for reference, [`civgrid::cells::partition`] alone, plain
//! and following roads and buildings.
//!
//! `cargo bench -p civgrid-service --bench cells_vs_postgis` runs the
//! 1,400 km² county (`SynthConfig::county()`); under `cargo test` it runs
//! the small test town once, to keep the SQL and the comparison working.
//! Needs `CIVGRID_TEST_POSTGIS` (see scripts/postgis.sh).

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use civgrid::cells::{partition, CellConfig};
use civgrid::synth::{synthesize, SynthConfig};
use civgrid_service::cells;
use civgrid_service::store::{self, ImportBatch};
use sqlx::{Connection, Executor, PgConnection};

const DB: &str = "civgrid_bench_cells";

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let cut = base
        .rfind('/')
        .filter(|&i| i > base.find("://").map_or(0, |s| s + 2));
    let mut out = format!("{}/{db}", cut.map_or(base, |i| &base[..i]));
    if let Some(q) = query {
        out = format!("{out}?{q}");
    }
    out
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = None::<(Duration, T)>;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        let e = t.elapsed();
        if best.as_ref().is_none_or(|(b, _)| e < *b) {
            best = Some((e, v));
        }
    }
    best.expect("at least one run")
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let url = std::env::var("CIVGRID_TEST_POSTGIS").unwrap_or_else(|_| {
        panic!("set CIVGRID_TEST_POSTGIS (export CIVGRID_TEST_POSTGIS=$(scripts/postgis.sh))")
    });
    let (cfg, label, runs) = if bench {
        (SynthConfig::county(), "county", 3)
    } else {
        (SynthConfig::test(), "test town", 1)
    };
    let territory = synthesize(&cfg).expect("the synthetic territory");
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let side = CellConfig::default().side_m();
    let lon = cfg.origin_lon;
    // CGCS2000 / 3-degree Gauss-Kruger CM 75E..135E: EPSG:4534..4554.
    let epsg = 4534 + ((lon / 3.0).round() as i64 * 3 - 75) / 3;

    let (pg_time, pg_cells) = rt.block_on(postgis_grid(&url, &territory, epsg, side, runs));

    let today = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
    let plain = CellConfig {
        follow_lines: false,
        ..CellConfig::default()
    };
    let (command_time, stored) = rt.block_on(whole_command(&territory, &plain, today, runs));
    let (plain_time, plain_cells) = best_of(runs, || {
        partition(&territory, &[], today, &plain).report.cells
    });
    assert_eq!(stored, plain_cells, "the command stores every plain cell");
    let (lines_time, lines_cells) = best_of(runs, || {
        partition(&territory, &[], today, &CellConfig::default())
            .report
            .cells
    });
    assert!(pg_cells > 0 && plain_cells > 0, "both produce cells");
    let ratio = |t: Duration| pg_time.as_secs_f64() / t.as_secs_f64();
    println!(
        "cells_vs_postgis ({label}, {} communities, best of {runs}):\n  \
         PostGIS ST_Subdivide + ST_SquareGrid({side}) clipped, table written: {pg_cells} cells in {pg_time:.2?}\n  \
         civgrid cells --plain, the whole command, GeoPackage written: {stored} cells in {command_time:.2?}  ({:.1}x faster)\n  \
         civgrid plain grid, partition alone:     {plain_cells} cells in {plain_time:.2?}  ({:.1}x faster)\n  \
         civgrid with roads and buildings:        {lines_cells} cells in {lines_time:.2?}",
        territory.communities.len(),
        ratio(command_time),
        ratio(plain_time),
    );
}

/// The best time of `runs` runs of PostGIS's plain grid of the communities
/// of `territory` (in the Gauss-Krüger zone `epsg`, squares of `side`
/// metres), written to a table, in a database made for it; and the cells.
async fn postgis_grid(
    url: &str,
    territory: &civgrid::Territory,
    epsg: i64,
    side: f64,
    runs: usize,
) -> (Duration, i64) {
    let mut admin = PgConnection::connect(url).await.expect("PostGIS reachable");
    admin
        .execute(format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)").as_str())
        .await
        .expect("drop the bench database");
    admin
        .execute(format!("CREATE DATABASE {DB}").as_str())
        .await
        .expect("create the bench database");
    let db_url = with_database(url, DB);
    let store = store::open(&db_url).await.expect("open the PostGIS store");
    let mut communities = territory.clone();
    communities.buildings.clear();
    communities.roads.clear();
    store
        .import(&[ImportBatch {
            source: "bench".into(),
            territory: communities,
        }])
        .await
        .expect("import the communities");
    let mut conn = PgConnection::connect(&db_url).await.expect("connect");
    let sql = format!(
        "WITH parts AS (
           SELECT code, ST_Subdivide(ST_Transform(geom, {epsg}), 256) AS g FROM communities),
         pieces AS (
           SELECT p.code, s.i, s.j, ST_Intersection(s.geom, p.g) AS g
           FROM parts p, ST_SquareGrid({side}, p.g) s
           WHERE ST_Intersects(s.geom, p.g))
         SELECT code, i, j, ST_Union(g) AS geom FROM pieces GROUP BY code, i, j"
    );
    let mut best = None::<(Duration, i64)>;
    for _ in 0..runs {
        conn.execute("DROP TABLE IF EXISTS bench_cells")
            .await
            .expect("drop the cells table");
        let t = Instant::now();
        conn.execute(format!("CREATE TABLE bench_cells AS {sql}").as_str())
            .await
            .expect("the PostGIS grid");
        let e = t.elapsed();
        let (n, area): (i64, f64) =
            sqlx::query_as("SELECT count(*), sum(ST_Area(geom)) FROM bench_cells")
                .fetch_one(&mut conn)
                .await
                .expect("the PostGIS cells");
        assert!(area > 0.0, "PostGIS cells have an area");
        if best.is_none_or(|(b, _)| e < b) {
            best = Some((e, n));
        }
    }
    drop(conn);
    drop(store);
    admin
        .execute(format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)").as_str())
        .await
        .expect("drop the bench database");
    best.expect("a run")
}

/// The best time of `runs` runs of the `civgrid cells` command with
/// `config` on a fresh copy of a GeoPackage holding `territory` (the
/// copy is not timed), and the active cells it stored.
async fn whole_command(
    territory: &civgrid::Territory,
    config: &CellConfig,
    today: NaiveDate,
    runs: usize,
) -> (Duration, usize) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let source = dir.path().join("territory.gpkg");
    let spec = |p: &std::path::Path| p.to_str().expect("a UTF-8 path").to_owned();
    store::open(&spec(&source))
        .await
        .expect("a GeoPackage store")
        .import(&[ImportBatch {
            source: "bench".into(),
            territory: territory.clone(),
        }])
        .await
        .expect("import the territory");
    let mut best = None::<(Duration, usize)>;
    for i in 0..runs {
        let copy = dir.path().join(format!("run-{i}.gpkg"));
        std::fs::copy(&source, &copy).expect("copy the store");
        let t = Instant::now();
        let store = store::open(&spec(&copy)).await.expect("open the copy");
        let run = cells::run(&store, *config, today)
            .await
            .expect("civgrid cells --plain");
        let e = t.elapsed();
        if best.is_none_or(|(b, _)| e < b) {
            best = Some((e, run.report.cells));
        }
    }
    best.expect("a run")
}

//! Tile rendering benchmarks. Run with `cargo bench -p civgrid-service --bench tiles`.
//!
//! Input: the seeded synthetic `city` (about 10,000 unit cells, roads,
//! hazards, household grids) stored in a temporary GeoPackage, or with
//! `CIVGRID_BENCH_STORE=PATH` any store (the province of `civgrid synth
//! --households 10000000`, a real-boundary city), loaded as `civgrid
//! serve` loads it. Measured: a cold render (no cache) of the tile over the
//! centre of the territory's main place at every zoom 0–16, of `risk`
//! (PNG), `base`, `areas`, `cells` and `grids` (MVT, each from its least
//! zoom), with each tile's size printed; a heat PNG at z12–16; and a cached
//! lookup. The largest tile of each layer over all of a territory's tiles
//! is `benches/tiles/scan.py`'s.
#![expect(missing_docs, reason = "criterion macros generate undocumented items")]

use std::time::Duration;

use chrono::NaiveDate;
use civgrid::cells::CellConfig;
use civgrid::grids::GridConfig;
use civgrid::synth::{synthesize, SynthConfig};
use civgrid_service::store::{self, ImportBatch};
use civgrid_service::tiles::{IncidentFilter, TileLayer, VectorLayer};
use civgrid_service::AppState;
use civgrid_tiles::{TileCoord, TileKey};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};

/// The served state of the bench's territory (and the folder of a
/// temporary store, kept while it is used).
fn state(rt: &tokio::runtime::Runtime) -> (AppState, Option<tempfile::TempDir>) {
    rt.block_on(async {
        if let Ok(spec) = std::env::var("CIVGRID_BENCH_STORE") {
            let store = store::open(&spec).await.expect("the bench store");
            return (AppState::load(store).await.expect("load"), None);
        }
        let dir = tempfile::tempdir().expect("a folder");
        let spec = dir.path().join("city.gpkg").display().to_string();
        let store = store::open(&spec).await.expect("a store");
        let territory = synthesize(&SynthConfig::city()).expect("the synthetic city");
        store
            .import(&[ImportBatch {
                source: "synthetic".into(),
                territory,
            }])
            .await
            .expect("import");
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        civgrid_service::cells::run(&store, CellConfig::default(), today)
            .await
            .expect("cells");
        civgrid_service::grids::run(&store, GridConfig::default(), today, false)
            .await
            .expect("grids");
        (AppState::load(store).await.expect("load"), Some(dir))
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let (state, _dir) = state(&rt);
    let engine = state.engine();
    let styles = state.config.styles.clone();
    let filter = IncidentFilter::default();
    let places = state.tiles.places(&engine);
    let b = places.first().expect("a place").bounds;
    let centre = (b[0].midpoint(b[2]), b[1].midpoint(b[3]));
    let mut group = c.benchmark_group("tiles");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    let layers = [
        TileLayer::Risk,
        TileLayer::Base,
        TileLayer::Areas,
        TileLayer::Vector(VectorLayer::Cells),
        TileLayer::Vector(VectorLayer::Grids),
    ];
    for z in 0..=16u8 {
        let Some(t) = TileCoord::containing(centre.0, centre.1, z) else {
            continue;
        };
        let mut heat = vec![TileLayer::Heat];
        heat.retain(|_| z >= 12);
        for layer in layers.iter().chain(&heat) {
            if z < layer.minzoom() {
                continue;
            }
            let render = || {
                state
                    .tiles
                    .render(&engine, &styles, *layer, black_box(t), 1, &filter)
                    .expect("a tile")
            };
            eprintln!(
                "{} z{z} {}/{}: {} bytes",
                layer.name(),
                t.x,
                t.y,
                render().len()
            );
            group.bench_with_input(BenchmarkId::new(layer.name(), z), &t, |b, _| {
                b.iter(render);
            });
        }
    }
    if let Some(t) = TileCoord::containing(centre.0, centre.1, 14) {
        let key = TileKey {
            layer: "risk",
            coord: t,
            scale: 1,
        };
        let _ = state.tiles.get(state.tiles.cache.generation(), key, || {
            state
                .tiles
                .render(&engine, &styles, TileLayer::Risk, t, 1, &filter)
        });
        group.bench_function("cached_lookup", |b| {
            b.iter(|| state.tiles.cache.get(black_box(&key)));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Tile rendering benchmarks. Run with `cargo bench -p civgrid-service --bench tiles`.
//!
//! Input: the seeded synthetic `city` (about 10,000 unit cells, roads,
//! hazards) partitioned into cells and loaded into the service's engine;
//! the tiles are the z12–z16 tiles over its centre. Measured: a cold render
//! (no cache) of a risk PNG, a heat PNG, a cells MVT and a base MVT, and a cached tile
//! lookup.
#![expect(missing_docs, reason = "criterion macros generate undocumented items")]

use chrono::NaiveDate;
use civgrid::cells::{partition, CellConfig};
use civgrid::grids::GridConfig;
use civgrid::synth::{synthesize, SynthConfig};
use civgrid::RiskConfig;
use civgrid_service::progress::Stages;
use civgrid_service::tiles::{IncidentFilter, Styles, Tiles, VectorLayer, DEFAULT_CACHE_BYTES};
use civgrid_service::Engine;
use civgrid_tiles::{TileCoord, TileKey};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};

fn bench(c: &mut Criterion) {
    let mut territory = synthesize(&SynthConfig::city()).expect("the synthetic city");
    // Store ids, as a load from the store gives them.
    for (i, f) in territory.facilities.iter_mut().enumerate() {
        f.id = i as i64 + 1;
    }
    for (i, h) in territory.hazards.iter_mut().enumerate() {
        h.id = i as i64 + 1;
    }
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let cells = partition(&territory, &[], today, &CellConfig::default());
    let engine = Engine::new(
        &territory,
        cells.cells,
        cells.adjacency,
        Vec::new(),
        GridConfig::default(),
        RiskConfig::default(),
        &Stages::new(),
    )
    .expect("the engine");
    let tiles = Tiles::new(&engine.cells, territory.clone(), DEFAULT_CACHE_BYTES);
    let styles = Styles::default();
    let centre = territory
        .extent()
        .map(geo_types::Rect::center)
        .expect("an extent");
    let mut group = c.benchmark_group("tiles");
    for z in [12u8, 14, 16] {
        let Some(t) = TileCoord::containing(centre.x, centre.y, z) else {
            continue;
        };
        group.bench_with_input(BenchmarkId::new("risk_png", z), &t, |b, &t| {
            b.iter(|| tiles.render_risk(black_box(&engine), &styles.palette, t, 1));
        });
        group.bench_with_input(BenchmarkId::new("base_mvt", z), &t, |b, &t| {
            b.iter(|| tiles.render_base(black_box(t)));
        });
        group.bench_with_input(BenchmarkId::new("heat_png", z), &t, |b, &t| {
            b.iter(|| {
                tiles.render_heat(
                    &engine,
                    &styles.heat,
                    black_box(t),
                    &IncidentFilter::default(),
                )
            });
        });
        group.bench_with_input(BenchmarkId::new("cells_mvt", z), &t, |b, &t| {
            b.iter(|| Tiles::render_vector(black_box(&engine), VectorLayer::Cells, t));
        });
    }
    if let Some(t) = TileCoord::containing(centre.x, centre.y, 14) {
        let key = TileKey {
            layer: "risk",
            coord: t,
            scale: 1,
        };
        let _ = tiles.get(tiles.cache.generation(), key, || {
            tiles.render_risk(&engine, &styles.palette, t, 1)
        });
        group.bench_function("cached_lookup", |b| {
            b.iter(|| tiles.cache.get(black_box(&key)));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

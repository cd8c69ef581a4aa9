//! Unit cells: a 100 km² city with its roads (about 10,000 cells) and a
//! 1,400 km² county (about 140,000 cells) with roads and as a plain grid.

use chrono::NaiveDate;
use civgrid::cells::{partition, CellConfig};
use civgrid::synth::{synthesize, SynthConfig};
use criterion::{black_box, BenchmarkId, Criterion};

pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("cells");
    group.sample_size(10);
    let today = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
    let roads = CellConfig::default();
    let plain = CellConfig {
        follow_lines: false,
        ..roads
    };
    for (name, synth) in [
        ("city", SynthConfig::city()),
        ("county", SynthConfig::county()),
    ] {
        let Ok(territory) = synthesize(&synth) else {
            continue;
        };
        for (mode, cfg) in [("roads", roads), ("plain", plain)] {
            let id = BenchmarkId::new(mode, name);
            group.bench_with_input(id, &territory, |b, t| {
                b.iter(|| partition(black_box(t), &[], today, &cfg));
            });
        }
    }
    group.finish();
}

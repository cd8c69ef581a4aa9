//! Synthetic city generation.

use civgrid::synth::{synthesize, SynthConfig};
use criterion::{black_box, BenchmarkId, Criterion};

pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("synth");
    group.sample_size(10);
    for (name, cfg) in [("test", SynthConfig::test()), ("town", SynthConfig::town())] {
        group.bench_with_input(BenchmarkId::new("synthesize", name), &cfg, |b, cfg| {
            b.iter(|| synthesize(black_box(cfg)));
        });
    }
    group.finish();
}

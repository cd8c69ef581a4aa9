//! Point location: building the `Locator` and answering queries.

use civgrid::synth::{synthesize, SynthConfig};
use civgrid::Locator;
use criterion::{black_box, BenchmarkId, Criterion};
use geo_types::{Point, Rect};

/// A fixed 64 × 64 lattice of query points over `bbox`.
pub fn lattice(bbox: Rect<f64>) -> Vec<Point<f64>> {
    (0..64 * 64)
        .map(|i| {
            let (u, v) = (f64::from(i % 64) + 0.5, f64::from(i / 64) + 0.5);
            Point::new(
                bbox.min().x + bbox.width() * u / 64.0,
                bbox.min().y + bbox.height() * v / 64.0,
            )
        })
        .collect()
}

pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("locate");
    for (name, cfg) in [("town", SynthConfig::town()), ("city", SynthConfig::city())] {
        let Ok(territory) = synthesize(&cfg) else {
            continue;
        };
        group.bench_with_input(BenchmarkId::new("build", name), &territory, |b, t| {
            b.iter(|| Locator::new(black_box(t)));
        });
        let locator = Locator::new(&territory);
        let Some(bbox) = territory.extent() else {
            continue;
        };
        let points = lattice(bbox);
        group.bench_with_input(BenchmarkId::new("query", name), &points, |b, pts| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % pts.len();
                black_box(locator.locate(pts[i]))
            });
        });
    }
    group.finish();
}

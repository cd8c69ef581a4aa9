//! Nearest facilities by straight-line distance: 100,000 facilities.

use civgrid::{Facility, FacilityIndex, FacilityKind, LocalProjection, NearestQuery};
use criterion::{black_box, BenchmarkId, Criterion};
use geo_types::Point;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// South-west corner and size (degrees) of a 10 km × 10 km square.
const ORIGIN: (f64, f64) = (120.10, 30.15);
const SIZE: (f64, f64) = (0.104, 0.09);

fn random_point(rng: &mut ChaCha8Rng) -> Point<f64> {
    Point::new(
        ORIGIN.0 + rng.random::<f64>() * SIZE.0,
        ORIGIN.1 + rng.random::<f64>() * SIZE.1,
    )
}

pub fn bench(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let facilities: Vec<Facility> = (1..=100_000)
        .map(|id| Facility {
            id,
            kind: FacilityKind::ALL[rng.random_range(0..FacilityKind::ALL.len())],
            name: String::new(),
            capacity: None,
            staff: None,
            contact: None,
            location: random_point(&mut rng),
        })
        .collect();
    let Ok(projection) = LocalProjection::gauss_kruger_3deg(ORIGIN.0) else {
        return;
    };
    let mut group = c.benchmark_group("nearest");
    group.sample_size(10);
    group.bench_function("build_100k", |b| {
        b.iter(|| {
            LocalProjection::new(120.0)
                .ok()
                .and_then(|p| FacilityIndex::new(p, black_box(&facilities)).ok())
        });
    });
    group.sample_size(100);
    let Ok(index) = FacilityIndex::new(projection, &facilities) else {
        return;
    };
    let points: Vec<Point<f64>> = (0..4096).map(|_| random_point(&mut rng)).collect();
    let kind_sets: [(&str, &[FacilityKind]); 3] = [
        ("all_kinds", &[]),
        ("one_kind", &[FacilityKind::FireStation]),
        (
            "three_kinds",
            &[
                FacilityKind::FireStation,
                FacilityKind::MicroFireStation,
                FacilityKind::Hospital,
            ],
        ),
    ];
    for (name, kinds) in kind_sets {
        group.bench_with_input(BenchmarkId::new("k5_of_100k", name), &kinds, |b, kinds| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % points.len();
                black_box(index.nearest(&NearestQuery {
                    point: points[i],
                    kinds,
                    k: 5,
                    max_distance_m: None,
                }))
            });
        });
    }
    group.bench_function("project_point", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % points.len();
            black_box(index.projection().forward(points[i].0))
        });
    });
    group.finish();
}

//! Road network: building the graph, nearest by time among 50 fire
//! stations on a graph of about 200,000 nodes, and 5-minute coverage of the
//! synthetic city.

use std::time::Instant;

use civgrid::network::{
    CoverageSource, CoverageTarget, RoadGraph, SpeedTable, TimeQuery, TurnoutTable,
};
use civgrid::synth::{synthesize, SynthConfig};
use civgrid::{Facility, FacilityIndex, FacilityKind, LocalProjection, Territory};
use criterion::{black_box, Criterion};
use geo_types::{Point, Rect};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The territory's bounding box in lon/lat.
fn bbox(t: &Territory) -> Option<Rect<f64>> {
    t.extent()
}

fn random_point(rng: &mut ChaCha8Rng, r: Rect<f64>) -> Point<f64> {
    Point::new(
        r.min().x + rng.random::<f64>() * r.width(),
        r.min().y + rng.random::<f64>() * r.height(),
    )
}

/// A synthetic territory, its projection and its road graph.
fn network(cfg: &SynthConfig) -> Option<(Territory, LocalProjection, RoadGraph, Rect<f64>)> {
    let t = synthesize(cfg).ok()?;
    let projection = LocalProjection::gauss_kruger_3deg(cfg.origin_lon).ok()?;
    let start = Instant::now();
    let graph = RoadGraph::build(&t.roads, &projection, &SpeedTable::default()).ok()?;
    eprintln!(
        "road graph: {} nodes, {} edges, built with its contraction hierarchy in {:.1} s",
        graph.node_count(),
        graph.edges().len(),
        start.elapsed().as_secs_f64()
    );
    let area = bbox(&t)?;
    Some((t, projection, graph, area))
}

pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("network");
    group.sample_size(20);
    let mut rng = ChaCha8Rng::seed_from_u64(7);

    // By time: 50 fire stations spread over a territory of about 200,000 nodes.
    if let Some((_, projection, graph, area)) = network(&SynthConfig::city().districts(8, 7)) {
        let stations: Vec<Facility> = (1..=50)
            .map(|id| Facility {
                id,
                kind: FacilityKind::FireStation,
                name: String::new(),
                capacity: None,
                staff: None,
                contact: None,
                location: random_point(&mut rng, area),
            })
            .collect();
        if let Ok(index) = FacilityIndex::new(projection, &stations) {
            let points: Vec<Point<f64>> = (0..1024).map(|_| random_point(&mut rng, area)).collect();
            let turnout = TurnoutTable::default();
            for k in [1, 5] {
                group.bench_function(format!("by_time_k{k}_of_50_stations"), |b| {
                    let mut i = 0;
                    b.iter(|| {
                        i = (i + 1) % points.len();
                        black_box(graph.nearest_by_time(
                            &index,
                            &TimeQuery {
                                point: points[i],
                                kinds: &[FacilityKind::FireStation],
                                k,
                                turnout: &turnout,
                            },
                        ))
                    });
                });
            }
        }
    }

    // Coverage: the city's fire stations, 5 minutes, one target per 100 m square.
    if let Some((t, _, graph, area)) = network(&SynthConfig::city()) {
        let turnout = TurnoutTable::default();
        let sources: Vec<CoverageSource> = t
            .facilities
            .iter()
            .filter(|f| f.kind == FacilityKind::FireStation)
            .map(|f| CoverageSource {
                point: f.location,
                turnout_s: turnout.seconds(f.kind),
            })
            .collect();
        let (nx, ny) = (100, 100);
        let targets: Vec<CoverageTarget> = (0..nx * ny)
            .map(|i| CoverageTarget {
                point: Point::new(
                    area.min().x + area.width() * (f64::from(i % nx) + 0.5) / f64::from(nx),
                    area.min().y + area.height() * (f64::from(i / nx) + 0.5) / f64::from(ny),
                ),
                households: 50,
                high_risk: i % 10 == 0,
            })
            .collect();
        if let Ok(cov) = graph.coverage(&sources, 300.0, &targets) {
            eprintln!(
                "city coverage: {} fire stations, {} targets, {:.1} % covered in 5 minutes",
                sources.len(),
                targets.len(),
                cov.cells.ratio().unwrap_or(0.0) * 100.0
            );
        }
        group.sample_size(10);
        group.bench_function("coverage_5min_city", |b| {
            b.iter(|| black_box(graph.coverage(&sources, 300.0, &targets)));
        });
        if let Some(first) = sources.first() {
            group.bench_function("isochrone_5min_city", |b| {
                b.iter(|| black_box(graph.isochrone(first, 300.0, 50.0)));
            });
        }
    }
    group.finish();
}

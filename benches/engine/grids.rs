//! Household grids: a full plan for a territory of about 1 million
//! households (its unit cells made once, outside the measurement).
//!
//! Under `cargo test --all-targets` (no `--bench` argument) the benchmark
//! runs once on the small town instead, so CI checks that it works without
//! spending a minute building a million households in a debug build.

use chrono::NaiveDate;
use civgrid::cells::{partition, CellConfig};
use civgrid::grids::{plan, GridConfig};
use civgrid::synth::{synthesize, SynthConfig};
use criterion::{black_box, BenchmarkId, Criterion};

pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("grids");
    group.sample_size(10);
    let today = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
    let measuring = std::env::args().any(|a| a == "--bench");
    let (name, synth) = if measuring {
        ("1M_households", SynthConfig::with_households(1_000_000))
    } else {
        ("town", SynthConfig::town())
    };
    let Ok(territory) = synthesize(&synth) else {
        return;
    };
    let cells = partition(&territory, &[], today, &CellConfig::default()).cells;
    let config = GridConfig::default();
    let first = plan(&territory, &cells, &[], today, &config);
    let r = &first.report;
    let flagged = r.communities.iter().filter(|c| !c.flags.is_empty());
    let outside_where_feasible = r
        .communities
        .iter()
        .filter(|c| c.flags.is_empty())
        .flat_map(|c| &c.grids)
        .filter(|g| !g.within_bounds)
        .count();
    let mut by_flag = std::collections::BTreeMap::new();
    for c in flagged {
        for f in &c.flags {
            *by_flag.entry(format!("{f:?}")).or_insert(0) += 1;
        }
    }
    eprintln!(
        "grids/{name}: flagged communities {by_flag:?}, {outside_where_feasible} grids outside bounds in the others"
    );
    eprintln!(
        "grids/{name}: {} households, {} cells -> {} grids ({} basic; lower bound {}), {}/{} basic within bounds, mean Polsby-Popper {:.3}",
        first.report.households,
        cells.len(),
        first.report.grids,
        first.report.by_kind[0],
        first.report.lower_bound,
        first.report.within_bounds,
        first.report.by_kind[0],
        first.report.mean_compactness
    );
    group.bench_with_input(BenchmarkId::new("plan", name), &territory, |b, t| {
        b.iter(|| plan(black_box(t), &cells, &[], today, &config));
    });
    group.finish();
}

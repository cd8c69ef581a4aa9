//! Engine benchmarks. Run with `cargo bench -p civgrid` (or `make bench`).
//! Inputs come from the seeded synthetic city generator, so every run
//! measures the same data.
#![expect(missing_docs, reason = "criterion macros generate undocumented items")]

use criterion::{criterion_group, criterion_main};

mod assign;
mod cells;
mod grids;
mod locate;
mod nearest;
mod network;
mod synth;

criterion_group!(
    benches,
    assign::bench,
    cells::bench,
    grids::bench,
    locate::bench,
    nearest::bench,
    network::bench,
    synth::bench
);
criterion_main!(benches);

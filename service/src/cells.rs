//! `civgrid cells`: (re)generates the unit cells (万米单元网格) of every
//! community from the stored territory and stores them with their history
//! and adjacency, and the components' new cells, in one transaction.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use civgrid::cells::{partition_with_progress, CellConfig, CellReport};
use civgrid::components::{tie, Component};
use civgrid::Locator;

use crate::progress::Progress;
use crate::store::{CellRows, Layer, NewCells, Store, StoreResult};

/// What `civgrid cells` did.
#[derive(Debug)]
pub struct CellsRun {
    /// The engine's report.
    pub report: CellReport,
    /// Cells stored, active and retired.
    pub stored: usize,
    /// Adjacent pairs stored.
    pub adjacency: usize,
    /// Components whose unit cell changed with the new cells.
    pub retied: usize,
    /// Rows deleted, inserted or updated: only what changed is written.
    pub written: u64,
    /// Time spent reading the territory and the previous cells.
    pub load_time: Duration,
    /// Time spent partitioning.
    pub partition_time: Duration,
    /// Time spent writing the store.
    pub write_time: Duration,
    /// Time spent in all.
    pub total_time: Duration,
}

/// Partitions the communities of `store` as of `today` and replaces its cells.
///
/// The previous cells are read first, so codes of unchanged cells are kept
/// and retired codes are never reused. If the store write fails, nothing
/// changes.
pub async fn run(
    store: &Arc<dyn Store>,
    config: CellConfig,
    today: NaiveDate,
) -> StoreResult<CellsRun> {
    let started = Instant::now();
    // The communities, what cells follow (nothing for a plain grid), and
    // the components they hold: no facility, hazard, incident or zone.
    let layers: &[Layer] = if config.follow_lines {
        &[
            Layer::Communities,
            Layer::Buildings,
            Layer::Roads,
            Layer::Barriers,
            Layer::Components,
        ]
    } else {
        &[Layer::Communities, Layer::Components]
    };
    let (territory, (previous, previous_adjacency)) =
        tokio::try_join!(store.load_layers(layers, &[]), store.load_cells())?;
    tracing::info!(
        "cells: {} communities, {} roads, {} buildings, {} previous cells",
        territory.communities.len(),
        territory.roads.len(),
        territory.buildings.len(),
        previous.len()
    );
    let load_time = started.elapsed();
    let partition_started = Instant::now();
    let (partition, retied, previous) = tokio::task::spawn_blocking(move || {
        let mut territory = territory;
        let total = territory.communities.len() as u64;
        let progress = Mutex::new(Progress::new("cells", Some(total)));
        let p = partition_with_progress(&territory, &previous, today, &config, &|_, _| {
            if let Ok(mut progress) = progress.lock() {
                progress.inc(1);
            }
        });
        if let Ok(progress) = progress.into_inner() {
            progress.finish();
        }
        // Components follow the new cells.
        // Only the cells are needed to tie (with_cells keeps the active ones).
        let locator = Locator::default().with_cells(&p.cells);
        let moved = tie(&mut territory.components, &locator);
        let retied = moved
            .into_iter()
            .map(|i| territory.components[i].clone())
            .collect::<Vec<Component>>();
        (p, retied, previous)
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    let partition_time = partition_started.elapsed();
    let before = CellRows {
        cells: &previous,
        adjacency: &previous_adjacency,
    };
    let after = NewCells {
        cells: Arc::new(partition.cells),
        adjacency: Arc::new(partition.adjacency),
    };
    let write_started = Instant::now();
    let written = store.replace_cells(before, &after, &retied).await?;
    Ok(CellsRun {
        stored: after.cells.len(),
        adjacency: after.adjacency.len(),
        retied: retied.len(),
        written,
        report: partition.report,
        load_time,
        partition_time,
        write_time: write_started.elapsed(),
        total_time: started.elapsed(),
    })
}

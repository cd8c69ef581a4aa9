//! `civgrid demo`: the sample data in one go.
//!
//! - `hangzhou-districts.geojson`: the 13 real districts of 杭州 (with their
//!   GB/T 2260 codes added), imported with `--repair` since their rings
//!   self-intersect;
//! - a synthetic town (subdistricts, communities, roads, buildings,
//!   facilities, hazards, incidents) laid inside 西湖区, under its real code;
//! - `helsinki-center.osm.pbf`: real OSM buildings, roads and facilities,
//!   with `helsinki-communities.geojson`, demo communities drawn over it;
//! - then the unit cells of every community (`civgrid cells`) and their
//!   household grids (`civgrid grids`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use civgrid::synth::{synthesize, SynthConfig};
use civgrid::AdminCode;

use civgrid::cells::CellConfig;
use civgrid::grids::GridConfig;

use crate::cells;
use crate::import::ImportOptions;
use crate::store::{ImportBatch, Store};

/// The sample data shipped with the source tree.
pub const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data");

/// The source name of the synthetic town's batch.
pub const SYNTHETIC_SOURCE: &str = "synthetic-town";

/// 西湖区, the real district the synthetic town is laid in.
pub const TOWN_DISTRICT: &str = "330106";

/// The files the demo imports, in order.
pub fn sample_files(data: &Path) -> Vec<PathBuf> {
    [
        "hangzhou-districts.geojson",
        "helsinki-center.osm.pbf",
        "helsinki-communities.geojson",
    ]
    .iter()
    .map(|f| data.join(f))
    .collect()
}

/// The synthetic town: inside 西湖区, keyed under its real district code; its
/// own district polygon is dropped so the real boundary stays.
pub fn synthetic_town() -> anyhow::Result<ImportBatch> {
    let district: AdminCode = TOWN_DISTRICT.parse()?;
    let cfg = SynthConfig::town()
        .districts(1, 1)
        .rural_share(0.0)
        .origin(120.10, 30.24)
        .first_district(district);
    let mut territory = synthesize(&cfg)?;
    territory.districts.clear();
    Ok(ImportBatch {
        source: SYNTHETIC_SOURCE.to_owned(),
        territory,
    })
}

/// Imports the sample data into `store_spec` (in one transaction), builds
/// the unit cells, and returns the store.
pub async fn prepare(store_spec: &str, data: &Path) -> anyhow::Result<Arc<dyn Store>> {
    let opts = ImportOptions {
        repair: true,
        ..ImportOptions::default()
    };
    let store = crate::cli::import_files(
        store_spec,
        &sample_files(data),
        &opts,
        vec![synthetic_town()?],
    )
    .await?;
    let run = cells::run(
        &store,
        CellConfig::default(),
        chrono::Local::now().date_naive(),
    )
    .await?;
    crate::cli::report_cells(&run, store.location(), None)?;
    let run = crate::grids::run(
        &store,
        GridConfig::default(),
        chrono::Local::now().date_naive(),
        true,
    )
    .await?;
    crate::cli::report_grids(&run, store.location(), None)?;
    Ok(store)
}

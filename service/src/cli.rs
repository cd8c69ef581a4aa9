//! The `civgrid` command line. Every command takes `--store`: a path ending
//! in `.gpkg` (the embedded GeoPackage, default `civgrid.gpkg`) or a
//! `postgres://` URL (PostGIS).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use chrono::NaiveDate;
use civgrid::cells::{CellConfig, CodeProfile};
use civgrid::grids::GridConfig;
use civgrid::synth::{synthesize, SynthConfig};
use civgrid::{HouseholdEstimate, RiskConfig, Territory};
use clap::{Parser, Subcommand};

use crate::assign::AssignData;
use crate::auth::{self, Access, Role, WriterToken};
use crate::care;
use crate::cells::{self, CellsRun};
use crate::export::{self, ExportLayer};
use crate::grids::{self, GridsRun};
use crate::import::{self, ImportOptions, ImportedFile, Mapping};
use crate::ogc;
use crate::responders::DEFAULT_MAX_OUTSIDE_M;
use crate::state::ServeConfig;
use crate::store::{self, ImportBatch, Layer, Store, DEFAULT_STORE};
use crate::tiles::{Styles, DEFAULT_CACHE_BYTES};
use crate::{demo, AppState};

/// Default address `serve` and `demo` listen on.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// civgrid: unit cells, household grids, responders and risk maps for
/// grid-based city governance (网格化管理).
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "Logging: set RUST_LOG (e.g. RUST_LOG=debug); default info.\nEnvironment: CIVGRID_STORE sets --store."
)]
pub struct Cli {
    /// The store: a .gpkg path (embedded GeoPackage) or a postgres:// URL (PostGIS).
    #[arg(long, global = true, env = "CIVGRID_STORE", default_value = DEFAULT_STORE)]
    pub store: String,
    /// Log lines as JSON objects (one per line, with the span's fields), for log collectors.
    #[arg(long, global = true, env = "CIVGRID_LOG_JSON")]
    pub log_json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import vector files (any GDAL format: GeoJSON, GeoPackage, Shapefile, OSM PBF…) in one transaction.
    Import(ImportArgs),
    /// Import a deterministic synthetic territory (for trials, training and load tests) in one transaction.
    Synth(SynthArgs),
    /// Partition every community into unit cells (万米单元网格) and store them, keeping the codes of unchanged cells.
    Cells(CellsArgs),
    /// Group every community's households into household grids (全科网格) built from its unit cells, keeping the codes and workers of matching grids.
    Grids(GridsArgs),
    /// Name grid workers and leaders from a table (CSV, XLSX, ODS… through GDAL): columns code, worker_name, worker_phone, leader_name, leader_phone; one transaction, logged as edits.
    Workers {
        /// The table.
        file: PathBuf,
        /// Who makes the change (for the edit log).
        #[arg(long, default_value = "civgrid workers")]
        author: String,
    },
    /// Store the counts of people cared for per household grid (columns grid, group, count only; any other column is refused).
    Care {
        /// The table (CSV, XLSX, ODS through GDAL).
        file: PathBuf,
    },
    /// Export a layer to a file through GDAL (.gpkg, .geojson or .shp, by extension), or `tiles` to a PMTiles or MBTiles archive (.pmtiles, .mbtiles).
    Export {
        /// The layer.
        #[arg(value_enum)]
        layer: ExportLayer,
        /// The file to write (replaced if it exists).
        #[arg(long)]
        out: PathBuf,
        /// Options of `export tiles`.
        #[command(flatten)]
        tiles: TileArgs,
    },
    /// Copy the whole store to a file, consistent while a server writes (GeoPackage: SQLite's VACUUM INTO; PostGIS: use pg_dump). Copy a live or crashed .gpkg this way, not with cp.
    Backup {
        /// The GeoPackage to write (replaced if it exists).
        #[arg(long)]
        out: PathBuf,
    },
    /// Serve the HTTP API over an existing store.
    Serve(ServeArgs),
    /// Make a bearer token for `serve --access`: prints the token (give it to its holder; it is not kept) and the entry to add to the access file.
    Token {
        /// The token's name: the actor in the audit log.
        #[arg(long)]
        name: String,
        /// What it may do.
        #[arg(long, value_enum)]
        role: Role,
    },
    /// Import the sample data (Hangzhou districts, a synthetic town, central Helsinki from OSM), then serve.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// Import only; do not serve.
        #[arg(long)]
        no_serve: bool,
        /// Folder holding the sample data.
        #[arg(long, default_value = demo::DATA_DIR)]
        data: PathBuf,
    },
}

/// Arguments of `civgrid serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// An admin bearer token (named `writer` in the audit log); without it or --access writes are refused.
    #[arg(long, env = "CIVGRID_WRITER_TOKEN", hide_env_values = true)]
    pub writer_token: Option<String>,
    /// Access file (TOML): tokens as SHA-256 digests with names and roles (planner, dispatcher, admin), and whether reads need a token; see `civgrid token`.
    #[arg(long, env = "CIVGRID_ACCESS")]
    pub access: Option<PathBuf>,
    /// Largest request body, MiB (larger ones get 413).
    #[arg(long, default_value_t = crate::routes::DEFAULT_BODY_LIMIT >> 20)]
    pub max_body_mb: usize,
    /// Largest file imported over HTTP (POST /api/v1/imports), MiB.
    #[arg(long, default_value_t = crate::routes::DEFAULT_IMPORT_LIMIT >> 20)]
    pub max_import_mb: usize,
    /// Largest uncompressed size of a zip imported over HTTP, MiB (declared and inflated; 413 beyond).
    #[arg(long, default_value_t = import::DEFAULT_MAX_UNCOMPRESSED_BYTES >> 20)]
    pub max_import_uncompressed_mb: u64,
    /// Most features a file imported over HTTP may bring (413 beyond).
    #[arg(long, default_value_t = import::DEFAULT_MAX_FEATURES)]
    pub max_import_features: u64,
    /// Longest time a read (GET) may take, seconds (then 503); writes are not cut short.
    #[arg(long, default_value_t = crate::routes::DEFAULT_TIMEOUT.as_secs())]
    pub timeout_s: u64,
    /// Largest distance (km) of a query point or written feature from the territory's extent.
    #[arg(long, default_value_t = DEFAULT_MAX_OUTSIDE_M / 1000.0)]
    pub max_outside_km: f64,
    /// Grid bounds (TOML, as for `civgrid grids --config`) that validation and edits hold grids to.
    #[arg(long)]
    pub grid_config: Option<PathBuf>,
    /// Risk map weights (TOML, fields of civgrid::risk::RiskConfig; see docs/risk.md); default: the built-in ones.
    #[arg(long)]
    pub risk_config: Option<PathBuf>,
    /// Folder of map styles (risk.json, heat.json); default: the shipped styles/.
    #[arg(long)]
    pub styles: Option<PathBuf>,
    /// Bound of the in-memory tile cache in MiB (0: render every request).
    #[arg(long, default_value_t = DEFAULT_CACHE_BYTES >> 20)]
    pub tile_cache_mb: usize,
    /// Class taxonomy of `POST /api/v1/assign` (CSV, see docs/assign.md); default: data/taxonomy/taxonomy.csv.
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
    /// Working calendar of deadlines (see docs/assign.md); default: data/taxonomy/calendar-2026.txt.
    #[arg(long)]
    pub calendar: Option<PathBuf>,
}

impl ServeArgs {
    /// The address and the settings these arguments give.
    ///
    /// # Errors
    /// A bad value, or a settings file that cannot be read.
    pub fn config(self) -> anyhow::Result<(SocketAddr, ServeConfig)> {
        let max_outside_m = km_to_m(self.max_outside_km, "--max-outside-km")?;
        let writer_token = match self.writer_token {
            Some(t) => Some(
                WriterToken::new(&t).context("--writer-token (CIVGRID_WRITER_TOKEN) is empty")?,
            ),
            None => None,
        };
        let access = match self.access {
            Some(path) => Access::read(&path)?,
            None => Access::default(),
        };
        let config = ServeConfig {
            writer_token,
            access,
            max_body_bytes: self.max_body_mb << 20,
            max_import_bytes: self.max_import_mb << 20,
            import_limits: import::ImportLimits {
                max_uncompressed_bytes: self.max_import_uncompressed_mb.saturating_mul(1 << 20),
                max_features: self.max_import_features,
            },
            timeout: std::time::Duration::from_secs(self.timeout_s.max(1)),
            max_outside_m,
            grids: grid_config(self.grid_config.as_deref())?,
            risk: read_risk_config(self.risk_config.as_deref())?,
            styles: read_styles(self.styles.as_deref())?,
            tile_cache_bytes: self.tile_cache_mb << 20,
            assign: assign_data(self.taxonomy.as_deref(), self.calendar.as_deref())?,
        };
        Ok((self.listen, config))
    }
}

/// Arguments of `civgrid import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Files to import.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Make invalid polygons valid (like PostGIS ST_MakeValid) instead of rejecting the file; every repair is reported.
    #[arg(long)]
    pub repair: bool,
    /// Mapping file (TOML) for layer and field names that are not the conventional ones.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Floor area of one dwelling in m², to estimate households from footprint × levels.
    #[arg(long, default_value_t = HouseholdEstimate::default().dwelling_m2)]
    pub dwelling_m2: f64,
    /// Largest distance in km of an imported facility or hazard from the territory (its stored areas, roads, facilities and hazards, and the areas and roads imported with it), as `serve --max-outside-km` holds HTTP writes to.
    #[arg(long, default_value_t = DEFAULT_MAX_OUTSIDE_M / 1000.0)]
    pub max_outside_km: f64,
    /// Let a file with no features remove what an earlier import of the same file name brought (else refused).
    #[arg(long)]
    pub replace_empty: bool,
    /// Largest uncompressed size of a zip, MiB (declared and inflated, checked while unpacking).
    #[arg(long, default_value_t = import::DEFAULT_MAX_UNCOMPRESSED_BYTES >> 20)]
    pub max_import_uncompressed_mb: u64,
    /// Most features one file may bring; default: no bound (the files are the operator's own).
    #[arg(long)]
    pub max_import_features: Option<u64>,
}

/// Options of `civgrid export tiles`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TileArgs {
    /// Tiles: the layers, comma-separated, joined in each tile in this order (default: every vector layer; a raster layer, risk or heat, goes alone).
    #[arg(long, value_delimiter = ',')]
    pub layers: Vec<String>,
    /// Tiles: the least zoom.
    #[arg(long)]
    pub minzoom: Option<u8>,
    /// Tiles: the greatest zoom.
    #[arg(long)]
    pub maxzoom: Option<u8>,
    /// Tiles: west,south,east,north in degrees (default: the whole territory).
    #[arg(long, allow_hyphen_values = true)]
    pub bbox: Option<String>,
}

impl TileArgs {
    /// `true` when no tile option is given.
    fn is_empty(&self) -> bool {
        self.layers.is_empty()
            && self.minzoom.is_none()
            && self.maxzoom.is_none()
            && self.bbox.is_none()
    }

    /// The export these options describe.
    fn export(&self) -> anyhow::Result<export::tiles::TileExport> {
        let default = export::tiles::TileExport::default();
        Ok(export::tiles::TileExport {
            layers: if self.layers.is_empty() {
                default.layers
            } else {
                export::tiles::parse_layers(&self.layers)?
            },
            minzoom: self.minzoom.unwrap_or(default.minzoom),
            maxzoom: self.maxzoom.unwrap_or(default.maxzoom),
            bbox: self
                .bbox
                .as_deref()
                .map(export::tiles::parse_bbox)
                .transpose()?,
        })
    }
}

/// A synthetic territory preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// 8 communities, 2 km², about 9,000 households.
    Test,
    /// 48 communities (36 urban, 12 villages), about 42,000 households.
    Town,
    /// An urban district of 100 km², 400 communities, about 475,000 households.
    City,
    /// A rural county of 1,400 km², 432 villages.
    County,
}

/// Arguments of `civgrid synth`.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// The size.
    #[arg(long, value_enum, default_value_t = Preset::Town)]
    pub preset: Preset,
    /// Instead of a preset: about this many households (a province at 10,000,000).
    #[arg(long, conflicts_with = "preset")]
    pub households: Option<u64>,
    /// Random seed: the same seed gives the same territory.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Longitude and latitude of the south-west corner.
    #[arg(long, num_args = 2, value_names = ["LON", "LAT"], allow_negative_numbers = true)]
    pub origin: Option<Vec<f64>>,
    /// The source name the features are stored under (importing it again replaces them).
    #[arg(long, default_value = "synthetic")]
    pub source: String,
}

impl SynthArgs {
    /// The generator settings these arguments describe.
    pub fn config(&self) -> SynthConfig {
        let cfg = match (self.households, self.preset) {
            (Some(n), _) => SynthConfig::with_households(n),
            (None, Preset::Test) => SynthConfig::test(),
            (None, Preset::Town) => SynthConfig::town(),
            (None, Preset::City) => SynthConfig::city(),
            (None, Preset::County) => SynthConfig::county(),
        };
        let cfg = cfg.seed(self.seed);
        match self.origin.as_deref() {
            Some(&[lon, lat]) => cfg.origin(lon, lat),
            _ => cfg,
        }
    }
}

/// Arguments of `civgrid cells`.
#[derive(Debug, clap::Args)]
pub struct CellsArgs {
    /// Target cell area, m².
    #[arg(long, default_value_t = CellConfig::default().target_m2)]
    pub target_m2: f64,
    /// Cells under this area (m²) merge into the neighbour with the longest shared edge.
    #[arg(long, default_value_t = CellConfig::default().min_m2)]
    pub min_m2: f64,
    /// The report lists cells under this area (m²).
    #[arg(long, default_value_t = CellConfig::default().band_m2.0)]
    pub band_min_m2: f64,
    /// The report lists cells over this area (m²).
    #[arg(long, default_value_t = CellConfig::default().band_m2.1)]
    pub band_max_m2: f64,
    /// Code length: 15 (DB11/T 2157-2023, 3-digit sequence) or 14 (CJ/T 213, 2-digit sequence).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u8).range(14..=15))]
    pub code_digits: u8,
    /// Plain grid: ignore roads, rivers, walls and buildings.
    #[arg(long)]
    pub plain: bool,
    /// H3 resolution of each cell's H3 index (0–15).
    #[arg(long, default_value_t = 9, value_parser = clap::value_parser!(u8).range(0..=15))]
    pub h3_resolution: u8,
    /// The day new cells start and retired cells end (YYYY-MM-DD; default today).
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// Also write the full report (area distribution, cells outside the band, failures) as JSON here.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

impl CellsArgs {
    /// The engine configuration these arguments describe.
    pub fn config(&self) -> anyhow::Result<CellConfig> {
        let config = CellConfig {
            target_m2: self.target_m2,
            min_m2: self.min_m2,
            band_m2: (self.band_min_m2, self.band_max_m2),
            profile: CodeProfile::from_code_digits(usize::from(self.code_digits))
                .context("--code-digits must be 14 or 15")?,
            follow_lines: !self.plain,
            h3_resolution: h3o::Resolution::try_from(self.h3_resolution)
                .context("--h3-resolution must be 0..15")?,
        };
        config.validate()?;
        Ok(config)
    }
}

/// Arguments of `civgrid grids`.
#[derive(Debug, clap::Args)]
pub struct GridsArgs {
    /// Settings file (TOML): `urban = { min, max }`, `rural = { min, max }`,
    /// `[communities."CODE"]` overrides, `special_kinds = ["school", …]`.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Most households of an urban grid (overrides the file).
    #[arg(long)]
    pub urban_max: Option<u32>,
    /// Fewest households of a rural grid (overrides the file).
    #[arg(long)]
    pub rural_min: Option<u32>,
    /// Most households of a rural grid (overrides the file).
    #[arg(long)]
    pub rural_max: Option<u32>,
    /// The day new grids start and retired grids end (YYYY-MM-DD; default today).
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// Also write the full report (every community and grid) as JSON here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Replace planners' hand edits made since the last plan (otherwise the run stops and names them).
    #[arg(long)]
    pub replace_edits: bool,
}

impl GridsArgs {
    /// The engine configuration these arguments describe.
    pub fn config(&self) -> anyhow::Result<GridConfig> {
        let mut config = grid_config(self.config.as_deref())?;
        if let Some(v) = self.urban_max {
            config.urban.max = v;
        }
        if let Some(v) = self.rural_min {
            config.rural.min = v;
        }
        if let Some(v) = self.rural_max {
            config.rural.max = v;
        }
        config.validate()?;
        Ok(config)
    }
}

/// The grid settings in a TOML file, or the defaults.
pub fn grid_config(path: Option<&Path>) -> anyhow::Result<GridConfig> {
    let Some(path) = path else {
        return Ok(GridConfig::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let config: GridConfig = toml::from_str(&text)
        .with_context(|| format!("{}: invalid grid settings", path.display()))?;
    config
        .validate()
        .with_context(|| path.display().to_string())?;
    Ok(config)
}

/// Runs the CLI; errors are printed with their causes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .with_writer(std::io::stderr);
    if cli.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    quiet_gdal();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("civgrid: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("civgrid: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// GDAL's own messages go to the log at debug level, not to the terminal:
/// problems reach the user through civgrid's errors.
fn quiet_gdal() {
    gdal::config::set_error_handler(|class, no, msg| {
        tracing::debug!(target: "gdal", ?class, no, "{msg}");
    });
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Import(args) => {
            let opts = ImportOptions {
                repair: args.repair,
                mapping: match &args.mapping {
                    Some(p) => Mapping::load(p)?,
                    None => Mapping::default(),
                },
                estimate: HouseholdEstimate {
                    dwelling_m2: args.dwelling_m2,
                    ..HouseholdEstimate::default()
                },
                max_outside_m: km_to_m(args.max_outside_km, "--max-outside-km")?,
                limits: import::ImportLimits {
                    max_uncompressed_bytes: args.max_import_uncompressed_mb.saturating_mul(1 << 20),
                    max_features: args.max_import_features.unwrap_or(u64::MAX),
                },
                replace_empty: args.replace_empty,
            };
            import_files(&cli.store, &args.paths, &opts, Vec::new()).await?;
            Ok(())
        }
        Command::Synth(args) => {
            let cfg = args.config();
            let territory = tokio::task::spawn_blocking(move || synthesize(&cfg))
                .await
                .context("synth worker failed")??;
            let batch = ImportBatch {
                source: args.source.clone(),
                territory,
            };
            import_files(&cli.store, &[], &ImportOptions::default(), vec![batch]).await?;
            Ok(())
        }
        Command::Cells(args) => {
            let config = args.config()?;
            let store = store::open(&cli.store).await?;
            let today = args
                .date
                .unwrap_or_else(|| chrono::Local::now().date_naive());
            let run = cells::run(&store, config, today).await?;
            report_cells(&run, store.location(), args.report.as_deref())
        }
        Command::Grids(args) => {
            let config = args.config()?;
            let store = store::open(&cli.store).await?;
            let today = args
                .date
                .unwrap_or_else(|| chrono::Local::now().date_naive());
            let run = grids::run(&store, config, today, args.replace_edits).await?;
            report_grids(&run, store.location(), args.report.as_deref())
        }
        Command::Workers { file, author } => name_workers(&cli.store, &file, &author).await,
        Command::Care { file } => store_care(&cli.store, &file).await,
        Command::Export {
            layer: ExportLayer::Tiles,
            out,
            tiles,
        } => export_tiles(&cli.store, &tiles, &out).await,
        Command::Export { layer, out, tiles } => {
            if !tiles.is_empty() {
                anyhow::bail!(
                    "--layers, --minzoom, --maxzoom and --bbox are options of `export tiles`, not of `export {}`",
                    layer.name()
                );
            }
            export_layer(&cli.store, layer, &out).await
        }
        Command::Backup { out } => backup(&cli.store, &out).await,
        Command::Serve(args) => {
            let (listen, config) = args.config()?;
            let store = store::open(&cli.store).await?;
            serve(store, listen, config).await
        }
        Command::Token { name, role } => make_token(&name, role),
        Command::Demo {
            listen,
            no_serve,
            data,
        } => {
            let store = demo::prepare(&cli.store, &data).await?;
            if no_serve {
                Ok(())
            } else {
                serve(store, listen, ServeConfig::default()).await
            }
        }
    }
}

/// `civgrid workers`: workers and leaders from a table; one summary line.
async fn name_workers(store_spec: &str, file: &Path, author: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let rows = {
        let file = file.to_path_buf();
        tokio::task::spawn_blocking(move || grids::read_workers(&file))
            .await
            .context("workers reader failed")??
    };
    let store = store::open(store_spec).await?;
    let source = file.display().to_string();
    let changed = grids::assign_workers(&store, &rows, author, &source).await?;
    let unstaffed = store
        .load_grids()
        .await?
        .iter()
        .filter(|g| g.end.is_none() && g.worker.is_none())
        .count();
    println!(
        "workers: {changed} grids from {source} stored in {} in {:.2?}; {unstaffed} active grids still without a worker",
        store.location(),
        started.elapsed()
    );
    Ok(())
}

/// The taxonomy and calendar of `assign` (either absent: the shipped one).
fn assign_data(
    taxonomy: Option<&Path>,
    calendar: Option<&Path>,
) -> anyhow::Result<std::sync::Arc<AssignData>> {
    Ok(std::sync::Arc::new(AssignData::load(taxonomy, calendar)?))
}

/// `civgrid care FILE`: per-grid counts of people cared for.
async fn store_care(store_spec: &str, file: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let rows = {
        let file = file.to_path_buf();
        tokio::task::spawn_blocking(move || care::read_care(&file))
            .await
            .context("care reader failed")??
    };
    let store = store::open(store_spec).await?;
    let source = file.display().to_string();
    let stored = care::store_care(&store, rows, &source).await?;
    println!(
        "care: {stored} per-grid counts from {source} stored in {} in {:.2?}",
        store.location(),
        started.elapsed()
    );
    Ok(())
}

/// Reads risk map weights from a TOML file (none: the defaults).
fn read_risk_config(path: Option<&Path>) -> anyhow::Result<RiskConfig> {
    let Some(path) = path else {
        return Ok(RiskConfig::default());
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: not a risk configuration", path.display()))
}

/// Reads the map styles of a folder (none: the shipped ones).
fn read_styles(dir: Option<&Path>) -> anyhow::Result<Styles> {
    dir.map_or_else(
        || Ok(Styles::default()),
        |d| Styles::load(d).map_err(anyhow::Error::msg),
    )
}

/// `civgrid export`: one layer of the store to a file; one summary line.
async fn export_layer(store_spec: &str, layer: ExportLayer, out: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = store::open(store_spec).await?;
    let features = match layer {
        ExportLayer::Cells => {
            let (mut cells, _) = store.load_cells().await?;
            cells.retain(|c| c.end.is_none());
            ogc::cells(std::sync::Arc::new(cells))
        }
        ExportLayer::Grids => ogc::grids(&store.load_grids().await?),
        ExportLayer::Facilities => {
            ogc::facilities(&one_layer(&store, Layer::Facilities).await?.facilities)
        }
        ExportLayer::Hazards => ogc::hazards(&one_layer(&store, Layer::Hazards).await?.hazards),
        ExportLayer::Components => {
            ogc::components(&one_layer(&store, Layer::Components).await?.components)
        }
        ExportLayer::Zones => ogc::zones(&one_layer(&store, Layer::Zones).await?.zones),
        ExportLayer::Risk => {
            crate::risk::collection(&AppState::load(store.clone()).await?.engine())
        }
        ExportLayer::Tiles => unreachable!("tiles are exported by export_tiles"),
    };
    let n = tokio::task::spawn_blocking({
        let out = out.to_path_buf();
        move || export::write(layer, &features, &out)
    })
    .await
    .context("export worker failed")??;
    println!(
        "exported {n} {} from {} to {} in {:.2?}",
        layer.name(),
        store.location(),
        out.display(),
        started.elapsed()
    );
    Ok(())
}

/// `civgrid export tiles`: the served tiles to a PMTiles or MBTiles
/// archive, with a progress bar; one summary line.
async fn export_tiles(store_spec: &str, args: &TileArgs, out: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let spec = args.export()?;
    let store = store::open(store_spec).await?;
    let state = AppState::load(store.clone()).await?;
    let s = tokio::task::spawn_blocking({
        let out = out.to_path_buf();
        let spec = spec.clone();
        move || export::tiles::export(&state, &spec, &out)
    })
    .await
    .context("tile export worker failed")??;
    let names: Vec<&str> = spec.layers.iter().map(|l| l.name()).collect();
    let (size, at) = s.largest;
    println!(
        "exported {} tiles of {} ({} looked at over the places within {}; zooms {}–{}) from {} to {} ({:.1} MiB; largest tile {:.1} KB at {}/{}/{}) in {:.2?}",
        s.tiles,
        names.join(", "),
        s.visited,
        format_args!(
            "{:.5},{:.5},{:.5},{:.5}",
            s.bounds.min().x,
            s.bounds.min().y,
            s.bounds.max().x,
            s.bounds.max().y
        ),
        spec.minzoom,
        spec.maxzoom,
        store.location(),
        out.display(),
        s.bytes as f64 / f64::from(1 << 20),
        size as f64 / 1e3,
        at.z,
        at.x,
        at.y,
        started.elapsed()
    );
    Ok(())
}

/// `civgrid backup`: the whole store to one GeoPackage; one summary line.
async fn backup(store_spec: &str, out: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = store::open(store_spec).await?;
    store.backup(out).await?;
    let bytes = std::fs::metadata(out).map_or(0, |m| m.len());
    println!(
        "backed up {} to {} ({:.1} MiB) in {:.2?}",
        store.location(),
        out.display(),
        bytes as f64 / f64::from(1 << 20),
        started.elapsed()
    );
    Ok(())
}

/// One layer of the store, without reading the others.
async fn one_layer(store: &std::sync::Arc<dyn Store>, layer: Layer) -> anyhow::Result<Territory> {
    Ok(store.load_layers(&[layer], &[]).await?)
}

/// Prints what `civgrid cells` did: failures and the band first, then one
/// summary line; writes the JSON report if asked.
pub(crate) fn report_cells(run: &CellsRun, store: &str, json: Option<&Path>) -> anyhow::Result<()> {
    for f in &run.report.failed {
        eprintln!(
            "civgrid: community {} {}: no new cells: {}",
            f.code, f.name, f.error
        );
    }
    if !run.report.outside_band.is_empty() {
        let (lo, hi) = run.report.band_m2;
        tracing::info!(
            "{} cells outside {lo:.0}–{hi:.0} m² (the report file lists them), e.g. {}",
            run.report.outside_band.len(),
            run.report
                .outside_band
                .iter()
                .take(5)
                .map(|(c, a)| format!("{c} ({a:.0} m²)"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&run.report)?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "cells: {} -> {} cells (with history) and {} adjacent pairs in {} ({} rows written), {} components moved to new cells, in {:.2?} (read {:.2?}, partition {:.2?}, write {:.2?}){}",
        run.report,
        run.stored,
        run.adjacency,
        store,
        run.written,
        run.retied,
        run.total_time,
        run.load_time,
        run.partition_time,
        run.write_time,
        json.map(|p| format!("; report in {}", p.display()))
            .unwrap_or_default()
    );
    Ok(())
}

/// Prints what `civgrid grids` did: failures and flagged communities
/// first, then one summary line; writes the JSON report if asked.
pub(crate) fn report_grids(run: &GridsRun, store: &str, json: Option<&Path>) -> anyhow::Result<()> {
    let r = &run.report;
    for f in &r.failed {
        eprintln!(
            "civgrid: community {} {}: no new grids: {}",
            f.code, f.name, f.error
        );
    }
    for c in r.communities.iter().filter(|c| !c.flags.is_empty()) {
        tracing::warn!(
            "community {} {}: {:?}: {} households, bounds {}-{}, {} basic grids",
            c.code,
            c.name,
            c.flags,
            c.households,
            c.bounds.min,
            c.bounds.max,
            c.basic
        );
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(r)?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "grids: {} communities -> {} grids ({} basic, {} special, {} building; lower bound {}), {} households, {}/{} basic grids within bounds, mean Polsby-Popper {:.3}; {} kept, {} new, {} retired; {} stored in {} in {:.2?} (plan {:.2?}){}",
        r.communities.len(),
        r.grids,
        r.by_kind[0],
        r.by_kind[1],
        r.by_kind[2],
        r.lower_bound,
        r.households,
        r.within_bounds,
        r.by_kind[0],
        r.mean_compactness,
        r.kept,
        r.new,
        r.retired,
        run.stored,
        store,
        run.total_time,
        run.plan_time,
        json.map(|p| format!("; report in {}", p.display()))
            .unwrap_or_default()
    );
    Ok(())
}

/// A distance in km given by `flag`, in metres.
///
/// # Errors
/// When it is not a number ≥ 0.
fn km_to_m(km: f64, flag: &str) -> anyhow::Result<f64> {
    anyhow::ensure!(
        km.is_finite() && km >= 0.0,
        "{flag} must be a distance ≥ 0 (km), not {km}"
    );
    Ok(km * 1000.0)
}

/// Reads every file (all or nothing), then writes them with `extra` batches
/// in one transaction; prints one summary line.
pub async fn import_files(
    store_spec: &str,
    paths: &[PathBuf],
    opts: &ImportOptions,
    extra: Vec<ImportBatch>,
) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    let started = Instant::now();
    let files = {
        let (paths, opts) = (paths.to_vec(), opts.clone());
        tokio::task::spawn_blocking(move || {
            paths
                .iter()
                .map(|p| import::read_file(p, &opts))
                .collect::<Result<Vec<ImportedFile>, _>>()
        })
        .await
        .context("import worker failed")??
    };
    let (mut repairs, mut skipped) = (0, 0);
    for f in &files {
        for n in &f.notes {
            tracing::info!("{}: {}", n.at, n.what);
        }
        repairs += f.notes.len();
        skipped += f.skipped;
    }
    let sources = files.len() + extra.len();
    let store = store::open(store_spec).await?;
    let batches = import::place(store.as_ref(), files, extra, opts.max_outside_m).await?;
    let outcome = store
        .import_with(&batches, &store::Actor::cli(), opts.replace_empty)
        .await?;
    println!(
        "imported {sources} source(s) into {} in {:.2?}: {} ({} features of earlier imports of the same source(s) removed; {repairs} repairs/tidyings, {skipped} features skipped)",
        store.location(),
        started.elapsed(),
        outcome.written,
        outcome.replaced,
    );
    Ok(store)
}

/// Serves the HTTP API until Ctrl-C or SIGTERM.
///
/// One thread per core, each with its own single-threaded runtime and its
/// own listening socket on the same address (`SO_REUSEPORT`: the kernel
/// spreads connections over them): a request is read, answered and
/// written on one thread, with no hand-over between threads. The shared
/// state is the same for all.
pub async fn serve(
    store: std::sync::Arc<dyn Store>,
    listen: SocketAddr,
    config: ServeConfig,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let state = AppState::load_with(store, config).await?;
    let replicated = match state.store.changes().await? {
        Some(changes) => {
            tokio::spawn(crate::replica::follow(state.clone(), changes));
            "; follows other processes' writes"
        }
        None => "",
    };
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let first =
        reuse_port_listener(listen).with_context(|| format!("cannot listen on {listen}"))?;
    let addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..threads {
        listeners
            .push(reuse_port_listener(addr).with_context(|| format!("cannot listen on {addr}"))?);
    }
    println!(
        "civgrid serving {} ({}) at http://{addr}/ (loaded in {:.2?}; {threads} threads{replicated}; Ctrl-C stops)",
        state.store.location(),
        state.engine().counts,
        started.elapsed()
    );
    let (stop, _) = tokio::sync::watch::channel(false);
    let workers: Vec<std::thread::JoinHandle<std::io::Result<()>>> = listeners
        .into_iter()
        .enumerate()
        .map(|(i, listener)| {
            let app = crate::app(state.clone());
            let mut stopped = stop.subscribe();
            std::thread::Builder::new()
                .name(format!("civgrid-http-{i}"))
                .spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    runtime.block_on(async move {
                        let listener = tokio::net::TcpListener::from_std(listener)?;
                        axum::serve(listener, app)
                            .with_graceful_shutdown(async move {
                                let _ = stopped.changed().await;
                            })
                            .await
                    })
                })
        })
        .collect::<std::io::Result<_>>()?;
    shutdown_signal().await;
    let _ = stop.send(true);
    tokio::task::spawn_blocking(move || {
        for w in workers {
            w.join()
                .map_err(|_| anyhow::anyhow!("an HTTP thread panicked"))??;
        }
        Ok::<_, anyhow::Error>(())
    })
    .await??;
    println!("civgrid stopped");
    Ok(())
}

/// A listening socket on `addr` that other sockets may share (`SO_REUSEPORT`).
fn reuse_port_listener(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    #[cfg(unix)]
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    socket.listen(1024)?.into_std()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// `civgrid token`: prints a new token and its access-file entry.
fn make_token(name: &str, role: Role) -> anyhow::Result<()> {
    use std::io::Read;
    anyhow::ensure!(!name.trim().is_empty(), "--name must not be empty");
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom")?;
    let token = auth::hex(&bytes);
    println!("{token}");
    println!(
        "\n# add to the access file:\n[[token]]\nname = {name:?}\nrole = {:?}\nsha256 = {:?}",
        role.name(),
        auth::token_digest(&token)
    );
    eprintln!(
        "token: made a {} token named {name:?}; it is shown once (only its digest goes in the file)",
        role.name()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use civgrid::FacilityKind;

    use super::grid_config;

    #[test]
    fn grid_settings_file_of_the_docs_parses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("grids.toml");
        let text = r#"
urban = { min = 0, max = 300 }
rural = { min = 80, max = 120 }
special_kinds = ["school", "hospital"]
profile = "fifteen"

[communities."330106001001"]
min = 50
max = 150
"#;
        std::fs::write(&path, text).expect("write");
        let c = grid_config(Some(&path)).expect("the docs' example parses");
        assert_eq!(c.rural.min, 80);
        assert_eq!(
            c.special_kinds,
            [FacilityKind::School, FacilityKind::Hospital]
        );
        let code = "330106001001".parse().expect("code");
        assert_eq!(c.communities[&code].max, 150);
        std::fs::write(&path, "urban = { min = 400, max = 300 }").expect("write");
        let e = grid_config(Some(&path)).expect_err("min over max");
        assert!(format!("{e:#}").contains("urban bounds 400-300"), "{e:#}");
    }
}

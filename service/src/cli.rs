//! The `civgrid` command line. Every command takes `--store`: a path ending
//! in `.gpkg` (the embedded GeoPackage, default `civgrid.gpkg`) or a
//! `postgres://` URL (PostGIS).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use civgrid::HouseholdEstimate;
use clap::{Parser, Subcommand};

use crate::import::{self, ImportOptions, ImportedFile, Mapping};
use crate::store::{self, DEFAULT_STORE, ImportBatch, Store};
use crate::{AppState, demo};

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
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import vector files (any GDAL format: GeoJSON, GeoPackage, Shapefile, OSM PBF…) in one transaction.
    Import(ImportArgs),
    /// Serve the HTTP API over an existing store.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = DEFAULT_LISTEN)]
        listen: SocketAddr,
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
}

/// Runs the CLI; errors are printed with their causes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
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
            };
            import_files(&cli.store, &args.paths, &opts, Vec::new()).await?;
            Ok(())
        }
        Command::Serve { listen } => {
            let store = store::open(&cli.store).await?;
            serve(store, listen).await
        }
        Command::Demo {
            listen,
            no_serve,
            data,
        } => {
            let store = demo::prepare(&cli.store, &data).await?;
            if no_serve {
                Ok(())
            } else {
                serve(store, listen).await
            }
        }
    }
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
    let mut batches: Vec<ImportBatch> = files.into_iter().map(|f| f.batch).collect();
    let sources = batches.len() + extra.len();
    batches.extend(extra);
    let store = store::open(store_spec).await?;
    let outcome = store.import(&batches).await?;
    println!(
        "imported {sources} source(s) into {} in {:.2?}: {} ({} replaced from earlier imports; {repairs} repairs/tidyings, {skipped} features skipped)",
        store.location(),
        started.elapsed(),
        outcome.written,
        outcome.replaced,
    );
    Ok(store)
}

/// Serves the HTTP API until Ctrl-C or SIGTERM.
pub async fn serve(store: std::sync::Arc<dyn Store>, listen: SocketAddr) -> anyhow::Result<()> {
    let started = Instant::now();
    let state = AppState::load(store).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    println!(
        "civgrid serving {} ({}) at http://{addr}/ (loaded in {:.2?}; Ctrl-C stops)",
        state.store.location(),
        state.engine().counts,
        started.elapsed()
    );
    axum::serve(listener, crate::app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    println!("civgrid stopped");
    Ok(())
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

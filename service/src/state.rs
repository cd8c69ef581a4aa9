//! Shared state of the HTTP service: the engine's in-memory indexes, built
//! from the store at start and kept current on every write.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use civgrid::cells::{Adjacency, Cell, CellCode};
use civgrid::components::ComponentIndex;
use civgrid::grids::{Grid, GridConfig};
use civgrid::{LayerCounts, Locator, RiskConfig, Territory};

use crate::assign::AssignData;
use crate::auth::{Access, WriterToken};
use crate::components::ComponentGrids;
use crate::grids::GridState;
use crate::metrics::Metrics;
use crate::ogc::{self, Collection};
use crate::responders::{ResponderError, Responders, DEFAULT_MAX_OUTSIDE_M};
use crate::risk::RiskState;
use crate::store::{Store, StoreError};
use crate::tiles::{Styles, Tiles, DEFAULT_CACHE_BYTES};
use crate::zones::ZoneState;

/// In-memory indexes over the stored territory.
#[derive(Debug)]
pub struct Engine {
    /// Point → administrative areas.
    pub locator: Locator,
    /// Feature counts.
    pub counts: LayerCounts,
    /// The active unit cells, by code.
    pub cells: Vec<Cell>,
    /// Pairs of active cells sharing an edge.
    pub adjacency: Vec<Adjacency>,
    /// The OGC API Features collections.
    pub collections: Collections,
    /// Facility and hazard indexes, road graphs and coverage targets.
    pub responders: Responders,
    /// Household grids and what their edits need.
    pub grids: GridState,
    /// Each cell's risk score and level.
    pub risk: RiskState,
    /// Incidents with the cell and grid holding them, for hot spots.
    pub incidents: Vec<PlacedIncident>,
    /// Components (部件), tied to the active cells.
    pub components: ComponentIndex,
    /// The household grid of each component.
    pub component_grids: ComponentGrids,
    /// Overlay zones and their validation reports.
    pub zones: ZoneState,
}

/// An incident with the active cell and grid holding it (found when the
/// engine is built; the grid again when an edit changes the grids there).
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedIncident {
    /// Its kind or class code.
    pub kind: String,
    /// When, seconds since the Unix epoch.
    pub time_unix_s: i64,
    /// The active unit cell holding it.
    pub cell: Option<CellCode>,
    /// The active household grid holding it.
    pub grid: Option<CellCode>,
    /// Where it happened: its grid is found again when grids change there.
    pub location: geo_types::Point<f64>,
}

/// The layers served as OGC API Features collections.
#[derive(Debug)]
pub struct Collections {
    /// Unit cells (active ones).
    pub cells: Collection,
    /// Facilities.
    pub facilities: Collection,
    /// Hazards.
    pub hazards: Collection,
    /// Household grids (active ones).
    pub grids: Collection,
    /// Components (部件).
    pub components: Collection,
    /// Overlay zones.
    pub zones: Collection,
}

impl Collections {
    /// Every collection, in the order listed by `/ogc/collections`.
    pub fn all(&self) -> [&Collection; 6] {
        [
            &self.cells,
            &self.grids,
            &self.facilities,
            &self.hazards,
            &self.components,
            &self.zones,
        ]
    }

    /// The collection with this id.
    pub fn get(&self, id: &str) -> Option<&Collection> {
        self.all().into_iter().find(|c| c.id == id)
    }
}

impl Engine {
    /// Builds the indexes of a territory, its cells and its grids (active
    /// and retired: only the active cells are kept). Builds road graphs:
    /// seconds for a city, so call it from a blocking task.
    ///
    /// # Errors
    /// [`ResponderError`] for a facility, hazard or road that cannot be indexed.
    pub fn new(
        territory: &Territory,
        mut cells: Vec<Cell>,
        adjacency: Vec<Adjacency>,
        grids: Vec<Grid>,
        grid_config: GridConfig,
        risk_config: RiskConfig,
    ) -> Result<Self, ResponderError> {
        cells.retain(|c| c.end.is_none());
        cells.sort_by_key(|c| c.code);
        let locator = Locator::new(territory).with_cells(&cells);
        let responders = Responders::new(territory, &cells, &locator)?;
        let grids = GridState::new(territory, &locator, grids, grid_config);
        let risk = RiskState::new(risk_config, &responders, &cells)?;
        let incidents = territory
            .incidents
            .iter()
            .map(|i| PlacedIncident {
                kind: i.kind.clone(),
                time_unix_s: i.time_unix_s,
                cell: locator.locate(i.location).cell.map(|c| c.code),
                grid: grids.index.locate(i.location).map(|g| g.code),
                location: i.location,
            })
            .collect();
        let (components, moved) = ComponentIndex::new(territory.components.clone(), &locator);
        if moved > 0 {
            tracing::warn!(
                moved,
                "components whose stored cell is not the active cell holding them (run `civgrid cells` again to store the new ones)"
            );
        }
        let zones = ZoneState::new(territory);
        let component_grids = ComponentGrids::new(&components, &grids.index);
        Ok(Self {
            component_grids,
            incidents,
            locator,
            counts: territory.counts(),
            collections: Collections {
                cells: ogc::cells(&cells),
                facilities: ogc::facilities(&territory.facilities),
                hazards: ogc::hazards(&territory.hazards),
                grids: ogc::grids(grids.index.grids()),
                components: ogc::components(components.iter()),
                zones: ogc::zones(&zones.features),
            },
            components,
            zones,
            grids,
            cells,
            adjacency,
            responders,
            risk,
        })
    }
}

/// Why the state could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The responders could not be built.
    #[error(transparent)]
    Responders(#[from] ResponderError),
}

/// Settings of `civgrid serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// An admin token (`--writer-token`), named `writer`.
    pub writer_token: Option<WriterToken>,
    /// Tokens with roles, and whether reads need one (`--access FILE`).
    /// Without any token every write is refused.
    pub access: Access,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Largest file imported over HTTP, bytes.
    pub max_import_bytes: usize,
    /// How far a file imported over HTTP may unpack, and how many features
    /// it may bring (413 beyond).
    pub import_limits: crate::import::ImportLimits,
    /// Longest time a read (GET) may take.
    pub timeout: std::time::Duration,
    /// Largest distance of a query point or a written feature from the
    /// territory, metres (see [`crate::responders`]).
    pub max_outside_m: f64,
    /// Household bounds of grids, for validation and edits.
    pub grids: GridConfig,
    /// Weights of the risk map (applied by [`AppState::load_with`] and
    /// [`AppState::apply_risk_config`]).
    pub risk: RiskConfig,
    /// Map styles.
    pub styles: Styles,
    /// Bound of the in-memory tile cache, bytes (0: tiles are rendered
    /// for every request).
    pub tile_cache_bytes: usize,
    /// Class taxonomy and working calendar of `POST /api/v1/assign`.
    pub assign: Arc<AssignData>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            writer_token: None,
            access: Access::default(),
            max_body_bytes: crate::routes::DEFAULT_BODY_LIMIT,
            max_import_bytes: crate::routes::DEFAULT_IMPORT_LIMIT,
            import_limits: crate::import::ImportLimits::default(),
            timeout: crate::routes::DEFAULT_TIMEOUT,
            max_outside_m: DEFAULT_MAX_OUTSIDE_M,
            grids: GridConfig::default(),
            risk: RiskConfig::default(),
            styles: Styles::default(),
            tile_cache_bytes: DEFAULT_CACHE_BYTES,
            assign: Arc::new(AssignData::example()),
        }
    }
}

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    engine: Arc<RwLock<Engine>>,
    /// The store (source of truth).
    pub store: Arc<dyn Store>,
    /// Settings.
    pub config: Arc<ServeConfig>,
    /// Held by a write from its store transaction to its engine update, so
    /// that writes reach the engine in the order they were stored.
    pub writes: Arc<tokio::sync::Mutex<()>>,
    /// Tile renderers and cache.
    pub tiles: Arc<Tiles>,
    /// Request counts and latencies.
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// Loads the territory from `store` and builds the engine (default settings).
    pub async fn load(store: Arc<dyn Store>) -> Result<Self, LoadError> {
        Self::load_with(store, ServeConfig::default()).await
    }

    /// Loads the territory from `store` and builds the engine with `config`.
    pub async fn load_with(store: Arc<dyn Store>, config: ServeConfig) -> Result<Self, LoadError> {
        let cache_bytes = config.tile_cache_bytes;
        let (engine, tiles) = build(&store, &config, move |engine, territory| {
            let tiles = Tiles::new(&engine.cells, territory, cache_bytes);
            (engine, tiles)
        })
        .await?;
        Ok(Self {
            tiles: Arc::new(tiles),
            engine: Arc::new(RwLock::new(engine)),
            store,
            config: Arc::new(config),
            writes: Arc::new(tokio::sync::Mutex::new(())),
            metrics: Arc::new(Metrics::default()),
        })
    }

    /// Loads everything again from the store (another process changed it
    /// wholesale: an import, new cells, a new plan) and swaps it in, tiles
    /// included. Requests go on being answered from the old state until
    /// the new one is built.
    ///
    /// # Errors
    /// [`LoadError`] when the store cannot be read or the engine built;
    /// the old state stays.
    pub async fn reload(&self) -> Result<(), LoadError> {
        let (lock, tiles) = (self.engine.clone(), self.tiles.clone());
        build(&self.store, &self.config, move |engine, territory| {
            // Indexed before the lock, so reads wait only for the swap; the
            // old engine is dropped after it.
            let prepared = Tiles::prepare(&engine.cells, territory);
            let old = {
                let mut current = lock
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                tiles.install(prepared);
                std::mem::replace(&mut *current, engine)
            };
            drop(old);
        })
        .await
    }

    /// The same state with other settings (the grid bounds of the state's
    /// load stay: use [`AppState::load_with`] to change them; the risk
    /// weights follow with [`AppState::apply_risk_config`]); the tile cache
    /// is emptied and takes the new bound.
    #[must_use]
    pub fn with_config(mut self, config: ServeConfig) -> Self {
        self.tiles.cache.clear();
        self.tiles.cache.set_capacity(config.tile_cache_bytes);
        self.config = Arc::new(config);
        self
    }

    /// Recomputes the risk map with the configured weights when they
    /// differ from the ones in use, and drops every cached tile.
    ///
    /// # Errors
    /// [`ResponderError`] when a travel-time search fails.
    pub fn apply_risk_config(&self) -> Result<(), ResponderError> {
        let mut engine = self.engine_mut();
        if engine.risk.config != self.config.risk {
            engine.risk =
                RiskState::new(self.config.risk.clone(), &engine.responders, &engine.cells)?;
        }
        self.tiles.cache.clear();
        Ok(())
    }

    /// The engine, for reading. A panic in an earlier writer does not lock
    /// readers out: writers replace whole parts, so the state stays whole.
    pub fn engine(&self) -> RwLockReadGuard<'_, Engine> {
        self.engine
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The engine, for updating after a stored write.
    pub fn engine_mut(&self) -> RwLockWriteGuard<'_, Engine> {
        self.engine
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Reads the store, builds the engine with `config` (on a blocking
/// thread: road graphs take seconds for a city) and hands it, with the
/// territory it was built from, to `finish` there.
async fn build<T: Send + 'static>(
    store: &Arc<dyn Store>,
    config: &ServeConfig,
    finish: impl FnOnce(Engine, &Territory) -> T + Send + 'static,
) -> Result<T, LoadError> {
    let territory = store.load().await?;
    let (cells, adjacency) = store.load_cells().await?;
    let grids = store.load_grids().await?;
    let (grid_config, risk_config) = (config.grids.clone(), config.risk.clone());
    tokio::task::spawn_blocking(move || {
        let engine = Engine::new(
            &territory,
            cells,
            adjacency,
            grids,
            grid_config,
            risk_config,
        )?;
        Ok(finish(engine, &territory))
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

//! Shared state of the HTTP service: the engine's in-memory indexes, built
//! from the store at start and kept current on every write.
//!
//! # Snapshots
//!
//! Readers never wait for writers. The engine is an immutable snapshot
//! behind an [`ArcSwap`]: a handler takes the current one
//! ([`AppState::engine`], a pointer load) and reads it for as long as it
//! likes. A write, once stored, builds the next snapshot
//! ([`AppState::update`]): a copy of the current one that shares every
//! part it does not change (each part sits behind an [`Arc`] and is copied
//! on its first change, [`Arc::make_mut`]), changes its copy and publishes
//! it with one atomic store. A reader sees the state before or after a
//! write, never half of it. `arc-swap` over a left-right map: one copy of
//! the state and no reader bookkeeping, where a left-right map holds two
//! copies of a province (GiB each) and makes every write twice.
//!
//! Writers are serialised ([`AppState::update`] takes a mutex of its own,
//! besides [`AppState::writes`], which orders store transactions).

use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;

use civgrid::grids::GridConfig;
use civgrid::{RiskConfig, Territory};

use crate::assign::AssignData;
use crate::auth::{Access, WriterToken};
pub use crate::live::{Collections, Engine, PlacedIncident, Touched, Update};
use crate::metrics::Metrics;
use crate::progress::Stages;
use crate::responders::{ResponderError, DEFAULT_MAX_OUTSIDE_M};
use crate::risk::RiskState;
use crate::store::{Store, StoreError};
use crate::tiles::{Styles, Tiles, DEFAULT_CACHE_BYTES};

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
    engine: Arc<ArcSwap<Engine>>,
    /// Held while the next snapshot is built and published.
    publishing: Arc<Mutex<()>>,
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
        let state = Self {
            tiles: Arc::new(tiles),
            engine: Arc::new(ArcSwap::from_pointee(engine)),
            publishing: Arc::new(Mutex::new(())),
            store,
            config: Arc::new(config),
            writes: Arc::new(tokio::sync::Mutex::new(())),
            metrics: Arc::new(Metrics::default()),
        };
        state.tiles.warm(state.engine());
        Ok(state)
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
        let state = self.clone();
        build(&self.store, &self.config, move |engine, territory| {
            // Indexed before publishing, so reads go on meanwhile.
            let prepared = Tiles::prepare(&engine.cells, territory);
            let _publishing = state.publishing();
            let old = state.engine.swap(Arc::new(engine));
            // Clears the cache after the swap (see crate::tiles).
            state.tiles.install(prepared);
            drop(old);
            state.tiles.warm(state.engine());
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
        self.update(|engine, _| {
            if engine.risk.config != self.config.risk {
                engine.risk = Arc::new(RiskState::new(
                    self.config.risk.clone(),
                    &engine.responders,
                    &engine.cells,
                )?);
            }
            Ok::<_, ResponderError>(())
        })?;
        self.tiles.cache.clear();
        Ok(())
    }

    /// The current snapshot of the engine: it stays whole however long it
    /// is held, and writes never wait for it (module docs).
    pub fn engine(&self) -> Arc<Engine> {
        self.engine.load_full()
    }

    /// Applies a stored write to the next snapshot ([`crate::live::apply`])
    /// and publishes it (see [`AppState::update`]): the one way writes,
    /// of this process or followed from another, reach the engine.
    ///
    /// # Errors
    /// [`ResponderError`] when the change cannot be indexed; nothing is
    /// published.
    pub fn apply(&self, update: Update) -> Result<(), ResponderError> {
        self.update(|engine, touched| crate::live::apply(engine, update, touched))
    }

    /// Builds the next snapshot with `change` (given a copy of the current
    /// one that shares every part, and the [`Touched`] to fill) and, when
    /// it succeeds, publishes it and drops the cached tiles over what it
    /// touched. When `change` fails nothing is published: readers go on
    /// with the current snapshot.
    fn update<T, E>(
        &self,
        change: impl FnOnce(&mut Engine, &mut Touched) -> Result<T, E>,
    ) -> Result<T, E> {
        let _publishing = self.publishing();
        let mut next = Engine::clone(&self.engine.load());
        let mut touched = Touched::default();
        let out = change(&mut next, &mut touched)?;
        let risk_changed = !Arc::ptr_eq(&next.risk, &self.engine.load().risk);
        let old = self.engine.swap(Arc::new(next));
        // After the swap: a tile rendered from the old snapshot is either
        // cached before this and dropped by it, or not cached at all (see
        // crate::tiles).
        let areas: Vec<_> = touched
            .areas
            .into_iter()
            .map(crate::tiles::bounds)
            .collect();
        self.tiles.cache.invalidate(&areas);
        if risk_changed {
            // An area's counts change wherever its polygon reaches, beyond
            // what the write touched.
            self.tiles.cache.invalidate_layer(crate::tiles::AREAS_LAYER);
        }
        drop(old);
        Ok(out)
    }

    fn publishing(&self) -> std::sync::MutexGuard<'_, ()> {
        self.publishing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Reads the store, builds the engine with `config` (on a blocking
/// thread: road graphs take seconds for a city) and hands it, with the
/// territory it was built from, to `finish` there.
async fn build<T: Send + 'static>(
    store: &Arc<dyn Store>,
    config: &ServeConfig,
    finish: impl FnOnce(Engine, Territory) -> T + Send + 'static,
) -> Result<T, LoadError> {
    let stages = Stages::new();
    // Each table is read on a thread of its own: the three at once.
    let (territory, (cells, adjacency), grids) = tokio::try_join!(
        stages.run_async("territory", store.load()),
        stages.run_async("unit cells", store.load_cells()),
        stages.run_async("household grids (stored)", store.load_grids()),
    )?;
    let (grid_config, risk_config) = (config.grids.clone(), config.risk.clone());
    tokio::task::spawn_blocking(move || {
        let engine = Engine::new(
            &territory,
            cells,
            adjacency,
            grids,
            grid_config,
            risk_config,
            &stages,
        )?;
        let out = stages.run("tiles", || finish(engine, territory));
        tracing::info!("engine built in {}", stages.summary());
        Ok(out)
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

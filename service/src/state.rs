//! Shared state of the HTTP service: the engine's in-memory indexes, built
//! from the store at start and kept current on every write.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use civgrid::cells::{Adjacency, Cell};
use civgrid::{LayerCounts, Locator, Territory};

use crate::ogc::{self, Collection};
use crate::store::{Store, StoreResult};

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
}

impl Collections {
    /// Every collection, in the order listed by `/ogc/collections`.
    pub fn all(&self) -> [&Collection; 3] {
        [&self.cells, &self.facilities, &self.hazards]
    }

    /// The collection with this id.
    pub fn get(&self, id: &str) -> Option<&Collection> {
        self.all().into_iter().find(|c| c.id == id)
    }
}

impl Engine {
    /// Builds the indexes of a territory and its cells (active and
    /// retired: only the active ones are kept).
    #[must_use]
    pub fn new(territory: &Territory, mut cells: Vec<Cell>, adjacency: Vec<Adjacency>) -> Self {
        cells.retain(|c| c.end.is_none());
        cells.sort_by_key(|c| c.code);
        Self {
            locator: Locator::new(territory).with_cells(&cells),
            counts: territory.counts(),
            collections: Collections {
                cells: ogc::cells(&cells),
                facilities: ogc::facilities(&territory.facilities),
                hazards: ogc::hazards(&territory.hazards),
            },
            cells,
            adjacency,
        }
    }
}

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    engine: Arc<RwLock<Engine>>,
    /// The store (source of truth).
    pub store: Arc<dyn Store>,
}

impl AppState {
    /// Loads the territory from `store` and builds the engine.
    pub async fn load(store: Arc<dyn Store>) -> StoreResult<Self> {
        let territory = store.load().await?;
        let (cells, adjacency) = store.load_cells().await?;
        let engine = tokio::task::spawn_blocking(move || Engine::new(&territory, cells, adjacency))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        Ok(Self {
            engine: Arc::new(RwLock::new(engine)),
            store,
        })
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

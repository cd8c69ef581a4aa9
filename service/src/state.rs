//! Shared state of the HTTP service: the engine's in-memory indexes, built
//! from the store at start.

use std::sync::Arc;

use civgrid::{LayerCounts, Locator, Territory};

use crate::store::{Store, StoreResult};

/// In-memory indexes over the stored territory.
#[derive(Debug)]
pub struct Engine {
    /// Point → administrative areas.
    pub locator: Locator,
    /// Feature counts at load time.
    pub counts: LayerCounts,
}

impl Engine {
    /// Builds the indexes of a territory.
    #[must_use]
    pub fn new(territory: &Territory) -> Self {
        Self {
            locator: Locator::new(territory),
            counts: territory.counts(),
        }
    }
}

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// The store (source of truth), for its location and later writes.
    pub store: Arc<dyn Store>,
}

impl AppState {
    /// Loads the territory from `store` and builds the engine.
    pub async fn load(store: Arc<dyn Store>) -> StoreResult<Self> {
        let territory = store.load().await?;
        Ok(Self {
            engine: Arc::new(Engine::new(&territory)),
            store,
        })
    }
}

//! Stores: the source of truth. One [`Store`] trait, two implementations:
//! an embedded GeoPackage file (the default) and PostGIS (production).
//!
//! Both keep the same layers (see [`schema`]) in EPSG:4490 and apply versioned
//! migrations on open. An import is one transaction: administrative areas are
//! upserted by code; every other feature is keyed by the file (`source`) that
//! brought it, so importing a file again replaces what it brought before.

mod gpkg;
mod postgis;
pub mod schema;

use std::sync::Arc;

use async_trait::async_trait;
use civgrid::{LayerCounts, Territory};

pub use gpkg::GpkgStore;
pub use postgis::PostgisStore;

/// Default embedded store file.
pub const DEFAULT_STORE: &str = "civgrid.gpkg";

/// What went wrong in a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The `--store` value is neither a `.gpkg` path nor a `postgres://` URL.
    #[error("unknown store {0:?}: give a path ending in .gpkg or a postgres:// URL")]
    UnknownKind(String),
    /// The database could not be reached or refused a statement.
    #[error("{store}: database error")]
    Database {
        /// Which store.
        store: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A schema migration failed.
    #[error("{store}: schema migration failed: {source}")]
    Migration {
        /// Which store.
        store: String,
        /// The migrator's error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A geometry could not be encoded or decoded.
    #[error("{table} {id}: geometry: {reason}")]
    Geometry {
        /// Table.
        table: &'static str,
        /// Row id (0 when not yet stored).
        id: i64,
        /// What the codec said.
        reason: String,
    },
    /// A stored value does not fit the model.
    #[error("{table} {id}: column {column}: {reason}")]
    Corrupt {
        /// Table.
        table: &'static str,
        /// Row id.
        id: i64,
        /// Column.
        column: String,
        /// What is wrong.
        reason: String,
    },
}

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// A batch of features from one source file, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    /// The source name (the file's name): importing the same source again
    /// replaces the non-administrative features it brought before.
    pub source: String,
    /// The features.
    pub territory: Territory,
}

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Features written per layer.
    pub written: LayerCounts,
    /// Features of an earlier import of the same source that were replaced.
    pub replaced: usize,
}

/// A store of the territory model.
#[async_trait]
pub trait Store: Send + Sync {
    /// Where the store is, for messages (a path, or a URL without password).
    fn location(&self) -> &str;

    /// Writes every batch in one transaction: all of them or nothing.
    async fn import(&self, batches: &[ImportBatch]) -> StoreResult<ImportOutcome>;

    /// Reads the whole territory (features carry their store ids).
    async fn load(&self) -> StoreResult<Territory>;

    /// Feature counts per layer.
    async fn counts(&self) -> StoreResult<LayerCounts>;
}

/// Opens (creating and migrating if needed) the store named by `spec`: a path
/// ending in `.gpkg`, or a `postgres://` / `postgresql://` URL.
pub async fn open(spec: &str) -> StoreResult<Arc<dyn Store>> {
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        Ok(Arc::new(PostgisStore::open(spec).await?))
    } else if std::path::Path::new(spec)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gpkg"))
    {
        Ok(Arc::new(GpkgStore::open(spec.as_ref()).await?))
    } else {
        Err(StoreError::UnknownKind(spec.to_owned()))
    }
}

/// Adds `n` features to the count of `layer`.
fn add_count(counts: &mut LayerCounts, layer: schema::Layer, n: usize) {
    use schema::Layer;
    let slot = match layer {
        Layer::Districts => &mut counts.districts,
        Layer::Subdistricts => &mut counts.subdistricts,
        Layer::Communities => &mut counts.communities,
        Layer::Buildings => &mut counts.buildings,
        Layer::Facilities => &mut counts.facilities,
        Layer::Hazards => &mut counts.hazards,
        Layer::Roads => &mut counts.roads,
        Layer::Incidents => &mut counts.incidents,
    };
    *slot += n;
}

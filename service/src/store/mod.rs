//! Stores: the source of truth. One [`Store`] trait, two implementations:
//! an embedded GeoPackage file (the default) and PostGIS (production).
//!
//! Both keep the same layers (see [`schema`]) in EPSG:4490 and apply versioned
//! migrations on open. An import is one transaction: administrative areas are
//! upserted by code; every other feature is keyed by the file (`source`) that
//! brought it, so importing a file again replaces what it brought before.

mod cell_rows;
mod gpkg;
mod postgis;
pub mod schema;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use civgrid::cells::{Adjacency, Cell};
use civgrid::components::Component;
use civgrid::grids::Grid;
use civgrid::{Facility, Hazard, LayerCounts, Territory};
use futures_util::{StreamExt, TryStreamExt};

pub use cell_rows::{CellRows, NewCells};
pub use gpkg::GpkgStore;
pub use postgis::PostgisStore;
pub use schema::{Actor, AuditRecord, GridEditRecord, Layer};
use schema::{Table, Value};

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
    /// A GeoPackage table could not be read through (a scan, see
    /// `GpkgStore`'s `select_each`).
    #[error("{store}: reading {table}")]
    Scan {
        /// Which store.
        store: String,
        /// Which table.
        table: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// SQLite refused a statement of a write to a GeoPackage (see
    /// `GpkgStore`'s `run_plan`); the write was rolled back.
    #[error("{store}: writing: nothing was written")]
    Write {
        /// Which store.
        store: String,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was found unreachable a moment ago: the call is
    /// refused at once rather than waiting again (see `PostgisStore`).
    #[error(
        "{store}: the database could not be reached a moment ago; trying again in {retry_in_ms} ms"
    )]
    Unavailable {
        /// Which store.
        store: String,
        /// When a call will try the database again.
        retry_in_ms: u64,
    },
    /// The disk under the store is full; the write was rolled back.
    #[error("{store}: the disk is full: free space and run again; nothing was written (every write is one transaction)")]
    Full {
        /// Which store.
        store: String,
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
    /// This kind of store is not backed up by `civgrid backup`.
    #[error("{store}: {how}")]
    NoBackup {
        /// Which store.
        store: String,
        /// How to back it up instead.
        how: &'static str,
    },
    /// The backup file could not be made or moved into place.
    #[error("{out}: the backup could not be written: {source}")]
    BackupFile {
        /// The file asked for.
        out: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
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
    /// An import of a source with no features would remove the features
    /// its earlier import brought; refused, nothing written.
    #[error("{file}: the file has no features to replace the {removed} features the earlier import of {file} brought: importing it would only remove them. Nothing was written; to remove them, import it again with --replace-empty (over HTTP: replace_empty=true)")]
    EmptyImport {
        /// The source: the file's name (a field named `source` would be
        /// taken for the error's cause).
        file: String,
        /// The features it would remove.
        removed: u64,
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

impl StoreError {
    /// The error of a SQLite write on `store`: [`StoreError::Full`] when
    /// SQLite says the disk is full, else [`StoreError::Write`].
    pub(crate) fn sqlite(store: &str, source: rusqlite::Error) -> Self {
        if source.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            Self::Full {
                store: store.to_owned(),
            }
        } else {
            Self::Write {
                store: store.to_owned(),
                source,
            }
        }
    }

    /// The error of a database call on `store`: [`StoreError::Full`] when
    /// the database says its disk is full (SQLite's SQLITE_FULL,
    /// PostgreSQL's 53100), else [`StoreError::Database`].
    pub(crate) fn database(store: &str, source: sqlx::Error) -> Self {
        let full = source
            .as_database_error()
            .and_then(sqlx::error::DatabaseError::code)
            .is_some_and(|c| c == "13" || c == "53100");
        if full {
            Self::Full {
                store: store.to_owned(),
            }
        } else {
            Self::Database {
                store: store.to_owned(),
                source,
            }
        }
    }
}

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

/// A facility, hazard or component written one at a time (through the API).
#[derive(Debug, Clone, PartialEq)]
pub enum Feature {
    /// A facility.
    Facility(Facility),
    /// A hazard.
    Hazard(Hazard),
    /// A component.
    Component(Component),
}

impl Feature {
    /// The feature's layer.
    pub fn layer(&self) -> Layer {
        match self {
            Self::Facility(_) => Layer::Facilities,
            Self::Hazard(_) => Layer::Hazards,
            Self::Component(_) => Layer::Components,
        }
    }

    /// The feature's store id.
    pub fn id(&self) -> i64 {
        match self {
            Self::Facility(f) => f.id,
            Self::Hazard(h) => h.id,
            Self::Component(c) => c.id,
        }
    }

    fn row(&self, source: &str) -> Vec<Value> {
        match self {
            Self::Facility(f) => schema::facility_row(f, source.into()),
            Self::Hazard(h) => schema::hazard_row(h, source.into()),
            Self::Component(c) => schema::component_row(c, source.into()),
        }
    }
}

/// The `source` of features written through the API.
pub const API_SOURCE: &str = "api";

/// A store of the territory model.
#[async_trait]
pub trait Store: Send + Sync {
    /// Where the store is, for messages (a path, or a URL without password).
    fn location(&self) -> &str;

    /// Writes every batch in one transaction: all of them or nothing; the
    /// audit log names the command line's user.
    async fn import(&self, batches: &[ImportBatch]) -> StoreResult<ImportOutcome> {
        self.import_as(batches, &Actor::cli()).await
    }

    /// Writes every batch, and the audit entry naming `actor`, in one
    /// transaction: all of them or nothing. A batch with no features that
    /// would remove what an earlier import of its source brought is
    /// refused (see [`Store::import_with`]).
    async fn import_as(
        &self,
        batches: &[ImportBatch],
        actor: &Actor,
    ) -> StoreResult<ImportOutcome> {
        self.import_with(batches, actor, false).await
    }

    /// Writes every batch, and the audit entry naming `actor`, in one
    /// transaction: all of them or nothing. A batch that brings none of the
    /// features an import replaces (everything but administrative areas)
    /// while its source's earlier import brought some would only remove
    /// them: unless `replace_empty`, the whole import is then refused with
    /// [`StoreError::EmptyImport`] and nothing is written.
    async fn import_with(
        &self,
        batches: &[ImportBatch],
        actor: &Actor,
        replace_empty: bool,
    ) -> StoreResult<ImportOutcome>;

    /// Reads the whole territory (features carry their store ids).
    async fn load(&self) -> StoreResult<Territory>;

    /// Reads `layers` only, leaving out the features brought by the
    /// sources `except` (an import about to replace them).
    async fn load_layers(&self, layers: &[Layer], except: &[&str]) -> StoreResult<Territory>;

    /// Feature counts per layer.
    async fn counts(&self) -> StoreResult<LayerCounts>;

    /// Stores a new feature (its id is ignored) and `audit` (given the new
    /// id) in one transaction, and returns the id.
    async fn insert(&self, feature: &Feature, audit: &AuditRecord) -> StoreResult<i64>;

    /// Rewrites the stored feature with the same id and adds `audit`, in
    /// one transaction; `false` (and nothing written) if there is none.
    async fn update(&self, feature: &Feature, audit: &AuditRecord) -> StoreResult<bool>;

    /// Deletes feature `id` of `layer` and adds `audit`, in one
    /// transaction; `false` (and nothing written) if there is none.
    async fn delete(&self, layer: Layer, id: i64, audit: &AuditRecord) -> StoreResult<bool>;

    /// The audit log, oldest first.
    async fn load_audit(&self) -> StoreResult<Vec<AuditRecord>>;

    /// The stored facility, hazard or component `id` of `layer`, if there is one.
    async fn load_feature(&self, layer: Layer, id: i64) -> StoreResult<Option<Feature>>;

    /// The writes of other processes, as they commit: PostGIS announces
    /// them with NOTIFY; `None` for a store only one process writes (a
    /// GeoPackage file).
    async fn changes(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<Change>>>;

    /// Replaces the stored cells and adjacency, `before` (as
    /// [`Store::load_cells`] read them), by `after`, and rewrites the cell
    /// of the `retied` components (whose cell changed with the new cells;
    /// nothing else of them), in one transaction. Only the rows that
    /// changed are written: the count of rows deleted, inserted and
    /// updated is returned.
    async fn replace_cells(
        &self,
        before: CellRows<'_>,
        after: &NewCells,
        retied: &[Component],
    ) -> StoreResult<u64>;

    /// Every stored cell (active and retired, by code) and the adjacency.
    async fn load_cells(&self) -> StoreResult<(Vec<Cell>, Vec<Adjacency>)>;

    /// Replaces every grid (active and retired) and adds `log` (the plan's
    /// entry) to the edit log and to the audit log as `actor`'s, in one
    /// transaction. The log is kept: it records what planners did,
    /// whatever came after.
    async fn replace_grids(
        &self,
        grids: &[Grid],
        log: &GridEditRecord,
        actor: &Actor,
    ) -> StoreResult<()>;

    /// Every stored grid, active and retired, by code.
    async fn load_grids(&self) -> StoreResult<Vec<Grid>>;

    /// Stores a planner edit in one transaction: the rows of `grids`
    /// replace the stored rows with their codes, and `edit` joins the edit
    /// log and the audit log as `actor`'s. Returns the edit's id.
    async fn write_grid_edit(
        &self,
        grids: &[Grid],
        edit: &GridEditRecord,
        actor: &Actor,
    ) -> StoreResult<i64>;

    /// Several edits (each: the rows it writes and its log entry) by
    /// `actor` in one transaction; returns their ids in order.
    async fn write_grid_edits(
        &self,
        edits: &[(Vec<Grid>, GridEditRecord)],
        actor: &Actor,
    ) -> StoreResult<Vec<i64>>;

    /// The edit log, oldest first.
    async fn load_grid_edits(&self) -> StoreResult<Vec<GridEditRecord>>;

    /// Replaces every count of people cared for (特殊人群), in one transaction.
    async fn replace_care_counts(&self, counts: &[CareCount]) -> StoreResult<()>;

    /// Every count of people cared for, by grid then group.
    async fn load_care_counts(&self) -> StoreResult<Vec<CareCount>>;

    /// Writes a consistent copy of the whole store to `out` (replaced if it
    /// exists, atomically), while other processes may read and write it: a
    /// GeoPackage through SQLite's `VACUUM INTO` in one read transaction.
    ///
    /// # Errors
    /// [`StoreError::NoBackup`] for a PostGIS store (use `pg_dump`),
    /// [`StoreError::BackupFile`] when `out` cannot be written.
    async fn backup(&self, out: &Path) -> StoreResult<()>;
}

/// How many people of one group a household grid's worker cares for
/// (特殊人群: elderly living alone, people with disabilities…). Only the
/// count is kept: no person-level record enters the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareCount {
    /// The household grid's code.
    pub grid: civgrid::CellCode,
    /// The group (`elderly_alone`, `disabled`, …).
    pub group: String,
    /// How many people.
    pub people: u32,
}

/// A write another process committed: which features of a layer changed
/// (facilities and hazards by id, grids by code), or that any may have.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    /// The writing process (skipped by itself).
    pub origin: String,
    /// The layer's table (`facilities`, `hazards`, `grids`, `cells`, …).
    pub layer: String,
    /// Ids of changed facilities or hazards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<i64>,
    /// Codes of changed grids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    /// Anything in the layer may have changed (an import, a new plan, or
    /// notifications missed while the connection was down): reload it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
}

/// Tables whose writes other processes need not follow: logs, and care
/// counts (read from the store on every request, never held in memory).
const UNFOLLOWED: [&str; 3] = ["audit", "grid_edits", "care_counts"];

/// The changes a committed plan made, one per layer, announced by `origin`.
pub(crate) fn changes_of(plan: &[Write], done: &[Written], origin: &str) -> Vec<Change> {
    let mut by_layer: Vec<Change> = Vec::new();
    for (step, written) in plan.iter().zip(done) {
        let (table, ids, codes, all): (&Table, Vec<i64>, Vec<String>, bool) = match step {
            Write::Insert(t, rows) => {
                let code_at = t.columns.iter().position(|c| c.name == "code");
                let codes: Vec<String> = match code_at {
                    Some(k) if t.name == schema::GRIDS.name => rows
                        .iter()
                        .filter_map(|r| match &r[k] {
                            Value::Text(c) => Some(c.clone()),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                let one = (rows.len() == 1).then_some(written.id).flatten();
                let all = codes.is_empty() && one.is_none();
                (t, one.into_iter().collect(), codes, all)
            }
            Write::Update(t, id, _) | Write::Delete(t, Filter::Id(id)) => {
                (t, vec![*id], Vec::new(), false)
            }
            Write::Delete(t, Filter::Eq("code", Value::Text(code))) => {
                (t, Vec::new(), vec![code.clone()], false)
            }
            Write::Delete(t, _) | Write::InsertMade(t, _) => {
                (t, Vec::new(), Vec::new(), written.rows > 0)
            }
            Write::InsertLinked { .. } | Write::RequireRows(_) | Write::RefuseRows(_) => continue,
        };
        if UNFOLLOWED.contains(&table.name) || (ids.is_empty() && codes.is_empty() && !all) {
            continue;
        }
        let i = by_layer
            .iter()
            .position(|c| c.layer == table.name)
            .unwrap_or_else(|| {
                by_layer.push(Change {
                    origin: origin.to_owned(),
                    layer: table.name.to_owned(),
                    ..Change::default()
                });
                by_layer.len() - 1
            });
        let c = &mut by_layer[i];
        c.ids.extend(ids);
        c.codes.extend(codes);
        c.all |= all;
    }
    for c in &mut by_layer {
        if c.all {
            c.ids.clear();
            c.codes.clear();
        }
        c.codes.sort();
        c.codes.dedup();
    }
    by_layer
}

/// Which rows a [`Write::Delete`] removes.
#[derive(Debug, Clone)]
pub(crate) enum Filter {
    /// Every row.
    All,
    /// Rows whose id is this.
    Id(i64),
    /// Rows whose column has this value.
    Eq(&'static str, Value),
    /// Rows whose columns hold one of these keys (each key a value per
    /// column, in order): a cell's code, a pair of codes.
    In(&'static [&'static str], Vec<Vec<Value>>),
}

/// Layers [`Store::load_layers`] reads at once.
const LAYERS_AT_ONCE: usize = 3;

/// Keys per [`Filter::In`] step: a few thousand parameters, well under both
/// databases' limits.
pub(crate) const KEYS_PER_DELETE: usize = 1024;

impl Filter {
    /// The `WHERE` clause (`id` names the id column; `param(i)` writes the
    /// i-th, 1-based, placeholder: `$1` or `?`) and the values to bind.
    fn clause(&self, id: &str, param: impl Fn(usize) -> String) -> (String, Vec<Value>) {
        match self {
            Self::All => (String::new(), Vec::new()),
            Self::Id(i) => (format!(" WHERE {id} = {}", param(1)), vec![Value::Int(*i)]),
            Self::Eq(column, v) => (format!(" WHERE {column} = {}", param(1)), vec![v.clone()]),
            Self::In(columns, keys) => {
                let n = columns.len();
                let tuples: Vec<String> = (0..keys.len())
                    .map(|k| {
                        let params: Vec<String> = (1..=n).map(|i| param(k * n + i)).collect();
                        format!("({})", params.join(", "))
                    })
                    .collect();
                (
                    format!(
                        " WHERE ({}) IN (VALUES {})",
                        columns.join(", "),
                        tuples.join(", ")
                    ),
                    keys.iter().flatten().cloned().collect(),
                )
            }
        }
    }

    /// `DELETE` from `table` of the matching rows, and the values to bind.
    pub(crate) fn delete_sql(
        &self,
        table: &Table,
        id: &str,
        param: impl Fn(usize) -> String,
    ) -> (String, Vec<Value>) {
        let (clause, values) = self.clause(id, param);
        (format!("DELETE FROM {}{clause}", table.name), values)
    }
}

/// Rows of a [`Write::InsertMade`]: row `i` is `row(i)`, for `i < len`.
#[derive(Clone)]
pub(crate) struct MadeRows {
    /// How many rows.
    pub len: usize,
    /// Makes row `i`.
    pub row: Arc<dyn Fn(usize) -> Vec<Value> + Send + Sync>,
}

impl std::fmt::Debug for MadeRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MadeRows({} rows)", self.len)
    }
}

impl MadeRows {
    /// The rows, made in order.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = Vec<Value>> + '_ {
        (0..self.len).map(|i| (self.row)(i))
    }
}

/// One step of a write, run with the others in one transaction.
#[derive(Debug, Clone)]
pub(crate) enum Write {
    /// Delete the rows that match.
    Delete(&'static Table, Filter),
    /// Insert rows (upserting on the table's key); one row returns its id.
    Insert(&'static Table, Vec<Vec<Value>>),
    /// Insert rows made one at a time as the step runs (a partition's
    /// millions of rows are never all held as values at once).
    InsertMade(&'static Table, MadeRows),
    /// Rewrite row `id` (every column but `source`).
    Update(&'static Table, i64, Vec<Value>),
    /// Insert one row whose column `column` takes the id that step `step`
    /// of the same plan returned (an audit entry of a new feature).
    InsertLinked {
        /// The table.
        table: &'static Table,
        /// The row; its value at `column` is replaced.
        row: Vec<Value>,
        /// Which column takes the id.
        column: usize,
        /// Which earlier step's id.
        step: usize,
    },
    /// Stop the plan, writing nothing, when step `step` touched no row (an
    /// update or a delete of a feature that is not there).
    RequireRows(usize),
    /// Stop the plan, writing nothing, when any of these steps touched a
    /// row (an import of a file with nothing in it that would remove what
    /// an earlier import of the same source brought).
    RefuseRows(Vec<usize>),
}

impl Write {
    /// This step with what it needs from earlier steps (`done`) filled in:
    /// an [`Write::InsertLinked`] becomes an insert; `None` for a
    /// [`Write::RequireRows`] or [`Write::RefuseRows`] that is met (nothing
    /// to run).
    ///
    /// # Errors
    /// [`PlanStopped`] when a [`Write::RequireRows`] or
    /// [`Write::RefuseRows`] is not met.
    pub(crate) fn resolve(
        &self,
        done: &[Written],
    ) -> Result<Option<std::borrow::Cow<'_, Write>>, PlanStopped> {
        use std::borrow::Cow;
        match self {
            Self::InsertLinked {
                table,
                row,
                column,
                step,
            } => {
                let mut row = row.clone();
                row[*column] = done
                    .get(*step)
                    .and_then(|w| w.id)
                    .map_or(Value::Null, Value::Int);
                Ok(Some(Cow::Owned(Self::Insert(table, vec![row]))))
            }
            Self::RequireRows(step) => match done.get(*step) {
                Some(w) if w.rows > 0 => Ok(None),
                _ => Err(PlanStopped),
            },
            Self::RefuseRows(steps) => {
                if steps
                    .iter()
                    .any(|s| done.get(*s).is_some_and(|w| w.rows > 0))
                {
                    Err(PlanStopped)
                } else {
                    Ok(None)
                }
            }
            other => Ok(Some(Cow::Borrowed(other))),
        }
    }
}

/// A plan stopped by a [`Write::RequireRows`]: its transaction is rolled
/// back, and the backend answers the steps done so far with no rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlanStopped;

/// What one [`Write`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Written {
    /// Rows deleted, inserted or updated.
    pub rows: u64,
    /// The id of a single inserted row.
    pub id: Option<i64>,
}

/// A database behind a [`Store`]: runs writes in one transaction and reads
/// tables; the store logic above it is shared by every backend.
#[async_trait]
pub(crate) trait Backend: Send + Sync {
    /// Where the database is, for messages.
    fn location(&self) -> &str;

    /// Runs `plan` in one transaction: all steps or none.
    async fn write(&self, plan: Vec<Write>) -> StoreResult<Vec<Written>>;

    /// Hands every row of `table` (or only row `only`) to `row` as (id,
    /// values in column order), by id, as it is read: a table is never
    /// held whole in rows and values besides what `row` makes of it.
    async fn select_each(
        &self,
        table: &'static Table,
        only: Option<i64>,
        row: &mut (dyn FnMut(i64, Vec<Value>) -> StoreResult<()> + Send),
    ) -> StoreResult<()>;

    /// Rows in `table`.
    async fn count(&self, table: &'static Table) -> StoreResult<u64>;

    /// Other processes' changes, for a database several processes write.
    async fn listen(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<Change>>> {
        Ok(None)
    }

    /// See [`Store::backup`].
    async fn backup(&self, out: &Path) -> StoreResult<()>;
}

#[async_trait]
impl<B: Backend> Store for B {
    fn location(&self) -> &str {
        Backend::location(self)
    }

    async fn import_with(
        &self,
        batches: &[ImportBatch],
        actor: &Actor,
        replace_empty: bool,
    ) -> StoreResult<ImportOutcome> {
        let mut plan = Vec::new();
        let mut written = LayerCounts::default();
        // Per refusal step: its batch's source and delete steps.
        let mut guards = Vec::new();
        for batch in batches {
            let mut deletes = Vec::new();
            for layer in Layer::ALL.into_iter().filter(|l| !l.keyed_by_code()) {
                deletes.push(plan.len());
                plan.push(Write::Delete(
                    layer.def(),
                    Filter::Eq("source", batch.source.as_str().into()),
                ));
            }
            let mut replacing = false;
            for (layer, rows) in schema::encode(&batch.territory, &batch.source) {
                let rows = last_per_key(layer.def(), rows);
                add_count(&mut written, layer, rows.len());
                replacing |= !layer.keyed_by_code() && !rows.is_empty();
                if !rows.is_empty() {
                    plan.push(Write::Insert(layer.def(), rows));
                }
            }
            if !replacing && !replace_empty {
                guards.push((plan.len(), batch.source.as_str(), deletes.clone()));
                plan.push(Write::RefuseRows(deletes));
            }
        }
        let sources: Vec<&str> = batches.iter().map(|b| b.source.as_str()).collect();
        let audit = AuditRecord {
            after: Some(serde_json::json!({"sources": sources, "written": written}).to_string()),
            ..AuditRecord::now(actor, "import", "*")
        };
        plan.push(Write::Insert(
            &schema::AUDIT,
            vec![schema::audit_row(&audit)],
        ));
        let done = self.write(plan.clone()).await?;
        if done.len() < plan.len() {
            // Stopped by a refusal: the rows its deletes would have removed.
            if let Some((_, source, deletes)) = guards.iter().find(|g| g.0 == done.len()) {
                return Err(StoreError::EmptyImport {
                    file: (*source).to_owned(),
                    removed: deletes.iter().map(|&i| done[i].rows).sum(),
                });
            }
        }
        let replaced = plan
            .iter()
            .zip(&done)
            .filter(|(w, _)| matches!(w, Write::Delete(..)))
            .map(|(_, d)| d.rows as usize)
            .sum();
        Ok(ImportOutcome { written, replaced })
    }

    async fn load(&self) -> StoreResult<Territory> {
        self.load_layers(&Layer::ALL, &[]).await
    }

    async fn load_layers(&self, layers: &[Layer], except: &[&str]) -> StoreResult<Territory> {
        // A few layers are read at once (each scan has a connection and a
        // thread of its own; a few, to leave the pool's other connections
        // to everything else) and put together in the order asked.
        let reads = layers.iter().map(|&layer| async move {
            let mut t = Territory::default();
            let source = layer.columns().iter().position(|c| c.name == "source");
            self.select_each(layer.def(), None, &mut |id, values| {
                let skipped = source
                    .and_then(|k| values.get(k))
                    .is_some_and(|v| matches!(v, Value::Text(s) if except.contains(&s.as_str())));
                if skipped {
                    Ok(())
                } else {
                    schema::decode(layer, id, values, &mut t)
                }
            })
            .await?;
            Ok::<_, StoreError>(t)
        });
        let reads: Vec<_> = reads.collect();
        let parts: Vec<Territory> = futures_util::stream::iter(reads)
            .buffered(LAYERS_AT_ONCE)
            .try_collect()
            .await?;
        let mut t = Territory::default();
        for part in parts {
            t.append(part);
        }
        Ok(t)
    }

    async fn counts(&self) -> StoreResult<LayerCounts> {
        let mut counts = LayerCounts::default();
        for layer in Layer::ALL {
            add_count(&mut counts, layer, self.count(layer.def()).await? as usize);
        }
        Ok(counts)
    }

    async fn insert(&self, feature: &Feature, audit: &AuditRecord) -> StoreResult<i64> {
        let table = feature.layer().def();
        let done = self
            .write(vec![
                Write::Insert(table, vec![feature.row(API_SOURCE)]),
                Write::InsertLinked {
                    table: &schema::AUDIT,
                    row: schema::audit_row(audit),
                    column: schema::AUDIT_FEATURE_ID,
                    step: 0,
                },
            ])
            .await?;
        done.first()
            .and_then(|w| w.id)
            .ok_or_else(|| StoreError::Corrupt {
                table: table.name,
                id: 0,
                column: "id".into(),
                reason: "the insert returned no id".into(),
            })
    }

    async fn update(&self, feature: &Feature, audit: &AuditRecord) -> StoreResult<bool> {
        let table = feature.layer().def();
        let done = self
            .write(vec![
                Write::Update(table, feature.id(), feature.row(API_SOURCE)),
                Write::RequireRows(0),
                Write::Insert(&schema::AUDIT, vec![schema::audit_row(audit)]),
            ])
            .await?;
        Ok(done.first().is_some_and(|w| w.rows > 0))
    }

    async fn delete(&self, layer: Layer, id: i64, audit: &AuditRecord) -> StoreResult<bool> {
        let done = self
            .write(vec![
                Write::Delete(layer.def(), Filter::Id(id)),
                Write::RequireRows(0),
                Write::Insert(&schema::AUDIT, vec![schema::audit_row(audit)]),
            ])
            .await?;
        Ok(done.first().is_some_and(|w| w.rows > 0))
    }

    async fn load_audit(&self) -> StoreResult<Vec<AuditRecord>> {
        read_all(self, &schema::AUDIT, schema::decode_audit).await
    }

    async fn load_feature(&self, layer: Layer, id: i64) -> StoreResult<Option<Feature>> {
        let mut t = Territory::default();
        self.select_each(layer.def(), Some(id), &mut |id, values| {
            schema::decode(layer, id, values, &mut t)
        })
        .await?;
        Ok(match layer {
            Layer::Facilities => t.facilities.pop().map(Feature::Facility),
            Layer::Hazards => t.hazards.pop().map(Feature::Hazard),
            Layer::Components => t.components.pop().map(Feature::Component),
            _ => None,
        })
    }

    async fn changes(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<Change>>> {
        self.listen().await
    }

    async fn replace_cells(
        &self,
        before: CellRows<'_>,
        after: &NewCells,
        retied: &[Component],
    ) -> StoreResult<u64> {
        let mut plan = cell_rows::plan(before, after);
        plan.extend(retied.iter().map(|c| {
            let cell = c.cell.map_or(Value::Null, |x| Value::Text(x.to_string()));
            Write::Update(&schema::COMPONENT_CELLS, c.id, vec![cell])
        }));
        Ok(self.write(plan).await?.iter().map(|w| w.rows).sum())
    }

    async fn load_cells(&self) -> StoreResult<(Vec<Cell>, Vec<Adjacency>)> {
        let (mut cells, adjacency) = tokio::try_join!(
            read_all(self, &schema::CELLS, schema::decode_cell),
            read_all(self, &schema::CELL_ADJACENCY, schema::decode_adjacency),
        )?;
        cells.sort_by_key(|c| c.code);
        Ok((cells, adjacency))
    }

    async fn replace_grids(
        &self,
        grids: &[Grid],
        log: &GridEditRecord,
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut plan = vec![Write::Delete(&schema::GRIDS, Filter::All)];
        if !grids.is_empty() {
            plan.push(Write::Insert(
                &schema::GRIDS,
                grids.iter().map(schema::grid_row).collect(),
            ));
        }
        plan.push(Write::Insert(
            &schema::GRID_EDITS,
            vec![schema::grid_edit_row(log)],
        ));
        plan.push(grid_audit(log, actor));
        self.write(plan).await?;
        Ok(())
    }

    async fn load_grids(&self) -> StoreResult<Vec<Grid>> {
        let mut grids = read_all(self, &schema::GRIDS, schema::decode_grid).await?;
        grids.sort_by_key(|g| g.code);
        Ok(grids)
    }

    async fn write_grid_edit(
        &self,
        grids: &[Grid],
        edit: &GridEditRecord,
        actor: &Actor,
    ) -> StoreResult<i64> {
        let ids = self
            .write_grid_edits(&[(grids.to_vec(), edit.clone())], actor)
            .await?;
        Ok(ids.first().copied().unwrap_or_default())
    }

    async fn write_grid_edits(
        &self,
        edits: &[(Vec<Grid>, GridEditRecord)],
        actor: &Actor,
    ) -> StoreResult<Vec<i64>> {
        let mut plan: Vec<Write> = Vec::new();
        let mut log_steps = Vec::new();
        for (grids, edit) in edits {
            plan.extend(grids.iter().map(|g| {
                Write::Delete(
                    &schema::GRIDS,
                    Filter::Eq("code", Value::Text(g.code.to_string())),
                )
            }));
            if !grids.is_empty() {
                plan.push(Write::Insert(
                    &schema::GRIDS,
                    grids.iter().map(schema::grid_row).collect(),
                ));
            }
            log_steps.push(plan.len());
            plan.push(Write::Insert(
                &schema::GRID_EDITS,
                vec![schema::grid_edit_row(edit)],
            ));
            plan.push(grid_audit(edit, actor));
        }
        let done = self.write(plan).await?;
        log_steps
            .into_iter()
            .map(|i| {
                done.get(i)
                    .and_then(|w| w.id)
                    .ok_or_else(|| StoreError::Corrupt {
                        table: schema::GRID_EDITS.name,
                        id: 0,
                        column: "id".into(),
                        reason: "the insert returned no id".into(),
                    })
            })
            .collect()
    }

    async fn load_grid_edits(&self) -> StoreResult<Vec<GridEditRecord>> {
        read_all(self, &schema::GRID_EDITS, schema::decode_grid_edit).await
    }

    async fn replace_care_counts(&self, counts: &[CareCount]) -> StoreResult<()> {
        let mut plan = vec![Write::Delete(&schema::CARE_COUNTS, Filter::All)];
        if !counts.is_empty() {
            plan.push(Write::Insert(
                &schema::CARE_COUNTS,
                counts.iter().map(schema::care_row).collect(),
            ));
        }
        self.write(plan).await?;
        Ok(())
    }

    async fn load_care_counts(&self) -> StoreResult<Vec<CareCount>> {
        let mut counts = read_all(self, &schema::CARE_COUNTS, schema::decode_care).await?;
        counts.sort_by(|a, b| (a.grid, &a.group).cmp(&(b.grid, &b.group)));
        Ok(counts)
    }

    async fn backup(&self, out: &Path) -> StoreResult<()> {
        Backend::backup(self, out).await
    }
}

/// The audit entry of a grid edit or plan (`grids:OP`, the community,
/// the touched grids before and after).
fn grid_audit(edit: &GridEditRecord, actor: &Actor) -> Write {
    let record = AuditRecord {
        at: edit.at,
        community: Some(edit.community.clone()),
        before: Some(edit.before.clone()),
        after: Some(edit.after.clone()),
        ..AuditRecord::now(actor, &format!("grids:{}", edit.op), "grids")
    };
    Write::Insert(&schema::AUDIT, vec![schema::audit_row(&record)])
}

/// Reads every row of `table` through `decode`.
async fn read_all<B: Backend + ?Sized, T: Send>(
    backend: &B,
    table: &'static Table,
    decode: fn(i64, Vec<Value>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut out = Vec::new();
    backend
        .select_each(table, None, &mut |id, values| {
            out.push(decode(id, values)?);
            Ok(())
        })
        .await?;
    Ok(out)
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

/// The rows with the last of each upsert key: one statement may not upsert
/// the same key twice (PostgreSQL refuses it), and the last one wins.
fn last_per_key(table: &Table, rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    let Some(k) = table
        .upsert_key
        .and_then(|key| table.columns.iter().position(|c| c.name == key))
    else {
        return rows;
    };
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<_> = rows
        .into_iter()
        .rev()
        .filter(|r| match &r[k] {
            Value::Text(code) => seen.insert(code.clone()),
            _ => true,
        })
        .collect();
    kept.reverse();
    kept
}

/// Adds `n` features to the count of `layer`.
fn add_count(counts: &mut LayerCounts, layer: Layer, n: usize) {
    let slot = match layer {
        Layer::Districts => &mut counts.districts,
        Layer::Subdistricts => &mut counts.subdistricts,
        Layer::Communities => &mut counts.communities,
        Layer::Buildings => &mut counts.buildings,
        Layer::Facilities => &mut counts.facilities,
        Layer::Hazards => &mut counts.hazards,
        Layer::Roads => &mut counts.roads,
        Layer::Barriers => &mut counts.barriers,
        Layer::Incidents => &mut counts.incidents,
        Layer::Components => &mut counts.components,
        Layer::Zones => &mut counts.zones,
    };
    *slot += n;
}

#[cfg(test)]
mod tests {
    use super::schema::{self, Value};
    use super::{changes_of, Filter, Layer, Write, Written};

    fn row(table: &schema::Table, code: &str) -> Vec<Value> {
        table
            .columns
            .iter()
            .map(|c| {
                if c.name == "code" {
                    Value::Text(code.into())
                } else {
                    Value::Null
                }
            })
            .collect()
    }

    #[test]
    fn changes_name_features_by_id_grids_by_code_and_skip_logs() {
        let facilities = Layer::Facilities.def();
        let plan = vec![
            Write::Insert(facilities, vec![row(facilities, "")]),
            Write::Update(Layer::Hazards.def(), 9, Vec::new()),
            Write::Delete(
                &schema::GRIDS,
                Filter::Eq("code", Value::Text("330106001001002".into())),
            ),
            Write::Insert(
                &schema::GRIDS,
                vec![
                    row(&schema::GRIDS, "330106001001002"),
                    row(&schema::GRIDS, "330106001001005"),
                ],
            ),
            Write::Insert(&schema::AUDIT, vec![row(&schema::AUDIT, "")]),
            Write::Delete(&schema::CARE_COUNTS, Filter::All),
            Write::Delete(Layer::Roads.def(), Filter::Eq("source", "a.osm".into())),
        ];
        let mut done = vec![Written::default(); plan.len()];
        done[0] = Written {
            rows: 1,
            id: Some(5),
        };
        done[5].rows = 3;
        done[6].rows = 2;
        let changes = changes_of(&plan, &done, "me");
        let summary: Vec<_> = changes
            .iter()
            .map(|c| (c.layer.as_str(), c.ids.clone(), c.codes.clone(), c.all))
            .collect();
        assert_eq!(
            summary,
            [
                ("facilities", vec![5], vec![], false),
                ("hazards", vec![9], vec![], false),
                (
                    "grids",
                    vec![],
                    vec!["330106001001002".to_owned(), "330106001001005".to_owned()],
                    false
                ),
                ("roads", vec![], vec![], true),
            ]
        );
        assert!(changes.iter().all(|c| c.origin == "me"));
    }
}

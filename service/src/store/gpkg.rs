//! The embedded store: an OGC GeoPackage file (SQLite), which QGIS and GDAL
//! open directly. Geometries are GeoPackage binary blobs (header + WKB).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use civgrid::extent::merge;
use geo::BoundingRect;
use geo_types::{Geometry, Rect};
use geozero::wkb::GpkgWkb;
use geozero::{CoordDimensions, ToGeo, ToWkb};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{OpenFlags, TransactionBehavior};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::SqlitePool;
use tokio::sync::mpsc;

use super::schema::{self, ColumnType, Table, Value};
use super::{Backend, PlanStopped, StoreError, StoreResult, Write, Written};

/// EPSG code of CGCS2000, the stored CRS.
const SRS_ID: i32 = 4490;

/// The id column of every feature table.
const ID: &str = "fid";

/// How long a statement waits for another process's lock on the file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A GeoPackage file store.
#[derive(Debug)]
pub struct GpkgStore {
    path: PathBuf,
    location: String,
    pool: SqlitePool,
    /// The one connection writes go through (SQLite takes one writer at a
    /// time); reads use the pool and connections of their own.
    writer: Arc<Mutex<rusqlite::Connection>>,
}

impl GpkgStore {
    /// Opens `path`, creating it if missing, and applies pending migrations.
    ///
    /// The journal is kept in DELETE mode (no `-wal` or `-shm` file beside
    /// the GeoPackage), so that an idle store is one file, which QGIS and
    /// GDAL open read-only. While a write is under way, and after a crash
    /// in one, the `-journal` beside it belongs to the store (SQLite rolls
    /// it back on the next read-write open): copy a live store with
    /// [`Store::backup`](super::Store::backup) (`civgrid backup`), never
    /// the file alone.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let location = path.display().to_string();
        let db = |source| StoreError::Database {
            store: location.clone(),
            source,
        };
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{location}"))
            .map_err(db)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Delete)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(db)?;
        sqlx::migrate!("migrations/gpkg")
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migration {
                store: location.clone(),
                source,
            })?;
        let writer = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|conn| {
            conn.busy_timeout(BUSY_TIMEOUT)?;
            conn.pragma_update(None, "foreign_keys", true)?;
            Ok(conn)
        })
        .map_err(|source| StoreError::sqlite(&location, source))?;
        Ok(Self {
            path: path.to_owned(),
            location,
            pool,
            writer: Arc::new(Mutex::new(writer)),
        })
    }

    fn db(&self) -> impl Fn(sqlx::Error) -> StoreError + '_ {
        |source| StoreError::database(&self.location, source)
    }
}

/// Runs `plan` in one immediate transaction on `conn`: all steps or none.
///
/// Each statement is prepared once and run row by row through SQLite's own
/// API on the caller's (blocking) thread: a bulk write of a million cells
/// costs what SQLite costs, not a hand-over across threads per statement.
fn run_plan(
    conn: &mut rusqlite::Connection,
    location: &str,
    plan: &[Write],
) -> StoreResult<Vec<Written>> {
    let err = |source| StoreError::sqlite(location, source);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    let mut done = Vec::with_capacity(plan.len());
    for step in plan {
        let step = match step.resolve(&done) {
            Ok(Some(step)) => step,
            Ok(None) => {
                done.push(Written::default());
                continue;
            }
            // Dropping the transaction rolls it back.
            Err(PlanStopped) => return Ok(done),
        };
        done.push(match &*step {
            Write::Delete(table, filter) => {
                let (sql, values) = filter.delete_sql(table, ID, |_| "?".to_owned());
                let bound = values
                    .iter()
                    .map(|v| bind(v, table.name))
                    .collect::<StoreResult<Vec<_>>>()?;
                execute(&tx, location, &sql, bound)?
            }
            Write::Insert(table, rows) => insert(&tx, location, table, rows.iter())?,
            Write::InsertMade(table, rows) => insert(&tx, location, table, rows.iter())?,
            Write::Update(table, id, row) => {
                let sql = table.update_sql(ID, |_, _| "?".to_owned());
                let mut bound = table
                    .updated_columns()
                    .map(|(i, _)| bind(&row[i], table.name))
                    .collect::<StoreResult<Vec<_>>>()?;
                bound.push(ToSqlOutput::from(*id));
                execute(&tx, location, &sql, bound)?
            }
            // Resolved into an insert, or run as nothing, above.
            Write::InsertLinked { .. } | Write::RequireRows(_) | Write::RefuseRows(_) => {
                unreachable!("Write::resolve leaves no linked or conditional step")
            }
        });
    }
    tx.commit().map_err(err)?;
    Ok(done)
}

/// Runs the statement `sql` (prepared once per connection) with `bound`.
fn execute(
    tx: &rusqlite::Transaction<'_>,
    location: &str,
    sql: &str,
    bound: Vec<ToSqlOutput<'_>>,
) -> StoreResult<Written> {
    let rows = tx
        .prepare_cached(sql)
        .and_then(|mut statement| statement.execute(rusqlite::params_from_iter(bound)))
        .map_err(|source| StoreError::sqlite(location, source))?;
    Ok(Written {
        rows: rows as u64,
        id: None,
    })
}

/// Inserts `rows` into `table`, one prepared statement run per row, and
/// widens the table's extent in `gpkg_contents`.
fn insert<R: AsRef<[Value]>>(
    tx: &rusqlite::Transaction<'_>,
    location: &str,
    table: &'static Table,
    rows: impl ExactSizeIterator<Item = R>,
) -> StoreResult<Written> {
    let err = |source| StoreError::sqlite(location, source);
    let mut written = Written::default();
    let returning = (rows.len() == 1).then_some(ID);
    let sql = table.insert_sql(1, |_, _| "?".to_owned(), returning);
    let mut statement = tx.prepare_cached(&sql).map_err(err)?;
    let mut extent: Option<Rect<f64>> = None;
    for row in rows {
        let row = row.as_ref();
        for r in row
            .iter()
            .filter_map(|v| v.geometry().and_then(BoundingRect::bounding_rect))
        {
            extent = Some(extent.map_or(r, |e| merge(e, r)));
        }
        let bound = row
            .iter()
            .map(|v| bind(v, table.name))
            .collect::<StoreResult<Vec<_>>>()?;
        let params = rusqlite::params_from_iter(bound);
        if returning.is_some() {
            written.id = Some(statement.query_row(params, |r| r.get(0)).map_err(err)?);
            written.rows += 1;
        } else {
            written.rows += statement.execute(params).map_err(err)? as u64;
        }
    }
    if let Some(e) = extent {
        tx.prepare_cached(
            "UPDATE gpkg_contents SET \
             min_x = min(coalesce(min_x, ?1), ?1), min_y = min(coalesce(min_y, ?2), ?2), \
             max_x = max(coalesce(max_x, ?3), ?3), max_y = max(coalesce(max_y, ?4), ?4), \
             last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?5",
        )
        .and_then(|mut s| {
            s.execute(rusqlite::params![
                e.min().x,
                e.min().y,
                e.max().x,
                e.max().y,
                table.name
            ])
        })
        .map_err(err)?;
    }
    Ok(written)
}

/// `v` as SQLite takes it, in GeoPackage encoding (geometries as
/// GeoPackage binary blobs, times and dates as text).
fn bind<'a>(v: &'a Value, table: &'static str) -> StoreResult<ToSqlOutput<'a>> {
    use rusqlite::types::Value as Sql;
    Ok(match v {
        Value::Null => ToSqlOutput::Owned(Sql::Null),
        Value::Int(i) => ToSqlOutput::from(*i),
        Value::Real(r) => ToSqlOutput::from(*r),
        Value::Bool(b) => ToSqlOutput::from(*b),
        Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Value::Time(t) => ToSqlOutput::Owned(Sql::Text(schema::format_time(*t))),
        Value::Date(d) => ToSqlOutput::Owned(Sql::Text(d.to_string())),
        Value::Geom(g) => ToSqlOutput::Owned(Sql::Blob(encode_geom(table, g)?)),
    })
}

fn encode_geom(table: &'static str, g: &Geometry<f64>) -> StoreResult<Vec<u8>> {
    let envelope = g
        .bounding_rect()
        .map(|r| vec![r.min().x, r.max().x, r.min().y, r.max().y])
        .unwrap_or_default();
    g.to_gpkg_wkb(CoordDimensions::xy(), Some(SRS_ID), envelope)
        .map_err(|e| StoreError::Geometry {
            table,
            id: 0,
            reason: e.to_string(),
        })
}

/// Rows handed from a scan's reading thread to its caller at a time: enough
/// that the hand-over costs nothing per row, few enough to keep memory flat.
const ROWS_PER_BATCH: usize = 2048;

/// A batch of rows of a scan: each row's id and its values.
type Batch = Vec<(i64, Vec<Value>)>;

/// Reads the rows of `sql` (the id, then `table`'s columns; `only` binds
/// the one id asked for) on a read-only connection of its own, decoded, in
/// batches sent to `out`. Stops early when `out` is closed.
///
/// A blocking loop over SQLite's own cursor: sqlx hands its rows one by
/// one across threads and copies each value, which costs more than the
/// read itself on a table of a million cells.
fn scan(
    path: &Path,
    location: &str,
    table: &'static Table,
    sql: &str,
    only: Option<i64>,
    out: &mpsc::Sender<StoreResult<Batch>>,
) -> StoreResult<()> {
    let err = |source| StoreError::Scan {
        store: location.to_owned(),
        table: table.name,
        source,
    };
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    let mut statement = conn.prepare(sql).map_err(err)?;
    let mut rows = match only {
        Some(id) => statement.query([id]),
        None => statement.query([]),
    }
    .map_err(err)?;
    let mut batch = Vec::with_capacity(ROWS_PER_BATCH);
    while let Some(r) = rows.next().map_err(err)? {
        let id: i64 = r.get(0).map_err(err)?;
        let values = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| read_value(r, i + 1, c.ty, (table.name, id), &err))
            .collect::<StoreResult<Vec<_>>>()?;
        batch.push((id, values));
        if batch.len() == ROWS_PER_BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(ROWS_PER_BATCH));
            if out.blocking_send(Ok(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        // A closed channel means the caller stopped: nothing to report.
        let _ = out.blocking_send(Ok(batch));
    }
    Ok(())
}

/// Column `i` of `row` as a value of type `ty` (`table` and `id` name it in
/// errors; `sqlite` wraps SQLite's, a type that does not convert most often).
fn read_value(
    row: &rusqlite::Row<'_>,
    i: usize,
    ty: ColumnType,
    (table, id): (&'static str, i64),
    sqlite: &impl Fn(rusqlite::Error) -> StoreError,
) -> StoreResult<Value> {
    let text = || row.get::<_, Option<String>>(i).map_err(sqlite);
    let corrupt = |column: &str, reason: String| StoreError::Corrupt {
        table,
        id,
        column: column.into(),
        reason,
    };
    let v = match ty {
        ColumnType::Text => text()?.map(Value::Text),
        ColumnType::Int => row
            .get::<_, Option<i64>>(i)
            .map_err(sqlite)?
            .map(Value::Int),
        ColumnType::Real => row
            .get::<_, Option<f64>>(i)
            .map_err(sqlite)?
            .map(Value::Real),
        ColumnType::Bool => row
            .get::<_, Option<bool>>(i)
            .map_err(sqlite)?
            .map(Value::Bool),
        ColumnType::Time => match text()? {
            None => None,
            Some(s) => Some(Value::Time(schema::parse_time(&s).ok_or_else(|| {
                corrupt("time", format!("{s:?} is not an RFC 3339 time"))
            })?)),
        },
        ColumnType::Date => match text()? {
            None => None,
            Some(s) => Some(Value::Date(s.parse().map_err(|_| {
                corrupt("date", format!("{s:?} is not a YYYY-MM-DD date"))
            })?)),
        },
        ColumnType::Geom => match row.get_ref(i).map_err(sqlite)? {
            ValueRef::Null => None,
            ValueRef::Blob(blob) => Some(Value::Geom(GpkgWkb(blob).to_geo().map_err(|e| {
                StoreError::Geometry {
                    table,
                    id,
                    reason: e.to_string(),
                }
            })?)),
            other => {
                return Err(corrupt(
                    "geom",
                    format!("a {} where a geometry blob belongs", other.data_type()),
                ))
            }
        },
    };
    Ok(v.unwrap_or(Value::Null))
}

#[async_trait]
impl Backend for GpkgStore {
    fn location(&self) -> &str {
        &self.location
    }

    async fn backup(&self, out: &Path) -> StoreResult<()> {
        let file_err = |source| StoreError::BackupFile {
            out: out.display().to_string(),
            source,
        };
        // Staged beside `out` (an empty file, as VACUUM INTO allows), then
        // renamed over it: a failed backup leaves no half file.
        let dir = out
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        let staged = tempfile::Builder::new()
            .prefix(".civgrid-backup-")
            .suffix(".gpkg")
            .tempfile_in(dir)
            .map_err(file_err)?;
        let staged_path = staged.path().to_str().ok_or_else(|| {
            file_err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the folder's path is not UTF-8",
            ))
        })?;
        // One read transaction: a consistent copy while others write
        // (their commits wait for it, up to the busy timeout).
        sqlx::query("VACUUM INTO ?")
            .bind(staged_path)
            .execute(&self.pool)
            .await
            .map_err(self.db())?;
        staged.persist(out).map_err(|e| file_err(e.error))?;
        Ok(())
    }

    async fn write(&self, plan: Vec<Write>) -> StoreResult<Vec<Written>> {
        let (writer, location) = (Arc::clone(&self.writer), self.location.clone());
        tokio::task::spawn_blocking(move || {
            // A write that panicked rolled its transaction back: the
            // connection is as good as before.
            let mut conn = writer.lock().unwrap_or_else(PoisonError::into_inner);
            run_plan(&mut conn, &location, &plan)
        })
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    async fn select_each(
        &self,
        table: &'static Table,
        only: Option<i64>,
        row: &mut (dyn FnMut(i64, Vec<Value>) -> StoreResult<()> + Send),
    ) -> StoreResult<()> {
        let sql = table.select_sql(ID, |name, _| name.to_owned(), only.map(|_| "?"));
        let (out, mut batches) = mpsc::channel(4);
        let (path, location) = (self.path.clone(), self.location.clone());
        let reader = tokio::task::spawn_blocking(move || {
            if let Err(e) = scan(&path, &location, table, &sql, only, &out) {
                let _ = out.blocking_send(Err(e));
            }
        });
        while let Some(batch) = batches.recv().await {
            for (id, values) in batch? {
                row(id, values)?;
            }
        }
        // The channel also closes when the reader panicked: never take that
        // for the end of the table.
        if let Err(e) = reader.await {
            if let Ok(panic) = e.try_into_panic() {
                std::panic::resume_unwind(panic);
            }
        }
        Ok(())
    }

    async fn count(&self, table: &'static Table) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", table.name))
            .fetch_one(&self.pool)
            .await
            .map_err(self.db())?;
        Ok(n as u64)
    }
}

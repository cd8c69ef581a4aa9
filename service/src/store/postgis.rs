//! The production store: PostGIS through sqlx. Geometries travel as WKB
//! (`ST_GeomFromWKB` / `ST_AsBinary`), times as `timestamptz`.

use std::borrow::Cow;
use std::path::Path;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use geozero::wkb::Wkb;
use geozero::{CoordDimensions, ToGeo, ToWkb};
use sqlx::postgres::{
    PgArguments, PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow, Postgres,
};
use sqlx::query::Query;
use sqlx::Row;

use super::schema::{ColumnType, Table, Value, ROWS_PER_INSERT};
use super::{changes_of, Backend, Change, PlanStopped, StoreError, StoreResult, Write, Written};

/// How long a request waits for a connection before it is refused (503):
/// short, so that requests fail fast while the database is down.
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The longest a statement may run (a write cannot hang on a stuck
/// database; the longest real statement, a county import, takes seconds).
const STATEMENT_TIMEOUT: &str = "120s";

/// How long the store refuses every call at once after it found the
/// database unreachable, before one call tries again: so that writes
/// queued behind a failing one are refused at once instead of each waiting
/// [`ACQUIRE_TIMEOUT`] in turn (a write is refused within that bound
/// however many are queued).
const REFUSE_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// The channel on which writes are announced to other processes.
pub const CHANNEL: &str = "civgrid_changes";

/// Largest NOTIFY payload sent; PostgreSQL's limit is 8,000 bytes. A
/// larger change is announced as "anything in the layer".
const MAX_PAYLOAD: usize = 7000;

/// A PostGIS store.
#[derive(Debug)]
pub struct PostgisStore {
    location: String,
    pool: PgPool,
    /// This process's name in the changes it announces.
    origin: String,
    /// Set while the database was just found unreachable.
    breaker: Breaker,
}

/// Remembers that the database could not be reached, for [`REFUSE_FOR`].
#[derive(Debug, Default)]
struct Breaker {
    open_until: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Breaker {
    fn open_until(&self) -> std::sync::MutexGuard<'_, Option<std::time::Instant>> {
        self.open_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `call` unless the database was found unreachable less than
    /// [`REFUSE_FOR`] ago; notes whether it could be reached.
    async fn guard<T>(
        &self,
        store: &str,
        call: impl std::future::Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        if let Some(until) = *self.open_until() {
            let now = std::time::Instant::now();
            if now < until {
                return Err(StoreError::Unavailable {
                    store: store.to_owned(),
                    retry_in_ms: (until - now).as_millis() as u64,
                });
            }
        }
        let result = call.await;
        match &result {
            Err(StoreError::Database { source, .. }) if unreachable(source) => {
                *self.open_until() = Some(std::time::Instant::now() + REFUSE_FOR);
            }
            Err(_) => {}
            Ok(_) => *self.open_until() = None,
        }
        result
    }
}

/// Whether an error says the database cannot be reached (no connection,
/// the server shutting down or starting), not that a statement failed.
fn unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // Class 08: connection exception; 57P01–57P03: shutting down,
        // crashed, cannot connect now.
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..s + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

impl PostgisStore {
    /// Connects to `url` and applies pending migrations (creating the
    /// `postgis` extension if the role may).
    pub async fn open(url: &str) -> StoreResult<Self> {
        let location = redact(url);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(
                url.parse::<PgConnectOptions>()
                    .map_err(|source| StoreError::database(&location, source))?
                    .options([("statement_timeout", STATEMENT_TIMEOUT)]),
            )
            .await
            .map_err(|source| StoreError::Database {
                store: location.clone(),
                source,
            })?;
        sqlx::migrate!("migrations/postgis")
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migration {
                store: location.clone(),
                source,
            })?;
        let origin = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        Ok(Self {
            location,
            pool,
            origin,
            breaker: Breaker::default(),
        })
    }

    /// The payloads announcing what `plan` did (`done`).
    fn announcements(&self, plan: &[Write], done: &[Written]) -> Vec<String> {
        changes_of(plan, done, &self.origin)
            .into_iter()
            .map(|mut c| {
                let text = serde_json::to_string(&c).unwrap_or_default();
                if text.len() <= MAX_PAYLOAD {
                    return text;
                }
                c.all = true;
                c.ids.clear();
                c.codes.clear();
                serde_json::to_string(&c).unwrap_or_default()
            })
            .collect()
    }

    fn db(&self) -> impl Fn(sqlx::Error) -> StoreError + '_ {
        |source| StoreError::database(&self.location, source)
    }
}

/// The id column of every table.
const ID: &str = "id";

fn param(i: usize, ty: ColumnType) -> String {
    match ty {
        ColumnType::Geom => format!("ST_GeomFromWKB(${i}, 4490)"),
        ColumnType::Time => format!("to_timestamp(${i})"),
        ColumnType::Date => format!("${i}::date"),
        _ => format!("${i}"),
    }
}

fn select_expr(name: &str, ty: ColumnType) -> String {
    match ty {
        ColumnType::Geom => format!("ST_AsBinary({name})"),
        ColumnType::Time => format!("extract(epoch from {name})::bigint"),
        ColumnType::Date => format!("to_char({name}, 'YYYY-MM-DD')"),
        ColumnType::Int => format!("{name}::bigint"),
        _ => name.to_owned(),
    }
}

type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

/// Binds `v` (of a column of type `ty`) in PostGIS encoding.
fn bind<'q>(
    q: PgQuery<'q>,
    v: &'q Value,
    ty: ColumnType,
    table: &'static str,
) -> StoreResult<PgQuery<'q>> {
    Ok(match v {
        // NULLs carry their column's type: PostgreSQL checks parameter
        // types even without a value.
        Value::Null => match ty {
            ColumnType::Text | ColumnType::Date => q.bind(None::<String>),
            ColumnType::Real => q.bind(None::<f64>),
            ColumnType::Bool => q.bind(None::<bool>),
            ColumnType::Int | ColumnType::Time | ColumnType::Geom => q.bind(None::<i64>),
        },
        Value::Int(i) | Value::Time(i) => q.bind(*i),
        Value::Real(r) => q.bind(*r),
        Value::Bool(b) => q.bind(*b),
        Value::Text(s) => q.bind(s.as_str()),
        Value::Date(d) => q.bind(d.to_string()),
        Value::Geom(g) => {
            q.bind(
                g.to_wkb(CoordDimensions::xy())
                    .map_err(|e| StoreError::Geometry {
                        table,
                        id: 0,
                        reason: e.to_string(),
                    })?,
            )
        }
    })
}

fn read_value(
    row: &PgRow,
    i: usize,
    ty: ColumnType,
    table: &'static str,
    id: i64,
) -> StoreResult<Value> {
    let db = |source| StoreError::Database {
        store: table.to_owned(),
        source,
    };
    let v = match ty {
        ColumnType::Text => row
            .try_get::<Option<String>, _>(i)
            .map_err(db)?
            .map(Value::Text),
        ColumnType::Int => row
            .try_get::<Option<i64>, _>(i)
            .map_err(db)?
            .map(Value::Int),
        ColumnType::Real => row
            .try_get::<Option<f64>, _>(i)
            .map_err(db)?
            .map(Value::Real),
        ColumnType::Bool => row
            .try_get::<Option<bool>, _>(i)
            .map_err(db)?
            .map(Value::Bool),
        ColumnType::Time => row
            .try_get::<Option<i64>, _>(i)
            .map_err(db)?
            .map(Value::Time),
        ColumnType::Date => match row.try_get::<Option<String>, _>(i).map_err(db)? {
            None => None,
            Some(s) => Some(Value::Date(s.parse().map_err(|_| StoreError::Corrupt {
                table,
                id,
                column: "date".into(),
                reason: format!("{s:?} is not a YYYY-MM-DD date"),
            })?)),
        },
        ColumnType::Geom => match row.try_get::<Option<Vec<u8>>, _>(i).map_err(db)? {
            None => None,
            Some(wkb) => Some(Value::Geom(Wkb(wkb).to_geo().map_err(|e| {
                StoreError::Geometry {
                    table,
                    id,
                    reason: e.to_string(),
                }
            })?)),
        },
    };
    Ok(v.unwrap_or(Value::Null))
}

#[async_trait]
impl Backend for PostgisStore {
    fn location(&self) -> &str {
        &self.location
    }

    async fn write(&self, plan: Vec<Write>) -> StoreResult<Vec<Written>> {
        self.breaker
            .guard(&self.location, self.write_plan(plan))
            .await
    }

    async fn select_each(
        &self,
        table: &'static Table,
        only: Option<i64>,
        row: &mut (dyn FnMut(i64, Vec<Value>) -> StoreResult<()> + Send),
    ) -> StoreResult<()> {
        self.breaker
            .guard(&self.location, self.select_rows(table, only, row))
            .await
    }

    async fn count(&self, table: &'static Table) -> StoreResult<u64> {
        self.breaker
            .guard(&self.location, self.count_rows(table))
            .await
    }

    async fn listen(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<Change>>> {
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(self.db())?;
        listener.listen(CHANNEL).await.map_err(self.db())?;
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let (origin, location) = (self.origin.clone(), self.location.clone());
        tokio::spawn(async move {
            // Set when announcements may have been missed (the connection
            // dropped): once the listener is connected again, everything
            // is announced as changed.
            let mut missed = false;
            loop {
                let heard = tokio::time::timeout(
                    std::time::Duration::from_millis(500),
                    listener.try_recv(),
                )
                .await;
                let change = match heard {
                    // Listening on a live connection (try_recv reconnects
                    // first, and fails when it cannot).
                    Err(_) if missed => {
                        missed = false;
                        Change {
                            layer: "*".into(),
                            all: true,
                            ..Change::default()
                        }
                    }
                    Err(_) => continue,
                    Ok(Ok(Some(n))) => match serde_json::from_str::<Change>(n.payload()) {
                        Ok(c) if c.origin == origin => continue,
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(payload = n.payload(), error = %e, "{location}: an announcement that is not a change");
                            continue;
                        }
                    },
                    Ok(Ok(None)) => {
                        tracing::warn!("{location}: lost the connection that hears other processes' writes; reloading once it is back");
                        missed = true;
                        continue;
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "{location}: cannot hear other processes' writes; retrying");
                        missed = true;
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                };
                if tx.send(change).await.is_err() {
                    return;
                }
            }
        });
        Ok(Some(rx))
    }

    async fn backup(&self, _out: &Path) -> StoreResult<()> {
        Err(StoreError::NoBackup {
            store: self.location.clone(),
            how: "a PostGIS store is backed up with PostgreSQL's own tools: `pg_dump --format=custom --file=FILE URL` (consistent while civgrid writes; restore with `pg_restore`); `civgrid backup` copies GeoPackage stores",
        })
    }
}

/// Rows of an insert step, a statement's worth at a time.
type Chunks<'a> = Box<dyn Iterator<Item = Cow<'a, [Vec<Value>]>> + Send + 'a>;

/// The rows of an insert step in statements of [`ROWS_PER_INSERT`] rows,
/// and how many rows there are in all; made rows are made a statement at a
/// time.
fn chunks_of(step: &Write) -> (usize, Chunks<'_>) {
    match step {
        Write::Insert(_, rows) => (
            rows.len(),
            Box::new(rows.chunks(ROWS_PER_INSERT).map(Cow::Borrowed)),
        ),
        Write::InsertMade(_, made) => (
            made.len,
            Box::new((0..made.len).step_by(ROWS_PER_INSERT).map(|start| {
                let end = (start + ROWS_PER_INSERT).min(made.len);
                Cow::Owned((start..end).map(|i| (made.row)(i)).collect())
            })),
        ),
        _ => unreachable!("chunks_of is called on insert steps only"),
    }
}

impl PostgisStore {
    async fn write_plan(&self, plan: Vec<Write>) -> StoreResult<Vec<Written>> {
        let mut tx = self.pool.begin().await.map_err(self.db())?;
        let mut done = Vec::with_capacity(plan.len());
        for step in &plan {
            let step = match step.resolve(&done) {
                Ok(Some(step)) => step,
                Ok(None) => {
                    done.push(Written::default());
                    continue;
                }
                Err(PlanStopped) => {
                    tx.rollback().await.map_err(self.db())?;
                    return Ok(done);
                }
            };
            done.push(match &*step {
                Write::Delete(table, filter) => {
                    let (sql, values) = filter.delete_sql(table, ID, |i| format!("${i}"));
                    let mut q = sqlx::query(&sql);
                    for v in &values {
                        let ty = if matches!(v, Value::Int(_)) {
                            ColumnType::Int
                        } else {
                            ColumnType::Text
                        };
                        q = bind(q, v, ty, table.name)?;
                    }
                    let rows = q
                        .execute(&mut *tx)
                        .await
                        .map_err(self.db())?
                        .rows_affected();
                    Written { rows, id: None }
                }
                Write::Insert(table, _) | Write::InsertMade(table, _) => {
                    let mut written = Written::default();
                    let (len, chunks) = chunks_of(&step);
                    let returning = (len == 1).then_some(ID);
                    for chunk in chunks {
                        let sql = table.insert_sql(chunk.len(), param, returning);
                        let mut q = sqlx::query(&sql);
                        for row in chunk.iter() {
                            for (v, c) in row.iter().zip(table.columns) {
                                q = bind(q, v, c.ty, table.name)?;
                            }
                        }
                        if returning.is_some() {
                            written.id =
                                Some(q.fetch_one(&mut *tx).await.map_err(self.db())?.get(0));
                            written.rows += 1;
                        } else {
                            written.rows += q
                                .execute(&mut *tx)
                                .await
                                .map_err(self.db())?
                                .rows_affected();
                        }
                    }
                    written
                }
                Write::Update(table, id, row) => {
                    let sql = table.update_sql(ID, param);
                    let mut q = sqlx::query(&sql);
                    for (i, c) in table.updated_columns() {
                        q = bind(q, &row[i], c.ty, table.name)?;
                    }
                    let rows = q
                        .bind(*id)
                        .execute(&mut *tx)
                        .await
                        .map_err(self.db())?
                        .rows_affected();
                    Written { rows, id: None }
                }
                // Resolved into an insert, or run as nothing, above.
                Write::InsertLinked { .. } | Write::RequireRows(_) | Write::RefuseRows(_) => {
                    unreachable!("Write::resolve leaves no linked or conditional step")
                }
            });
        }
        // Delivered to listeners when (and only if) the transaction commits.
        for payload in self.announcements(&plan, &done) {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(payload)
                .execute(&mut *tx)
                .await
                .map_err(self.db())?;
        }
        tx.commit().await.map_err(self.db())?;
        Ok(done)
    }

    async fn select_rows(
        &self,
        table: &'static Table,
        only: Option<i64>,
        row: &mut (dyn FnMut(i64, Vec<Value>) -> StoreResult<()> + Send),
    ) -> StoreResult<()> {
        let sql = table.select_sql(ID, select_expr, only.map(|_| "$1"));
        let mut query = sqlx::query(&sql);
        if let Some(id) = only {
            query = query.bind(id);
        }
        let mut rows = query.fetch(&self.pool);
        while let Some(r) = rows.try_next().await.map_err(self.db())? {
            let id: i64 = r.try_get(0).map_err(self.db())?;
            let values = table
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| read_value(&r, i + 1, c.ty, table.name, id))
                .collect::<StoreResult<Vec<_>>>()?;
            row(id, values)?;
        }
        Ok(())
    }

    async fn count_rows(&self, table: &'static Table) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", table.name))
            .fetch_one(&self.pool)
            .await
            .map_err(self.db())?;
        Ok(n as u64)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            super::redact("postgres://civgrid:secret@localhost:5432/civgrid"),
            "postgres://civgrid@localhost:5432/civgrid"
        );
        assert_eq!(
            super::redact("postgres://localhost/db"),
            "postgres://localhost/db"
        );
    }
}

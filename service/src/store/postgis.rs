//! The production store: PostGIS through sqlx. Geometries travel as WKB
//! (`ST_GeomFromWKB` / `ST_AsBinary`), times as `timestamptz`.

use async_trait::async_trait;
use civgrid::{LayerCounts, Territory};
use geozero::wkb::Wkb;
use geozero::{CoordDimensions, ToGeo, ToWkb};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::Row;

use super::schema::{self, ColumnType, Layer, Value};
use super::{add_count, ImportBatch, ImportOutcome, Store, StoreError, StoreResult};

/// A PostGIS store.
#[derive(Debug)]
pub struct PostgisStore {
    location: String,
    pool: PgPool,
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
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(url)
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
        Ok(Self { location, pool })
    }

    fn db(&self) -> impl Fn(sqlx::Error) -> StoreError + '_ {
        |source| StoreError::Database {
            store: self.location.clone(),
            source,
        }
    }
}

fn param(i: usize, ty: ColumnType) -> String {
    match ty {
        ColumnType::Geom => format!("ST_GeomFromWKB(${i}, 4490)"),
        ColumnType::Time => format!("to_timestamp(${i})"),
        _ => format!("${i}"),
    }
}

fn select_expr(name: &str, ty: ColumnType) -> String {
    match ty {
        ColumnType::Geom => format!("ST_AsBinary({name})"),
        ColumnType::Time => format!("extract(epoch from {name})::bigint"),
        ColumnType::Int => format!("{name}::bigint"),
        _ => name.to_owned(),
    }
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
impl Store for PostgisStore {
    fn location(&self) -> &str {
        &self.location
    }

    async fn import(&self, batches: &[ImportBatch]) -> StoreResult<ImportOutcome> {
        let mut outcome = ImportOutcome::default();
        let mut tx = self.pool.begin().await.map_err(self.db())?;
        for batch in batches {
            for layer in Layer::ALL.into_iter().filter(|l| !l.keyed_by_code()) {
                let sql = format!("DELETE FROM {} WHERE source = $1", layer.table());
                let done = sqlx::query(&sql)
                    .bind(&batch.source)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db())?;
                outcome.replaced += done.rows_affected() as usize;
            }
            for (layer, rows) in schema::encode(&batch.territory, &batch.source) {
                let sql = layer.insert_sql(param);
                for row in &rows {
                    let mut q = sqlx::query(&sql);
                    for (v, column) in row.iter().zip(layer.columns()) {
                        q = match v {
                            // NULLs carry their column's type: PostgreSQL
                            // checks parameter types even without a value.
                            Value::Null => match column.ty {
                                ColumnType::Text => q.bind(None::<String>),
                                ColumnType::Real => q.bind(None::<f64>),
                                ColumnType::Bool => q.bind(None::<bool>),
                                ColumnType::Int | ColumnType::Time | ColumnType::Geom => {
                                    q.bind(None::<i64>)
                                }
                            },
                            Value::Int(i) | Value::Time(i) => q.bind(*i),
                            Value::Real(r) => q.bind(*r),
                            Value::Bool(b) => q.bind(*b),
                            Value::Text(s) => q.bind(s.as_str()),
                            Value::Geom(g) => {
                                q.bind(g.to_wkb(CoordDimensions::xy()).map_err(|e| {
                                    StoreError::Geometry {
                                        table: layer.table(),
                                        id: 0,
                                        reason: e.to_string(),
                                    }
                                })?)
                            }
                        };
                    }
                    q.execute(&mut *tx).await.map_err(self.db())?;
                }
                add_count(&mut outcome.written, layer, rows.len());
            }
        }
        tx.commit().await.map_err(self.db())?;
        Ok(outcome)
    }

    async fn load(&self) -> StoreResult<Territory> {
        let mut t = Territory::default();
        for layer in Layer::ALL {
            let rows = sqlx::query(&layer.select_sql("id", select_expr))
                .fetch_all(&self.pool)
                .await
                .map_err(self.db())?;
            for row in rows {
                let id: i64 = row.try_get(0).map_err(self.db())?;
                let values = layer
                    .columns()
                    .iter()
                    .enumerate()
                    .map(|(i, c)| read_value(&row, i + 1, c.ty, layer.table(), id))
                    .collect::<StoreResult<Vec<_>>>()?;
                schema::decode(layer, id, values, &mut t)?;
            }
        }
        Ok(t)
    }

    async fn counts(&self) -> StoreResult<LayerCounts> {
        let mut counts = LayerCounts::default();
        for layer in Layer::ALL {
            let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", layer.table()))
                .fetch_one(&self.pool)
                .await
                .map_err(self.db())?;
            add_count(&mut counts, layer, n as usize);
        }
        Ok(counts)
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

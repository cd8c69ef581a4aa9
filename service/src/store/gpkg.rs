//! The embedded store: an OGC GeoPackage file (SQLite), which QGIS and GDAL
//! open directly. Geometries are GeoPackage binary blobs (header + WKB).

use std::path::Path;
use std::str::FromStr;

use async_trait::async_trait;
use civgrid::{LayerCounts, Territory};
use geo::BoundingRect;
use geo_types::Geometry;
use geozero::wkb::GpkgWkb;
use geozero::{CoordDimensions, ToGeo, ToWkb};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{Row, SqlitePool};

use super::schema::{self, ColumnType, Layer, Value};
use super::{add_count, ImportBatch, ImportOutcome, Store, StoreError, StoreResult};

/// EPSG code of CGCS2000, the stored CRS.
const SRS_ID: i32 = 4490;

/// A GeoPackage file store.
#[derive(Debug)]
pub struct GpkgStore {
    location: String,
    pool: SqlitePool,
}

impl GpkgStore {
    /// Opens `path`, creating it if missing, and applies pending migrations.
    ///
    /// The journal is kept in DELETE mode (no `-wal` file beside the
    /// GeoPackage), so the file alone is the whole store.
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
            .busy_timeout(std::time::Duration::from_secs(10));
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
        Ok(Self { location, pool })
    }

    fn db(&self) -> impl Fn(sqlx::Error) -> StoreError + '_ {
        |source| StoreError::Database {
            store: self.location.clone(),
            source,
        }
    }
}

fn param(_: usize, _: ColumnType) -> String {
    "?".to_owned()
}

fn select_expr(name: &str, _: ColumnType) -> String {
    name.to_owned()
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

fn read_value(
    row: &SqliteRow,
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
        ColumnType::Time => match row.try_get::<Option<String>, _>(i).map_err(db)? {
            None => None,
            Some(s) => Some(Value::Time(schema::parse_time(&s).ok_or_else(|| {
                StoreError::Corrupt {
                    table,
                    id,
                    column: "time".into(),
                    reason: format!("{s:?} is not an RFC 3339 time"),
                }
            })?)),
        },
        ColumnType::Geom => match row.try_get::<Option<Vec<u8>>, _>(i).map_err(db)? {
            None => None,
            Some(blob) => Some(Value::Geom(GpkgWkb(blob).to_geo().map_err(|e| {
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
impl Store for GpkgStore {
    fn location(&self) -> &str {
        &self.location
    }

    async fn import(&self, batches: &[ImportBatch]) -> StoreResult<ImportOutcome> {
        let mut outcome = ImportOutcome::default();
        let mut tx = self.pool.begin().await.map_err(self.db())?;
        for batch in batches {
            for layer in Layer::ALL.into_iter().filter(|l| !l.keyed_by_code()) {
                let sql = format!("DELETE FROM {} WHERE source = ?", layer.table());
                let done = sqlx::query(&sql)
                    .bind(&batch.source)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db())?;
                outcome.replaced += done.rows_affected() as usize;
            }
            for (layer, rows) in schema::encode(&batch.territory, &batch.source) {
                if rows.is_empty() {
                    continue;
                }
                let sql = layer.insert_sql(param);
                let mut extent: Option<geo_types::Rect<f64>> = None;
                for row in &rows {
                    let mut q = sqlx::query(&sql);
                    for v in row {
                        q = match v {
                            Value::Null => q.bind(None::<i64>),
                            Value::Int(i) => q.bind(*i),
                            Value::Real(r) => q.bind(*r),
                            Value::Bool(b) => q.bind(*b),
                            Value::Text(s) => q.bind(s.as_str()),
                            Value::Time(t) => q.bind(schema::format_time(*t)),
                            Value::Geom(g) => {
                                if let Some(r) = g.bounding_rect() {
                                    extent = Some(extent.map_or(r, |e| union(e, r)));
                                }
                                q.bind(encode_geom(layer.table(), g)?)
                            }
                        };
                    }
                    q.execute(&mut *tx).await.map_err(self.db())?;
                }
                if let Some(e) = extent {
                    sqlx::query(
                        "UPDATE gpkg_contents SET \
                         min_x = min(coalesce(min_x, ?1), ?1), min_y = min(coalesce(min_y, ?2), ?2), \
                         max_x = max(coalesce(max_x, ?3), ?3), max_y = max(coalesce(max_y, ?4), ?4), \
                         last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?5",
                    )
                    .bind(e.min().x)
                    .bind(e.min().y)
                    .bind(e.max().x)
                    .bind(e.max().y)
                    .bind(layer.table())
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db())?;
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
            let rows = sqlx::query(&layer.select_sql("fid", select_expr))
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

fn union(a: geo_types::Rect<f64>, b: geo_types::Rect<f64>) -> geo_types::Rect<f64> {
    geo_types::Rect::new(
        geo_types::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
        geo_types::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
    )
}

//! The store schema, kept once for both backends: each layer's table and
//! columns, and how model features become rows and rows become features.
//!
//! The SQL DDL lives in the versioned migrations (`service/migrations/`); the
//! column lists here must match them (the store test suite checks round trips).

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use civgrid::cells::{Adjacency, Cell};
use civgrid::components::Component;
use civgrid::grids::{Contact, Grid};
use civgrid::zones::ZoneFeature;
use civgrid::{
    AdminArea, AdminCode, Assessment, Barrier, Building, Facility, Hazard, HazardGeometry,
    Incident, Road, Territory,
};
use geo_types::Geometry;

use super::{CareCount, StoreError};

/// The type of a stored column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Text.
    Text,
    /// 64-bit integer.
    Int,
    /// Double.
    Real,
    /// Boolean.
    Bool,
    /// A point in time (seconds since the epoch in the model).
    Time,
    /// A calendar day.
    Date,
    /// The feature's geometry in EPSG:4490.
    Geom,
}

/// A column of a layer's table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Column name.
    pub name: &'static str,
    /// Column type.
    pub ty: ColumnType,
}

const fn col(name: &'static str, ty: ColumnType) -> Column {
    Column { name, ty }
}

use ColumnType::{Bool, Date, Geom, Int, Real, Text, Time};

const ADMIN: &[Column] = &[col("geom", Geom), col("code", Text), col("name", Text)];
const COMMUNITY: &[Column] = &[
    col("geom", Geom),
    col("code", Text),
    col("name", Text),
    col("kind", Text),
];
const BUILDING: &[Column] = &[
    col("geom", Geom),
    col("source", Text),
    col("name", Text),
    col("levels", Int),
    col("households", Int),
    col("households_estimated", Bool),
];
const FACILITY: &[Column] = &[
    col("geom", Geom),
    col("source", Text),
    col("kind", Text),
    col("name", Text),
    col("capacity", Int),
    col("staff", Int),
    col("contact", Text),
];
const HAZARD: &[Column] = &[
    col("geom", Geom),
    col("source", Text),
    col("kind", Text),
    col("name", Text),
    col("method", Text),
    col("level", Text),
    col("lec_l", Real),
    col("lec_e", Real),
    col("lec_c", Real),
    col("likelihood", Int),
    col("severity", Int),
];
const ROAD: &[Column] = &[
    col("geom", Geom),
    col("source", Text),
    col("class", Text),
    col("name", Text),
    col("speed_kmh", Real),
    col("oneway", Text),
];
const BARRIER: &[Column] = &[
    col("geom", Geom),
    col("source", Text),
    col("kind", Text),
    col("name", Text),
];
const INCIDENT: &[Column] = &[
    col("geom", Geom),
    col("source", Text),
    col("kind", Text),
    col("time", Time),
];
const COMPONENT: &[Column] = &[
    col("geom", Geom),
    col("source", Text),
    col("code", Text),
    col("name", Text),
    col("owner", Text),
    col("maintainer", Text),
    col("state", Text),
    col("cell", Text),
];
const ZONE: &[Column] = &[
    col("geom", Geom),
    col("source", Text),
    col("layer", Text),
    col("code", Text),
    col("name", Text),
    col("complete", Bool),
];

/// A stored table: its name, its columns after the id, and its upsert key.
#[derive(Debug)]
pub struct Table {
    /// Table name.
    pub name: &'static str,
    /// The columns after the id, in row order.
    pub columns: &'static [Column],
    /// A unique column: an insert of an existing key updates that row.
    pub upsert_key: Option<&'static str>,
}

/// Rows per `INSERT` statement: well under both databases' parameter limits
/// (SQLite 32,766, PostgreSQL 65,535) for every table here.
pub const ROWS_PER_INSERT: usize = 256;

impl Table {
    /// `INSERT` of `rows` rows; `param(i, ty)` writes the i-th (1-based)
    /// placeholder. With `returning`, the statement returns that column.
    pub fn insert_sql(
        &self,
        rows: usize,
        param: impl Fn(usize, ColumnType) -> String,
        returning: Option<&str>,
    ) -> String {
        let names: Vec<_> = self.columns.iter().map(|c| c.name).collect();
        let n = self.columns.len();
        let tuples: Vec<_> = (0..rows)
            .map(|r| {
                let params: Vec<_> = self
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| param(r * n + i + 1, c.ty))
                    .collect();
                format!("({})", params.join(", "))
            })
            .collect();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            self.name,
            names.join(", "),
            tuples.join(", ")
        );
        if let Some(key) = self.upsert_key {
            let updates: Vec<_> = names
                .iter()
                .filter(|c| **c != key)
                .map(|c| format!("{c} = excluded.{c}"))
                .collect();
            let _ = write!(
                sql,
                " ON CONFLICT ({key}) DO UPDATE SET {}",
                updates.join(", ")
            );
        }
        if let Some(column) = returning {
            let _ = write!(sql, " RETURNING {column}");
        }
        sql
    }

    /// The columns an update writes: all but `source`, which stays with the
    /// file that brought the feature (so re-importing that file replaces it).
    pub fn updated_columns(&self) -> impl Iterator<Item = (usize, &'static Column)> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.name != "source")
    }

    /// `UPDATE … WHERE id = ?` of [`Table::updated_columns`]; the id is the
    /// last parameter.
    pub fn update_sql(&self, id: &str, param: impl Fn(usize, ColumnType) -> String) -> String {
        let mut i = 0;
        let sets: Vec<_> = self
            .updated_columns()
            .map(|(_, c)| {
                i += 1;
                format!("{} = {}", c.name, param(i, c.ty))
            })
            .collect();
        format!(
            "UPDATE {} SET {} WHERE {id} = {}",
            self.name,
            sets.join(", "),
            param(i + 1, ColumnType::Int)
        )
    }

    /// `SELECT id, columns… ORDER BY id`; `expr(name, ty)` reads one column.
    pub fn select_sql(
        &self,
        id: &str,
        expr: impl Fn(&str, ColumnType) -> String,
        only: Option<&str>,
    ) -> String {
        let cols: Vec<_> = self.columns.iter().map(|c| expr(c.name, c.ty)).collect();
        let filter = only.map_or_else(String::new, |p| format!(" WHERE {id} = {p}"));
        format!(
            "SELECT {id}, {} FROM {}{filter} ORDER BY {id}",
            cols.join(", "),
            self.name
        )
    }
}

const fn table(name: &'static str, columns: &'static [Column]) -> Table {
    Table {
        name,
        columns,
        upsert_key: None,
    }
}

const fn admin_table(name: &'static str, columns: &'static [Column]) -> Table {
    Table {
        name,
        columns,
        upsert_key: Some("code"),
    }
}

static DISTRICTS: Table = admin_table("districts", ADMIN);
static SUBDISTRICTS: Table = admin_table("subdistricts", ADMIN);
static COMMUNITIES: Table = admin_table("communities", COMMUNITY);
static BUILDINGS: Table = table("buildings", BUILDING);
static FACILITIES: Table = table("facilities", FACILITY);
static HAZARDS: Table = table("hazards", HAZARD);
static ROADS: Table = table("roads", ROAD);
static BARRIERS: Table = table("barriers", BARRIER);
static INCIDENTS: Table = table("incidents", INCIDENT);
static COMPONENTS: Table = table("components", COMPONENT);

/// The `cell` column of the components table alone: what `civgrid cells`
/// rewrites, so a component written meanwhile keeps everything else.
pub static COMPONENT_CELLS: Table = table("components", &[col("cell", Text)]);
static ZONES: Table = table("zones", ZONE);

/// Unit cells, active and retired.
pub static CELLS: Table = table(
    "cells",
    &[
        col("geom", Geom),
        col("code", Text),
        col("community", Text),
        col("area_m2", Real),
        col("h3", Text),
        col("start_date", Date),
        col("end_date", Date),
    ],
);

/// Pairs of active cells sharing an edge.
pub static CELL_ADJACENCY: Table = table(
    "cell_adjacency",
    &[col("a", Text), col("b", Text), col("shared_m", Real)],
);

/// Household grids, active and retired.
pub static GRIDS: Table = Table {
    name: "grids",
    columns: &[
        col("geom", Geom),
        col("code", Text),
        col("community", Text),
        col("kind", Text),
        col("name", Text),
        col("households", Int),
        col("population", Int),
        col("area_m2", Real),
        col("worker_name", Text),
        col("worker_phone", Text),
        col("leader_name", Text),
        col("leader_phone", Text),
        col("start_date", Date),
        col("end_date", Date),
    ],
    upsert_key: Some("code"),
};

/// The log of planner edits of grids.
pub static GRID_EDITS: Table = table(
    "grid_edits",
    &[
        col("community", Text),
        col("op", Text),
        col("author", Text),
        col("at", Time),
        col("request", Text),
        col("before", Text),
        col("after", Text),
        col("reverts", Int),
    ],
);

/// People cared for by grid workers, counted per grid and group.
pub static CARE_COUNTS: Table = table(
    "care_counts",
    &[
        col("grid", Text),
        col("care_group", Text),
        col("people", Int),
    ],
);

/// The audit log: every write through the API or the CLI, with who made
/// it, when, and the feature before and after (migration 0006).
pub static AUDIT: Table = table(
    "audit",
    &[
        col("at", Time),
        col("actor", Text),
        col("role", Text),
        col("action", Text),
        col("layer", Text),
        col("feature_id", Int),
        col("community", Text),
        col("before", Text),
        col("after", Text),
    ],
);

/// The column of [`AUDIT`] that names the written feature's id.
pub const AUDIT_FEATURE_ID: usize = 5;

/// A layer of the territory model: one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// `districts`.
    Districts,
    /// `subdistricts`.
    Subdistricts,
    /// `communities`.
    Communities,
    /// `buildings`.
    Buildings,
    /// `facilities`.
    Facilities,
    /// `hazards`.
    Hazards,
    /// `roads`.
    Roads,
    /// `barriers`: rivers, canals, walls… that cells follow.
    Barriers,
    /// `incidents`.
    Incidents,
    /// `components` (部件), migration 0007.
    Components,
    /// `zones` of overlay layers, migration 0007.
    Zones,
}

impl Layer {
    /// Every layer, parents before children.
    pub const ALL: [Self; 11] = [
        Self::Districts,
        Self::Subdistricts,
        Self::Communities,
        Self::Buildings,
        Self::Facilities,
        Self::Hazards,
        Self::Roads,
        Self::Barriers,
        Self::Incidents,
        Self::Components,
        Self::Zones,
    ];

    /// The layer's table.
    pub fn def(self) -> &'static Table {
        match self {
            Self::Districts => &DISTRICTS,
            Self::Subdistricts => &SUBDISTRICTS,
            Self::Communities => &COMMUNITIES,
            Self::Buildings => &BUILDINGS,
            Self::Facilities => &FACILITIES,
            Self::Hazards => &HAZARDS,
            Self::Roads => &ROADS,
            Self::Barriers => &BARRIERS,
            Self::Incidents => &INCIDENTS,
            Self::Components => &COMPONENTS,
            Self::Zones => &ZONES,
        }
    }

    /// The table name.
    pub fn table(self) -> &'static str {
        self.def().name
    }

    /// The columns after the id, in row order.
    pub fn columns(self) -> &'static [Column] {
        self.def().columns
    }

    /// `true` for the administrative layers, keyed (and upserted) by `code`;
    /// the others are keyed by the `source` file that brought them.
    pub fn keyed_by_code(self) -> bool {
        self.def().upsert_key.is_some()
    }
}

/// One stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Integer.
    Int(i64),
    /// Double.
    Real(f64),
    /// Boolean.
    Bool(bool),
    /// Text.
    Text(String),
    /// Seconds since the Unix epoch.
    Time(i64),
    /// A calendar day.
    Date(NaiveDate),
    /// Geometry.
    Geom(Geometry<f64>),
}

impl Value {
    /// The geometry, if this is one.
    pub fn geometry(&self) -> Option<&Geometry<f64>> {
        match self {
            Self::Geom(g) => Some(g),
            _ => None,
        }
    }
}

impl From<Option<u32>> for Value {
    fn from(v: Option<u32>) -> Self {
        v.map_or(Self::Null, |v| Self::Int(i64::from(v)))
    }
}

impl From<Option<f64>> for Value {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Self::Null, Self::Real)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

/// Formats seconds since the epoch as RFC 3339 UTC (GeoPackage DATETIME).
pub fn format_time(unix_s: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix_s, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses an RFC 3339 / ISO 8601 time into seconds since the epoch.
pub fn parse_time(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.timestamp())
}

/// The rows of every layer of `t`, each row in [`Layer::columns`] order.
pub fn encode(t: &Territory, source: &str) -> Vec<(Layer, Vec<Vec<Value>>)> {
    let admin = |a: &AdminArea| {
        let mut row = vec![
            Value::Geom(a.geometry.clone().into()),
            Value::Text(a.code.to_string()),
            a.name.as_str().into(),
        ];
        if let Some(kind) = a.kind {
            row.push(kind.as_str().into());
        }
        row
    };
    let src = || Value::from(source);
    vec![
        (Layer::Districts, t.districts.iter().map(admin).collect()),
        (
            Layer::Subdistricts,
            t.subdistricts.iter().map(admin).collect(),
        ),
        (
            Layer::Communities,
            t.communities.iter().map(admin).collect(),
        ),
        (
            Layer::Buildings,
            t.buildings
                .iter()
                .map(|b| {
                    vec![
                        Value::Geom(b.geometry.clone().into()),
                        src(),
                        b.name.as_str().into(),
                        b.levels.into(),
                        Value::Int(i64::from(b.households)),
                        Value::Bool(b.households_estimated),
                    ]
                })
                .collect(),
        ),
        (
            Layer::Facilities,
            t.facilities
                .iter()
                .map(|f| facility_row(f, src()))
                .collect(),
        ),
        (
            Layer::Hazards,
            t.hazards.iter().map(|h| hazard_row(h, src())).collect(),
        ),
        (
            Layer::Roads,
            t.roads
                .iter()
                .map(|r| {
                    vec![
                        Value::Geom(r.geometry.clone().into()),
                        src(),
                        r.class.as_str().into(),
                        r.name.as_str().into(),
                        r.speed_kmh.into(),
                        r.oneway.as_str().into(),
                    ]
                })
                .collect(),
        ),
        (
            Layer::Barriers,
            t.barriers.iter().map(|b| barrier_row(b, src())).collect(),
        ),
        (
            Layer::Incidents,
            t.incidents
                .iter()
                .map(|i| {
                    vec![
                        Value::Geom(i.location.into()),
                        src(),
                        i.kind.as_str().into(),
                        Value::Time(i.time_unix_s),
                    ]
                })
                .collect(),
        ),
        (
            Layer::Components,
            t.components
                .iter()
                .map(|c| component_row(c, src()))
                .collect(),
        ),
        (
            Layer::Zones,
            t.zones.iter().map(|z| zone_row(z, src())).collect(),
        ),
    ]
}

/// The row of one barrier.
fn barrier_row(b: &Barrier, source: Value) -> Vec<Value> {
    vec![
        Value::Geom(b.geometry.clone().into()),
        source,
        b.kind.as_str().into(),
        b.name.as_str().into(),
    ]
}

/// The row of one zone.
fn zone_row(z: &ZoneFeature, source: Value) -> Vec<Value> {
    vec![
        Value::Geom(z.geometry.clone().into()),
        source,
        z.layer.as_str().into(),
        z.code.as_str().into(),
        z.name.as_str().into(),
        Value::Bool(z.complete),
    ]
}

/// The row of one component.
pub fn component_row(c: &Component, source: Value) -> Vec<Value> {
    vec![
        Value::Geom(c.geometry.clone()),
        source,
        Value::Text(c.code.to_string()),
        c.name.as_str().into(),
        c.owner.as_str().into(),
        c.maintainer.as_str().into(),
        c.state.as_str().into(),
        c.cell
            .map_or(Value::Null, |cell| Value::Text(cell.to_string())),
    ]
}

/// The row of one facility.
pub fn facility_row(f: &Facility, source: Value) -> Vec<Value> {
    vec![
        Value::Geom(f.location.into()),
        source,
        f.kind.as_str().into(),
        f.name.as_str().into(),
        f.capacity.into(),
        f.staff.into(),
        f.contact.as_deref().map_or(Value::Null, Value::from),
    ]
}

/// The row of one hazard.
pub fn hazard_row(h: &Hazard, source: Value) -> Vec<Value> {
    let geom: Geometry<f64> = match &h.geometry {
        HazardGeometry::Point(p) => (*p).into(),
        HazardGeometry::Area(a) => a.clone().into(),
    };
    let (method, lec, matrix) = match h.assessment {
        Assessment::Given { .. } => ("given", [None; 3], [None; 2]),
        Assessment::Lec { l, e, c } => ("lec", [Some(l), Some(e), Some(c)], [None; 2]),
        Assessment::Matrix {
            likelihood,
            severity,
        } => (
            "matrix",
            [None; 3],
            [Some(u32::from(likelihood)), Some(u32::from(severity))],
        ),
    };
    vec![
        Value::Geom(geom),
        source,
        h.kind.as_str().into(),
        h.name.as_str().into(),
        method.into(),
        h.level().as_str().into(),
        lec[0].into(),
        lec[1].into(),
        lec[2].into(),
        matrix[0].into(),
        matrix[1].into(),
    ]
}

/// Reads the values of one row, in column order, with typed accessors that
/// name the layer, row and column of anything unexpected.
struct RowReader<'a> {
    table: &'static Table,
    id: i64,
    values: std::vec::IntoIter<Value>,
    columns: std::slice::Iter<'a, Column>,
}

impl RowReader<'_> {
    fn corrupt(&self, column: &str, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            table: self.table.name,
            id: self.id,
            column: column.to_owned(),
            reason: reason.into(),
        }
    }

    fn next(&mut self) -> (&'static str, Value) {
        let name = self.columns.next().map_or("?", |c| c.name);
        (name, self.values.next().unwrap_or(Value::Null))
    }

    fn text(&mut self) -> Result<String, StoreError> {
        match self.next() {
            (_, Value::Text(s)) => Ok(s),
            (c, v) => Err(self.corrupt(c, format!("expected text, found {v:?}"))),
        }
    }

    fn opt_text(&mut self) -> Result<Option<String>, StoreError> {
        match self.next() {
            (_, Value::Null) => Ok(None),
            (_, Value::Text(s)) => Ok(Some(s)),
            (c, v) => Err(self.corrupt(c, format!("expected text, found {v:?}"))),
        }
    }

    fn parsed<T: std::str::FromStr>(&mut self) -> Result<T, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        let name = self.columns.clone().next().map_or("?", |c| c.name);
        let s = self.text()?;
        s.parse()
            .map_err(|e: T::Err| self.corrupt(name, e.to_string()))
    }

    fn opt_parsed<T: std::str::FromStr>(&mut self) -> Result<Option<T>, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        let name = self.columns.clone().next().map_or("?", |c| c.name);
        self.opt_text()?
            .map(|s| {
                s.parse()
                    .map_err(|e: T::Err| self.corrupt(name, e.to_string()))
            })
            .transpose()
    }

    fn opt_u32(&mut self) -> Result<Option<u32>, StoreError> {
        match self.next() {
            (_, Value::Null) => Ok(None),
            (c, Value::Int(i)) => u32::try_from(i)
                .map(Some)
                .map_err(|_| self.corrupt(c, format!("{i} out of range"))),
            (c, v) => Err(self.corrupt(c, format!("expected an integer, found {v:?}"))),
        }
    }

    fn opt_int(&mut self) -> Result<Option<i64>, StoreError> {
        match self.next() {
            (_, Value::Null) => Ok(None),
            (_, Value::Int(i)) => Ok(Some(i)),
            (c, v) => Err(self.corrupt(c, format!("expected an integer, found {v:?}"))),
        }
    }

    fn opt_real(&mut self) -> Result<Option<f64>, StoreError> {
        match self.next() {
            (_, Value::Null) => Ok(None),
            (_, Value::Real(r)) => Ok(Some(r)),
            (_, Value::Int(i)) => Ok(Some(i as f64)),
            (c, v) => Err(self.corrupt(c, format!("expected a number, found {v:?}"))),
        }
    }

    fn boolean(&mut self) -> Result<bool, StoreError> {
        match self.next() {
            (_, Value::Bool(b)) => Ok(b),
            (_, Value::Int(i)) => Ok(i != 0),
            (c, v) => Err(self.corrupt(c, format!("expected a boolean, found {v:?}"))),
        }
    }

    fn time(&mut self) -> Result<i64, StoreError> {
        match self.next() {
            (_, Value::Time(t)) => Ok(t),
            (c, v) => Err(self.corrupt(c, format!("expected a time, found {v:?}"))),
        }
    }

    fn date(&mut self) -> Result<Option<NaiveDate>, StoreError> {
        match self.next() {
            (_, Value::Null) => Ok(None),
            (_, Value::Date(d)) => Ok(Some(d)),
            (c, v) => Err(self.corrupt(c, format!("expected a date, found {v:?}"))),
        }
    }

    fn geom<T: TryFrom<Geometry<f64>>>(&mut self, expected: &str) -> Result<T, StoreError> {
        match self.next() {
            (c, Value::Geom(g)) => {
                let found = geom_name(&g);
                T::try_from(g)
                    .map_err(|_| self.corrupt(c, format!("expected {expected}, found {found}")))
            }
            (c, v) => Err(self.corrupt(c, format!("expected a geometry, found {v:?}"))),
        }
    }

    fn source(&mut self) {
        self.next();
    }
}

fn geom_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) => "Line",
        Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
    }
}

/// Decodes one stored row of `layer` into `t`.
pub fn decode(
    layer: Layer,
    id: i64,
    values: Vec<Value>,
    t: &mut Territory,
) -> Result<(), StoreError> {
    let mut r = RowReader {
        table: layer.def(),
        id,
        values: values.into_iter(),
        columns: layer.columns().iter(),
    };
    match layer {
        Layer::Districts | Layer::Subdistricts | Layer::Communities => {
            let geometry = r.geom("MultiPolygon")?;
            let code: AdminCode = r.parsed()?;
            let name = r.text()?;
            let kind = if layer == Layer::Communities {
                Some(r.parsed()?)
            } else {
                None
            };
            let area = AdminArea {
                code,
                name,
                kind,
                geometry,
            };
            match layer {
                Layer::Districts => t.districts.push(area),
                Layer::Subdistricts => t.subdistricts.push(area),
                _ => t.communities.push(area),
            }
        }
        Layer::Buildings => {
            let geometry = r.geom("MultiPolygon")?;
            r.source();
            t.buildings.push(Building {
                id,
                geometry,
                name: r.text()?,
                levels: r.opt_u32()?,
                households: r.opt_u32()?.unwrap_or(0),
                households_estimated: r.boolean()?,
            });
        }
        Layer::Facilities => {
            let location = r.geom("Point")?;
            r.source();
            t.facilities.push(Facility {
                id,
                location,
                kind: r.parsed()?,
                name: r.text()?,
                capacity: r.opt_u32()?,
                staff: r.opt_u32()?,
                contact: r.opt_text()?,
            });
        }
        Layer::Hazards => t.hazards.push(decode_hazard(&mut r)?),
        Layer::Roads => {
            let geometry = r.geom("LineString")?;
            r.source();
            t.roads.push(Road {
                id,
                geometry,
                class: r.text()?,
                name: r.text()?,
                speed_kmh: r.opt_real()?,
                oneway: r.parsed()?,
            });
        }
        Layer::Barriers => {
            let geometry = r.geom("LineString")?;
            r.source();
            t.barriers.push(Barrier {
                id,
                geometry,
                kind: r.parsed()?,
                name: r.text()?,
            });
        }
        Layer::Incidents => {
            let location = r.geom("Point")?;
            r.source();
            t.incidents.push(Incident {
                id,
                location,
                kind: r.text()?,
                time_unix_s: r.time()?,
            });
        }
        Layer::Components => t.components.push(decode_component(&mut r)?),
        Layer::Zones => t.zones.push(decode_zone(&mut r)?),
    }
    Ok(())
}

fn decode_component(r: &mut RowReader<'_>) -> Result<Component, StoreError> {
    let geometry: Geometry<f64> = r.geom("a geometry")?;
    r.source();
    Ok(Component {
        id: r.id,
        geometry,
        code: r.parsed()?,
        name: r.text()?,
        owner: r.text()?,
        maintainer: r.text()?,
        state: r.parsed()?,
        cell: r.opt_parsed()?,
    })
}

fn decode_zone(r: &mut RowReader<'_>) -> Result<ZoneFeature, StoreError> {
    let geometry = r.geom("MultiPolygon")?;
    r.source();
    Ok(ZoneFeature {
        id: r.id,
        geometry,
        layer: r.text()?,
        code: r.text()?,
        name: r.text()?,
        complete: r.boolean()?,
    })
}

fn decode_hazard(r: &mut RowReader<'_>) -> Result<Hazard, StoreError> {
    let geometry = match r.next() {
        (_, Value::Geom(Geometry::Point(p))) => HazardGeometry::Point(p),
        (_, Value::Geom(Geometry::MultiPolygon(m))) => HazardGeometry::Area(m),
        (_, Value::Geom(Geometry::Polygon(p))) => HazardGeometry::Area(p.into()),
        (c, v) => return Err(r.corrupt(c, format!("expected a point or polygon, found {v:?}"))),
    };
    r.source();
    let kind = r.text()?;
    let name = r.text()?;
    let method = r.text()?;
    let level = r.parsed()?;
    let lec = [r.opt_real()?, r.opt_real()?, r.opt_real()?];
    let matrix = [r.opt_real()?, r.opt_real()?];
    let assessment = match (method.as_str(), lec, matrix) {
        ("given", _, _) => Ok(Assessment::Given { level }),
        ("lec", [Some(l), Some(e), Some(c)], _) => {
            Assessment::lec(l, e, c).map_err(|e| r.corrupt(e.field, e.to_string()))
        }
        ("matrix", _, [Some(l), Some(s)]) => {
            Assessment::matrix(l, s).map_err(|e| r.corrupt(e.field, e.to_string()))
        }
        _ => Err(r.corrupt("method", format!("{method:?} without its factors"))),
    }?;
    Ok(Hazard {
        id: r.id,
        kind,
        name,
        assessment,
        geometry,
    })
}

/// The row of one cell.
pub fn cell_row(c: &Cell) -> Vec<Value> {
    vec![
        Value::Geom(c.geometry.clone().into()),
        Value::Text(c.code.to_string()),
        Value::Text(c.community.to_string()),
        Value::Real(c.area_m2),
        Value::Text(c.h3.to_string()),
        Value::Date(c.start),
        c.end.map_or(Value::Null, Value::Date),
    ]
}

/// The row of one adjacency.
pub fn adjacency_row(a: &Adjacency) -> Vec<Value> {
    vec![
        Value::Text(a.a.to_string()),
        Value::Text(a.b.to_string()),
        Value::Real(a.shared_m),
    ]
}

/// The row of one grid.
pub fn grid_row(g: &Grid) -> Vec<Value> {
    let contact = |c: &Option<Contact>| -> [Value; 2] {
        match c {
            Some(c) => [c.name.as_str().into(), c.phone.as_str().into()],
            None => [Value::Null, Value::Null],
        }
    };
    let [worker_name, worker_phone] = contact(&g.worker);
    let [leader_name, leader_phone] = contact(&g.leader);
    vec![
        Value::Geom(g.geometry.clone().into()),
        Value::Text(g.code.to_string()),
        Value::Text(g.community.to_string()),
        g.kind.as_str().into(),
        g.name.as_str().into(),
        Value::Int(i64::from(g.households)),
        g.population
            .map_or(Value::Null, |p| Value::Int(i64::from(p))),
        Value::Real(g.area_m2),
        worker_name,
        worker_phone,
        leader_name,
        leader_phone,
        Value::Date(g.start),
        g.end.map_or(Value::Null, Value::Date),
    ]
}

/// Decodes one stored row of [`GRIDS`].
pub fn decode_grid(id: i64, values: Vec<Value>) -> Result<Grid, StoreError> {
    let mut r = reader(&GRIDS, id, values);
    let contact = |r: &mut RowReader<'_>| -> Result<Option<Contact>, StoreError> {
        let (name, phone) = (r.opt_text()?, r.opt_text()?);
        Ok((name.is_some() || phone.is_some()).then(|| Contact {
            name: name.unwrap_or_default(),
            phone: phone.unwrap_or_default(),
        }))
    };
    Ok(Grid {
        geometry: r.geom("MultiPolygon")?,
        code: r.parsed()?,
        community: r.parsed()?,
        kind: r.parsed()?,
        name: r.text()?,
        households: r.opt_u32()?.unwrap_or(0),
        population: r.opt_u32()?,
        area_m2: r.opt_real()?.unwrap_or(0.0),
        worker: contact(&mut r)?,
        leader: contact(&mut r)?,
        start: r
            .date()?
            .ok_or_else(|| r.corrupt("start_date", "missing"))?,
        end: r.date()?,
    })
}

/// One stored planner edit of grids.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GridEditRecord {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// The community edited.
    pub community: String,
    /// The operation (`merge`, `split`, …, or `revert`).
    pub op: String,
    /// Who made it.
    pub author: String,
    /// When, seconds since the epoch.
    pub at: i64,
    /// The request as received (JSON).
    pub request: String,
    /// The touched grids before (a GeoJSON FeatureCollection).
    pub before: String,
    /// The touched grids after (a GeoJSON FeatureCollection).
    pub after: String,
    /// The edit this one reverts, if it is a revert.
    pub reverts: Option<i64>,
}

/// The row of one grid edit.
pub fn grid_edit_row(e: &GridEditRecord) -> Vec<Value> {
    vec![
        e.community.as_str().into(),
        e.op.as_str().into(),
        e.author.as_str().into(),
        Value::Time(e.at),
        e.request.as_str().into(),
        e.before.as_str().into(),
        e.after.as_str().into(),
        e.reverts.map_or(Value::Null, Value::Int),
    ]
}

/// Decodes one stored row of [`GRID_EDITS`].
pub fn decode_grid_edit(id: i64, values: Vec<Value>) -> Result<GridEditRecord, StoreError> {
    let mut r = reader(&GRID_EDITS, id, values);
    Ok(GridEditRecord {
        id,
        community: r.text()?,
        op: r.text()?,
        author: r.text()?,
        at: r.time()?,
        request: r.text()?,
        before: r.text()?,
        after: r.text()?,
        reverts: r.opt_int()?,
    })
}

/// Who writes: a token's name and role, or the CLI's user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Actor {
    /// The token's name (`cli:USER` on the command line).
    pub name: String,
    /// Its role (`planner`, `dispatcher`, `admin`, or `cli`).
    pub role: String,
}

impl Actor {
    /// The user running a CLI command (`$USER`).
    pub fn cli() -> Self {
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        Self {
            name: format!("cli:{user}"),
            role: "cli".into(),
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditRecord {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// When, seconds since the epoch.
    pub at: i64,
    /// Who.
    pub actor: Actor,
    /// What: `create`, `update`, `delete`, `grids:OP`, `plan`.
    pub action: String,
    /// The layer written (`facilities`, `hazards`, `grids`).
    pub layer: String,
    /// The feature's id, for facilities and hazards.
    pub feature_id: Option<i64>,
    /// The community, for grids.
    pub community: Option<String>,
    /// The feature(s) before (GeoJSON), `None` for a creation.
    pub before: Option<String>,
    /// The feature(s) after (GeoJSON), `None` for a deletion.
    pub after: Option<String>,
}

impl AuditRecord {
    /// A record of `action` on `layer` by `actor`, now.
    pub fn now(actor: &Actor, action: &str, layer: &str) -> Self {
        Self {
            id: 0,
            at: chrono::Utc::now().timestamp(),
            actor: actor.clone(),
            action: action.to_owned(),
            layer: layer.to_owned(),
            feature_id: None,
            community: None,
            before: None,
            after: None,
        }
    }
}

/// The row of one audit entry.
pub fn audit_row(a: &AuditRecord) -> Vec<Value> {
    let text = |s: &Option<String>| s.as_deref().map_or(Value::Null, Value::from);
    vec![
        Value::Time(a.at),
        a.actor.name.as_str().into(),
        a.actor.role.as_str().into(),
        a.action.as_str().into(),
        a.layer.as_str().into(),
        a.feature_id.map_or(Value::Null, Value::Int),
        text(&a.community),
        text(&a.before),
        text(&a.after),
    ]
}

/// Decodes one stored row of [`AUDIT`].
pub fn decode_audit(id: i64, values: Vec<Value>) -> Result<AuditRecord, StoreError> {
    let mut r = reader(&AUDIT, id, values);
    Ok(AuditRecord {
        id,
        at: r.time()?,
        actor: Actor {
            name: r.text()?,
            role: r.text()?,
        },
        action: r.text()?,
        layer: r.text()?,
        feature_id: r.opt_int()?,
        community: r.opt_text()?,
        before: r.opt_text()?,
        after: r.opt_text()?,
    })
}

fn reader(table: &'static Table, id: i64, values: Vec<Value>) -> RowReader<'static> {
    RowReader {
        table,
        id,
        values: values.into_iter(),
        columns: table.columns.iter(),
    }
}

/// Decodes one stored row of [`CELLS`].
pub fn decode_cell(id: i64, values: Vec<Value>) -> Result<Cell, StoreError> {
    let mut r = reader(&CELLS, id, values);
    Ok(Cell {
        geometry: r.geom("MultiPolygon")?,
        code: r.parsed()?,
        community: r.parsed()?,
        area_m2: r.opt_real()?.unwrap_or(0.0),
        h3: r.parsed()?,
        start: r
            .date()?
            .ok_or_else(|| r.corrupt("start_date", "missing"))?,
        end: r.date()?,
    })
}

/// Decodes one stored row of [`CELL_ADJACENCY`].
pub fn decode_adjacency(id: i64, values: Vec<Value>) -> Result<Adjacency, StoreError> {
    let mut r = reader(&CELL_ADJACENCY, id, values);
    Ok(Adjacency {
        a: r.parsed()?,
        b: r.parsed()?,
        shared_m: r.opt_real()?.unwrap_or(0.0),
    })
}

/// The row of a [`CareCount`].
pub fn care_row(c: &CareCount) -> Vec<Value> {
    vec![
        Value::Text(c.grid.to_string()),
        c.group.as_str().into(),
        Value::Int(i64::from(c.people)),
    ]
}

/// Decodes one stored row of [`CARE_COUNTS`].
pub fn decode_care(id: i64, values: Vec<Value>) -> Result<CareCount, StoreError> {
    let mut r = reader(&CARE_COUNTS, id, values);
    Ok(CareCount {
        grid: r.parsed()?,
        group: r.text()?,
        people: r.opt_u32()?.unwrap_or_default(),
    })
}

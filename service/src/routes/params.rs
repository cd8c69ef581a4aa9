//! Query parameters validated into domain values, with messages that name
//! the parameter and say what is expected.

use civgrid::{Datum, FacilityKind};
use geo::CoordsIter;
use geo_types::{Coord, Geometry, Point, Rect};

use crate::error::ServiceError;
use crate::import;

/// Parses a required number parameter within `range`.
pub fn number(
    name: &str,
    value: Option<&str>,
    range: std::ops::RangeInclusive<f64>,
) -> Result<f64, ServiceError> {
    let v = value.ok_or_else(|| ServiceError::BadRequest(format!("missing parameter {name}")))?;
    let n: f64 = v.trim().parse().map_err(|_| {
        ServiceError::BadRequest(format!("parameter {name} = {v:?} is not a number"))
    })?;
    if !n.is_finite() || !range.contains(&n) {
        return Err(ServiceError::BadRequest(format!(
            "parameter {name} = {v} is out of range {}..{}",
            range.start(),
            range.end()
        )));
    }
    Ok(n)
}

/// Parses an optional parameter (a code, a state…) with its `FromStr`;
/// the error names the parameter, the value and why.
pub fn parsed<T: std::str::FromStr>(
    name: &str,
    value: Option<&str>,
) -> Result<Option<T>, ServiceError>
where
    T::Err: std::fmt::Display,
{
    value
        .map(|v| {
            v.trim().parse().map_err(|e: T::Err| {
                ServiceError::BadRequest(format!("parameter {name} = {v:?}: {e}"))
            })
        })
        .transpose()
}

/// A lon/lat point from `lon`, `lat` and an optional `datum` (gcj02, bd09),
/// converted to CGCS2000.
pub fn point(
    lon: Option<&str>,
    lat: Option<&str>,
    datum: Option<&str>,
) -> Result<Point<f64>, ServiceError> {
    let x = number("lon", lon, LON)?;
    let y = number("lat", lat, LAT)?;
    to_cgcs2000(x, y, datum, "parameter")
}

const LON: std::ops::RangeInclusive<f64> = -180.0..=180.0;
const LAT: std::ops::RangeInclusive<f64> = -90.0..=90.0;

/// A lon/lat point given as numbers (a JSON body's `lon`, `lat`, `datum`
/// fields), checked and converted to CGCS2000 like [`point`].
///
/// # Errors
/// [`ServiceError::BadRequest`] naming the field out of range or the datum.
pub fn lonlat(x: f64, y: f64, datum: Option<&str>) -> Result<Point<f64>, ServiceError> {
    for (name, v, range) in [("lon", x, LON), ("lat", y, LAT)] {
        if !v.is_finite() || !range.contains(&v) {
            return Err(ServiceError::BadRequest(format!(
                "field {name} = {v} is out of range {}..{}",
                range.start(),
                range.end()
            )));
        }
    }
    to_cgcs2000(x, y, datum, "field")
}

/// `(x, y)` in `datum` (CGCS2000 when absent) converted to CGCS2000; errors
/// call the datum a `what` (parameter, field). A GCJ-02 or BD-09 point
/// outside China, where those datums are not defined, is refused.
fn to_cgcs2000(
    x: f64,
    y: f64,
    datum: Option<&str>,
    what: &str,
) -> Result<Point<f64>, ServiceError> {
    let datum: Datum = datum
        .unwrap_or("")
        .parse()
        .map_err(|e: String| ServiceError::BadRequest(format!("{what} datum: {e}")))?;
    datum
        .to_cgcs2000(Coord { x, y })
        .map(Point::from)
        .map_err(|e| ServiceError::BadRequest(format!("{what} datum: {e}")))
}

/// Parses an optional whole-number parameter within `range` (`default`
/// when absent).
pub fn count(
    name: &str,
    value: Option<&str>,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ServiceError> {
    let Some(v) = value else { return Ok(default) };
    let n: i128 = v.trim().parse().map_err(|_| {
        ServiceError::BadRequest(format!("parameter {name} = {v:?} is not a whole number"))
    })?;
    match usize::try_from(n) {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ServiceError::BadRequest(format!(
            "parameter {name} = {n} is out of range {}..{}",
            range.start(),
            range.end()
        ))),
    }
}

/// Facility kinds from a comma-separated `kind` parameter (absent: `default`).
pub fn kinds(
    value: Option<&str>,
    default: &[FacilityKind],
) -> Result<Vec<FacilityKind>, ServiceError> {
    let Some(v) = value else {
        return Ok(default.to_vec());
    };
    let mut out = Vec::new();
    for name in v.split(',').map(str::trim) {
        let kind: FacilityKind = name
            .parse()
            .map_err(|e| ServiceError::BadRequest(format!("parameter kind: {e}")))?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

/// An optional `true`/`false` parameter (absent: `false`).
pub fn flag(name: &str, value: Option<&str>) -> Result<bool, ServiceError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes" | "") => Ok(true),
        Some(other) => Err(ServiceError::BadRequest(format!(
            "parameter {name} = {other:?} is not true or false"
        ))),
    }
}

/// Most vertices one geometry of a request may have: far more than any
/// grid outline or hazard area, and few enough that checking and indexing
/// it stays quick.
pub const MAX_VERTICES: usize = 100_000;

/// The positions of a GeoJSON geometry, visited before anything is built.
fn positions<'a>(value: &'a geojson::GeometryValue, out: &mut Vec<&'a geojson::Position>) {
    use geojson::GeometryValue as V;
    match value {
        V::Point { coordinates } => out.push(coordinates),
        V::MultiPoint { coordinates } | V::LineString { coordinates } => out.extend(coordinates),
        V::MultiLineString { coordinates } | V::Polygon { coordinates } => {
            out.extend(coordinates.iter().flatten());
        }
        V::MultiPolygon { coordinates } => out.extend(coordinates.iter().flatten().flatten()),
        V::GeometryCollection { geometries } => {
            for g in geometries {
                positions(&g.value, out);
            }
        }
    }
}

/// Refuses, saying why, a request's GeoJSON geometry with more than
/// [`MAX_VERTICES`] vertices or a position without two numbers (before
/// anything reads it).
fn check_positions(value: &geojson::GeometryValue) -> Result<(), String> {
    let mut all = Vec::new();
    positions(value, &mut all);
    let n = all.len();
    if n > MAX_VERTICES {
        return Err(format!(
            "geometry: {n} vertices; at most {MAX_VERTICES} are taken (simplify it, or split it)"
        ));
    }
    // geojson's conversion indexes [0] and [1] (it panics on a shorter
    // position): found by the fuzz target grid_validate.
    if let Some((i, p)) = all
        .iter()
        .enumerate()
        .find(|(_, p)| !(2..=3).contains(&p.len()))
    {
        return Err(format!(
            "geometry: position {i} is {:?}; a position is [longitude, latitude]",
            &p[..]
        ));
    }
    Ok(())
}

/// A request's GeoJSON geometry as geo-types: refused, saying why, when it
/// has more than [`MAX_VERTICES`] vertices, a position without two
/// numbers, or a coordinate that is not a longitude and a latitude.
pub fn geometry(value: &geojson::GeometryValue) -> Result<Geometry<f64>, String> {
    check_positions(value)?;
    let g = Geometry::try_from(value).map_err(|e| format!("geometry: {e}"))?;
    if let Some(c) = g
        .coords_iter()
        .find(|c| !((-180.0..=180.0).contains(&c.x) && (-90.0..=90.0).contains(&c.y)))
    {
        return Err(format!(
            "geometry: ({}, {}) is not a longitude in -180..180 and a latitude in -90..90",
            c.x, c.y
        ));
    }
    Ok(g)
}

/// A written feature's GeoJSON geometry under the import's geometry rules
/// ([`import::from_geojson`]): the same checks, messages and tidying as
/// `civgrid import` (rings must be closed, polygons valid, lines of 2
/// distinct points or more…), after the checks of [`geometry`].
///
/// # Errors
/// [`ServiceError::BadRequest`] starting `geometry: `.
pub fn written_geometry(value: &geojson::GeometryValue) -> Result<Geometry<f64>, ServiceError> {
    check_positions(value).map_err(ServiceError::BadRequest)?;
    import::from_geojson(value, import::Rules::default())
        .map(|g| g.geometry)
        .map_err(|e| ServiceError::BadRequest(format!("geometry: {e}")))
}

/// A request body that is one GeoJSON Feature, read by [`feature_body`].
pub struct FeatureBody {
    /// The checked geometry ([`written_geometry`]; a Polygon is a
    /// MultiPolygon).
    pub geometry: Geometry<f64>,
    /// The properties.
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// The id the Feature names, if any.
    pub id: Option<String>,
}

/// Reads a body that is one GeoJSON Feature: each property must be one of
/// `allowed`, or the error names it and the `noun`.
///
/// # Errors
/// [`ServiceError::BadRequest`] naming what is wrong.
pub fn feature_body(
    body: &[u8],
    noun: &str,
    allowed: &[&str],
) -> Result<FeatureBody, ServiceError> {
    let f: geojson::Feature = serde_json::from_slice(body)
        .map_err(|e| ServiceError::BadRequest(format!("the body is not a GeoJSON Feature: {e}")))?;
    let value = f
        .geometry
        .ok_or_else(|| ServiceError::BadRequest("geometry: the Feature has no geometry".into()))?;
    let g = written_geometry(&value.value)?;
    let properties = f.properties.unwrap_or_default();
    if let Some(unknown) = properties.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ServiceError::BadRequest(format!(
            "properties: unknown property {unknown:?} for a {noun} (expected {})",
            allowed.join(", ")
        )));
    }
    let id = f.id.map(|id| match id {
        geojson::feature::Id::String(s) => s,
        geojson::feature::Id::Number(n) => n.to_string(),
    });
    Ok(FeatureBody {
        geometry: g,
        properties,
        id,
    })
}

/// Parses `bbox` = `minlon,minlat,maxlon,maxlat` in CRS84.
pub fn bbox(s: &str) -> Result<Rect<f64>, ServiceError> {
    let bad = |why: &str| {
        ServiceError::BadRequest(format!(
            "parameter bbox = {s:?} {why}; expected minlon,minlat,maxlon,maxlat"
        ))
    };
    let n: Vec<f64> = s
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("has a value that is not a number"))?;
    let [x0, y0, x1, y1] = n[..] else {
        return Err(bad("does not have 4 numbers"));
    };
    if n.iter().any(|v| !v.is_finite())
        || !(-180.0..=180.0).contains(&x0)
        || !(-180.0..=180.0).contains(&x1)
        || !(-90.0..=90.0).contains(&y0)
        || !(-90.0..=90.0).contains(&y1)
    {
        return Err(bad("is outside -180..180, -90..90"));
    }
    if x0 > x1 || y0 > y1 {
        return Err(bad("has a minimum above its maximum"));
    }
    Ok(Rect::new((x0, y0), (x1, y1)))
}

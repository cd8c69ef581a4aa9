//! NUL characters in a source's text. GDAL cuts a string at its first NUL,
//! so an import would store `ab` for `ab\0cd` where the HTTP API refuses
//! it ([`crate::values::text`]). The NULs are looked for in the file itself,
//! once per layer, where GDAL can tell: GeoJSON text (`\u0000` escapes) and
//! GeoPackage text columns.

use std::path::Path;

use gdal::vector::sql::Dialect;
use gdal::vector::{LayerAccess, OGRFieldType};
use gdal::Dataset;

/// The first feature of a layer with a NUL in a text field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NulAt {
    /// The `index`-th feature of the layer (from 0, in file order).
    Index(u64, String),
    /// The feature with this FID.
    Fid(u64, String),
}

impl NulAt {
    /// The source field of the feature read `index`-th with `fid`, if it is
    /// the one with a NUL.
    pub fn field(&self, index: u64, fid: Option<u64>) -> Option<&str> {
        match self {
            Self::Index(i, f) if *i == index => Some(f),
            Self::Fid(i, f) if Some(*i) == fid => Some(f),
            _ => None,
        }
    }
}

/// The first feature of `layer` in `ds` (read from `path`) with a NUL in a
/// text field, for the formats where GDAL hides it.
pub fn find(ds: &Dataset, path: &Path, layer: &str) -> Option<NulAt> {
    match ds.driver().short_name().as_str() {
        "GeoJSON" => in_geojson(path),
        "GPKG" => in_geopackage(ds, layer),
        _ => None,
    }
}

fn in_geojson(path: &Path) -> Option<NulAt> {
    // Only a plain file (not /vsizip/…): the text is read again whole.
    let text = std::fs::read(path).ok()?;
    let escaped = text.windows(6).any(|w| w == b"\\u0000");
    if !escaped && !text.contains(&0) {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    let features = v.get("features")?.as_array()?;
    features.iter().enumerate().find_map(|(i, f)| {
        let props = f.get("properties")?.as_object()?;
        let (key, _) = props
            .iter()
            .find(|(_, v)| v.as_str().is_some_and(|s| s.contains('\0')))?;
        Some(NulAt::Index(u64::try_from(i).ok()?, key.clone()))
    })
}

fn in_geopackage(ds: &Dataset, layer: &str) -> Option<NulAt> {
    let columns: Vec<String> = ds
        .layer_by_name(layer)
        .ok()?
        .defn()
        .fields()
        .filter(|f| f.field_type() == OGRFieldType::OFTString)
        .map(|f| f.name())
        .collect();
    let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    columns
        .iter()
        .filter_map(|column| {
            let sql = format!(
                "SELECT min(rowid) FROM {} WHERE instr(CAST({} AS BLOB), x'00') > 0",
                quoted(layer),
                quoted(column)
            );
            let mut rows = ds.execute_sql(sql, None, Dialect::SQLITE).ok()??;
            let fid = rows.features().next()?.field_as_integer64(0).ok()??;
            Some((u64::try_from(fid).ok()?, column.clone()))
        })
        .min()
        .map(|(fid, column)| NulAt::Fid(fid, column))
}

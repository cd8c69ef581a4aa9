//! `civgrid export LAYER --out FILE`: a layer written through GDAL to a
//! GeoPackage, GeoJSON or Shapefile, in EPSG:4490.
//!
//! The features are the ones served by OGC API Features ([`crate::ogc`]),
//! so a file and the API agree field for field. The file is written beside
//! its destination under a temporary name and moved into place only when
//! complete: a failed export leaves no half-written file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gdal::vector::{
    Feature as GdalFeature, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType, ToGdal,
};
use gdal::DriverManager;
use geo_types::Geometry;
use serde_json::Value;

use crate::ogc::Collection;

pub mod tiles;

/// A layer that can be exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportLayer {
    /// Active unit cells (万米单元网格).
    Cells,
    /// Active household grids (全科网格).
    Grids,
    /// Facilities.
    Facilities,
    /// Hazards.
    Hazards,
    /// The risk map: active unit cells with their level, score and factors.
    Risk,
    /// Components (部件) with their codes, owners, states and cells.
    Components,
    /// Overlay zones of every layer.
    Zones,
    /// Map tiles: a PMTiles (.pmtiles) or MBTiles (.mbtiles) archive of the
    /// served tiles (see `--layers`, `--minzoom`, `--maxzoom`, `--bbox`).
    Tiles,
}

impl ExportLayer {
    /// The layer name in the file.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cells => "cells",
            Self::Grids => "grids",
            Self::Facilities => "facilities",
            Self::Hazards => "hazards",
            Self::Risk => "risk",
            Self::Components => "components",
            Self::Zones => "zones",
            Self::Tiles => "tiles",
        }
    }
}

/// What went wrong in an export.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The file extension names no supported format.
    #[error("{0}: unknown format; give a file ending in .gpkg, .geojson (or .json) or .shp")]
    UnknownFormat(PathBuf),
    /// A Shapefile holds one geometry type only.
    #[error(
        "{file}: a Shapefile holds one geometry type, but {layer} mixes {types}; export to .gpkg or .geojson"
    )]
    MixedGeometry {
        /// The file.
        file: PathBuf,
        /// The layer.
        layer: &'static str,
        /// The types found.
        types: String,
    },
    /// GDAL refused something.
    #[error("{file}: GDAL: {source}")]
    Gdal {
        /// The file.
        file: PathBuf,
        /// GDAL's error.
        #[source]
        source: gdal::errors::GdalError,
    },
    /// Moving the finished file into place failed.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// The GDAL driver for a file name.
fn driver_name(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "gpkg" => Some("GPKG"),
        "geojson" | "json" => Some("GeoJSON"),
        "shp" => Some("ESRI Shapefile"),
        _ => None,
    }
}

/// The field type of a property: integer if every value is one, real if
/// every value is a number, text otherwise.
fn field_types(features: &Collection) -> Vec<(String, OGRFieldType::Type)> {
    let mut types: BTreeMap<String, OGRFieldType::Type> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for f in features.features() {
        for (k, v) in &f.properties {
            let ty = match v {
                Value::Number(n) if n.is_i64() => OGRFieldType::OFTInteger64,
                Value::Number(_) => OGRFieldType::OFTReal,
                _ => OGRFieldType::OFTString,
            };
            match types.get(k.as_str()) {
                None => {
                    order.push(k.clone());
                    types.insert(k.clone(), ty);
                }
                Some(&t) if t == ty => {}
                Some(&t) => {
                    let widened = if t != OGRFieldType::OFTString && ty != OGRFieldType::OFTString {
                        OGRFieldType::OFTReal
                    } else {
                        OGRFieldType::OFTString
                    };
                    types.insert(k.clone(), widened);
                }
            }
        }
    }
    order
        .into_iter()
        .map(|k| {
            let ty = types[&k];
            (k, ty)
        })
        .collect()
}

fn geometry_type(features: &Collection) -> (OGRwkbGeometryType::Type, Vec<&'static str>) {
    let mut names: Vec<&'static str> = features
        .features()
        .map(|f| match f.geometry {
            Geometry::Point(_) => "Point",
            Geometry::MultiPoint(_) => "MultiPoint",
            Geometry::LineString(_) => "LineString",
            Geometry::MultiLineString(_) => "MultiLineString",
            Geometry::Polygon(_) => "Polygon",
            Geometry::MultiPolygon(_) => "MultiPolygon",
            _ => "Geometry",
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    let ty = match names.as_slice() {
        ["Point"] => OGRwkbGeometryType::wkbPoint,
        ["MultiPolygon"] => OGRwkbGeometryType::wkbMultiPolygon,
        ["Polygon"] => OGRwkbGeometryType::wkbPolygon,
        ["LineString"] => OGRwkbGeometryType::wkbLineString,
        _ => OGRwkbGeometryType::wkbUnknown,
    };
    (ty, names)
}

/// Writes the features of `features`, in collection order, as layer
/// `layer` of `out` (format from the extension) and returns the number
/// written.
pub fn write(layer: ExportLayer, features: &Collection, out: &Path) -> Result<usize, ExportError> {
    let driver = driver_name(out).ok_or_else(|| ExportError::UnknownFormat(out.to_owned()))?;
    let gdal_err = |source| ExportError::Gdal {
        file: out.to_owned(),
        source,
    };
    let io_err = |source| ExportError::Io {
        file: out.to_owned(),
        source,
    };
    let (ty, types) = geometry_type(features);
    if driver == "ESRI Shapefile" && types.len() > 1 {
        return Err(ExportError::MixedGeometry {
            file: out.to_owned(),
            layer: layer.name(),
            types: types.join(", "),
        });
    }
    let parent = parent_dir(out);
    let file_name = out.file_name().unwrap_or_default();
    let scratch = tempfile::Builder::new()
        .prefix(".civgrid-export-")
        .tempdir_in(&parent)
        .map_err(io_err)?;
    let staged = scratch.path().join(file_name);
    {
        let mut ds = DriverManager::get_driver_by_name(driver)
            .and_then(|d| d.create_vector_only(&staged))
            .map_err(gdal_err)?;
        let srs = crate::import::srs_4490().map_err(gdal_err)?;
        let fields = field_types(features);
        let layer_options = LayerOptions {
            name: layer.name(),
            srs: Some(&srs),
            ty,
            options: None,
        };
        // GeoPackage writes fast inside one transaction; GeoJSON and
        // Shapefile have none (the staged file keeps the export atomic).
        if driver == "GPKG" {
            let mut tx = ds.start_transaction().map_err(gdal_err)?;
            let lyr = tx.create_layer(layer_options).map_err(gdal_err)?;
            write_features(&lyr, &fields, features).map_err(gdal_err)?;
            tx.commit().map_err(gdal_err)?;
        } else {
            let lyr = ds.create_layer(layer_options).map_err(gdal_err)?;
            write_features(&lyr, &fields, features).map_err(gdal_err)?;
        }
    }
    // Move every file GDAL wrote (a Shapefile is several) into place.
    for entry in std::fs::read_dir(scratch.path()).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        std::fs::rename(entry.path(), parent.join(entry.file_name())).map_err(io_err)?;
    }
    Ok(features.len())
}

/// The folder a file is written in (the current one for a bare name):
/// where its staged copy goes, so that moving it into place is a rename.
fn parent_dir(out: &Path) -> PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Defines `fields` on `lyr` and writes every feature.
fn write_features(
    lyr: &impl LayerAccess,
    fields: &[(String, OGRFieldType::Type)],
    features: &Collection,
) -> gdal::errors::Result<()> {
    let defs: Vec<(&str, OGRFieldType::Type)> =
        fields.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    lyr.create_defn_fields(&defs)?;
    for f in features.features() {
        let mut out = GdalFeature::new(lyr.defn())?;
        out.set_geometry(f.geometry.to_gdal()?)?;
        for (i, (name, _)) in fields.iter().enumerate() {
            match f.properties.get(name) {
                None | Some(Value::Null) => {}
                Some(Value::Number(n)) if n.is_i64() => {
                    out.set_field_integer64(i, n.as_i64().unwrap_or_default())?;
                }
                Some(Value::Number(n)) => {
                    out.set_field_double(i, n.as_f64().unwrap_or_default())?;
                }
                Some(Value::String(s)) => out.set_field_string(i, s)?,
                Some(v) => out.set_field_string(i, &v.to_string())?,
            }
        }
        out.create(lyr)?;
    }
    Ok(())
}

//! Opening a file to import: zips unpacked within bounds ([`super::archive`]),
//! the parts of a Shapefile checked, and GDAL's refusal told in words that
//! name the file and what is wrong with it.

use std::path::{Path, PathBuf};

use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use super::archive;
use super::limits::ImportLimits;
use super::ImportError;

/// What is wrong with a file as a whole (before any layer or feature).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileProblem {
    /// There is no such file.
    #[error("no such file")]
    NotFound,
    /// A Shapefile without one of the files it is made of.
    #[error("the Shapefile's {what} {part} is missing (a Shapefile is several files, .shp, .shx, .dbf and .prj: give them all side by side, or zip them together)")]
    MissingPart {
        /// What the part holds ("attribute table", "index").
        what: &'static str,
        /// The missing file's name.
        part: String,
    },
    /// GDAL cannot read the file as the format its name says, or at all.
    #[error("not {format} GDAL can read ({reason})")]
    Unreadable {
        /// The format by the file's extension ("a GeoJSON file"…).
        format: &'static str,
        /// GDAL's message.
        reason: String,
    },
    /// A zip that cannot be read or unpacked.
    #[error("cannot unpack the zip: {reason}")]
    Archive {
        /// Why.
        reason: String,
    },
    /// A zip whose file would be written outside the folder it unpacks to
    /// (an absolute path or `..`).
    #[error("the zip's file {name:?} points outside the zip; refused")]
    UnsafeEntry {
        /// The file's name in the zip.
        name: String,
    },
    /// An archive inside the zip.
    #[error("the zip holds another archive, {name}: unzip it and import what it holds")]
    NestedArchive {
        /// Its name in the zip.
        name: String,
    },
}

/// An open dataset and how messages name it.
pub(super) struct Opened {
    /// The dataset (dropped before the folder it may read from).
    pub ds: Dataset,
    /// The file as messages name it: the path given, or for a zip the
    /// zip's path followed by the file opened inside it.
    pub shown: PathBuf,
    /// The folder a zip was unpacked to.
    _unpacked: Option<tempfile::TempDir>,
}

/// Opens `path` for reading vector data.
pub(super) fn open(path: &Path, limits: &ImportLimits) -> Result<Opened, ImportError> {
    let problem = |file: &Path, problem| ImportError::File {
        file: file.to_owned(),
        problem,
    };
    let virtual_path = path.to_string_lossy().starts_with("/vsi");
    if !virtual_path && !path.exists() {
        return Err(problem(path, FileProblem::NotFound));
    }
    let zip = !virtual_path && path.is_file() && archive::is_zip(path);
    if !(zip && has_extension(path, "zip")) {
        if zip {
            // A zipped format GDAL reads itself (KMZ…): within the bound too.
            archive::unpack(path, path, None, limits.max_uncompressed_bytes)?;
        }
        return Ok(Opened {
            ds: open_dataset(path, path)?,
            shown: path.to_owned(),
            _unpacked: None,
        });
    }
    let dir = tempfile::tempdir().map_err(|e| {
        problem(
            path,
            FileProblem::Archive {
                reason: format!("a temporary folder: {e}"),
            },
        )
    })?;
    let files = archive::unpack(path, path, Some(dir.path()), limits.max_uncompressed_bytes)?;
    // Like GDAL's /vsizip/: the one dataset inside, or else the folder (a
    // folder of Shapefiles is one dataset of several layers).
    let mut main = files.iter().filter(|f| !is_sidecar(f));
    let inside = match (main.next(), main.next()) {
        (Some(one), None) => one.clone(),
        _ => PathBuf::new(),
    };
    let real = dir.path().join(&inside);
    let shown = path.join(&inside);
    Ok(Opened {
        ds: open_dataset(&real, &shown)?,
        shown,
        _unpacked: Some(dir),
    })
}

/// Opens `real` as vector data; messages name it `shown`.
fn open_dataset(real: &Path, shown: &Path) -> Result<Dataset, ImportError> {
    check_shapefile_parts(real, shown)?;
    let options = DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_VERBOSE_ERROR,
        ..DatasetOptions::default()
    };
    Dataset::open_ex(real, options).map_err(|e| {
        let reason = match e {
            gdal::errors::GdalError::NullPointer { msg, .. } if !msg.trim().is_empty() => {
                msg.trim().to_owned()
            }
            gdal::errors::GdalError::NullPointer { .. } => {
                "GDAL recognises no vector format in it".to_owned()
            }
            other => other.to_string(),
        };
        ImportError::File {
            file: shown.to_owned(),
            problem: FileProblem::Unreadable {
                format: format_of(shown),
                reason: reason.replace(&*real.to_string_lossy(), &shown.to_string_lossy()),
            },
        }
    })
}

/// A Shapefile's `.shx` and `.dbf` beside its `.shp` (GDAL would open a
/// `.shp` without its `.dbf` as features with no fields, and one without
/// its `.shx` not at all, saying neither), for a `.shp` or each one in a
/// folder.
fn check_shapefile_parts(real: &Path, shown: &Path) -> Result<(), ImportError> {
    let shps: Vec<(PathBuf, PathBuf)> = if real.is_dir() {
        std::fs::read_dir(real)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| has_extension(p, "shp"))
                    .map(|p| {
                        let name = p.file_name().map(PathBuf::from).unwrap_or_default();
                        (p, shown.join(name))
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else if has_extension(real, "shp") {
        vec![(real.to_owned(), shown.to_owned())]
    } else {
        Vec::new()
    };
    for (shp, shown) in shps {
        for (ext, what) in [("shx", "index"), ("dbf", "attribute table")] {
            if !sibling_exists(&shp, ext) {
                let part = shp
                    .with_extension(ext)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                return Err(ImportError::File {
                    file: shown,
                    problem: FileProblem::MissingPart { what, part },
                });
            }
        }
    }
    Ok(())
}

/// Whether `path` with extension `ext` (in either case) exists.
fn sibling_exists(path: &Path, ext: &str) -> bool {
    [ext.to_ascii_lowercase(), ext.to_ascii_uppercase()]
        .iter()
        .any(|e| path.with_extension(e).exists())
}

fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// Files beside a dataset rather than datasets themselves.
fn is_sidecar(path: &Path) -> bool {
    const SIDECARS: [&str; 13] = [
        "shx", "dbf", "prj", "cpg", "qpj", "qix", "sbn", "sbx", "fix", "xml", "txt", "md", "pdf",
    ];
    SIDECARS.iter().any(|e| has_extension(path, e))
}

/// The format a file's name says, for messages.
fn format_of(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "geojson" | "json" => "a GeoJSON file",
        "gpkg" => "a GeoPackage",
        "shp" => "a Shapefile",
        "pbf" | "osm" => "an OpenStreetMap file",
        "kml" | "kmz" => "a KML file",
        "csv" => "a CSV file",
        _ => "a vector file",
    }
}

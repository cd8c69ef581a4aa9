//! Import through GDAL: any vector format GDAL reads (GeoJSON, GeoPackage,
//! Shapefile, OSM PBF…), reprojected to CGCS2000, checked feature by feature.
//!
//! A file is read whole before anything is written: the first broken feature
//! stops the import with an error naming the file, layer, feature and problem,
//! and the store is left as it was (see `docs/import.md`).

mod archive;
mod attributes;
mod geometry;
mod limits;
pub mod mapping;
mod nul;
mod open;
pub mod placement;
mod records;

use std::fmt;
use std::path::{Path, PathBuf};

use civgrid::{AdminCode, Datum, HouseholdEstimate, Territory};
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::{Feature, LayerAccess};
use gdal::Dataset;
use geo_types::Coord;

use crate::progress::Progress;
use crate::store::ImportBatch;
use attributes::Attributes;
pub use attributes::Fields;
use geometry::GeometryReader;
pub use geometry::{from_geojson, Cleaned, Rules};
pub use limits::{
    Bound, ImportLimits, DEFAULT_MAX_FEATURES, DEFAULT_MAX_UNCOMPRESSED_BYTES, MAX_ZIP_ENTRIES,
};
pub use mapping::{Mapping, MappingError, Target};
pub use open::FileProblem;
pub use placement::{place, ComponentDraft, Placement, PlacementError};
pub use records::{component_draft, facility, hazard};
use records::{OsmClass, RecordContext};

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Make invalid polygons valid (GEOS MakeValid) instead of rejecting them.
    pub repair: bool,
    /// Layer and field mapping beyond the conventional names.
    pub mapping: Mapping,
    /// How households are estimated where the data gives none.
    pub estimate: HouseholdEstimate,
    /// Largest distance of a facility or hazard from the territory, metres
    /// (`--max-outside-km`; checked by [`place`]).
    pub max_outside_m: f64,
    /// How far a zipped file may unpack and how many features a file may
    /// bring.
    pub limits: ImportLimits,
    /// Let an import of a file with no features remove what an earlier
    /// import of the same source brought (else it is refused).
    pub replace_empty: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            repair: false,
            mapping: Mapping::default(),
            estimate: HouseholdEstimate::default(),
            max_outside_m: crate::responders::DEFAULT_MAX_OUTSIDE_M,
            limits: ImportLimits::default(),
            replace_empty: false,
        }
    }
}

/// Which feature a message is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureRef {
    /// The file.
    pub file: PathBuf,
    /// The layer.
    pub layer: String,
    /// The feature id in the source (FID, or OSM id).
    pub fid: Option<i64>,
    /// The feature's name, when it has one.
    pub name: Option<String>,
}

impl FeatureRef {
    /// The layer and feature without the file: `layer "x": feature 3 (name)`.
    pub fn in_file(&self) -> String {
        let fid = self.fid.map_or_else(|| "?".to_owned(), |id| id.to_string());
        match &self.name {
            Some(n) => format!("layer {:?}: feature {fid} ({n})", self.layer),
            None => format!("layer {:?}: feature {fid}", self.layer),
        }
    }
}

impl fmt::Display for FeatureRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.in_file())
    }
}

/// What is wrong with one feature.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FeatureProblem {
    /// The feature has no geometry: none was given, or GDAL could not read
    /// the one given (a GeoJSON geometry whose coordinates are not nested
    /// as its type needs reaches civgrid as none).
    #[error("has no geometry (it is null, or its coordinates cannot be read: they must be nested as its type needs, e.g. a Point's as [lon, lat], a Polygon's as [[[lon, lat], …]])")]
    NoGeometry,
    /// A GeoPackage geometry blob that cannot be read.
    #[error("its geometry blob cannot be read (it is not a GeoPackage geometry; the file may be damaged)")]
    UnreadableGeometry,
    /// The geometry is empty.
    #[error("geometry is empty")]
    Empty,
    /// The layer's geometry type is not what its target layer holds.
    #[error("geometry is {found}, expected {expected}")]
    WrongGeometry {
        /// What the target layer holds.
        expected: &'static str,
        /// What the feature has.
        found: String,
    },
    /// A ring whose last point is not its first.
    #[error("polygon {polygon}, ring {ring} is not closed: starts at ({:.7}, {:.7}), ends at ({:.7}, {:.7})", first.x, first.y, last.x, last.y)]
    UnclosedRing {
        /// Polygon index within the feature.
        polygon: usize,
        /// Ring index within the polygon (0 = exterior).
        ring: usize,
        /// First point.
        first: Coord<f64>,
        /// Last point.
        last: Coord<f64>,
    },
    /// A coordinate that is NaN, infinite or not a lon/lat after reprojection.
    #[error("coordinate ({x}, {y}) is not a valid lon/lat")]
    BadCoordinate {
        /// Longitude (or x).
        x: f64,
        /// Latitude (or y).
        y: f64,
    },
    /// GDAL could not reproject the geometry.
    #[error("reprojection failed: {reason}")]
    Reprojection {
        /// GDAL's message.
        reason: String,
    },
    /// An invalid polygon (self-intersection, crossing rings…).
    #[error("invalid geometry: {detail} (fix it, or import it with --repair, repair=true over HTTP, to make it valid)")]
    Invalid {
        /// Which ring and what is wrong.
        detail: String,
    },
    /// `--repair` could not make the geometry valid.
    #[error("repair failed: {reason}")]
    RepairFailed {
        /// Why.
        reason: String,
    },
    /// A polygon with no area at all (all its points on a line): dropped
    /// with a note under `--repair`.
    #[error("polygon has no area (its points are collinear or repeated)")]
    Collapsed,
    /// A required field is missing or empty.
    #[error("missing required field {field}")]
    MissingField {
        /// The model field.
        field: &'static str,
    },
    /// A value no store may keep (an integer beyond its column, a NUL in
    /// a text…).
    #[error(transparent)]
    Value(#[from] crate::values::ValueError),
    /// A coordinate tagged GCJ-02 or BD-09 outside the region where that
    /// datum is defined.
    #[error(transparent)]
    Datum(#[from] civgrid::OutsideDatum),
    /// A field whose value does not fit.
    #[error("field {field} = {value:?}: {reason}")]
    BadField {
        /// The model field.
        field: &'static str,
        /// The value found.
        value: String,
        /// Why it does not fit.
        reason: String,
    },
}

/// Why an import failed. Nothing is written when any file fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file is missing, incomplete, or not one GDAL can read.
    #[error("{file}: {problem}", file = .file.display())]
    File {
        /// The file.
        file: PathBuf,
        /// What is wrong with it.
        problem: FileProblem,
    },
    /// The file goes past one of the import's bounds; nothing further of
    /// it was unpacked or read.
    #[error("{file}: {what}: over {bound}; refused, nothing was written", file = .file.display())]
    OverBound {
        /// The file.
        file: PathBuf,
        /// What went over.
        what: String,
        /// The bound, with its value.
        bound: Bound,
    },
    /// GDAL cannot open the file.
    #[error("{file}: cannot open: {reason}", file = .file.display())]
    Open {
        /// The file.
        file: PathBuf,
        /// GDAL's message.
        reason: String,
    },
    /// No layer of the file maps to the model.
    #[error("{file}: no layer maps to the model (layers: {layers}); name layers {names}, or give a mapping file", file = .file.display(), layers = .layers.join(", "), names = Target::names())]
    NothingToImport {
        /// The file.
        file: PathBuf,
        /// Its layers.
        layers: Vec<String>,
    },
    /// A layer with geometry but no CRS.
    #[error("{file}: layer {layer:?}: unknown CRS (no .prj or CRS definition); give the file a CRS, e.g. with ogr2ogr -a_srs EPSG:4490", file = .file.display())]
    UnknownCrs {
        /// The file.
        file: PathBuf,
        /// The layer.
        layer: String,
    },
    /// The layer's CRS cannot be transformed to EPSG:4490.
    #[error("{file}: layer {layer:?}: cannot reproject to EPSG:4490: {reason}", file = .file.display())]
    Transform {
        /// The file.
        file: PathBuf,
        /// The layer.
        layer: String,
        /// GDAL's message.
        reason: String,
    },
    /// A broken feature.
    #[error("{at}: {problem}")]
    Feature {
        /// Where.
        at: FeatureRef,
        /// What.
        problem: FeatureProblem,
    },
    /// A facility or hazard farther from the territory than allowed
    /// (`--max-outside-km`; see [`crate::responders::Reach`]).
    #[error("{source_name}: {noun} {name:?}: {outside}; import the areas it belongs to first, or raise --max-outside-km")]
    OutsideTerritory {
        /// The source (file name).
        source_name: String,
        /// `facility` or `hazard`.
        noun: &'static str,
        /// Its name.
        name: String,
        /// Where it is and how far.
        outside: crate::responders::Outside,
    },
    /// Two features of the same file carry the same administrative code.
    #[error("{at}: code {code} appears twice in this file: {first} has it too; give each area its own code", first = .first.in_file())]
    DuplicateCode {
        /// The second feature with the code.
        at: FeatureRef,
        /// The first feature with the code.
        first: FeatureRef,
        /// The code.
        code: AdminCode,
    },
}

/// A repair or tidying applied to one feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The feature.
    pub at: FeatureRef,
    /// What was done.
    pub what: String,
}

/// One file, read and checked.
#[derive(Debug, Clone)]
pub struct ImportedFile {
    /// The features, ready for the store.
    pub batch: ImportBatch,
    /// Repairs and tidying.
    pub notes: Vec<Note>,
    /// Features of mapped layers that civgrid does not keep (OSM benches,
    /// footpaths…), and features of unmapped layers.
    pub skipped: usize,
    /// Components read, placed by [`place`] before the batch is written.
    pub drafts: Vec<ComponentDraft>,
}

/// CGCS2000 (EPSG:4490) in lon/lat axis order.
pub(crate) fn srs_4490() -> Result<SpatialRef, gdal::errors::GdalError> {
    let mut srs = SpatialRef::from_epsg(4490)?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

/// Reads and checks one file.
///
/// # Errors
/// The first problem found, naming the file, layer and feature.
pub fn read_file(path: &Path, opts: &ImportOptions) -> Result<ImportedFile, ImportError> {
    let source = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let opened = open::open(path, &opts.limits)?;
    let (ds, path) = (&opened.ds, opened.shown.as_path());
    let open_err = |reason: String| ImportError::Open {
        file: path.to_owned(),
        reason,
    };
    let is_osm = ds.driver().short_name() == "OSM";
    let target_srs = srs_4490().map_err(|e| open_err(e.to_string()))?;
    let max_features = opts.limits.max_features;
    let too_many = |what: String| ImportError::OverBound {
        file: path.to_owned(),
        what,
        bound: Bound::Features(max_features),
    };
    let mut read: u64 = 0;
    let mut codes = SeenCodes::default();
    let mut out = ImportedFile {
        batch: ImportBatch {
            source,
            territory: Territory::default(),
        },
        notes: Vec::new(),
        skipped: 0,
        drafts: Vec::new(),
    };
    let mut layer_names = Vec::new();
    let mut mapped_any = false;
    for mut layer in ds.layers() {
        let name = layer.name();
        layer_names.push(name.clone());
        let mapping = if is_osm {
            Some(mapping::LayerMapping {
                target: Target::Buildings, // decided per feature from its tags
                datum: Datum::Cgcs2000,
                // Boundaries carry their code in `ref`.
                fields: [("code".to_owned(), "ref".to_owned())].into(),
            })
        } else {
            opts.mapping.layer(&name)
        };
        let Some(mapping) = mapping else {
            out.skipped += usize::try_from(layer.feature_count()).unwrap_or(0);
            tracing::info!(file = %path.display(), layer = %name, "layer maps to no model layer; skipped");
            continue;
        };
        if is_osm && !matches!(name.as_str(), "points" | "lines" | "multipolygons") {
            continue;
        }
        mapped_any = true;
        let transform = layer_transform(&layer, path, &name, &target_srs)?;
        let mut ctx = RecordContext {
            geometry: GeometryReader {
                transform: transform.as_ref(),
                rules: Rules {
                    datum: mapping.datum,
                    repair: opts.repair,
                },
            },
            estimate: opts.estimate,
            projections: std::collections::BTreeMap::new(),
            layer: name.clone(),
            drafts: Vec::new(),
        };
        let total = layer.try_feature_count();
        // Refused before reading when the layer knows its count.
        if let Some(n) = total.filter(|n| read.saturating_add(*n) > max_features) {
            return Err(too_many(format!("layer {name:?} holds {n} features")));
        }
        let geom_column = layer.defn().geom_fields().next().map(|g| g.name());
        let mut progress = Progress::new(&format!("{}:{name}", out.batch.source), total);
        let nul = if is_osm {
            None
        } else {
            nul::find(ds, path, &name)
        };
        for (index, feature) in (0_u64..).zip(layer.features()) {
            progress.inc(1);
            read += 1;
            if read > max_features {
                return Err(too_many(format!(
                    "layer {name:?}: more than {max_features} features"
                )));
            }
            let attrs = Attributes::new(&feature, &mapping);
            let at = || feature_ref(path, &name, &feature, &attrs);
            let fail = |problem| ImportError::Feature { at: at(), problem };
            if let Some(field) = nul.as_ref().and_then(|n| n.field(index, feature.fid())) {
                return Err(fail(FeatureProblem::Value(
                    crate::values::ValueError::Nul {
                        field: field.to_owned(),
                        before: attrs.tag(field).unwrap_or_default(),
                    },
                )));
            }
            let g = match geometry::present(feature.geometry()) {
                Ok(g) => g,
                Err(_) if is_osm => {
                    out.skipped += 1;
                    continue;
                }
                Err(FeatureProblem::NoGeometry)
                    if unreadable_blob(ds, &name, geom_column.as_deref(), feature.fid()) =>
                {
                    return Err(fail(FeatureProblem::UnreadableGeometry));
                }
                Err(problem) => return Err(fail(problem)),
            };
            let datum_tag = datum_tag(&attrs).map_err(fail)?;
            ctx.geometry.rules.datum = datum_tag.unwrap_or(mapping.datum);
            let admin_before = SeenCodes::admin_len(&out.batch.territory);
            let t = &mut out.batch.territory;
            let notes = match if is_osm {
                osm_feature(&mut ctx, opts, &attrs, g, t)
            } else {
                records::add_feature(&mut ctx, mapping.target, &attrs, g, t).map(Some)
            } {
                Err(FeatureProblem::Collapsed) if opts.repair => {
                    out.notes.push(Note {
                        at: at(),
                        what: format!("dropped: {}", FeatureProblem::Collapsed),
                    });
                    None
                }
                other => other.map_err(fail)?,
            };
            codes.check(admin_before, &out.batch.territory, at)?;
            match notes {
                None => out.skipped += 1,
                Some(notes) => out
                    .notes
                    .extend(notes.into_iter().map(|what| Note { at: at(), what })),
            }
            for mut draft in ctx.drafts.drain(..) {
                draft.at = Some(at());
                out.drafts.push(draft);
            }
        }
        progress.finish();
    }
    if !mapped_any {
        return Err(ImportError::NothingToImport {
            file: path.to_owned(),
            layers: layer_names,
        });
    }
    Ok(out)
}

/// The transform from `layer`'s CRS to CGCS2000; `None` when the layer is
/// already in CGCS2000 or WGS 84 lon/lat.
fn layer_transform(
    layer: &gdal::vector::Layer<'_>,
    path: &Path,
    name: &str,
    target_srs: &SpatialRef,
) -> Result<Option<CoordTransform>, ImportError> {
    let Some(mut srs) = layer.spatial_ref() else {
        return Err(ImportError::UnknownCrs {
            file: path.to_owned(),
            layer: name.to_owned(),
        });
    };
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    if matches!(srs.auth_code(), Ok(4490 | 4326)) {
        return Ok(None);
    }
    CoordTransform::new(&srs, target_srs)
        .map(Some)
        .map_err(|e| ImportError::Transform {
            file: path.to_owned(),
            layer: name.to_owned(),
            reason: e.to_string(),
        })
}

/// The datum a feature's own `datum` field names, if it has one.
fn datum_tag(attrs: &Attributes<'_>) -> Result<Option<Datum>, FeatureProblem> {
    let Some(value) = attrs.get("datum") else {
        return Ok(None);
    };
    value
        .parse::<Datum>()
        .map(Some)
        .map_err(|reason| FeatureProblem::BadField {
            field: "datum",
            value,
            reason,
        })
}

/// One OSM feature; `None` when civgrid keeps nothing of it.
fn osm_feature(
    ctx: &mut RecordContext<'_>,
    opts: &ImportOptions,
    attrs: &Attributes<'_>,
    g: &gdal::vector::Geometry,
    t: &mut Territory,
) -> Result<Option<Vec<String>>, FeatureProblem> {
    use gdal::vector::OGRwkbGeometryType as T;
    let ty = gdal::vector::geometry_type_flatten(g.geometry_type());
    let areal = matches!(ty, T::wkbPolygon | T::wkbMultiPolygon);
    let linear = matches!(ty, T::wkbLineString | T::wkbMultiLineString);
    match records::classify_osm(attrs) {
        OsmClass::Facility(kind) if !linear => {
            records::add_facility(&ctx.geometry, kind, attrs, g, t).map(Some)
        }
        OsmClass::Building if areal => {
            records::add_feature(ctx, Target::Buildings, attrs, g, t).map(Some)
        }
        OsmClass::Road(class) if linear => {
            records::add_roads(&ctx.geometry, class, attrs, g, t).map(Some)
        }
        OsmClass::Barrier(kind) if linear => {
            records::add_barriers(&ctx.geometry, kind, attrs, g, t).map(Some)
        }
        OsmClass::Boundary(level) if areal => match opts.mapping.osm.admin_levels.get(&level) {
            Some(l) => records::add_feature(ctx, Target::Admin(l.0), attrs, g, t).map(Some),
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

/// Whether a feature without a geometry has, in a GeoPackage, a geometry
/// blob that GDAL could not read (a NULL blob is no geometry at all).
fn unreadable_blob(ds: &Dataset, layer: &str, column: Option<&str>, fid: Option<u64>) -> bool {
    let (Some(fid), Some(column)) = (fid, column) else {
        return false;
    };
    if ds.driver().short_name() != "GPKG" {
        return false;
    }
    let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let sql = format!(
        "SELECT {} IS NOT NULL FROM {} WHERE rowid = {fid}",
        quoted(column),
        quoted(layer)
    );
    let Ok(Some(mut rows)) = ds.execute_sql(sql, None, gdal::vector::sql::Dialect::DEFAULT) else {
        return false;
    };
    let given = rows
        .features()
        .next()
        .and_then(|f| f.field_as_integer(0).ok().flatten());
    given == Some(1)
}

fn feature_ref(
    path: &Path,
    layer: &str,
    feature: &Feature<'_>,
    attrs: &Attributes<'_>,
) -> FeatureRef {
    let osm_id = attrs.tag("osm_id").or_else(|| attrs.tag("osm_way_id"));
    FeatureRef {
        file: path.to_owned(),
        layer: layer.to_owned(),
        fid: osm_id
            .and_then(|id| id.parse().ok())
            .or_else(|| feature.fid().and_then(|f| i64::try_from(f).ok())),
        name: attrs.get("name").or_else(|| attrs.get("code")),
    }
}

/// The administrative codes read so far from one file, each with the
/// feature that brought it.
#[derive(Default)]
struct SeenCodes(std::collections::HashMap<AdminCode, FeatureRef>);

impl SeenCodes {
    /// How many districts, subdistricts and communities `t` holds.
    fn admin_len(t: &Territory) -> [usize; 3] {
        [t.districts.len(), t.subdistricts.len(), t.communities.len()]
    }

    /// Records the areas `t` gained since it held `before` (as read from
    /// the feature `at`); the first code seen before is an error naming
    /// both features.
    fn check(
        &mut self,
        before: [usize; 3],
        t: &Territory,
        at: impl Fn() -> FeatureRef,
    ) -> Result<(), ImportError> {
        let levels = [&t.districts, &t.subdistricts, &t.communities];
        for (areas, from) in levels.into_iter().zip(before) {
            for a in areas.get(from..).unwrap_or_default() {
                if let Some(first) = self.0.get(&a.code) {
                    return Err(ImportError::DuplicateCode {
                        at: at(),
                        first: first.clone(),
                        code: a.code,
                    });
                }
                self.0.insert(a.code, at());
            }
        }
        Ok(())
    }
}

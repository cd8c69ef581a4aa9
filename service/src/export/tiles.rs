//! `civgrid export tiles --out FILE`: the served tiles of a territory in
//! one file, a PMTiles v3 archive (`.pmtiles`) or an MBTiles database
//! (`.mbtiles`), so that an intranet without a tile server, or QGIS, can
//! open the map.
//!
//! A vector archive holds, in each tile, the chosen vector layers one after
//! the other (an MVT tile is a list of layers, so their encodings joined
//! are one tile), each from its least zoom ([`TileLayer::minzoom`]); a
//! raster archive holds one raster layer (risk or heat). Tiles are the
//! bytes `GET /tiles/…` serves, gzipped in the archive as both formats
//! expect of vector tiles; tiles with nothing in them are left out. The
//! archive is written under a temporary name beside its destination and
//! moved into place only when complete.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use civgrid_tiles::TileCoord;
use geo_types::Rect;
use pmtiles::{Compression, PmTilesWriter, TileType};
use rayon::prelude::*;
use serde_json::json;

use crate::progress::Progress;
use crate::state::AppState;
use crate::tiles::layer::vector_layers_json;
use crate::tiles::{IncidentFilter, TileLayer, VectorLayer, MAX_SERVED_ZOOM};

/// The default zooms of an export.
pub const DEFAULT_ZOOMS: (u8, u8) = (0, 14);

/// Tiles rendered at once between writes (and progress updates).
const BATCH: usize = 256;

/// What to export.
#[derive(Debug, Clone, PartialEq)]
pub struct TileExport {
    /// The layers, in the order they are joined in a tile.
    pub layers: Vec<TileLayer>,
    /// Least zoom.
    pub minzoom: u8,
    /// Greatest zoom.
    pub maxzoom: u8,
    /// The part of the territory to export (default: all of it).
    pub bbox: Option<Rect<f64>>,
}

impl Default for TileExport {
    fn default() -> Self {
        Self {
            layers: default_layers(),
            minzoom: DEFAULT_ZOOMS.0,
            maxzoom: DEFAULT_ZOOMS.1,
            bbox: None,
        }
    }
}

/// Every vector layer, base map first, in the order the web map draws them.
pub fn default_layers() -> Vec<TileLayer> {
    [TileLayer::Base, TileLayer::Areas]
        .into_iter()
        .chain(VectorLayer::ALL.map(TileLayer::Vector))
        .collect()
}

/// What went wrong in a tile export; nothing is left at the destination.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TileExportError {
    /// A layer name that is not served.
    #[error("--layers: {0}")]
    UnknownLayer(String),
    /// No layer.
    #[error("--layers: name at least one layer")]
    NoLayer,
    /// A raster layer with others.
    #[error(
        "--layers: {raster} is a raster and goes to an archive of its own; the others ({others}) are vector tiles"
    )]
    MixedFormats {
        /// The raster layer.
        raster: &'static str,
        /// The other layers.
        others: String,
    },
    /// A zoom range that is empty or beyond the served zooms.
    #[error("--minzoom {min} --maxzoom {max}: give 0 ≤ minzoom ≤ maxzoom ≤ {MAX_SERVED_ZOOM}")]
    Zooms {
        /// Least zoom asked for.
        min: u8,
        /// Greatest zoom asked for.
        max: u8,
    },
    /// A bounding box that does not parse.
    #[error("--bbox {0:?}: give west,south,east,north in degrees, west < east and south < north")]
    Bbox(String),
    /// A bounding box away from the territory.
    #[error(
        "--bbox {west},{south},{east},{north} is outside the territory ({extent}): no tile to export"
    )]
    Outside {
        /// West edge asked for.
        west: f64,
        /// South edge.
        south: f64,
        /// East edge.
        east: f64,
        /// North edge.
        north: f64,
        /// The territory's extent, for the message.
        extent: String,
    },
    /// The store has no unit cells, so no territory to tile.
    #[error("the store has no unit cells: run `civgrid cells` first")]
    NoCells,
    /// A destination whose extension names no archive format.
    #[error("{0}: unknown format; give a file ending in .pmtiles or .mbtiles")]
    UnknownFormat(PathBuf),
    /// A file that cannot be written.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The PMTiles writer failed.
    #[error("{file}: PMTiles: {message}")]
    Pmtiles {
        /// The file.
        file: PathBuf,
        /// The writer's message.
        message: String,
    },
    /// SQLite failed writing the MBTiles database.
    #[error("{file}: MBTiles: {source}")]
    Mbtiles {
        /// The file.
        file: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A tile could not be drawn.
    #[error("tile {layer} {z}/{x}/{y}: {message}")]
    Render {
        /// The layer.
        layer: &'static str,
        /// Zoom.
        z: u8,
        /// Column.
        x: u32,
        /// Row.
        y: u32,
        /// What failed.
        message: String,
    },
}

/// Parses `--layers a,b,c`.
///
/// # Errors
/// [`TileExportError::UnknownLayer`] naming the first unknown one.
pub fn parse_layers(names: &[String]) -> Result<Vec<TileLayer>, TileExportError> {
    names
        .iter()
        .map(|n| TileLayer::parse(n.trim()).map_err(TileExportError::UnknownLayer))
        .collect()
}

/// Parses `--bbox west,south,east,north`.
///
/// # Errors
/// [`TileExportError::Bbox`] when it is not four numbers in order.
pub fn parse_bbox(text: &str) -> Result<Rect<f64>, TileExportError> {
    let v: Vec<f64> = text
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| TileExportError::Bbox(text.to_owned()))?;
    match v[..] {
        [west, south, east, north]
            if v.iter().all(|x| x.is_finite())
                && west < east
                && south < north
                && (-180.0..=180.0).contains(&west)
                && (-180.0..=180.0).contains(&east)
                && (-90.0..=90.0).contains(&south)
                && (-90.0..=90.0).contains(&north) =>
        {
            Ok(Rect::new((west, south), (east, north)))
        }
        _ => Err(TileExportError::Bbox(text.to_owned())),
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct TileExportSummary {
    /// Tiles written (tiles with nothing in them are left out).
    pub tiles: u64,
    /// Tiles looked at.
    pub visited: u64,
    /// Bytes of the archive.
    pub bytes: u64,
    /// The largest tile (before compression) and where it is.
    pub largest: (usize, TileCoord),
    /// The box exported.
    pub bounds: Rect<f64>,
}

/// The archive being written, under its temporary name.
enum Archive {
    Pmtiles(Box<pmtiles::PmTilesStreamWriter<File>>),
    Mbtiles(rusqlite::Connection),
}

impl Archive {
    /// A new archive of `format` at `staged`.
    fn create(
        format: Format,
        staged: &tempfile::NamedTempFile,
        plan: &Plan,
        metadata: &serde_json::Value,
        out: &Path,
    ) -> Result<Self, TileExportError> {
        let (b, raster) = (plan.bounds, plan.raster);
        let centre_zoom = plan.minzoom.max(plan.maxzoom.min(12));
        Ok(match format {
            Format::Pmtiles => Self::Pmtiles(Box::new(
                PmTilesWriter::new(if raster { TileType::Png } else { TileType::Mvt })
                    .tile_compression(if raster {
                        Compression::None
                    } else {
                        Compression::Gzip
                    })
                    .min_zoom(plan.minzoom)
                    .max_zoom(plan.maxzoom)
                    .bounds(b.min().x, b.min().y, b.max().x, b.max().y)
                    .center(b.center().x, b.center().y)
                    .center_zoom(centre_zoom)
                    .metadata(metadata.to_string())
                    .create(staged.reopen().map_err(|e| io_err(out, e))?)
                    .map_err(|e| pmtiles_err(out, &e))?,
            )),
            Format::Mbtiles => Self::Mbtiles(
                mbtiles_open(staged.path(), plan, centre_zoom, metadata)
                    .map_err(|e| mbtiles_err(out, e))?,
            ),
        })
    }

    /// Adds rendered tiles (none empty), in tile-id order.
    fn add(
        &mut self,
        tiles: Vec<(TileCoord, Vec<u8>)>,
        raster: bool,
        out: &Path,
    ) -> Result<(), TileExportError> {
        match self {
            Self::Mbtiles(db) => {
                let tx = db.transaction().map_err(|e| mbtiles_err(out, e))?;
                for (c, bytes) in tiles {
                    let data = if raster {
                        bytes
                    } else {
                        gzip(&bytes).map_err(|e| io_err(out, e))?
                    };
                    // MBTiles rows count from the south (TMS).
                    let row = (1u32 << c.z) - 1 - c.y;
                    tx.execute(
                        "INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?1, ?2, ?3, ?4)",
                        rusqlite::params![c.z, c.x, row, data],
                    )
                    .map_err(|e| mbtiles_err(out, e))?;
                }
                tx.commit().map_err(|e| mbtiles_err(out, e))
            }
            Self::Pmtiles(w) => {
                for (c, bytes) in tiles {
                    let coord =
                        pmtiles::TileCoord::new(c.z, c.x, c.y).map_err(|e| pmtiles_err(out, &e))?;
                    w.add_tile(coord, &bytes)
                        .map_err(|e| pmtiles_err(out, &e))?;
                }
                Ok(())
            }
        }
    }

    /// Writes the directories (PMTiles) or closes the database.
    fn finish(self, out: &Path) -> Result<(), TileExportError> {
        match self {
            Self::Pmtiles(w) => w.finalize().map_err(|e| pmtiles_err(out, &e)),
            Self::Mbtiles(db) => db.close().map_err(|(_, e)| mbtiles_err(out, e)),
        }
    }
}

/// A checked export: the tiles to look at and how to write them.
struct Plan {
    format: Format,
    raster: bool,
    minzoom: u8,
    maxzoom: u8,
    /// The places (cut to the box asked for) whose tiles are exported.
    boxes: Vec<Rect<f64>>,
    /// Their bounding box.
    bounds: Rect<f64>,
}

impl Plan {
    /// Checks `spec` against the places of `engine`'s territory.
    fn new(
        state: &AppState,
        engine: &crate::state::Engine,
        spec: &TileExport,
        out: &Path,
    ) -> Result<Self, TileExportError> {
        let format = match out.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("pmtiles") => Format::Pmtiles,
            Some(e) if e.eq_ignore_ascii_case("mbtiles") => Format::Mbtiles,
            _ => return Err(TileExportError::UnknownFormat(out.to_owned())),
        };
        let raster = check_layers(&spec.layers)?;
        if spec.minzoom > spec.maxzoom || spec.maxzoom > MAX_SERVED_ZOOM {
            return Err(TileExportError::Zooms {
                min: spec.minzoom,
                max: spec.maxzoom,
            });
        }
        // The places of the territory, not the box around them all: a store
        // of two cities 2,000 km apart exports the two cities.
        let places: Vec<Rect<f64>> = state
            .tiles
            .places(engine)
            .iter()
            .map(|p| Rect::new((p.bounds[0], p.bounds[1]), (p.bounds[2], p.bounds[3])))
            .collect();
        let extent =
            civgrid::extent::extent(places.iter().copied()).ok_or(TileExportError::NoCells)?;
        let boxes: Vec<Rect<f64>> = match spec.bbox {
            None => places,
            Some(b) => places.iter().filter_map(|&p| intersection(b, p)).collect(),
        };
        let bounds = civgrid::extent::extent(boxes.iter().copied()).ok_or_else(|| {
            let b = spec.bbox.unwrap_or(extent);
            TileExportError::Outside {
                west: b.min().x,
                south: b.min().y,
                east: b.max().x,
                north: b.max().y,
                extent: format!(
                    "{:.5},{:.5},{:.5},{:.5}",
                    extent.min().x,
                    extent.min().y,
                    extent.max().x,
                    extent.max().y
                ),
            }
        })?;
        Ok(Self {
            format,
            raster,
            minzoom: spec.minzoom,
            maxzoom: spec.maxzoom,
            boxes,
            bounds,
        })
    }
}

/// Writes the tiles of `spec` from `state`'s current snapshot to `out`.
///
/// # Errors
/// [`TileExportError`] naming what is wrong; nothing is left at `out`.
pub fn export(
    state: &AppState,
    spec: &TileExport,
    out: &Path,
) -> Result<TileExportSummary, TileExportError> {
    let engine = state.engine();
    let plan = Plan::new(state, &engine, spec, out)?;
    let coords = tile_coords(&plan.boxes, plan.minzoom, plan.maxzoom);
    let parent = super::parent_dir(out);
    let staged = tempfile::Builder::new()
        .prefix(".civgrid-tiles-")
        .suffix(".partial")
        .tempfile_in(&parent)
        .map_err(|e| io_err(out, e))?;
    let metadata = metadata(state, &engine, spec, plan.bounds, plan.raster);
    let mut archive = Archive::create(plan.format, &staged, &plan, &metadata, out)?;
    let mut progress = Progress::new("tiles", Some(coords.len() as u64));
    let mut summary = TileExportSummary {
        tiles: 0,
        visited: coords.len() as u64,
        bytes: 0,
        largest: (0, TileCoord { z: 0, x: 0, y: 0 }),
        bounds: plan.bounds,
    };
    let render = Renderer::new(state, &engine, &spec.layers, plan.raster)?;
    for batch in coords.chunks(BATCH) {
        let rendered: Vec<(TileCoord, Vec<u8>)> = batch
            .par_iter()
            .map(|&c| Ok((c, render.tile(c)?)))
            .collect::<Result<_, TileExportError>>()?;
        let kept: Vec<(TileCoord, Vec<u8>)> = rendered
            .into_iter()
            .filter(|(_, b)| !b.is_empty())
            .collect();
        for (c, bytes) in &kept {
            if bytes.len() > summary.largest.0 {
                summary.largest = (bytes.len(), *c);
            }
        }
        summary.tiles += kept.len() as u64;
        archive.add(kept, plan.raster, out)?;
        progress.inc(batch.len() as u64);
    }
    progress.finish();
    archive.finish(out)?;
    // A temporary file is private to its owner; the archive is for whoever
    // serves or opens it, as any file written here.
    set_readable(staged.path()).map_err(|e| io_err(out, e))?;
    staged.persist(out).map_err(|e| io_err(out, e.error))?;
    summary.bytes = std::fs::metadata(out).map_or(0, |m| m.len());
    Ok(summary)
}

/// Draws an archive's tiles: its layers joined, each from its least zoom.
struct Renderer<'a> {
    state: &'a AppState,
    engine: &'a crate::state::Engine,
    layers: &'a [TileLayer],
    raster: bool,
    /// A raster tile with nothing drawn, left out like an empty vector one.
    blank: Vec<u8>,
    filter: IncidentFilter,
}

impl<'a> Renderer<'a> {
    fn new(
        state: &'a AppState,
        engine: &'a crate::state::Engine,
        layers: &'a [TileLayer],
        raster: bool,
    ) -> Result<Self, TileExportError> {
        let origin = TileCoord { z: 0, x: 0, y: 0 };
        let blank = civgrid_tiles::Canvas::new(origin, crate::tiles::TILE_PX)
            .and_then(|c| c.encode_png())
            .map_err(|e| render_err(layers.first().map_or("risk", |l| l.name()), origin, &e))?;
        Ok(Self {
            state,
            engine,
            layers,
            raster,
            blank,
            filter: IncidentFilter::default(),
        })
    }

    /// The tile at `c` (empty when nothing is in it).
    fn tile(&self, c: TileCoord) -> Result<Vec<u8>, TileExportError> {
        let mut bytes = Vec::new();
        for &layer in self.layers {
            if c.z < layer.minzoom() {
                continue;
            }
            let tile = self
                .state
                .tiles
                .render(
                    self.engine,
                    &self.state.config.styles,
                    layer,
                    c,
                    1,
                    &self.filter,
                )
                .map_err(|e| render_err(layer.name(), c, &e))?;
            if !self.raster || tile != self.blank {
                bytes.extend_from_slice(&tile);
            }
        }
        Ok(bytes)
    }
}

fn render_err(layer: &'static str, c: TileCoord, e: &civgrid_tiles::TileError) -> TileExportError {
    TileExportError::Render {
        layer,
        z: c.z,
        x: c.x,
        y: c.y,
        message: e.to_string(),
    }
}

fn io_err(file: &Path, source: std::io::Error) -> TileExportError {
    TileExportError::Io {
        file: file.to_owned(),
        source,
    }
}

fn mbtiles_err(file: &Path, source: rusqlite::Error) -> TileExportError {
    TileExportError::Mbtiles {
        file: file.to_owned(),
        source,
    }
}

/// The archive formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Pmtiles,
    Mbtiles,
}

/// Checks the layers; `true` for a raster archive.
fn check_layers(layers: &[TileLayer]) -> Result<bool, TileExportError> {
    if layers.is_empty() {
        return Err(TileExportError::NoLayer);
    }
    let raster = layers.iter().find(|l| l.format() == "png");
    match raster {
        Some(r) if layers.len() > 1 => Err(TileExportError::MixedFormats {
            raster: r.name(),
            others: layers
                .iter()
                .filter(|l| *l != r)
                .map(|l| l.name())
                .collect::<Vec<_>>()
                .join(", "),
        }),
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// The common part of two boxes, when they meet.
fn intersection(a: Rect<f64>, b: Rect<f64>) -> Option<Rect<f64>> {
    let lo = (a.min().x.max(b.min().x), a.min().y.max(b.min().y));
    let hi = (a.max().x.min(b.max().x), a.max().y.min(b.max().y));
    (lo.0 <= hi.0 && lo.1 <= hi.1).then(|| Rect::new(lo, hi))
}

/// The tiles of zooms `min..=max` meeting any of `boxes`, each zoom in
/// PMTiles' tile-id order (Hilbert), as readers read best.
fn tile_coords(boxes: &[Rect<f64>], min: u8, max: u8) -> Vec<TileCoord> {
    let mut out = Vec::new();
    for z in min..=max {
        let mut zoom: Vec<(u64, TileCoord)> = boxes
            .iter()
            .filter_map(|b| {
                Some((
                    TileCoord::containing(b.min().x, b.max().y, z)?,
                    TileCoord::containing(b.max().x, b.min().y, z)?,
                ))
            })
            .flat_map(|(nw, se)| {
                (nw.x..=se.x).flat_map(move |x| (nw.y..=se.y).map(move |y| TileCoord { z, x, y }))
            })
            .filter_map(|c| {
                let id = pmtiles::TileId::from(pmtiles::TileCoord::new(c.z, c.x, c.y).ok()?);
                Some((id.value(), c))
            })
            .collect();
        zoom.sort_unstable_by_key(|(id, _)| *id);
        zoom.dedup_by_key(|(id, _)| *id);
        out.extend(zoom.into_iter().map(|(_, c)| c));
    }
    out
}

/// The archive's metadata: TileJSON's fields, with each vector layer's
/// zooms, and the layers in the order they are joined in a tile.
fn metadata(
    state: &AppState,
    engine: &crate::state::Engine,
    spec: &TileExport,
    bounds: Rect<f64>,
    raster: bool,
) -> serde_json::Value {
    let names: Vec<&str> = spec.layers.iter().map(|l| l.name()).collect();
    let mut m = json!({
        "name": format!("civgrid {}", names.join(", ")),
        "description": spec.layers.iter().map(|l| l.description()).collect::<Vec<_>>().join("; "),
        "attribution": "civgrid",
        "bounds": [bounds.min().x, bounds.min().y, bounds.max().x, bounds.max().y],
        "minzoom": spec.minzoom,
        "maxzoom": spec.maxzoom,
        "civgrid_layers": names,
    });
    if !raster {
        m["vector_layers"] = spec
            .layers
            .iter()
            .flat_map(|&l| {
                vector_layers_json(
                    l,
                    &state.tiles.fields(engine, l),
                    spec.minzoom,
                    spec.maxzoom,
                )
            })
            .collect();
    }
    m
}

/// A new MBTiles database at `path` with its tables and metadata.
fn mbtiles_open(
    path: &Path,
    plan: &Plan,
    centre_zoom: u8,
    metadata: &serde_json::Value,
) -> rusqlite::Result<rusqlite::Connection> {
    let db = rusqlite::Connection::open(path)?;
    db.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
         CREATE TABLE metadata (name TEXT, value TEXT);
         CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
         CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);",
    )?;
    let b = plan.bounds;
    let c = b.center();
    let text = |k: &str| metadata[k].as_str().unwrap_or_default().to_owned();
    let rows = [
        ("name", text("name")),
        ("format", if plan.raster { "png" } else { "pbf" }.to_owned()),
        ("type", "overlay".to_owned()),
        ("version", "1".to_owned()),
        ("attribution", "civgrid".to_owned()),
        ("description", text("description")),
        (
            "bounds",
            format!("{},{},{},{}", b.min().x, b.min().y, b.max().x, b.max().y),
        ),
        ("center", format!("{},{},{centre_zoom}", c.x, c.y)),
        ("minzoom", plan.minzoom.to_string()),
        ("maxzoom", plan.maxzoom.to_string()),
    ];
    for (k, v) in rows {
        db.execute(
            "INSERT INTO metadata (name, value) VALUES (?1, ?2)",
            [k, v.as_str()],
        )?;
    }
    if !plan.raster {
        let json = json!({ "vector_layers": metadata["vector_layers"] }).to_string();
        db.execute(
            "INSERT INTO metadata (name, value) VALUES ('json', ?1)",
            [json],
        )?;
    }
    Ok(db)
}

/// Makes a file readable by all and writable by its owner (0644).
fn set_readable(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes)?;
    z.finish()
}

fn pmtiles_err(file: &Path, e: &pmtiles::PmtError) -> TileExportError {
    TileExportError::Pmtiles {
        file: file.to_owned(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked_with_their_names() {
        assert!(parse_bbox("120,30,121,31").is_ok());
        for bad in ["120,30,121", "121,30,120,31", "a,b,c,d", "120,30,121,95"] {
            let e = parse_bbox(bad).unwrap_err().to_string();
            assert!(e.contains("--bbox") && e.contains(bad), "{e}");
        }
        let e = parse_layers(&["cells".into(), "roads".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"roads\"") && e.contains("served"), "{e}");
        let e = check_layers(&[TileLayer::Risk, TileLayer::Vector(VectorLayer::Cells)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("risk is a raster") && e.contains("cells"), "{e}");
        assert!(check_layers(&[TileLayer::Risk]).unwrap());
        assert!(!check_layers(&default_layers()).unwrap());
        assert!(matches!(check_layers(&[]), Err(TileExportError::NoLayer)));
        assert_eq!(default_layers()[1].name(), crate::tiles::AREAS_LAYER);
    }

    #[test]
    fn tiles_cover_the_box_at_every_zoom_in_tile_id_order() {
        let b = Rect::new((120.1, 30.2), (120.3, 30.3));
        // The same box twice, and one far away: each tile once.
        let far = Rect::new((24.9, 60.1), (24.95, 60.15));
        let coords = tile_coords(&[b, b, far], 0, 12);
        let near: Vec<TileCoord> = tile_coords(&[b], 0, 12);
        let union: std::collections::BTreeSet<TileCoord> = near
            .iter()
            .chain(&tile_coords(&[far], 0, 12))
            .copied()
            .collect();
        let got: std::collections::BTreeSet<TileCoord> = coords.iter().copied().collect();
        assert_eq!(got.len(), coords.len(), "each tile once");
        assert_eq!(got, union);
        for z in 0..=12u8 {
            let at: Vec<&TileCoord> = near.iter().filter(|c| c.z == z).collect();
            let nw = TileCoord::containing(120.1, 30.3, z).unwrap();
            let se = TileCoord::containing(120.3, 30.2, z).unwrap();
            assert_eq!(
                at.len() as u32,
                (se.x - nw.x + 1) * (se.y - nw.y + 1),
                "z{z}"
            );
        }
        let ids: Vec<u64> = coords
            .iter()
            .map(|c| pmtiles::TileId::from(pmtiles::TileCoord::new(c.z, c.x, c.y).unwrap()).value())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}

//! Map tiles of the loaded territory: the risk raster (cells filled with
//! their level's colour from `styles/risk.json`) and the tile cache.
//!
//! # Never stale
//!
//! A tile is rendered from one engine snapshot, taken after reading the
//! cache's generation, and cached only if no invalidation ran since
//! ([`TileCache::insert_if_current`]); a write publishes its snapshot and
//! then drops the tiles over what it touched, which moves the generation
//! on. So a cached tile is always one rendered from the current data: a
//! tile rendered from the snapshot before a write is either cached before
//! the write's invalidation, and dropped by it, or not cached at all.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use axum::body::Bytes;
use civgrid::cells::Cell;
use civgrid::{
    AdminArea, Barrier, BarrierKind, FacilityKind, Incident, RiskLevel, Road, Territory,
};
use civgrid_tiles::{
    bandwidth_margin_deg, density, effective_bandwidth_m, encode_tile, Canvas, ColorRamp,
    LonLatBounds, MvtLayer, MvtValue, Rgba, TileCache, TileCoord, TileError, TileKey,
    WeightedPoint, DEFAULT_EXTENT,
};
use geo::{BoundingRect, Centroid};
use geo_types::Rect;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::ogc::{self, Collection, Feature, Made, People};
use crate::state::Engine;

pub mod layer;
pub mod overview;
pub mod places;

pub use layer::TileLayer;

use overview::Overview;
use places::Place;

/// Default bound of the tile cache, bytes.
pub const DEFAULT_CACHE_BYTES: usize = 256 << 20;

/// The risk palette shipped in `styles/risk.json` (DESIGN standard 4).
pub const DEFAULT_RISK_STYLE: &str = include_str!("../../../styles/risk.json");

/// The heat-map style shipped in `styles/heat.json`.
pub const DEFAULT_HEAT_STYLE: &str = include_str!("../../../styles/heat.json");

/// Deepest zoom served.
pub const MAX_SERVED_ZOOM: u8 = 22;

/// Side of a tile at scale 1, pixels.
pub const TILE_PX: u32 = 256;

/// Vector features are kept within this many grid units (of
/// [`DEFAULT_EXTENT`]) around a tile, so that lines and outlines cross
/// tile borders without seams.
pub const MVT_BUFFER: u32 = 64;

/// The vector tile layers of one collection each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorLayer {
    /// Unit cells with their risk.
    Cells,
    /// Facilities.
    Facilities,
    /// Hazards.
    Hazards,
    /// Household grids (active ones).
    Grids,
    /// Components (部件): points, lines and areas.
    Components,
    /// Overlay zones of every layer.
    Zones,
}

impl VectorLayer {
    /// Every vector layer.
    pub const ALL: [Self; 6] = [
        Self::Cells,
        Self::Grids,
        Self::Facilities,
        Self::Hazards,
        Self::Components,
        Self::Zones,
    ];

    /// The layer's name in URLs and in the tile.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Cells => "cells",
            Self::Facilities => "facilities",
            Self::Hazards => "hazards",
            Self::Grids => "grids",
            Self::Components => "components",
            Self::Zones => "zones",
        }
    }

    /// The least zoom the layer is served at (docs/tiles.md): below it
    /// its features are smaller than a few pixels and a tile of them would
    /// hold hundreds of thousands; the `areas` tiles stand in for cells
    /// and grids there.
    pub const fn minzoom(self) -> u8 {
        match self {
            Self::Cells | Self::Components => 13,
            Self::Grids => 12,
            Self::Facilities | Self::Hazards | Self::Zones => 0,
        }
    }
}

/// The least zoom at which facilities of a kind are in `facilities` tiles:
/// the stations that answer an emergency at every zoom, the other places
/// from zoom 10, hydrants (most of them: 86,000 of a province's 106,000)
/// from zoom 12.
pub const fn facility_minzoom(kind: FacilityKind) -> u8 {
    match kind {
        FacilityKind::FireStation
        | FacilityKind::Hospital
        | FacilityKind::Police
        | FacilityKind::AmbulanceStation
        | FacilityKind::Shelter => 0,
        FacilityKind::FireHydrant => 12,
        FacilityKind::MicroFireStation
        | FacilityKind::Clinic
        | FacilityKind::School
        | FacilityKind::Defibrillator => 10,
    }
}

/// The name of the overview tiles of administrative areas in URLs.
pub const AREAS_LAYER: &str = "areas";

/// A level of the administrative areas in `areas` tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AreaLayer {
    /// The layer's name in the tile.
    pub name: &'static str,
    /// The level's name in [`AREA_LABELS`]'s `area` field.
    pub label: &'static str,
    /// The least zoom it is in the tile at.
    pub minzoom: u8,
    /// The least zoom its name points are in [`AREA_LABELS`] at.
    pub label_minzoom: u8,
}

/// The layer of `areas` tiles holding a point per named area, where its
/// name is drawn: `name`, `code`, `area` (`district`, `subdistrict` or
/// `community`, from that level's `label_minzoom`) and its highest risk
/// `level`.
pub const AREA_LABELS: &str = "area_labels";

/// The layers of `areas` tiles, coarsest first: districts at every zoom,
/// subdistricts from zoom 8, communities from zoom 10 (where a province's
/// densest tile holds about 2,000 of them) and their names from 12.
pub const AREA_LAYERS: [AreaLayer; 3] = [
    AreaLayer {
        name: "districts",
        label: "district",
        minzoom: 0,
        label_minzoom: 0,
    },
    AreaLayer {
        name: "subdistricts",
        label: "subdistrict",
        minzoom: 8,
        label_minzoom: 8,
    },
    AreaLayer {
        name: "communities",
        label: "community",
        minzoom: 10,
        label_minzoom: 12,
    },
];

/// Polygons of `areas` tiles under a pixel (of a 256-pixel tile), in
/// square grid units, are left out.
const PIXEL_AREA: f64 =
    (DEFAULT_EXTENT as f64 / TILE_PX as f64) * (DEFAULT_EXTENT as f64 / TILE_PX as f64);

/// Road classes drawn below [`MINOR_ROADS_ZOOM`] (OSM highway values;
/// `_link`s too), with the least zoom of each: a province's 20,000 primary
/// and secondary roads make a 400 KB tile at zoom 6, its 6,000 primary
/// ones a third of that.
pub const MAJOR_ROADS: [(&str, u8); 4] = [
    ("motorway", 0),
    ("trunk", 0),
    ("primary", 6),
    ("secondary", 9),
];

/// The least zoom at which roads of a class are in `base` tiles.
pub fn road_minzoom(class: &str) -> u8 {
    let class = class.trim_end_matches("_link");
    MAJOR_ROADS
        .iter()
        .find(|(c, _)| *c == class)
        .map_or(MINOR_ROADS_ZOOM, |&(_, z)| z)
}

/// Zoom from which minor roads are in `base` tiles.
pub const MINOR_ROADS_ZOOM: u8 = 13;

/// Zoom from which buildings are in `base` tiles.
pub const BUILDINGS_ZOOM: u8 = 14;

/// The static layers of `base` tiles, as collections (R-tree queries).
#[derive(Debug)]
struct Base {
    roads: Collection,
    /// The roads of [`MAJOR_ROADS`] classes: what tiles below
    /// [`MINOR_ROADS_ZOOM`] draw (by [`road_minzoom`]), without making the
    /// others into features.
    major_roads: Collection,
    water: Collection,
    buildings: Collection,
}

impl Base {
    /// The base map of `t`'s roads, water and buildings, made into
    /// features when a tile is drawn (no copy: see [`ogc::Made`]).
    fn new(t: Territory) -> Self {
        let water: Vec<Barrier> = t
            .barriers
            .into_iter()
            .filter(|b| {
                matches!(
                    b.kind,
                    BarrierKind::River | BarrierKind::Canal | BarrierKind::Stream
                )
            })
            .collect();
        let roads = by_id(t.roads, |r| r.id);
        let major: Vec<Road> = roads
            .iter()
            .filter(|r| road_minzoom(&r.class) < MINOR_ROADS_ZOOM)
            .cloned()
            .collect();
        let road_source = |roads: Arc<Vec<Road>>| {
            Arc::new(Made::new(
                roads,
                |r| r.id.to_string(),
                |r| Feature {
                    id: r.id.to_string(),
                    geometry: r.geometry.clone().into(),
                    properties: ogc::properties([
                        ("class", json!(r.class)),
                        ("name", json!(r.name).filter_empty()),
                    ]),
                },
                |r| r.geometry.bounding_rect(),
            ))
        };
        let water = Made::new(
            by_id(water, |b| b.id),
            |b| b.id.to_string(),
            |b| Feature {
                id: b.id.to_string(),
                geometry: b.geometry.clone().into(),
                properties: ogc::properties([
                    ("kind", json!(b.kind.as_str())),
                    ("name", json!(b.name).filter_empty()),
                ]),
            },
            |b| b.geometry.bounding_rect(),
        );
        let buildings = Made::new(
            by_id(t.buildings, |b| b.id),
            |b| b.id.to_string(),
            |b| Feature {
                id: b.id.to_string(),
                geometry: b.geometry.clone().into(),
                properties: ogc::properties([
                    ("name", json!(b.name).filter_empty()),
                    ("households", json!(b.households)),
                    ("levels", json!(b.levels)),
                ]),
            },
            |b| b.geometry.bounding_rect(),
        );
        Self {
            roads: Collection::made("roads", "Roads", "roads by class", road_source(roads)),
            major_roads: Collection::made(
                "roads",
                "Major roads",
                "motorways, trunk, primary and secondary roads",
                road_source(Arc::new(major)),
            ),
            water: Collection::made(
                "water",
                "Water",
                "rivers, canals and streams",
                Arc::new(water),
            ),
            buildings: Collection::made(
                "buildings",
                "Buildings",
                "building footprints",
                Arc::new(buildings),
            ),
        }
    }
}

/// `items` in collection order, by their store ids.
fn by_id<T>(mut items: Vec<T>, id: fn(&T) -> i64) -> Arc<Vec<T>> {
    items.sort_by_key(id);
    Arc::new(items)
}

/// An empty string as null, so that it is left out of the properties.
trait FilterEmpty {
    fn filter_empty(self) -> Self;
}

impl FilterEmpty for serde_json::Value {
    fn filter_empty(self) -> Self {
        if self.as_str() == Some("") {
            Self::Null
        } else {
            self
        }
    }
}

/// A tile's lon/lat bounds grown by [`MVT_BUFFER`] grid units.
fn grown(coord: TileCoord) -> Rect<f64> {
    let b = coord.bounds();
    let margin = f64::from(MVT_BUFFER) / f64::from(DEFAULT_EXTENT);
    let (dx, dy) = ((b.east - b.west) * margin, (b.north - b.south) * margin);
    Rect::new((b.west - dx, b.south - dy), (b.east + dx, b.north + dy))
}

/// Adds a collection feature with its properties to a vector layer; the
/// id is the feature's when it is a whole number. People
/// ([`ogc::PEOPLE`]: grid workers' and leaders' names and phones) are
/// never in a tile: tiles are cached for every caller alike, and the API
/// gives people to tokens only.
fn add_feature(out: &mut MvtLayer, f: &Feature) {
    let props: Vec<(&str, MvtValue)> = f
        .properties
        .iter()
        .filter(|(k, _)| People::Withheld.allow(k))
        .filter_map(|(k, v)| Some((k.as_str(), mvt_value(v)?)))
        .collect();
    out.add(f.id.parse::<u64>().ok(), &f.geometry, &props);
}

/// A JSON property as an MVT value (`None` for null, arrays and objects).
fn mvt_value(v: &serde_json::Value) -> Option<MvtValue> {
    use serde_json::Value;
    match v {
        Value::String(s) => Some(MvtValue::String(s.clone())),
        Value::Bool(b) => Some(MvtValue::Bool(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(MvtValue::Int)
            .or_else(|| n.as_f64().map(MvtValue::Double)),
        _ => None,
    }
}

/// The colour of each risk level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    /// 重大.
    pub red: Rgba,
    /// 较大.
    pub orange: Rgba,
    /// 一般.
    pub yellow: Rgba,
    /// 低.
    pub blue: Rgba,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaletteFile {
    red: String,
    orange: String,
    yellow: String,
    blue: String,
}

impl Palette {
    /// Reads a palette file: `{"red": "#E60012", "orange": …, "yellow": …,
    /// "blue": …}` (`#RRGGBB` or `#RRGGBBAA`).
    ///
    /// # Errors
    /// A message naming what is wrong.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let f: PaletteFile =
            serde_json::from_str(text).map_err(|e| format!("risk palette: {e}"))?;
        let c = |s: &str| Rgba::from_hex(s).map_err(|e| format!("risk palette: {e}"));
        Ok(Self {
            red: c(&f.red)?,
            orange: c(&f.orange)?,
            yellow: c(&f.yellow)?,
            blue: c(&f.blue)?,
        })
    }

    /// The colour of a level.
    pub const fn of(&self, level: RiskLevel) -> Rgba {
        match level {
            RiskLevel::Red => self.red,
            RiskLevel::Orange => self.orange,
            RiskLevel::Yellow => self.yellow,
            RiskLevel::Blue => self.blue,
        }
    }
}

impl Default for Palette {
    fn default() -> Self {
        #[expect(clippy::expect_used, reason = "the shipped style is tested")]
        Self::from_json(DEFAULT_RISK_STYLE).expect("styles/risk.json is valid")
    }
}

/// The heat-map style: kernel bandwidth and colour ramp over densities
/// (incidents per km² of ground; see [`civgrid_tiles::density`]).
#[derive(Debug, Clone, PartialEq)]
pub struct HeatStyle {
    /// Kernel radius, metres.
    pub bandwidth_m: f64,
    /// Colours by density per km².
    pub ramp: ColorRamp,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeatFile {
    bandwidth_m: f64,
    stops: Vec<(f64, String)>,
}

impl HeatStyle {
    /// Reads a heat style: `{"bandwidth_m": 200, "stops": [[2, "#FFFFB200"],
    /// …]}` (densities per km², strictly increasing).
    ///
    /// # Errors
    /// A message naming what is wrong.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let f: HeatFile = serde_json::from_str(text).map_err(|e| format!("heat style: {e}"))?;
        if !(f.bandwidth_m.is_finite() && f.bandwidth_m > 0.0) {
            return Err(format!(
                "heat style: bandwidth_m = {} must be a positive number of metres",
                f.bandwidth_m
            ));
        }
        let stops = f
            .stops
            .iter()
            .map(|(v, c)| Ok((*v, Rgba::from_hex(c)?)))
            .collect::<Result<Vec<_>, TileError>>()
            .and_then(ColorRamp::new)
            .map_err(|e| format!("heat style: {e}"))?;
        Ok(Self {
            bandwidth_m: f.bandwidth_m,
            ramp: stops,
        })
    }
}

impl Default for HeatStyle {
    fn default() -> Self {
        #[expect(clippy::expect_used, reason = "the shipped style is tested")]
        Self::from_json(DEFAULT_HEAT_STYLE).expect("styles/heat.json is valid")
    }
}

/// The map styles: risk palette and heat-map style (`styles/` by default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Styles {
    /// Risk colours.
    pub palette: Palette,
    /// Heat-map bandwidth and colours.
    pub heat: HeatStyle,
}

impl Styles {
    /// Reads `risk.json` and `heat.json` from a folder; a file that is
    /// not there keeps the shipped default.
    ///
    /// # Errors
    /// A message naming the file and what is wrong with it.
    pub fn load(dir: &std::path::Path) -> Result<Self, String> {
        let read = |name: &str| -> Result<Option<String>, String> {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("{}: {e}", path.display())),
            }
        };
        let at = |name: &str, e: String| format!("{}: {e}", dir.join(name).display());
        Ok(Self {
            palette: read("risk.json")?
                .map(|t| Palette::from_json(&t).map_err(|e| at("risk.json", e)))
                .transpose()?
                .unwrap_or_default(),
            heat: read("heat.json")?
                .map(|t| HeatStyle::from_json(&t).map_err(|e| at("heat.json", e)))
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

/// What a heat map is the density of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HeatSource {
    /// Incidents, one each.
    #[default]
    Incidents,
    /// Hazards, weighted by level.
    Hazards,
}

/// What a heat map counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    /// Incidents or hazards.
    pub source: HeatSource,
    /// Kinds counted (empty: every kind), of incidents or hazards.
    pub kinds: Vec<String>,
    /// From this time on (Unix seconds, inclusive).
    pub from_unix_s: Option<i64>,
    /// Before this time (Unix seconds, exclusive).
    pub to_unix_s: Option<i64>,
}

impl IncidentFilter {
    /// `true` when it lets every incident through.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    fn accepts(&self, i: &Incident) -> bool {
        (self.kinds.is_empty() || self.kinds.iter().any(|k| k == &i.kind))
            && self.from_unix_s.is_none_or(|t| i.time_unix_s >= t)
            && self.to_unix_s.is_none_or(|t| i.time_unix_s < t)
    }
}

/// An encoded tile and its entity tag.
#[derive(Debug, Clone)]
pub struct Tile {
    /// The encoded bytes.
    pub bytes: Bytes,
    /// A strong ETag (quoted), from a hash of the bytes.
    pub etag: String,
}

impl Tile {
    /// A tile of encoded bytes, with its tag.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self {
            etag: strong_etag(&bytes),
            bytes: bytes.into(),
        }
    }
}

/// A strong entity tag (quoted) for `bytes`: the first 96 bits of their
/// SHA-256, in hex.
pub fn strong_etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("\"{}\"", crate::auth::hex(&digest[..12]))
}

type CellEntry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// The tile cache and the index the renderers query.
#[derive(Debug)]
pub struct Tiles {
    /// Encoded tiles.
    pub cache: TileCache<Tile>,
    data: RwLock<Arc<TileData>>,
    /// The overview of the latest risk map a tile asked for.
    overview: Mutex<Option<Arc<Overview>>>,
}

/// What tiles are drawn from besides the engine: the cells' boxes (in the
/// engine's order), the base map and the incidents.
#[derive(Debug)]
struct TileData {
    cells: Arc<RTree<CellEntry>>,
    /// Districts, subdistricts and communities, as [`AREA_LAYERS`].
    areas: [Areas; 3],
    base: Base,
    incidents: Vec<Incident>,
    incident_index: RTree<GeomWithData<[f64; 2], usize>>,
}

/// Tile indexes built by [`Tiles::prepare`], waiting to be installed.
#[derive(Debug)]
pub struct PreparedTiles(Arc<TileData>);

/// The lon/lat bounds of a rectangle, as the cache takes them.
pub fn bounds(r: Rect<f64>) -> LonLatBounds {
    LonLatBounds {
        west: r.min().x,
        south: r.min().y,
        east: r.max().x,
        north: r.max().y,
    }
}

/// An R-tree of the boxes of `shapes`, each with its position.
fn box_tree<'a>(
    shapes: impl Iterator<Item = &'a geo_types::MultiPolygon<f64>>,
) -> RTree<CellEntry> {
    RTree::bulk_load(
        shapes
            .enumerate()
            .filter_map(|(i, g)| {
                let r = g.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect(),
    )
}

/// The positions of the boxes in `tree` meeting `coord`'s buffered tile,
/// ascending.
fn meeting(tree: &RTree<CellEntry>, coord: TileCoord) -> Vec<usize> {
    let q = grown(coord);
    let envelope = AABB::from_corners([q.min().x, q.min().y], [q.max().x, q.max().y]);
    let mut hits: Vec<usize> = tree
        .locate_in_envelope_intersecting(&envelope)
        .map(|e| e.data)
        .collect();
    hits.sort_unstable();
    hits
}

/// Administrative areas of one level, with an index of their boxes.
#[derive(Debug)]
struct Areas {
    list: Vec<AdminArea>,
    tree: RTree<CellEntry>,
    /// Where each area's name goes: a point inside it (of its largest
    /// part), one per area, so a name is drawn once however many tiles the
    /// area spans.
    labels: Vec<Option<geo_types::Point<f64>>>,
}

impl Areas {
    fn new(areas: Vec<AdminArea>) -> Self {
        let tree = box_tree(areas.iter().map(|a| &a.geometry));
        let labels = areas
            .iter()
            .map(|a| {
                let largest = a.geometry.iter().max_by(|p, q| {
                    geo::Area::unsigned_area(*p).total_cmp(&geo::Area::unsigned_area(*q))
                })?;
                geo::InteriorPoint::interior_point(largest)
            })
            .collect();
        Self {
            list: areas,
            tree,
            labels,
        }
    }

    /// The areas meeting `coord`'s buffered tile, in order.
    fn meeting(&self, coord: TileCoord) -> Vec<usize> {
        meeting(&self.tree, coord)
    }

    /// Adds the name points of the named areas meeting `coord` to `out`
    /// (`area`: the area's level, `level`: its highest risk level).
    fn add_labels(
        &self,
        layer: AreaLayer,
        coord: TileCoord,
        overview: &Overview,
        out: &mut MvtLayer,
    ) {
        for i in self.meeting(coord) {
            let (a, Some(at)) = (&self.list[i], self.labels[i]) else {
                continue;
            };
            if a.name.is_empty() {
                continue;
            }
            let mut props = vec![
                ("name", MvtValue::String(a.name.clone())),
                ("code", MvtValue::String(a.code.to_string())),
                ("area", MvtValue::String(layer.label.to_owned())),
            ];
            if let Some(l) = overview.counts(a.code).level {
                props.push(("level", MvtValue::String(l.as_str().to_owned())));
            }
            out.add(
                Some(a.code.value()),
                &geo_types::Geometry::Point(at),
                &props,
            );
        }
    }

    /// The layer of the areas meeting `coord`'s buffered tile, with their
    /// cells per level from `overview`.
    fn layer(&self, layer: AreaLayer, coord: TileCoord, overview: &Overview) -> MvtLayer {
        let mut out =
            MvtLayer::new(layer.name, coord, DEFAULT_EXTENT, MVT_BUFFER).with_min_area(PIXEL_AREA);
        for i in self.meeting(coord) {
            let a = &self.list[i];
            let c = overview.counts(a.code);
            let count = |n: usize| MvtValue::Int(n as i64);
            let mut props = vec![
                ("code", MvtValue::String(a.code.to_string())),
                ("cells", count(c.cells())),
                ("red", count(c.red)),
                ("orange", count(c.orange)),
                ("yellow", count(c.yellow)),
                ("blue", count(c.blue)),
            ];
            if !a.name.is_empty() {
                props.push(("name", MvtValue::String(a.name.clone())));
            }
            if let Some(k) = a.kind {
                props.push(("kind", MvtValue::String(k.as_str().to_owned())));
            }
            if let Some(l) = c.level {
                props.push(("level", MvtValue::String(l.as_str().to_owned())));
            }
            out.add_polygons(Some(a.code.value()), &a.geometry, &props);
        }
        out
    }
}

impl TileData {
    fn new(cells: &[Cell], mut territory: Territory) -> Self {
        let incidents = std::mem::take(&mut territory.incidents);
        let areas = [
            std::mem::take(&mut territory.districts),
            std::mem::take(&mut territory.subdistricts),
            std::mem::take(&mut territory.communities),
        ]
        .map(Areas::new);
        let incident_index = RTree::bulk_load(
            incidents
                .iter()
                .enumerate()
                .map(|(i, x)| GeomWithData::new([x.location.x(), x.location.y()], i))
                .collect(),
        );

        Self {
            cells: Arc::new(box_tree(cells.iter().map(|c| &c.geometry))),
            areas,
            base: Base::new(territory),
            incidents,
            incident_index,
        }
    }
}

impl Tiles {
    /// Indexes the engine's cells (in its order), and the roads, buildings,
    /// water and incidents of `territory` (not edited through the API; a
    /// reload replaces them, see [`Tiles::reload`]), for rendering.
    pub fn new(cells: &[Cell], territory: Territory, cache_bytes: usize) -> Self {
        Self {
            cache: TileCache::new(cache_bytes),
            data: RwLock::new(Arc::new(TileData::new(cells, territory))),
            overview: Mutex::new(None),
        }
    }

    /// Indexes a reloaded engine's cells and territory, for
    /// [`Tiles::install`]: the long part, done before the engine is locked.
    #[must_use]
    pub fn prepare(cells: &[Cell], territory: Territory) -> PreparedTiles {
        PreparedTiles(Arc::new(TileData::new(cells, territory)))
    }

    /// Swaps in prepared indexes and drops every cached tile. Call it after
    /// publishing the reloaded engine (module docs).
    pub fn install(&self, prepared: PreparedTiles) {
        *self.data.write().unwrap_or_else(PoisonError::into_inner) = prepared.0;
        self.cache.clear();
    }

    fn data(&self) -> Arc<TileData> {
        self.data
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The overview of `engine`'s risk map over `data`'s cells: the one
    /// kept, or a new one when the risk map or the cells have changed
    /// since (see [`overview`]).
    fn overview(&self, engine: &Engine, data: &TileData) -> Arc<Overview> {
        let mut kept = self.overview.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(o) = kept.as_ref().filter(|o| o.is_of(&engine.risk, &data.cells)) {
            return o.clone();
        }
        let made = Arc::new(Overview::new(engine.risk.clone(), data.cells.clone()));
        *kept = Some(made.clone());
        made
    }

    /// Makes the overview of `engine`'s risk map now, on a thread of its
    /// own, so that the first low-zoom tile after a load does not wait for
    /// it (a province's takes about 0.4 s). After a write the first tile
    /// that needs it makes it: made eagerly after every write, it took a
    /// core's share from reads under a write a second (the province's
    /// `locate` p99 5.3 → 7.8 ms).
    pub fn warm(self: &Arc<Self>, engine: Arc<Engine>) {
        let tiles = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("tile overview".into())
            .spawn(move || {
                let data = tiles.data();
                tiles.overview(&engine, &data);
            });
        if let Err(e) = spawned {
            tracing::warn!("the tile overview is made by the first tile that needs it: {e}");
        }
    }

    /// The places of the territory ([`places`]): where a map opens.
    pub fn places(&self, engine: &Engine) -> Vec<Place> {
        let data = self.data();
        let overview = self.overview(engine, &data);
        places::places(&data.areas[2], &data.areas[0], &overview)
    }

    /// Encodes an `areas` tile: layers `districts`, `subdistricts` and
    /// `communities` from their [`AREA_LAYERS`] zooms, and their name points
    /// in [`AREA_LABELS`]; each area with its
    /// `code`, `name`, `kind` (communities), `cells` and cells per level
    /// (`red`, `orange`, `yellow`, `blue`) and its highest `level`: the
    /// `/api/v1/risk/counts` figures, drawn at the zooms where cells are
    /// too small to see.
    pub fn render_areas(&self, engine: &Engine, coord: TileCoord) -> Vec<u8> {
        let data = self.data();
        let overview = self.overview(engine, &data);
        let mut labels = MvtLayer::new(AREA_LABELS, coord, DEFAULT_EXTENT, MVT_BUFFER);
        let mut layers: Vec<MvtLayer> = Vec::new();
        for (l, areas) in AREA_LAYERS.iter().zip(&data.areas) {
            if coord.z >= l.minzoom {
                layers.push(areas.layer(*l, coord, &overview));
            }
            if coord.z >= l.label_minzoom {
                areas.add_labels(*l, coord, &overview, &mut labels);
            }
        }
        layers.push(labels);
        encode_tile(&layers)
    }

    /// The tile of `key`: from the cache, or rendered by `render` and
    /// cached unless the cache has changed since `generation`
    /// ([`TileCache::generation`], read before the engine snapshot that
    /// `render` draws from: module docs). Call it after a counted lookup
    /// of the cache: this second look is not counted.
    ///
    /// # Errors
    /// [`TileError`] when the tile cannot be drawn or encoded.
    pub fn get(
        &self,
        generation: u64,
        key: TileKey,
        render: impl FnOnce() -> Result<Vec<u8>, TileError>,
    ) -> Result<Tile, TileError> {
        if let Some(t) = self.cache.peek(&key) {
            return Ok(t);
        }
        let tile = Tile::new(render()?);
        self.cache
            .insert_if_current(generation, key, tile.clone(), tile.bytes.len());
        Ok(tile)
    }

    /// Renders a tile of any served layer (`scale` 2 for a 512-pixel risk
    /// tile; `filter` for heat tiles), without the cache. The caller keeps
    /// to [`TileLayer::minzoom`].
    ///
    /// # Errors
    /// [`TileError`] when a raster cannot be drawn or encoded.
    pub fn render(
        &self,
        engine: &Engine,
        styles: &Styles,
        layer: TileLayer,
        coord: TileCoord,
        scale: u8,
        filter: &IncidentFilter,
    ) -> Result<Vec<u8>, TileError> {
        match layer {
            TileLayer::Risk => self.render_risk(engine, &styles.palette, coord, scale),
            TileLayer::Heat => self.render_heat(engine, &styles.heat, coord, filter),
            TileLayer::Base => Ok(self.render_base(coord)),
            TileLayer::Areas => Ok(self.render_areas(engine, coord)),
            TileLayer::Vector(v) => Ok(self.render_vector(engine, v, coord)),
        }
    }

    /// The fields of each layer inside `layer`'s vector tiles (TileJSON's
    /// `vector_layers[].fields`: name → `String`, `Number` or `Boolean`),
    /// from the first features of its collection and what the tiles add
    /// (cells' risk, areas' counts); people's names and phones are never
    /// in a tile. Empty for rasters.
    pub fn fields(
        &self,
        engine: &Engine,
        layer: TileLayer,
    ) -> Vec<(
        &'static str,
        std::collections::BTreeMap<String, &'static str>,
    )> {
        /// Features looked at for their properties.
        const SAMPLE: usize = 1000;
        let of = |c: &Collection, extra: &[(&str, &'static str)]| {
            let mut fields: std::collections::BTreeMap<String, &'static str> = c
                .query(None, 0, SAMPLE)
                .features
                .iter()
                .flat_map(|f| f.properties.iter())
                .filter(|(k, _)| People::Withheld.allow(k))
                .filter_map(|(k, v)| {
                    let ty = match v {
                        serde_json::Value::String(_) => "String",
                        serde_json::Value::Number(_) => "Number",
                        serde_json::Value::Bool(_) => "Boolean",
                        _ => return None,
                    };
                    Some((k.clone(), ty))
                })
                .collect();
            fields.extend(extra.iter().map(|(k, t)| ((*k).to_owned(), *t)));
            fields
        };
        let data = self.data();
        match layer {
            TileLayer::Risk | TileLayer::Heat => Vec::new(),
            TileLayer::Base => vec![
                ("water", of(&data.base.water, &[])),
                ("roads", of(&data.base.roads, &[])),
                ("buildings", of(&data.base.buildings, &[])),
            ],
            TileLayer::Areas => {
                let mut f: std::collections::BTreeMap<String, &'static str> = [
                    ("code", "String"),
                    ("name", "String"),
                    ("kind", "String"),
                    ("level", "String"),
                    ("cells", "Number"),
                    ("red", "Number"),
                    ("orange", "Number"),
                    ("yellow", "Number"),
                    ("blue", "Number"),
                ]
                .iter()
                .map(|(k, t)| ((*k).to_owned(), *t))
                .collect();
                let communities = f.clone();
                f.remove("kind");
                let labels = ["name", "code", "area", "level"]
                    .iter()
                    .map(|k| ((*k).to_owned(), "String"))
                    .collect();
                AREA_LAYERS
                    .iter()
                    .map(|l| {
                        let fields = if l.name == "communities" {
                            communities.clone()
                        } else {
                            f.clone()
                        };
                        (l.name, fields)
                    })
                    .chain(std::iter::once((AREA_LABELS, labels)))
                    .collect()
            }
            TileLayer::Vector(v) => {
                let extra: &[(&str, &'static str)] = if v == VectorLayer::Cells {
                    &[
                        ("level", "String"),
                        ("score", "Number"),
                        ("households", "Number"),
                    ]
                } else {
                    &[]
                };
                vec![(v.name(), of(Self::collection(engine, v), extra))]
            }
        }
    }

    /// The collection a vector layer's tiles are drawn from.
    fn collection(engine: &Engine, layer: VectorLayer) -> &Collection {
        match layer {
            VectorLayer::Cells => &engine.collections.cells,
            VectorLayer::Facilities => &engine.collections.facilities,
            VectorLayer::Hazards => &engine.collections.hazards,
            VectorLayer::Grids => &engine.collections.grids,
            VectorLayer::Components => &engine.collections.components,
            VectorLayer::Zones => &engine.collections.zones,
        }
    }

    /// Encodes a vector tile of one layer (`cells`, `grids`, `facilities`,
    /// `hazards`, `components` or `zones`) from the engine's collections:
    /// every feature meeting the tile (grown by [`MVT_BUFFER`] grid units),
    /// clipped to it, with its properties; cells also carry their risk
    /// `level`, `score` and `households`; facilities from their kind's
    /// [`facility_minzoom`]. The caller keeps to [`VectorLayer::minzoom`].
    pub fn render_vector(&self, engine: &Engine, layer: VectorLayer, coord: TileCoord) -> Vec<u8> {
        if layer == VectorLayer::Cells {
            return self.render_cells(engine, coord);
        }
        let collection = Self::collection(engine, layer);
        let query = grown(coord);
        let mut out = MvtLayer::new(layer.name(), coord, DEFAULT_EXTENT, MVT_BUFFER);
        let shown = |f: &Feature| {
            layer != VectorLayer::Facilities
                || f.properties
                    .get("kind")
                    .and_then(|k| k.as_str()?.parse::<FacilityKind>().ok())
                    .is_none_or(|k| coord.z >= facility_minzoom(k))
        };
        for f in collection.query(Some(query), 0, usize::MAX).features {
            if !shown(&f) {
                continue;
            }
            add_feature(&mut out, &f);
        }
        encode_tile(&[out])
    }

    /// Encodes a `cells` tile straight from the engine's cells and risk map,
    /// making no feature: each cell meeting the buffered tile with the
    /// properties of its OGC feature ([`ogc::cell`]: `code`, `community`,
    /// `area_m2`, `h3`, `start_date`) and its risk `level`, `score` and
    /// `households`. The cells are the engine's, indexed in its order by
    /// [`Tiles::new`] (cells change only by a reload, which installs a new
    /// index).
    fn render_cells(&self, engine: &Engine, coord: TileCoord) -> Vec<u8> {
        let data = self.data();
        let mut out = MvtLayer::new(VectorLayer::Cells.name(), coord, DEFAULT_EXTENT, MVT_BUFFER);
        for i in meeting(&data.cells, coord) {
            let Some(c) = engine.cells.get(i) else {
                continue;
            };
            let code = c.code.to_string();
            let id = code.parse::<u64>().ok();
            let mut props = vec![
                ("code", MvtValue::String(code)),
                ("community", MvtValue::String(c.community.to_string())),
                ("area_m2", MvtValue::Double(ogc::area_m2(c))),
                ("h3", MvtValue::String(c.h3.to_string())),
                ("start_date", MvtValue::String(c.start.to_string())),
            ];
            if let Some(r) = engine.risk.map.cells.get(i) {
                props.push(("level", MvtValue::String(r.level.as_str().to_owned())));
                props.push(("score", MvtValue::Double(r.score)));
                props.push(("households", MvtValue::Int(r.households as i64)));
            }
            out.add_polygons(id, &c.geometry, &props);
        }
        encode_tile(&[out])
    }

    /// Encodes a `base` vector tile: layers `roads` (class, name), `water`
    /// (rivers, canals, streams: kind, name) and `buildings` (name,
    /// households, levels), simplified per zoom: roads by
    /// [`road_minzoom`] (minor ones from [`MINOR_ROADS_ZOOM`]), buildings
    /// from [`BUILDINGS_ZOOM`].
    pub fn render_base(&self, coord: TileCoord) -> Vec<u8> {
        let query = grown(coord);
        // Only the collections drawn at this zoom are queried: features
        // are made when read, and a province's buildings are 827,000.
        let layer = |collection: &Collection, shown: bool, keep: &dyn Fn(&Feature) -> bool| {
            let mut out = MvtLayer::new(collection.id, coord, DEFAULT_EXTENT, MVT_BUFFER);
            if shown {
                for f in collection.query(Some(query), 0, usize::MAX).features {
                    if keep(&f) {
                        add_feature(&mut out, &f);
                    }
                }
            }
            out
        };
        let data = self.data();
        let roads = if coord.z >= MINOR_ROADS_ZOOM {
            layer(&data.base.roads, true, &|_| true)
        } else {
            layer(&data.base.major_roads, true, &|f| {
                f.properties
                    .get("class")
                    .and_then(|c| c.as_str())
                    .is_some_and(|c| coord.z >= road_minzoom(c))
            })
        };
        let water = layer(&data.base.water, true, &|_| true);
        let buildings = layer(&data.base.buildings, coord.z >= BUILDINGS_ZOOM, &|_| true);
        encode_tile(&[water, roads, buildings])
    }

    /// Renders a heat tile (256 px) of the incidents `filter` lets
    /// through (weight 1 each), or with `HeatSource::Hazards` of the
    /// hazards of the filter's kinds weighted by their level's weight in the
    /// risk map's configuration (areas at their centroid): every point
    /// within the bandwidth of the tile counts (no seams).
    ///
    /// # Errors
    /// [`TileError`] when the canvas cannot be encoded.
    pub fn render_heat(
        &self,
        engine: &Engine,
        style: &HeatStyle,
        coord: TileCoord,
        filter: &IncidentFilter,
    ) -> Result<Vec<u8>, TileError> {
        let h = effective_bandwidth_m(coord, TILE_PX, style.bandwidth_m);
        let (dx, dy) = bandwidth_margin_deg(coord, h);
        let b = coord.bounds();
        let data = self.data();
        let points: Vec<WeightedPoint> = match filter.source {
            HeatSource::Incidents => {
                let envelope =
                    AABB::from_corners([b.west - dx, b.south - dy], [b.east + dx, b.north + dy]);
                data.incident_index
                    .locate_in_envelope(&envelope)
                    .map(|e| &data.incidents[e.data])
                    .filter(|i| filter.accepts(i))
                    .map(|i| WeightedPoint {
                        at: i.location.0,
                        weight: 1.0,
                    })
                    .collect()
            }
            HeatSource::Hazards => {
                let grown = Rect::new((b.west - dx, b.south - dy), (b.east + dx, b.north + dy));
                engine
                    .collections
                    .hazards
                    .query(Some(grown), 0, usize::MAX)
                    .features
                    .into_iter()
                    .filter(|f| {
                        filter.kinds.is_empty()
                            || f.properties
                                .get("kind")
                                .and_then(|k| k.as_str())
                                .is_some_and(|k| filter.kinds.iter().any(|x| x == k))
                    })
                    .filter_map(|f| {
                        let level: RiskLevel = f.properties.get("level")?.as_str()?.parse().ok()?;
                        Some(WeightedPoint {
                            at: f.geometry.centroid()?.0,
                            weight: engine.risk.config.levels.of(level),
                        })
                    })
                    .collect()
            }
        };
        let values = density(coord, TILE_PX, &points, style.bandwidth_m);
        let mut canvas = Canvas::new(coord, TILE_PX)?;
        for (i, v) in values.into_iter().enumerate() {
            if v > 0.0 {
                let i = i as u32;
                canvas.set(i % TILE_PX, i / TILE_PX, style.ramp.colour(v));
            }
        }
        canvas.encode_png()
    }

    /// Renders a risk tile: the cells meeting it, lowest level first so
    /// that where small cells share a pixel the highest level shows. Tiles
    /// whose pixels are no smaller than [`overview::RASTER_ZOOM`]'s are
    /// drawn from the overview raster: each pixel in the highest level of
    /// the cells whose boxes meet it.
    ///
    /// # Errors
    /// [`TileError`] when the canvas cannot be drawn or encoded.
    pub fn render_risk(
        &self,
        engine: &Engine,
        palette: &Palette,
        coord: TileCoord,
        scale: u8,
    ) -> Result<Vec<u8>, TileError> {
        let mut canvas = Canvas::new(coord, TILE_PX * u32::from(scale))?;
        let data = self.data();
        if Overview::draws(coord, scale) {
            self.overview(engine, &data)
                .draw(&mut canvas, coord, scale, palette);
            return canvas.encode_png();
        }
        let b = coord.bounds();
        let envelope = AABB::from_corners([b.west, b.south], [b.east, b.north]);
        let mut by_level: [Vec<usize>; 4] = Default::default();
        for e in data.cells.locate_in_envelope_intersecting(&envelope) {
            if let Some(r) = engine.risk.map.cells.get(e.data) {
                by_level[r.level as usize].push(e.data);
            }
        }
        for (level, members) in [
            RiskLevel::Blue,
            RiskLevel::Yellow,
            RiskLevel::Orange,
            RiskLevel::Red,
        ]
        .into_iter()
        .zip(&mut by_level)
        {
            members.sort_unstable();
            let colour = palette.of(level);
            for &i in members.iter() {
                canvas.fill(&engine.cells[i].geometry, colour);
            }
        }
        canvas.encode_png()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_palette_has_the_design_colours() {
        let p = Palette::default();
        assert_eq!(p.red, Rgba([0xE6, 0x00, 0x12, 0xFF]));
        assert_eq!(p.blue, Rgba([0x1E, 0x6F, 0xD9, 0xFF]));
        assert!(Palette::from_json(r##"{"red": "#E60012"}"##).is_err());
        assert!(HeatStyle::default().bandwidth_m > 0.0);
        let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../styles");
        assert_eq!(Styles::load(&shipped).unwrap(), Styles::default());
        assert_eq!(
            Styles::load(std::path::Path::new("/nonexistent")).unwrap(),
            Styles::default()
        );
        assert!(
            HeatStyle::from_json(r##"{"bandwidth_m": 0, "stops": [[1, "#FFFFFF"]]}"##).is_err()
        );
    }
}

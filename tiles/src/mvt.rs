//! Mapbox Vector Tiles 2.1: lon/lat features in, protobuf bytes out.
//!
//! Written by hand (the protobuf wire format of the four MVT messages is
//! about a hundred lines) rather than through prost or geozero: no code
//! generation at build time, and the geometry is quantised and simplified
//! on the way in.
//!
//! # Geometry
//!
//! Coordinates are projected to the tile's integer grid (`extent`, 4096 by
//! default, y down). That quantisation is the per-zoom simplification:
//! vertices falling on the same grid point merge, rings that collapse to
//! no area (or less than [`MvtLayer::with_min_area`]) and lines that
//! collapse to a point are dropped, and the middle points of straight runs
//! are left out, so a low-zoom tile holds only what shows at that zoom.
//! Geometry is clipped to the tile grown by `buffer` grid units before it
//! is rounded (polygons by Sutherland–Hodgman, lines into their pieces
//! inside), so a feature larger than the tile costs only its part in it.
//! Rounding to the grid is the same for every feature, so neighbours that
//! share an edge still share it on the grid: generalised cells and grids
//! open no gaps. Exterior rings are written clockwise on screen
//! (positive area in the y-down grid), holes anticlockwise, as the
//! specification requires.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use geo_types::{Coord, Geometry, LineString, MultiPolygon, Polygon};

use crate::clip::{GridPoint, Window};
use crate::TileCoord;

/// Default extent: grid units across a tile.
pub const DEFAULT_EXTENT: u32 = 4096;

/// A property value.
#[derive(Debug, Clone, PartialEq)]
pub enum MvtValue {
    /// A string.
    String(String),
    /// A double.
    Double(f64),
    /// A signed integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

/// The hashable form of a value other than a string, for the layer's
/// value table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ScalarKey {
    Double(u64),
    Int(i64),
    Bool(bool),
}

/// FNV-1a: the key and value tables hash short strings and numbers, where
/// SipHash's protection against chosen keys costs a tenth of a tile's
/// render time and buys nothing (the keys are the store's own).
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// One layer of a tile being built.
#[derive(Debug)]
pub struct MvtLayer {
    name: String,
    coord: TileCoord,
    extent: u32,
    buffer: i64,
    min_area2: i64,
    keys: Vec<String>,
    key_index: FnvMap<String, u32>,
    values: Vec<MvtValue>,
    strings: FnvMap<String, u32>,
    scalars: FnvMap<ScalarKey, u32>,
    features: Vec<Vec<u8>>,
}

/// Geometry types of the specification.
#[derive(Clone, Copy)]
enum GeomType {
    Point = 1,
    LineString = 2,
    Polygon = 3,
}

impl MvtLayer {
    /// An empty layer `name` of tile `coord` with `extent` grid units
    /// across and features kept within `buffer` units around the tile.
    #[must_use]
    pub fn new(name: &str, coord: TileCoord, extent: u32, buffer: u32) -> Self {
        Self {
            name: name.to_owned(),
            coord,
            extent,
            buffer: i64::from(buffer),
            min_area2: 0,
            keys: Vec::new(),
            key_index: FnvMap::default(),
            values: Vec::new(),
            strings: FnvMap::default(),
            scalars: FnvMap::default(),
            features: Vec::new(),
        }
    }

    /// Leaves out polygon rings of less than `area` square grid units
    /// (after clipping and rounding), e.g. `(extent / 256)²` for a pixel of
    /// a 256-pixel tile; rings of no area are always left out.
    #[must_use]
    pub fn with_min_area(mut self, area: f64) -> Self {
        self.min_area2 = (2.0 * area).ceil() as i64;
        self
    }

    /// Features added so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// `true` without features.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Adds a lon/lat feature with its properties; returns `false` (and
    /// adds nothing) when it misses the tile or vanishes at this zoom.
    pub fn add(
        &mut self,
        id: Option<u64>,
        geometry: &Geometry<f64>,
        properties: &[(&str, MvtValue)],
    ) -> bool {
        let Some((kind, commands)) = self.encode_geometry(geometry) else {
            return false;
        };
        self.push(id, kind, &commands, properties);
        true
    }

    /// [`MvtLayer::add`] for a multipolygon held elsewhere (no geometry is
    /// made or copied).
    pub fn add_polygons(
        &mut self,
        id: Option<u64>,
        polygons: &MultiPolygon<f64>,
        properties: &[(&str, MvtValue)],
    ) -> bool {
        let mut w = Writer::default();
        self.polygons(&mut w, &polygons.0);
        if w.out.is_empty() {
            return false;
        }
        self.push(id, GeomType::Polygon, &w.out, properties);
        true
    }

    /// Adds an encoded feature.
    fn push(
        &mut self,
        id: Option<u64>,
        kind: GeomType,
        commands: &[u32],
        properties: &[(&str, MvtValue)],
    ) {
        let mut tags = Vec::with_capacity(properties.len() * 2);
        for (k, v) in properties {
            tags.push(self.key(k));
            tags.push(self.value(v));
        }
        let mut f = Vec::with_capacity(16 + 5 * (tags.len() + commands.len()));
        if let Some(id) = id {
            varint_field(&mut f, 1, id);
        }
        packed(&mut f, 2, &tags);
        varint_field(&mut f, 3, kind as u64);
        packed(&mut f, 4, commands);
        self.features.push(f);
    }

    fn key(&mut self, k: &str) -> u32 {
        if let Some(&i) = self.key_index.get(k) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(k.to_owned());
        self.key_index.insert(k.to_owned(), i);
        i
    }

    fn value(&mut self, v: &MvtValue) -> u32 {
        let next = self.values.len() as u32;
        let found = match v {
            MvtValue::String(s) => {
                let known = self.strings.get(s.as_str()).copied();
                if known.is_none() {
                    self.strings.insert(s.clone(), next);
                }
                known
            }
            MvtValue::Double(d) => self.scalar(ScalarKey::Double(d.to_bits()), next),
            MvtValue::Int(i) => self.scalar(ScalarKey::Int(*i), next),
            MvtValue::Bool(b) => self.scalar(ScalarKey::Bool(*b), next),
        };
        found.unwrap_or_else(|| {
            self.values.push(v.clone());
            next
        })
    }

    /// The index of a scalar value already in the table, or `None` after
    /// giving it `next`.
    fn scalar(&mut self, key: ScalarKey, next: u32) -> Option<u32> {
        match self.scalars.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(next);
                None
            }
        }
    }

    /// A lon/lat coordinate on the tile grid, before rounding.
    fn project(&self, c: Coord<f64>) -> GridPoint {
        let p = self.coord.to_px(c, self.extent);
        (p.x, p.y)
    }

    /// A lon/lat coordinate on the tile grid.
    fn grid(&self, c: Coord<f64>) -> (i64, i64) {
        round(self.project(c))
    }

    /// The buffered tile, where geometry is clipped.
    fn window(&self) -> Window {
        Window {
            lo: -(self.buffer as f64),
            hi: f64::from(self.extent) + self.buffer as f64,
        }
    }

    /// `true` when a grid point is in the buffered tile.
    fn holds(&self, p: (i64, i64)) -> bool {
        let (lo, hi) = (-self.buffer, i64::from(self.extent) + self.buffer);
        (lo..=hi).contains(&p.0) && (lo..=hi).contains(&p.1)
    }

    fn encode_geometry(&self, g: &Geometry<f64>) -> Option<(GeomType, Vec<u32>)> {
        let mut w = Writer::default();
        let kind = match g {
            Geometry::Point(p) => {
                self.points(&mut w, &[p.0]);
                GeomType::Point
            }
            Geometry::MultiPoint(m) => {
                let pts: Vec<Coord<f64>> = m.iter().map(|p| p.0).collect();
                self.points(&mut w, &pts);
                GeomType::Point
            }
            Geometry::LineString(l) => {
                self.lines(&mut w, std::slice::from_ref(l));
                GeomType::LineString
            }
            Geometry::MultiLineString(m) => {
                self.lines(&mut w, &m.0);
                GeomType::LineString
            }
            Geometry::Polygon(p) => {
                self.polygons(&mut w, std::slice::from_ref(p));
                GeomType::Polygon
            }
            Geometry::MultiPolygon(m) => {
                self.polygons(&mut w, &m.0);
                GeomType::Polygon
            }
            _ => return None,
        };
        (!w.out.is_empty()).then_some((kind, w.out))
    }

    /// The points in the buffered tile.
    fn points(&self, w: &mut Writer, pts: &[Coord<f64>]) {
        let qs: Vec<(i64, i64)> = pts
            .iter()
            .map(|&c| self.grid(c))
            .filter(|&q| self.holds(q))
            .collect();
        if !qs.is_empty() {
            w.points(&qs);
        }
    }

    /// The lines' pieces in the buffered tile, rounded to the grid.
    fn lines(&self, w: &mut Writer, lines: &[LineString<f64>]) {
        let window = self.window();
        for l in lines {
            let pts: Vec<GridPoint> = l.0.iter().map(|&c| self.project(c)).collect();
            for piece in window.line(&pts) {
                let piece = thin(piece.into_iter().map(round), false);
                if piece.len() >= 2 {
                    w.path(&piece, false);
                }
            }
        }
    }

    /// The polygons clipped to the buffered tile and rounded to the grid;
    /// rings under the layer's least area left out.
    fn polygons(&self, w: &mut Writer, polygons: &[Polygon<f64>]) {
        for p in polygons {
            let exterior = self.ring(p.exterior());
            if exterior.is_empty() {
                continue;
            }
            w.ring(exterior, true);
            for hole in p.interiors() {
                let h = self.ring(hole);
                if !h.is_empty() {
                    w.ring(h, false);
                }
            }
        }
    }

    /// A ring clipped, rounded and thinned; empty when it has less area
    /// than the layer keeps.
    fn ring(&self, ring: &LineString<f64>) -> Vec<(i64, i64)> {
        let pts: Vec<GridPoint> = ring.0.iter().map(|&c| self.project(c)).collect();
        let pts = thin(self.window().ring(pts).into_iter().map(round), true);
        if pts.len() < 3 || area2(&pts).abs() < self.min_area2.max(1) {
            return Vec::new();
        }
        pts
    }

    /// The layer message.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        varint_field(&mut out, 15, 2);
        bytes_field(&mut out, 1, self.name.as_bytes());
        for f in &self.features {
            bytes_field(&mut out, 2, f);
        }
        for k in &self.keys {
            bytes_field(&mut out, 3, k.as_bytes());
        }
        for v in &self.values {
            let mut m = Vec::new();
            match v {
                MvtValue::String(s) => bytes_field(&mut m, 1, s.as_bytes()),
                MvtValue::Double(d) => {
                    key(&mut m, 3, 1);
                    m.extend_from_slice(&d.to_le_bytes());
                }
                MvtValue::Int(i) => varint_field(&mut m, 4, *i as u64),
                MvtValue::Bool(b) => varint_field(&mut m, 7, u64::from(*b)),
            }
            bytes_field(&mut out, 4, &m);
        }
        varint_field(&mut out, 5, u64::from(self.extent));
        out
    }
}

/// A grid point rounded to the grid.
fn round(p: GridPoint) -> (i64, i64) {
    (p.0.round() as i64, p.1.round() as i64)
}

/// Grid points with repeats and the middle points of straight runs left
/// out (of a ring too across its closing point, which is dropped).
fn thin(pts: impl Iterator<Item = (i64, i64)>, closed: bool) -> Vec<(i64, i64)> {
    let straight = |a: (i64, i64), b: (i64, i64), c: (i64, i64)| {
        (b.0 - a.0) * (c.1 - b.1) == (b.1 - a.1) * (c.0 - b.0)
    };
    let mut out: Vec<(i64, i64)> = Vec::new();
    for p in pts {
        if out.last() == Some(&p) {
            continue;
        }
        while out.len() >= 2 && straight(out[out.len() - 2], out[out.len() - 1], p) {
            out.pop();
        }
        out.push(p);
    }
    if closed {
        if out.len() > 1 && out.first() == out.last() {
            out.pop();
        }
        // Across the closing point: the last and first points.
        while out.len() >= 3 && straight(out[out.len() - 2], out[out.len() - 1], out[0]) {
            out.pop();
        }
        while out.len() >= 3 && straight(out[out.len() - 1], out[0], out[1]) {
            out.remove(0);
        }
    }
    out
}

/// Twice the signed area of a ring on the y-down grid (positive:
/// clockwise on screen).
pub(crate) fn area2<T>(pts: &[(T, T)]) -> T
where
    T: Copy + std::ops::Mul<Output = T> + std::ops::Sub<Output = T> + std::iter::Sum,
{
    let n = pts.len();
    (0..n)
        .map(|i| {
            let (a, b) = (pts[i], pts[(i + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

/// Geometry command writer (cursor kept across parts, as the format wants).
#[derive(Default)]
struct Writer {
    out: Vec<u32>,
    cursor: (i64, i64),
}

impl Writer {
    fn command(&mut self, id: u32, count: usize) {
        self.out.push((id & 7) | ((count as u32) << 3));
    }

    fn to(&mut self, p: (i64, i64)) {
        self.out.push(zigzag(p.0 - self.cursor.0));
        self.out.push(zigzag(p.1 - self.cursor.1));
        self.cursor = p;
    }

    fn points(&mut self, pts: &[(i64, i64)]) {
        self.command(1, pts.len());
        for &p in pts {
            self.to(p);
        }
    }

    fn path(&mut self, pts: &[(i64, i64)], close: bool) {
        self.command(1, 1);
        self.to(pts[0]);
        self.command(2, pts.len() - 1);
        for &p in &pts[1..] {
            self.to(p);
        }
        if close {
            self.command(7, 1);
        }
    }

    fn ring(&mut self, mut pts: Vec<(i64, i64)>, exterior: bool) {
        if (area2(&pts) > 0) != exterior {
            pts.reverse();
        }
        self.path(&pts, true);
    }
}

const fn zigzag(v: i64) -> u32 {
    ((v << 1) ^ (v >> 63)) as u32
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(out: &mut Vec<u8>, field: u32, wire: u32) {
    varint(out, u64::from((field << 3) | wire));
}

fn varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    key(out, field, 0);
    varint(out, v);
}

fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    key(out, field, 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn packed(out: &mut Vec<u8>, field: u32, values: &[u32]) {
    let mut body = Vec::with_capacity(values.len() * 2);
    for &v in values {
        varint(&mut body, u64::from(v));
    }
    bytes_field(out, field, &body);
}

/// Encodes a tile of layers (empty layers are left out).
#[must_use]
pub fn encode_tile(layers: &[MvtLayer]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in layers.iter().filter(|l| !l.is_empty()) {
        bytes_field(&mut out, 3, &l.encode());
    }
    out
}

#[cfg(test)]
#[allow(clippy::many_single_char_names)]
mod tests {
    use geo_types::{line_string, polygon, MultiPolygon, Point};
    use mvt_reader::feature::Value;
    use mvt_reader::Reader;

    use super::*;

    fn tile() -> TileCoord {
        TileCoord::containing(120.155, 30.274, 14).unwrap()
    }

    /// The lon/lat of a grid position of the test tile.
    fn at(gx: f64, gy: f64) -> Coord<f64> {
        let t = tile();
        let n = 4096.0 * f64::from(1u32 << t.z);
        let wx = f64::from(t.x) * 4096.0 + gx;
        let wy = f64::from(t.y) * 4096.0 + gy;
        let lat = (std::f64::consts::PI * (1.0 - 2.0 * wy / n))
            .sinh()
            .atan()
            .to_degrees();
        Coord {
            x: wx / n * 360.0 - 180.0,
            y: lat,
        }
    }

    #[test]
    fn features_decode_with_their_geometry_and_properties() {
        let mut layer = MvtLayer::new("cells", tile(), DEFAULT_EXTENT, 64);
        // A square with a hole, drawn anticlockwise on screen (the encoder
        // must turn it), and a point and a line.
        let (a, b, c, d) = (
            at(100.0, 100.0),
            at(100.0, 300.0),
            at(300.0, 300.0),
            at(300.0, 100.0),
        );
        let hole = [
            at(150.0, 150.0),
            at(250.0, 150.0),
            at(250.0, 250.0),
            at(150.0, 250.0),
            at(150.0, 150.0),
        ];
        let square = Polygon::new(vec![a, b, c, d, a].into(), vec![hole.to_vec().into()]);
        assert!(layer.add(
            Some(7),
            &Geometry::MultiPolygon(MultiPolygon(vec![square])),
            &[
                ("code", MvtValue::String("330102001002017".into())),
                ("level", MvtValue::String("red".into())),
                ("score", MvtValue::Double(8.5)),
                ("households", MvtValue::Int(120)),
            ],
        ));
        assert!(layer.add(
            None,
            &Geometry::Point(Point(at(10.0, 4000.0))),
            &[
                ("level", MvtValue::String("red".into())),
                ("open", MvtValue::Bool(true))
            ],
        ));
        let (p, q) = (at(0.0, 0.0), at(4096.0, 2048.0));
        assert!(layer.add(Some(9), &Geometry::LineString(line_string![p, q]), &[]));
        // Far off the tile, and collapsed to nothing: left out.
        let far = at(-9000.0, 100.0);
        assert!(!layer.add(Some(1), &Geometry::Point(Point(far)), &[]));
        let tiny = at(500.1, 500.1);
        let speck = polygon![tiny, at(500.2, 500.1), at(500.2, 500.2), tiny];
        assert!(!layer.add(Some(2), &Geometry::Polygon(speck), &[]));
        assert_eq!(layer.len(), 3);

        let reader = Reader::new(encode_tile(&[layer])).unwrap();
        assert_eq!(reader.get_layer_names().unwrap(), vec!["cells".to_owned()]);
        let meta = reader.get_layer_metadata().unwrap();
        assert_eq!((meta[0].version, meta[0].extent), (2, 4096));
        let features = reader.get_features(0).unwrap();
        assert_eq!(features.len(), 3);
        let square = &features[0];
        assert_eq!(square.id, Some(7));
        let props = square.properties.as_ref().unwrap();
        assert_eq!(props["code"], Value::String("330102001002017".into()));
        assert_eq!(props["score"], Value::Double(8.5));
        assert_eq!(props["households"], Value::Int(120));
        let Geometry::MultiPolygon(polys) = &square.geometry else {
            panic!("a polygon: {:?}", square.geometry)
        };
        assert_eq!(polys.0.len(), 1, "one polygon with its hole");
        let poly = &polys.0[0];
        let xs: Vec<(f32, f32)> = poly.exterior().coords().map(|c| (c.x, c.y)).collect();
        assert_eq!(xs.len(), 5);
        for corner in [
            (100.0, 100.0),
            (100.0, 300.0),
            (300.0, 300.0),
            (300.0, 100.0),
        ] {
            assert!(xs.contains(&corner), "{corner:?} in {xs:?}");
        }
        assert_eq!(poly.interiors().len(), 1);
        assert_eq!(
            features[1].properties.as_ref().unwrap()["open"],
            Value::Bool(true)
        );
        let Geometry::MultiPoint(pts) = &features[1].geometry else {
            panic!("a point")
        };
        assert_eq!((pts.0[0].x(), pts.0[0].y()), (10.0, 4000.0));
        let Geometry::LineString(l) = &features[2].geometry else {
            panic!("a line")
        };
        assert_eq!(l.0.len(), 2);
        assert_eq!((l.0[1].x, l.0[1].y), (4096.0, 2048.0));
    }

    #[test]
    fn large_features_are_clipped_to_the_buffered_tile() {
        // A polygon and a line ten tiles wide, centred on the tile.
        let mut layer = MvtLayer::new("areas", tile(), DEFAULT_EXTENT, 64);
        let (a, b, c, d) = (
            at(-40_000.0, -40_000.0),
            at(44_000.0, -40_000.0),
            at(44_000.0, 44_000.0),
            at(-40_000.0, 44_000.0),
        );
        assert!(layer.add(Some(1), &Geometry::Polygon(polygon![a, b, c, d, a]), &[]));
        let line = line_string![at(-40_000.0, 2048.0), at(44_000.0, 2048.0)];
        assert!(layer.add(Some(2), &Geometry::LineString(line), &[]));
        let reader = Reader::new(encode_tile(&[layer])).unwrap();
        let features = reader.get_features(0).unwrap();
        let Geometry::MultiPolygon(p) = &features[0].geometry else {
            panic!("a polygon: {:?}", features[0].geometry)
        };
        let corners: Vec<(f32, f32)> = p.0[0].exterior().coords().map(|c| (c.x, c.y)).collect();
        assert_eq!(
            corners.len(),
            5,
            "the buffered tile's four corners: {corners:?}"
        );
        assert!(corners
            .iter()
            .all(|c| [-64.0, 4160.0].contains(&c.0) && [-64.0, 4160.0].contains(&c.1)));
        let Geometry::LineString(l) = &features[1].geometry else {
            panic!("a line")
        };
        let ends: Vec<(f32, f32)> = l.0.iter().map(|c| (c.x, c.y)).collect();
        assert_eq!(ends, vec![(-64.0, 2048.0), (4160.0, 2048.0)]);
        // Outside the buffer: left out, however large its box.
        let mut layer = MvtLayer::new("areas", tile(), DEFAULT_EXTENT, 64);
        let l_shape = polygon![
            at(-9000.0, -9000.0),
            at(-8000.0, -9000.0),
            at(-8000.0, 9000.0),
            at(9000.0, 9000.0),
            at(9000.0, 9100.0),
            at(-9000.0, 9100.0),
            at(-9000.0, -9000.0)
        ];
        assert!(!layer.add(Some(3), &Geometry::Polygon(l_shape), &[]));
    }

    #[test]
    fn straight_runs_and_specks_are_thinned() {
        // A square drawn with a point every 10 units along its sides: four
        // corners are left.
        let mut ring = Vec::new();
        for i in 0..10 {
            ring.push(at(100.0 + 10.0 * f64::from(i), 100.0));
        }
        for i in 0..10 {
            ring.push(at(200.0, 100.0 + 10.0 * f64::from(i)));
        }
        for i in 0..10 {
            ring.push(at(200.0 - 10.0 * f64::from(i), 200.0));
        }
        for i in 0..10 {
            ring.push(at(100.0, 200.0 - 10.0 * f64::from(i)));
        }
        ring.push(ring[0]);
        let square = Geometry::Polygon(Polygon::new(ring.into(), vec![]));
        let mut layer = MvtLayer::new("cells", tile(), DEFAULT_EXTENT, 64);
        assert!(layer.add(Some(1), &square, &[]));
        let reader = Reader::new(encode_tile(&[layer])).unwrap();
        let Geometry::MultiPolygon(p) = &reader.get_features(0).unwrap()[0].geometry else {
            panic!("a polygon")
        };
        assert_eq!(p.0[0].exterior().0.len(), 5, "{:?}", p.0[0].exterior());
        // The same square is under a least area of 10,001 units².
        let mut layer = MvtLayer::new("cells", tile(), DEFAULT_EXTENT, 64).with_min_area(10_001.0);
        assert!(!layer.add(Some(1), &square, &[]));
        let mut layer = MvtLayer::new("cells", tile(), DEFAULT_EXTENT, 64).with_min_area(9_999.0);
        assert!(layer.add(Some(1), &square, &[]));
    }

    #[test]
    fn polygons_held_elsewhere_encode_as_the_same_geometry() {
        let (a, b, c) = (at(10.0, 10.0), at(900.0, 20.0), at(400.0, 700.0));
        let m = MultiPolygon(vec![polygon![a, b, c, a]]);
        let props = [("level", MvtValue::String("red".into()))];
        let mut one = MvtLayer::new("cells", tile(), DEFAULT_EXTENT, 64);
        assert!(one.add(Some(3), &Geometry::MultiPolygon(m.clone()), &props));
        let mut other = MvtLayer::new("cells", tile(), DEFAULT_EXTENT, 64);
        assert!(other.add_polygons(Some(3), &m, &props));
        assert_eq!(encode_tile(&[one]), encode_tile(&[other]));
        let far = MultiPolygon(vec![polygon![
            at(-9e4, 0.0),
            at(-8e4, 0.0),
            at(-8e4, 9.0),
            at(-9e4, 0.0)
        ]]);
        assert!(
            !MvtLayer::new("cells", tile(), DEFAULT_EXTENT, 64).add_polygons(None, &far, &props)
        );
    }

    #[test]
    fn winding_and_zigzag() {
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(-2), 3);
        // Clockwise on screen (y down): positive.
        assert!(area2(&[(0, 0), (10, 0), (10, 10), (0, 10)]) > 0);
        assert!(encode_tile(&[MvtLayer::new("empty", tile(), 4096, 0)]).is_empty());
    }
}

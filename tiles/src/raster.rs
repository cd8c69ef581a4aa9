//! Raster tiles: a square RGBA canvas over one tile, lon/lat polygons filled
//! by scanline, PNG encoding.
//!
//! A pixel is filled when its centre lies inside the polygon (even-odd rule
//! over all rings, so holes stay empty). Polygons that tile a surface with
//! no gap or overlap (unit cells) therefore give every pixel centre to
//! exactly one of them: edges are crisp and nothing is drawn twice. A
//! polygon smaller than [`Canvas::SMALL_PX`] pixels across is drawn as its
//! bounding box instead (at least the pixel holding its centre), so that at
//! low zoom a small red cell still shows rather than falling between pixel
//! centres: later fills win, so draw in order of importance.
//!
//! Written by hand (about 60 lines) rather than with a 2-D graphics crate:
//! the fill rule must be exactly "pixel centre inside", no anti-aliasing,
//! so that a pixel's colour is the colour of the polygon under its centre.

use geo_types::{Coord, MultiPolygon, Rect};

use crate::error::TileError;
use crate::TileCoord;

/// An RGBA colour, not premultiplied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgba(pub [u8; 4]);

impl Rgba {
    /// Fully transparent.
    pub const TRANSPARENT: Self = Self([0, 0, 0, 0]);

    /// Parses `#RRGGBB` or `#RRGGBBAA` (the `#` is optional).
    ///
    /// # Errors
    /// [`TileError::Colour`] for anything else.
    ///
    /// # Example
    /// ```
    /// use civgrid_tiles::Rgba;
    /// assert_eq!(Rgba::from_hex("#E60012")?, Rgba([0xE6, 0x00, 0x12, 0xFF]));
    /// # Ok::<(), civgrid_tiles::TileError>(())
    /// ```
    pub fn from_hex(s: &str) -> Result<Self, TileError> {
        let bad = || TileError::Colour(s.to_owned());
        let hex = s.trim().trim_start_matches('#');
        if !(hex.len() == 6 || hex.len() == 8) || !hex.is_ascii() {
            return Err(bad());
        }
        let mut out = [0xFF; 4];
        for (i, byte) in out.iter_mut().enumerate().take(hex.len() / 2) {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Self(out))
    }

    /// `#RRGGBB` (upper case) for an opaque colour, else `#RRGGBBAA`: what
    /// [`Rgba::from_hex`] reads back.
    ///
    /// # Example
    /// ```
    /// use civgrid_tiles::Rgba;
    /// assert_eq!(Rgba([0xE6, 0x00, 0x12, 0xFF]).to_hex(), "#E60012");
    /// assert_eq!(Rgba([0xFF, 0xFF, 0xB2, 0x00]).to_hex(), "#FFFFB200");
    /// ```
    #[must_use]
    pub fn to_hex(self) -> String {
        let [r, g, b, a] = self.0;
        if a == 0xFF {
            format!("#{r:02X}{g:02X}{b:02X}")
        } else {
            format!("#{r:02X}{g:02X}{b:02X}{a:02X}")
        }
    }
}

/// Largest canvas side, pixels.
pub const MAX_SIZE_PX: u32 = 4096;

/// A square RGBA canvas over one tile.
#[derive(Debug, Clone)]
pub struct Canvas {
    coord: TileCoord,
    size: u32,
    pixels: Vec<[u8; 4]>,
}

impl Canvas {
    /// A polygon narrower and lower than this many pixels is drawn as its
    /// bounding box.
    pub const SMALL_PX: f64 = 2.0;

    /// A transparent canvas of `size` × `size` pixels over `coord`.
    ///
    /// # Errors
    /// [`TileError::Size`] unless 1 ≤ `size` ≤ [`MAX_SIZE_PX`].
    pub fn new(coord: TileCoord, size: u32) -> Result<Self, TileError> {
        if !(1..=MAX_SIZE_PX).contains(&size) {
            return Err(TileError::Size(size));
        }
        Ok(Self {
            coord,
            size,
            pixels: vec![[0; 4]; (size * size) as usize],
        })
    }

    /// The canvas side, pixels.
    #[must_use]
    pub const fn size(&self) -> u32 {
        self.size
    }

    /// The pixel at column `x`, row `y` (`None` outside).
    #[must_use]
    pub fn pixel(&self, x: u32, y: u32) -> Option<Rgba> {
        (x < self.size && y < self.size).then(|| Rgba(self.pixels[(y * self.size + x) as usize]))
    }

    /// Sets the pixel at column `x`, row `y` (ignored outside).
    pub fn set(&mut self, x: u32, y: u32, colour: Rgba) {
        if x < self.size && y < self.size {
            self.pixels[(y * self.size + x) as usize] = colour.0;
        }
    }

    /// `true` when nothing has been drawn.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pixels.iter().all(|p| p[3] == 0)
    }

    /// A lon/lat point in this canvas's pixels (fractional; may lie outside).
    #[must_use]
    pub fn to_px(&self, c: Coord<f64>) -> Coord<f64> {
        self.coord.to_px(c, self.size)
    }

    /// Fills a lon/lat polygon with `colour` (module docs for the rule).
    pub fn fill(&mut self, geometry: &MultiPolygon<f64>, colour: Rgba) {
        let rings: Vec<Vec<Coord<f64>>> = geometry
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .map(|r| r.coords().map(|&c| self.to_px(c)).collect())
            .collect();
        let Some(bbox) = bounds(rings.iter().flatten()) else {
            return;
        };
        if bbox.width() < Self::SMALL_PX && bbox.height() < Self::SMALL_PX {
            self.fill_box(bbox, colour);
        } else {
            self.scanline(&rings, bbox, colour);
        }
    }

    /// Fills the pixels a small pixel-space box touches, at least the one
    /// holding its centre.
    fn fill_box(&mut self, bbox: Rect<f64>, colour: Rgba) {
        let c = bbox.center();
        let lo = |v: f64, m: f64| v.min(m).floor();
        let hi = |v: f64, m: f64| (v.max(m).ceil() - 1.0).max(v.floor());
        let (x0, x1) = (lo(bbox.min().x, c.x), hi(bbox.max().x, c.x));
        let (y0, y1) = (lo(bbox.min().y, c.y), hi(bbox.max().y, c.y));
        let last = f64::from(self.size - 1);
        if x1 < 0.0 || y1 < 0.0 || x0 > last || y0 > last {
            return;
        }
        for y in (y0.max(0.0) as u32)..=(y1.min(last) as u32) {
            for x in (x0.max(0.0) as u32)..=(x1.min(last) as u32) {
                self.pixels[(y * self.size + x) as usize] = colour.0;
            }
        }
    }

    /// Fills the pixels whose centre lies inside the rings (even-odd).
    fn scanline(&mut self, rings: &[Vec<Coord<f64>>], bbox: Rect<f64>, colour: Rgba) {
        let size = f64::from(self.size);
        // Rows whose centre y + 0.5 lies within the box.
        let first = (bbox.min().y - 0.5).ceil().max(0.0);
        let last = (bbox.max().y - 0.5).floor().min(size - 1.0);
        if first > last {
            return;
        }
        let mut crossings: Vec<f64> = Vec::new();
        for row in (first as u32)..=(last as u32) {
            let yc = f64::from(row) + 0.5;
            crossings.clear();
            for ring in rings {
                for w in ring.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    if (a.y <= yc) != (b.y <= yc) {
                        crossings.push(a.x + (yc - a.y) * (b.x - a.x) / (b.y - a.y));
                    }
                }
            }
            crossings.sort_by(f64::total_cmp);
            for pair in crossings.chunks_exact(2) {
                // Pixels i with i + 0.5 in [pair[0], pair[1]).
                let from = (pair[0] - 0.5).ceil().max(0.0);
                let to = (pair[1] - 0.5).ceil().min(size);
                if from >= to {
                    continue;
                }
                let base = (row * self.size) as usize;
                self.pixels[base + from as usize..base + to as usize].fill(colour.0);
            }
        }
    }

    /// The canvas as a PNG (8-bit RGBA).
    ///
    /// # Errors
    /// [`TileError::Png`] when the encoder fails.
    pub fn encode_png(&self) -> Result<Vec<u8>, TileError> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.size, self.size);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(self.pixels.as_flattened())?;
        writer.finish()?;
        Ok(out)
    }
}

/// The bounding box of some points.
fn bounds<'a>(points: impl Iterator<Item = &'a Coord<f64>>) -> Option<Rect<f64>> {
    points.fold(None, |acc: Option<Rect<f64>>, &c| {
        Some(acc.map_or(Rect::new(c, c), |r| {
            Rect::new(
                Coord {
                    x: r.min().x.min(c.x),
                    y: r.min().y.min(c.y),
                },
                Coord {
                    x: r.max().x.max(c.x),
                    y: r.max().y.max(c.y),
                },
            )
        }))
    })
}

#[cfg(test)]
mod tests {
    use geo_types::{polygon, Polygon};

    use super::*;

    const RED: Rgba = Rgba([0xE6, 0, 0x12, 0xFF]);
    const BLUE: Rgba = Rgba([0x1E, 0x6F, 0xD9, 0xFF]);

    /// A canvas over the z0 world tile: pixel (x, y) spans lon
    /// −180 + 360·x/size and the matching Mercator latitudes.
    fn world(size: u32) -> Canvas {
        Canvas::new(TileCoord::new_checked(0, 0, 0).unwrap(), size).unwrap()
    }

    /// The lon/lat of a pixel-space point on the world canvas.
    fn lonlat(size: u32, x: f64, y: f64) -> Coord<f64> {
        let n = f64::from(size);
        let lat = (std::f64::consts::PI * (1.0 - 2.0 * y / n))
            .sinh()
            .atan()
            .to_degrees();
        Coord {
            x: x / n * 360.0 - 180.0,
            y: lat,
        }
    }

    fn square(size: u32, x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        let c = |x, y| lonlat(size, x, y);
        MultiPolygon(vec![Polygon::new(
            vec![c(x0, y0), c(x1, y0), c(x1, y1), c(x0, y1), c(x0, y0)].into(),
            vec![],
        )])
    }

    #[test]
    fn pixels_whose_centre_is_inside_are_filled() {
        let mut c = world(16);
        c.fill(&square(16, 2.0, 3.0, 6.0, 5.0), RED);
        for y in 0..16 {
            for x in 0..16 {
                let inside = (2..6).contains(&x) && (3..5).contains(&y);
                let want = if inside { RED } else { Rgba::TRANSPARENT };
                assert_eq!(c.pixel(x, y), Some(want), "({x}, {y})");
            }
        }
    }

    #[test]
    fn neighbours_share_no_pixel_and_leave_no_gap() {
        let mut c = world(32);
        c.fill(&square(32, 4.3, 4.3, 10.7, 20.2), RED);
        c.fill(&square(32, 10.7, 4.3, 20.1, 20.2), BLUE);
        for y in 5..20 {
            for x in 5..20 {
                let want = if x < 11 { RED } else { BLUE };
                assert_eq!(c.pixel(x, y), Some(want), "({x}, {y})");
            }
        }
    }

    #[test]
    fn holes_stay_empty() {
        let mut c = world(16);
        let outer = square(16, 2.0, 2.0, 12.0, 12.0).0.remove(0);
        let hole = square(16, 5.0, 5.0, 9.0, 9.0).0.remove(0);
        c.fill(
            &MultiPolygon(vec![Polygon::new(
                outer.exterior().clone(),
                vec![hole.exterior().clone()],
            )]),
            RED,
        );
        assert_eq!(c.pixel(3, 3), Some(RED));
        assert_eq!(c.pixel(6, 6), Some(Rgba::TRANSPARENT));
        assert_eq!(c.pixel(10, 10), Some(RED));
    }

    #[test]
    fn tiny_polygons_still_show() {
        let mut c = world(16);
        c.fill(&square(16, 7.1, 7.2, 7.3, 7.4), RED);
        assert_eq!(c.pixel(7, 7), Some(RED));
        assert_eq!(c.pixels.iter().filter(|p| p[3] != 0).count(), 1);
    }

    #[test]
    fn png_round_trip() {
        let mut c = world(8);
        c.fill(
            &MultiPolygon(vec![polygon![
                (x: -170.0, y: 80.0), (x: 170.0, y: 80.0), (x: 170.0, y: -80.0), (x: -170.0, y: 80.0)
            ]]),
            RED,
        );
        let png = c.encode_png().unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (8, 8));
        assert_eq!(&buf[..], c.pixels.as_flattened());
    }

    #[test]
    fn colours_parse() {
        assert_eq!(Rgba::from_hex("1E6FD9").unwrap(), BLUE);
        assert_eq!(
            Rgba::from_hex("#E6001280").unwrap(),
            Rgba([0xE6, 0, 0x12, 0x80])
        );
        assert!(Rgba::from_hex("#E600").is_err());
        assert!(Rgba::from_hex("#GG0012").is_err());
    }
}

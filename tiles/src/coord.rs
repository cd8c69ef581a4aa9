//! Tile coordinates and their bounds.

use std::f64::consts::PI;

use geo_types::Coord;

/// Deepest zoom level served (tiles of about 2.4 m at the equator).
pub const MAX_ZOOM: u8 = 24;

/// A tile address `z/x/y` (XYZ scheme: y = 0 at the north edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileCoord {
    /// Zoom level, 0..=[`MAX_ZOOM`].
    pub z: u8,
    /// Column, 0..2^z.
    pub x: u32,
    /// Row, 0..2^z.
    pub y: u32,
}

/// A lon/lat rectangle in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LonLatBounds {
    /// West edge.
    pub west: f64,
    /// South edge.
    pub south: f64,
    /// East edge.
    pub east: f64,
    /// North edge.
    pub north: f64,
}

impl TileCoord {
    /// A tile address, or `None` when `z` exceeds [`MAX_ZOOM`] or `x`/`y`
    /// are outside the 2^z × 2^z tiles of that zoom.
    #[must_use]
    pub fn new_checked(z: u8, x: u32, y: u32) -> Option<Self> {
        if z > MAX_ZOOM {
            return None;
        }
        let n = 1u64 << z;
        (u64::from(x) < n && u64::from(y) < n).then_some(Self { z, x, y })
    }

    /// The tile holding a lon/lat point at zoom `z` (latitudes are clamped to
    /// the Web Mercator limit, ±85.0511°).
    #[must_use]
    pub fn containing(lon: f64, lat: f64, z: u8) -> Option<Self> {
        if z > MAX_ZOOM || !lon.is_finite() || !lat.is_finite() {
            return None;
        }
        let n = f64::from(1u32 << z);
        let lat = lat.clamp(-85.051_128_78, 85.051_128_78).to_radians();
        let x = ((lon + 180.0) / 360.0 * n).floor().clamp(0.0, n - 1.0);
        let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0 * n)
            .floor()
            .clamp(0.0, n - 1.0);
        Self::new_checked(z, x as u32, y as u32)
    }

    /// A lon/lat point in the pixels of this tile drawn `size` pixels wide
    /// (Web Mercator; x east, y south from the tile's north-west corner;
    /// fractional, and outside 0..size for points off the tile).
    #[must_use]
    pub fn to_px(&self, c: Coord<f64>, size: u32) -> Coord<f64> {
        let world = f64::from(size) * f64::from(1u32 << self.z);
        let lat = c.y.clamp(-85.051_128_78, 85.051_128_78).to_radians();
        Coord {
            x: (c.x + 180.0) / 360.0 * world - f64::from(self.x) * f64::from(size),
            y: (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0 * world
                - f64::from(self.y) * f64::from(size),
        }
    }

    /// `true` when the tile's bounds meet a lon/lat rectangle (edges
    /// included).
    #[must_use]
    pub fn meets(&self, r: &LonLatBounds) -> bool {
        let b = self.bounds();
        b.west <= r.east && r.west <= b.east && b.south <= r.north && r.south <= b.north
    }

    /// The tile's bounds in degrees.
    #[must_use]
    pub fn bounds(&self) -> LonLatBounds {
        let n = f64::from(1u32 << self.z);
        let lon = |x: f64| x / n * 360.0 - 180.0;
        let lat = |y: f64| (PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
        LonLatBounds {
            west: lon(f64::from(self.x)),
            east: lon(f64::from(self.x) + 1.0),
            north: lat(f64::from(self.y)),
            south: lat(f64::from(self.y) + 1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn checked_construction() {
        assert!(TileCoord::new_checked(0, 0, 0).is_some());
        assert!(TileCoord::new_checked(0, 1, 0).is_none());
        assert!(TileCoord::new_checked(3, 7, 7).is_some());
        assert!(TileCoord::new_checked(3, 8, 0).is_none());
        assert!(TileCoord::new_checked(MAX_ZOOM + 1, 0, 0).is_none());
    }

    #[test]
    fn point_lies_in_its_tile() {
        for z in [0, 5, 12, 18] {
            let t = TileCoord::containing(120.155, 30.274, z).unwrap();
            let b = t.bounds();
            assert!(b.west <= 120.155 && 120.155 < b.east, "z{z}");
            assert!(b.south <= 30.274 && 30.274 < b.north, "z{z}");
        }
    }

    #[test]
    fn corners_map_to_pixel_corners() {
        let t = TileCoord::containing(120.155, 30.274, 14).unwrap();
        let b = t.bounds();
        let nw = t.to_px(
            Coord {
                x: b.west,
                y: b.north,
            },
            256,
        );
        let se = t.to_px(
            Coord {
                x: b.east,
                y: b.south,
            },
            512,
        );
        assert_abs_diff_eq!(nw.x, 0.0, epsilon = 1e-6);
        assert_abs_diff_eq!(nw.y, 0.0, epsilon = 1e-6);
        assert_abs_diff_eq!(se.x, 512.0, epsilon = 1e-6);
        assert_abs_diff_eq!(se.y, 512.0, epsilon = 1e-6);
        let inside = LonLatBounds {
            west: b.west + 1e-4,
            south: b.south + 1e-4,
            east: b.west + 2e-4,
            north: b.south + 2e-4,
        };
        assert!(t.meets(&inside));
        let east = LonLatBounds {
            west: b.east + 1e-9,
            ..inside
        };
        assert!(!t.meets(&LonLatBounds {
            east: b.east + 1e-3,
            ..east
        }));
    }

    #[test]
    fn world_tile_bounds() {
        let b = TileCoord::new_checked(0, 0, 0).unwrap().bounds();
        assert_abs_diff_eq!(b.west, -180.0);
        assert_abs_diff_eq!(b.east, 180.0);
        assert_abs_diff_eq!(b.north, 85.051_128_78, epsilon = 1e-6);
    }
}

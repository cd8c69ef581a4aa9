//! Heat maps: kernel density of weighted points over a tile, and colour
//! ramps.
//!
//! # A scale that means the same at every zoom
//!
//! The density is an estimate of **points per km² of ground**: each point
//! spreads its weight over the ground with the quartic (biweight) kernel
//! K(d) = 3/(π h²) · (1 − d²/h²)² for d < h, whose integral is 1, so the
//! value under a pixel does not depend on the zoom, only on the bandwidth
//! *h* in metres. The colour ramp maps densities (per km²) to colours, so a
//! colour means the same density at z10 and at z18. When a pixel is wider
//! than h/2 (low zoom), h is widened to twice the pixel's ground size so
//! that no point falls between pixel centres; the density stays per km²,
//! only smoother.
//!
//! # No seams
//!
//! A pixel's value is the sum over every point within h of its centre,
//! whichever tile the point lies in: the caller passes the points within
//! the tile grown by [`bandwidth_margin_deg`], and two tiles sharing an
//! edge compute the same values on both sides of it.

use geo_types::Coord;

use crate::error::TileError;
use crate::raster::Rgba;
use crate::TileCoord;

/// Mean Earth radius, metres (IUGG), as Web Mercator's ground scale uses.
const EARTH_RADIUS_M: f64 = 6_378_137.0;

/// A point with a weight (1 for a plain count).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightedPoint {
    /// Longitude and latitude, degrees.
    pub at: Coord<f64>,
    /// Its weight.
    pub weight: f64,
}

/// Ground size of a pixel at latitude `lat` for a tile of zoom `z` drawn
/// `size` pixels wide, metres.
#[must_use]
pub fn pixel_m(lat: f64, z: u8, size: u32) -> f64 {
    2.0 * std::f64::consts::PI * EARTH_RADIUS_M * lat.to_radians().cos()
        / (f64::from(size) * f64::from(1u32 << z))
}

/// The bandwidth used for a tile: `bandwidth_m`, or twice a pixel's ground
/// size when larger (module docs).
#[must_use]
pub fn effective_bandwidth_m(coord: TileCoord, size: u32, bandwidth_m: f64) -> f64 {
    let b = coord.bounds();
    let lat = f64::midpoint(b.north, b.south);
    bandwidth_m.max(2.0 * pixel_m(lat, coord.z, size))
}

/// Degrees by which to grow a tile so that every point within
/// `bandwidth_m` of it is included (latitude and longitude, generous).
#[must_use]
pub fn bandwidth_margin_deg(coord: TileCoord, bandwidth_m: f64) -> (f64, f64) {
    let b = coord.bounds();
    let lat = b.north.abs().max(b.south.abs()).min(85.0);
    let dlat = bandwidth_m / 111_000.0;
    (dlat / lat.to_radians().cos(), dlat)
}

/// The density (per km²) under every pixel of a tile drawn `size` pixels
/// wide, row by row; `bandwidth_m` as given to
/// [`effective_bandwidth_m`].
#[must_use]
pub fn density(
    coord: TileCoord,
    size: u32,
    points: &[WeightedPoint],
    bandwidth_m: f64,
) -> Vec<f64> {
    let mut out = vec![0.0; (size * size) as usize];
    let h_m = effective_bandwidth_m(coord, size, bandwidth_m);
    let norm = 3.0 / (std::f64::consts::PI * h_m * h_m) * 1e6;
    for p in points {
        let px = coord.to_px(p.at, size);
        // Pixel size at the point's own latitude (Mercator is conformal:
        // lengths in pixels scale by 1 / pixel_m in every direction).
        let m = pixel_m(p.at.y, coord.z, size);
        let h_px = h_m / m;
        let x0 = (px.x - h_px - 0.5).ceil().max(0.0);
        let x1 = (px.x + h_px - 0.5).floor().min(f64::from(size) - 1.0);
        let y0 = (px.y - h_px - 0.5).ceil().max(0.0);
        let y1 = (px.y + h_px - 0.5).floor().min(f64::from(size) - 1.0);
        if x0 > x1 || y0 > y1 {
            continue;
        }
        for y in (y0 as u32)..=(y1 as u32) {
            let dy = f64::from(y) + 0.5 - px.y;
            for x in (x0 as u32)..=(x1 as u32) {
                let dx = f64::from(x) + 0.5 - px.x;
                let u2 = (dx * dx + dy * dy) / (h_px * h_px);
                if u2 < 1.0 {
                    let k = 1.0 - u2;
                    out[(y * size + x) as usize] += p.weight * norm * k * k;
                }
            }
        }
    }
    out
}

/// Colours by value: linear between stops, transparent below the first,
/// the last stop's colour above the last.
#[derive(Debug, Clone, PartialEq)]
pub struct ColorRamp {
    stops: Vec<(f64, Rgba)>,
}

impl ColorRamp {
    /// A ramp of `(value, colour)` stops.
    ///
    /// # Errors
    /// [`TileError::Ramp`] without stops or with values not strictly
    /// increasing.
    pub fn new(stops: Vec<(f64, Rgba)>) -> Result<Self, TileError> {
        if stops.is_empty()
            || stops
                .windows(2)
                .any(|w| w[0].0.partial_cmp(&w[1].0) != Some(std::cmp::Ordering::Less))
            || stops.iter().any(|s| !s.0.is_finite())
        {
            return Err(TileError::Ramp);
        }
        Ok(Self { stops })
    }

    /// The colour of `v`.
    #[must_use]
    pub fn colour(&self, v: f64) -> Rgba {
        let first = self.stops[0];
        if v.is_nan() || v < first.0 {
            return Rgba::TRANSPARENT;
        }
        for w in self.stops.windows(2) {
            let ((a, ca), (b, cb)) = (w[0], w[1]);
            if v < b {
                let t = (v - a) / (b - a);
                let mix = |i: usize| {
                    (f64::from(ca.0[i]) + t * (f64::from(cb.0[i]) - f64::from(ca.0[i]))).round()
                        as u8
                };
                return Rgba([mix(0), mix(1), mix(2), mix(3)]);
            }
        }
        self.stops[self.stops.len() - 1].1
    }
}

#[cfg(test)]
#[allow(clippy::many_single_char_names)]
mod tests {
    use approx::assert_relative_eq;

    use super::*;

    #[test]
    fn the_kernel_integrates_to_one_point_per_its_area() {
        // One point at a tile's centre: the densities times the pixel
        // areas sum to 1 (per km² × km²), at two zooms.
        for z in [15u8, 17] {
            let t = TileCoord::containing(120.155, 30.274, z).unwrap();
            let b = t.bounds();
            let c = Coord {
                x: f64::midpoint(b.west, b.east),
                y: f64::midpoint(b.north, b.south),
            };
            let d = density(t, 256, &[WeightedPoint { at: c, weight: 1.0 }], 150.0);
            let m = pixel_m(c.y, z, 256);
            let total: f64 = d.iter().sum::<f64>() * m * m / 1e6;
            assert_relative_eq!(total, 1.0, max_relative = 0.02);
        }
    }

    #[test]
    fn the_same_place_has_the_same_density_at_every_zoom() {
        let p = Coord {
            x: 120.155,
            y: 30.274,
        };
        let pts = [WeightedPoint { at: p, weight: 1.0 }];
        // 40 m east of the point.
        let q = Coord {
            x: p.x + 40.0 / (111_320.0 * p.y.to_radians().cos()),
            y: p.y,
        };
        let mut seen = Vec::new();
        for z in [15u8, 16, 17, 18] {
            let t = TileCoord::containing(q.x, q.y, z).unwrap();
            let d = density(t, 256, &pts, 150.0);
            let px = t.to_px(q, 256);
            seen.push(d[(px.y as u32 * 256 + px.x as u32) as usize]);
        }
        let expected = 3.0 / (std::f64::consts::PI * 150.0 * 150.0)
            * 1e6
            * (1.0 - (40.0f64 / 150.0).powi(2)).powi(2);
        for v in seen {
            assert_relative_eq!(v, expected, max_relative = 0.08);
        }
    }

    #[test]
    fn neighbouring_tiles_agree_at_their_edge() {
        let t = TileCoord::containing(120.155, 30.274, 16).unwrap();
        let right = TileCoord::new_checked(16, t.x + 1, t.y).unwrap();
        let b = t.bounds();
        // A point on the shared edge.
        let pts = [WeightedPoint {
            at: Coord {
                x: b.east,
                y: f64::midpoint(b.north, b.south),
            },
            weight: 2.0,
        }];
        let l = density(t, 256, &pts, 100.0);
        let r = density(right, 256, &pts, 100.0);
        for y in 0..256 {
            assert_relative_eq!(
                l[(y * 256 + 255) as usize],
                r[(y * 256) as usize],
                max_relative = 1e-9
            );
        }
    }

    #[test]
    fn ramps_interpolate() {
        let ramp = ColorRamp::new(vec![
            (1.0, Rgba([0, 0, 255, 0])),
            (3.0, Rgba([255, 0, 0, 255])),
        ])
        .unwrap();
        assert_eq!(ramp.colour(0.5), Rgba::TRANSPARENT);
        assert_eq!(ramp.colour(2.0), Rgba([128, 0, 128, 128]));
        assert_eq!(ramp.colour(9.0), Rgba([255, 0, 0, 255]));
        assert!(ColorRamp::new(vec![]).is_err());
        assert!(ColorRamp::new(vec![(2.0, Rgba::TRANSPARENT), (1.0, Rgba::TRANSPARENT)]).is_err());
    }
}

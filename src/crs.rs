//! Coordinate reference systems (DESIGN.md, standard 6).
//!
//! - Everything is stored in lon/lat, CGCS2000 (EPSG:4490), treated as WGS84
//!   at city accuracy.
//! - Metric work (areas, distances, cell grids) happens in a [`LocalProjection`]:
//!   a transverse Mercator on the territory's own central meridian, on the
//!   GRS80 ellipsoid (the Gauss-Krüger 3° zones, EPSG:4534–4554, are such
//!   projections), computed by proj4rs in pure Rust.
//! - Points that phone map apps report in GCJ-02 (高德/腾讯) or BD-09 (百度) are
//!   converted to CGCS2000 with [`Datum::to_cgcs2000`] and never stored as such;
//!   outside China, where those datums are not defined, they are refused
//!   ([`OutsideDatum`]).

use std::fmt;
use std::str::FromStr;

use geo::MapCoords;
use geo_types::Coord;
use proj4rs::proj::Proj;

/// A projection could not be set up or a coordinate could not be projected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CrsError {
    /// The central meridian is not a finite longitude.
    #[error("invalid central meridian {0}: must be a longitude in -180..180")]
    CentralMeridian(f64),
    /// proj4rs refused the definition or a coordinate.
    #[error("projection failed for ({x}, {y}): {reason}")]
    Projection {
        /// First coordinate.
        x: f64,
        /// Second coordinate.
        y: f64,
        /// What proj4rs said.
        reason: String,
    },
}

/// A transverse Mercator projection (scale 1, false easting 500 km) on a
/// chosen central meridian: metres within a few hundred km of it are exact to
/// well under a part in 10⁴.
#[derive(Debug, Clone)]
pub struct LocalProjection {
    central_meridian: f64,
    geographic: Proj,
    projected: Proj,
}

/// False easting of [`LocalProjection`], in metres (as in the Gauss-Krüger zones).
pub const FALSE_EASTING_M: f64 = 500_000.0;

impl LocalProjection {
    /// A projection centred on `central_meridian` (degrees).
    ///
    /// # Errors
    /// [`CrsError::CentralMeridian`] when it is not a finite longitude.
    pub fn new(central_meridian: f64) -> Result<Self, CrsError> {
        if !central_meridian.is_finite() || !(-180.0..=180.0).contains(&central_meridian) {
            return Err(CrsError::CentralMeridian(central_meridian));
        }
        let proj = |s: &str| {
            Proj::from_proj_string(s).map_err(|e| CrsError::Projection {
                x: central_meridian,
                y: 0.0,
                reason: e.to_string(),
            })
        };
        Ok(Self {
            central_meridian,
            geographic: proj("+proj=longlat +ellps=GRS80 +no_defs")?,
            projected: proj(&format!(
                "+proj=tmerc +lat_0=0 +lon_0={central_meridian} +k=1 +x_0={FALSE_EASTING_M} +y_0=0 +ellps=GRS80 +units=m +no_defs"
            ))?,
        })
    }

    /// The Gauss-Krüger 3° zone containing `lon`: central meridian a multiple of 3°.
    ///
    /// # Errors
    /// As [`LocalProjection::new`].
    pub fn gauss_kruger_3deg(lon: f64) -> Result<Self, CrsError> {
        Self::new(Self::gauss_kruger_3deg_meridian(lon))
    }

    /// The central meridian of the Gauss-Krüger 3° zone containing `lon`:
    /// the nearest multiple of 3° (NaN for NaN).
    #[must_use]
    pub fn gauss_kruger_3deg_meridian(lon: f64) -> f64 {
        (lon / 3.0).round() * 3.0
    }

    /// The projection's central meridian in degrees.
    #[must_use]
    pub const fn central_meridian(&self) -> f64 {
        self.central_meridian
    }

    /// lon/lat degrees → metres (easting, northing).
    ///
    /// # Errors
    /// [`CrsError::Projection`] for a coordinate proj4rs cannot project.
    pub fn forward(&self, c: Coord<f64>) -> Result<Coord<f64>, CrsError> {
        let mut p = (c.x.to_radians(), c.y.to_radians(), 0.0);
        proj4rs::transform::transform(&self.geographic, &self.projected, &mut p).map_err(|e| {
            CrsError::Projection {
                x: c.x,
                y: c.y,
                reason: e.to_string(),
            }
        })?;
        Ok(Coord { x: p.0, y: p.1 })
    }

    /// metres (easting, northing) → lon/lat degrees.
    ///
    /// # Errors
    /// [`CrsError::Projection`] for a coordinate proj4rs cannot invert.
    pub fn inverse(&self, c: Coord<f64>) -> Result<Coord<f64>, CrsError> {
        let mut p = (c.x, c.y, 0.0);
        proj4rs::transform::transform(&self.projected, &self.geographic, &mut p).map_err(|e| {
            CrsError::Projection {
                x: c.x,
                y: c.y,
                reason: e.to_string(),
            }
        })?;
        Ok(Coord {
            x: p.0.to_degrees(),
            y: p.1.to_degrees(),
        })
    }

    /// Projects every coordinate of a geometry to metres.
    ///
    /// # Errors
    /// The first coordinate that fails.
    pub fn project<G: MapCoords<f64, f64>>(&self, g: &G) -> Result<G::Output, CrsError> {
        g.try_map_coords(|c| self.forward(c))
    }

    /// Brings every coordinate of a projected geometry back to lon/lat.
    ///
    /// # Errors
    /// The first coordinate that fails.
    pub fn unproject<G: MapCoords<f64, f64>>(&self, g: &G) -> Result<G::Output, CrsError> {
        g.try_map_coords(|c| self.inverse(c))
    }
}

/// The datum a lon/lat pair is given in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Datum {
    /// CGCS2000 / WGS84: what civgrid stores.
    #[default]
    Cgcs2000,
    /// GCJ-02 (国测局坐标, "Mars coordinates"): Amap, Tencent maps.
    Gcj02,
    /// BD-09: Baidu maps.
    Bd09,
}

impl FromStr for Datum {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "cgcs2000" | "wgs84" | "epsg:4490" | "epsg:4326" => Ok(Self::Cgcs2000),
            "gcj02" | "gcj-02" => Ok(Self::Gcj02),
            "bd09" | "bd-09" => Ok(Self::Bd09),
            other => Err(format!(
                "unknown datum {other:?} (expected cgcs2000, gcj02 or bd09)"
            )),
        }
    }
}

impl fmt::Display for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cgcs2000 => "cgcs2000",
            Self::Gcj02 => "gcj02",
            Self::Bd09 => "bd09",
        })
    }
}

/// A lon/lat given in a datum outside the region where that datum is
/// defined: GCJ-02 (and BD-09, built on it) exist only inside mainland
/// China, so such a point has no CGCS2000 position.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error(
    "({x}, {y}) is tagged {datum}, but {datum} is only defined in China (longitude {lon_min}–{lon_max}, latitude {lat_min}–{lat_max}); give this point in CGCS2000 (WGS84) instead",
    lon_min = CHINA.0, lon_max = CHINA.1, lat_min = CHINA.2, lat_max = CHINA.3
)]
pub struct OutsideDatum {
    /// The datum the point was given in.
    pub datum: Datum,
    /// Its longitude.
    pub x: f64,
    /// Its latitude.
    pub y: f64,
}

impl Datum {
    /// Whether `c` lies in the region where this datum is defined:
    /// everywhere for CGCS2000, the [`CHINA`] box for GCJ-02 and BD-09.
    #[must_use]
    pub fn defines(self, c: Coord<f64>) -> bool {
        self == Self::Cgcs2000 || in_china(c)
    }

    /// Converts a lon/lat in this datum to CGCS2000 (≈ WGS84).
    ///
    /// The inverse of GCJ-02 has no closed form, so it is solved by
    /// fixed-point iteration to well under 1 mm.
    ///
    /// # Errors
    /// [`OutsideDatum`] for a GCJ-02 or BD-09 point outside the region
    /// where the datum is defined ([`Datum::defines`]): the published
    /// implementations return such a point unchanged, which would place it
    /// wherever it was given.
    pub fn to_cgcs2000(self, c: Coord<f64>) -> Result<Coord<f64>, OutsideDatum> {
        self.check(c)?;
        Ok(match self {
            Self::Cgcs2000 => c,
            Self::Gcj02 => gcj02_to_wgs84(c),
            Self::Bd09 => gcj02_to_wgs84(bd09_to_gcj02(c)),
        })
    }

    /// Converts a CGCS2000 lon/lat into this datum (the forward obfuscation).
    ///
    /// # Errors
    /// [`OutsideDatum`] outside the region where the datum is defined, as
    /// [`Datum::to_cgcs2000`].
    pub fn from_cgcs2000(self, c: Coord<f64>) -> Result<Coord<f64>, OutsideDatum> {
        self.check(c)?;
        Ok(match self {
            Self::Cgcs2000 => c,
            Self::Gcj02 => wgs84_to_gcj02(c),
            Self::Bd09 => gcj02_to_bd09(wgs84_to_gcj02(c)),
        })
    }

    fn check(self, c: Coord<f64>) -> Result<(), OutsideDatum> {
        if self.defines(c) {
            Ok(())
        } else {
            Err(OutsideDatum {
                datum: self,
                x: c.x,
                y: c.y,
            })
        }
    }
}

// The GCJ-02 and BD-09 formulas are public (they are in every Chinese map SDK
// wrapper); no maintained Rust crate carries them, so they are written here.

/// Semi-major axis of Krasovsky 1940, used by GCJ-02.
const GCJ_A: f64 = 6_378_245.0;
/// First eccentricity squared of Krasovsky 1940.
const GCJ_EE: f64 = 0.006_693_421_622_965_943;
/// BD-09's scaled π.
const BD_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;

/// The region where GCJ-02 and BD-09 are defined, as (lon min, lon max,
/// lat min, lat max) in degrees: the rough mainland-China box that every
/// published GCJ-02 implementation uses as its "out of China" test
/// (lon 72.004–137.8347, lat 0.8293–55.8271; e.g. `outOfChina` in
/// eviltransform, coordtransform and the Amap/Baidu SDK wrappers).
pub const CHINA: (f64, f64, f64, f64) = (72.004, 137.8347, 0.8293, 55.8271);

/// Whether `c` lies in [`CHINA`].
fn in_china(c: Coord<f64>) -> bool {
    (CHINA.0..=CHINA.1).contains(&c.x) && (CHINA.2..=CHINA.3).contains(&c.y)
}

fn gcj_offset(c: Coord<f64>) -> Coord<f64> {
    use std::f64::consts::PI;
    let (x, y) = (c.x - 105.0, c.y - 35.0);
    let mut dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    dlat += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    dlat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    dlon += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    dlon += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlon += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let radlat = c.y.to_radians();
    let magic = 1.0 - GCJ_EE * radlat.sin() * radlat.sin();
    let sqrt_magic = magic.sqrt();
    Coord {
        x: (dlon * 180.0) / (GCJ_A / sqrt_magic * radlat.cos() * PI),
        y: (dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrt_magic) * PI),
    }
}

fn wgs84_to_gcj02(c: Coord<f64>) -> Coord<f64> {
    if in_china(c) {
        c + gcj_offset(c)
    } else {
        c
    }
}

fn gcj02_to_wgs84(g: Coord<f64>) -> Coord<f64> {
    if !in_china(g) {
        return g;
    }
    let mut w = g - gcj_offset(g);
    for _ in 0..10 {
        let err = wgs84_to_gcj02(w) - g;
        w = w - err;
        if err.x.abs().max(err.y.abs()) < 1e-9 {
            break;
        }
    }
    w
}

fn gcj02_to_bd09(c: Coord<f64>) -> Coord<f64> {
    let z = c.x.hypot(c.y) + 0.000_02 * (c.y * BD_PI).sin();
    let theta = c.y.atan2(c.x) + 0.000_003 * (c.x * BD_PI).cos();
    Coord {
        x: z * theta.cos() + 0.0065,
        y: z * theta.sin() + 0.006,
    }
}

/// BD-09 → GCJ-02: the published closed form, refined by fixed-point
/// iteration (the closed form alone is off by a few centimetres).
fn bd09_to_gcj02(b: Coord<f64>) -> Coord<f64> {
    let mut g = bd09_to_gcj02_approx(b);
    for _ in 0..10 {
        let err = gcj02_to_bd09(g) - b;
        g = g - err;
        if err.x.abs().max(err.y.abs()) < 1e-10 {
            break;
        }
    }
    g
}

fn bd09_to_gcj02_approx(c: Coord<f64>) -> Coord<f64> {
    let (x, y) = (c.x - 0.0065, c.y - 0.006);
    let z = x.hypot(y) - 0.000_02 * (y * BD_PI).sin();
    let theta = y.atan2(x) - 0.000_003 * (x * BD_PI).cos();
    Coord {
        x: z * theta.cos(),
        y: z * theta.sin(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use geo::{Area, Distance, Euclidean, Haversine};
    use geo_types::{point, polygon};

    #[test]
    fn projection_round_trips_and_measures_metres() {
        let p = LocalProjection::gauss_kruger_3deg(120.2).unwrap();
        assert_abs_diff_eq!(p.central_meridian(), 120.0);
        let a = Coord {
            x: 120.15,
            y: 30.25,
        };
        let b = Coord {
            x: 120.16,
            y: 30.26,
        };
        let (pa, pb) = (p.forward(a).unwrap(), p.forward(b).unwrap());
        let back = p.inverse(pa).unwrap();
        assert_abs_diff_eq!(back.x, a.x, epsilon = 1e-9);
        assert_abs_diff_eq!(back.y, a.y, epsilon = 1e-9);
        let metric = Euclidean.distance(pa, pb);
        let sphere = Haversine.distance(point!(a), point!(b));
        assert!(
            (metric - sphere).abs() / sphere < 5e-3,
            "{metric} vs {sphere}"
        );
    }

    #[test]
    fn projected_area_of_a_100m_square() {
        let p = LocalProjection::new(120.0).unwrap();
        let sq = polygon![(x: 0.0, y: 3_350_000.0), (x: 100.0, y: 3_350_000.0), (x: 100.0, y: 3_350_100.0), (x: 0.0, y: 3_350_100.0)];
        let sq = sq.map_coords(|c| Coord {
            x: c.x + 480_000.0,
            y: c.y,
        });
        let ll = p.unproject(&sq).unwrap();
        let again = p.project(&ll).unwrap();
        assert_abs_diff_eq!(again.unsigned_area(), 10_000.0, epsilon = 1e-3);
    }

    #[test]
    fn gcj02_and_bd09_round_trip() {
        let w = Coord {
            x: 120.155,
            y: 30.274,
        };
        for datum in [Datum::Gcj02, Datum::Bd09] {
            let shifted = datum.from_cgcs2000(w).unwrap();
            assert!(
                (shifted.x - w.x).abs() > 1e-4,
                "{datum} should move the point"
            );
            let back = datum.to_cgcs2000(shifted).unwrap();
            assert_abs_diff_eq!(back.x, w.x, epsilon = 1e-7);
            assert_abs_diff_eq!(back.y, w.y, epsilon = 1e-7);
        }
        // CGCS2000 is the identity everywhere.
        let helsinki = Coord { x: 24.94, y: 60.17 };
        assert_eq!(Datum::Cgcs2000.to_cgcs2000(helsinki), Ok(helsinki));
    }

    #[test]
    fn gcj02_point_outside_china_is_refused() {
        let paris = Coord { x: 2.35, y: 48.86 };
        for datum in [Datum::Gcj02, Datum::Bd09] {
            let e = datum.to_cgcs2000(paris).unwrap_err();
            assert_eq!(
                e,
                OutsideDatum {
                    datum,
                    x: 2.35,
                    y: 48.86
                }
            );
            let msg = e.to_string();
            for part in [
                datum.to_string().as_str(),
                "(2.35, 48.86)",
                "only defined in China",
            ] {
                assert!(msg.contains(part), "{part:?} not in {msg:?}");
            }
            assert!(datum.from_cgcs2000(paris).is_err(), "{datum}");
        }
        // The box's edges: inside on them, outside just beyond.
        let (w, e, s, n) = CHINA;
        for c in [(w, s), (e, n), (w, n), (e, s)] {
            let c = Coord { x: c.0, y: c.1 };
            assert!(Datum::Gcj02.to_cgcs2000(c).is_ok(), "{c:?}");
        }
        for c in [
            (w - 1e-6, 30.0),
            (e + 1e-6, 30.0),
            (100.0, s - 1e-6),
            (100.0, n + 1e-6),
        ] {
            let c = Coord { x: c.0, y: c.1 };
            assert!(Datum::Bd09.to_cgcs2000(c).is_err(), "{c:?}");
        }
    }

    #[test]
    fn known_gcj02_offset_near_hangzhou() {
        // GCJ-02 shifts Hangzhou by roughly 500 m (≈ +0.0047° lon, −0.0024° lat).
        let w = Coord {
            x: 120.155,
            y: 30.274,
        };
        let g = Datum::Gcj02.from_cgcs2000(w).unwrap();
        assert!((0.003..0.006).contains(&(g.x - w.x)), "{}", g.x - w.x);
        assert!((-0.004..-0.001).contains(&(g.y - w.y)), "{}", g.y - w.y);
    }
}

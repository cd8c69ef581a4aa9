//! The community's metric frame: the tangent plane of the Gauss-Krüger 3°
//! zone of the community's own centre, at an anchor near the community.
//!
//! The zone is the community's, not the territory's: a store may hold
//! regions far apart (Hangzhou at 120° E and Helsinki at 25° E), and a
//! transverse Mercator tens of degrees off its central meridian distorts
//! lengths and areas badly. Within a zone (±1.5° of its meridian) the
//! projection's scale is within 4 parts in 10⁴ of true.
//!
//! The frame is an affine map of lon/lat, so a straight edge in lon/lat (as
//! the stored polygons are drawn) stays straight in metres and back: cells
//! cut in the frame tile the stored lon/lat polygon exactly, with no gap or
//! overlap from the curvature a true projection would give an edge (about
//! 1 cm over a 1-km edge at 30° N). The anchor is the centre of the
//! community's bounding box rounded to 0.01° (about 1 km), so editing a
//! community rarely moves it. Within a few km of the anchor the frame is
//! the transverse Mercator to a few parts in 10⁵ in length and within some
//! 0.1 m in position; areas are corrected to the projection's own by a
//! linear model of its area scale, to about one part in 10⁷.
//!
//! Boolean work goes through i_overlay on integer coordinates: every call
//! for one community uses the same [`Snap`] (offset 0 at the anchor, scale
//! a power of two), so pieces from different calls share exact vertices.

use std::collections::BTreeMap;

use geo::{BoundingRect, CoordsIter};
use geo_types::{Coord, LineString, MultiPolygon, Polygon, Rect};
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::ShapeType;
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::core::solver::Solver;
use i_overlay::float::overlay::{FloatOverlay, OverlayOptions};
use i_overlay::float::string_overlay::FloatStringOverlay;
use i_overlay::i_float::adapter::FloatPointAdapter;
use i_overlay::i_float::float::rect::FloatRect;
use i_overlay::string::rule::StringRule;

use crate::crs::{CrsError, LocalProjection};

/// A point in frame metres.
pub(crate) type P = [f64; 2];
/// A closed ring (first point not repeated), as i_overlay takes them.
pub(crate) type Ring = Vec<P>;
/// A polygon: outer ring first, then holes.
pub(crate) type Shape = Vec<Ring>;

/// Rounding of the anchor, degrees.
const ANCHOR_STEP_DEG: f64 = 0.01;
/// Step of the finite differences for the Jacobian, degrees.
const JACOBIAN_STEP_DEG: f64 = 1e-4;
/// Step of the finite differences for the area scale's gradient, degrees.
const SCALE_STEP_DEG: f64 = 0.01;

/// The Gauss-Krüger 3° zone projections a run needs, set up once and
/// shared by the workers (a projection costs two proj4rs parses).
pub(crate) struct Zones(BTreeMap<i64, Result<LocalProjection, CrsError>>);

impl Zones {
    /// The zones holding `lons`.
    pub(crate) fn new(lons: impl IntoIterator<Item = f64>) -> Self {
        let mut zones = BTreeMap::new();
        for lon in lons {
            if let Some(k) = zone_key(lon) {
                zones
                    .entry(k)
                    .or_insert_with(|| LocalProjection::gauss_kruger_3deg(lon));
            }
        }
        Self(zones)
    }

    /// The projection of the zone holding `lon`, which must be one of the
    /// longitudes the zones were set up for.
    pub(crate) fn get(&self, lon: f64) -> Result<&LocalProjection, CrsError> {
        match zone_key(lon).and_then(|k| self.0.get(&k)) {
            Some(Ok(p)) => Ok(p),
            Some(Err(e)) => Err(e.clone()),
            None => Err(CrsError::CentralMeridian(
                LocalProjection::gauss_kruger_3deg_meridian(lon),
            )),
        }
    }
}

/// A zone's central meridian as a map key (`None` for a non-finite longitude).
fn zone_key(lon: f64) -> Option<i64> {
    let meridian = LocalProjection::gauss_kruger_3deg_meridian(lon);
    meridian.is_finite().then_some(meridian as i64)
}

/// An affine lon/lat ↔ metres map tangent to the projection at an anchor.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    anchor: Coord<f64>,
    /// metres per degree: x = m[0]·Δlon + m[1]·Δlat, y = m[2]·Δlon + m[3]·Δlat.
    m: [f64; 4],
    /// degrees per metre (the inverse of `m`).
    inv: [f64; 4],
    /// The projection's area scale over the frame's, at the anchor (1) and its gradient.
    scale_grad: [f64; 2],
}

impl Frame {
    /// The frame of a community whose lon/lat bounding box is `bbox`.
    pub(crate) fn new(proj: &LocalProjection, bbox: Rect<f64>) -> Result<Self, CrsError> {
        let c = bbox.center();
        let anchor = Coord {
            x: (c.x / ANCHOR_STEP_DEG).round() * ANCHOR_STEP_DEG,
            y: (c.y / ANCHOR_STEP_DEG).round() * ANCHOR_STEP_DEG,
        };
        let m = jacobian(proj, anchor)?;
        let det0 = det(m);
        let inv = [m[3] / det0, -m[1] / det0, -m[2] / det0, m[0] / det0];
        let h = SCALE_STEP_DEG;
        let d = |dx: f64, dy: f64| -> Result<f64, CrsError> {
            Ok(det(jacobian(
                proj,
                Coord {
                    x: anchor.x + dx,
                    y: anchor.y + dy,
                },
            )?) / det0)
        };
        // Gradient of the area scale per degree, then per frame metre.
        let g_lon = (d(h, 0.0)? - d(-h, 0.0)?) / (2.0 * h);
        let g_lat = (d(0.0, h)? - d(0.0, -h)?) / (2.0 * h);
        let scale_grad = [
            g_lon * inv[0] + g_lat * inv[2],
            g_lon * inv[1] + g_lat * inv[3],
        ];
        Ok(Self {
            anchor,
            m,
            inv,
            scale_grad,
        })
    }

    /// lon/lat → frame metres.
    pub(crate) fn forward(&self, c: Coord<f64>) -> P {
        let (dx, dy) = (c.x - self.anchor.x, c.y - self.anchor.y);
        [
            self.m[0] * dx + self.m[1] * dy,
            self.m[2] * dx + self.m[3] * dy,
        ]
    }

    /// frame metres → lon/lat.
    pub(crate) fn inverse(&self, p: P) -> Coord<f64> {
        Coord {
            x: self.anchor.x + self.inv[0] * p[0] + self.inv[1] * p[1],
            y: self.anchor.y + self.inv[2] * p[0] + self.inv[3] * p[1],
        }
    }

    /// The projection's area over the frame's at `p`.
    pub(crate) fn area_scale(&self, p: P) -> f64 {
        1.0 + self.scale_grad[0] * p[0] + self.scale_grad[1] * p[1]
    }

    /// Area of a shape in the projection's m²: its frame area times the
    /// area scale at its centroid (exact for a linear scale).
    pub(crate) fn metric_area(&self, shape: &[Ring]) -> f64 {
        let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
        for ring in shape {
            let (ra, rx, ry) = ring_moments(ring);
            a += ra;
            cx += rx;
            cy += ry;
        }
        if a.abs() < f64::MIN_POSITIVE {
            return 0.0;
        }
        a.abs() * self.area_scale([cx / a, cy / a])
    }

    /// A lon/lat polygon's rings in frame metres (closing point dropped).
    pub(crate) fn shape(&self, p: &Polygon<f64>) -> Shape {
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(|r| {
                let n = r.0.len().saturating_sub(1);
                r.0[..n].iter().map(|&c| self.forward(c)).collect()
            })
            .collect()
    }
}

/// A frame shape as a geo polygon (outer ring, then holes).
pub(crate) fn polygon(shape: &[Ring]) -> Polygon<f64> {
    let ring =
        |r: &Ring| LineString::from(r.iter().map(|&[x, y]| Coord { x, y }).collect::<Vec<_>>());
    let outer = shape
        .first()
        .map_or_else(|| LineString::new(Vec::new()), ring);
    Polygon::new(outer, shape.iter().skip(1).map(ring).collect())
}

/// Signed area and first moments (Σ x·dA, Σ y·dA) of a ring, by the shoelace.
pub(crate) fn ring_moments(ring: &[P]) -> (f64, f64, f64) {
    let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for (i, p) in ring.iter().enumerate() {
        let q = ring[(i + 1) % ring.len()];
        let cross = p[0] * q[1] - q[0] * p[1];
        a += cross;
        cx += (p[0] + q[0]) * cross;
        cy += (p[1] + q[1]) * cross;
    }
    (a / 2.0, cx / 6.0, cy / 6.0)
}

fn det(m: [f64; 4]) -> f64 {
    m[0] * m[3] - m[1] * m[2]
}

/// The projection's Jacobian at `c`, metres per degree, by central differences.
fn jacobian(proj: &LocalProjection, c: Coord<f64>) -> Result<[f64; 4], CrsError> {
    let h = JACOBIAN_STEP_DEG;
    let f = |dx: f64, dy: f64| {
        proj.forward(Coord {
            x: c.x + dx,
            y: c.y + dy,
        })
    };
    let (east, west) = (f(h, 0.0)?, f(-h, 0.0)?);
    let (north, south) = (f(0.0, h)?, f(0.0, -h)?);
    Ok([
        (east.x - west.x) / (2.0 * h),
        (north.x - south.x) / (2.0 * h),
        (east.y - west.y) / (2.0 * h),
        (north.y - south.y) / (2.0 * h),
    ])
}

/// The frame bounding box of a set of points.
pub(crate) fn bounds<'a>(points: impl IntoIterator<Item = &'a P>) -> Option<[f64; 4]> {
    points.into_iter().fold(None, |b, p| {
        let [x0, y0, x1, y1] = b.unwrap_or([p[0], p[1], p[0], p[1]]);
        Some([x0.min(p[0]), y0.min(p[1]), x1.max(p[0]), y1.max(p[1])])
    })
}

/// The common integer snapping of every boolean operation in one community.
#[derive(Clone)]
pub(crate) struct Snap {
    adapter: FloatPointAdapter<P, f64>,
}

impl Snap {
    /// A snapping for coordinates within `bounds` (frame metres): offset 0,
    /// the finest power-of-two scale that keeps them within ±2²⁸ units.
    pub(crate) fn new(bounds: [f64; 4]) -> Self {
        let extent = bounds.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
        let scale = (f64::from(1u32 << 28) / extent).log2().floor().exp2();
        let rect = FloatRect::new(bounds[0], bounds[2], bounds[1], bounds[3]);
        Self {
            adapter: FloatPointAdapter {
                dir_scale: scale,
                inv_scale: 1.0 / scale,
                offset: [0.0, 0.0],
                rect,
            },
        }
    }

    /// The size of one integer step, metres.
    pub(crate) fn step(&self) -> f64 {
        self.adapter.inv_scale
    }

    /// `v` rounded to the snapping lattice.
    pub(crate) fn round(&self, v: f64) -> f64 {
        (v * self.adapter.dir_scale).round() * self.adapter.inv_scale
    }

    fn options() -> OverlayOptions<f64> {
        OverlayOptions {
            preserve_input_collinear: true,
            preserve_output_collinear: true,
            ..OverlayOptions::default()
        }
    }

    /// The faces `shapes` is cut into by the open polylines `lines` (which
    /// may be closed rings given with their first point repeated).
    pub(crate) fn slice(&self, shapes: &[Shape], lines: &[Vec<P>]) -> Vec<Shape> {
        let capacity = shapes.iter().flatten().map(Vec::len).sum::<usize>()
            + lines.iter().map(Vec::len).sum::<usize>();
        let mut overlay = FloatStringOverlay::with_adapter(self.adapter.clone(), capacity);
        for contour in shapes.iter().flatten() {
            overlay = overlay.unsafe_add_shape_contour(contour);
        }
        for line in lines {
            overlay = overlay.unsafe_add_string_line(line);
        }
        overlay
            .build_graph_view(FillRule::EvenOdd)
            .map(|g| g.extract_shapes_custom(StringRule::Slice, Self::options()))
            .unwrap_or_default()
    }

    /// The union of faces that share edges on this snapping.
    pub(crate) fn union(&self, faces: &[&Shape]) -> Vec<Shape> {
        let capacity = faces.iter().flat_map(|s| s.iter()).map(Vec::len).sum();
        let mut overlay = FloatOverlay::new_custom(
            self.adapter.clone(),
            Self::options(),
            Solver::default(),
            capacity,
        );
        for face in faces {
            overlay = overlay.unsafe_add_source(*face, ShapeType::Subject);
        }
        overlay.overlay(OverlayRule::Subject, FillRule::NonZero)
    }
}

/// The lon/lat bounding box of a multipolygon.
pub(crate) fn lonlat_bounds(g: &MultiPolygon<f64>) -> Option<Rect<f64>> {
    if g.coords_count() == 0 {
        return None;
    }
    g.bounding_rect()
}

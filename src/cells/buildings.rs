//! Building footprints: a cell never cuts through one.
//!
//! Inside a block, footprint outlines are cutting lines like the grid's, so
//! every face of a block lies either inside one footprint or outside all.
//! All faces of a footprint then go to the grid square holding most of its
//! area, and the cell boundary follows the outline; footprints that overlap
//! go together. A footprint that crosses a road, a barrier or the community
//! boundary is cut there (those lines come first) and counted.

use geo::{Contains, InteriorPoint};
use geo_types::Polygon;

use super::frame::{bounds, polygon, Frame, Ring, Shape, P};
use crate::model::Building;

/// One footprint polygon in frame metres.
pub(super) struct Footprint {
    /// Index of the building in the territory.
    pub building: usize,
    /// Outer ring, for cutting.
    pub outline: Ring,
    polygon: Polygon<f64>,
    /// Frame bounding box `[x0, y0, x1, y1]`.
    pub bbox: [f64; 4],
    /// Area in m².
    pub area: f64,
}

/// The footprints of `candidates` (indices into `buildings`), in the frame.
pub(super) fn footprints(
    frame: &Frame,
    buildings: &[Building],
    candidates: &[usize],
) -> Vec<Footprint> {
    let mut out = Vec::new();
    for &i in candidates {
        for p in &buildings[i].geometry {
            let shape = frame.shape(p);
            let Some(outline) = shape.first().filter(|r| r.len() >= 3).cloned() else {
                continue;
            };
            let Some(bbox) = bounds(&outline) else {
                continue;
            };
            let polygon = polygon(&shape);
            out.push(Footprint {
                building: i,
                area: frame.metric_area(std::slice::from_ref(&outline))
                    - frame.metric_area(&shape[1..]).abs(),
                outline,
                polygon,
                bbox,
            });
        }
    }
    out
}

/// The cutting lines of the footprints whose box meets `bbox`: closed outlines.
pub(super) fn outlines(
    footprints: &[Footprint],
    bbox: [f64; 4],
) -> impl Iterator<Item = Vec<P>> + '_ {
    footprints
        .iter()
        .filter(move |f| meets(f.bbox, bbox))
        .map(|f| {
            let mut line = f.outline.clone();
            line.push(f.outline[0]);
            line
        })
}

/// The footprints holding a face, in order: none, one, or several where
/// footprints overlap.
pub(super) fn holders(footprints: &[Footprint], face: &Shape, face_bbox: [f64; 4]) -> Vec<usize> {
    let mut hits = footprints
        .iter()
        .enumerate()
        .filter(|(_, f)| contains_box(f.bbox, face_bbox))
        .peekable();
    if hits.peek().is_none() {
        return Vec::new();
    }
    let Some(point) = polygon(face).interior_point() else {
        return Vec::new();
    };
    hits.filter(|(_, f)| f.polygon.contains(&point))
        .map(|(i, _)| i)
        .collect()
}

/// `true` when two boxes meet.
pub(super) fn meets(a: [f64; 4], b: [f64; 4]) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

/// `true` when `inner` lies in `outer` widened by 1 mm (faces are snapped).
fn contains_box(outer: [f64; 4], inner: [f64; 4]) -> bool {
    const SLACK: f64 = 1e-3;
    outer[0] - SLACK <= inner[0]
        && outer[1] - SLACK <= inner[1]
        && inner[2] <= outer[2] + SLACK
        && inner[3] <= outer[3] + SLACK
}

//! Overlay zones: named partitions that cities run beside the two grids —
//! police beats, fire-station districts, school-safety zones, road sections
//! (路长制). Each layer has its own codes; a layer may claim to be
//! **complete** (it tiles the territory), and then [`ZoneLayer::validate`]
//! reports its gaps and overlaps in square metres.
//!
//! Lookups use the same bounding-box R-tree and exact point-in-polygon test
//! as [`crate::locate`].

use std::collections::HashSet;

use geo::{Area, BooleanOps, InteriorPoint, MapCoords};
use geo_types::{MultiPolygon, Point};
use rstar::RTree;
use serde::Serialize;

use crate::crs::{CrsError, LocalProjection};
use crate::locate::{box_tree, Entry};

/// Smallest gap or overlap reported, m²: below it, a difference is
/// numerical noise along shared edges.
pub const AREA_TOL_M2: f64 = 1.0;

/// One zone of a layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// Its code within the layer.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its area, lon/lat (CGCS2000).
    pub geometry: MultiPolygon<f64>,
}

/// A zone as imported and stored: one feature of an overlay layer.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ZoneFeature {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// The layer (`police_beats`, `school_safety`…).
    pub layer: String,
    /// Its code within the layer.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Whether its layer claims to tile the territory (the same for every
    /// zone of a layer).
    pub complete: bool,
    /// Its area, lon/lat (CGCS2000).
    pub geometry: MultiPolygon<f64>,
}

/// A zone in a [`Zones::locate`] answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneRef {
    /// The layer (`police_beats`, `school_safety`…).
    pub layer: String,
    /// The zone's code.
    pub code: String,
    /// The zone's name.
    pub name: String,
}

/// Two zones of one layer sharing area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneOverlap {
    /// The smaller code.
    pub a: String,
    /// The larger code.
    pub b: String,
    /// Shared area, m².
    pub area_m2: f64,
}

/// A part of the territory that no zone of a complete layer covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneGap {
    /// Its area, m².
    pub area_m2: f64,
    /// A point inside it, lon/lat.
    pub point: [f64; 2],
}

/// The validation report of one layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneReport {
    /// The layer.
    pub layer: String,
    /// Whether the layer claims to tile the territory.
    pub complete: bool,
    /// Zones in the layer.
    pub zones: usize,
    /// Codes used by more than one zone.
    pub duplicate_codes: Vec<String>,
    /// Overlaps over [`AREA_TOL_M2`] (complete layers only).
    pub overlaps: Vec<ZoneOverlap>,
    /// Gaps over [`AREA_TOL_M2`] (complete layers only).
    pub gaps: Vec<ZoneGap>,
}

impl ZoneReport {
    /// `true` when the layer keeps its claim: unique codes and, if
    /// complete, no gap and no overlap.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.duplicate_codes.is_empty() && self.overlaps.is_empty() && self.gaps.is_empty()
    }
}

/// One partition: its name, whether it claims to be complete, its zones.
#[derive(Debug, Clone, Default)]
pub struct ZoneLayer {
    /// The layer's name.
    pub name: String,
    /// Whether the layer claims to tile the territory with no gap or overlap.
    pub complete: bool,
    zones: Vec<Zone>,
    tree: RTree<Entry>,
}

impl ZoneLayer {
    /// A layer of `zones`.
    #[must_use]
    pub fn new(name: impl Into<String>, complete: bool, zones: Vec<Zone>) -> Self {
        let tree = box_tree(zones.iter().map(|z| &z.geometry));
        Self {
            name: name.into(),
            complete,
            zones,
            tree,
        }
    }

    /// The zones, in the order given.
    #[must_use]
    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    /// Every zone holding `p` (interior or boundary), by code.
    #[must_use]
    pub fn locate(&self, p: Point<f64>) -> Vec<&Zone> {
        use geo::Intersects;
        let env = rstar::AABB::from_point([p.x(), p.y()]);
        let mut out: Vec<&Zone> = self
            .tree
            .locate_in_envelope_intersecting(&env)
            .map(|e| &self.zones[e.data])
            .filter(|z| z.geometry.intersects(&p))
            .collect();
        out.sort_by(|a, b| a.code.cmp(&b.code));
        out
    }

    /// Checks the layer's codes and, when it claims to be complete, its
    /// gaps within `territory` and the overlaps of its zones, measured in
    /// `projection`.
    ///
    /// # Errors
    /// [`CrsError`] when a coordinate cannot be projected.
    pub fn validate(
        &self,
        territory: &MultiPolygon<f64>,
        projection: &LocalProjection,
    ) -> Result<ZoneReport, CrsError> {
        let mut seen = HashSet::new();
        let mut duplicate_codes: Vec<String> = self
            .zones
            .iter()
            .filter(|z| !seen.insert(z.code.as_str()))
            .map(|z| z.code.clone())
            .collect();
        duplicate_codes.sort();
        duplicate_codes.dedup();
        let mut report = ZoneReport {
            layer: self.name.clone(),
            complete: self.complete,
            zones: self.zones.len(),
            duplicate_codes,
            overlaps: Vec::new(),
            gaps: Vec::new(),
        };
        if !self.complete {
            return Ok(report);
        }
        let metric: Vec<MultiPolygon<f64>> = self
            .zones
            .iter()
            .map(|z| projection.project(&z.geometry))
            .collect::<Result<_, _>>()?;
        // Candidate pairs from the R-tree of boxes (lon/lat), measured in metres.
        for (a, b) in self
            .tree
            .intersection_candidates_with_other_tree(&self.tree)
        {
            let (i, j) = (a.data, b.data);
            if i >= j {
                continue;
            }
            let shared = metric[i].intersection(&metric[j]).unsigned_area();
            if shared > AREA_TOL_M2 {
                let (ci, cj) = (&self.zones[i].code, &self.zones[j].code);
                let (lo, hi) = if ci <= cj { (ci, cj) } else { (cj, ci) };
                report.overlaps.push(ZoneOverlap {
                    a: lo.clone(),
                    b: hi.clone(),
                    area_m2: shared,
                });
            }
        }
        report
            .overlaps
            .sort_by(|p, q| (&p.a, &p.b).cmp(&(&q.a, &q.b)));
        let covered = geo::unary_union(&metric);
        let home = projection.project(territory)?;
        for part in home.difference(&covered) {
            let area_m2 = part.unsigned_area();
            if area_m2 <= AREA_TOL_M2 {
                continue;
            }
            let lonlat = part.try_map_coords(|c| projection.inverse(c))?;
            let point = lonlat
                .interior_point()
                .map_or([0.0, 0.0], |p| [p.x(), p.y()]);
            report.gaps.push(ZoneGap { area_m2, point });
        }
        Ok(report)
    }
}

/// Every overlay layer, for point lookups.
#[derive(Debug, Clone, Default)]
pub struct Zones {
    layers: Vec<ZoneLayer>,
}

impl Zones {
    /// The layers of stored zones, grouped by layer name; a layer is
    /// complete when its zones claim it (the import keeps the claims of a
    /// layer's zones the same).
    #[must_use]
    pub fn from_features(features: &[ZoneFeature]) -> Self {
        let mut by_layer: std::collections::BTreeMap<&str, (bool, Vec<Zone>)> =
            std::collections::BTreeMap::new();
        for f in features {
            let (complete, zones) = by_layer.entry(&f.layer).or_default();
            *complete |= f.complete;
            zones.push(Zone {
                code: f.code.clone(),
                name: f.name.clone(),
                geometry: f.geometry.clone(),
            });
        }
        Self::new(
            by_layer
                .into_iter()
                .map(|(name, (complete, zones))| ZoneLayer::new(name, complete, zones))
                .collect(),
        )
    }

    /// The layers, sorted by name.
    #[must_use]
    pub fn new(mut layers: Vec<ZoneLayer>) -> Self {
        layers.sort_by(|a, b| a.name.cmp(&b.name));
        Self { layers }
    }

    /// The layers, by name.
    #[must_use]
    pub fn layers(&self) -> &[ZoneLayer] {
        &self.layers
    }

    /// Every zone of every layer holding `p`, by layer then code.
    #[must_use]
    pub fn locate(&self, p: Point<f64>) -> Vec<ZoneRef> {
        self.layers
            .iter()
            .flat_map(|l| {
                l.locate(p).into_iter().map(|z| ZoneRef {
                    layer: l.name.clone(),
                    code: z.code.clone(),
                    name: z.name.clone(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "zones_tests.rs"]
mod tests;

//! Validation of proposed grids for one community, from their polygons
//! alone (drawn in QGIS, edited on the web map or made by [`plan`](super::plan)):
//! households, bounds, contiguity, containment, overlaps, gaps,
//! compactness and buildings cut by a boundary.
//!
//! Geometry is measured in the community's metric frame (the tangent plane
//! of its Gauss-Krüger zone). An overlap, gap or part outside the community
//! counts when its area exceeds 10⁻⁶ of the community's area (and 0.01 m²);
//! a building is cut when more than 0.1 % of its footprint lies on each
//! side of a grid's boundary. A building's households count in the grid
//! holding its representative point.

use geo::{Area, BooleanOps, BoundingRect, Contains, Intersects, Validation as _};
use geo_types::{MultiPolygon, Polygon};
use serde::Serialize;

use super::shape::{node, perimeter, polsby_popper};
use super::{Bounds, GridKind, NODE_TOL_M};
use crate::cells::frame::{polygon, Frame, Shape};
use crate::crs::LocalProjection;
use crate::model::{AdminArea, Building};

/// Share of the community's area under which a gap or overlap is noise.
const AREA_TOL: f64 = 1e-6;
/// Smallest area that counts, m².
const MIN_AREA_M2: f64 = 0.01;
/// Share of a footprint that must lie on each side for it to be cut.
const CUT_TOL: f64 = 1e-3;

/// One proposed grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// Its name in the answer: its code, or the feature's id.
    pub id: String,
    /// Basic grids are held to the bounds; special and building grids are not.
    pub kind: GridKind,
    /// Its outline in lon/lat.
    pub geometry: MultiPolygon<f64>,
}

/// A proposal that cannot be checked at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProposalError {
    /// A proposed polygon is not valid.
    #[error("grid {id}: invalid polygon: {reason}")]
    InvalidPolygon {
        /// The proposal.
        id: String,
        /// What the validity check found.
        reason: String,
    },
    /// A proposed polygon is empty.
    #[error("grid {id}: empty geometry")]
    Empty {
        /// The proposal.
        id: String,
    },
    /// The community's projection failed.
    #[error("community {code}: projection: {reason}")]
    Projection {
        /// The community.
        code: String,
        /// What failed.
        reason: String,
    },
}

/// A rule a grid breaks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Violation {
    /// Households outside the bounds.
    Bounds {
        /// Households.
        households: u32,
        /// The bounds.
        min: u32,
        /// The bounds.
        max: u32,
    },
    /// More than one part.
    NotContiguous {
        /// Parts.
        parts: usize,
    },
    /// Area outside the community.
    Outside {
        /// m².
        area_m2: f64,
    },
    /// Area shared with another grid.
    Overlap {
        /// The other grid.
        with: String,
        /// m².
        area_m2: f64,
    },
    /// Buildings whose footprint the boundary cuts.
    BuildingsCut {
        /// Building ids.
        buildings: Vec<i64>,
    },
}

impl Violation {
    /// A short name of the rule, for comparing before and after an edit.
    #[must_use]
    pub fn rule(&self) -> String {
        match self {
            Self::Bounds { .. } => "bounds".into(),
            Self::NotContiguous { .. } => "contiguity".into(),
            Self::Outside { .. } => "containment".into(),
            Self::Overlap { with, .. } => format!("overlap:{with}"),
            Self::BuildingsCut { .. } => "buildings_cut".into(),
        }
    }
}

/// Overlap of two grids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    /// The other grid.
    pub with: String,
    /// Area shared, m².
    pub area_m2: f64,
}

/// A part of the community in no grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// Area, m².
    pub area_m2: f64,
    /// Its outline in lon/lat.
    #[serde(skip)]
    pub geometry: Polygon<f64>,
    /// A point inside it (lon, lat).
    pub point: [f64; 2],
}

/// The check of one grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridCheck {
    /// The proposal's id.
    pub id: String,
    /// Its kind.
    pub kind: GridKind,
    /// Households in it.
    pub households: u32,
    /// Buildings in it.
    pub buildings: usize,
    /// Area, m².
    pub area_m2: f64,
    /// Separate parts (1 when contiguous).
    pub parts: usize,
    /// Area outside the community, m².
    pub outside_m2: f64,
    /// Overlaps with other grids.
    pub overlaps: Vec<Overlap>,
    /// Polsby–Popper compactness.
    pub compactness: f64,
    /// Buildings its boundary cuts (ids).
    pub buildings_cut: Vec<i64>,
    /// The rules it breaks; empty when it is fine.
    pub violations: Vec<Violation>,
}

/// The check of a community's proposed grids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Validation {
    /// The community's code.
    pub community: String,
    /// Its bounds.
    pub bounds: Bounds,
    /// Households of the community's buildings.
    pub households: u32,
    /// Households in no proposed grid.
    pub unassigned_households: u32,
    /// Per grid, in the order given.
    pub grids: Vec<GridCheck>,
    /// Parts of the community in no grid.
    pub gaps: Vec<Gap>,
    /// Total area of the gaps, m².
    pub gap_m2: f64,
    /// `true` when no grid breaks a rule and there is no gap.
    pub valid: bool,
}

/// Checks `proposals` for `community`, whose buildings (those whose
/// representative point lies in it) are `buildings`.
pub fn validate(
    community: &AdminArea,
    buildings: &[&Building],
    proposals: &[Proposal],
    bounds: Bounds,
) -> Result<Validation, ProposalError> {
    check_polygons(proposals)?;
    let projection_error = |e: crate::crs::CrsError| ProposalError::Projection {
        code: community.code.to_string(),
        reason: e.to_string(),
    };
    let bbox = community
        .geometry
        .bounding_rect()
        .ok_or_else(|| ProposalError::Empty {
            id: community.code.to_string(),
        })?;
    let frame = LocalProjection::gauss_kruger_3deg(bbox.center().x)
        .and_then(|proj| Frame::new(&proj, bbox))
        .map_err(projection_error)?;
    let metric = |g: &MultiPolygon<f64>| -> MultiPolygon<f64> {
        MultiPolygon(g.iter().map(|p| polygon(&frame.shape(p))).collect())
    };
    let home = metric(&community.geometry);
    let tol = (home.unsigned_area() * AREA_TOL).max(MIN_AREA_M2);
    let grids = noded(&frame, proposals);
    let boxes: Vec<_> = grids.iter().map(BoundingRect::bounding_rect).collect();
    let points: Vec<_> = buildings.iter().map(|b| b.point()).collect();
    let footprints: Vec<MultiPolygon<f64>> =
        buildings.iter().map(|b| metric(&b.geometry)).collect();

    let mut checks = Vec::with_capacity(proposals.len());
    let mut placed = vec![false; buildings.len()];
    for (i, (p, g)) in proposals.iter().zip(&grids).enumerate() {
        let mut households = 0;
        let mut count = 0;
        for (b, pt) in points.iter().enumerate() {
            if pt.is_some_and(|pt| p.geometry.intersects(&pt)) {
                households += buildings[b].households;
                count += 1;
                placed[b] = true;
            }
        }
        let area = g.unsigned_area();
        let outside = g.difference(&home).unsigned_area();
        let overlaps = overlaps_of(i, &grids, &boxes, proposals, tol);
        let buildings_cut: Vec<i64> = footprints
            .iter()
            .enumerate()
            .filter(|(_, f)| cuts(g, boxes[i], f))
            .map(|(b, _)| buildings[b].id)
            .collect();
        checks.push(GridCheck {
            id: p.id.clone(),
            kind: p.kind,
            households,
            buildings: count,
            area_m2: area,
            parts: g.0.len(),
            outside_m2: outside,
            overlaps,
            compactness: polsby_popper(area, perimeter(g)),
            buildings_cut,
            violations: Vec::new(),
        });
    }
    for c in &mut checks {
        c.violations = c.rules(bounds, tol);
    }
    let covered = grids
        .iter()
        .fold(MultiPolygon::new(Vec::new()), |acc, g| acc.union(g));
    let gaps = gaps_of(&frame, &home, &covered, tol);
    let total: u32 = buildings.iter().map(|b| b.households).sum();
    let unassigned = buildings
        .iter()
        .zip(&placed)
        .filter(|(_, p)| !**p)
        .map(|(b, _)| b.households)
        .sum();
    let valid = gaps.is_empty() && checks.iter().all(|c| c.violations.is_empty());
    Ok(Validation {
        community: community.code.to_string(),
        bounds,
        households: total,
        unassigned_households: unassigned,
        gap_m2: gaps.iter().map(|g| g.area_m2).sum(),
        grids: checks,
        gaps,
        valid,
    })
}

impl GridCheck {
    /// The rules the grid breaks, from its measures.
    fn rules(&self, bounds: Bounds, tol: f64) -> Vec<Violation> {
        let mut out = Vec::new();
        if self.kind == GridKind::Basic && !bounds.holds(self.households) {
            out.push(Violation::Bounds {
                households: self.households,
                min: bounds.min,
                max: bounds.max,
            });
        }
        if self.parts > 1 {
            out.push(Violation::NotContiguous { parts: self.parts });
        }
        if self.outside_m2 > tol {
            out.push(Violation::Outside {
                area_m2: self.outside_m2,
            });
        }
        out.extend(self.overlaps.iter().map(|o| Violation::Overlap {
            with: o.with.clone(),
            area_m2: o.area_m2,
        }));
        if !self.buildings_cut.is_empty() {
            out.push(Violation::BuildingsCut {
                buildings: self.buildings_cut.clone(),
            });
        }
        out
    }
}

/// The proposals in frame metres, noded against each other and dissolved.
fn noded(frame: &Frame, proposals: &[Proposal]) -> Vec<MultiPolygon<f64>> {
    let mut pieces: Vec<Vec<Shape>> = proposals
        .iter()
        .map(|p| p.geometry.iter().map(|poly| frame.shape(poly)).collect())
        .collect();
    node(&mut pieces, NODE_TOL_M);
    pieces
        .iter()
        .map(|shapes| {
            MultiPolygon(shapes.iter().map(|s| polygon(s)).collect())
                .union(&MultiPolygon::new(Vec::new()))
        })
        .collect()
}

/// Every proposal is a non-empty valid polygon.
fn check_polygons(proposals: &[Proposal]) -> Result<(), ProposalError> {
    for p in proposals {
        if p.geometry.0.is_empty() {
            return Err(ProposalError::Empty { id: p.id.clone() });
        }
        if let Some(e) = p.geometry.validation_errors().first() {
            return Err(ProposalError::InvalidPolygon {
                id: p.id.clone(),
                reason: e.to_string(),
            });
        }
    }
    Ok(())
}

/// Overlaps over `tol` of grid `i` with the others.
fn overlaps_of(
    i: usize,
    grids: &[MultiPolygon<f64>],
    boxes: &[Option<geo_types::Rect<f64>>],
    proposals: &[Proposal],
    tol: f64,
) -> Vec<Overlap> {
    grids
        .iter()
        .enumerate()
        .filter(|&(j, _)| match (boxes[i], boxes[j]) {
            (Some(a), Some(b)) => i != j && a.intersects(&b),
            _ => false,
        })
        .map(|(j, other)| (j, grids[i].intersection(other).unsigned_area()))
        .filter(|&(_, shared)| shared > tol)
        .map(|(j, shared)| Overlap {
            with: proposals[j].id.clone(),
            area_m2: shared,
        })
        .collect()
}

/// The parts of `home` (frame metres) outside `covered` larger than `tol`, in lon/lat.
fn gaps_of(
    frame: &Frame,
    home: &MultiPolygon<f64>,
    covered: &MultiPolygon<f64>,
    tol: f64,
) -> Vec<Gap> {
    home.difference(covered)
        .0
        .into_iter()
        .filter(|g| g.unsigned_area() > tol)
        .map(|g| {
            let lonlat = geo::MapCoords::map_coords(&g, |c| frame.inverse([c.x, c.y]));
            let point =
                geo::InteriorPoint::interior_point(&lonlat).map_or([0.0, 0.0], |p| [p.x(), p.y()]);
            Gap {
                area_m2: g.unsigned_area(),
                geometry: lonlat,
                point,
            }
        })
        .collect()
}

/// `true` when the footprint `f` lies partly inside and partly outside `g`.
fn cuts(g: &MultiPolygon<f64>, gbox: Option<geo_types::Rect<f64>>, f: &MultiPolygon<f64>) -> bool {
    let (Some(gb), Some(fb)) = (gbox, f.bounding_rect()) else {
        return false;
    };
    if !gb.intersects(&fb) || g.contains(f) {
        return false;
    }
    let whole = f.unsigned_area();
    let inside = g.intersection(f).unsigned_area();
    inside > whole * CUT_TOL && whole - inside > whole * CUT_TOL
}

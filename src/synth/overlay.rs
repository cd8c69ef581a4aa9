//! Components along the roads and the overlay zones of a synthetic city,
//! made once the city is in lon/lat:
//! - on every residential street (they run inside communities, never on
//!   the territory's edge), a street lamp (0118) at a quarter of its
//!   length, a water manhole cover (0101) half way and a fire hydrant
//!   (0113, 消防设施) at three quarters; a guardrail (0211) along every fifth street;
//!   a few damaged or missing, as a city's inventory has;
//! - a complete layer `police_beats`, one beat per subdistrict (they tile
//!   the territory), and an incomplete layer `school_safety`, a 200 m
//!   square around each school.

use geo::{Euclidean, InterpolatableLine, MapCoords};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use rand::Rng;

use super::{stream, Stage};
use crate::components::{place, Component, ComponentState, Serials};
use crate::crs::{CrsError, LocalProjection};
use crate::model::FacilityKind;
use crate::zones::ZoneFeature;
use crate::{Locator, Territory};

/// Point components along every road: (class, owner, share of the length).
const ON_ROADS: [(&str, &str, f64); 3] = [
    ("0118", "区城管局", 0.25),
    ("0101", "区水务局", 0.5),
    ("0113", "消防救援大队", 0.75),
];

/// The road class components stand along.
pub(super) const STREET: &str = "residential";

/// Guardrails: one street in this many.
const GUARDRAIL_EVERY: usize = 5;

/// Half the side of a school-safety zone, metres.
const SCHOOL_ZONE_HALF_M: f64 = 100.0;

/// The components of the city `t` (lon/lat), numbered per district and class.
pub(super) fn components(seed: u64, t: &Territory) -> Vec<Component> {
    let locator = Locator::new(t);
    let mut serials = Serials::default();
    let mut out = Vec::new();
    let streets = t.roads.iter().filter(|r| r.class == STREET);
    for (i, road) in streets.enumerate() {
        let mut rng = stream(seed, Stage::Components, i);
        let mut add =
            |class: &str, owner: &str, geometry: geo_types::Geometry<f64>, name: String| {
                let state = match rng.random_range(0..100) {
                    0..=4 => ComponentState::Damaged,
                    5 => ComponentState::Missing,
                    _ => ComponentState::Good,
                };
                // Roads run inside the territory; one whose anchor is not in a
                // district (none here) is left without components.
                if let Ok((code, _)) = place(&locator, None, &geometry, |d| serials.next(d, class))
                {
                    out.push(Component {
                        id: 0,
                        code,
                        name,
                        owner: owner.to_owned(),
                        maintainer: owner.to_owned(),
                        state,
                        geometry,
                        cell: None,
                    });
                }
            };
        for (class, owner, at) in ON_ROADS {
            if let Some(p) = road.geometry.point_at_ratio_from_start(&Euclidean, at) {
                add(class, owner, p.into(), road.name.clone());
            }
        }
        if i % GUARDRAIL_EVERY == 0 {
            add(
                "0211",
                "区交通运输局",
                road.geometry.clone().into(),
                road.name.clone(),
            );
        }
    }
    out
}

/// The overlay zones of the city `t` (lon/lat); `proj` is its projection.
pub(super) fn zones(t: &Territory, proj: &LocalProjection) -> Result<Vec<ZoneFeature>, CrsError> {
    let mut out: Vec<ZoneFeature> = t
        .subdistricts
        .iter()
        .map(|s| ZoneFeature {
            id: 0,
            layer: "police_beats".into(),
            code: format!("PB{}", s.code),
            name: format!("{}警务区", s.name),
            complete: true,
            geometry: s.geometry.clone(),
        })
        .collect();
    let schools = t
        .facilities
        .iter()
        .filter(|f| f.kind == FacilityKind::School);
    for (n, school) in schools.enumerate() {
        let c = proj.forward(school.location.0)?;
        let h = SCHOOL_ZONE_HALF_M;
        let ring = LineString::new(vec![
            Coord {
                x: c.x - h,
                y: c.y - h,
            },
            Coord {
                x: c.x + h,
                y: c.y - h,
            },
            Coord {
                x: c.x + h,
                y: c.y + h,
            },
            Coord {
                x: c.x - h,
                y: c.y + h,
            },
            Coord {
                x: c.x - h,
                y: c.y - h,
            },
        ]);
        let square = MultiPolygon::new(vec![Polygon::new(ring, vec![])]);
        out.push(ZoneFeature {
            id: 0,
            layer: "school_safety".into(),
            code: format!("SS{:04}", n + 1),
            name: format!("{}校园安全区", school.name),
            complete: false,
            geometry: square.try_map_coords(|c| proj.inverse(c))?,
        });
    }
    Ok(out)
}

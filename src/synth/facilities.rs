//! Facilities of every kind, placed inside communities and off the roads.

use std::ops::RangeInclusive;

use geo_types::Point;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::blocks::BlockPlan;
use super::hierarchy::{Area, Hierarchy};
use super::lattice::Lattice;
use super::{draw, stream, Stage};
use crate::model::{CommunityKind, Facility, FacilityKind};

/// How many facilities of a kind an area gets, for (urban, rural) areas.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scope {
    /// Expected number per community.
    Community(f64, f64),
    /// Expected number per subdistrict, in a random community of it.
    Subdistrict(f64, f64),
    /// One per this many km² of a district (at least one), spread over its
    /// communities.
    DistrictArea(f64, f64),
}

impl Scope {
    /// The figure for an area of `kind`.
    pub fn of(self, kind: CommunityKind) -> f64 {
        let (Self::Community(u, r) | Self::Subdistrict(u, r) | Self::DistrictArea(u, r)) = self;
        match kind {
            CommunityKind::Urban => u,
            CommunityKind::Rural => r,
        }
    }
}

/// How facilities of one kind are generated.
struct Rule {
    kind: FacilityKind,
    /// Appended to the area's name.
    label: &'static str,
    scope: Scope,
    capacity: Option<RangeInclusive<u32>>,
    staff: Option<RangeInclusive<u32>>,
}

/// One rule per [`FacilityKind`]: fire stations about one per 7 km² of city
/// (GB 51080: 5 minutes to the edge of the station's district), fewer in
/// the country; a police station per subdistrict; hydrants every ~150 m.
const RULES: [Rule; 10] = [
    Rule {
        kind: FacilityKind::FireStation,
        label: "消防站",
        scope: Scope::DistrictArea(7.0, 60.0),
        capacity: Some(3..=8),
        staff: Some(20..=45),
    },
    Rule {
        kind: FacilityKind::MicroFireStation,
        label: "微型消防站",
        scope: Scope::Community(0.6, 0.3),
        capacity: Some(1..=2),
        staff: Some(3..=8),
    },
    Rule {
        kind: FacilityKind::Hospital,
        label: "医院",
        scope: Scope::DistrictArea(15.0, 150.0),
        capacity: Some(100..=1200),
        staff: Some(150..=2000),
    },
    Rule {
        kind: FacilityKind::Clinic,
        label: "卫生服务站",
        scope: Scope::Community(0.4, 0.6),
        capacity: None,
        staff: Some(3..=20),
    },
    Rule {
        kind: FacilityKind::Police,
        label: "派出所",
        scope: Scope::Subdistrict(1.0, 1.0),
        capacity: None,
        staff: Some(30..=120),
    },
    Rule {
        kind: FacilityKind::Shelter,
        label: "应急避难场所",
        scope: Scope::Subdistrict(1.5, 1.0),
        capacity: Some(500..=5000),
        staff: None,
    },
    Rule {
        kind: FacilityKind::AmbulanceStation,
        label: "急救站",
        scope: Scope::DistrictArea(20.0, 150.0),
        capacity: Some(2..=6),
        staff: Some(10..=40),
    },
    Rule {
        kind: FacilityKind::School,
        label: "学校",
        scope: Scope::Community(0.25, 0.1),
        capacity: Some(300..=2500),
        staff: Some(30..=200),
    },
    Rule {
        kind: FacilityKind::FireHydrant,
        label: "消火栓",
        scope: Scope::Community(10.0, 2.0),
        capacity: None,
        staff: None,
    },
    Rule {
        kind: FacilityKind::Defibrillator,
        label: "AED",
        scope: Scope::Community(0.3, 0.05),
        capacity: None,
        staff: None,
    },
];

/// Every facility of the territory, in metres.
pub(super) fn facilities(
    seed: u64,
    lattice: &Lattice,
    hier: &Hierarchy,
    plans: &[BlockPlan],
) -> Vec<Facility> {
    let mut rng = stream(seed, Stage::Facilities, 0);
    let mut out = Vec::new();
    for rule in &RULES {
        let mut place = |area: &Area, count: usize, rng: &mut ChaCha8Rng| {
            for k in 1..=count {
                let community = community_of(area, k, count, rng);
                out.push(Facility {
                    id: 0,
                    kind: rule.kind,
                    name: if count == 1 {
                        format!("{}{}", area.name, rule.label)
                    } else {
                        format!("{}{}{k}", area.name, rule.label)
                    },
                    capacity: rule.capacity.clone().map(|r| rng.random_range(r)),
                    staff: rule.staff.clone().map(|r| rng.random_range(r)),
                    contact: None,
                    location: Point(plans[community].interior_point(lattice, rng)),
                });
            }
        };
        match rule.scope {
            Scope::Community(..) | Scope::Subdistrict(..) => {
                let areas = match rule.scope {
                    Scope::Community(..) => &hier.communities,
                    _ => &hier.subdistricts,
                };
                for a in areas {
                    let count = draw(rule.scope.of(a.kind), &mut rng);
                    place(a, count, &mut rng);
                }
            }
            Scope::DistrictArea(..) => {
                for d in &hier.districts {
                    let count = (d.km2(lattice) / rule.scope.of(d.kind)).round().max(1.0) as usize;
                    place(d, count, &mut rng);
                }
            }
        }
    }
    out
}

/// The community of an area holding its `k`-th of `count` facilities: the
/// `k`-th of `count` equal runs of its communities (in code order), at random
/// within the run, so that facilities spread over the area (a community
/// holds all of its own).
fn community_of(area: &Area, k: usize, count: usize, rng: &mut ChaCha8Rng) -> usize {
    let len = area.communities.len();
    let offset = ((k - 1) as f64 + rng.random::<f64>()) * len as f64 / count as f64;
    area.communities.start + (offset as usize).min(len - 1)
}

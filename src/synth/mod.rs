//! Synthetic cities: a deterministic, seeded generator of whole territories,
//! from an eight-community test town to a province of ten million households.
//!
//! [`synthesize`] turns a [`SynthConfig`] into a [`Territory`]:
//! - **hierarchy**: districts → subdistricts → communities, each a block of a
//!   jittered lattice, so that communities tile their subdistrict and
//!   subdistricts tile their district with no gap and no overlap, sharing
//!   exact vertices. Outer districts can be rural: their villages are blocks of
//!   several lattice cells.
//! - **roads**: arterials along district (`primary`) and subdistrict
//!   (`secondary`) boundaries, `tertiary` roads along community boundaries and
//!   `residential` streets inside communities; the network is connected and
//!   noded (roads meet only at endpoints with identical coordinates).
//! - optionally a **river** ([`SynthConfig::river`]): a meandering centre
//!   line across the territory, a [`Barrier`](crate::Barrier) that unit cells
//!   are cut along; no house stands within 10 m of it.
//! - **buildings** with households, **facilities** of every
//!   [`FacilityKind`](crate::FacilityKind), point and area **hazards** of all
//!   four risk levels, and **incidents** clustered around hot spots.
//! - **components** (部件) along the roads with 16-digit codes (lamps,
//!   manhole covers, hydrants, guardrails) and two overlay layers of
//!   **zones**: `police_beats` (complete: one per subdistrict) and
//!   `school_safety` (a square around each school).
//!
//! Everything is laid out in metres in a [`LocalProjection`] and unprojected
//! to lon/lat at the end; a position shared by two features is computed by
//! one pure function of whole lattice units, so it has bit-identical
//! coordinates in both. The same configuration always yields an identical
//! territory; every stage draws from its own `ChaCha8` stream, so changing one
//! stage leaves the others alone.
//!
//! # Example
//! ```
//! use civgrid::synth::{synthesize, SynthConfig};
//! let t = synthesize(&SynthConfig::test().seed(7))?;
//! assert_eq!(t.communities.len(), 8);
//! assert_eq!(t, synthesize(&SynthConfig::test().seed(7))?);
//! # Ok::<(), civgrid::synth::SynthError>(())
//! ```

mod blocks;
mod buildings;
mod config;
mod facilities;
mod hazards;
mod hierarchy;
mod incidents;
mod lattice;
mod names;
mod overlay;
mod river;
mod roads;

use geo::MapCoordsInPlace;
use geo_types::Coord;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::crs::{CrsError, LocalProjection};
use crate::model::{AdminCode, AdminLevel, HazardGeometry, Territory};

pub use config::SynthConfig;

/// Why a synthetic territory could not be generated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SynthError {
    /// A setting is out of its range.
    #[error("invalid synthetic-city setting `{field}`: {reason}")]
    InvalidConfig {
        /// The field of [`SynthConfig`] at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// `first_district` is a subdistrict or community code.
    #[error("first_district {0} is not a 6-digit district code")]
    NotADistrict(AdminCode),
    /// Counting up from `first_district` runs past 999999.
    #[error("{count} districts counted up from {first} run past the last 6-digit code 999999")]
    TooManyDistricts {
        /// The first district code.
        first: AdminCode,
        /// Number of districts asked for.
        count: usize,
    },
    /// A district would need more subdistricts than a 3-digit code holds.
    #[error(
        "district {district} would need {count} subdistricts; a 3-digit code holds at most 999"
    )]
    TooManySubdistricts {
        /// The district.
        district: AdminCode,
        /// Subdistricts it would need.
        count: usize,
    },
    /// A subdistrict would need more communities than a 3-digit code holds.
    #[error(
        "subdistrict {subdistrict} would need {count} communities; a 3-digit code holds at most 999"
    )]
    TooManyCommunities {
        /// The subdistrict.
        subdistrict: AdminCode,
        /// Communities it would need.
        count: usize,
    },
    /// The lattice would have more cells than the generator accepts.
    #[error("the territory would need {cells} lattice cells, more than the limit of {limit}")]
    TooLarge {
        /// Lattice cells needed.
        cells: u128,
        /// The limit.
        limit: u128,
    },
    /// The local projection failed.
    #[error("projection failed: {0}")]
    Projection(#[from] CrsError),
}

/// Generates the territory described by `cfg`: same configuration, same
/// territory (`==`), every coordinate in lon/lat and every `id` 0.
///
/// Time and memory grow linearly with the number of households: in a
/// release build a city of 475,000 households takes 40 ms, a
/// 10-million-household province 2.5 s and 280 MB.
///
/// # Errors
/// [`SynthError`] for a setting out of range, codes that do not fit their
/// digits, or a projection failure.
pub fn synthesize(cfg: &SynthConfig) -> Result<Territory, SynthError> {
    cfg.validate()?;
    let proj = LocalProjection::gauss_kruger_3deg(cfg.origin_lon)?;
    let origin = proj.forward(Coord {
        x: cfg.origin_lon,
        y: cfg.origin_lat,
    })?;
    let layout = hierarchy::Layout::new(cfg);
    let hier = hierarchy::Hierarchy::new(cfg, &layout)?;
    let lattice = lattice::Lattice::new(
        origin,
        (layout.nx, layout.ny),
        cfg.urban_community_m,
        cfg.jitter,
        cfg.seed,
    );
    let plans = blocks::plans(cfg, &lattice, &hier);
    let splits = blocks::Splits::new(&hier, &plans);

    let mut t = Territory {
        districts: hier.admin_areas(AdminLevel::District, &lattice, &splits),
        subdistricts: hier.admin_areas(AdminLevel::Subdistrict, &lattice, &splits),
        communities: hier.admin_areas(AdminLevel::Community, &lattice, &splits),
        roads: roads::roads(cfg.seed, &hier, &lattice, &splits, &plans),
        ..Territory::default()
    };
    t.buildings = buildings::buildings(cfg, &lattice, &plans);
    if cfg.river {
        let river = river::River::new(cfg.seed, &lattice);
        river.clear(&mut t.buildings);
        t.barriers.push(river.barrier(cfg.seed));
    }
    t.facilities = facilities::facilities(cfg.seed, &lattice, &hier, &plans);
    t.hazards = hazards::hazards(cfg.seed, &lattice, &hier, &plans);
    t.incidents = incidents::incidents(cfg, &lattice, &hier, &t.buildings, &t.roads);
    unproject(&proj, &mut t)?;
    t.components = overlay::components(cfg.seed, &t);
    t.zones = overlay::zones(&t, &proj)?;
    Ok(t)
}

/// The generation stages, each drawing from its own random stream.
#[derive(Debug, Clone, Copy)]
enum Stage {
    Lattice = 1,
    AreaNames,
    RoadNames,
    LandUse,
    Blocks,
    Buildings,
    Facilities,
    Hazards,
    Incidents,
    River,
    Components,
}

/// The random stream of one stage, for the item `index` of that stage.
fn stream(seed: u64, stage: Stage, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(((stage as u64) << 56) ^ index as u64);
    rng
}

/// A whole number of expected value `mean` (≥ 0): its integer part, plus
/// one with the chance of its fraction.
fn draw(mean: f64, rng: &mut ChaCha8Rng) -> usize {
    let whole = mean.floor();
    whole as usize + usize::from(rng.random_bool(mean - whole))
}

/// Brings every coordinate of a territory laid out in metres back to lon/lat.
fn unproject(proj: &LocalProjection, t: &mut Territory) -> Result<(), CrsError> {
    let inverse = |c| proj.inverse(c);
    for a in t
        .districts
        .iter_mut()
        .chain(&mut t.subdistricts)
        .chain(&mut t.communities)
    {
        a.geometry.try_map_coords_in_place(inverse)?;
    }
    for b in &mut t.buildings {
        b.geometry.try_map_coords_in_place(inverse)?;
    }
    for f in &mut t.facilities {
        f.location.try_map_coords_in_place(inverse)?;
    }
    for h in &mut t.hazards {
        match &mut h.geometry {
            HazardGeometry::Point(p) => p.try_map_coords_in_place(inverse)?,
            HazardGeometry::Area(a) => a.try_map_coords_in_place(inverse)?,
        }
    }
    for r in &mut t.roads {
        r.geometry.try_map_coords_in_place(inverse)?;
    }
    for b in &mut t.barriers {
        b.geometry.try_map_coords_in_place(inverse)?;
    }
    for i in &mut t.incidents {
        i.location.try_map_coords_in_place(inverse)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use geo::{Area, BooleanOps, BoundingRect, Contains, Distance, Euclidean, Intersects};
    use geo_types::{Line, MultiPolygon, Point, Rect};
    use rstar::primitives::{GeomWithData, Rectangle};
    use rstar::{RTree, AABB};

    use super::*;
    use crate::model::{AdminArea, CommunityKind, FacilityKind};
    use crate::risk::{Assessment, RiskLevel};

    /// Components are numbered in the district holding them, codes
    /// unique; the police beats tile the territory, the school zones do not
    /// claim to.
    #[test]
    fn components_and_zones() {
        use crate::components::anchor;
        use crate::zones::Zones;
        let (cfg, t) = town();
        let streets = t
            .roads
            .iter()
            .filter(|r| r.class == overlay::STREET)
            .count();
        assert!(streets > 0 && t.components.len() >= 3 * streets);
        let codes: HashSet<_> = t.components.iter().map(|c| c.code).collect();
        assert_eq!(codes.len(), t.components.len());
        let locator = crate::Locator::new(&t);
        for c in &t.components {
            let at = anchor(&c.geometry).unwrap();
            let district = locator.locate(at).district.unwrap().code;
            assert_eq!(c.code.district(), district, "{}", c.code);
        }
        let classes: HashSet<String> = t.components.iter().map(|c| c.code.class()).collect();
        assert_eq!(classes.len(), 4);
        let zones = Zones::from_features(&t.zones);
        let names: Vec<_> = zones
            .layers()
            .iter()
            .map(|l| (l.name.as_str(), l.complete))
            .collect();
        assert_eq!(names, [("police_beats", true), ("school_safety", false)]);
        let territory = t
            .districts
            .iter()
            .fold(MultiPolygon::new(vec![]), |acc, d| acc.union(&d.geometry));
        let report = zones.layers()[0]
            .validate(&territory, &projection(&cfg))
            .unwrap();
        assert!(report.is_valid(), "{report:?}");
        assert_eq!(report.zones, t.subdistricts.len());
    }

    fn town() -> (SynthConfig, Territory) {
        let cfg = SynthConfig::town();
        let t = synthesize(&cfg).unwrap();
        (cfg, t)
    }

    fn projection(cfg: &SynthConfig) -> LocalProjection {
        LocalProjection::gauss_kruger_3deg(cfg.origin_lon).unwrap()
    }

    fn metric(p: &LocalProjection, a: &AdminArea) -> MultiPolygon<f64> {
        p.project(&a.geometry).unwrap()
    }

    fn key(c: Coord<f64>) -> (u64, u64) {
        (c.x.to_bits(), c.y.to_bits())
    }

    fn rect(r: Rect<f64>) -> AABB<[f64; 2]> {
        AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y])
    }

    #[test]
    fn same_config_same_territory_and_another_seed_differs() {
        let cfg = SynthConfig::test();
        let a = synthesize(&cfg).unwrap();
        let b = synthesize(&cfg).unwrap();
        assert_eq!(a, b);
        let c = synthesize(&cfg.clone().seed(cfg.seed + 1)).unwrap();
        assert_ne!(a.communities[0].geometry, c.communities[0].geometry);
        assert_ne!(a.buildings, c.buildings);
        // The structure does not depend on the seed.
        assert_eq!(
            a.communities.iter().map(|x| x.code).collect::<Vec<_>>(),
            c.communities.iter().map(|x| x.code).collect::<Vec<_>>()
        );
        let counts = a.counts();
        assert_eq!(
            (counts.districts, counts.subdistricts, counts.communities),
            (1, 2, 8)
        );
        assert!(a.buildings.iter().all(|b| b.id == 0) && a.roads.iter().all(|r| r.id == 0));
    }

    #[test]
    fn codes_nest_and_are_unique() {
        let (_, t) = town();
        assert_eq!(t.districts.len(), 2);
        assert_eq!(t.subdistricts.len(), 8);
        // 36 urban communities (6 × 6 of 500 m) and 12 villages (6 × 2 of 1.5 km).
        let urban = t
            .communities
            .iter()
            .filter(|c| c.kind == Some(CommunityKind::Urban))
            .count();
        let rural = t
            .communities
            .iter()
            .filter(|c| c.kind == Some(CommunityKind::Rural))
            .count();
        assert_eq!((urban, rural), (36, 12));
        let districts: HashSet<AdminCode> = t.districts.iter().map(|d| d.code).collect();
        let subdistricts: HashSet<AdminCode> = t.subdistricts.iter().map(|s| s.code).collect();
        let communities: HashSet<AdminCode> = t.communities.iter().map(|c| c.code).collect();
        assert_eq!(districts.len(), 2);
        assert_eq!(subdistricts.len(), 8);
        assert_eq!(communities.len(), 48);
        assert_eq!(t.districts[0].code.to_string(), "339001");
        assert_eq!(t.subdistricts[0].code.to_string(), "339001001");
        assert_eq!(t.communities[0].code.to_string(), "339001001001");
        assert!(subdistricts
            .iter()
            .all(|s| districts.contains(&s.parent().unwrap())));
        assert!(communities
            .iter()
            .all(|c| subdistricts.contains(&c.parent().unwrap())));
        assert!(t
            .districts
            .iter()
            .chain(&t.subdistricts)
            .all(|a| a.kind.is_none()));
        let suffixes = |a: &AdminArea, urban: &str, rural: &str| {
            a.name.ends_with(urban) || a.name.ends_with(rural)
        };
        assert!(t.districts.iter().all(|d| suffixes(d, "区", "县")));
        assert!(t.subdistricts.iter().all(|s| suffixes(s, "街道", "镇")));
        assert!(t.communities.iter().all(|c| suffixes(c, "社区", "村")));
    }

    /// Children cover their parent (areas add up), lie inside it, and
    /// overlap each other nowhere.
    fn assert_tiles(p: &LocalProjection, parents: &[AdminArea], children: &[AdminArea]) {
        for parent in parents {
            let whole = metric(p, parent);
            let parts: Vec<MultiPolygon<f64>> = children
                .iter()
                .filter(|c| c.code.parent() == Some(parent.code))
                .map(|c| metric(p, c))
                .collect();
            assert!(parts.len() > 1, "{}", parent.code);
            let sum: f64 = parts.iter().map(Area::unsigned_area).sum();
            let area = whole.unsigned_area();
            assert!(
                (sum - area).abs() / area < 1e-9,
                "{}: {sum} vs {area}",
                parent.code
            );
            for (n, a) in parts.iter().enumerate() {
                // (i_overlay snaps to a grid: exact to about 1e-9.)
                let inside = a.intersection(&whole).unsigned_area();
                assert!(
                    (inside / a.unsigned_area() - 1.0).abs() < 1e-8,
                    "{}: {inside}",
                    parent.code
                );
                for b in &parts[n + 1..] {
                    let overlap = a.intersection(b).unsigned_area();
                    assert!(overlap < 1e-6, "{}: overlap {overlap} m²", parent.code);
                }
            }
        }
    }

    #[test]
    fn communities_tile_subdistricts_and_subdistricts_tile_districts() {
        let (cfg, t) = town();
        let p = projection(&cfg);
        assert_tiles(&p, &t.subdistricts, &t.communities);
        assert_tiles(&p, &t.districts, &t.subdistricts);
        // The territory is 3 km × 3 km urban + 9 km × 3 km rural, a
        // rectangle from the origin.
        let total: f64 = t
            .districts
            .iter()
            .map(|d| metric(&p, d).unsigned_area())
            .sum();
        assert!((total - 36e6).abs() < 1.0, "{total}");
        // The south-west corner is the origin.
        let corner = t
            .districts
            .iter()
            .flat_map(|d| d.geometry.0[0].exterior().0.iter())
            .any(|c| (c.x - cfg.origin_lon).abs() < 1e-9 && (c.y - cfg.origin_lat).abs() < 1e-9);
        assert!(corner);
        // Not plain rectangles: the lattice is jittered.
        let ring = &t.communities[0].geometry.0[0].exterior().0;
        assert!(ring
            .windows(2)
            .any(|w| (w[0].x - w[1].x).abs() > 1e-6 && (w[0].y - w[1].y).abs() > 1e-6));
        // Villages are blocks of 3 × 3 lattice cells: 12 boundary vertices.
        let village = t
            .communities
            .iter()
            .find(|c| c.kind == Some(CommunityKind::Rural))
            .unwrap();
        assert!(village.geometry.0[0].exterior().0.len() > 12);
    }

    #[test]
    fn buildings_lie_in_one_community_and_clear_of_roads() {
        let (cfg, t) = town();
        let p = projection(&cfg);
        let roads: Vec<_> = t
            .roads
            .iter()
            .map(|r| p.project(&r.geometry).unwrap())
            .collect();
        let index = RTree::bulk_load(
            roads
                .iter()
                .enumerate()
                .map(|(n, r)| {
                    GeomWithData::new(Rectangle::from_aabb(rect(r.bounding_rect().unwrap())), n)
                })
                .collect(),
        );
        let communities: Vec<_> = t.communities.iter().map(|c| metric(&p, c)).collect();
        let mut clearance = f64::INFINITY;
        for b in &t.buildings {
            let g = p.project(&b.geometry).unwrap();
            let holders = communities.iter().filter(|c| c.contains(&g)).count();
            assert_eq!(holders, 1, "{b:?}");
            let r = g.bounding_rect().unwrap();
            let near = AABB::from_corners(
                [r.min().x - 20.0, r.min().y - 20.0],
                [r.max().x + 20.0, r.max().y + 20.0],
            );
            for road in index.locate_in_envelope_intersecting(&near) {
                let line = &roads[road.data];
                assert!(!line.intersects(&g));
                clearance = clearance.min(Euclidean.distance(line, &g));
            }
        }
        // Rural houses keep 3 m from their lot's sides, apartment blocks 8 m.
        assert!((2.9..20.0).contains(&clearance), "{clearance}");
        assert!(t.buildings.iter().all(|b| !b.households_estimated));
        assert!(t.buildings.iter().any(|b| b.levels.is_none()));
        let (urban, rural): (Vec<_>, Vec<_>) = t.buildings.iter().partition(|b| !b.name.is_empty());
        assert!(urban.iter().all(|b| (20..=200).contains(&b.households)
            && b.levels.is_none_or(|l| (6..=30).contains(&l))));
        assert!(rural
            .iter()
            .all(|b| (1..=2).contains(&b.households)
                && b.levels.is_none_or(|l| (1..=3).contains(&l))));
        assert!(
            urban.len() > 300 && rural.len() > 300,
            "{} {}",
            urban.len(),
            rural.len()
        );
    }

    #[test]
    fn roads_are_connected_noded_and_on_boundaries() {
        let (cfg, t) = town();
        // Union-find over exact endpoint coordinates.
        let mut ids: HashMap<(u64, u64), usize> = HashMap::new();
        let mut parent: Vec<usize> = Vec::new();
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        let mut degree: HashMap<(u64, u64), usize> = HashMap::new();
        for r in &t.roads {
            assert!(r.geometry.0.len() >= 2);
            let ends = [r.geometry.0[0], *r.geometry.0.last().unwrap()].map(|c| {
                *degree.entry(key(c)).or_default() += 1;
                let next = ids.len();
                *ids.entry(key(c)).or_insert_with(|| {
                    parent.push(next);
                    next
                })
            });
            let (a, b) = (find(&mut parent, ends[0]), find(&mut parent, ends[1]));
            parent[a] = b;
        }
        let roots: HashSet<usize> = (0..parent.len()).map(|x| find(&mut parent, x)).collect();
        assert_eq!(roots.len(), 1, "the road network falls apart");
        // Every endpoint meets another road (no dead ends), no road passes
        // through another's endpoint.
        assert!(degree.values().all(|&d| d >= 2));
        for r in &t.roads {
            let interior = &r.geometry.0[1..r.geometry.0.len() - 1];
            assert!(interior.iter().all(|c| !degree.contains_key(&key(*c))));
        }
        // Segments meet only at shared endpoints of their roads.
        let p = projection(&cfg);
        let segments: Vec<(usize, Line<f64>)> = t
            .roads
            .iter()
            .enumerate()
            .flat_map(|(n, r)| r.geometry.lines().map(move |l| (n, l)))
            .collect();
        let index = RTree::bulk_load(
            segments
                .iter()
                .enumerate()
                .map(|(n, (_, l))| {
                    GeomWithData::new(Rectangle::from_aabb(rect(l.bounding_rect())), n)
                })
                .collect(),
        );
        for (n, (road, line)) in segments.iter().enumerate() {
            for other in index.locate_in_envelope_intersecting(&rect(line.bounding_rect())) {
                let (other_road, other_line) = segments[other.data];
                if other.data == n || other_road == *road {
                    continue;
                }
                if let Some(x) =
                    geo::algorithm::line_intersection::line_intersection(*line, other_line)
                {
                    let geo::LineIntersection::SinglePoint { intersection, .. } = x else {
                        panic!("roads {road} and {other_road} overlap");
                    };
                    assert!(
                        degree.contains_key(&key(intersection)),
                        "roads {road} and {other_road} cross at {intersection:?}"
                    );
                }
            }
        }
        // Boundary roads run along community boundary edges exactly.
        let mut edges: HashSet<((u64, u64), (u64, u64))> = HashSet::new();
        for c in &t.communities {
            for l in c.geometry.0[0].exterior().lines() {
                edges.insert((key(l.start), key(l.end)));
                edges.insert((key(l.end), key(l.start)));
            }
        }
        let mut by_class: HashMap<&str, (usize, f64)> = HashMap::new();
        for r in &t.roads {
            let length = p
                .project(&r.geometry)
                .unwrap()
                .lines()
                .map(|l| Euclidean.distance(l.start, l.end))
                .sum::<f64>();
            let entry = by_class.entry(r.class.as_str()).or_default();
            entry.0 += 1;
            entry.1 += length;
            if r.class != "residential" {
                assert!(
                    r.geometry
                        .lines()
                        .all(|l| edges.contains(&(key(l.start), key(l.end)))),
                    "{r:?}"
                );
            }
        }
        // Primary roads: the territory's edge (2 × (12 + 3) km) and the 3 km
        // border between the districts; secondary: 3 + 3 km between urban
        // subdistricts, 9 + 3 km between rural ones (a little longer, jittered).
        let (primary_km, secondary_km) = (
            by_class["primary"].1 / 1000.0,
            by_class["secondary"].1 / 1000.0,
        );
        assert!((33.0..33.2).contains(&primary_km), "{primary_km}");
        assert!((18.0..18.3).contains(&secondary_km), "{secondary_km}");
        assert!(
            by_class["tertiary"].0 > 50 && by_class["residential"].0 > 100,
            "{by_class:?}"
        );
        assert!(t
            .roads
            .iter()
            .any(|r| r.oneway == crate::model::Oneway::Forward));
        let speed = |class: &str| t.roads.iter().find(|r| r.class == class).unwrap().speed_kmh;
        assert_eq!(
            ["primary", "secondary", "tertiary", "residential"].map(speed),
            [Some(60.0), Some(50.0), Some(40.0), Some(30.0)]
        );
    }

    #[test]
    fn households_match_the_estimate() {
        for cfg in [SynthConfig::test(), SynthConfig::town()] {
            let t = synthesize(&cfg).unwrap();
            let households: u64 = t.buildings.iter().map(|b| u64::from(b.households)).sum();
            let estimate = cfg.estimated_households();
            assert!(
                (0.75..1.33).contains(&(households as f64 / estimate as f64)),
                "{households} vs {estimate}"
            );
        }
        let households = |cfg: &SynthConfig| {
            let t = synthesize(cfg).unwrap();
            t.buildings
                .iter()
                .map(|b| u64::from(b.households))
                .sum::<u64>()
        };
        assert!((7_000..14_000).contains(&households(&SynthConfig::test())));
    }

    #[test]
    fn every_facility_kind_in_a_town() {
        let (cfg, t) = town();
        let count = |k: FacilityKind| t.facilities.iter().filter(|f| f.kind == k).count();
        for kind in FacilityKind::ALL {
            assert!(count(kind) > 0, "no {kind}");
        }
        // One fire station per district (9 km² of city, 27 km² of villages),
        // one police station per subdistrict, ~10 hydrants per urban community.
        assert_eq!(count(FacilityKind::FireStation), 2);
        assert_eq!(count(FacilityKind::Police), 8);
        assert!(
            (300..420).contains(&count(FacilityKind::FireHydrant)),
            "{}",
            count(FacilityKind::FireHydrant)
        );
        let p = projection(&cfg);
        let communities: Vec<_> = t.communities.iter().map(|c| metric(&p, c)).collect();
        let roads: Vec<_> = t
            .roads
            .iter()
            .map(|r| p.project(&r.geometry).unwrap())
            .collect();
        for f in &t.facilities {
            let at: Point<f64> = p.project(&f.location).unwrap();
            assert_eq!(
                communities.iter().filter(|c| c.contains(&at)).count(),
                1,
                "{f:?}"
            );
            assert!(
                roads.iter().all(|r| Euclidean.distance(r, &at) > 1.0),
                "{f:?}"
            );
        }
    }

    #[test]
    fn hazards_of_all_four_levels_and_three_methods() {
        let (_, t) = town();
        let levels: HashSet<RiskLevel> =
            t.hazards.iter().map(crate::model::Hazard::level).collect();
        assert_eq!(levels.len(), 4, "{levels:?}");
        let methods: HashSet<&str> = t
            .hazards
            .iter()
            .map(|h| match h.assessment {
                Assessment::Given { .. } => "given",
                Assessment::Lec { .. } => "lec",
                Assessment::Matrix { .. } => "matrix",
            })
            .collect();
        assert_eq!(methods.len(), 3);
        // An industrial park in each district at least.
        let parks = t
            .hazards
            .iter()
            .filter(|h| h.kind == "industrial_park")
            .count();
        assert!(parks >= 2, "{parks}");
        assert!(t
            .hazards
            .iter()
            .any(|h| matches!(h.geometry, HazardGeometry::Point(_))));
    }

    #[test]
    fn incidents_in_the_year_at_the_configured_rate() {
        let (_, t) = town();
        let households: u64 = t.buildings.iter().map(|b| u64::from(b.households)).sum();
        assert_eq!(
            t.incidents.len() as f64,
            (households as f64 * 20.0 / 1000.0).round()
        );
        // 2024-01-01T00:00:00Z and 2025-01-01T00:00:00Z.
        assert!(t
            .incidents
            .iter()
            .all(|i| (1_704_067_200..1_735_689_600).contains(&i.time_unix_s)));
        let kinds: HashSet<&str> = t.incidents.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(
            kinds,
            HashSet::from(["fire", "flood", "traffic", "public_order"])
        );
        // Floods from June to September only.
        let june = 1_704_067_200 + 151 * 86_400;
        assert!(t
            .incidents
            .iter()
            .filter(|i| i.kind == "flood")
            .all(|i| (june..june + 122 * 86_400).contains(&i.time_unix_s)));
        assert_eq!(incidents::year_start_unix_s(2024), 1_704_067_200);
        assert_eq!(incidents::year_start_unix_s(1970), 0);
    }

    #[test]
    fn presets_and_household_targets() {
        let cells = |cfg: &SynthConfig| {
            let l = hierarchy::Layout::new(cfg);
            let communities: usize = l
                .districts
                .iter()
                .map(|d| (d.cols.len() - 1) * (d.rows.len() - 1))
                .sum();
            (
                communities,
                l.nx as f64 * l.ny as f64 * (cfg.urban_community_m / 1000.0).powi(2),
            )
        };
        assert_eq!(cells(&SynthConfig::test()), (8, 2.0));
        assert_eq!(cells(&SynthConfig::city()), (400, 100.0));
        let (villages, km2) = cells(&SynthConfig::county());
        assert_eq!(villages, 432);
        assert!((km2 - 1399.68).abs() < 1e-6, "{km2}");
        for target in [5_000, 60_000, 450_000, 2_000_000, 10_000_000] {
            let cfg = SynthConfig::with_households(target);
            let estimate = cfg.estimated_households() as f64;
            assert!(
                (estimate / target as f64 - 1.0).abs() < 0.15,
                "{target}: {estimate} {cfg:?}"
            );
        }
        let cfg = SynthConfig::with_households(20_000);
        let t = synthesize(&cfg).unwrap();
        let households: u64 = t.buildings.iter().map(|b| u64::from(b.households)).sum();
        assert!((15_000..26_000).contains(&households), "{households}");
    }

    #[test]
    fn river_crosses_the_territory_clear_of_houses() {
        let cfg = SynthConfig::town().river(true);
        let t = synthesize(&cfg).unwrap();
        assert_eq!(t, synthesize(&cfg).unwrap(), "deterministic");
        let dry = synthesize(&SynthConfig::town()).unwrap();
        assert!(dry.barriers.is_empty(), "off by default");
        assert_eq!(
            (t.roads.len(), t.communities.len()),
            (dry.roads.len(), dry.communities.len())
        );
        let [river] = t.barriers.as_slice() else {
            panic!("{:?}", t.barriers)
        };
        let p = projection(&cfg);
        let line = p.project(&river.geometry).unwrap();
        let area = p
            .project(&MultiPolygon(
                t.districts
                    .iter()
                    .flat_map(|d| d.geometry.0.clone())
                    .collect(),
            ))
            .unwrap();
        let b = area.bounding_rect().unwrap();
        let ends = (line.0[0], line.0[line.0.len() - 1]);
        assert!(
            ends.0.x < b.min().x && ends.1.x > b.max().x,
            "crosses west to east"
        );
        assert!(
            line.0.iter().all(|c| c.y > b.min().y && c.y < b.max().y),
            "stays inside"
        );
        assert!(
            t.buildings.len() < dry.buildings.len(),
            "houses in the river bed are left out"
        );
        for bld in &t.buildings {
            let d = Euclidean.distance(&p.project(&bld.geometry).unwrap(), &line);
            assert!(
                d >= river::CLEARANCE_M,
                "{} is {d} m from the river",
                bld.name
            );
        }
    }

    #[test]
    fn bad_settings_are_errors_that_say_why() {
        let err = |cfg: SynthConfig| synthesize(&cfg).unwrap_err();
        assert!(matches!(
            err(SynthConfig::test().districts(0, 1)),
            SynthError::InvalidConfig {
                field: "districts_x",
                ..
            }
        ));
        assert!(matches!(
            err(SynthConfig {
                jitter: 0.5,
                ..SynthConfig::test()
            }),
            SynthError::InvalidConfig {
                field: "jitter",
                ..
            }
        ));
        let community: AdminCode = "339001001001".parse().unwrap();
        assert_eq!(
            err(SynthConfig::test().first_district(community)),
            SynthError::NotADistrict(community)
        );
        let last: AdminCode = "999999".parse().unwrap();
        assert_eq!(
            err(SynthConfig::test().first_district(last).districts(2, 1)),
            SynthError::TooManyDistricts {
                first: last,
                count: 2
            }
        );
        let e = err(SynthConfig::test().subdistricts(50, 20).communities(1, 1));
        assert!(
            matches!(e, SynthError::TooManySubdistricts { count: 1000, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("339001"), "{e}");
        let e = err(SynthConfig::test().subdistricts(1, 1).communities(40, 25));
        assert!(
            matches!(e, SynthError::TooManyCommunities { count: 1000, .. }),
            "{e}"
        );
        assert!(matches!(
            err(SynthConfig::test().districts(4096, 4096)),
            SynthError::TooLarge { .. }
        ));
    }
}

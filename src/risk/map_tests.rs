use approx::assert_relative_eq;
use geo_types::{Point, Rect};

use super::*;
use crate::cells::CodeProfile;
use crate::risk::Assessment;

/// Side of the test cells, degrees (about 96 m × 111 m at 30° N).
const STEP: f64 = 0.001;
const LON0: f64 = 120.0;
const LAT0: f64 = 30.0;

/// A 6 × 6 block of square cells; communities 001 (west half) and 002
/// (east half) of subdistrict 330102001, and 330103001001 for the last row.
fn grid() -> Vec<Cell> {
    let mut out = Vec::new();
    for row in 0..6u16 {
        for col in 0..6u16 {
            let community: AdminCode = match (row, col) {
                (5, _) => "330103001001",
                (_, 0..=2) => "330102001001",
                _ => "330102001002",
            }
            .parse()
            .unwrap();
            let (x, y) = (LON0 + f64::from(col) * STEP, LAT0 - f64::from(row) * STEP);
            let geometry = MultiPolygon(vec![Rect::new((x, y - STEP), (x + STEP, y)).to_polygon()]);
            let h3 = h3o::LatLng::new(y - STEP / 2.0, x + STEP / 2.0)
                .unwrap()
                .to_cell(h3o::Resolution::Nine);
            out.push(Cell {
                code: CellCode::new(community, row * 6 + col + 1, CodeProfile::Fifteen).unwrap(),
                community,
                geometry,
                area_m2: 10_000.0,
                h3,
                start: "2026-01-01".parse().unwrap(),
                end: None,
            });
        }
    }
    out
}

/// The centre of cell (row, col).
fn centre(row: u16, col: u16) -> Point<f64> {
    Point::new(
        LON0 + (f64::from(col) + 0.5) * STEP,
        LAT0 - (f64::from(row) + 0.5) * STEP,
    )
}

fn hazard(id: i64, kind: &str, level: RiskLevel, geometry: HazardGeometry) -> Hazard {
    Hazard {
        id,
        kind: kind.into(),
        name: format!("h{id}"),
        assessment: Assessment::Given { level },
        geometry,
    }
}

fn quiet(n: usize) -> Vec<CellExposure> {
    vec![
        CellExposure {
            households: 0,
            response: Response::Unknown,
        };
        n
    ]
}

fn point_zone(radius_m: f64, decay: f64) -> RiskConfig {
    let mut c = RiskConfig::default();
    c.zones.insert("test".into(), Zone { radius_m, decay });
    c
}

#[test]
fn influence_falls_linearly_to_the_radius() {
    let z = Zone {
        radius_m: 200.0,
        decay: 1.0,
    };
    assert_relative_eq!(influence_m(z, 0.0).unwrap(), 1.0);
    assert_relative_eq!(influence_m(z, 50.0).unwrap(), 0.75);
    assert_relative_eq!(influence_m(z, 199.0).unwrap(), 0.005, epsilon = 1e-12);
    assert!(influence_m(z, 200.0).is_none());
    let flat = Zone {
        radius_m: 200.0,
        decay: 0.0,
    };
    assert_relative_eq!(influence_m(flat, 150.0).unwrap(), 1.0);
    let steep = Zone {
        radius_m: 200.0,
        decay: 2.0,
    };
    assert_relative_eq!(influence_m(steep, 100.0).unwrap(), 0.25);
}

#[test]
fn a_point_hazard_reaches_the_cells_within_its_radius() {
    let cells = grid();
    // 150 m reach from the centre of cell (2, 2): its own cell (d = 0), the
    // four edge neighbours (d ≈ 48 m and 56 m), the diagonals (≈ 74 m), the
    // next ring's edge cells (≈ 144 m east–west, 167 m north–south: out).
    let h = hazard(
        7,
        "test",
        RiskLevel::Orange,
        HazardGeometry::Point(centre(2, 2)),
    );
    let config = point_zone(150.0, 1.0);
    let map = assess(&config, &cells, &quiet(36), std::slice::from_ref(&h), &[]);
    let reached: Vec<usize> = map.reach(&config, &h, &cells);
    let rc = |i: usize| (i / 6, i % 6);
    let got: Vec<(usize, usize)> = reached.iter().map(|&i| rc(i)).collect();
    assert_eq!(
        got,
        vec![
            (1, 1),
            (1, 2),
            (1, 3),
            (2, 0),
            (2, 1),
            (2, 2),
            (2, 3),
            (2, 4),
            (3, 1),
            (3, 2),
            (3, 3)
        ]
    );
    // Own cell: inside, full weight 4, orange (and its floor).
    let own = &map.cells[2 * 6 + 2];
    assert_eq!(own.floor, Some(RiskLevel::Orange));
    assert_eq!(own.level, RiskLevel::Orange);
    assert_relative_eq!(own.score, 4.0);
    // West neighbour: d = half a cell width ≈ 48.2 m.
    let west = &map.cells[2 * 6 + 1];
    let d = 0.5 * STEP * M_PER_DEG * LAT0.to_radians().cos();
    assert_relative_eq!(west.hazards[0].distance_m, d, max_relative = 1e-3);
    assert_relative_eq!(west.score, 4.0 * (1.0 - d / 150.0), max_relative = 1e-3);
    assert_eq!(west.floor, None);
    assert_eq!(west.level, RiskLevel::Yellow);
    // Out of reach: blue, score 0.
    assert_eq!(map.cells[0].level, RiskLevel::Blue);
    assert_relative_eq!(map.cells[0].score, 0.0);
}

#[test]
fn an_area_hazard_covers_the_cells_it_meets() {
    let cells = grid();
    // A red area over cells (0..2, 3..5) interior parts; flat zone of 0 m.
    let area = Rect::new(
        (LON0 + 3.2 * STEP, LAT0 - 1.8 * STEP),
        (LON0 + 4.8 * STEP, LAT0 - 0.2 * STEP),
    );
    let h = hazard(
        1,
        "test",
        RiskLevel::Red,
        HazardGeometry::Area(MultiPolygon(vec![area.to_polygon()])),
    );
    let config = point_zone(0.0, 1.0);
    let map = assess(&config, &cells, &quiet(36), std::slice::from_ref(&h), &[]);
    let red: Vec<usize> = map
        .cells
        .iter()
        .enumerate()
        .filter(|(_, c)| c.level == RiskLevel::Red)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(red, vec![3, 4, 9, 10]);
    assert_eq!(map.reach(&config, &h, &cells), red);
}

#[test]
fn exposure_and_response_raise_the_score() {
    let cells = grid();
    let h = hazard(
        1,
        "test",
        RiskLevel::Yellow,
        HazardGeometry::Point(centre(0, 0)),
    );
    let school = Facility {
        id: 42,
        kind: FacilityKind::School,
        name: "school".into(),
        capacity: None,
        staff: None,
        contact: None,
        location: centre(0, 0),
    };
    let police = Facility {
        id: 43,
        kind: FacilityKind::Police,
        ..school.clone()
    };
    let mut x = quiet(36);
    x[0] = CellExposure {
        households: 150,
        response: Response::Eta { seconds: 450.0 },
    };
    x[1].response = Response::Unreachable;
    let map = assess(&point_zone(10.0, 1.0), &cells, &x, &[h], &[school, police]);
    let c = &map.cells[0];
    assert_eq!(c.vulnerable, vec![42]);
    // E = 1 + 0.5·(150/300) + 0.5·1; R = 1 + 0.5·(150/300); H = 2.
    assert_relative_eq!(c.exposure_factor, 1.75);
    assert_relative_eq!(c.response_factor, 1.25);
    assert_relative_eq!(c.score, 2.0 * 1.75 * 1.25);
    assert_eq!(c.level, RiskLevel::Orange);
    assert_relative_eq!(map.cells[1].response_factor, 1.5);
    assert_relative_eq!(map.cells[1].score, 0.0);
}

#[test]
fn a_cell_is_never_below_the_highest_hazard_inside_it() {
    // Random hazards of every level with tiny zones, weights that alone
    // would never reach red: the floor must hold everywhere.
    let cells = grid();
    let mut config = point_zone(5.0, 3.0);
    config.levels = LevelWeights {
        blue: 0.1,
        yellow: 0.1,
        orange: 0.1,
        red: 0.1,
    };
    let levels = [
        RiskLevel::Blue,
        RiskLevel::Yellow,
        RiskLevel::Orange,
        RiskLevel::Red,
    ];
    let mut hazards = Vec::new();
    let mut seed = 12_345u64;
    for id in 0..80 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let fx = (seed >> 11) as f64 / (1u64 << 53) as f64;
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let fy = (seed >> 11) as f64 / (1u64 << 53) as f64;
        let p = Point::new(LON0 + fx * 6.0 * STEP, LAT0 - fy * 6.0 * STEP);
        let level = levels[(seed % 4) as usize];
        hazards.push(hazard(id, "test", level, HazardGeometry::Point(p)));
    }
    let map = assess(&config, &cells, &quiet(36), &hazards, &[]);
    for (cell, risk) in cells.iter().zip(map.cells.iter()) {
        let inside = hazards
            .iter()
            .filter(|h| match &h.geometry {
                HazardGeometry::Point(p) => geo::Intersects::intersects(&cell.geometry, p),
                HazardGeometry::Area(_) => false,
            })
            .map(Hazard::level)
            .max();
        assert_eq!(risk.floor, inside, "{}", cell.code);
        assert!(Some(risk.level) >= inside, "{}", cell.code);
    }
    assert!(map.cells.iter().any(|c| c.level == RiskLevel::Red));
}

#[test]
fn counts_per_community_subdistrict_and_district() {
    let cells = grid();
    let h = hazard(
        1,
        "test",
        RiskLevel::Red,
        HazardGeometry::Point(centre(5, 0)),
    );
    let map = assess(&point_zone(0.0, 1.0), &cells, &quiet(36), &[h], &[]);
    let code = |s: &str| s.parse::<AdminCode>().unwrap();
    let communities = map.counts(AdminLevel::Community);
    assert_eq!(communities.len(), 3);
    let last = communities[&code("330103001001")];
    assert_eq!(
        (last.red, last.blue, last.level),
        (1, 5, Some(RiskLevel::Red))
    );
    assert_eq!(communities[&code("330102001001")].blue, 15);
    let sub = map.counts(AdminLevel::Subdistrict);
    assert_eq!(sub[&code("330102001")].blue, 30);
    assert_eq!(sub[&code("330102001")].level, Some(RiskLevel::Blue));
    let districts = map.counts(AdminLevel::District);
    assert_eq!(districts.len(), 2);
    assert_eq!(districts[&code("330103")].red, 1);
}

#[test]
fn zones_by_kind_with_a_default() {
    let c = RiskConfig::default();
    assert_relative_eq!(c.zone("gas_station").radius_m, 300.0);
    assert_relative_eq!(c.zone("unknown").radius_m, 200.0);
    assert_eq!(c.thresholds.level(7.9), RiskLevel::Orange);
    assert_eq!(c.thresholds.level(8.0), RiskLevel::Red);
}

#[test]
fn writes_one_at_a_time_equal_a_fresh_assessment() {
    // Random puts, moves, level changes and removals of hazards (points
    // and areas), vulnerable places and responses, each applied to the map
    // alone; after every step the map equals `assess` of the same inputs.
    let cells = grid();
    let mut config = point_zone(180.0, 1.0);
    config.zones.insert(
        "flat".into(),
        Zone {
            radius_m: 60.0,
            decay: 0.0,
        },
    );
    let levels = [
        RiskLevel::Blue,
        RiskLevel::Yellow,
        RiskLevel::Orange,
        RiskLevel::Red,
    ];
    let mut seed = 99_u64;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % n
    };
    let mut hazards: BTreeMap<i64, Hazard> = BTreeMap::new();
    let mut schools: BTreeMap<i64, Facility> = BTreeMap::new();
    let mut exposure = quiet(36);
    for (i, x) in exposure.iter_mut().enumerate() {
        x.households = (i as u64 * 37) % 400;
    }
    let mut map = assess(&config, &cells, &exposure, &[], &[]);
    for step in 0..300 {
        let at = |a: u64, b: u64| {
            Point::new(
                LON0 + a as f64 / 100.0 * 6.0 * STEP,
                LAT0 - b as f64 / 100.0 * 6.0 * STEP,
            )
        };
        match next(3) {
            0 => {
                let id = next(12) as i64;
                if let Some(old) = hazards.remove(&id) {
                    map.remove_hazard(&config, &old, &cells);
                }
                if next(4) > 0 {
                    let p = at(next(100), next(100));
                    let geometry = if next(3) == 0 {
                        let d = STEP * 0.8;
                        let r = Rect::new((p.x(), p.y()), (p.x() + d, p.y() + d));
                        HazardGeometry::Area(MultiPolygon(vec![r.to_polygon()]))
                    } else {
                        HazardGeometry::Point(p)
                    };
                    let kind = if next(2) == 0 { "test" } else { "flat" };
                    let h = hazard(id, kind, levels[next(4) as usize], geometry);
                    map.put_hazard(&config, &h, &cells);
                    hazards.insert(id, h);
                }
            }
            1 => {
                let id = 100 + next(6) as i64;
                if let Some(old) = schools.remove(&id) {
                    map.count_vulnerable(&config, &old, &cells, false);
                }
                if next(3) > 0 {
                    let f = Facility {
                        id,
                        kind: FacilityKind::School,
                        name: "school".into(),
                        capacity: None,
                        staff: None,
                        contact: None,
                        location: at(next(100), next(100)),
                    };
                    map.count_vulnerable(&config, &f, &cells, true);
                    schools.insert(id, f);
                }
            }
            _ => {
                let i = next(36) as usize;
                let response = match next(3) {
                    0 => Response::Unknown,
                    1 => Response::Unreachable,
                    _ => Response::Eta {
                        seconds: next(900) as f64,
                    },
                };
                exposure[i].response = response;
                map.set_response(&config, i, response, &cells);
            }
        }
        let hs: Vec<Hazard> = hazards.values().cloned().collect();
        let fs: Vec<Facility> = schools.values().cloned().collect();
        let fresh = assess(&config, &cells, &exposure, &hs, &fs);
        assert!(
            map == fresh,
            "step {step}: the map differs from a fresh one"
        );
    }
    assert!(map.cells.iter().any(|c| c.level >= RiskLevel::Orange));
    assert!(map.cells.iter().any(|c| !c.vulnerable.is_empty()));
}

#[test]
fn level_counts_merge_part_by_part() {
    let mut a = LevelCounts::default();
    for l in [RiskLevel::Blue, RiskLevel::Blue, RiskLevel::Yellow] {
        a.add(l);
    }
    let mut b = LevelCounts::default();
    b.add(RiskLevel::Red);
    let mut whole = LevelCounts::default();
    whole.merge(&a);
    whole.merge(&b);
    assert_eq!(
        (whole.blue, whole.yellow, whole.red, whole.orange),
        (2, 1, 1, 0)
    );
    assert_eq!(whole.level, Some(RiskLevel::Red));
    assert_eq!(whole.cells(), 4);
    assert_eq!(LevelCounts::default().cells(), 0);
}

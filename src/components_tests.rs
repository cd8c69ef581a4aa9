use chrono::NaiveDate;
use geo_types::{line_string, point, polygon, MultiPolygon};

use super::*;
use crate::cells::Cell;
use crate::{AdminArea, Territory};

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)].into()
}

/// One district and one community over 0..2 × 0..1, and `cells` in it.
fn locator_of(cells: &[(&str, MultiPolygon<f64>)]) -> Locator {
    let area = |code: &str, g: MultiPolygon<f64>| AdminArea {
        code: code.parse().unwrap(),
        name: code.into(),
        kind: None,
        geometry: g,
    };
    let t = Territory {
        districts: vec![area("330106", square(0.0, 0.0, 2.0, 1.0))],
        communities: vec![area("330106001001", square(0.0, 0.0, 2.0, 1.0))],
        ..Territory::default()
    };
    let cells: Vec<Cell> = cells
        .iter()
        .map(|(code, g)| Cell {
            code: code.parse().unwrap(),
            community: "330106001001".parse().unwrap(),
            area_m2: 10_000.0,
            h3: h3o::LatLng::new(0.5, 0.5)
                .unwrap()
                .to_cell(h3o::Resolution::Nine),
            start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            end: None,
            geometry: g.clone(),
        })
        .collect();
    Locator::new(&t).with_cells(&cells)
}

/// Two cells side by side: west (0..1) and east (1..2).
fn locator() -> Locator {
    locator_of(&[
        ("330106001001001", square(0.0, 0.0, 1.0, 1.0)),
        ("330106001001002", square(1.0, 0.0, 2.0, 1.0)),
    ])
}

fn component(code: &str, geometry: Geometry<f64>) -> Component {
    Component {
        id: 0,
        code: code.parse().unwrap(),
        name: String::new(),
        owner: "区水务局".into(),
        maintainer: "区水务局".into(),
        state: ComponentState::Good,
        geometry,
        cell: None,
    }
}

#[test]
fn codes_round_trip_and_name_their_parts() {
    let c: ComponentCode = "3301060117000042".parse().unwrap();
    assert_eq!(c.to_string(), "3301060117000042");
    assert_eq!(c.district().to_string(), "330106");
    assert_eq!(c.class(), "0117");
    assert_eq!(c.serial(), 42);
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(json, "\"3301060117000042\"");
    assert_eq!(serde_json::from_str::<ComponentCode>(&json).unwrap(), c);
}

#[test]
fn bad_codes_say_which_part_is_wrong() {
    let reason = |s: &str| s.parse::<ComponentCode>().unwrap_err().reason;
    assert!(reason("330106011700004").contains("16 digits"));
    assert!(reason("33010601170000421").contains("16 digits"));
    assert!(reason("33010601170000a2").contains("16 digits"));
    assert!(reason("0001060117000042").contains("district"));
    assert!(reason("3301060017000042").contains("major"));
    assert!(reason("3301060100000042").contains("minor"));
    assert!(reason("3301060117000000").contains("serial"));
    let community: AdminCode = "330106001001".parse().unwrap();
    assert!(ComponentCode::new(community, "0101", 1)
        .unwrap_err()
        .reason
        .contains("district"));
}

#[test]
fn states_parse_in_english_and_chinese() {
    for s in ComponentState::ALL {
        assert_eq!(s.as_str().parse::<ComponentState>().unwrap(), s);
        assert_eq!(s.chinese().parse::<ComponentState>().unwrap(), s);
    }
    assert_eq!(
        "DAMAGED".parse::<ComponentState>().unwrap(),
        ComponentState::Damaged
    );
    assert!("broken"
        .parse::<ComponentState>()
        .unwrap_err()
        .to_string()
        .contains("broken"));
}

#[test]
fn anchors_are_the_point_the_middle_of_a_line_and_a_point_inside() {
    assert_eq!(
        anchor(&point!(x: 1.5, y: 0.5).into()),
        Some(point!(x: 1.5, y: 0.5))
    );
    // An L: 3 long then 1 up; the middle (2 of 4) is on the first leg.
    let l = line_string![(x: 0.0, y: 0.0), (x: 3.0, y: 0.0), (x: 3.0, y: 1.0)];
    assert_eq!(anchor(&l.into()), Some(point!(x: 2.0, y: 0.0)));
    // A U-shaped area: its centroid (in the notch) is outside; the anchor is inside.
    let u: MultiPolygon<f64> = polygon![
        (x: 0.0, y: 0.0), (x: 3.0, y: 0.0), (x: 3.0, y: 3.0), (x: 2.0, y: 3.0),
        (x: 2.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 3.0), (x: 0.0, y: 3.0)
    ]
    .into();
    let a = anchor(&u.clone().into()).unwrap();
    assert!(geo::Contains::contains(&u, &a));
    assert_eq!(
        anchor(&Geometry::MultiPolygon(MultiPolygon::new(vec![]))),
        None
    );
}

#[test]
fn tie_finds_the_cell_of_each_anchor_and_reports_moves() {
    let loc = locator();
    let mut cs = vec![
        component("3301060101000001", point!(x: 0.5, y: 0.5).into()),
        // A line from the west cell into the east one: its middle is east.
        component(
            "3301060117000001",
            line_string![(x: 0.8, y: 0.5), (x: 1.6, y: 0.5)].into(),
        ),
        component("3301060405000001", square(1.2, 0.2, 1.8, 0.8).into()),
        component("3301060101000002", point!(x: 5.0, y: 5.0).into()),
    ];
    assert_eq!(tie(&mut cs, &loc), vec![0, 1, 2]);
    let cells: Vec<_> = cs.iter().map(|c| c.cell.map(|c| c.to_string())).collect();
    assert_eq!(
        cells,
        [
            Some("330106001001001".to_owned()),
            Some("330106001001002".to_owned()),
            Some("330106001001002".to_owned()),
            None
        ]
    );
    // Tying again changes nothing; a move west changes one.
    assert!(tie(&mut cs, &loc).is_empty());
    cs[2].geometry = square(0.2, 0.2, 0.8, 0.8).into();
    assert_eq!(tie(&mut cs, &loc), vec![2]);
    assert_eq!(cs[2].cell.unwrap().to_string(), "330106001001001");
}

#[test]
fn serials_follow_the_largest_in_use_per_district_and_class() {
    let taken: Vec<ComponentCode> = ["3301060101000007", "3301060101000003", "3301080101000001"]
        .iter()
        .map(|c| c.parse().unwrap())
        .collect();
    let mut s = Serials::new(&taken);
    let d: AdminCode = "330106".parse().unwrap();
    assert_eq!(s.next(d, "0101").unwrap().to_string(), "3301060101000008");
    assert_eq!(s.next(d, "0101").unwrap().to_string(), "3301060101000009");
    assert_eq!(s.next(d, "0117").unwrap().to_string(), "3301060117000001");
    s.take("3301060117999999".parse().unwrap());
    let e = s.next(d, "0117").unwrap_err();
    assert!(e.to_string().contains("0117"), "{e}");
}

#[test]
fn the_next_code_follows_the_largest_serial_of_its_district_and_class() {
    let mut cs = Vec::new();
    for (id, code) in [
        (1, "3301060101000007"),
        (2, "3301060101000003"),
        (3, "3301060102000950"),
        (4, "3301080101000020"),
    ] {
        let mut c = component(code, point!(x: 0.5, y: 0.5).into());
        c.id = id;
        cs.push(c);
    }
    let (index, _) = ComponentIndex::new(cs, &locator());
    let d: AdminCode = "330106".parse().unwrap();
    assert_eq!(
        index.next_code(d, "0101").unwrap().to_string(),
        "3301060101000008"
    );
    assert_eq!(
        index.next_code(d, "0102").unwrap().to_string(),
        "3301060102000951"
    );
    assert_eq!(
        index.next_code(d, "0117").unwrap().to_string(),
        "3301060117000001"
    );
    assert!(index.next_code(d, "01x7").is_err());
}

#[test]
fn a_code_put_twice_keeps_one_entry_per_store_id() {
    let mut index = ComponentIndex::default();
    let mut a = component("3301060101000001", point!(x: 0.5, y: 0.5).into());
    a.id = 1;
    let mut b = a.clone();
    b.id = 2;
    index.put(a);
    index.put(b);
    assert_eq!(index.len(), 1);
    assert!(index.by_id(1).is_none(), "the evicted id is gone too");
    // Removing the evicted id does not remove the component that holds the code now.
    assert!(index.remove(1).is_none());
    assert_eq!(index.by_id(2).unwrap().id, 2);
}

#[test]
fn counts_per_key_and_class() {
    let mut cs = vec![
        component("3301060101000001", point!(x: 0.5, y: 0.5).into()),
        component("3301060101000002", point!(x: 0.6, y: 0.5).into()),
        component("3301060117000001", point!(x: 1.5, y: 0.5).into()),
        component("3301060117000002", point!(x: 9.0, y: 9.0).into()),
    ];
    tie(&mut cs, &locator());
    let by_cell = count_by(&cs, |c| c.cell);
    assert_eq!(by_cell.len(), 2);
    let west = &by_cell[&"330106001001001".parse().unwrap()];
    let class = crate::assign::ClassCode::parse("0101").unwrap();
    assert_eq!((west.total, west.classes[&class]), (2, 2));
    let by_class = count_by(&cs, |c| Some(c.code.class()));
    assert_eq!(by_class["0117"].total, 2);
    assert_eq!(by_class.values().map(|c| c.total).sum::<usize>(), 4);
}

#[test]
fn the_index_ties_on_build_and_replaces_by_store_id() {
    let mut a = component("3301060101000001", point!(x: 0.5, y: 0.5).into());
    a.id = 7;
    let mut b = component("3301060117000001", point!(x: 1.5, y: 0.5).into());
    b.id = 8;
    b.cell = Some("330106001001001".parse().unwrap()); // stale: it lies east
    let (mut index, moved) = ComponentIndex::new(vec![b, a], &locator());
    assert_eq!(moved, 2);
    let codes: Vec<_> = index.iter().map(|c| c.code.to_string()).collect();
    assert_eq!(codes, ["3301060101000001", "3301060117000001"]);
    assert_eq!(
        index.by_id(8).unwrap().cell.unwrap().to_string(),
        "330106001001002"
    );
    // A change of code keeps one entry per store id.
    let mut renamed = index.by_id(7).unwrap().clone();
    renamed.code = "3301060101000009".parse().unwrap();
    assert!(index.put(renamed).is_some());
    assert_eq!(index.len(), 2);
    assert!(index.get("3301060101000001".parse().unwrap()).is_none());
    assert_eq!(index.remove(8).unwrap().id, 8);
    assert_eq!(index.len(), 1);
    assert!(index.remove(8).is_none());
}

#[test]
fn a_hairline_crack_between_cells_still_ties() {
    // West ends 1e-9 short of 1.0, east starts 2e-9 past it.
    let loc = locator_of(&[
        ("330106001001001", square(0.0, 0.0, 1.0 - 1e-9, 1.0)),
        ("330106001001002", square(1.0 + 2e-9, 0.0, 2.0, 1.0)),
    ]);
    let mut cs = vec![component("3301060101000001", point!(x: 1.0, y: 0.5).into())];
    tie(&mut cs, &loc);
    assert_eq!(
        cs[0].cell.unwrap().to_string(),
        "330106001001001",
        "the nearer cell"
    );
    // Beyond the tolerance, no cell.
    let mut far = vec![component(
        "3301060101000002",
        point!(x: 2.0 + 1e-3, y: 0.5).into(),
    )];
    tie(&mut far, &loc);
    assert_eq!(far[0].cell, None);
}

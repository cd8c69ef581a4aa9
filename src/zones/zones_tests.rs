use geo_types::{Coord, LineString, Polygon};

use super::*;

/// A projection near Hangzhou; zones are drawn in its metres.
fn proj() -> LocalProjection {
    LocalProjection::new(120.0).unwrap()
}

/// The rectangle `[x0, x1] × [y0, y1]` (metres east and north of
/// 120.0° E, 30.0° N in [`proj`]) in lon/lat.
fn rect_m(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    let p = proj();
    let origin = p.forward(Coord { x: 120.0, y: 30.0 }).unwrap();
    let c = |x: f64, y: f64| {
        p.inverse(Coord {
            x: origin.x + x,
            y: origin.y + y,
        })
        .unwrap()
    };
    let ring = LineString::new(vec![c(x0, y0), c(x1, y0), c(x1, y1), c(x0, y1), c(x0, y0)]);
    MultiPolygon::new(vec![Polygon::new(ring, vec![])])
}

fn zone(code: &str, g: MultiPolygon<f64>) -> Zone {
    Zone {
        code: code.into(),
        name: format!("警务区 {code}"),
        geometry: g,
    }
}

/// A 1000 m × 1000 m territory in four beats: A south-west, B south-east
/// reaching 50 m into A (overlap 50 × 500 = 25,000 m²), C north-west, D
/// north-east stopping 100 m short of the top (gap 500 × 100 = 50,000 m²).
fn beats(complete: bool) -> ZoneLayer {
    ZoneLayer::new(
        "police_beats",
        complete,
        vec![
            zone("A", rect_m(0.0, 0.0, 500.0, 500.0)),
            zone("B", rect_m(450.0, 0.0, 1000.0, 500.0)),
            zone("C", rect_m(0.0, 500.0, 500.0, 1000.0)),
            zone("D", rect_m(500.0, 500.0, 1000.0, 900.0)),
        ],
    )
}

#[test]
fn gaps_and_overlaps_match_the_drawing() {
    let territory = rect_m(0.0, 0.0, 1000.0, 1000.0);
    let r = beats(true).validate(&territory, &proj()).unwrap();
    assert!(!r.is_valid());
    assert_eq!(r.overlaps.len(), 1, "{r:?}");
    assert_eq!(
        (r.overlaps[0].a.as_str(), r.overlaps[0].b.as_str()),
        ("A", "B")
    );
    approx::assert_relative_eq!(r.overlaps[0].area_m2, 25_000.0, max_relative = 1e-3);
    assert_eq!(r.gaps.len(), 1, "{r:?}");
    approx::assert_relative_eq!(r.gaps[0].area_m2, 50_000.0, max_relative = 1e-3);
    // The gap's point lies in the strip 900..1000 m north, 500..1000 m east.
    let strip = rect_m(500.0, 900.0, 1000.0, 1000.0);
    let [x, y] = r.gaps[0].point;
    assert!(geo::Intersects::intersects(&strip, &Point::new(x, y)));
    // An incomplete layer (school-safety zones) is not held to tiling.
    let loose = beats(false).validate(&territory, &proj()).unwrap();
    assert!(loose.is_valid() && loose.gaps.is_empty() && loose.overlaps.is_empty());
}

#[test]
fn a_true_partition_is_valid_and_duplicate_codes_are_not() {
    let territory = rect_m(0.0, 0.0, 1000.0, 1000.0);
    let tiles = ZoneLayer::new(
        "fire_districts",
        true,
        vec![
            zone("1", rect_m(0.0, 0.0, 300.0, 1000.0)),
            zone("2", rect_m(300.0, 0.0, 1000.0, 400.0)),
            zone("3", rect_m(300.0, 400.0, 1000.0, 1000.0)),
        ],
    );
    let r = tiles.validate(&territory, &proj()).unwrap();
    assert!(r.is_valid(), "{r:?}");
    let dup = ZoneLayer::new(
        "schools",
        false,
        vec![
            zone("S1", rect_m(0.0, 0.0, 10.0, 10.0)),
            zone("S1", rect_m(20.0, 0.0, 30.0, 10.0)),
        ],
    );
    let r = dup.validate(&territory, &proj()).unwrap();
    assert_eq!(r.duplicate_codes, vec!["S1".to_owned()]);
}

#[test]
fn locate_returns_every_zone_holding_the_point() {
    use geo::Intersects;
    let schools = ZoneLayer::new(
        "school_safety",
        false,
        vec![zone("X", rect_m(400.0, 400.0, 600.0, 600.0))],
    );
    let zones = Zones::new(vec![schools, beats(true)]);
    assert_eq!(zones.layers()[0].name, "police_beats");
    // A 20 × 20 lattice of points, checked against every zone by brute force.
    for i in 0..20 {
        for j in 0..20 {
            let probe = rect_m(
                f64::from(i) * 50.0 + 13.0,
                f64::from(j) * 50.0 + 17.0,
                f64::from(i) * 50.0 + 13.0,
                f64::from(j) * 50.0 + 17.0,
            );
            let c = probe.0[0].exterior().0[0];
            let p = Point::from(c);
            let mut want: Vec<(String, String)> = zones
                .layers()
                .iter()
                .flat_map(|l| {
                    l.zones()
                        .iter()
                        .filter(|z| z.geometry.intersects(&p))
                        .map(|z| (l.name.clone(), z.code.clone()))
                })
                .collect();
            want.sort();
            let got: Vec<(String, String)> = zones
                .locate(p)
                .into_iter()
                .map(|z| (z.layer, z.code))
                .collect();
            assert_eq!(got, want, "({i}, {j})");
        }
    }
    // In the overlap of A and B and in school zone X.
    let p = Point::from(rect_m(470.0, 450.0, 470.0, 450.0).0[0].exterior().0[0]);
    let got: Vec<String> = zones.locate(p).into_iter().map(|z| z.code).collect();
    assert_eq!(got, vec!["A", "B", "X"]);
}

#[test]
fn stored_features_group_into_layers() {
    let feature = |layer: &str, code: &str, complete: bool, g: MultiPolygon<f64>| ZoneFeature {
        id: 0,
        layer: layer.into(),
        code: code.into(),
        name: code.into(),
        complete,
        geometry: g,
    };
    let zones = Zones::from_features(&[
        feature("school_safety", "S1", false, rect_m(0.0, 0.0, 300.0, 300.0)),
        feature(
            "police_beats",
            "B",
            true,
            rect_m(500.0, 0.0, 1000.0, 1000.0),
        ),
        feature("police_beats", "A", true, rect_m(0.0, 0.0, 500.0, 1000.0)),
    ]);
    let layers: Vec<_> = zones
        .layers()
        .iter()
        .map(|l| (l.name.as_str(), l.complete, l.zones().len()))
        .collect();
    assert_eq!(
        layers,
        [("police_beats", true, 2), ("school_safety", false, 1)]
    );
    let at = rect_m(100.0, 100.0, 101.0, 101.0).0[0].exterior().0[0];
    let found: Vec<_> = zones
        .locate(at.into())
        .into_iter()
        .map(|z| format!("{}:{}", z.layer, z.code))
        .collect();
    assert_eq!(found, ["police_beats:A", "school_safety:S1"]);
}

//! `Locator` against an independent brute-force point-in-polygon on a
//! synthetic city.

use civgrid::synth::{synthesize, SynthConfig};
use civgrid::{AdminLevel, Locator};
use geo::Contains;
use geo_types::Point;
use rand::{Rng, SeedableRng};

#[test]
fn locate_agrees_with_brute_force() {
    let territory = synthesize(&SynthConfig::town()).unwrap();
    let locator = Locator::new(&territory);
    let bbox = territory.extent().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let (mut inside, mut outside) = (0, 0);
    for _ in 0..2000 {
        // 10 % margin around the territory so some points fall outside.
        let p = Point::new(
            bbox.min().x - 0.1 * bbox.width() + rng.random::<f64>() * 1.2 * bbox.width(),
            bbox.min().y - 0.1 * bbox.height() + rng.random::<f64>() * 1.2 * bbox.height(),
        );
        // Strict interior containment: random points never fall on an edge.
        let expected: Vec<_> = territory
            .communities
            .iter()
            .filter(|c| c.geometry.contains(&p))
            .collect();
        assert!(expected.len() <= 1, "communities overlap at {p:?}");
        let got = locator.locate(p);
        match expected.first() {
            Some(c) => {
                inside += 1;
                let community = got.community.expect("a community");
                assert_eq!(community.code, c.code, "at {p:?}");
                assert_eq!(community.name.as_deref(), Some(c.name.as_str()));
                assert_eq!(
                    got.district.expect("a district").code,
                    c.code.ancestor(AdminLevel::District).unwrap()
                );
                assert_eq!(
                    got.subdistrict.expect("a subdistrict").code,
                    c.code.parent().unwrap()
                );
            }
            None => {
                outside += 1;
                assert!(got.community.is_none(), "at {p:?}");
            }
        }
    }
    assert!(
        inside > 1000 && outside > 100,
        "inside {inside}, outside {outside}"
    );
}

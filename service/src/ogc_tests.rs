//! A collection changed by puts and removes reads as one built anew from
//! the same features: counts, lookups, `bbox` pages and order.

use std::collections::BTreeMap;

use geo_types::{coord, LineString, MultiPolygon, Point, Polygon};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use geo::BoundingRect;

use super::*;

/// A random feature with this id: a point, a triangle (whose envelope
/// meets boxes its shape does not), a line, or now and then nothing.
fn feature(rng: &mut ChaCha8Rng, id: &str) -> Feature {
    let at = |rng: &mut ChaCha8Rng| {
        coord! { x: rng.random_range(0.0..10.0), y: rng.random_range(0.0..10.0) }
    };
    let a = at(rng);
    let geometry: Geometry<f64> = match rng.random_range(0..10) {
        0..=3 => Point::from(a).into(),
        4..=6 => {
            let (b, c) = (at(rng), at(rng));
            Polygon::new(LineString::new(vec![a, b, c, a]), Vec::new()).into()
        }
        7 | 8 => LineString::new(vec![a, at(rng)]).into(),
        _ => MultiPolygon::<f64>::new(Vec::new()).into(),
    };
    Feature {
        id: id.to_owned(),
        geometry,
        properties: properties([("n", json!(rng.random_range(0..1000)))]),
    }
}

/// The ids a test draws from: numbers of several lengths and other text.
fn id(rng: &mut ChaCha8Rng) -> String {
    match rng.random_range(0..10) {
        0 => format!("z:{}", rng.random_range(0..40)),
        1 => format!("0{}", rng.random_range(0..20)),
        _ => rng.random_range(0..400).to_string(),
    }
}

fn ids(features: impl IntoIterator<Item = Arc<Feature>>) -> Vec<String> {
    features.into_iter().map(|f| f.id.clone()).collect()
}

/// `got` reads as `want` (a collection built anew from the same
/// features): the extent of `got` may only be larger.
fn same(got: &Collection, want: &Collection, rng: &mut ChaCha8Rng, step: usize) {
    assert_eq!(got.len(), want.len(), "step {step}: len");
    assert_eq!(got.is_empty(), want.is_empty(), "step {step}");
    assert_eq!(
        ids(got.features()),
        ids(want.features()),
        "step {step}: order"
    );
    for f in want.features() {
        let g = got.get(&f.id).expect("every id");
        assert_eq!(g.to_json(), f.to_json(), "step {step}: {}", f.id);
    }
    for _ in 0..20 {
        let absent = id(rng);
        assert_eq!(
            got.get(&absent).is_some(),
            want.get(&absent).is_some(),
            "step {step}: {absent}"
        );
    }
    if let Some(w) = want.extent() {
        let g = got.extent().expect("an extent");
        assert!(
            g.min().x <= w.min().x && g.min().y <= w.min().y,
            "step {step}: extent"
        );
        assert!(
            g.max().x >= w.max().x && g.max().y >= w.max().y,
            "step {step}: extent"
        );
    }
    for _ in 0..4 {
        let min = coord! { x: rng.random_range(-1.0..10.0), y: rng.random_range(-1.0..10.0) };
        let size = coord! { x: rng.random_range(0.0..6.0), y: rng.random_range(0.0..6.0) };
        let bbox = (rng.random_range(0..5) > 0).then(|| Rect::new(min, min + size));
        for (offset, limit) in [
            (0, usize::MAX),
            (0, 3),
            (2, 5),
            (rng.random_range(0..40), 7),
        ] {
            let (page, expected) = (
                got.query(bbox, offset, limit),
                want.query(bbox, offset, limit),
            );
            assert_eq!(
                page.matched, expected.matched,
                "step {step}: {bbox:?} matched"
            );
            assert_eq!(
                ids(page.features),
                ids(expected.features),
                "step {step}: {bbox:?} {offset} {limit}"
            );
        }
    }
}

#[test]
fn puts_moves_and_removes_read_as_a_collection_built_anew() {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let mut model: BTreeMap<String, Feature> = BTreeMap::new();
    for _ in 0..200 {
        let id = id(&mut rng);
        model.insert(id.clone(), feature(&mut rng, &id));
    }
    let build = |model: &BTreeMap<String, Feature>, fold_min| {
        Collection::folding_at(
            "t",
            "T",
            "test",
            model.values().cloned().collect(),
            fold_min,
        )
    };
    // Half the runs start from features made from a source when read.
    let made = |model: &BTreeMap<String, Feature>| {
        let mut features: Vec<Feature> = model.values().cloned().collect();
        features.sort_by(|a, b| id_order(&a.id, &b.id));
        let source = Made::new(
            Arc::new(features),
            |f| f.id.clone(),
            Feature::clone,
            |f| f.geometry.bounding_rect(),
        );
        let mut c = Collection::made("t", "T", "test", Arc::new(source));
        c.fold_min = 8;
        c
    };
    let start = build(&model, 8);
    same(&made(&model), &start, &mut rng, 0);
    run_steps(rng, model, start, build);
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let mut model: BTreeMap<String, Feature> = BTreeMap::new();
    for _ in 0..200 {
        let id = id(&mut rng);
        model.insert(id.clone(), feature(&mut rng, &id));
    }
    let start = made(&model);
    run_steps(rng, model, start, build);
}

/// 600 random puts and removes on `c` and `model`, checking after each
/// that `c` reads as a collection built anew from `model`.
fn run_steps(
    mut rng: ChaCha8Rng,
    mut model: BTreeMap<String, Feature>,
    mut c: Collection,
    build: impl Fn(&BTreeMap<String, Feature>, usize) -> Collection,
) {
    let mut folds = 0;
    for step in 0..600 {
        let before = c.changes.len();
        let existing = model
            .keys()
            .nth(rng.random_range(0..model.len().max(1)))
            .cloned();
        match (rng.random_range(0..10), existing) {
            // A move or another change of a feature there is.
            (0..=3, Some(id)) => {
                let f = feature(&mut rng, &id);
                model.insert(id, f.clone());
                c.put(f);
            }
            (4..=6, Some(id)) => {
                model.remove(&id);
                c.remove(&id);
            }
            // A new id, or one that may be gone.
            (7 | 8, _) | (_, None) => {
                let id = id(&mut rng);
                let f = feature(&mut rng, &id);
                model.insert(id, f.clone());
                c.put(f);
            }
            _ => {
                let id = id(&mut rng);
                model.remove(&id);
                c.remove(&id);
            }
        }
        if before > 0 && c.changes.is_empty() {
            folds += 1;
        }
        same(&c, &build(&model, FOLD_MIN), &mut rng, step);
    }
    assert!(folds >= 2, "the changes were folded {folds} times");
}

#[test]
fn a_clone_shares_the_base_and_changes_alone() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let features: Vec<Feature> = (1..=50)
        .map(|i| feature(&mut rng, &i.to_string()))
        .collect();
    let original = Collection::new("t", "T", "test", features);
    let mut clone = original.clone();
    clone.put(feature(&mut rng, "7"));
    clone.put(feature(&mut rng, "51"));
    clone.remove("8");
    assert!(Arc::ptr_eq(&original.base, &clone.base));
    assert_eq!((original.len(), clone.len()), (50, 50));
    assert!(original.get("8").is_some() && clone.get("8").is_none());
    assert!(original.get("51").is_none() && clone.get("51").is_some());
}

#[test]
fn ids_of_digits_order_by_value_and_come_first() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let given = ["b:2", "10", "007", "9", "a:10", "0", "-3", "100", "a:9", ""];
    let c = Collection::new(
        "t",
        "T",
        "test",
        given.iter().map(|id| feature(&mut rng, id)).collect(),
    );
    assert_eq!(
        ids(c.features()),
        ["0", "9", "10", "100", "", "-3", "007", "a:10", "a:9", "b:2"]
    );
}

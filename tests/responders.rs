//! Responders: the R-tree indexes against brute force, and nearest by time,
//! coverage and isochrones against an exhaustive Dijkstra written here over
//! the edges the graph exposes.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions panic on broken fixtures"
)]
#![allow(
    clippy::float_cmp,
    reason = "times are whole milliseconds: the exact comparisons are meant"
)]

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use civgrid::index::PointError;
use civgrid::network::{
    CoverageSource, CoverageTarget, NetworkError, RoadGraph, Snap, SpeedTable, TimeQuery,
    TurnoutTable, UnreachableReason,
};
use civgrid::synth::{synthesize, SynthConfig};
use civgrid::{
    Assessment, Facility, FacilityIndex, FacilityKind, Hazard, HazardGeometry, HazardIndex,
    IndexError, LocalProjection, NearestQuery, Oneway, RiskLevel, Road, Territory,
};
use geo::{Distance, Euclidean, InteriorPoint, Intersects};
use geo_types::{coord, Coord, Line, LineString, Point, Polygon, Rect};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn projection(cfg: &SynthConfig) -> LocalProjection {
    LocalProjection::gauss_kruger_3deg(cfg.origin_lon).unwrap()
}

/// The town with ids 1.. on facilities, hazards and roads.
fn town() -> (SynthConfig, Territory) {
    let cfg = SynthConfig::town();
    let mut t = synthesize(&cfg).unwrap();
    for (i, f) in t.facilities.iter_mut().enumerate() {
        f.id = i as i64 + 1;
    }
    for (i, h) in t.hazards.iter_mut().enumerate() {
        h.id = i as i64 + 1;
    }
    for (i, r) in t.roads.iter_mut().enumerate() {
        r.id = i as i64 + 1;
    }
    (cfg, t)
}

fn bbox(t: &Territory) -> Rect<f64> {
    t.extent().unwrap()
}

fn random_point(rng: &mut ChaCha8Rng, r: Rect<f64>) -> Point<f64> {
    Point::new(
        r.min().x + rng.random::<f64>() * r.width(),
        r.min().y + rng.random::<f64>() * r.height(),
    )
}

fn facility(id: i64, kind: FacilityKind, location: Point<f64>) -> Facility {
    Facility {
        id,
        kind,
        name: format!("f{id}"),
        capacity: None,
        staff: None,
        contact: None,
        location,
    }
}

fn metric(p: &LocalProjection, point: Point<f64>) -> Coord<f64> {
    p.forward(point.0).unwrap()
}

// ---------------------------------------------------------------- nearest

/// The k nearest by sorting every facility: (distance, id).
fn brute_nearest(
    p: &LocalProjection,
    facilities: &[Facility],
    q: &NearestQuery<'_>,
) -> Vec<(i64, f64)> {
    let at = metric(p, q.point);
    let mut all: Vec<(f64, i64)> = facilities
        .iter()
        .filter(|f| q.kinds.is_empty() || q.kinds.contains(&f.kind))
        .map(|f| {
            let m = metric(p, f.location);
            ((m.x - at.x).hypot(m.y - at.y), f.id)
        })
        .filter(|&(d, _)| q.max_distance_m.is_none_or(|max| d <= max))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    all.into_iter().take(q.k).map(|(d, id)| (id, d)).collect()
}

fn check_nearest(
    index: &FacilityIndex,
    p: &LocalProjection,
    facilities: &[Facility],
    q: &NearestQuery<'_>,
) {
    let got: Vec<(i64, f64)> = index
        .nearest(q)
        .unwrap()
        .iter()
        .map(|n| (n.facility.id, n.distance_m))
        .collect();
    let want = brute_nearest(p, facilities, q);
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        want.iter().map(|w| w.0).collect::<Vec<_>>(),
        "{q:?}"
    );
    for (g, w) in got.iter().zip(&want) {
        assert!((g.1 - w.1).abs() < 1e-6, "{q:?}: {g:?} vs {w:?}");
    }
}

const KIND_SETS: [&[FacilityKind]; 4] = [
    &[],
    &[FacilityKind::FireStation],
    &[FacilityKind::Hospital, FacilityKind::Clinic],
    &[
        FacilityKind::MicroFireStation,
        FacilityKind::Police,
        FacilityKind::FireHydrant,
        FacilityKind::Police,
    ],
];

#[test]
fn nearest_by_distance_agrees_with_brute_force_on_the_town() {
    let (cfg, t) = town();
    let p = projection(&cfg);
    let index = FacilityIndex::new(projection(&cfg), &t.facilities).unwrap();
    assert_eq!(index.len(), t.facilities.len());
    let area = bbox(&t);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for i in 0..600 {
        let q = NearestQuery {
            point: random_point(&mut rng, area),
            kinds: KIND_SETS[i % KIND_SETS.len()],
            k: 1 + i % 12,
            max_distance_m: (i % 3 == 0).then(|| rng.random_range(100.0..2000.0)),
        };
        check_nearest(&index, &p, &t.facilities, &q);
    }
    let far = NearestQuery {
        point: Point::new(200.0, 0.0),
        kinds: &[],
        k: 5,
        max_distance_m: None,
    };
    assert!(matches!(
        index.nearest(&far),
        Err(IndexError::Point(PointError::OutOfRange { .. }))
    ));
}

#[test]
fn nearest_by_distance_stays_exact_through_inserts_moves_and_removals() {
    let p = LocalProjection::new(120.0).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let area = Rect::new(
        coord! { x: 119.95, y: 30.0 },
        coord! { x: 120.05, y: 30.09 },
    );
    let mut facilities: Vec<Facility> = (1..=10_000)
        .map(|id| {
            let kind = FacilityKind::ALL[rng.random_range(0..FacilityKind::ALL.len())];
            facility(id, kind, random_point(&mut rng, area))
        })
        .collect();
    let mut index = FacilityIndex::new(LocalProjection::new(120.0).unwrap(), &facilities).unwrap();
    let mut next_id = 10_001;
    for round in 0..300 {
        match round % 3 {
            0 => {
                let f = facility(
                    next_id,
                    FacilityKind::FireStation,
                    random_point(&mut rng, area),
                );
                next_id += 1;
                index.insert(f.clone()).unwrap();
                assert_eq!(index.insert(f.clone()), Err(IndexError::DuplicateId(f.id)));
                facilities.push(f);
            }
            1 => {
                let i = rng.random_range(0..facilities.len());
                let mut moved = facilities[i].clone();
                moved.location = random_point(&mut rng, area);
                moved.kind = FacilityKind::ALL[rng.random_range(0..FacilityKind::ALL.len())];
                let old = index.update(moved.clone()).unwrap();
                assert_eq!(old.as_ref(), Some(&facilities[i]));
                facilities[i] = moved;
            }
            _ => {
                let i = rng.random_range(0..facilities.len());
                let gone = facilities.swap_remove(i);
                assert_eq!(index.remove(gone.id), Some(gone.clone()));
                assert_eq!(index.remove(gone.id), None);
                assert!(index.get(gone.id).is_none());
            }
        }
        assert_eq!(index.len(), facilities.len());
        let q = NearestQuery {
            point: random_point(&mut rng, area),
            kinds: KIND_SETS[round % KIND_SETS.len()],
            k: 1 + round % 8,
            max_distance_m: (round % 4 == 0).then_some(800.0),
        };
        check_nearest(&index, &p, &facilities, &q);
    }
}

#[test]
fn equal_distances_are_broken_by_id_across_kinds() {
    let here = Point::new(120.01, 30.02);
    let there = Point::new(120.02, 30.02);
    // Five facilities at one spot (equal distances by construction), of two
    // kinds, inserted out of id order; two more farther away.
    let facilities = vec![
        facility(9, FacilityKind::Police, there),
        facility(3, FacilityKind::FireStation, there),
        facility(7, FacilityKind::Police, there),
        facility(1, FacilityKind::Hospital, Point::new(120.03, 30.02)),
        facility(5, FacilityKind::FireStation, there),
        facility(2, FacilityKind::FireStation, there),
        facility(4, FacilityKind::Police, Point::new(120.0, 30.0)),
    ];
    let p = LocalProjection::new(120.0).unwrap();
    let index = FacilityIndex::new(LocalProjection::new(120.0).unwrap(), &facilities).unwrap();
    let ids = |kinds: &[FacilityKind], k| -> Vec<i64> {
        let q = NearestQuery {
            point: here,
            kinds,
            k,
            max_distance_m: None,
        };
        check_nearest(&index, &p, &facilities, &q);
        index
            .nearest(&q)
            .unwrap()
            .iter()
            .map(|n| n.facility.id)
            .collect()
    };
    let both = [FacilityKind::Police, FacilityKind::FireStation];
    assert_eq!(ids(&both, 3), vec![2, 3, 5]);
    assert_eq!(ids(&both, 4), vec![2, 3, 5, 7]);
    assert_eq!(ids(&[FacilityKind::Police], 1), vec![7]);
    assert_eq!(ids(&[], 6), vec![2, 3, 5, 7, 9, 1]);
    assert_eq!(ids(&[], 0), Vec::<i64>::new());
    let d = index.nearest(&NearestQuery {
        point: here,
        kinds: &[],
        k: 5,
        max_distance_m: None,
    });
    let d = d.unwrap();
    assert!(d.windows(2).all(|w| w[0].distance_m == w[1].distance_m));
}

// ---------------------------------------------------------------- hazards

#[test]
fn hazards_within_a_distance_and_an_envelope_agree_with_brute_force() {
    let (cfg, t) = town();
    let p = projection(&cfg);
    let index = HazardIndex::new(projection(&cfg), &t.hazards).unwrap();
    assert!(t
        .hazards
        .iter()
        .any(|h| matches!(h.geometry, HazardGeometry::Area(_))));
    let metric_geom = |h: &Hazard| -> geo_types::Geometry<f64> {
        match &h.geometry {
            HazardGeometry::Point(pt) => Point(metric(&p, *pt)).into(),
            HazardGeometry::Area(shape) => p.project(shape).unwrap().into(),
        }
    };
    let area = bbox(&t);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut inside = 0;
    for i in 0..300 {
        // Every sixth point lies inside a hazard area.
        let at = match &t.hazards[i % t.hazards.len()].geometry {
            HazardGeometry::Area(shape) if i % 6 == 0 => shape.interior_point().unwrap(),
            _ => random_point(&mut rng, area),
        };
        let radius = [0.0, 150.0, 800.0][i % 3];
        let kinds: Vec<String> = if i % 2 == 0 {
            Vec::new()
        } else {
            vec![t.hazards[i % t.hazards.len()].kind.clone()]
        };
        let at_m = Point(metric(&p, at));
        let mut want: Vec<(i64, f64)> = t
            .hazards
            .iter()
            .filter(|h| kinds.is_empty() || kinds.contains(&h.kind))
            .map(|h| (h.id, Euclidean.distance(&metric_geom(h), &at_m)))
            .filter(|&(_, d)| d <= radius)
            .collect();
        want.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        let got: Vec<(i64, f64)> = index
            .within(at, radius, &kinds)
            .unwrap()
            .iter()
            .map(|h| (h.hazard.id, h.distance_m))
            .collect();
        assert_eq!(got, want, "at {at:?} r {radius}");
        if radius == 0.0 {
            inside += got.len();
            for (id, _) in &got {
                let h = t.hazards.iter().find(|h| h.id == *id).unwrap();
                let HazardGeometry::Area(shape) = &h.geometry else {
                    panic!("a point hazard at a random point")
                };
                assert!(shape.intersects(&at));
            }
        }
        let corner = random_point(&mut rng, area);
        let env = Rect::new(corner.0, corner.0 + coord! { x: 0.01, y: 0.008 });
        let env_metric = Polygon::new(
            env.to_polygon()
                .exterior()
                .points()
                .map(|c| metric(&p, c))
                .collect(),
            vec![],
        );
        let want: Vec<i64> = t
            .hazards
            .iter()
            .filter(|h| kinds.is_empty() || kinds.contains(&h.kind))
            .filter(|h| metric_geom(h).intersects(&env_metric))
            .map(|h| h.id)
            .collect();
        let got: Vec<i64> = index
            .in_envelope(env, &kinds)
            .unwrap()
            .iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(got, want);
    }
    assert!(inside > 0, "no random point fell in a hazard area");
    let mut index = index;
    let mut moved = t.hazards[0].clone();
    moved.geometry = HazardGeometry::Point(Point::new(120.3, 30.3));
    moved.assessment = Assessment::Given {
        level: RiskLevel::Red,
    };
    assert_eq!(index.update(moved).unwrap(), Some(t.hazards[0].clone()));
    let hits = index.within(Point::new(120.3, 30.3), 1.0, &[]).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].hazard.id, t.hazards[0].id);
}

// ---------------------------------------------------------------- network

/// The graph's exposed edges as adjacency lists: (head, ms) per tail.
fn adjacency(graph: &RoadGraph) -> HashMap<usize, Vec<(usize, u64)>> {
    let mut adjacency: HashMap<usize, Vec<(usize, u64)>> = HashMap::new();
    for e in graph.edges() {
        adjacency
            .entry(e.from)
            .or_default()
            .push((e.to, u64::from(e.weight_ms)));
    }
    adjacency
}

/// Plain binary-heap Dijkstra over the adjacency lists from seeds with
/// initial times: milliseconds to every node (`u64::MAX` when unreachable).
fn dijkstra(
    graph: &RoadGraph,
    adjacency: &HashMap<usize, Vec<(usize, u64)>>,
    seeds: &[(usize, u64)],
) -> Vec<u64> {
    let mut dist = vec![u64::MAX; graph.node_count()];
    let mut heap = BinaryHeap::new();
    for &(n, ms) in seeds {
        if ms < dist[n] {
            dist[n] = ms;
            heap.push(Reverse((ms, n)));
        }
    }
    while let Some(Reverse((ms, n))) = heap.pop() {
        if ms > dist[n] {
            continue;
        }
        for &(m, w) in adjacency.get(&n).into_iter().flatten() {
            if ms + w < dist[m] {
                dist[m] = ms + w;
                heap.push(Reverse((ms + w, m)));
            }
        }
    }
    dist
}

fn part(ms: u32, fraction: f64) -> u64 {
    (f64::from(ms) * fraction).round() as u64
}

/// The documented snapping offsets: leaving a snapped point (node, ms).
fn departures(graph: &RoadGraph, s: &Snap) -> Vec<(usize, u64)> {
    let seg = graph.segments()[s.segment];
    let mut out = Vec::new();
    if let Some(w) = seg.forward_ms {
        out.push((seg.to, part(w, 1.0 - s.fraction)));
    }
    if let Some(w) = seg.backward_ms {
        out.push((seg.from, part(w, s.fraction)));
    }
    out
}

/// Reaching a snapped point from a node: (node, ms).
fn arrivals(graph: &RoadGraph, s: &Snap) -> Vec<(usize, u64)> {
    let seg = graph.segments()[s.segment];
    let mut out = Vec::new();
    if let Some(w) = seg.forward_ms {
        out.push((seg.from, part(w, s.fraction)));
    }
    if let Some(w) = seg.backward_ms {
        out.push((seg.to, part(w, 1.0 - s.fraction)));
    }
    out
}

/// Along one segment between two snapped points.
fn direct(graph: &RoadGraph, from: &Snap, to: &Snap) -> Option<u64> {
    if from.segment != to.segment {
        return None;
    }
    let seg = graph.segments()[from.segment];
    let along = to.fraction - from.fraction;
    let f = seg
        .forward_ms
        .filter(|_| along >= 0.0)
        .map(|w| part(w, along));
    let b = seg
        .backward_ms
        .filter(|_| along <= 0.0)
        .map(|w| part(w, -along));
    f.into_iter().chain(b).min()
}

/// Exhaustive drive time from one snapped point to another, given the
/// Dijkstra times from the first one's departures.
fn drive_ms(graph: &RoadGraph, dist: &[u64], from: &Snap, to: &Snap) -> Option<u64> {
    arrivals(graph, to)
        .into_iter()
        .filter(|&(n, _)| dist[n] != u64::MAX)
        .map(|(n, ms)| dist[n] + ms)
        .chain(direct(graph, from, to))
        .min()
}

fn road(id: i64, coords: &[(f64, f64)], oneway: Oneway, p: &LocalProjection) -> Road {
    Road {
        id,
        class: "residential".into(),
        name: String::new(),
        speed_kmh: Some(36.0),
        oneway,
        geometry: LineString::new(
            coords
                .iter()
                .map(|&(x, y)| {
                    p.inverse(coord! { x: 500_000.0 + x, y: 3_300_000.0 + y })
                        .unwrap()
                })
                .collect(),
        ),
    }
}

fn at(p: &LocalProjection, x: f64, y: f64) -> Point<f64> {
    Point(
        p.inverse(coord! { x: 500_000.0 + x, y: 3_300_000.0 + y })
            .unwrap(),
    )
}

#[test]
fn one_way_street_forces_a_detour_with_exact_times() {
    let p = LocalProjection::new(117.0).unwrap();
    // A square of 1 km sides at 36 km/h (100 s a side); its south side runs
    // one way from east to west. A detached road lies 5 km east.
    let roads = vec![
        road(1, &[(1000.0, 0.0), (0.0, 0.0)], Oneway::Forward, &p),
        road(2, &[(0.0, 0.0), (0.0, 1000.0)], Oneway::No, &p),
        road(3, &[(0.0, 1000.0), (1000.0, 1000.0)], Oneway::No, &p),
        road(4, &[(1000.0, 0.0), (1000.0, 1000.0)], Oneway::No, &p),
        road(5, &[(6000.0, 0.0), (6000.0, 500.0)], Oneway::No, &p),
        Road {
            class: "footway".into(),
            speed_kmh: None,
            ..road(6, &[(7000.0, 0.0), (7000.0, 500.0)], Oneway::No, &p)
        },
    ];
    let graph = RoadGraph::build(&roads, &p, &SpeedTable::default()).unwrap();
    assert_eq!(graph.node_count(), 6, "the footway is not driven");
    let facilities = vec![
        facility(1, FacilityKind::FireStation, at(&p, 5.0, 100.0)),
        facility(2, FacilityKind::FireStation, at(&p, 900.0, -5.0)),
        facility(3, FacilityKind::FireStation, at(&p, 6005.0, 250.0)),
        facility(4, FacilityKind::FireStation, at(&p, 3000.0, 3000.0)),
    ];
    let index = FacilityIndex::new(LocalProjection::new(117.0).unwrap(), &facilities).unwrap();
    let turnout = TurnoutTable::default();
    let query = |point, k| {
        graph
            .nearest_by_time(
                &index,
                &TimeQuery {
                    point,
                    kinds: &[FacilityKind::FireStation],
                    k,
                    turnout: &turnout,
                },
            )
            .unwrap()
    };
    // From station 1 (on the west side, 100 m north of the corner) to the
    // south side 100 m west of the east corner: against the one-way, so
    // north, east and south: 900 + 1000 + 1000 + 100 m = 3,000 m, 300 s.
    let answer = query(at(&p, 900.0, 3.0), 5);
    let ids: Vec<i64> = answer.nearest.iter().map(|n| n.facility.id).collect();
    assert_eq!(ids, vec![2, 1]);
    let one = &answer.nearest[1];
    assert_eq!(one.eta_s, 360.0);
    assert_eq!(one.turnout_s, 60.0);
    assert_eq!(one.drive_s, 300.0);
    assert!((one.distance_m - 3000.0).abs() < 1e-3, "{}", one.distance_m);
    assert!((one.snap_distance_m - 5.0).abs() < 1e-3);
    assert!((answer.snap_distance_m - 3.0).abs() < 1e-3);
    assert_eq!(one.route.0.len(), 5, "{:?}", one.route);
    assert!(Euclidean.distance(one.route.0[2].into(), Point(at(&p, 1000.0, 1000.0).0)) < 1e-9);
    // Station 2 is at the place itself (5 m off the road): turn-out only.
    assert_eq!(answer.nearest[0].eta_s, 60.0);
    // The other way round the one-way street is the short way: 100 s.
    let back = query(at(&p, 0.0, 100.0), 1);
    assert_eq!(back.nearest[0].facility.id, 1);
    let back = query(at(&p, 3.0, 120.0), 2);
    assert_eq!(back.nearest[1].facility.id, 2);
    assert_eq!(back.nearest[1].eta_s, 60.0 + 90.0 + 12.0);
    // Station 3 is on the detached road, station 4 far from every road.
    let mut unreachable: Vec<_> = answer
        .unreachable
        .iter()
        .map(|u| (u.facility.id, u.reason))
        .collect();
    assert_eq!(unreachable.len(), 2);
    assert_eq!(unreachable[0], (3, UnreachableReason::NoRoute));
    let (id, UnreachableReason::FarFromRoad { distance_m }) = unreachable.pop().unwrap() else {
        panic!("station 4 should be too far from the roads");
    };
    assert_eq!(id, 4);
    assert!(
        (distance_m - 2000.0f64.hypot(2000.0)).abs() < 1e-3,
        "{distance_m}"
    );
    // A place on the detached road: only station 3 reaches it.
    let there = query(at(&p, 6000.0, 400.0), 5);
    assert_eq!(there.nearest.len(), 1);
    assert_eq!(there.nearest[0].facility.id, 3);
    assert_eq!(there.nearest[0].eta_s, 60.0 + 15.0);
    assert_eq!(there.unreachable.len(), 3);
    // A place far from every road is an error that says so.
    assert!(matches!(
        graph.nearest_by_time(
            &index,
            &TimeQuery {
                point: at(&p, 3000.0, -3000.0),
                kinds: &[],
                k: 1,
                turnout: &turnout,
            }
        ),
        Err(NetworkError::TooFarFromRoad { .. })
    ));
}

/// The town's roads plus a one-way spur leading out of the network and a
/// detached loop, so that some places cannot be left or reached.
fn town_network() -> (SynthConfig, Territory, RoadGraph) {
    let (cfg, mut t) = town();
    let p = projection(&cfg);
    let area = bbox(&t);
    let corner = t.roads[0].geometry.0[0];
    let c = metric(&p, Point(corner));
    let next = t.roads.len() as i64 + 1;
    let lonlat = |x: f64, y: f64| p.inverse(coord! { x: c.x + x, y: c.y + y }).unwrap();
    t.roads.push(Road {
        id: next,
        class: "service".into(),
        name: "spur".into(),
        speed_kmh: None,
        oneway: Oneway::Forward,
        geometry: LineString::new(vec![corner, lonlat(-150.0, -150.0), lonlat(-300.0, -150.0)]),
    });
    let m = metric(&p, area.center().into());
    let loop_at = |x: f64, y: f64| p.inverse(coord! { x: m.x + x, y: m.y + y }).unwrap();
    t.roads.push(Road {
        id: next + 1,
        class: "unclassified".into(),
        name: "detached".into(),
        speed_kmh: None,
        oneway: Oneway::No,
        geometry: LineString::new(vec![
            loop_at(40.0, 40.0),
            loop_at(90.0, 40.0),
            loop_at(90.0, 90.0),
        ]),
    });
    let next_f = t.facilities.len() as i64 + 1;
    t.facilities.push(facility(
        next_f,
        FacilityKind::FireStation,
        Point(lonlat(-290.0, -152.0)),
    ));
    t.facilities.push(facility(
        next_f + 1,
        FacilityKind::FireStation,
        Point(loop_at(60.0, 42.0)),
    ));
    let graph = RoadGraph::build(&t.roads, &p, &SpeedTable::default()).unwrap();
    (cfg, t, graph)
}

#[test]
fn snapping_finds_the_nearest_segment() {
    let (cfg, t, graph) = town_network();
    let p = projection(&cfg);
    let area = bbox(&t);
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    for _ in 0..300 {
        let point = random_point(&mut rng, area);
        let m = Point(metric(&p, point));
        let best = graph
            .segments()
            .iter()
            .map(|s| {
                let line = Line::new(
                    graph.node_metric(s.from).unwrap(),
                    graph.node_metric(s.to).unwrap(),
                );
                Euclidean.distance(&line, &m)
            })
            .fold(f64::INFINITY, f64::min);
        let snap = graph.snap(point).unwrap();
        assert!((snap.distance_m - best).abs() < 1e-6, "{snap:?} vs {best}");
        assert!((0.0..=1.0).contains(&snap.fraction));
    }
    let strict = town_network().2.with_max_snap_m(1.0);
    assert!(matches!(
        strict.snap(random_point(&mut rng, area)),
        Err(NetworkError::TooFarFromRoad { max_m, .. }) if max_m == 1.0
    ));
    assert!(matches!(
        graph.snap(Point::new(f64::NAN, 30.0)),
        Err(NetworkError::Point(PointError::OutOfRange { .. }))
    ));
}

#[test]
fn nearest_by_time_agrees_with_exhaustive_dijkstra() {
    let (cfg, t, graph) = town_network();
    let index = FacilityIndex::new(projection(&cfg), &t.facilities).unwrap();
    let turnout = TurnoutTable::default().with(FacilityKind::Police, 45.0);
    let area = bbox(&t);
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let adjacency = adjacency(&graph);
    let from_facility: HashMap<i64, (Snap, Vec<u64>)> = t
        .facilities
        .iter()
        .filter_map(|f| {
            let s = graph.snap(f.location).ok()?;
            Some((
                f.id,
                (s, dijkstra(&graph, &adjacency, &departures(&graph, &s))),
            ))
        })
        .collect();
    let kind_sets: [&[FacilityKind]; 3] = [
        &[FacilityKind::FireStation],
        &[FacilityKind::FireStation, FacilityKind::MicroFireStation],
        &[FacilityKind::Police, FacilityKind::Hospital],
    ];
    let (mut unreachable_seen, mut answered) = (0, 0);
    for i in 0..120 {
        // Every tenth place is on the spur or the detached road.
        let point = match i % 10 {
            3 => t.roads[t.roads.len() - 2].geometry.0[1].into(),
            7 => t.roads[t.roads.len() - 1].geometry.0[1].into(),
            _ => random_point(&mut rng, area),
        };
        let kinds = kind_sets[i % kind_sets.len()];
        let k = 1 + i % 5;
        let Ok(target) = graph.snap(point) else {
            continue;
        };
        let mut want: Vec<(u64, i64)> = Vec::new();
        let mut want_unreachable: Vec<i64> = Vec::new();
        for f in t.facilities.iter().filter(|f| kinds.contains(&f.kind)) {
            let drive = from_facility
                .get(&f.id)
                .and_then(|(s, dist)| drive_ms(&graph, dist, s, &target));
            match drive {
                Some(ms) => want.push(((turnout.seconds(f.kind) * 1000.0) as u64 + ms, f.id)),
                None => want_unreachable.push(f.id),
            }
        }
        want.sort_unstable();
        want.truncate(k);
        want_unreachable.sort_unstable();
        let got = graph
            .nearest_by_time(
                &index,
                &TimeQuery {
                    point,
                    kinds,
                    k,
                    turnout: &turnout,
                },
            )
            .unwrap();
        let got_pairs: Vec<(u64, i64)> = got
            .nearest
            .iter()
            .map(|n| ((n.eta_s * 1000.0).round() as u64, n.facility.id))
            .collect();
        assert_eq!(got_pairs, want, "place {i} at {point:?}");
        let got_unreachable: Vec<i64> = got.unreachable.iter().map(|u| u.facility.id).collect();
        assert_eq!(got_unreachable, want_unreachable, "place {i}");
        unreachable_seen += got_unreachable.len();
        answered += got.nearest.len();
        for n in &got.nearest {
            // The route runs from the facility's road to the place's road,
            // and is at least as long as the straight line.
            let first = Point(*n.route.0.first().unwrap());
            let last = Point(*n.route.0.last().unwrap());
            let p = projection(&cfg);
            let straight = Euclidean.distance(Point(metric(&p, first)), Point(metric(&p, last)));
            assert!(n.distance_m + 1e-6 >= straight);
            assert!((n.eta_s - n.turnout_s - n.drive_s).abs() < 1e-9);
        }
    }
    assert!(answered > 200);
    assert!(
        unreachable_seen > 0,
        "the spur and detached stations never showed"
    );
}

#[test]
fn coverage_agrees_with_per_target_dijkstra() {
    let (_, t, graph) = town_network();
    let stations: Vec<CoverageSource> = t
        .facilities
        .iter()
        .filter(|f| f.kind == FacilityKind::FireStation)
        .map(|f| CoverageSource {
            point: f.location,
            turnout_s: 60.0,
        })
        .collect();
    let area = bbox(&t);
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let targets: Vec<CoverageTarget> = (0..400)
        .map(|i| CoverageTarget {
            point: random_point(&mut rng, area),
            households: rng.random_range(0..300),
            high_risk: i % 7 == 0,
        })
        .collect();
    let limit_s = 180.0;
    let got = graph.coverage(&stations, limit_s, &targets).unwrap();
    let adjacency = adjacency(&graph);
    let from_station: Vec<(Snap, Vec<u64>)> = stations
        .iter()
        .filter_map(|s| {
            let s = graph.snap(s.point).ok()?;
            Some((s, dijkstra(&graph, &adjacency, &departures(&graph, &s))))
        })
        .collect();
    let (mut cells, mut households, mut risky) = ((0, 0), (0, 0), (0, 0));
    for (i, target) in targets.iter().enumerate() {
        let eta = graph.snap(target.point).ok().and_then(|ts| {
            from_station
                .iter()
                .filter_map(|(s, dist)| drive_ms(&graph, dist, s, &ts))
                .min()
                .map(|ms| ms + 60_000)
                .filter(|&ms| ms <= 180_000)
        });
        assert_eq!(
            got.eta_s[i].map(|s| (s * 1000.0).round() as u64),
            eta,
            "target {i}"
        );
        let covered = eta.is_some();
        assert_eq!(got.covered[i], covered);
        cells.1 += 1;
        households.1 += target.households;
        risky.1 += u64::from(target.high_risk);
        if covered {
            cells.0 += 1;
            households.0 += target.households;
            risky.0 += u64::from(target.high_risk);
        }
    }
    assert_eq!((got.cells.covered, got.cells.total), cells);
    assert_eq!((got.households.covered, got.households.total), households);
    assert_eq!((got.high_risk.covered, got.high_risk.total), risky);
    assert!(
        cells.0 > 0 && cells.0 < cells.1,
        "coverage should be partial: {cells:?}"
    );
    assert!(got.cells.ratio().unwrap() > 0.0);
}

#[test]
fn isochrone_holds_the_reached_network_and_not_the_far_unreached() {
    let (_, t, graph) = town_network();
    let station = t
        .facilities
        .iter()
        .find(|f| f.kind == FacilityKind::FireStation)
        .unwrap();
    let source = CoverageSource {
        point: station.location,
        turnout_s: 60.0,
    };
    let (limit_s, buffer_m) = (150.0, 40.0);
    let area = graph.isochrone(&source, limit_s, buffer_m).unwrap();
    assert!(!area.0.is_empty());
    let snap = graph.snap(station.location).unwrap();
    let seeds: Vec<(usize, u64)> = departures(&graph, &snap)
        .into_iter()
        .map(|(n, ms)| (n, ms + 60_000))
        .collect();
    let dist = dijkstra(&graph, &adjacency(&graph), &seeds);
    let reached: Vec<usize> = (0..graph.node_count())
        .filter(|&n| dist[n] <= 150_000)
        .collect();
    assert!(reached.len() > 5);
    for &n in &reached {
        assert!(area.intersects(&graph.node_point(n).unwrap()), "node {n}");
    }
    let longest = graph
        .segments()
        .iter()
        .map(|s| s.length_m)
        .fold(0.0, f64::max);
    let mut far = 0;
    for n in (0..graph.node_count()).filter(|&n| dist[n] > 150_000) {
        let m = graph.node_metric(n).unwrap();
        let clear = reached.iter().all(|&r| {
            let q = graph.node_metric(r).unwrap();
            (m.x - q.x).hypot(m.y - q.y) > longest + buffer_m + 1.0
        });
        if clear {
            far += 1;
            assert!(!area.intersects(&graph.node_point(n).unwrap()), "node {n}");
        }
    }
    assert!(far > 100);
    // Turn-out longer than the limit: nothing is reached.
    let late = CoverageSource {
        turnout_s: 200.0,
        ..source
    };
    assert!(graph
        .isochrone(&late, limit_s, buffer_m)
        .unwrap()
        .0
        .is_empty());
}

#[test]
fn graph_and_indexes_can_be_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<RoadGraph>();
    shared::<FacilityIndex>();
    shared::<HazardIndex>();
}

#[test]
fn speeds_come_from_the_class_unless_overridden_or_given_by_the_road() {
    let p = LocalProjection::new(117.0).unwrap();
    let primary = |speed_kmh| Road {
        class: "primary".into(),
        speed_kmh,
        ..road(1, &[(0.0, 0.0), (0.0, 1000.0)], Oneway::Backward, &p)
    };
    let weight = |road: Road, speeds: &SpeedTable| {
        let graph = RoadGraph::build(&[road], &p, speeds).unwrap();
        let edges = graph.edges();
        assert_eq!(edges.len(), 1, "one-way: one edge");
        // Drawn from (0, 0) to (0, 1000), driven only against that.
        assert_eq!(graph.segments()[0].forward_ms, None);
        assert_eq!(edges[0].from, graph.segments()[0].to);
        edges[0].weight_ms
    };
    // 1 km at 50 km/h (primary) is 72 s; at 25 km/h 144 s; at 36 km/h 100 s.
    assert_eq!(weight(primary(None), &SpeedTable::default()), 72_000);
    let slow = SpeedTable::default().with("primary", Some(25.0));
    assert_eq!(weight(primary(None), &slow), 144_000);
    assert_eq!(weight(primary(Some(36.0)), &slow), 100_000);
    let unknown = Road {
        class: "busway".into(),
        ..primary(None)
    };
    assert_eq!(weight(unknown.clone(), &SpeedTable::default()), 180_000);
    assert_eq!(
        RoadGraph::build(&[unknown], &p, &SpeedTable::default().with_other(None)).unwrap_err(),
        NetworkError::Empty
    );
    assert_eq!(
        TurnoutTable::default().seconds(FacilityKind::FireStation),
        60.0
    );
    assert_eq!(TurnoutTable::zero().seconds(FacilityKind::FireStation), 0.0);
}

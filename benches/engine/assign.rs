//! Case assignment in the engine: deadlines on the working calendar alone,
//! and the whole engine part of `POST /api/v1/assign` (locate the point,
//! look up the class, deadline, escalation, 3 nearest responders) over the
//! synthetic town with the shipped taxonomy and 2026 calendar.

use chrono::{DateTime, Duration, FixedOffset};
use civgrid::assign::{Calendar, CaseLevel, ClassKind, Taxonomy, TimeLimit};
use civgrid::synth::{synthesize, SynthConfig};
use civgrid::{Facility, FacilityIndex, LocalProjection, Locator, NearestQuery};
use criterion::{black_box, BenchmarkId, Criterion};

const TAXONOMY: &str = include_str!("../../data/taxonomy/taxonomy.csv");
const CALENDAR: &str = include_str!("../../data/taxonomy/calendar-2026.txt");

pub fn bench(c: &mut Criterion) {
    let (Ok(taxonomy), Ok(calendar)) = (Taxonomy::parse(TAXONOMY), Calendar::parse(CALENDAR))
    else {
        return;
    };
    let Ok(start) = DateTime::parse_from_rfc3339("2026-09-23T10:00:00+08:00") else {
        return;
    };
    // Report times every 23 hours back from 2026-09-23 (all within 2026).
    let starts: Vec<DateTime<FixedOffset>> =
        (0..200).map(|i| start - Duration::hours(23 * i)).collect();
    let mut group = c.benchmark_group("assign");
    group.bench_function("parse_taxonomy", |b| {
        b.iter(|| Taxonomy::parse(black_box(TAXONOMY)));
    });
    for limit in [TimeLimit::Hours(4), TimeLimit::Days(5)] {
        group.bench_with_input(
            BenchmarkId::new("deadline", limit.to_string()),
            &starts,
            |b, s| {
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) % s.len();
                    black_box(calendar.deadline(s[i], limit))
                });
            },
        );
    }
    let territory = match synthesize(&SynthConfig::town()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("assign: no synthetic town: {e}");
            return;
        }
    };
    let (Some(bbox), Ok(projection)) = (
        territory.extent(),
        LocalProjection::gauss_kruger_3deg(territory.extent().map_or(120.0, |b| b.center().x)),
    ) else {
        return;
    };
    let locator = Locator::new(&territory);
    // Synthetic facilities are not stored yet (id 0): number them as a store would.
    let stored: Vec<Facility> = territory
        .facilities
        .iter()
        .zip(1..)
        .map(|(f, id)| Facility { id, ..f.clone() })
        .collect();
    let facilities = match FacilityIndex::new(projection, &stored) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("assign: no facility index: {e}");
            return;
        }
    };
    let points = crate::locate::lattice(bbox);
    let codes = ["0408", "0403", "0301", "0504"];
    group.bench_with_input(BenchmarkId::new("assign", "town"), &points, |b, pts| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % pts.len();
            let p = pts[i];
            let location = locator.locate(p);
            let class = taxonomy
                .lookup(Some(ClassKind::Event), codes[i % codes.len()])
                .ok()?;
            let deadline = calendar
                .deadline(start, class.limit(CaseLevel::Urgent))
                .ok()?;
            let escalation = calendar.escalation(start, deadline, start + Duration::minutes(20));
            let nearest = facilities
                .nearest(&NearestQuery {
                    point: p,
                    kinds: &class.responders,
                    k: 3,
                    max_distance_m: None,
                })
                .ok()?;
            black_box((location, deadline, escalation, nearest.len()));
            Some(())
        });
    });
    group.finish();
}

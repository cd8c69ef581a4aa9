//! Incidents over one year: fires, floods, traffic accidents and public-order
//! cases, half of them clustered around hot spots.

use geo_types::{Coord, Point};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::config::SynthConfig;
use super::hierarchy::Hierarchy;
use super::lattice::Lattice;
use super::{stream, Stage};
use crate::model::{Building, Incident, Road};

/// Incident kinds and their shares.
const KINDS: [(&str, f64); 4] = [
    ("fire", 0.15),
    ("flood", 0.10),
    ("traffic", 0.40),
    ("public_order", 0.35),
];
/// Share of incidents at a hot spot.
const AT_HOT_SPOT: f64 = 0.5;
/// Communities per hot spot.
const COMMUNITIES_PER_HOT_SPOT: usize = 12;
/// Typical distance of a hot-spot incident from its centre, metres.
const HOT_SPOT_SPREAD_M: f64 = 150.0;
/// Floods happen in the rainy season: days of the year (0-based) from
/// 1 June to 30 September in a common year.
const FLOOD_DAYS: std::ops::Range<i64> = 151..273;

/// `incidents_per_1000_households` incidents in `cfg.year`, in metres: at a
/// hot spot, or else fires, floods and public-order cases at a building and
/// traffic accidents on a road.
pub(super) fn incidents(
    cfg: &SynthConfig,
    lattice: &Lattice,
    hier: &Hierarchy,
    buildings: &[Building],
    roads: &[Road],
) -> Vec<Incident> {
    let mut rng = stream(cfg.seed, Stage::Incidents, 0);
    let households: u64 = buildings.iter().map(|b| u64::from(b.households)).sum();
    let count = (households as f64 * cfg.incidents_per_1000_households / 1000.0).round() as usize;
    let hot_spots: Vec<(i64, i64)> = (0..(hier.communities.len() / COMMUNITIES_PER_HOT_SPOT)
        .max(1))
        .map(|_| {
            let c = &hier.communities[rng.random_range(0..hier.communities.len())];
            c.cells
                .units()
                .at_fraction(rng.random_range(0.0..=1.0), rng.random_range(0.0..=1.0))
        })
        .collect();
    let spread = lattice.units(HOT_SPOT_SPREAD_M) as f64;
    let bounds = lattice.bounds();
    let start = year_start_unix_s(cfg.year);
    let days = if is_leap(cfg.year) { 366 } else { 365 };
    (0..count)
        .map(|_| {
            let kind = pick_kind(&mut rng);
            let location =
                if rng.random_bool(AT_HOT_SPOT) || buildings.is_empty() || roads.is_empty() {
                    let (s, t) = hot_spots[rng.random_range(0..hot_spots.len())];
                    let mut offset = || (bell(&mut rng) * spread) as i64;
                    let (s, t) = (s + offset(), t + offset());
                    lattice.at(s.clamp(bounds.s0, bounds.s1), t.clamp(bounds.t0, bounds.t1))
                } else if kind == "traffic" {
                    on_road(&roads[rng.random_range(0..roads.len())], &mut rng)
                } else {
                    centre(&buildings[rng.random_range(0..buildings.len())])
                };
            let day = if kind == "flood" {
                rng.random_range(FLOOD_DAYS)
            } else {
                rng.random_range(0..days)
            };
            Incident {
                id: 0,
                kind: kind.to_owned(),
                time_unix_s: start + day * 86_400 + rng.random_range(0..86_400),
                location: Point(location),
            }
        })
        .collect()
}

/// A kind drawn by the shares in [`KINDS`].
fn pick_kind(rng: &mut ChaCha8Rng) -> &'static str {
    let mut x = rng.random_range(0.0..KINDS.iter().map(|k| k.1).sum::<f64>());
    for (kind, share) in KINDS {
        if x < share {
            return kind;
        }
        x -= share;
    }
    KINDS[KINDS.len() - 1].0
}

/// A bell-shaped number in -1.5..1.5 with mean 0 and standard deviation 0.5.
fn bell(rng: &mut ChaCha8Rng) -> f64 {
    (0..3).map(|_| rng.random_range(-0.5..=0.5)).sum()
}

/// A random point on a random segment of a road.
fn on_road(road: &Road, rng: &mut ChaCha8Rng) -> Coord<f64> {
    let c = &road.geometry.0;
    let k = rng.random_range(0..c.len() - 1);
    let f = rng.random_range(0.0..=1.0);
    c[k] + (c[k + 1] - c[k]) * f
}

/// The centre of a building's footprint (mean of its corners).
fn centre(b: &Building) -> Coord<f64> {
    let ring = b
        .geometry
        .0
        .first()
        .map(|p| &p.exterior().0[..])
        .unwrap_or_default();
    let corners = &ring[..ring.len().saturating_sub(1)];
    let sum = corners
        .iter()
        .fold(Coord { x: 0.0, y: 0.0 }, |acc, &c| acc + c);
    sum / corners.len().max(1) as f64
}

/// `true` for a Gregorian leap year.
fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// 1 January of `year`, 00:00 UTC, in seconds since the Unix epoch
/// (`year` ≥ 1).
pub(super) fn year_start_unix_s(year: i32) -> i64 {
    let leap_days_before = |y: i64| y / 4 - y / 100 + y / 400;
    let y = i64::from(year);
    (365 * (y - 1970) + leap_days_before(y - 1) - leap_days_before(1969)) * 86_400
}

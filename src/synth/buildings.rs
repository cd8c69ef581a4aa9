//! Buildings: apartment blocks on the lots of urban communities, houses
//! clustered in hamlets in villages.
//!
//! Every building is a rectangle inside one lot, set back from the lot's
//! sides; lots tile the regions between roads, so no building touches a road
//! or another building or crosses a community boundary.

use std::ops::RangeInclusive;

use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::blocks::BlockPlan;
use super::config::SynthConfig;
use super::lattice::{LRect, Lattice};
use super::{draw, stream, Stage};
use crate::model::{Building, CommunityKind};

/// How buildings of one kind stand on their lots.
struct Typology {
    /// Side of a lot, metres.
    lot_m: f64,
    /// Clearance between a building and its lot's sides, metres.
    setback_m: f64,
    /// Smallest half-side of a footprint, metres.
    min_half_m: f64,
    /// Chance that a building's levels are unknown.
    unknown_levels: f64,
}

/// Apartment blocks: lots of 70 m, 8 m from the street.
const URBAN: Typology = Typology {
    lot_m: 70.0,
    setback_m: 8.0,
    min_half_m: 5.0,
    unknown_levels: 0.05,
};
/// Village houses: lots of 24 m, 3 m apart.
const RURAL: Typology = Typology {
    lot_m: 24.0,
    setback_m: 3.0,
    min_half_m: 3.0,
    unknown_levels: 0.1,
};
/// Share of urban lots built on (the rest: parks, schools, shops, roads).
const URBAN_OCCUPANCY: f64 = 0.35;
/// Hamlets per km² of village (at least one per village).
const HAMLETS_PER_KM2: f64 = 1.0;
/// Share of lots built on at the centre of a hamlet (falling off to 40 % of
/// that at its edge).
const HAMLET_DENSITY: f64 = 0.85;
/// Floor area of one dwelling in apartment blocks, m².
const DWELLING_M2: f64 = 90.0;
/// Share of an apartment block's floor area that is dwellings.
const DWELLING_SHARE: f64 = 0.75;

/// Every building of the territory, in metres.
pub(super) fn buildings(
    cfg: &SynthConfig,
    lattice: &Lattice,
    plans: &[BlockPlan],
) -> Vec<Building> {
    let mut out = Vec::new();
    for (n, plan) in plans.iter().enumerate() {
        let mut rng = stream(cfg.seed, Stage::Buildings, n);
        match plan.kind {
            CommunityKind::Urban => urban(cfg, lattice, plan, &mut rng, &mut out),
            CommunityKind::Rural => village(cfg, lattice, plan, &mut rng, &mut out),
        }
    }
    out
}

/// Apartment blocks on a share of the lots of every region but the
/// industrial park's.
fn urban(
    cfg: &SynthConfig,
    lattice: &Lattice,
    plan: &BlockPlan,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<Building>,
) {
    let mut number = 0;
    for region in plan.regions() {
        if plan.industrial == Some(region) {
            continue;
        }
        let lots = Lots::new(region, lattice.units(URBAN.lot_m));
        for lot in lots.within(region) {
            if !rng.random_bool(URBAN_OCCUPANCY) {
                continue;
            }
            // Slabs (long, either way round) or point towers.
            let half = if rng.random_bool(0.6) {
                let slab = (rng.random_range(18.0..=28.0), rng.random_range(6.0..=9.0));
                if rng.random_bool(0.5) {
                    slab
                } else {
                    (slab.1, slab.0)
                }
            } else {
                (rng.random_range(9.0..=14.0), rng.random_range(9.0..=14.0))
            };
            let Some((footprint, area_m2)) = fit(&lattice.quad(lot), half, &URBAN) else {
                continue;
            };
            let (levels, known) = levels(&cfg.urban_levels, &URBAN, rng);
            let range = &cfg.households_per_urban_building;
            let households = (area_m2 * f64::from(levels) * DWELLING_SHARE / DWELLING_M2).round();
            number += 1;
            out.push(Building {
                id: 0,
                name: format!("{number}幢"),
                levels: known.then_some(levels),
                households: (households as u32).clamp(*range.start(), *range.end()),
                households_estimated: false,
                geometry: footprint,
            });
        }
    }
}

/// Houses in hamlets (about [`HAMLETS_PER_KM2`]), denser at their centres; a
/// hamlet straddles a village road when there is one.
fn village(
    cfg: &SynthConfig,
    lattice: &Lattice,
    plan: &BlockPlan,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<Building>,
) {
    let km2 = lattice.metres(plan.rect.width()) * lattice.metres(plan.rect.height()) / 1e6;
    let hamlets: Vec<Hamlet> = (0..draw(km2 * HAMLETS_PER_KM2, rng).max(1))
        .filter_map(|_| Hamlet::new(lattice, plan, rng))
        .collect();
    for region in plan.regions() {
        if plan.industrial == Some(region) {
            continue;
        }
        let lots = Lots::new(region, lattice.units(RURAL.lot_m));
        for (h, hamlet) in hamlets.iter().enumerate() {
            let Some(area) = region.intersection(hamlet.rect) else {
                continue;
            };
            for lot in lots.within(area) {
                let (s, t) = lot.at_fraction(0.5, 0.5);
                // A lot in two hamlets belongs to the first.
                if hamlets[..h]
                    .iter()
                    .any(|earlier| earlier.rect.contains(s, t))
                    || !rng.random_bool(hamlet.density(s, t))
                {
                    continue;
                }
                let half = (rng.random_range(4.0..=7.0), rng.random_range(4.0..=6.0));
                let Some((footprint, _)) = fit(&lattice.quad(lot), half, &RURAL) else {
                    continue;
                };
                let (levels, known) = levels(&cfg.rural_levels, &RURAL, rng);
                out.push(Building {
                    id: 0,
                    name: String::new(),
                    levels: known.then_some(levels),
                    households: rng.random_range(cfg.households_per_rural_house.clone()),
                    households_estimated: false,
                    geometry: footprint,
                });
            }
        }
    }
}

/// Levels of a building, and whether its data will say so.
fn levels(range: &RangeInclusive<u32>, typology: &Typology, rng: &mut ChaCha8Rng) -> (u32, bool) {
    (
        rng.random_range(range.clone()),
        !rng.random_bool(typology.unknown_levels),
    )
}

/// A cluster of village houses.
struct Hamlet {
    rect: LRect,
    centre: (i64, i64),
    half: (i64, i64),
}

impl Hamlet {
    /// A hamlet of 180–360 m across, on a village road when there is one.
    fn new(lattice: &Lattice, plan: &BlockPlan, rng: &mut ChaCha8Rng) -> Option<Self> {
        let r = plan.rect;
        let (mut s, mut t) =
            r.at_fraction(rng.random_range(0.25..=0.75), rng.random_range(0.25..=0.75));
        let roads = plan.v_streets.len() + plan.h_streets.len();
        if roads > 0 {
            let pick = rng.random_range(0..roads);
            match plan.v_streets.get(pick) {
                Some(street) => s = street.pos,
                None => t = plan.h_streets[pick - plan.v_streets.len()].pos,
            }
        }
        let half = (
            lattice.units(rng.random_range(90.0..=180.0)),
            lattice.units(rng.random_range(90.0..=180.0)),
        );
        let around = LRect {
            s0: s - half.0,
            t0: t - half.1,
            s1: s + half.0,
            t1: t + half.1,
        };
        Some(Self {
            rect: around.intersection(r)?,
            centre: (s, t),
            half,
        })
    }

    /// Chance that the lot centred at (`s`, `t`) holds a house.
    fn density(&self, s: i64, t: i64) -> f64 {
        let d = ((s - self.centre.0).abs() as f64 / self.half.0 as f64)
            .max((t - self.centre.1).abs() as f64 / self.half.1 as f64)
            .min(1.0);
        HAMLET_DENSITY * (1.0 - 0.6 * d * d)
    }
}

/// A region cut into a grid of lots about `lot` units square.
struct Lots {
    region: LRect,
    ns: i64,
    nt: i64,
}

impl Lots {
    fn new(region: LRect, lot: i64) -> Self {
        Self {
            region,
            ns: (region.width() / lot.max(1)).max(1),
            nt: (region.height() / lot.max(1)).max(1),
        }
    }

    /// The lots whose centres fall in `area` (a part of the region).
    fn within(&self, area: LRect) -> impl Iterator<Item = LRect> + '_ {
        let r = self.region;
        let (ss, ts) = (
            Cuts {
                lo: r.s0,
                len: r.width(),
                n: self.ns,
            },
            Cuts {
                lo: r.t0,
                len: r.height(),
                n: self.nt,
            },
        );
        ts.covering(area.t0, area.t1).flat_map(move |b| {
            ss.covering(area.s0, area.s1).map(move |a| LRect {
                s0: ss.at(a),
                t0: ts.at(b),
                s1: ss.at(a + 1),
                t1: ts.at(b + 1),
            })
        })
    }
}

/// `n` nearly equal cuts of `len` units from `lo`.
#[derive(Clone, Copy)]
struct Cuts {
    lo: i64,
    len: i64,
    n: i64,
}

impl Cuts {
    /// Where piece `k` starts.
    fn at(self, k: i64) -> i64 {
        self.lo + self.len * k / self.n
    }

    /// The pieces whose centres lie in `a0..=a1` (centres increase with `k`).
    fn covering(self, a0: i64, a1: i64) -> std::ops::Range<i64> {
        let first_above = |x: i64, inclusive: bool| {
            let (mut lo, mut hi) = (0, self.n);
            while lo < hi {
                let mid = (lo + hi) / 2;
                let centre = (self.at(mid) + self.at(mid + 1)) / 2;
                if centre > x || (inclusive && centre == x) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            lo
        };
        first_above(a0, true)..first_above(a1, false)
    }
}

/// The largest rectangle of half-sides proportional to `half` (at most
/// `half`), aligned with the lot's southern side and centred in it, that
/// keeps `setback_m` from every side of the convex lot `quad`; with its area
/// in m². `None` when it would be smaller than `min_half_m`.
fn fit(
    quad: &[Coord<f64>; 4],
    half: (f64, f64),
    typology: &Typology,
) -> Option<(MultiPolygon<f64>, f64)> {
    let unit = |c: Coord<f64>| {
        let len = c.x.hypot(c.y);
        (len > 0.0).then(|| c / len)
    };
    let dot = |a: Coord<f64>, b: Coord<f64>| a.x * b.x + a.y * b.y;
    let centre = (quad[0] + quad[1] + quad[2] + quad[3]) / 4.0;
    let e1 = unit(quad[1] - quad[0])?;
    let e2 = Coord { x: -e1.y, y: e1.x };
    let ratio = half.1 / half.0;
    let mut hw = half.0;
    for k in 0..4 {
        let a = quad[k];
        let side = unit(quad[(k + 1) % 4] - a)?;
        let inward = Coord {
            x: -side.y,
            y: side.x,
        };
        let room = dot(inward, centre - a) - typology.setback_m;
        if room <= 0.0 {
            return None;
        }
        hw = hw.min(room / (dot(inward, e1).abs() + ratio * dot(inward, e2).abs()));
    }
    let hd = ratio * hw;
    if hw.min(hd) < typology.min_half_m {
        return None;
    }
    let corner = |a: f64, b: f64| centre + e1 * (a * hw) + e2 * (b * hd);
    let ring = vec![
        corner(-1.0, -1.0),
        corner(1.0, -1.0),
        corner(1.0, 1.0),
        corner(-1.0, 1.0),
        corner(-1.0, -1.0),
    ];
    Some((
        MultiPolygon(vec![Polygon::new(LineString(ring), vec![])]),
        4.0 * hw * hd,
    ))
}

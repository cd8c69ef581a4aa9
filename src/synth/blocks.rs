//! The blocks of a community: its local streets, the land between them, and
//! where street ends split the lattice lines they meet.

use std::ops::Range;

use geo_types::Coord;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::config::SynthConfig;
use super::hierarchy::{Area, Hierarchy};
use super::lattice::{Axis, LRect, Lattice, UNITS};
use super::roads::RoadClass;
use super::{names, stream, Stage};
use crate::model::CommunityKind;

/// A local street crossing a community from boundary to boundary.
#[derive(Debug, Clone)]
pub(super) struct Street {
    /// Position across the street (`s` of a south–north street, `t` of a
    /// west–east one), never on a lattice line.
    pub pos: i64,
    /// One-way in the direction it is drawn.
    pub oneway: bool,
    /// Drawn north to south (or east to west) instead.
    pub reversed: bool,
    pub name: String,
}

/// Chance that a community holds an industrial park (urban, rural); besides,
/// every district has one.
const INDUSTRIAL_PARK: (f64, f64) = (0.04, 0.05);
/// Chance that a village has a road along its main and its other direction.
const VILLAGE_ROADS: (f64, f64) = (0.85, 0.35);
/// Least distance between a street and a lattice line, metres.
const LINE_GAP_M: f64 = 30.0;
/// Chance that an urban street is one-way.
const ONEWAY: f64 = 0.2;

/// The local streets of one community and what its land is used for.
#[derive(Debug, Clone)]
pub(super) struct BlockPlan {
    pub rect: LRect,
    pub kind: CommunityKind,
    /// Streets running south to north (constant `s`).
    pub v_streets: Vec<Street>,
    /// Streets running west to east (constant `t`).
    pub h_streets: Vec<Street>,
    /// The region (see [`BlockPlan::regions`]) given to an industrial park.
    pub industrial: Option<LRect>,
}

/// The plans of every community, in order; one community of each district
/// has an industrial park for sure.
pub(super) fn plans(cfg: &SynthConfig, lattice: &Lattice, hier: &Hierarchy) -> Vec<BlockPlan> {
    let mut parks = vec![false; hier.communities.len()];
    for (n, d) in hier.districts.iter().enumerate() {
        parks[stream(cfg.seed, Stage::LandUse, n).random_range(d.communities.clone())] = true;
    }
    hier.communities
        .iter()
        .zip(parks)
        .enumerate()
        .map(|(n, (c, park))| {
            BlockPlan::new(
                cfg,
                lattice,
                c,
                park,
                &mut stream(cfg.seed, Stage::Blocks, n),
            )
        })
        .collect()
}

impl BlockPlan {
    /// Plans the streets of `community` (urban ones every
    /// `street_spacing_m`, villages at most one road each way) and maybe
    /// an industrial park (for sure when `park`).
    fn new(
        cfg: &SynthConfig,
        lattice: &Lattice,
        community: &Area,
        park: bool,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let rect = community.cells.units();
        let kind = community.kind;
        let (v_streets, h_streets) = match kind {
            CommunityKind::Urban => (
                urban_streets(cfg, lattice, rect.s0..rect.s1, rng),
                urban_streets(cfg, lattice, rect.t0..rect.t1, rng),
            ),
            CommunityKind::Rural => {
                let (main, other) = VILLAGE_ROADS;
                let (pv, ph) = if rng.random_bool(0.5) {
                    (main, other)
                } else {
                    (other, main)
                };
                (
                    village_road(lattice, rect.s0..rect.s1, pv, rng),
                    village_road(lattice, rect.t0..rect.t1, ph, rng),
                )
            }
        };
        let mut plan = Self {
            rect,
            kind,
            v_streets,
            h_streets,
            industrial: None,
        };
        let chance = match kind {
            CommunityKind::Urban => INDUSTRIAL_PARK.0,
            CommunityKind::Rural => INDUSTRIAL_PARK.1,
        };
        if rng.random_bool(chance) || park {
            plan.industrial = plan
                .pick_region(lattice, 150.0, rng)
                .or_else(|| plan.pick_region(lattice, 80.0, rng));
        }
        plan
    }

    /// The land between streets, community boundary and lattice lines: each
    /// region lies inside one lattice cell, so its image is a quadrilateral
    /// and nothing crosses it.
    pub fn regions(&self) -> Vec<LRect> {
        let cuts = |lo: i64, hi: i64, streets: &[Street]| {
            let mut cuts: Vec<i64> = streets
                .iter()
                .map(|s| s.pos)
                .chain((lo / UNITS..=hi / UNITS).map(|c| c * UNITS))
                .filter(|&p| (lo..=hi).contains(&p))
                .collect();
            cuts.sort_unstable();
            cuts.dedup();
            cuts
        };
        let ss = cuts(self.rect.s0, self.rect.s1, &self.v_streets);
        let ts = cuts(self.rect.t0, self.rect.t1, &self.h_streets);
        ts.windows(2)
            .flat_map(|t| {
                ss.windows(2).map(move |s| LRect {
                    s0: s[0],
                    t0: t[0],
                    s1: s[1],
                    t1: t[1],
                })
            })
            .collect()
    }

    /// A random region at least `min_m` metres across both ways, if any.
    pub fn pick_region(
        &self,
        lattice: &Lattice,
        min_m: f64,
        rng: &mut ChaCha8Rng,
    ) -> Option<LRect> {
        let min = lattice.units(min_m);
        let large: Vec<LRect> = self
            .regions()
            .into_iter()
            .filter(|r| r.width() >= min && r.height() >= min)
            .collect();
        (!large.is_empty()).then(|| large[rng.random_range(0..large.len())])
    }

    /// A random point well inside a random region (of 40 m or more when
    /// there is one): inside the community and off every road.
    pub fn interior_point(&self, lattice: &Lattice, rng: &mut ChaCha8Rng) -> Coord<f64> {
        let region = self
            .pick_region(lattice, 40.0, rng)
            .or_else(|| self.pick_region(lattice, 0.0, rng))
            .unwrap_or(self.rect);
        let (s, t) = region.at_fraction(rng.random_range(0.2..=0.8), rng.random_range(0.2..=0.8));
        lattice.at(s, t)
    }
}

/// Streets across `span` every `street_spacing_m` or so, a little irregular.
fn urban_streets(
    cfg: &SynthConfig,
    lattice: &Lattice,
    span: Range<i64>,
    rng: &mut ChaCha8Rng,
) -> Vec<Street> {
    let spacing = rng.random_range(cfg.street_spacing_m.clone());
    let count =
        ((lattice.metres(span.end - span.start) / spacing).round() as usize).saturating_sub(1);
    (1..=count)
        .map(|m| {
            let f = (m as f64 + rng.random_range(-0.15..=0.15)) / (count + 1) as f64;
            Street {
                pos: position(lattice, &span, f),
                oneway: rng.random_bool(ONEWAY),
                reversed: rng.random_bool(0.5),
                name: names::road(rng, RoadClass::Residential),
            }
        })
        .collect()
}

/// A village road across `span` with probability `chance`.
fn village_road(
    lattice: &Lattice,
    span: Range<i64>,
    chance: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<Street> {
    if !rng.random_bool(chance) {
        return Vec::new();
    }
    let f = rng.random_range(0.3..=0.7);
    vec![Street {
        pos: position(lattice, &span, f),
        oneway: false,
        reversed: false,
        name: names::road(rng, RoadClass::Residential),
    }]
}

/// The position of a street at fraction `f` of `span`, moved at least
/// [`LINE_GAP_M`] away from the lattice lines so that no sliver of land lies
/// between them.
fn position(lattice: &Lattice, span: &Range<i64>, f: f64) -> i64 {
    let pos = span.start + ((span.end - span.start) as f64 * f).round() as i64;
    let gap = lattice.units(LINE_GAP_M).clamp(1, UNITS / 4);
    let (line, offset) = (pos.div_euclid(UNITS) * UNITS, pos.rem_euclid(UNITS));
    line + offset.clamp(gap, UNITS - gap)
}

/// Where streets end on each lattice line: the boundary roads and area
/// boundaries on the line get a vertex there.
#[derive(Debug, Clone)]
pub(super) struct Splits {
    /// Per `H` line (index `j`), the `s` of street ends, sorted.
    h: Vec<Vec<i64>>,
    /// Per `V` line (index `i`), the `t` of street ends, sorted.
    v: Vec<Vec<i64>>,
}

impl Splits {
    /// Collects the street ends of every community.
    pub fn new(hier: &Hierarchy, plans: &[BlockPlan]) -> Self {
        let mut h = vec![Vec::new(); hier.ny + 1];
        let mut v = vec![Vec::new(); hier.nx + 1];
        for (c, plan) in hier.communities.iter().zip(plans) {
            for s in &plan.v_streets {
                h[c.cells.j0].push(s.pos);
                h[c.cells.j1].push(s.pos);
            }
            for s in &plan.h_streets {
                v[c.cells.i0].push(s.pos);
                v[c.cells.i1].push(s.pos);
            }
        }
        for line in h.iter_mut().chain(&mut v) {
            line.sort_unstable();
            line.dedup();
        }
        Self { h, v }
    }

    /// The street ends on line `line` of `axis`.
    fn line(&self, axis: Axis, line: usize) -> &[i64] {
        match axis {
            Axis::H => &self.h[line],
            Axis::V => &self.v[line],
        }
    }

    /// `true` when a street ends at `pos` on line `line` of `axis`.
    pub fn is_split(&self, axis: Axis, line: usize, pos: i64) -> bool {
        self.line(axis, line).binary_search(&pos).is_ok()
    }

    /// The vertices on line `line` of `axis` across `cells`, in order: every
    /// lattice vertex from the first to the last and every street end.
    pub fn positions(&self, axis: Axis, line: usize, cells: Range<usize>) -> Vec<i64> {
        let (lo, hi) = (cells.start as i64 * UNITS, cells.end as i64 * UNITS);
        let ends = self.line(axis, line);
        let from = ends.partition_point(|&p| p <= lo);
        let to = ends.partition_point(|&p| p < hi);
        let mut out: Vec<i64> = ends[from..to]
            .iter()
            .copied()
            .chain((cells.start..=cells.end).map(|c| c as i64 * UNITS))
            .collect();
        out.sort_unstable();
        out
    }
}

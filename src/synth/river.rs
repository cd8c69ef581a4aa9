//! An optional river: a meandering centre line crossing the territory from
//! west to east, a [`Barrier`] that unit cells are cut along.
//!
//! The line is y = f(x), sampled every [`STEP_M`] metres from just west of
//! the territory to just east of it: a main bend and a shorter one of a
//! third of its amplitude, both with random phases, about a random middle
//! between 40 % and 60 % of the territory's height, so it never leaves the
//! territory. Houses within [`CLEARANCE_M`] of it are left out (nobody builds
//! in the river bed); roads simply cross it (bridges).

use std::f64::consts::TAU;

use geo::BoundingRect;
use geo_types::{Coord, LineString};
use rand::Rng;

use super::lattice::Lattice;
use super::{names, stream, Stage};
use crate::model::{Barrier, BarrierKind, Building};

/// Distance between the line's vertices along x, metres.
const STEP_M: f64 = 50.0;
/// How far the line runs past the territory's west and east edges, metres.
const OVERHANG_M: f64 = 100.0;
/// Houses closer than this to the line are left out, metres.
pub(super) const CLEARANCE_M: f64 = 10.0;
/// Amplitude of the main bend, as a share of the territory's height.
const AMPLITUDE: f64 = 0.12;

/// The river's line, y at evenly spaced x (metres).
pub(super) struct River {
    x0: f64,
    ys: Vec<f64>,
}

impl River {
    /// A river across the territory of `lattice`.
    pub(super) fn new(seed: u64, lattice: &Lattice) -> Self {
        let b = lattice.bounds();
        let (sw, ne) = (lattice.at(b.s0, b.t0), lattice.at(b.s1, b.t1));
        let (width, height) = (ne.x - sw.x, ne.y - sw.y);
        let mut rng = stream(seed, Stage::River, 0);
        let middle = sw.y + height * rng.random_range(0.4..=0.6);
        let amplitude = AMPLITUDE * height;
        let wavelength = (width / 2.0).max(1_000.0);
        let (phase, phase2): (f64, f64) = (rng.random_range(0.0..TAU), rng.random_range(0.0..TAU));
        let x0 = sw.x - OVERHANG_M;
        let n = ((width + 2.0 * OVERHANG_M) / STEP_M).ceil() as usize;
        let ys = (0..=n)
            .map(|i| {
                let u = TAU * (i as f64 * STEP_M - OVERHANG_M) / wavelength;
                middle + amplitude * (u + phase).sin() + amplitude / 3.0 * (2.7 * u + phase2).sin()
            })
            .collect();
        Self { x0, ys }
    }

    /// The line as a barrier, in metres.
    pub(super) fn barrier(&self, seed: u64) -> Barrier {
        let mut rng = stream(seed, Stage::River, 1);
        Barrier {
            id: 0,
            kind: BarrierKind::River,
            name: names::stem(&mut rng) + "河",
            geometry: LineString::from(
                self.ys
                    .iter()
                    .enumerate()
                    .map(|(i, &y)| Coord {
                        x: self.x0 + i as f64 * STEP_M,
                        y,
                    })
                    .collect::<Vec<_>>(),
            ),
        }
    }

    /// The line's y at `x` (clamped to its ends).
    fn y_at(&self, x: f64) -> f64 {
        let last = self.ys.len().saturating_sub(1);
        let f = ((x - self.x0) / STEP_M).clamp(0.0, last as f64);
        let i = (f.floor() as usize).min(last.saturating_sub(1));
        let (here, next) = (self.ys[i], self.ys[(i + 1).min(last)]);
        here + (next - here) * (f - i as f64)
    }

    /// `true` when the line passes within `margin` of the box of `g`: the
    /// line's y over the box's x range (widened by `margin`) meets its y
    /// range (widened by `margin`). Conservative: a box corner may be a
    /// little farther than `margin` from the line.
    fn near(&self, g: &geo_types::MultiPolygon<f64>, margin: f64) -> bool {
        let Some(r) = g.bounding_rect() else {
            return false;
        };
        let (xa, xb) = (r.min().x - margin, r.max().x + margin);
        let inner = (0..self.ys.len())
            .filter(|&i| (xa..=xb).contains(&(self.x0 + i as f64 * STEP_M)))
            .map(|i| self.ys[i]);
        let (lo, hi) = [self.y_at(xa), self.y_at(xb)]
            .into_iter()
            .chain(inner)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
                (lo.min(y), hi.max(y))
            });
        lo <= r.max().y + margin && hi >= r.min().y - margin
    }

    /// Leaves out the buildings within [`CLEARANCE_M`] of the line.
    pub(super) fn clear(&self, buildings: &mut Vec<Building>) {
        buildings.retain(|b| !self.near(&b.geometry, CLEARANCE_M));
    }
}

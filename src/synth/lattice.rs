//! The jittered lattice that every synthetic boundary, road and building is
//! placed on.
//!
//! Positions are whole *lattice units* (`s` west to east, `t` south to
//! north; [`UNITS`] per lattice cell). [`Lattice::at`] maps them to metres by
//! bilinear interpolation inside the cell: a pure function, so a position
//! used by two features gets bit-identical coordinates in both, and lines of
//! constant `s` or `t` are straight inside each cell, so the image of a
//! rectangle of units inside one cell is a quadrilateral with straight sides.

use geo_types::Coord;
use rand::Rng;

use super::{stream, Stage};

/// Lattice units per cell side (a power of two, so unit fractions are exact).
pub(super) const UNITS: i64 = 2048;

/// A direction of lattice lines: `H` lines have constant `t` and run west to
/// east, `V` lines have constant `s` and run south to north.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Axis {
    H,
    V,
}

impl Axis {
    /// The other direction.
    pub fn other(self) -> Self {
        match self {
            Self::H => Self::V,
            Self::V => Self::H,
        }
    }

    /// (`s`, `t`) of the point at `along` on the line at `across`.
    pub fn st(self, along: i64, across: i64) -> (i64, i64) {
        match self {
            Self::H => (along, across),
            Self::V => (across, along),
        }
    }
}

/// A rectangle of lattice units, `s0 < s1`, `t0 < t1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LRect {
    pub s0: i64,
    pub t0: i64,
    pub s1: i64,
    pub t1: i64,
}

impl LRect {
    /// Extent along `s`.
    pub fn width(self) -> i64 {
        self.s1 - self.s0
    }

    /// Extent along `t`.
    pub fn height(self) -> i64 {
        self.t1 - self.t0
    }

    /// The overlap of two rectangles, if it has an area.
    pub fn intersection(self, o: Self) -> Option<Self> {
        let r = Self {
            s0: self.s0.max(o.s0),
            t0: self.t0.max(o.t0),
            s1: self.s1.min(o.s1),
            t1: self.t1.min(o.t1),
        };
        (r.s0 < r.s1 && r.t0 < r.t1).then_some(r)
    }

    /// The rectangle shrunk by `by` units on every side, if anything is left.
    pub fn inset(self, by: i64) -> Option<Self> {
        let r = Self {
            s0: self.s0 + by,
            t0: self.t0 + by,
            s1: self.s1 - by,
            t1: self.t1 - by,
        };
        (r.s0 < r.s1 && r.t0 < r.t1).then_some(r)
    }

    /// The point at fractions (`fs`, `ft`) of the rectangle.
    pub fn at_fraction(self, fs: f64, ft: f64) -> (i64, i64) {
        (
            self.s0 + (self.width() as f64 * fs).round() as i64,
            self.t0 + (self.height() as f64 * ft).round() as i64,
        )
    }

    /// `true` when (`s`, `t`) is inside or on the boundary.
    pub fn contains(self, s: i64, t: i64) -> bool {
        (self.s0..=self.s1).contains(&s) && (self.t0..=self.t1).contains(&t)
    }
}

/// The lattice: `(nx + 1) × (ny + 1)` jittered vertices in metres.
#[derive(Debug, Clone)]
pub(super) struct Lattice {
    nx: usize,
    ny: usize,
    spacing_m: f64,
    vertices: Vec<Coord<f64>>,
}

impl Lattice {
    /// A lattice of `cells` = (`nx`, `ny`) cells of `spacing_m` metres from
    /// `origin` (south-west corner, metres), each vertex moved by up to
    /// `jitter` × spacing in x and y; boundary vertices only move along the
    /// boundary and the four corners stay put.
    pub fn new(
        origin: Coord<f64>,
        cells: (usize, usize),
        spacing_m: f64,
        jitter: f64,
        seed: u64,
    ) -> Self {
        let (nx, ny) = cells;
        let amplitude = jitter * spacing_m;
        let mut vertices = Vec::with_capacity((nx + 1) * (ny + 1));
        for j in 0..=ny {
            let mut rng = stream(seed, Stage::Lattice, j);
            for i in 0..=nx {
                let dx: f64 = rng.random_range(-amplitude..=amplitude);
                let dy: f64 = rng.random_range(-amplitude..=amplitude);
                let dx = if i == 0 || i == nx { 0.0 } else { dx };
                let dy = if j == 0 || j == ny { 0.0 } else { dy };
                vertices.push(Coord {
                    x: origin.x + i as f64 * spacing_m + dx,
                    y: origin.y + j as f64 * spacing_m + dy,
                });
            }
        }
        Self {
            nx,
            ny,
            spacing_m,
            vertices,
        }
    }

    /// Nominal cell side in metres.
    pub fn spacing_m(&self) -> f64 {
        self.spacing_m
    }

    /// The whole lattice in units.
    pub fn bounds(&self) -> LRect {
        LRect {
            s0: 0,
            t0: 0,
            s1: self.nx as i64 * UNITS,
            t1: self.ny as i64 * UNITS,
        }
    }

    /// About `metres` metres in lattice units.
    pub fn units(&self, metres: f64) -> i64 {
        (metres / self.spacing_m * UNITS as f64).round() as i64
    }

    /// About `units` lattice units in metres.
    pub fn metres(&self, units: i64) -> f64 {
        units as f64 / UNITS as f64 * self.spacing_m
    }

    /// The point at (`s`, `t`) in metres: bilinear inside the cell
    /// holding it (the cell to the north-east on a cell boundary).
    pub fn at(&self, s: i64, t: i64) -> Coord<f64> {
        let (col, east) = cell_of(s, self.nx);
        let (row, north) = cell_of(t, self.ny);
        let vertex = |col: usize, row: usize| self.vertices[row * (self.nx + 1) + col];
        let south_side = lerp(vertex(col, row), vertex(col + 1, row), east);
        let north_side = lerp(vertex(col, row + 1), vertex(col + 1, row + 1), east);
        lerp(south_side, north_side, north)
    }

    /// The point at (`along`, `across`) of a line of `axis`.
    pub fn at_axis(&self, axis: Axis, along: i64, across: i64) -> Coord<f64> {
        let (s, t) = axis.st(along, across);
        self.at(s, t)
    }

    /// The corners of a rectangle of units, counter-clockwise from south-west.
    pub fn quad(&self, r: LRect) -> [Coord<f64>; 4] {
        [
            self.at(r.s0, r.t0),
            self.at(r.s1, r.t0),
            self.at(r.s1, r.t1),
            self.at(r.s0, r.t1),
        ]
    }
}

/// The cell index holding `pos` (clamped to the `n` cells) and the fraction
/// of the cell to its west or south.
fn cell_of(pos: i64, n: usize) -> (usize, f64) {
    let cell = pos.div_euclid(UNITS).clamp(0, n as i64 - 1);
    (cell as usize, (pos - cell * UNITS) as f64 / UNITS as f64)
}

/// Linear interpolation, exact at both ends.
fn lerp(a: Coord<f64>, b: Coord<f64>, f: f64) -> Coord<f64> {
    Coord {
        x: a.x * (1.0 - f) + b.x * f,
        y: a.y * (1.0 - f) + b.y * f,
    }
}

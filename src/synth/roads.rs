//! The road network: arterials and `tertiary` roads along area boundaries,
//! `residential` streets inside communities.
//!
//! Roads are split at every junction, so roads meet only at their endpoints,
//! and those have identical coordinates (the same lattice position); the
//! network is connected because every community boundary carries a road and
//! every street ends on one.

use std::ops::Range;

use geo_types::{Coord, LineString};

use super::blocks::{BlockPlan, Splits, Street};
use super::hierarchy::Hierarchy;
use super::lattice::{Axis, Lattice, UNITS};
use super::names;
use crate::model::{Oneway, Road};

/// The classes of synthetic roads (OSM `highway` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RoadClass {
    /// Along district boundaries and the territory's edge.
    Primary,
    /// Along subdistrict boundaries.
    Secondary,
    /// Along community boundaries.
    Tertiary,
    /// Local streets inside communities.
    Residential,
}

impl RoadClass {
    fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Secondary => "secondary",
            Self::Tertiary => "tertiary",
            Self::Residential => "residential",
        }
    }

    fn speed_kmh(self) -> f64 {
        match self {
            Self::Primary => 60.0,
            Self::Secondary => 50.0,
            Self::Tertiary => 40.0,
            Self::Residential => 30.0,
        }
    }
}

/// Every road of the territory, in metres.
pub(super) fn roads(
    seed: u64,
    hier: &Hierarchy,
    lattice: &Lattice,
    splits: &Splits,
    plans: &[BlockPlan],
) -> Vec<Road> {
    let mut out = Vec::new();
    for axis in [Axis::H, Axis::V] {
        for line in 0..=hier.along(axis.other()) {
            boundary_line(seed, hier, lattice, splits, axis, line, &mut out);
        }
    }
    for plan in plans {
        let r = plan.rect;
        for street in &plan.v_streets {
            street_roads(
                lattice,
                Axis::V,
                street,
                r.t0..r.t1,
                &plan.h_streets,
                &mut out,
            );
        }
        for street in &plan.h_streets {
            street_roads(
                lattice,
                Axis::H,
                street,
                r.s0..r.s1,
                &plan.v_streets,
                &mut out,
            );
        }
    }
    out
}

/// The roads of one local street of `axis` across `span`: split where
/// `crossing` streets cross it, bent where it crosses a lattice line.
fn street_roads(
    lattice: &Lattice,
    axis: Axis,
    street: &Street,
    span: Range<i64>,
    crossing: &[Street],
    out: &mut Vec<Road>,
) {
    let mut stops: Vec<(i64, bool)> = crossing
        .iter()
        .map(|c| (c.pos, true))
        .chain(
            (span.start / UNITS + 1..=span.end / UNITS).map(|c| (c * UNITS, c * UNITS == span.end)),
        )
        .collect();
    stops.sort_unstable_by_key(|&(p, junction)| (p, !junction));
    stops.dedup_by_key(|&mut (p, _)| p);
    let mut w = Walker::new(out);
    w.start(
        RoadClass::Residential,
        &street.name,
        (street.oneway, street.reversed),
        lattice.at_axis(axis, span.start, street.pos),
    );
    for (p, junction) in stops {
        w.push(lattice.at_axis(axis, p, street.pos));
        if junction {
            w.split();
        }
    }
    w.finish();
}

/// The boundary roads on lattice line `line` of `axis`: one road between
/// consecutive junctions (a road or street meeting the line, a change of
/// class), through every lattice vertex and street end on it.
fn boundary_line(
    seed: u64,
    hier: &Hierarchy,
    lattice: &Lattice,
    splits: &Splits,
    axis: Axis,
    line: usize,
    out: &mut Vec<Road>,
) {
    let across = line as i64 * UNITS;
    let positions = splits.positions(axis, line, 0..hier.along(axis));
    let perpendicular = |vertex: usize| {
        let other = axis.other();
        (line > 0 && hier.edge_class(other, line - 1, vertex).is_some())
            || (line < hier.along(other) && hier.edge_class(other, line, vertex).is_some())
    };
    let mut w = Walker::new(out);
    for pair in positions.windows(2) {
        let (p, q) = (pair[0], pair[1]);
        let Some(class) = hier.edge_class(axis, (p / UNITS) as usize, line) else {
            w.finish();
            continue;
        };
        if w.class != Some(class) {
            let name = names::boundary_road(seed, axis, line, class);
            w.start(
                class,
                &name,
                (false, false),
                lattice.at_axis(axis, p, across),
            );
        }
        w.push(lattice.at_axis(axis, q, across));
        let junction = if q % UNITS == 0 {
            perpendicular((q / UNITS) as usize)
        } else {
            splits.is_split(axis, line, q)
        };
        if junction {
            w.split();
        }
    }
    w.finish();
}

/// Draws roads point by point and emits one [`Road`] per stretch between
/// junctions.
struct Walker<'a> {
    out: &'a mut Vec<Road>,
    class: Option<RoadClass>,
    name: String,
    oneway: bool,
    reversed: bool,
    coords: Vec<Coord<f64>>,
}

impl<'a> Walker<'a> {
    fn new(out: &'a mut Vec<Road>) -> Self {
        Self {
            out,
            class: None,
            name: String::new(),
            oneway: false,
            reversed: false,
            coords: Vec::new(),
        }
    }

    /// Ends the current road and starts one of `class` named `name` at
    /// `at`; `(oneway, reversed)`: one-way, and drawn backwards.
    fn start(
        &mut self,
        class: RoadClass,
        name: &str,
        (oneway, reversed): (bool, bool),
        at: Coord<f64>,
    ) {
        self.finish();
        self.class = Some(class);
        name.clone_into(&mut self.name);
        self.oneway = oneway;
        self.reversed = reversed;
        self.coords.push(at);
    }

    fn push(&mut self, at: Coord<f64>) {
        self.coords.push(at);
    }

    /// Emits the road drawn so far and goes on from its last point.
    fn split(&mut self) {
        if let (Some(class), Some(&last)) = (self.class, self.coords.last()) {
            if self.coords.len() >= 2 {
                let mut coords = std::mem::replace(&mut self.coords, vec![last]);
                if self.reversed {
                    coords.reverse();
                }
                self.out.push(Road {
                    id: 0,
                    class: class.as_str().to_owned(),
                    name: self.name.clone(),
                    speed_kmh: Some(class.speed_kmh()),
                    oneway: if self.oneway {
                        Oneway::Forward
                    } else {
                        Oneway::No
                    },
                    geometry: LineString(coords),
                });
            }
        }
    }

    /// Emits the road drawn so far and stops.
    fn finish(&mut self) {
        self.split();
        self.coords.clear();
        self.class = None;
    }
}

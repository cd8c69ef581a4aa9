//! Coverage: which places the facilities reach within a time limit.

use geo_types::Point;

use super::{to_ms, NetworkError, RoadGraph, Snap};
use crate::index::project_point;

/// A facility seen as a source of travel: where it is and its turn-out time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoverageSource {
    /// Location in lon/lat.
    pub point: Point<f64>,
    /// Turn-out time before driving, seconds.
    pub turnout_s: f64,
}

/// A place to cover: typically the centre of a unit cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoverageTarget {
    /// Location in lon/lat.
    pub point: Point<f64>,
    /// Households it stands for.
    pub households: u64,
    /// `true` for a high-risk place (a red or orange cell).
    pub high_risk: bool,
}

/// How much of a total is covered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Share {
    /// Covered amount.
    pub covered: u64,
    /// Total amount.
    pub total: u64,
}

impl Share {
    /// `covered / total`, `None` when the total is 0.
    pub fn ratio(&self) -> Option<f64> {
        (self.total > 0).then(|| self.covered as f64 / self.total as f64)
    }

    fn add(&mut self, amount: u64, covered: bool) {
        self.total += amount;
        if covered {
            self.covered += amount;
        }
    }
}

/// The answer of [`RoadGraph::coverage`].
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// Per target, the earliest arrival in seconds when within the limit.
    pub eta_s: Vec<Option<f64>>,
    /// Per target, `true` when some source arrives within the limit.
    pub covered: Vec<bool>,
    /// Targets covered (one each).
    pub cells: Share,
    /// Households covered.
    pub households: Share,
    /// High-risk targets covered.
    pub high_risk: Share,
    /// Indexes of the sources farther from every road than the snapping
    /// limit: they cover nothing.
    pub unsnapped_sources: Vec<usize>,
}

/// Sources placed on the network.
pub(super) struct Placed {
    /// Graph nodes and the times at which travel reaches them first.
    pub seeds: Vec<(usize, u64)>,
    /// Each placed source's snap and turn-out time, milliseconds.
    pub snaps: Vec<(Snap, u64)>,
    /// Indexes of the sources too far from every road.
    pub unsnapped: Vec<usize>,
}

impl RoadGraph {
    /// Snaps the sources and seeds a search with their departures.
    pub(super) fn place(&self, sources: &[CoverageSource]) -> Result<Placed, NetworkError> {
        let mut placed = Placed {
            seeds: Vec::new(),
            snaps: Vec::new(),
            unsnapped: Vec::new(),
        };
        for (i, s) in sources.iter().enumerate() {
            match self.snap(s.point) {
                Ok(snap) => {
                    let turnout = to_ms(s.turnout_s);
                    placed
                        .seeds
                        .extend(self.departures(&snap).map(|(n, ms)| (n, turnout + ms)));
                    placed.snaps.push((snap, turnout));
                }
                Err(NetworkError::TooFarFromRoad { .. }) => placed.unsnapped.push(i),
                Err(e) => return Err(e),
            }
        }
        Ok(placed)
    }

    /// Which `targets` some source reaches within `limit_s` seconds of
    /// dispatch (turn-out plus drive, from the source to the target): one
    /// multi-source Dijkstra on the graph, bounded by the limit, then each
    /// target's arrival through either end of the segment it snaps to (or
    /// along that segment from a source on it). A target farther from every
    /// road than the snapping limit is not covered.
    ///
    /// # Errors
    /// [`NetworkError::Point`] for a source or target out of range.
    pub fn coverage(
        &self,
        sources: &[CoverageSource],
        limit_s: f64,
        targets: &[CoverageTarget],
    ) -> Result<Coverage, NetworkError> {
        let limit_ms = to_ms(limit_s);
        let placed = self.place(sources)?;
        let dist = self.bounded_dijkstra(&placed.seeds, limit_ms);
        let mut out = Coverage {
            eta_s: Vec::with_capacity(targets.len()),
            covered: Vec::with_capacity(targets.len()),
            cells: Share::default(),
            households: Share::default(),
            high_risk: Share::default(),
            unsnapped_sources: placed.unsnapped,
        };
        for t in targets {
            let snap = match self.snap_metric(project_point(&self.projection, t.point)?) {
                Ok(snap) => Some(snap),
                Err(NetworkError::TooFarFromRoad { .. }) => None,
                Err(e) => return Err(e),
            };
            let eta = snap.and_then(|snap| {
                let via = self
                    .arrivals(&snap)
                    .filter(|&(n, _)| dist[n] != u64::MAX)
                    .map(|(n, ms)| dist[n] + ms);
                let direct = placed
                    .snaps
                    .iter()
                    .filter_map(|(s, turnout)| Some(turnout + self.direct_ms(s, &snap)?));
                via.chain(direct).min().filter(|&ms| ms <= limit_ms)
            });
            let covered = eta.is_some();
            out.eta_s.push(eta.map(|ms| ms as f64 / 1000.0));
            out.covered.push(covered);
            out.cells.add(1, covered);
            out.households.add(t.households, covered);
            out.high_risk.add(u64::from(t.high_risk), covered);
        }
        Ok(out)
    }
}

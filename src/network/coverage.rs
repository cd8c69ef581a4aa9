//! Coverage: which places the facilities reach within a time limit.

use std::collections::HashMap;

use geo_types::Point;
use rayon::prelude::*;

use super::graph::Seed;
use super::{to_ms, NetworkError, RoadGraph, Snap};

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

/// Places to reach, snapped to the graph once for any number of searches
/// ([`RoadGraph::snap_targets`]): the unit cells of a region, whose
/// centres do not move between writes.
#[derive(Debug, Clone, Default)]
pub struct SnappedTargets {
    /// Per target, where it meets the network (`None`: farther from every
    /// road than the snapping limit).
    snaps: Vec<Option<Snap>>,
    /// The targets on a segment ending at node `n`:
    /// `by_node[start[n]..start[n + 1]]`.
    start: Vec<u32>,
    by_node: Vec<u32>,
}

impl SnappedTargets {
    /// Number of targets.
    pub fn len(&self) -> usize {
        self.snaps.len()
    }

    /// `true` without targets.
    pub fn is_empty(&self) -> bool {
        self.snaps.is_empty()
    }

    /// The targets on segments ending at `node`.
    fn at_node(&self, node: usize) -> &[u32] {
        &self.by_node[self.start[node] as usize..self.start[node + 1] as usize]
    }
}

/// When travel reaches a target first, and from which source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Arrival {
    /// Turn-out plus drive, milliseconds.
    pub ms: u64,
    /// Index of the source among those searched: the lowest of those
    /// arriving at the same millisecond.
    pub source: usize,
}

/// The answer of [`RoadGraph::reach`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reached {
    /// (target index, its arrival) for every target reached within the
    /// limit, by target index.
    pub arrivals: Vec<(usize, Arrival)>,
    /// Indexes of the sources farther from every road than the snapping
    /// limit: they reach nothing.
    pub unsnapped_sources: Vec<usize>,
}

/// Sources placed on the network.
pub(super) struct Placed {
    /// Graph nodes and the times at which travel reaches them first.
    pub seeds: Vec<Seed>,
    /// Each placed source's snap and turn-out time, milliseconds.
    pub snaps: Vec<(Snap, u64)>,
    /// The index of each placed source (parallel to `snaps`).
    pub indexes: Vec<usize>,
    /// Indexes of the sources too far from every road.
    pub unsnapped: Vec<usize>,
}

impl RoadGraph {
    /// Snaps the sources and seeds a search with their departures.
    pub(super) fn place(&self, sources: &[CoverageSource]) -> Result<Placed, NetworkError> {
        let mut placed = Placed {
            seeds: Vec::new(),
            snaps: Vec::new(),
            indexes: Vec::new(),
            unsnapped: Vec::new(),
        };
        for (i, s) in sources.iter().enumerate() {
            match self.snap(s.point) {
                Ok(snap) => {
                    let turnout = to_ms(s.turnout_s);
                    placed
                        .seeds
                        .extend(self.departures(&snap).map(|(node, ms)| Seed {
                            node,
                            ms: turnout + ms,
                            source: i as u32,
                        }));
                    placed.snaps.push((snap, turnout));
                    placed.indexes.push(i);
                }
                Err(NetworkError::TooFarFromRoad { .. }) => placed.unsnapped.push(i),
                Err(e) => return Err(e),
            }
        }
        Ok(placed)
    }

    /// Snaps the `points` of places to reach, in parallel.
    ///
    /// # Errors
    /// [`NetworkError::Point`] for a point out of range.
    pub fn snap_targets(&self, points: &[Point<f64>]) -> Result<SnappedTargets, NetworkError> {
        let snaps = points
            .par_iter()
            .map(|&p| match self.snap(p) {
                Ok(snap) => Ok(Some(snap)),
                Err(NetworkError::TooFarFromRoad { .. }) => Ok(None),
                Err(e) => Err(e),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ends = |snap: &Snap| {
            let seg = self.segments[snap.segment];
            [Some(seg.from), (seg.to != seg.from).then_some(seg.to)]
        };
        let mut start = vec![0_u32; self.node_count() + 1];
        for snap in snaps.iter().flatten() {
            for node in ends(snap).into_iter().flatten() {
                start[node + 1] += 1;
            }
        }
        for n in 0..self.node_count() {
            start[n + 1] += start[n];
        }
        let mut fill = start.clone();
        let mut by_node = vec![0_u32; start[self.node_count()] as usize];
        for (t, snap) in snaps.iter().enumerate() {
            for node in snap.iter().flat_map(ends).flatten() {
                by_node[fill[node] as usize] = t as u32;
                fill[node] += 1;
            }
        }
        Ok(SnappedTargets {
            snaps,
            start,
            by_node,
        })
    }

    /// The `targets` some source reaches within `limit_s` seconds of
    /// dispatch (turn-out plus drive, from the source to the target), each
    /// with its earliest arrival: one multi-source Dijkstra on the graph,
    /// bounded by the limit, then each target's arrival through either end
    /// of the segment it snaps to (or along that segment from a source on
    /// it). Only the targets near the nodes reached are looked at, so one
    /// source costs its own neighbourhood, not the region.
    ///
    /// # Errors
    /// [`NetworkError::Point`] for a source out of range.
    pub fn reach(
        &self,
        sources: &[CoverageSource],
        limit_s: f64,
        targets: &SnappedTargets,
    ) -> Result<Reached, NetworkError> {
        let limit_ms = to_ms(limit_s);
        let placed = self.place(sources)?;
        let search = self.bounded_search(&placed.seeds, limit_ms);
        let mut on_segment: HashMap<usize, Vec<(usize, &Snap, u64)>> = HashMap::new();
        for ((snap, turnout), &i) in placed.snaps.iter().zip(&placed.indexes) {
            on_segment
                .entry(snap.segment)
                .or_default()
                .push((i, snap, *turnout));
        }
        let near_sources = on_segment.values().flatten().flat_map(|(_, snap, _)| {
            let seg = self.segments[snap.segment];
            [seg.from, seg.to]
        });
        let mut candidates: Vec<u32> = search
            .settled
            .iter()
            .copied()
            .chain(near_sources)
            .flat_map(|n| targets.at_node(n).iter().copied())
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let arrivals = candidates
            .into_iter()
            .filter_map(|t| {
                let t = t as usize;
                let snap = targets.snaps[t].as_ref()?;
                let via = self.arrivals(snap).filter_map(|(n, ms)| {
                    let (at, source) = search.at(n);
                    (at != u64::MAX).then(|| Arrival {
                        ms: at + ms,
                        source: source as usize,
                    })
                });
                let direct = on_segment
                    .get(&snap.segment)
                    .into_iter()
                    .flatten()
                    .filter_map(|&(source, from, turnout)| {
                        Some(Arrival {
                            ms: turnout + self.direct_ms(from, snap)?,
                            source,
                        })
                    });
                let first = via.chain(direct).min().filter(|a| a.ms <= limit_ms)?;
                Some((t, first))
            })
            .collect();
        Ok(Reached {
            arrivals,
            unsnapped_sources: placed.unsnapped,
        })
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
        let points: Vec<Point<f64>> = targets.iter().map(|t| t.point).collect();
        let reached = self.reach(sources, limit_s, &self.snap_targets(&points)?)?;
        let mut eta_s = vec![None; targets.len()];
        for (t, a) in reached.arrivals {
            eta_s[t] = Some(a.ms as f64 / 1000.0);
        }
        let mut out = Coverage {
            covered: eta_s.iter().map(Option::is_some).collect(),
            eta_s,
            cells: Share::default(),
            households: Share::default(),
            high_risk: Share::default(),
            unsnapped_sources: reached.unsnapped_sources,
        };
        for (t, &covered) in targets.iter().zip(&out.covered) {
            out.cells.add(1, covered);
            out.households.add(t.households, covered);
            out.high_risk.add(u64::from(t.high_risk), covered);
        }
        Ok(out)
    }
}

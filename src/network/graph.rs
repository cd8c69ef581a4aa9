//! Building the road graph: nodes, segments, directed edges, the segment
//! R-tree, strongly connected components and the contraction hierarchy.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Mutex, PoisonError};

use fast_paths::{FastGraph, InputGraph, PathCalculator};
use geo_types::{Coord, Line, Point};
use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use rstar::primitives::GeomWithData;
use rstar::RTree;

use super::speeds::SpeedTable;
use super::{to_ms, NetworkError};
use crate::crs::LocalProjection;
use crate::model::{Oneway, Road};

/// Coordinates closer than this snap to one node: a 1 cm lattice in metres.
const NODE_LATTICE_PER_M: f64 = 100.0;
/// Default largest distance from a point to the road it snaps to, metres.
pub const DEFAULT_MAX_SNAP_M: f64 = 1_000.0;

/// A straight piece of road between two nodes, with its travel times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Node at the start (the road's drawing direction).
    pub from: usize,
    /// Node at the end.
    pub to: usize,
    /// Length in the local projection, metres.
    pub length_m: f64,
    /// Travel time from `from` to `to` in milliseconds (at least 1), `None`
    /// when one-way against this direction.
    pub forward_ms: Option<u32>,
    /// Travel time from `to` to `from` in milliseconds, `None` when one-way.
    pub backward_ms: Option<u32>,
    /// Index of the road in the slice the graph was built from.
    pub road: usize,
}

/// A directed edge of the graph: one allowed direction of a [`Segment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// Tail node.
    pub from: usize,
    /// Head node.
    pub to: usize,
    /// Travel time in milliseconds (at least 1).
    pub weight_ms: u32,
    /// The segment it runs along.
    pub segment: usize,
}

/// A directed road graph with travel times, ready for shortest paths.
///
/// Nodes are road coordinates, merged when they fall on the same point of a
/// 1 cm lattice in the local projection (OSM ways share nodes at junctions,
/// synthetic roads are noded with identical coordinates); every pair of
/// consecutive coordinates of a driven road is a [`Segment`] whose travel
/// time is its length over the road's speed ([`SpeedTable`]), rounded to the
/// millisecond. One-way roads have one [`Edge`], others two.
///
/// Shortest paths use a contraction hierarchy (fast_paths) prepared once at
/// build; bounded searches (coverage, isochrones) run Dijkstra on the edges.
pub struct RoadGraph {
    pub(super) projection: LocalProjection,
    pub(super) nodes_xy: Vec<Coord<f64>>,
    pub(super) nodes_lonlat: Vec<Coord<f64>>,
    pub(super) segments: Vec<Segment>,
    /// Out-edges of node `n`: `out[out_start[n]..out_start[n + 1]]`.
    out_start: Vec<usize>,
    out: Vec<Edge>,
    /// Strongly connected component of each node.
    pub(super) component: Vec<usize>,
    pub(super) segment_tree: RTree<GeomWithData<Line<f64>, usize>>,
    pub(super) ch: FastGraph,
    calculators: Mutex<Vec<PathCalculator>>,
    /// The highest speed of any edge, in metres per millisecond.
    pub(super) metres_per_ms: f64,
    pub(super) max_snap_m: f64,
}

impl std::fmt::Debug for RoadGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoadGraph")
            .field("nodes", &self.nodes_xy.len())
            .field("segments", &self.segments.len())
            .field("edges", &self.out.len())
            .field("max_snap_m", &self.max_snap_m)
            .finish_non_exhaustive()
    }
}

impl RoadGraph {
    /// Builds the graph of the driven `roads` (see [`SpeedTable`]) in
    /// `projection` and prepares its contraction hierarchy (7.6 s for
    /// 207,000 nodes in a release build, 0.1 s for the 3,700 of
    /// [`SynthConfig::city`](crate::synth::SynthConfig::city)).
    ///
    /// # Errors
    /// [`NetworkError::RoadGeometry`] for a road that cannot be projected,
    /// [`NetworkError::Empty`] when no road is driven.
    pub fn build(
        roads: &[Road],
        projection: &LocalProjection,
        speeds: &SpeedTable,
    ) -> Result<Self, NetworkError> {
        let projection = LocalProjection::new(projection.central_meridian())?;
        let mut nodes = Nodes::default();
        let mut segments = Vec::new();
        for (index, road) in roads.iter().enumerate() {
            let Some(kmh) = speeds.road_kmh(road) else {
                continue;
            };
            let metric = projection.project(&road.geometry).map_err(|source| {
                NetworkError::RoadGeometry {
                    road: road.id,
                    source,
                }
            })?;
            let metres_per_ms = kmh / 3600.0;
            let coords: Vec<_> = metric.0.iter().zip(&road.geometry.0).collect();
            for pair in coords.windows(2) {
                if Nodes::key(*pair[0].0) == Nodes::key(*pair[1].0) {
                    continue;
                }
                let a = nodes.intern(*pair[0].0, *pair[0].1);
                let b = nodes.intern(*pair[1].0, *pair[1].1);
                let (pa, pb) = (nodes.xy[a], nodes.xy[b]);
                let length_m = (pb.x - pa.x).hypot(pb.y - pa.y);
                let ms = (length_m / metres_per_ms)
                    .round()
                    .clamp(1.0, f64::from(u32::MAX)) as u32;
                segments.push(Segment {
                    from: a,
                    to: b,
                    length_m,
                    forward_ms: (road.oneway != Oneway::Backward).then_some(ms),
                    backward_ms: (road.oneway != Oneway::Forward).then_some(ms),
                    road: index,
                });
            }
        }
        if segments.is_empty() {
            return Err(NetworkError::Empty);
        }
        let Nodes {
            xy: nodes_xy,
            lonlat: nodes_lonlat,
            ..
        } = nodes;
        let n = nodes_xy.len();
        let (out_start, out) = adjacency(n, &segments);
        let metres_per_ms = out
            .iter()
            .map(|e| segments[e.segment].length_m / f64::from(e.weight_ms))
            .fold(f64::MIN_POSITIVE, f64::max);
        let segment_tree = RTree::bulk_load(
            segments
                .iter()
                .enumerate()
                .map(|(i, s)| GeomWithData::new(Line::new(nodes_xy[s.from], nodes_xy[s.to]), i))
                .collect(),
        );
        let mut input = InputGraph::new();
        for e in &out {
            input.add_edge(e.from, e.to, e.weight_ms as usize);
        }
        input.freeze();
        Ok(Self {
            projection,
            component: components(n, &out),
            nodes_xy,
            nodes_lonlat,
            segments,
            out_start,
            out,
            segment_tree,
            ch: fast_paths::prepare(&input),
            calculators: Mutex::new(Vec::new()),
            metres_per_ms,
            max_snap_m: DEFAULT_MAX_SNAP_M,
        })
    }

    /// Sets the largest distance from a point to the road it snaps to, in
    /// metres (default [`DEFAULT_MAX_SNAP_M`]).
    #[must_use]
    pub fn with_max_snap_m(mut self, metres: f64) -> Self {
        self.max_snap_m = metres.max(0.0);
        self
    }

    /// The projection the graph measures in.
    pub fn projection(&self) -> &LocalProjection {
        &self.projection
    }

    /// The farthest, in metres in a straight line, a source point can be
    /// from a target point that a search of `limit_s` seconds reaches:
    /// the limit at the graph's top speed, plus the snapping limit at both
    /// ends. Sources farther from a place cannot reach it in time.
    pub fn reach_m(&self, limit_s: f64) -> f64 {
        to_ms(limit_s) as f64 * self.metres_per_ms + 2.0 * self.max_snap_m
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes_xy.len()
    }

    /// A node's position in lon/lat.
    pub fn node_point(&self, node: usize) -> Option<Point<f64>> {
        self.nodes_lonlat.get(node).copied().map(Point)
    }

    /// A node's position in the local projection, metres.
    pub fn node_metric(&self, node: usize) -> Option<Coord<f64>> {
        self.nodes_xy.get(node).copied()
    }

    /// The segments, indexed by [`Edge::segment`].
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Every directed edge, grouped by tail node.
    pub fn edges(&self) -> &[Edge] {
        &self.out
    }

    /// The edges leaving `node`.
    pub(super) fn out_edges(&self, node: usize) -> &[Edge] {
        &self.out[self.out_start[node]..self.out_start[node + 1]]
    }

    /// Runs `f` with a path calculator from the graph's pool (one per
    /// concurrent caller, reused across queries).
    pub(super) fn with_calculator<R>(&self, f: impl FnOnce(&mut PathCalculator) -> R) -> R {
        let pooled = self
            .calculators
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut calc = pooled.unwrap_or_else(|| fast_paths::create_calculator(&self.ch));
        let result = f(&mut calc);
        self.calculators
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(calc);
        result
    }

    /// Travel times in milliseconds from the `seeds` (node, initial time,
    /// source) to every node reachable within `limit_ms`: a multi-source
    /// Dijkstra that stops at the limit. Each node keeps the earliest time
    /// and, of the sources reaching it then, the lowest: the order of
    /// (time, source) pairs, which adding an edge's time preserves, so the
    /// answer is the same whichever sources are searched together.
    pub(super) fn bounded_search(&self, seeds: &[Seed], limit_ms: u64) -> Search {
        let mut out = Search {
            dist: vec![u64::MAX; self.node_count()],
            source: vec![u32::MAX; self.node_count()],
            settled: Vec::new(),
        };
        let mut heap = BinaryHeap::new();
        for s in seeds {
            if s.ms <= limit_ms && (s.ms, s.source) < out.at(s.node) {
                out.dist[s.node] = s.ms;
                out.source[s.node] = s.source;
                heap.push(Reverse((s.ms, s.source, s.node)));
            }
        }
        while let Some(Reverse((ms, source, node))) = heap.pop() {
            if (ms, source) != out.at(node) {
                continue;
            }
            out.settled.push(node);
            for e in self.out_edges(node) {
                let next = ms + u64::from(e.weight_ms);
                if next <= limit_ms && (next, source) < out.at(e.to) {
                    out.dist[e.to] = next;
                    out.source[e.to] = source;
                    heap.push(Reverse((next, source, e.to)));
                }
            }
        }
        out
    }
}

/// Where a search starts: a node, the time travel reaches it, and the
/// index of the source it leaves from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seed {
    pub node: usize,
    pub ms: u64,
    pub source: u32,
}

/// The answer of [`RoadGraph::bounded_search`].
pub(super) struct Search {
    /// Per node, the earliest time in milliseconds (`u64::MAX`: not within
    /// the limit).
    pub dist: Vec<u64>,
    /// Per node, the source reaching it first (lowest on ties).
    pub source: Vec<u32>,
    /// The nodes reached, in the order they were settled.
    pub settled: Vec<usize>,
}

impl Search {
    /// The (time, source) pair of a node: (`u64::MAX`, `u32::MAX`) when
    /// not reached.
    pub fn at(&self, node: usize) -> (u64, u32) {
        (self.dist[node], self.source[node])
    }
}

/// Road coordinates merged into nodes on a 1 cm lattice; a node keeps the
/// position of its first coordinate.
#[derive(Default)]
struct Nodes {
    ids: HashMap<(i64, i64), usize>,
    xy: Vec<Coord<f64>>,
    lonlat: Vec<Coord<f64>>,
}

impl Nodes {
    /// The lattice point of a metric position.
    fn key(xy: Coord<f64>) -> (i64, i64) {
        (
            (xy.x * NODE_LATTICE_PER_M).round() as i64,
            (xy.y * NODE_LATTICE_PER_M).round() as i64,
        )
    }

    /// The node at metric position `xy` (lon/lat `lonlat`), added if new.
    fn intern(&mut self, xy: Coord<f64>, lonlat: Coord<f64>) -> usize {
        *self.ids.entry(Self::key(xy)).or_insert_with(|| {
            self.xy.push(xy);
            self.lonlat.push(lonlat);
            self.xy.len() - 1
        })
    }
}

/// The directed edges of `segments`, sorted by tail, with the start of each
/// node's run (compressed sparse rows).
fn adjacency(n: usize, segments: &[Segment]) -> (Vec<usize>, Vec<Edge>) {
    let mut out: Vec<Edge> = segments
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let forward = s.forward_ms.map(|w| Edge {
                from: s.from,
                to: s.to,
                weight_ms: w,
                segment: i,
            });
            let backward = s.backward_ms.map(|w| Edge {
                from: s.to,
                to: s.from,
                weight_ms: w,
                segment: i,
            });
            forward.into_iter().chain(backward)
        })
        .collect();
    out.sort_by_key(|e| (e.from, e.to, e.weight_ms, e.segment));
    let mut start = vec![0; n + 1];
    for e in &out {
        start[e.from + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    (start, out)
}

/// The strongly connected component of each node (petgraph's Kosaraju).
fn components(n: usize, edges: &[Edge]) -> Vec<usize> {
    let mut g = DiGraph::<(), ()>::with_capacity(n, edges.len());
    for _ in 0..n {
        g.add_node(());
    }
    for e in edges {
        g.add_edge(NodeIndex::new(e.from), NodeIndex::new(e.to), ());
    }
    let mut component = vec![0; n];
    for (c, nodes) in kosaraju_scc(&g).into_iter().enumerate() {
        for v in nodes {
            component[v.index()] = c;
        }
    }
    component
}

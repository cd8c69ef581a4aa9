//! Recursive bisection of a connected region of atoms into k parts, each
//! contiguous and within the household bounds.
//!
//! To split a region into k parts, it is cut in two: one side for
//! k₁ = ⌊k/2⌋ parts and one for k₂ = k − k₁, the first side holding as near
//! to W·k₁/k of its W households as the bounds allow (k₁·min ≤ w₁ ≤ k₁·max
//! and k₂·min ≤ W − w₁ ≤ k₂·max). A side is grown from the atom furthest
//! along one of four directions (west, east, south, north) by adding, at
//! each step, the frontier atom least far along that direction: a sweep
//! that stays connected. The prefix of that order closest to the target is
//! the first side; pockets of the rest cut off by it join the first side.
//! Of the four directions, the feasible cut with the shortest shared
//! boundary wins (compactness); the others are kept in reserve should the
//! sides fail to split further.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::Bounds;
use crate::cells::frame::P;

/// The atoms as a weighted graph.
pub(super) struct Graph<'a> {
    /// Households per atom.
    pub weight: &'a [u32],
    /// Centre of each atom, frame metres.
    pub centre: &'a [P],
    /// Neighbours with shared boundary length.
    pub adj: &'a [Vec<(usize, f64)>],
}

/// Splits tried before a region is given up on, per region of the call.
const ATTEMPTS_PER_ATOM: usize = 8;

/// The connected components of `members` (in the graph restricted to them),
/// each sorted.
pub(super) fn components(g: &Graph<'_>, members: &[usize]) -> Vec<Vec<usize>> {
    let mut inside = vec![false; g.weight.len()];
    for &m in members {
        inside[m] = true;
    }
    let mut seen = vec![false; g.weight.len()];
    let mut out = Vec::new();
    for &start in members {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let mut stack = vec![start];
        let mut comp = Vec::new();
        while let Some(v) = stack.pop() {
            comp.push(v);
            for &(n, _) in &g.adj[v] {
                if inside[n] && !seen[n] {
                    seen[n] = true;
                    stack.push(n);
                }
            }
        }
        comp.sort_unstable();
        out.push(comp);
    }
    out
}

/// `region` (connected) split into `k` contiguous parts within `bounds`,
/// or `None` if this method finds no such split.
pub(super) fn split(
    g: &Graph<'_>,
    region: Vec<usize>,
    k: u32,
    bounds: Bounds,
) -> Option<Vec<Vec<usize>>> {
    let mut budget = ATTEMPTS_PER_ATOM * region.len().max(1);
    let mut out = Vec::new();
    bisect(g, region, k, bounds, &mut budget, &mut out).then_some(out)
}

fn bisect(
    g: &Graph<'_>,
    region: Vec<usize>,
    k: u32,
    bounds: Bounds,
    budget: &mut usize,
    out: &mut Vec<Vec<usize>>,
) -> bool {
    let total: u64 = region.iter().map(|&v| u64::from(g.weight[v])).sum();
    if k <= 1 {
        let fits = u32::try_from(total).is_ok_and(|w| bounds.holds(w));
        if fits {
            out.push(region);
        }
        return fits;
    }
    if region.len() < 2 {
        return false;
    }
    let (k1, k2) = (u64::from(k / 2), u64::from(k - k / 2));
    let (min, max) = (u64::from(bounds.min), u64::from(bounds.max));
    let lo = (k1 * min).max(total.saturating_sub(k2 * max));
    let hi = (k1 * max).min(total.saturating_sub(k2 * min));
    if lo > hi || total < k2 * min {
        return false;
    }
    let target = total as f64 * k1 as f64 / (k1 + k2) as f64;
    let mut candidates: Vec<Cut> = DIRECTIONS
        .iter()
        .filter_map(|&dir| cut(g, &region, dir, target, lo, hi))
        .collect();
    candidates.sort_by(|a, b| a.boundary.total_cmp(&b.boundary));
    candidates.dedup_by(|a, b| a.first == b.first);
    let mark = out.len();
    for c in candidates {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        let second: Vec<usize> = {
            let mut inside = vec![false; g.weight.len()];
            for &v in &c.first {
                inside[v] = true;
            }
            region.iter().copied().filter(|&v| !inside[v]).collect()
        };
        if bisect(g, c.first, k / 2, bounds, budget, out)
            && bisect(g, second, k - k / 2, bounds, budget, out)
        {
            return true;
        }
        out.truncate(mark);
    }
    false
}

/// Unit vectors of the four sweep directions.
const DIRECTIONS: [[f64; 2]; 4] = [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]];

/// A candidate first side.
struct Cut {
    /// Its atoms, sorted.
    first: Vec<usize>,
    /// Length of boundary between the sides, metres.
    boundary: f64,
}

/// The first side grown along `dir` whose households are in `lo..=hi` and
/// closest to `target`, with the rest's pockets added.
fn cut(g: &Graph<'_>, region: &[usize], dir: P, target: f64, lo: u64, hi: u64) -> Option<Cut> {
    let n = g.weight.len();
    let mut inside = vec![false; n];
    for &v in region {
        inside[v] = true;
    }
    let key = |v: usize| g.centre[v][0] * dir[0] + g.centre[v][1] * dir[1];
    let seed = region
        .iter()
        .copied()
        .min_by(|&a, &b| key(a).total_cmp(&key(b)).then(a.cmp(&b)))?;
    let mut taken = vec![false; n];
    let mut queued = vec![false; n];
    let mut heap = BinaryHeap::new();
    heap.push(Reverse((Key(key(seed)), seed)));
    queued[seed] = true;
    let mut order = Vec::with_capacity(region.len());
    let mut weight = 0_u64;
    let mut boundary = 0.0_f64;
    // (households, boundary) after each prefix
    let mut prefixes = Vec::with_capacity(region.len());
    while let Some(Reverse((_, v))) = heap.pop() {
        taken[v] = true;
        order.push(v);
        weight += u64::from(g.weight[v]);
        for &(nb, len) in &g.adj[v] {
            if !inside[nb] {
                continue;
            }
            if taken[nb] {
                boundary -= len;
            } else {
                boundary += len;
                if !queued[nb] {
                    queued[nb] = true;
                    heap.push(Reverse((Key(key(nb)), nb)));
                }
            }
        }
        prefixes.push((weight, boundary));
    }
    let last = order.len().checked_sub(1)?;
    let (best, _) = prefixes[..last]
        .iter()
        .enumerate()
        .filter(|(_, (w, _))| (lo..=hi).contains(w))
        .min_by(|(_, (wa, ba)), (_, (wb, bb))| {
            (*wa as f64 - target)
                .abs()
                .total_cmp(&(*wb as f64 - target).abs())
                .then(ba.total_cmp(bb))
        })?;
    let mut first: Vec<usize> = order[..=best].to_vec();
    let rest = &order[best + 1..];
    // Pockets of the rest cut off from its main part join the first side.
    let mut parts = components(g, rest);
    if parts.len() > 1 {
        parts.sort_by_key(|p| Reverse(p.iter().map(|&v| u64::from(g.weight[v])).sum::<u64>()));
        for pocket in parts.drain(1..) {
            first.extend(pocket);
        }
        let w: u64 = first.iter().map(|&v| u64::from(g.weight[v])).sum();
        if !(lo..=hi).contains(&w) {
            return None;
        }
    }
    first.sort_unstable();
    let boundary = boundary_between(g, &first, &inside);
    Some(Cut { first, boundary })
}

/// Length of the boundary between `first` and the rest of the region.
fn boundary_between(g: &Graph<'_>, first: &[usize], region: &[bool]) -> f64 {
    let mut mine = vec![false; g.weight.len()];
    for &v in first {
        mine[v] = true;
    }
    first
        .iter()
        .flat_map(|&v| &g.adj[v])
        .filter(|&&(nb, _)| region[nb] && !mine[nb])
        .map(|&(_, len)| len)
        .sum()
}

/// A total order on f64 for the heap.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Key(f64);

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

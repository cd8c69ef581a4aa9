//! Recursive bisection of a connected region of atoms into k parts, each
//! contiguous and within the household bounds.
//!
//! To split a region into k parts, it is cut in two: one side for
//! k₁ = ⌊k/2⌋ parts and one for k₂ = k − k₁, the first side holding as near
//! to W·k₁/k of its W households as the bounds allow (k₁·min ≤ w₁ ≤ k₁·max
//! and k₂·min ≤ W − w₁ ≤ k₂·max). A side is grown from the atom furthest
//! along one of eight directions by adding, at
//! each step, the frontier atom least far along that direction: a sweep
//! that stays connected. The prefixes of that order nearest to the target
//! are candidate first sides; pockets of the rest cut off by one join it.
//! Of all candidates of the eight directions (the axes and diagonals), the
//! one with the shortest shared boundary is tried first (compactness); the
//! others are kept in reserve should the sides fail to split further,
//! within a budget of attempts per atom.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::f64::consts::FRAC_1_SQRT_2;

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
        .flat_map(|&dir| cuts(g, &region, dir, target, lo, hi))
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

/// Unit vectors of the eight sweep directions.
const DIRECTIONS: [[f64; 2]; 8] = [
    [1.0, 0.0],
    [-1.0, 0.0],
    [0.0, 1.0],
    [0.0, -1.0],
    [FRAC_1_SQRT_2, FRAC_1_SQRT_2],
    [-FRAC_1_SQRT_2, FRAC_1_SQRT_2],
    [FRAC_1_SQRT_2, -FRAC_1_SQRT_2],
    [-FRAC_1_SQRT_2, -FRAC_1_SQRT_2],
];

/// A candidate first side.
struct Cut {
    /// Its atoms, sorted.
    first: Vec<usize>,
    /// Length of boundary between the sides, metres.
    boundary: f64,
}

/// Prefixes tried per sweep direction, nearest to the target first.
const PREFIXES_PER_DIRECTION: usize = 6;

/// First sides grown along `dir` whose households are in `lo..=hi`,
/// nearest to `target` first (at most [`PREFIXES_PER_DIRECTION`]), each
/// with the rest's pockets added.
fn cuts(g: &Graph<'_>, region: &[usize], dir: P, target: f64, lo: u64, hi: u64) -> Vec<Cut> {
    let n = g.weight.len();
    let mut inside = vec![false; n];
    for &v in region {
        inside[v] = true;
    }
    let key = |v: usize| g.centre[v][0] * dir[0] + g.centre[v][1] * dir[1];
    let Some(seed) = region
        .iter()
        .copied()
        .min_by(|&a, &b| key(a).total_cmp(&key(b)).then(a.cmp(&b)))
    else {
        return Vec::new();
    };
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
    let Some(last) = order.len().checked_sub(1) else {
        return Vec::new();
    };
    let mut feasible: Vec<(usize, u64, f64)> = prefixes[..last]
        .iter()
        .enumerate()
        .filter(|(_, (w, _))| (lo..=hi).contains(w))
        .map(|(i, &(w, b))| (i, w, b))
        .collect();
    feasible.sort_by(|a, b| {
        (a.1 as f64 - target)
            .abs()
            .total_cmp(&(b.1 as f64 - target).abs())
            .then(a.2.total_cmp(&b.2))
            .then(a.0.cmp(&b.0))
    });
    // Several prefixes of equal weight differ only by empty atoms: keep one per weight.
    feasible.dedup_by_key(|f| f.1);
    let mut out = Vec::new();
    for (best, _, _) in feasible.into_iter().take(PREFIXES_PER_DIRECTION) {
        let mut first: Vec<usize> = order[..=best].to_vec();
        // Pockets of the rest cut off from its main part join the first side.
        let mut parts = components(g, &order[best + 1..]);
        if parts.len() > 1 {
            parts.sort_by_key(|p| Reverse(p.iter().map(|&v| u64::from(g.weight[v])).sum::<u64>()));
            for pocket in parts.drain(1..) {
                first.extend(pocket);
            }
            let w: u64 = first.iter().map(|&v| u64::from(g.weight[v])).sum();
            if !(lo..=hi).contains(&w) {
                continue;
            }
        }
        first.sort_unstable();
        let boundary = boundary_between(g, &first, &inside);
        out.push(Cut { first, boundary });
    }
    out
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

/// Moves single atoms across part boundaries, each move lowering the total
/// distance of the parts' households to the bounds and keeping both parts
/// contiguous, until every part is within the bounds or no move helps.
/// Returns `true` when every part ends within the bounds.
///
/// Bisection lands on the prefixes of a sweep; tight bounds (a village of
/// 160 households must make exactly 80 + 80) need finer steps than that.
pub(super) fn repair(g: &Graph<'_>, parts: &mut [Vec<usize>], bounds: Bounds) -> bool {
    let n = g.weight.len();
    let mut owner = vec![usize::MAX; n];
    for (p, members) in parts.iter().enumerate() {
        for &v in members {
            owner[v] = p;
        }
    }
    let mut weight: Vec<u64> = parts
        .iter()
        .map(|m| m.iter().map(|&v| u64::from(g.weight[v])).sum())
        .collect();
    let (min, max) = (u64::from(bounds.min), u64::from(bounds.max));
    let off = |w: u64| min.saturating_sub(w) + w.saturating_sub(max);
    let limit = 4 * n + 16;
    for _ in 0..limit {
        if weight.iter().all(|&w| off(w) == 0) {
            break;
        }
        // The best move: (gain, atom, from, to).
        let mut best: Option<(u64, usize, usize, usize)> = None;
        for v in 0..n {
            let from = owner[v];
            if from == usize::MAX || g.weight[v] == 0 {
                continue;
            }
            let wv = u64::from(g.weight[v]);
            for &(nb, _) in &g.adj[v] {
                let to = owner[nb];
                if to == usize::MAX || to == from {
                    continue;
                }
                let before = off(weight[from]) + off(weight[to]);
                let after = off(weight[from] - wv) + off(weight[to] + wv);
                if after < before && best.is_none_or(|(gain, ..)| before - after > gain) {
                    let rest: Vec<usize> =
                        parts[from].iter().copied().filter(|&x| x != v).collect();
                    if !rest.is_empty() && components(g, &rest).len() == 1 {
                        best = Some((before - after, v, from, to));
                    }
                }
            }
        }
        let moves = match best {
            Some((_, v, from, to)) => vec![(v, from, to)],
            None => match best_swap(g, parts, &owner, &weight, &off) {
                Some(pair) => pair.to_vec(),
                None => break,
            },
        };
        for (v, from, to) in moves {
            let wv = u64::from(g.weight[v]);
            parts[from].retain(|&x| x != v);
            parts[to].push(v);
            owner[v] = to;
            weight[from] -= wv;
            weight[to] += wv;
        }
    }
    for members in parts.iter_mut() {
        members.sort_unstable();
    }
    weight.iter().all(|&w| off(w) == 0)
}

/// An atom moving from one part to another: (atom, from, to).
type Move = (usize, usize, usize);

/// The best exchange of two atoms between neighbouring parts (`v` one way,
/// `u` the other) that lowers the distance to the bounds and keeps both
/// parts contiguous: the step a single move cannot make when the parts are
/// 1 household off and every boundary atom holds 2 or more.
fn best_swap(
    g: &Graph<'_>,
    parts: &[Vec<usize>],
    owner: &[usize],
    weight: &[u64],
    off: &dyn Fn(u64) -> u64,
) -> Option<[Move; 2]> {
    let mut best: Option<(u64, [Move; 2])> = None;
    for (p, members) in parts.iter().enumerate() {
        if off(weight[p]) == 0 {
            continue;
        }
        for &v in members {
            for &(nb, _) in &g.adj[v] {
                let q = owner[nb];
                if q == usize::MAX || q == p {
                    continue;
                }
                for &u in &parts[q] {
                    if u == nb || g.adj[u].iter().any(|&(x, _)| owner[x] == p || x == v) {
                        let (wv, wu) = (u64::from(g.weight[v]), u64::from(g.weight[u]));
                        if wv == wu {
                            continue;
                        }
                        let (wp, wq) = (weight[p] - wv + wu, weight[q] - wu + wv);
                        let before = off(weight[p]) + off(weight[q]);
                        let after = off(wp) + off(wq);
                        if after >= before || best.is_some_and(|(gain, _)| before - after <= gain) {
                            continue;
                        }
                        let mut pp: Vec<usize> =
                            members.iter().copied().filter(|&x| x != v).collect();
                        pp.push(u);
                        let mut qq: Vec<usize> =
                            parts[q].iter().copied().filter(|&x| x != u).collect();
                        qq.push(v);
                        if components(g, &pp).len() == 1 && components(g, &qq).len() == 1 {
                            best = Some((before - after, [(v, p, q), (u, q, p)]));
                        }
                    }
                }
            }
        }
    }
    best.map(|(_, pair)| pair)
}

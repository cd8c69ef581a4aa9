//! Slivers and detached parts merge into a neighbour.
//!
//! A unit is a set of faces that will become one cell. Units smaller than
//! the minimum, and the smaller parts of a grid square that a block's shape
//! split apart, merge into the neighbour with the longest shared edge: a
//! neighbour in the same block first, else one across a road; never one
//! across a barrier (a river, a wall: the unit stays as it is when it has
//! no other neighbour). Communities are partitioned one at a time, so
//! nothing merges across their boundary.
//! The smallest unit goes first; a unit with no neighbour stays as it is.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// A set of faces on its way to becoming a cell.
#[derive(Debug, Clone)]
pub(super) struct Unit {
    /// Indices of its faces.
    pub faces: Vec<usize>,
    /// Area, m².
    pub area: f64,
    /// The block it started in.
    pub block: usize,
    /// The bank of its block: the side of the barriers it lies on.
    pub bank: usize,
    /// A detached part of a grid square: merges whatever its size.
    pub detached: bool,
    /// `false` once merged into another unit.
    pub alive: bool,
    /// Shared edge length with each neighbouring unit, metres.
    pub neighbours: BTreeMap<usize, f64>,
}

/// Merges slivers (area < `min_m2`) and detached parts; returns how many merged.
pub(super) fn merge(units: &mut [Unit], min_m2: f64) -> usize {
    let pending = |u: &Unit| u.alive && (u.detached || u.area < min_m2);
    let key = |i: usize, u: &Unit| Reverse((!u.detached, u.area.to_bits(), i));
    let mut heap: BinaryHeap<_> = units
        .iter()
        .enumerate()
        .filter(|(_, u)| pending(u))
        .map(|(i, u)| key(i, u))
        .collect();
    let mut merged = 0;
    while let Some(Reverse((_, bits, i))) = heap.pop() {
        if !pending(&units[i]) || units[i].area.to_bits() != bits {
            continue;
        }
        let (block, bank) = (units[i].block, units[i].bank);
        let target = units[i]
            .neighbours
            .iter()
            .filter(|(&n, _)| units[n].alive && units[n].bank == bank)
            .max_by(|(&a, &la), (&b, &lb)| {
                let (sa, sb) = (units[a].block == block, units[b].block == block);
                sa.cmp(&sb).then(la.total_cmp(&lb)).then(b.cmp(&a))
            })
            .map(|(&n, _)| n);
        let Some(t) = target else { continue };
        let unit = std::mem::replace(
            &mut units[i],
            Unit {
                faces: Vec::new(),
                area: 0.0,
                block,
                bank,
                detached: false,
                alive: false,
                neighbours: BTreeMap::new(),
            },
        );
        for (&n, &len) in &unit.neighbours {
            units[n].neighbours.remove(&i);
            if n != t {
                *units[n].neighbours.entry(t).or_default() += len;
                *units[t].neighbours.entry(n).or_default() += len;
            }
        }
        let target = &mut units[t];
        target.faces.extend(unit.faces);
        target.area += unit.area;
        merged += 1;
        if pending(target) {
            heap.push(key(t, target));
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(area: f64, block: usize, neighbours: &[(usize, f64)]) -> Unit {
        Unit {
            faces: vec![],
            area,
            block,
            bank: 0,
            detached: false,
            alive: true,
            neighbours: neighbours.iter().copied().collect(),
        }
    }

    #[test]
    fn sliver_goes_to_same_block_before_longer_edge_across_road() {
        let mut units = vec![
            unit(500.0, 0, &[(1, 10.0), (2, 50.0)]),
            unit(9_000.0, 0, &[(0, 10.0)]),
            unit(9_000.0, 1, &[(0, 50.0)]),
        ];
        assert_eq!(merge(&mut units, 1_000.0), 1);
        assert!(!units[0].alive);
        assert!((units[1].area - 9_500.0).abs() < 1e-9);
        // The road neighbour now borders the merged unit.
        assert_eq!(units[2].neighbours.get(&1), Some(&50.0));
    }

    #[test]
    fn sliver_never_merges_across_a_barrier() {
        let mut units = vec![
            unit(500.0, 0, &[(1, 50.0), (2, 10.0)]),
            unit(9_000.0, 1, &[(0, 50.0)]),
            unit(9_000.0, 2, &[(0, 10.0)]),
        ];
        // Unit 1 lies across a river: the sliver goes to 2 across a road.
        units[1].bank = 1;
        assert_eq!(merge(&mut units, 1_000.0), 1);
        assert!(units[1].alive && (units[1].area - 9_000.0).abs() < 1e-9);
        assert!((units[2].area - 9_500.0).abs() < 1e-9);
        // With only the river neighbour, it stays as it is.
        let mut units = vec![unit(500.0, 0, &[(1, 50.0)]), unit(9_000.0, 1, &[(0, 50.0)])];
        units[1].bank = 1;
        assert_eq!(merge(&mut units, 1_000.0), 0);
        assert!(units[0].alive);
    }
}

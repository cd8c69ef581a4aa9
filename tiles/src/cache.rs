//! A size-bounded in-memory cache of encoded tiles, invalidated by area.
//!
//! Entries are evicted oldest-inserted first once their total weight
//! (bytes) passes the bound: cheap bookkeeping, and reads take only a
//! shared lock. [`TileCache::invalidate`] drops every tile whose bounds meet
//! one of the changed lon/lat rectangles, at every zoom and scale, and
//! nothing else. The caller must make sure a tile rendered from data older
//! than an invalidation is not inserted after it (the service renders and
//! inserts under the engine's read lock, and invalidates under its write
//! lock).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock};

use crate::{LonLatBounds, TileCoord};

/// What a cached tile is: a layer, an address and a pixel scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileKey {
    /// The layer's name (`risk`, `cells`…).
    pub layer: &'static str,
    /// The tile.
    pub coord: TileCoord,
    /// 1, or 2 for `@2x`.
    pub scale: u8,
}

struct Entry<V> {
    value: V,
    weight: usize,
    serial: u64,
}

struct Inner<V> {
    map: HashMap<TileKey, Entry<V>>,
    order: VecDeque<(TileKey, u64)>,
    weight: usize,
    serial: u64,
    /// Bumped by every invalidation and clearing (see [`TileCache::generation`]).
    generation: u64,
}

/// The cache; values are cheap to clone (shared bytes).
pub struct TileCache<V> {
    inner: RwLock<Inner<V>>,
    capacity: AtomicUsize,
    hits: AtomicU64,
    misses: AtomicU64,
    evicted: AtomicU64,
    invalidated: AtomicU64,
}

/// What a cache has done since it was made (for metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found a tile.
    pub hits: u64,
    /// Lookups that found none.
    pub misses: u64,
    /// Tiles dropped to stay within the bound.
    pub evicted: u64,
    /// Tiles dropped by invalidation (writes) or clearing.
    pub invalidated: u64,
    /// Tiles cached now.
    pub entries: usize,
    /// Their weight (bytes) now.
    pub bytes: usize,
}

impl<V: Clone> TileCache<V> {
    /// An empty cache holding at most `capacity` units of weight (bytes).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: RwLock::new(Inner {
                map: HashMap::new(),
                order: VecDeque::new(),
                weight: 0,
                serial: 0,
                generation: 0,
            }),
            capacity: AtomicUsize::new(capacity),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            invalidated: AtomicU64::new(0),
        }
    }

    /// Counts of hits, misses and drops, and the cache's size now.
    pub fn stats(&self) -> CacheStats {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
            invalidated: self.invalidated.load(Ordering::Relaxed),
            entries: inner.map.len(),
            bytes: inner.weight,
        }
    }

    /// Sets the bound (0: nothing is cached), evicting the oldest entries
    /// while over it.
    pub fn set_capacity(&self, capacity: usize) {
        self.capacity.store(capacity, Ordering::Relaxed);
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let n = evict(&mut inner, capacity);
        self.evicted.fetch_add(n, Ordering::Relaxed);
    }

    /// The cached value of `key`.
    pub fn get(&self, key: &TileKey) -> Option<V> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let found = inner.map.get(key).map(|e| e.value.clone());
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// The cached value of `key`, not counted as a hit or a miss (a second
    /// look by a caller that has already counted its lookup).
    pub fn peek(&self, key: &TileKey) -> Option<V> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        inner.map.get(key).map(|e| e.value.clone())
    }

    /// Caches `value` of `weight` under `key` (replacing any), then evicts
    /// the oldest entries while over the bound. A value heavier than the
    /// whole bound is not kept.
    pub fn insert(&self, key: TileKey, value: V, weight: usize) {
        self.insert_since(None, key, value, weight);
    }

    /// The cache's generation: it changes with every invalidation and
    /// clearing. Read it before reading the data a tile is rendered from,
    /// and cache the tile with [`TileCache::insert_if_current`].
    pub fn generation(&self) -> u64 {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .generation
    }

    /// Caches `value` like [`TileCache::insert`], unless an invalidation or
    /// clearing ran since `generation` was read: a tile rendered from data
    /// that a write has since replaced is never cached after the write's
    /// invalidation. Returns whether it was cached.
    pub fn insert_if_current(
        &self,
        generation: u64,
        key: TileKey,
        value: V,
        weight: usize,
    ) -> bool {
        self.insert_since(Some(generation), key, value, weight)
    }

    fn insert_since(&self, generation: Option<u64>, key: TileKey, value: V, weight: usize) -> bool {
        let capacity = self.capacity.load(Ordering::Relaxed);
        if weight > capacity {
            return false;
        }
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if generation.is_some_and(|g| g != inner.generation) {
            return false;
        }
        inner.serial += 1;
        let serial = inner.serial;
        if let Some(old) = inner.map.insert(
            key,
            Entry {
                value,
                weight,
                serial,
            },
        ) {
            inner.weight -= old.weight;
        }
        inner.weight += weight;
        inner.order.push_back((key, serial));
        let n = evict(&mut inner, capacity);
        self.evicted.fetch_add(n, Ordering::Relaxed);
        if inner.order.len() > 2 * inner.map.len() + 64 {
            let Inner { map, order, .. } = &mut *inner;
            order.retain(|(k, s)| map.get(k).is_some_and(|e| e.serial == *s));
        }
        true
    }

    /// Drops every tile (any layer, zoom and scale) whose bounds meet one of
    /// `changed`; returns how many.
    pub fn invalidate(&self, changed: &[LonLatBounds]) -> usize {
        if changed.is_empty() {
            return 0;
        }
        self.drop_where(|k| changed.iter().any(|r| k.coord.meets(r)))
    }

    /// Drops every tile of `layer` (any zoom and scale); returns how many.
    pub fn invalidate_layer(&self, layer: &str) -> usize {
        self.drop_where(|k| k.layer == layer)
    }

    /// Drops every tile.
    pub fn clear(&self) {
        self.drop_where(|_| true);
    }

    fn drop_where(&self, doomed: impl Fn(&TileKey) -> bool) -> usize {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        inner.generation += 1;
        let before = inner.map.len();
        let mut freed = 0;
        inner.map.retain(|k, e| {
            let keep = !doomed(k);
            if !keep {
                freed += e.weight;
            }
            keep
        });
        inner.weight -= freed;
        let dropped = before - inner.map.len();
        self.invalidated
            .fetch_add(dropped as u64, Ordering::Relaxed);
        dropped
    }

    /// Tiles cached.
    pub fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .len()
    }

    /// `true` when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Evicts the oldest entries while over `capacity`; returns how many.
fn evict<V>(inner: &mut Inner<V>, capacity: usize) -> u64 {
    let mut evicted = 0;
    while inner.weight > capacity {
        let Some((k, s)) = inner.order.pop_front() else {
            break;
        };
        if inner.map.get(&k).is_some_and(|e| e.serial == s) {
            if let Some(e) = inner.map.remove(&k) {
                inner.weight -= e.weight;
                evicted += 1;
            }
        }
    }
    evicted
}

impl<V> std::fmt::Debug for TileCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileCache")
            .field("capacity", &self.capacity.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(z: u8, x: u32, y: u32) -> TileKey {
        TileKey {
            layer: "risk",
            coord: TileCoord::new_checked(z, x, y).unwrap(),
            scale: 1,
        }
    }

    #[test]
    fn evicts_oldest_first_within_the_bound() {
        let c = TileCache::new(10);
        c.insert(key(1, 0, 0), "a", 4);
        c.insert(key(1, 1, 0), "b", 4);
        c.insert(key(1, 0, 0), "a2", 4); // replaces, now newest
        c.insert(key(1, 1, 1), "c", 4);
        assert_eq!(c.get(&key(1, 1, 0)), None);
        assert_eq!(c.get(&key(1, 0, 0)), Some("a2"));
        assert_eq!(c.get(&key(1, 1, 1)), Some("c"));
        c.insert(key(2, 0, 0), "huge", 11);
        assert_eq!(c.get(&key(2, 0, 0)), None);
        assert_eq!(c.len(), 2);
        c.set_capacity(4);
        assert_eq!(c.get(&key(1, 1, 1)), Some("c"));
        assert_eq!(c.len(), 1);
        c.set_capacity(0);
        c.insert(key(3, 0, 0), "x", 1);
        assert!(c.is_empty());
        // Lookups: hits a2, c, c; misses b, huge. Evictions:
        // b (by c), a2 (by set_capacity(4)), c (by set_capacity(0)).
        let stats = c.stats();
        assert_eq!((stats.hits, stats.misses), (3, 2), "{stats:?}");
        assert_eq!((stats.evicted, stats.invalidated), (3, 0), "{stats:?}");
        assert_eq!((stats.entries, stats.bytes), (0, 0));
        c.insert(key(3, 0, 0), "y", 0);
        assert_eq!(c.peek(&key(3, 0, 0)), Some("y"));
        assert_eq!(c.peek(&key(3, 0, 1)), None);
        assert_eq!(
            (c.stats().hits, c.stats().misses),
            (3, 2),
            "peeks are not counted"
        );
    }

    #[test]
    fn a_tile_rendered_before_an_invalidation_is_not_cached_after_it() {
        let c = TileCache::new(1 << 20);
        let before = c.generation();
        // A write's invalidation runs while the tile is being rendered…
        c.invalidate(&[key(5, 3, 3).coord.bounds()]);
        // …so the tile, rendered from the data before the write, is not kept.
        assert!(!c.insert_if_current(before, key(1, 0, 0), "stale", 1));
        assert_eq!(c.peek(&key(1, 0, 0)), None);
        let now = c.generation();
        assert_ne!(now, before);
        assert!(c.insert_if_current(now, key(1, 0, 0), "fresh", 1));
        assert_eq!(c.peek(&key(1, 0, 0)), Some("fresh"));
        c.clear();
        assert!(!c.insert_if_current(now, key(1, 0, 0), "stale", 1));
        assert!(c.is_empty());
    }

    #[test]
    fn invalidation_drops_only_the_tiles_meeting_the_change() {
        let c = TileCache::new(1 << 20);
        let here = TileCoord::containing(120.155, 30.274, 14).unwrap();
        let keys = [
            key(14, here.x, here.y),
            key(14, here.x + 2, here.y),
            key(10, here.x >> 4, here.y >> 4),
            key(0, 0, 0),
            key(3, 0, 0),
        ];
        for (i, k) in keys.iter().enumerate() {
            c.insert(*k, i, 1);
        }
        let b = here.bounds();
        let dropped = c.invalidate(&[LonLatBounds {
            west: b.west + 1e-5,
            south: b.south + 1e-5,
            east: b.west + 2e-5,
            north: b.south + 2e-5,
        }]);
        assert_eq!(dropped, 3);
        assert_eq!(c.get(&keys[1]), Some(1));
        assert_eq!(c.get(&keys[4]), Some(4));
        assert_eq!(c.len(), 2);
        assert_eq!(c.stats().bytes, 2);
        c.clear();
        assert!(c.is_empty());
        assert_eq!(c.stats().invalidated, 5);
    }
}

//! A vector shared between snapshots whose writes copy only what they change.
//!
//! The service keeps one value per unit cell in several places (the risk
//! map, the fire response, the cells as coverage targets): 1.7 million for
//! a city like 丽水市. A write builds the next snapshot from the current
//! one; copying such a vector whole for every write costs tens of
//! milliseconds and as many megabytes. [`CowVec`] holds its items in
//! chunks of [`CHUNK`] behind [`Arc`]s: cloning it copies the chunk
//! pointers (1,700 for 1.7 million items), and [`CowVec::make_mut`] copies
//! the one chunk it writes to when another snapshot shares it. Reads stay
//! O(1) (a division and two indexings), which the tile renderers need for
//! every cell they draw; persistent vectors of general crates (`imbl`,
//! `rpds`) pay O(log n) per read to support inserts this type never needs.

use std::ops::Index;
use std::sync::Arc;

/// Items per chunk: a write copies at most this many items.
pub const CHUNK: usize = 1024;

/// A fixed-length vector in shared chunks (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct CowVec<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T> Default for CowVec<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> CowVec<T> {
    /// Number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` without items.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The item at `i`, if any.
    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK).and_then(|c| c.get(i % CHUNK))
    }

    /// The items in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &T> + '_ {
        Iter {
            inner: self.chunks.iter().flat_map(|c| c.iter()),
            left: self.len,
        }
    }
}

impl<T: Clone> CowVec<T> {
    /// The item at `i`, to change: its chunk is copied first when another
    /// clone shares it.
    ///
    /// # Panics
    /// When `i` is out of bounds.
    pub fn make_mut(&mut self, i: usize) -> &mut T {
        assert!(i < self.len, "index {i} out of bounds of {}", self.len);
        &mut Arc::make_mut(&mut self.chunks[i / CHUNK])[i % CHUNK]
    }
}

impl<T> FromIterator<T> for CowVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut out = Self::default();
        let mut chunk = Vec::with_capacity(CHUNK);
        for item in items {
            chunk.push(item);
            if chunk.len() == CHUNK {
                out.len += CHUNK;
                out.chunks.push(Arc::new(std::mem::replace(
                    &mut chunk,
                    Vec::with_capacity(CHUNK),
                )));
            }
        }
        if !chunk.is_empty() {
            out.len += chunk.len();
            chunk.shrink_to_fit();
            out.chunks.push(Arc::new(chunk));
        }
        out
    }
}

impl<T> From<Vec<T>> for CowVec<T> {
    fn from(items: Vec<T>) -> Self {
        items.into_iter().collect()
    }
}

impl<T> Index<usize> for CowVec<T> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

/// [`CowVec::iter`]: the chunks flattened, with their known length.
struct Iter<I> {
    inner: I,
    left: usize,
}

impl<'a, T: 'a, I: Iterator<Item = &'a T>> Iterator for Iter<I> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        let item = self.inner.next()?;
        self.left -= 1;
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<'a, T: 'a, I: Iterator<Item = &'a T>> ExactSizeIterator for Iter<I> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_copies_one_chunk_and_leaves_the_clone_alone() {
        let before: CowVec<usize> = (0..3 * CHUNK + 5).collect();
        let mut after = before.clone();
        *after.make_mut(CHUNK + 7) = 0;
        assert_eq!(before[CHUNK + 7], CHUNK + 7);
        assert_eq!(after[CHUNK + 7], 0);
        let shared = before
            .chunks
            .iter()
            .zip(&after.chunks)
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count();
        assert_eq!(shared, 3, "only the written chunk of 4 is copied");
        assert_eq!(after.len(), 3 * CHUNK + 5);
        assert_eq!(after.iter().len(), 3 * CHUNK + 5);
        assert_eq!(after.iter().filter(|&&v| v == 0).count(), 2);
        assert_eq!(before.get(3 * CHUNK + 5), None);
        assert_eq!(before.get(3 * CHUNK + 4), Some(&(3 * CHUNK + 4)));
    }
}

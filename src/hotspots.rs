//! Hot spots: where incidents concentrate or grow. Counts incidents per
//! place (a unit cell or a household grid, any ordered key) and class in a
//! time window, and ranks places by count or by growth over the window of
//! the same length just before.

use std::collections::BTreeMap;

use serde::Serialize;

/// How places are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rank {
    /// Most incidents in the window first.
    #[default]
    Count,
    /// Largest increase over the previous window of the same length first.
    Growth,
}

/// One incident placed: its place, class (or kind) and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed<'a, K> {
    /// The place holding it (cell or grid code).
    pub place: K,
    /// Its class code or kind.
    pub class: &'a str,
    /// When, seconds since the Unix epoch.
    pub time_unix_s: i64,
}

/// A time window `[from, to)` and what to rank by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotspotQuery<'a> {
    /// Only incidents of this class (`None`: every class).
    pub class: Option<&'a str>,
    /// Start of the window, seconds since the Unix epoch (inclusive).
    pub from_unix_s: i64,
    /// End of the window, seconds since the Unix epoch (exclusive).
    pub to_unix_s: i64,
    /// Count or growth.
    pub rank: Rank,
    /// How many places to answer.
    pub top: usize,
}

/// One place in a [`hotspots`] answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hotspot<K> {
    /// The place.
    pub place: K,
    /// Incidents in the window.
    pub count: u64,
    /// Incidents in the previous window of the same length.
    pub previous: u64,
    /// `count - previous`.
    pub growth: i64,
    /// Incidents in the window per class.
    pub by_class: BTreeMap<String, u64>,
}

/// The `top` places by count (or growth) of incidents in the window;
/// ties are broken by the other measure, then by place, so answers are
/// deterministic. Places with no incident in either window never appear;
/// by count, places with none in the window do not either.
#[must_use]
pub fn hotspots<K: Ord + Copy>(
    incidents: &[Placed<'_, K>],
    q: &HotspotQuery<'_>,
) -> Vec<Hotspot<K>> {
    let len = q.to_unix_s.saturating_sub(q.from_unix_s);
    let before = q.from_unix_s.saturating_sub(len);
    let mut places: BTreeMap<K, Hotspot<K>> = BTreeMap::new();
    for i in incidents {
        if q.class.is_some_and(|c| c != i.class) {
            continue;
        }
        let now = (q.from_unix_s..q.to_unix_s).contains(&i.time_unix_s);
        let earlier = (before..q.from_unix_s).contains(&i.time_unix_s);
        if !now && !earlier {
            continue;
        }
        let h = places.entry(i.place).or_insert_with(|| Hotspot {
            place: i.place,
            count: 0,
            previous: 0,
            growth: 0,
            by_class: BTreeMap::new(),
        });
        if now {
            h.count += 1;
            *h.by_class.entry(i.class.to_owned()).or_default() += 1;
        } else {
            h.previous += 1;
        }
    }
    let mut out: Vec<Hotspot<K>> = places
        .into_values()
        .map(|mut h| {
            h.growth = h.count as i64 - h.previous as i64;
            h
        })
        .filter(|h| q.rank == Rank::Growth || h.count > 0)
        .collect();
    match q.rank {
        Rank::Count => out.sort_by(|a, b| {
            (b.count, b.growth)
                .cmp(&(a.count, a.growth))
                .then(a.place.cmp(&b.place))
        }),
        Rank::Growth => out.sort_by(|a, b| {
            (b.growth, b.count)
                .cmp(&(a.growth, a.count))
                .then(a.place.cmp(&b.place))
        }),
    }
    out.truncate(q.top);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn at(place: u32, class: &'static str, day: i64) -> Placed<'static, u32> {
        Placed {
            place,
            class,
            time_unix_s: day * DAY + 3600,
        }
    }

    /// Window days 10..20, previous window 0..10; counted by hand:
    /// place 1: 3 now (2 fire, 1 flood), 1 before → growth 2;
    /// place 2: 2 now, 0 before → growth 2; place 3: 1 now, 4 before → −3;
    /// place 4: 0 now, 2 before → −2; place 5: only outside both windows.
    fn sample() -> Vec<Placed<'static, u32>> {
        vec![
            at(1, "fire", 10),
            at(1, "fire", 19),
            at(1, "flood", 12),
            at(1, "fire", 5),
            at(2, "fire", 11),
            at(2, "fire", 15),
            at(3, "fire", 13),
            at(3, "fire", 1),
            at(3, "fire", 2),
            at(3, "flood", 3),
            at(3, "fire", 9),
            at(4, "flood", 0),
            at(4, "flood", 8),
            at(5, "fire", 20),
            at(5, "fire", 25),
        ]
    }

    fn query(rank: Rank, class: Option<&str>, top: usize) -> HotspotQuery<'_> {
        HotspotQuery {
            class,
            from_unix_s: 10 * DAY,
            to_unix_s: 20 * DAY,
            rank,
            top,
        }
    }

    fn summary(h: &[Hotspot<u32>]) -> Vec<(u32, u64, u64, i64)> {
        h.iter()
            .map(|h| (h.place, h.count, h.previous, h.growth))
            .collect()
    }

    #[test]
    fn ranks_by_count_and_by_growth_as_counted_by_hand() {
        let s = sample();
        let by_count = hotspots(&s, &query(Rank::Count, None, 10));
        assert_eq!(
            summary(&by_count),
            vec![(1, 3, 1, 2), (2, 2, 0, 2), (3, 1, 4, -3)]
        );
        assert_eq!(
            by_count[0].by_class,
            BTreeMap::from([("fire".into(), 2), ("flood".into(), 1)])
        );
        let by_growth = hotspots(&s, &query(Rank::Growth, None, 10));
        assert_eq!(
            summary(&by_growth),
            vec![(1, 3, 1, 2), (2, 2, 0, 2), (4, 0, 2, -2), (3, 1, 4, -3)]
        );
        assert_eq!(
            summary(&hotspots(&s, &query(Rank::Count, None, 1))),
            vec![(1, 3, 1, 2)]
        );
        // Fires only: place 1 has 2 now, 1 before; place 2 has 2 and 0.
        let fires = hotspots(&s, &query(Rank::Growth, Some("fire"), 2));
        assert_eq!(summary(&fires), vec![(2, 2, 0, 2), (1, 2, 1, 1)]);
    }
}

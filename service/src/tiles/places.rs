//! The places of a territory: its communities with cells, grouped where
//! they lie within [`PLACE_GAP_DEG`] of each other, largest first. The web
//! map opens on the first and lists the others: a store holding Hangzhou
//! and Helsinki opens on one city, not on the continent between them.

use geo_types::Rect;
use rstar::{RTreeObject, AABB};
use serde::Serialize;

use super::overview::Overview;
use super::Areas;

/// Communities whose boxes are nearer than this (degrees, about 20 km)
/// belong to one place.
pub const PLACE_GAP_DEG: f64 = 0.2;

/// A group of neighbouring communities.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    /// The name of the district holding most of its cells (when it has
    /// none, of its community with the most cells; else the district's
    /// code).
    pub name: String,
    /// That district's code.
    pub district: String,
    /// West, south, east, north.
    pub bounds: [f64; 4],
    /// Active unit cells.
    pub cells: usize,
    /// Communities with cells.
    pub communities: usize,
}

/// The places of the communities in `communities` that have cells by
/// `overview`, named from `districts`; most cells first.
pub(super) fn places(communities: &Areas, districts: &Areas, overview: &Overview) -> Vec<Place> {
    let cells_of = |i: usize| overview.cells(communities.list[i].code);
    let mut envelopes: Vec<Option<AABB<[f64; 2]>>> = vec![None; communities.list.len()];
    for e in &communities.tree {
        envelopes[e.data] = Some(e.envelope());
    }
    // Union–find over the communities with cells.
    let mut parent: Vec<usize> = (0..communities.list.len()).collect();
    for (i, env) in envelopes.iter().enumerate() {
        let Some(env) = env.filter(|_| cells_of(i) > 0) else {
            continue;
        };
        let (lo, hi) = (env.lower(), env.upper());
        let near = AABB::from_corners(
            [lo[0] - PLACE_GAP_DEG, lo[1] - PLACE_GAP_DEG],
            [hi[0] + PLACE_GAP_DEG, hi[1] + PLACE_GAP_DEG],
        );
        for other in communities.tree.locate_in_envelope_intersecting(&near) {
            if other.data != i && cells_of(other.data) > 0 {
                let (a, b) = (root(&mut parent, i), root(&mut parent, other.data));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    // Each group's box, cells, communities and cells per district.
    let mut groups: std::collections::BTreeMap<usize, Group> = std::collections::BTreeMap::new();
    for (i, env) in envelopes.iter().enumerate() {
        let cells = cells_of(i);
        let Some(env) = env.filter(|_| cells > 0) else {
            continue;
        };
        let g = groups.entry(root(&mut parent, i)).or_default();
        let r = Rect::new(env.lower(), env.upper());
        g.bounds = civgrid::extent::extent(g.bounds.into_iter().chain([r]));
        g.cells += cells;
        g.communities += 1;
        g.largest = g.largest.max(Some((cells, std::cmp::Reverse(i))));
        if let Some(d) = communities.list[i]
            .code
            .ancestor(civgrid::AdminLevel::District)
        {
            *g.districts.entry(d).or_default() += cells;
        }
    }
    let mut out: Vec<Place> = groups
        .into_values()
        .filter_map(|g| {
            let b = g.bounds?;
            let (&district, _) = g
                .districts
                .iter()
                .max_by_key(|(code, n)| (**n, std::cmp::Reverse(**code)))?;
            let largest = g
                .largest
                .map(|(_, std::cmp::Reverse(i))| &communities.list[i]);
            let name = districts
                .list
                .iter()
                .find(|a| a.code == district)
                .into_iter()
                .chain(largest)
                .map(|a| a.name.clone())
                .find(|n| !n.is_empty())
                .unwrap_or_else(|| district.to_string());
            Some(Place {
                name,
                district: district.to_string(),
                bounds: [b.min().x, b.min().y, b.max().x, b.max().y],
                cells: g.cells,
                communities: g.communities,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.cells
            .cmp(&a.cells)
            .then_with(|| a.district.cmp(&b.district))
    });
    out
}

/// The root of `i`'s set in a union–find forest (halving the path).
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// A place being gathered.
#[derive(Debug, Default)]
struct Group {
    bounds: Option<Rect<f64>>,
    cells: usize,
    communities: usize,
    districts: std::collections::BTreeMap<civgrid::AdminCode, usize>,
    /// The community with the most cells (the first of them).
    largest: Option<(usize, std::cmp::Reverse<usize>)>,
}

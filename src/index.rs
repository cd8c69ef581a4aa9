//! In-memory spatial indexes of facilities and hazards.
//!
//! One generic [`LayerIndex`] keeps, for each kind, an R-tree (rstar) of the
//! features' bounding boxes in the territory's [`LocalProjection`] (metres),
//! plus one R-tree of every feature, so that distances are metric and a query
//! over all kinds looks at one tree. It is built from a slice of features and
//! kept current with [`insert`](LayerIndex::insert),
//! [`update`](LayerIndex::update) and [`remove`](LayerIndex::remove).
//!
//! - [`FacilityIndex`] answers the exact `k` nearest facilities of some kinds
//!   ([`FacilityIndex::nearest`]): sorted by distance, ties broken by id.
//! - [`HazardIndex`] answers the hazards within a distance of a point (0 m:
//!   the areas containing it) and the hazards meeting an envelope.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use geo::{Distance, Euclidean, Intersects};
use geo_types::{Coord, Geometry, Point, Polygon, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::crs::{CrsError, LocalProjection};
use crate::model::{Facility, FacilityKind, Hazard, HazardGeometry};

/// A point that cannot be used as a query or feature location.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PointError {
    /// Not a finite longitude in −180..180 and latitude in −90..90.
    #[error("({lon}, {lat}) is not a longitude in -180..180 and a latitude in -90..90")]
    OutOfRange {
        /// The longitude given.
        lon: f64,
        /// The latitude given.
        lat: f64,
    },
    /// The local projection failed on it.
    #[error(transparent)]
    Projection(#[from] CrsError),
}

/// Projects a lon/lat point to metres after checking its range.
///
/// # Errors
/// [`PointError`] for a point out of range or that cannot be projected.
pub(crate) fn project_point(
    projection: &LocalProjection,
    point: Point<f64>,
) -> Result<Coord<f64>, PointError> {
    let (lon, lat) = (point.x(), point.y());
    let valid = (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat);
    if !valid {
        return Err(PointError::OutOfRange { lon, lat });
    }
    Ok(projection.forward(point.0)?)
}

/// Why an index refused a feature or a query.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// A location or query point is unusable.
    #[error("{0}")]
    Point(#[from] PointError),
    /// A feature's geometry could not be projected.
    #[error("feature {id}: {source}")]
    Geometry {
        /// The feature's id.
        id: i64,
        /// What the projection said.
        source: CrsError,
    },
    /// A feature has no coordinates (an empty area).
    #[error("feature {0} has an empty geometry")]
    EmptyGeometry(i64),
    /// [`LayerIndex::insert`] of an id that is already indexed.
    #[error("feature {0} is already indexed")]
    DuplicateId(i64),
}

/// A feature that a [`LayerIndex`] can hold: an id, a kind and a geometry.
pub trait Indexed: Clone {
    /// What the index groups features by.
    type Kind: Ord + Clone;

    /// The feature's id, unique in its layer.
    fn id(&self) -> i64;

    /// The feature's kind.
    fn kind(&self) -> Self::Kind;

    /// The feature's geometry in lon/lat.
    fn geometry(&self) -> Geometry<f64>;
}

impl Indexed for Facility {
    type Kind = FacilityKind;

    fn id(&self) -> i64 {
        self.id
    }

    fn kind(&self) -> FacilityKind {
        self.kind
    }

    fn geometry(&self) -> Geometry<f64> {
        Geometry::Point(self.location)
    }
}

impl Indexed for Hazard {
    type Kind = String;

    fn id(&self) -> i64 {
        self.id
    }

    fn kind(&self) -> String {
        self.kind.clone()
    }

    fn geometry(&self) -> Geometry<f64> {
        match &self.geometry {
            HazardGeometry::Point(p) => Geometry::Point(*p),
            HazardGeometry::Area(a) => Geometry::MultiPolygon(a.clone()),
        }
    }
}

/// An R-tree entry: the metric bounding box and the feature id.
type Entry = GeomWithData<Rectangle<[f64; 2]>, i64>;

/// A feature with its metric geometry and its R-tree entry.
#[derive(Debug, Clone)]
struct Stored<T> {
    item: T,
    metric: Geometry<f64>,
    entry: Entry,
}

/// R-trees of one layer's features by kind, in metres (see the module docs).
///
/// Cloning it (a write to an engine snapshot) copies the table of
/// features by id, not the features, and shares the trees until a change
/// copies the two it touches (every feature's and its kind's).
#[derive(Debug, Clone)]
pub struct LayerIndex<T: Indexed> {
    projection: LocalProjection,
    items: HashMap<i64, Arc<Stored<T>>>,
    all: Arc<RTree<Entry>>,
    by_kind: BTreeMap<T::Kind, Arc<RTree<Entry>>>,
}

/// R-trees of facilities by kind.
pub type FacilityIndex = LayerIndex<Facility>;
/// R-trees of hazards by kind.
pub type HazardIndex = LayerIndex<Hazard>;

impl<T: Indexed> LayerIndex<T> {
    /// Indexes `items` in `projection` (bulk-loaded R-trees).
    ///
    /// # Errors
    /// [`IndexError`] for a geometry that cannot be projected or is empty, or
    /// an id that occurs twice.
    pub fn new(projection: LocalProjection, items: &[T]) -> Result<Self, IndexError> {
        let mut stored = HashMap::with_capacity(items.len());
        let mut groups: BTreeMap<T::Kind, Vec<Entry>> = BTreeMap::new();
        for item in items {
            let s = Self::store(&projection, item.clone())?;
            groups.entry(item.kind()).or_default().push(s.entry);
            if stored.insert(item.id(), Arc::new(s)).is_some() {
                return Err(IndexError::DuplicateId(item.id()));
            }
        }
        Ok(Self {
            projection,
            all: Arc::new(RTree::bulk_load(stored.values().map(|s| s.entry).collect())),
            by_kind: groups
                .into_iter()
                .map(|(k, entries)| (k, Arc::new(RTree::bulk_load(entries))))
                .collect(),
            items: stored,
        })
    }

    fn store(projection: &LocalProjection, item: T) -> Result<Stored<T>, IndexError> {
        let id = item.id();
        let metric = projection
            .project(&item.geometry())
            .map_err(|source| IndexError::Geometry { id, source })?;
        let rect =
            geo::BoundingRect::bounding_rect(&metric).ok_or(IndexError::EmptyGeometry(id))?;
        let entry = GeomWithData::new(
            Rectangle::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]),
            id,
        );
        Ok(Stored {
            item,
            metric,
            entry,
        })
    }

    /// The projection the index measures in.
    pub fn projection(&self) -> &LocalProjection {
        &self.projection
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// `true` when the index holds no feature.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The feature with this id.
    pub fn get(&self, id: i64) -> Option<&T> {
        self.items.get(&id).map(|s| &s.item)
    }

    /// Adds a feature.
    ///
    /// # Errors
    /// [`IndexError::DuplicateId`] when its id is indexed already (use
    /// [`update`](Self::update)), or an unusable geometry.
    pub fn insert(&mut self, item: T) -> Result<(), IndexError> {
        if self.items.contains_key(&item.id()) {
            return Err(IndexError::DuplicateId(item.id()));
        }
        self.put(Self::store(&self.projection, item)?);
        Ok(())
    }

    /// Replaces the feature with the same id (a move, a new kind…), or adds
    /// it when there is none; returns the feature it replaced.
    ///
    /// # Errors
    /// An unusable geometry; the index is then unchanged.
    pub fn update(&mut self, item: T) -> Result<Option<T>, IndexError> {
        let stored = Self::store(&self.projection, item)?;
        let old = self.remove(stored.item.id());
        self.put(stored);
        Ok(old)
    }

    /// Removes the feature with this id and returns it.
    pub fn remove(&mut self, id: i64) -> Option<T> {
        let stored = self.items.remove(&id)?;
        let kind = stored.item.kind();
        Arc::make_mut(&mut self.all).remove(&stored.entry);
        if let Some(tree) = self.by_kind.get_mut(&kind) {
            Arc::make_mut(tree).remove(&stored.entry);
            if tree.size() == 0 {
                self.by_kind.remove(&kind);
            }
        }
        Some(Arc::unwrap_or_clone(stored).item)
    }

    fn put(&mut self, stored: Stored<T>) {
        Arc::make_mut(&mut self.all).insert(stored.entry);
        Arc::make_mut(self.by_kind.entry(stored.item.kind()).or_default()).insert(stored.entry);
        self.items.insert(stored.item.id(), Arc::new(stored));
    }

    /// The trees to search for `kinds` (empty: every kind), each once.
    fn trees<'a, 'k>(&'a self, kinds: &'k [T::Kind]) -> impl Iterator<Item = &'a RTree<Entry>> + 'k
    where
        'a: 'k,
    {
        let all = kinds.is_empty().then_some(&*self.all);
        let chosen = kinds
            .iter()
            .enumerate()
            .filter(|&(i, k)| !kinds[..i].contains(k))
            .filter_map(|(_, k)| self.by_kind.get(k).map(|t| &**t));
        all.into_iter().chain(chosen)
    }

    /// The features of `kinds` (empty: every kind) with their metric
    /// bounding boxes, in no particular order.
    pub fn members<'a, 'k>(
        &'a self,
        kinds: &'k [T::Kind],
    ) -> impl Iterator<Item = (&'a T, Rect<f64>)> + 'k
    where
        'a: 'k,
    {
        self.trees(kinds)
            .flat_map(|tree| tree.iter())
            .filter_map(|e| {
                let s = self.items.get(&e.data)?;
                let r = e.geom();
                Some((
                    &s.item,
                    Rect::new(
                        Coord {
                            x: r.lower()[0],
                            y: r.lower()[1],
                        },
                        Coord {
                            x: r.upper()[0],
                            y: r.upper()[1],
                        },
                    ),
                ))
            })
    }

    /// Features of `kinds` whose metric geometry lies within `radius_m` of
    /// the metric point `at`, with their exact distances, sorted by
    /// (distance, id).
    fn within_metric(&self, at: Coord<f64>, radius_m: f64, kinds: &[T::Kind]) -> Vec<(&T, f64)> {
        let env = AABB::from_corners(
            [at.x - radius_m, at.y - radius_m],
            [at.x + radius_m, at.y + radius_m],
        );
        let p = Geometry::Point(Point(at));
        let mut out: Vec<(&T, f64)> = self
            .trees(kinds)
            .flat_map(|tree| tree.locate_in_envelope_intersecting(&env))
            .filter_map(|e| {
                let s = self.items.get(&e.data)?;
                let d = Euclidean.distance(&s.metric, &p);
                (d <= radius_m).then_some((&s.item, d))
            })
            .collect();
        out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.id().cmp(&b.0.id())));
        out
    }
}

/// A query for the nearest facilities by straight-line distance.
#[derive(Debug, Clone, Copy)]
pub struct NearestQuery<'a> {
    /// Where, in lon/lat.
    pub point: Point<f64>,
    /// Kinds to consider; empty: every kind.
    pub kinds: &'a [FacilityKind],
    /// How many facilities at most.
    pub k: usize,
    /// Only facilities at most this far, in metres.
    pub max_distance_m: Option<f64>,
}

/// One facility of a nearest answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearest<'a> {
    /// The facility.
    pub facility: &'a Facility,
    /// Straight-line distance in the local projection, metres.
    pub distance_m: f64,
}

impl LayerIndex<Facility> {
    /// The exact `k` nearest facilities of the query's kinds, sorted by
    /// (distance, id): of several facilities at the same distance, the
    /// lower ids come first.
    ///
    /// The trees of the kinds are walked together in order of distance
    /// until `k` facilities and every further one at the `k`-th distance
    /// have come out.
    ///
    /// # Errors
    /// [`IndexError::Point`] for a query point out of range.
    pub fn nearest(&self, q: &NearestQuery<'_>) -> Result<Vec<Nearest<'_>>, IndexError> {
        let at = project_point(&self.projection, q.point)?;
        if q.k == 0 {
            return Ok(Vec::new());
        }
        let at = [at.x, at.y];
        let max_d2 = q.max_distance_m.map_or(f64::INFINITY, |m| m * m);
        let mut walks: Vec<_> = self
            .trees(q.kinds)
            .map(|tree| tree.nearest_neighbor_iter_with_distance_2(&at).peekable())
            .collect();
        // Merge the walks in order of distance; `found` grows in that order.
        let mut found: Vec<(f64, i64)> = Vec::with_capacity(q.k + 4);
        loop {
            let mut next: Option<(usize, f64)> = None;
            for (i, walk) in walks.iter_mut().enumerate() {
                if let Some(&(_, d2)) = walk.peek() {
                    if next.is_none_or(|(_, best)| d2 < best) {
                        next = Some((i, d2));
                    }
                }
            }
            let Some((i, d2)) = next else {
                break;
            };
            if d2 > max_d2 || found.get(q.k - 1).is_some_and(|kth| d2 > kth.0) {
                break;
            }
            if let Some((e, d2)) = walks[i].next() {
                found.push((d2, e.data));
            }
        }
        found.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        Ok(found
            .into_iter()
            .take(q.k)
            .filter_map(|(d2, id)| {
                Some(Nearest {
                    facility: self.get(id)?,
                    distance_m: d2.sqrt(),
                })
            })
            .collect())
    }

    /// The facilities of `kinds` (empty: every kind) with their locations in
    /// the index's projection (metres).
    pub fn metric_points<'a, 'k>(
        &'a self,
        kinds: &'k [FacilityKind],
    ) -> impl Iterator<Item = (&'a Facility, Coord<f64>)> + 'k
    where
        'a: 'k,
    {
        self.members(kinds).map(|(f, r)| (f, r.min()))
    }
}

/// One hazard of a [`HazardIndex::within`] answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HazardHit<'a> {
    /// The hazard.
    pub hazard: &'a Hazard,
    /// Distance from the query point to its point or area in metres (0
    /// inside an area).
    pub distance_m: f64,
}

impl LayerIndex<Hazard> {
    /// Hazards of `kinds` (empty: every kind) at most `radius_m` from
    /// `point` (lon/lat), sorted by (distance, id). With a radius of 0 these
    /// are the hazard areas containing the point (boundary included).
    ///
    /// # Errors
    /// [`IndexError::Point`] for a point out of range.
    pub fn within(
        &self,
        point: Point<f64>,
        radius_m: f64,
        kinds: &[String],
    ) -> Result<Vec<HazardHit<'_>>, IndexError> {
        let at = project_point(&self.projection, point)?;
        Ok(self
            .within_metric(at, radius_m.max(0.0), kinds)
            .into_iter()
            .map(|(hazard, distance_m)| HazardHit { hazard, distance_m })
            .collect())
    }

    /// Hazards of `kinds` (empty: every kind) whose point or area meets the
    /// lon/lat envelope `rect`, sorted by id. The envelope is projected as a
    /// four-corner polygon.
    ///
    /// # Errors
    /// [`IndexError::Point`] for a corner out of range.
    pub fn in_envelope(
        &self,
        rect: Rect<f64>,
        kinds: &[String],
    ) -> Result<Vec<&Hazard>, IndexError> {
        let corners = rect
            .to_polygon()
            .exterior()
            .points()
            .map(|p| project_point(&self.projection, p))
            .collect::<Result<Vec<_>, _>>()?;
        let area = Polygon::new(corners.into(), vec![]);
        let Some(bounds) = geo::BoundingRect::bounding_rect(&area) else {
            return Ok(Vec::new());
        };
        let env = AABB::from_corners(
            [bounds.min().x, bounds.min().y],
            [bounds.max().x, bounds.max().y],
        );
        let mut out: Vec<&Hazard> = self
            .trees(kinds)
            .flat_map(|tree| tree.locate_in_envelope_intersecting(&env))
            .filter_map(|e| self.items.get(&e.data))
            .filter(|s| s.metric.intersects(&area))
            .map(|s| &s.item)
            .collect();
        out.sort_by_key(|h| h.id);
        Ok(out)
    }
}

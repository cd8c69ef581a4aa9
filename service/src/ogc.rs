//! OGC API Features collections: the layers that other systems (GDAL's
//! OAPIF driver, QGIS, the case system) read by bounding box and page.
//!
//! A [`Collection`] keeps its features in one order, by id (codes for
//! cells, grids and components, store ids for facilities and hazards), with
//! an R-tree of their envelopes, so a `bbox` query is a tree search and
//! pages are stable; a write puts or removes its one feature.
//!
//! The large layers that writes do not change (unit cells; the base map's
//! buildings and roads) are [`Made`] from the engine's own data when they
//! are read: their collections hold an R-tree, not a copy of the features.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::iter::Peekable;
use std::sync::Arc;

use civgrid::cells::Cell;
use civgrid::components::Component;
use civgrid::grids::{Contact, Grid};
use civgrid::zones::ZoneFeature;
use civgrid::{Facility, Hazard, HazardGeometry};
use geo::{BoundingRect, Intersects};
use geo_types::{Geometry, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{Envelope as _, RTree, RTreeObject, AABB};
use serde_json::{json, Map, Value};

/// One feature of a collection.
#[derive(Debug, Clone)]
pub struct Feature {
    /// The feature id (a code, or a store id).
    pub id: String,
    /// Geometry in lon/lat (EPSG:4490, served as CRS84).
    pub geometry: Geometry<f64>,
    /// Properties.
    pub properties: Map<String, Value>,
}

/// The properties that name people (grid workers and leaders, 网格员 and
/// 网格长): served only to callers with a token of any role, never in
/// tiles.
pub const PEOPLE: [&str; 4] = ["worker_name", "worker_phone", "leader_name", "leader_phone"];

/// Whether an answer may name people (see [`PEOPLE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum People {
    /// Names and phones are given (a caller with a token, the CLI's export).
    Shown,
    /// They are left out (anonymous callers): an absent `worker_name` is
    /// withheld, a null one means the grid has no worker.
    Withheld,
}

impl People {
    /// `true` when property `key` may be given.
    pub fn allow(self, key: &str) -> bool {
        self == Self::Shown || !PEOPLE.contains(&key)
    }

    /// `value` when people may be shown, else `None`.
    pub fn show<T>(self, value: T) -> Option<T> {
        (self == Self::Shown).then_some(value)
    }
}

impl Feature {
    /// The GeoJSON Feature, with every property.
    pub fn to_json(&self) -> Value {
        self.to_json_for(People::Shown)
    }

    /// The GeoJSON Feature, without the [`PEOPLE`] properties when they
    /// are withheld.
    pub fn to_json_for(&self, people: People) -> Value {
        let properties: Map<String, Value> = self
            .properties
            .iter()
            .filter(|(k, _)| people.allow(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        json!({
            "type": "Feature",
            "id": self.id,
            "geometry": geojson::Geometry::from(&self.geometry),
            "properties": properties,
        })
    }
}

type Envelope = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// The bounding box of a geometry, as the R-tree takes it (`None` for an
/// empty geometry, which no `bbox` meets).
fn envelope(geometry: &Geometry<f64>) -> Option<AABB<[f64; 2]>> {
    let r = geometry.bounding_rect()?;
    Some(AABB::from_corners(r.min().into(), r.max().into()))
}

/// The rectangle of an envelope.
fn rect(envelope: &AABB<[f64; 2]>) -> Rect<f64> {
    Rect::new(envelope.lower(), envelope.upper())
}

/// The collection order of two feature ids: ids of digits alone without
/// a leading zero (store ids, cell and grid codes, component codes) come
/// first, by numeric value (shorter is smaller, then digit by digit); every
/// other id (`layer:code` of zones, `007`, `-3`) comes after them, by its
/// UTF-8 bytes. Two ids are equal only when they are the same text.
fn id_order(a: &str, b: &str) -> Ordering {
    fn key(id: &str) -> (bool, usize, &str) {
        let number = !id.is_empty()
            && (id.len() == 1 || !id.starts_with('0'))
            && id.bytes().all(|b| b.is_ascii_digit());
        (!number, if number { id.len() } else { 0 }, id)
    }
    key(a).cmp(&key(b))
}

/// Features made from data held elsewhere when they are read (see the
/// module docs).
pub trait Source: std::fmt::Debug + Send + Sync {
    /// Number of features.
    fn len(&self) -> usize;
    /// `true` without features.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The id of feature `i`: ids ascend with `i` in collection order (see
    /// [`id_order`]).
    fn id(&self, i: usize) -> String;
    /// Feature `i`.
    fn feature(&self, i: usize) -> Feature;
    /// The bounding box of feature `i` (`None` when its geometry is empty).
    fn bounds(&self, i: usize) -> Option<Rect<f64>>;
}

/// The [`Source`] of a shared list of items, each made into a feature by
/// `make`.
#[derive(Debug)]
pub struct Made<T> {
    items: Arc<Vec<T>>,
    id: fn(&T) -> String,
    make: fn(&T) -> Feature,
    bounds: fn(&T) -> Option<Rect<f64>>,
}

impl<T> Made<T> {
    /// The features `make` makes of `items`, whose ids (`id`) ascend in
    /// collection order; `bounds` gives an item's bounding box.
    pub fn new(
        items: Arc<Vec<T>>,
        id: fn(&T) -> String,
        make: fn(&T) -> Feature,
        bounds: fn(&T) -> Option<Rect<f64>>,
    ) -> Self {
        Self {
            items,
            id,
            make,
            bounds,
        }
    }
}

impl<T: std::fmt::Debug + Send + Sync> Source for Made<T> {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn id(&self, i: usize) -> String {
        (self.id)(&self.items[i])
    }

    fn feature(&self, i: usize) -> Feature {
        (self.make)(&self.items[i])
    }

    fn bounds(&self, i: usize) -> Option<Rect<f64>> {
        (self.bounds)(&self.items[i])
    }
}

/// The features of a base, in collection order.
#[derive(Debug)]
enum Items {
    /// Held as features.
    Held(Vec<Arc<Feature>>),
    /// Made from a source when read.
    Made(Arc<dyn Source>),
}

impl Items {
    fn len(&self) -> usize {
        match self {
            Self::Held(f) => f.len(),
            Self::Made(s) => s.len(),
        }
    }

    fn id(&self, i: usize) -> Cow<'_, str> {
        match self {
            Self::Held(f) => Cow::Borrowed(&f[i].id),
            Self::Made(s) => Cow::Owned(s.id(i)),
        }
    }

    fn get(&self, i: usize) -> Arc<Feature> {
        match self {
            Self::Held(f) => f[i].clone(),
            Self::Made(s) => Arc::new(s.feature(i)),
        }
    }

    fn envelope(&self, i: usize) -> Option<AABB<[f64; 2]>> {
        match self {
            Self::Held(f) => envelope(&f[i].geometry),
            Self::Made(s) => s
                .bounds(i)
                .map(|r| AABB::from_corners(r.min().into(), r.max().into())),
        }
    }

    /// Whether feature `i`, whose envelope is `envelope`, meets the box.
    fn meets(&self, i: usize, envelope: &AABB<[f64; 2]>, within: &Within) -> bool {
        match self {
            Self::Held(f) => within.meets(envelope, &f[i].geometry),
            Self::Made(s) => {
                within.aabb.contains_envelope(envelope)
                    || within.meets(envelope, &s.feature(i).geometry)
            }
        }
    }
}

/// The shared, immutable layer of a collection: features in collection
/// order with an R-tree of their envelopes.
#[derive(Debug)]
struct Base {
    /// In collection order (see [`id_order`]).
    items: Items,
    /// Envelopes, with each feature's position in `items`.
    index: RTree<Envelope>,
    /// The bounding box of every envelope.
    extent: Option<Rect<f64>>,
}

impl Base {
    /// The base of `items`, already in collection order.
    fn new(items: Items) -> Self {
        let envelopes: Vec<Envelope> = (0..items.len())
            .filter_map(|i| {
                Some(GeomWithData::new(
                    Rectangle::from_aabb(items.envelope(i)?),
                    i,
                ))
            })
            .collect();
        let extent = civgrid::extent::extent(envelopes.iter().map(|e| rect(&e.geom().envelope())));
        Self {
            items,
            index: RTree::bulk_load(envelopes),
            extent,
        }
    }

    /// The position of the feature with this id (the last of those
    /// sharing it).
    fn position(&self, id: &str) -> Option<usize> {
        // The first position whose id comes after `id`.
        let (mut lo, mut hi) = (0, self.items.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if id_order(&self.items.id(mid), id).is_le() {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo.checked_sub(1).filter(|&i| self.items.id(i) == id)
    }
}

/// A feature put since the base, with its envelope.
#[derive(Debug, Clone)]
struct Put {
    feature: Arc<Feature>,
    envelope: Option<AABB<[f64; 2]>>,
}

/// A change since the base, for one id.
#[derive(Debug, Clone)]
enum Change {
    /// A feature whose id is not in the base.
    Added(Put),
    /// The base feature at this position, replaced.
    Replaced(usize, Put),
    /// The base feature at this position, removed.
    Removed(usize),
}

impl Change {
    /// The id it changes.
    fn id<'a>(&'a self, base: &'a Base) -> Cow<'a, str> {
        match self {
            Self::Added(p) | Self::Replaced(_, p) => Cow::Borrowed(&p.feature.id),
            Self::Removed(i) => base.items.id(*i),
        }
    }

    /// The position in the base of the feature it replaces or removes.
    fn base(&self) -> Option<usize> {
        match self {
            Self::Added(_) => None,
            Self::Replaced(i, _) | Self::Removed(i) => Some(*i),
        }
    }

    /// The feature now (`None` when removed).
    fn now(&self) -> Option<&Put> {
        match self {
            Self::Added(p) | Self::Replaced(_, p) => Some(p),
            Self::Removed(_) => None,
        }
    }
}

/// A `bbox` query: the box and its envelope.
#[derive(Debug, Clone, Copy)]
struct Within {
    bbox: Rect<f64>,
    aabb: AABB<[f64; 2]>,
}

impl Within {
    fn new(bbox: Rect<f64>) -> Self {
        Self {
            bbox,
            aabb: AABB::from_corners(bbox.min().into(), bbox.max().into()),
        }
    }

    /// Whether a geometry whose `envelope` meets the box's meets the box.
    /// A feature whose envelope lies inside the box meets it; only those
    /// across the box's edge need the exact test (see also [`Items::meets`]).
    fn meets(&self, envelope: &AABB<[f64; 2]>, geometry: &Geometry<f64>) -> bool {
        self.aabb.contains_envelope(envelope) || geometry.intersects(&self.bbox)
    }
}

/// The smallest number of changes a collection holds before it folds them
/// into a new base (see [`Collection`]).
const FOLD_MIN: usize = 1024;

/// A layer served as an OGC API Features collection.
///
/// Features are kept in collection order: ascending by id, ids of digits
/// compared by numeric value (see [`id_order`]).
///
/// A collection is two layers: a base shared by every clone (features in
/// collection order and an R-tree of their envelopes, behind an `Arc`) and
/// the changes since it (features added, replaced or removed, by id, in
/// collection order). Cloning copies the changes only, a put or a remove
/// changes one entry (a binary search and an insertion), and every read
/// merges the two layers.
///
/// Once there are more than max(1024, n/32) changes (n features in the
/// base), the put or remove that makes one more folds them into a new
/// base: it shares the features (no geometry is copied) but builds the
/// R-tree again, O(n log n). With the bound proportional to n, folds cost
/// O(32 log n) per change amortised, while a write copies at most n/32
/// entries of a few words each (for a province's 211,000 components, 6,600
/// entries, against building 211,000 features) and a `bbox` query tests at
/// most that many envelopes beside its tree search. The floor of 1024
/// keeps small collections from folding every few writes. The one write
/// that folds pays the whole rebuild.
///
/// Removes do not shrink [`Collection::extent`] until the next fold.
#[derive(Debug, Clone)]
pub struct Collection {
    /// The collection id in URLs.
    pub id: &'static str,
    /// Human title.
    pub title: &'static str,
    /// Description.
    pub description: &'static str,
    base: Arc<Base>,
    /// In collection order, one per id.
    changes: Vec<Change>,
    /// Number of features.
    len: usize,
    /// The base's extent and the envelope of every feature put since.
    extent: Option<Rect<f64>>,
    /// The least number of changes held before a fold.
    fold_min: usize,
}

/// One page of a query.
#[derive(Debug)]
pub struct Page {
    /// Features matching the query in all pages.
    pub matched: usize,
    /// The features of this page, in collection order.
    pub features: Vec<Arc<Feature>>,
}

impl Collection {
    /// A collection of `features`, in collection order. Features sharing
    /// an id (zones with a duplicate code, which validation reports) are
    /// all kept, in the given order; [`Collection::get`],
    /// [`Collection::put`] and [`Collection::remove`] see the last of them.
    pub fn new(
        id: &'static str,
        title: &'static str,
        description: &'static str,
        features: Vec<Feature>,
    ) -> Self {
        Self::folding_at(id, title, description, features, FOLD_MIN)
    }

    /// [`Collection::new`], holding at least `fold_min` changes before a
    /// fold.
    fn folding_at(
        id: &'static str,
        title: &'static str,
        description: &'static str,
        features: Vec<Feature>,
        fold_min: usize,
    ) -> Self {
        let mut features: Vec<Arc<Feature>> = features.into_iter().map(Arc::new).collect();
        features.sort_by(|a, b| id_order(&a.id, &b.id));
        Self::of(
            id,
            title,
            description,
            Base::new(Items::Held(features)),
            fold_min,
        )
    }

    /// A collection of the features of `source` (made when read, see
    /// [`Source`]), in its order, which must be collection order.
    pub fn made(
        id: &'static str,
        title: &'static str,
        description: &'static str,
        source: Arc<dyn Source>,
    ) -> Self {
        debug_assert!(
            (1..source.len()).all(|i| id_order(&source.id(i - 1), &source.id(i)).is_le()),
            "{id}: a source out of collection order"
        );
        Self::of(
            id,
            title,
            description,
            Base::new(Items::Made(source)),
            FOLD_MIN,
        )
    }

    fn of(
        id: &'static str,
        title: &'static str,
        description: &'static str,
        base: Base,
        fold_min: usize,
    ) -> Self {
        Self {
            id,
            title,
            description,
            len: base.items.len(),
            extent: base.extent,
            base: Arc::new(base),
            changes: Vec::new(),
            fold_min,
        }
    }

    /// Every feature, in collection order.
    pub fn features(&self) -> impl Iterator<Item = Arc<Feature>> + '_ {
        self.merged(0..self.base.items.len(), None)
    }

    /// The bounding box of every feature, if any. After a remove it may
    /// still hold the removed feature's place, until the changes are next
    /// folded (see [`Collection`]).
    pub fn extent(&self) -> Option<Rect<f64>> {
        self.extent
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` without features.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The feature with this id.
    pub fn get(&self, id: &str) -> Option<Arc<Feature>> {
        match self.change(id) {
            Ok(k) => self.changes[k].now().map(|p| p.feature.clone()),
            Err(_) => self.base.position(id).map(|i| self.base.items.get(i)),
        }
    }

    /// The features whose geometry intersects `bbox` (all without one),
    /// skipping `offset` and returning at most `limit`.
    pub fn query(&self, bbox: Option<Rect<f64>>, offset: usize, limit: usize) -> Page {
        let Some(bbox) = bbox else {
            return Page {
                matched: self.len,
                features: self.features().skip(offset).take(limit).collect(),
            };
        };
        let within = Within::new(bbox);
        let mut hits: Vec<usize> = self
            .base
            .index
            .locate_in_envelope_intersecting(&within.aabb)
            .filter(|e| self.base.items.meets(e.data, &e.geom().envelope(), &within))
            .map(|e| e.data)
            .collect();
        hits.sort_unstable();
        let mut page = Page {
            matched: 0,
            features: Vec::new(),
        };
        for f in self.merged(hits, Some(within)) {
            if page.matched >= offset && page.features.len() < limit {
                page.features.push(f);
            }
            page.matched += 1;
        }
        page
    }

    /// Adds `feature`, or replaces the feature with its id.
    pub fn put(&mut self, feature: Feature) {
        let envelope = envelope(&feature.geometry);
        self.extent =
            civgrid::extent::extent(self.extent.into_iter().chain(envelope.map(|e| rect(&e))));
        let put = Put {
            feature: Arc::new(feature),
            envelope,
        };
        match self.change(&put.feature.id) {
            Ok(k) => {
                let change = &mut self.changes[k];
                *change = match *change {
                    Change::Added(_) => Change::Added(put),
                    Change::Replaced(i, _) => Change::Replaced(i, put),
                    Change::Removed(i) => {
                        self.len += 1;
                        Change::Replaced(i, put)
                    }
                };
            }
            Err(k) => {
                let change = if let Some(i) = self.base.position(&put.feature.id) {
                    Change::Replaced(i, put)
                } else {
                    self.len += 1;
                    Change::Added(put)
                };
                self.changes.insert(k, change);
            }
        }
        self.fold_if_due();
    }

    /// Removes the feature with this id, if there is one.
    pub fn remove(&mut self, id: &str) {
        match self.change(id) {
            Ok(k) => match self.changes[k] {
                Change::Added(_) => {
                    self.changes.remove(k);
                    self.len -= 1;
                }
                Change::Replaced(i, _) => {
                    self.changes[k] = Change::Removed(i);
                    self.len -= 1;
                }
                Change::Removed(_) => {}
            },
            Err(k) => {
                if let Some(i) = self.base.position(id) {
                    self.changes.insert(k, Change::Removed(i));
                    self.len -= 1;
                    self.fold_if_due();
                }
            }
        }
    }

    /// Where the change of `id` is in `changes` (`Err`: where it would go).
    fn change(&self, id: &str) -> Result<usize, usize> {
        self.changes
            .binary_search_by(|c| id_order(&c.id(&self.base), id))
    }

    /// Folds the changes into a new base once there are too many.
    fn fold_if_due(&mut self) {
        if self.changes.len() > self.fold_min.max(self.base.items.len() / 32) {
            let features = self.merged(0..self.base.items.len(), None).collect();
            self.base = Arc::new(Base::new(Items::Held(features)));
            self.changes.clear();
            self.extent = self.base.extent;
        }
    }

    /// The base features at positions `base` (ascending) with the changes
    /// merged in, in collection order; with `within`, only the changed
    /// features meeting its box (those of `base` are taken as they are).
    fn merged<B: IntoIterator<Item = usize>>(
        &self,
        base: B,
        within: Option<Within>,
    ) -> Merged<'_, B::IntoIter> {
        Merged {
            base: base.into_iter().peekable(),
            changes: self.changes.iter().peekable(),
            within,
            layer: &self.base,
        }
    }
}

/// The iterator of [`Collection::merged`].
struct Merged<'a, B: Iterator<Item = usize>> {
    layer: &'a Base,
    base: Peekable<B>,
    changes: Peekable<std::slice::Iter<'a, Change>>,
    within: Option<Within>,
}

impl<B: Iterator<Item = usize>> Iterator for Merged<'_, B> {
    type Item = Arc<Feature>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            // Whether the next feature is the base's (else the change's,
            // which replaces the base's when both have one id).
            let from_base = match (self.base.peek(), self.changes.peek()) {
                (None, None) => return None,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(&i), Some(change)) => match change.base() {
                    Some(j) => {
                        if j == i {
                            self.base.next();
                        }
                        j > i
                    }
                    None => id_order(&self.layer.items.id(i), &change.id(self.layer)).is_lt(),
                },
            };
            if from_base {
                return self.base.next().map(|i| self.layer.items.get(i));
            }
            let now = self.changes.next().and_then(Change::now);
            if let Some(p) = now.filter(|p| {
                self.within.is_none_or(|w| {
                    p.envelope
                        .is_some_and(|e| e.intersects(&w.aabb) && w.meets(&e, &p.feature.geometry))
                })
            }) {
                return Some(p.feature.clone());
            }
        }
    }
}

/// A property map of the non-null values.
pub(crate) fn properties(
    pairs: impl IntoIterator<Item = (&'static str, Value)>,
) -> Map<String, Value> {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

/// A cell's area in m², to the centimetre², as features and tiles give it.
pub fn area_m2(c: &Cell) -> f64 {
    (c.area_m2 * 100.0).round() / 100.0
}

/// One unit cell as a feature (id = its code).
pub fn cell(c: &Cell) -> Feature {
    Feature {
        id: c.code.to_string(),
        geometry: c.geometry.clone().into(),
        properties: properties([
            ("code", json!(c.code.to_string())),
            ("community", json!(c.community.to_string())),
            ("area_m2", json!(area_m2(c))),
            ("h3", json!(c.h3.to_string())),
            ("start_date", json!(c.start.to_string())),
        ]),
    }
}

/// The unit cells collection of `cells` (in code order), made when read.
pub fn cells(cells: Arc<Vec<Cell>>) -> Collection {
    Collection::made(
        "cells",
        "Unit cells",
        "万米单元网格: unit cells of about 10,000 m², coded district+subdistrict+community+sequence",
        Arc::new(Made::new(
            cells,
            |c| c.code.to_string(),
            cell,
            |c| c.geometry.bounding_rect(),
        )),
    )
}

/// One component as a feature (id = its 16-digit code).
pub fn component(c: &Component) -> Feature {
    Feature {
        id: c.code.to_string(),
        geometry: c.geometry.clone(),
        properties: properties([
            ("code", json!(c.code.to_string())),
            ("class", json!(c.code.class())),
            ("name", json!(c.name)),
            ("owner", json!(c.owner)),
            ("maintainer", json!(c.maintainer)),
            ("state", json!(c.state.as_str())),
            ("cell", json!(c.cell.map(|x| x.to_string()))),
        ]),
    }
}

/// The components collection, by code.
pub fn components<'a>(components: impl IntoIterator<Item = &'a Component>) -> Collection {
    Collection::new(
        "components",
        "Components",
        "部件: components with their 16-digit codes (district, class, serial), owner, maintainer, state and unit cell",
        components.into_iter().map(component).collect(),
    )
}

/// One overlay zone as a feature (id = `layer:code`).
pub fn zone(z: &ZoneFeature) -> Feature {
    Feature {
        id: format!("{}:{}", z.layer, z.code),
        geometry: z.geometry.clone().into(),
        properties: properties([
            ("layer", json!(z.layer)),
            ("code", json!(z.code)),
            ("name", json!(z.name)),
            ("complete", json!(z.complete)),
        ]),
    }
}

/// The overlay zones collection, by layer and code.
pub fn zones<'a>(zones: impl IntoIterator<Item = &'a ZoneFeature>) -> Collection {
    Collection::new(
        "zones",
        "Overlay zones",
        "police beats, fire-station districts, school-safety zones, road sections…: id layer:code",
        zones.into_iter().map(zone).collect(),
    )
}

/// The feature of a grid (active or retired), with every attribute.
pub fn grid(g: &Grid) -> Feature {
    let contact = |c: &Option<Contact>, name: fn(&Contact) -> &str| {
        c.as_ref().map_or(Value::Null, |c| json!(name(c)))
    };
    Feature {
        id: g.code.to_string(),
        geometry: g.geometry.clone().into(),
        properties: properties([
            ("code", json!(g.code.to_string())),
            ("community", json!(g.community.to_string())),
            ("kind", json!(g.kind.as_str())),
            ("name", json!(g.name)),
            ("households", json!(g.households)),
            ("population", json!(g.population)),
            ("area_m2", json!((g.area_m2 * 100.0).round() / 100.0)),
            ("worker_name", contact(&g.worker, |c| &c.name)),
            ("worker_phone", contact(&g.worker, |c| &c.phone)),
            ("leader_name", contact(&g.leader, |c| &c.name)),
            ("leader_phone", contact(&g.leader, |c| &c.phone)),
            ("start_date", json!(g.start.to_string())),
            ("end_date", json!(g.end.map(|d| d.to_string()))),
        ]),
    }
}

/// The household grids collection (active grids), by code.
pub fn grids(grids: &[Grid]) -> Collection {
    Collection::new(
        "grids",
        "Household grids",
        "全科网格: household grids (basic, special, building) with their households and grid workers",
        grids.iter().filter(|g| g.end.is_none()).map(grid).collect(),
    )
}

/// The facilities collection, by store id.
pub fn facilities(facilities: &[Facility]) -> Collection {
    Collection::new(
        "facilities",
        "Facilities",
        "消防站, 医院, 派出所, 避难场所…: responders and resources",
        facilities.iter().map(facility).collect(),
    )
}

/// One facility as a feature (id = store id).
pub fn facility(f: &Facility) -> Feature {
    Feature {
        id: f.id.to_string(),
        geometry: f.location.into(),
        properties: properties([
            ("kind", json!(f.kind.as_str())),
            ("name", json!(f.name)),
            ("capacity", json!(f.capacity)),
            ("staff", json!(f.staff)),
            ("contact", json!(f.contact)),
        ]),
    }
}

/// The hazards collection, by store id.
pub fn hazards(hazards: &[Hazard]) -> Collection {
    Collection::new(
        "hazards",
        "Hazards",
        "危险源/风险点: hazards with their risk level",
        hazards.iter().map(hazard).collect(),
    )
}

/// One hazard as a feature (id = store id).
pub fn hazard(h: &Hazard) -> Feature {
    Feature {
        id: h.id.to_string(),
        geometry: match &h.geometry {
            HazardGeometry::Point(p) => (*p).into(),
            HazardGeometry::Area(a) => a.clone().into(),
        },
        properties: properties([
            ("kind", json!(h.kind)),
            ("name", json!(h.name)),
            ("level", json!(h.level().as_str())),
            ("score", json!(h.assessment.score())),
        ]),
    }
}

#[cfg(test)]
#[path = "ogc_tests.rs"]
mod tests;

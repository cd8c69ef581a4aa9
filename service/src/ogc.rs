//! OGC API Features collections: the layers that other systems (GDAL's
//! OAPIF driver, QGIS, the case system) read by bounding box and page.
//!
//! A [`Collection`] keeps its features in a fixed order (codes for cells,
//! store ids for facilities and hazards) with an R-tree of their envelopes,
//! so a `bbox` query is a tree search and pages are stable.

use std::collections::HashMap;

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

/// A layer served as an OGC API Features collection.
#[derive(Debug)]
pub struct Collection {
    /// The collection id in URLs.
    pub id: &'static str,
    /// Human title.
    pub title: &'static str,
    /// Description.
    pub description: &'static str,
    features: Vec<Feature>,
    by_id: HashMap<String, usize>,
    index: RTree<Envelope>,
    extent: Option<Rect<f64>>,
}

/// One page of a query.
#[derive(Debug)]
pub struct Page<'a> {
    /// Features matching the query in all pages.
    pub matched: usize,
    /// The features of this page, in collection order.
    pub features: Vec<&'a Feature>,
}

impl Collection {
    /// A collection of `features`, kept in the given order.
    pub fn new(
        id: &'static str,
        title: &'static str,
        description: &'static str,
        features: Vec<Feature>,
    ) -> Self {
        let envelopes: Vec<Envelope> = features
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let r = f.geometry.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners(r.min().into(), r.max().into()),
                    i,
                ))
            })
            .collect();
        let extent = civgrid::extent::extent(envelopes.iter().map(|e| {
            let env = e.geom().envelope();
            Rect::new(env.lower(), env.upper())
        }));
        Self {
            id,
            title,
            description,
            by_id: features
                .iter()
                .enumerate()
                .map(|(i, f)| (f.id.clone(), i))
                .collect(),
            features,
            index: RTree::bulk_load(envelopes),
            extent,
        }
    }

    /// Every feature, in collection order.
    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    /// The bounding box of every feature, if any.
    pub fn extent(&self) -> Option<Rect<f64>> {
        self.extent
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// `true` without features.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The feature with this id.
    pub fn get(&self, id: &str) -> Option<&Feature> {
        self.by_id.get(id).map(|&i| &self.features[i])
    }

    /// The features whose geometry intersects `bbox` (all without one),
    /// skipping `offset` and returning at most `limit`.
    pub fn query(&self, bbox: Option<Rect<f64>>, offset: usize, limit: usize) -> Page<'_> {
        let hits: Vec<usize> = match bbox {
            None => (0..self.features.len()).collect(),
            Some(b) => {
                let aabb = AABB::from_corners(b.min().into(), b.max().into());
                // A feature whose envelope lies inside the box meets it;
                // only those across the box's edge need the exact test.
                let mut hits: Vec<usize> = self
                    .index
                    .locate_in_envelope_intersecting(&aabb)
                    .filter(|e| {
                        aabb.contains_envelope(&e.geom().envelope())
                            || self.features[e.data].geometry.intersects(&b)
                    })
                    .map(|e| e.data)
                    .collect();
                hits.sort_unstable();
                hits
            }
        };
        Page {
            matched: hits.len(),
            features: hits
                .iter()
                .skip(offset)
                .take(limit)
                .map(|&i| &self.features[i])
                .collect(),
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

/// The unit cells collection, by code.
pub fn cells(cells: &[Cell]) -> Collection {
    Collection::new(
        "cells",
        "Unit cells",
        "万米单元网格: unit cells of about 10,000 m², coded district+subdistrict+community+sequence",
        cells
            .iter()
            .map(|c| Feature {
                id: c.code.to_string(),
                geometry: c.geometry.clone().into(),
                properties: properties([
                    ("code", json!(c.code.to_string())),
                    ("community", json!(c.community.to_string())),
                    ("area_m2", json!((c.area_m2 * 100.0).round() / 100.0)),
                    ("h3", json!(c.h3.to_string())),
                    ("start_date", json!(c.start.to_string())),
                ]),
            })
            .collect(),
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
    let mut sorted: Vec<&Facility> = facilities.iter().collect();
    sorted.sort_by_key(|f| f.id);
    Collection::new(
        "facilities",
        "Facilities",
        "消防站, 医院, 派出所, 避难场所…: responders and resources",
        sorted.into_iter().map(facility).collect(),
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
    let mut sorted: Vec<&Hazard> = hazards.iter().collect();
    sorted.sort_by_key(|h| h.id);
    Collection::new(
        "hazards",
        "Hazards",
        "危险源/风险点: hazards with their risk level",
        sorted.into_iter().map(hazard).collect(),
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

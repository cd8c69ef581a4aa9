//! The served tile layers: their names, formats, zooms and what they hold.

use super::{VectorLayer, AREAS_LAYER, AREA_LABELS, AREA_LAYERS, BUILDINGS_ZOOM};

/// A served layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileLayer {
    /// The risk raster.
    Risk,
    /// The incident heat map.
    Heat,
    /// Roads, water and buildings (MVT), so a map needs no outside base map.
    Base,
    /// Districts, subdistricts and communities with their risk counts (MVT).
    Areas,
    /// A vector layer.
    Vector(VectorLayer),
}

impl TileLayer {
    /// Every served layer, as listed in messages.
    pub fn all() -> impl Iterator<Item = Self> {
        [Self::Risk, Self::Heat, Self::Base, Self::Areas]
            .into_iter()
            .chain(VectorLayer::ALL.map(Self::Vector))
    }

    /// The layer of a name in URLs.
    ///
    /// # Errors
    /// A message naming the layer and the served ones.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "risk" => return Ok(Self::Risk),
            "heat" => return Ok(Self::Heat),
            "base" => return Ok(Self::Base),
            AREAS_LAYER => return Ok(Self::Areas),
            _ => {}
        }
        VectorLayer::ALL
            .into_iter()
            .find(|l| l.name() == name)
            .map(Self::Vector)
            .ok_or_else(|| format!("no tile layer {name:?}; served: {}", served()))
    }

    /// The layer's name in URLs.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Risk => "risk",
            Self::Heat => "heat",
            Self::Base => "base",
            Self::Areas => AREAS_LAYER,
            Self::Vector(v) => v.name(),
        }
    }

    /// The least zoom served.
    pub const fn minzoom(self) -> u8 {
        match self {
            Self::Vector(v) => v.minzoom(),
            Self::Risk | Self::Heat | Self::Base | Self::Areas => 0,
        }
    }

    /// The layers inside its vector tiles, with their least zooms.
    pub fn vector_layers(self) -> Vec<(&'static str, u8)> {
        match self {
            Self::Vector(v) => vec![(v.name(), v.minzoom())],
            Self::Base => vec![("water", 0), ("roads", 0), ("buildings", BUILDINGS_ZOOM)],
            Self::Areas => AREA_LAYERS
                .iter()
                .map(|l| (l.name, l.minzoom))
                .chain(std::iter::once((AREA_LABELS, 0)))
                .collect(),
            Self::Risk | Self::Heat => Vec::new(),
        }
    }

    /// The file extension of its tiles.
    pub const fn format(self) -> &'static str {
        match self {
            Self::Risk | Self::Heat => "png",
            Self::Base | Self::Areas | Self::Vector(_) => "mvt",
        }
    }

    /// The media type of its tiles.
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Risk | Self::Heat => "image/png",
            Self::Base | Self::Areas | Self::Vector(_) => "application/vnd.mapbox-vector-tile",
        }
    }

    /// What it holds, for TileJSON.
    pub const fn description(self) -> &'static str {
        match self {
            Self::Risk => "unit cells in their risk level's colour (red, orange, yellow, blue)",
            Self::Base => {
                "roads (class, name), water (kind, name), buildings (name, households, levels)"
            }
            Self::Heat => {
                "kernel density of incidents per km² (filters: kind, from, to; styles/heat.json)"
            }
            Self::Areas => {
                "districts, subdistricts (from zoom 8) and communities (from zoom 10): code, name, kind, cells, red, orange, yellow, blue, level"
            }
            Self::Vector(VectorLayer::Cells) => {
                "unit cells: code, community, level, score, households, area_m2"
            }
            Self::Vector(VectorLayer::Facilities) => "facilities: kind, name, capacity",
            Self::Vector(VectorLayer::Hazards) => "hazards: kind, name, level, score",
            Self::Vector(VectorLayer::Grids) => {
                "household grids: code, community, kind, name, households, worker and leader"
            }
            Self::Vector(VectorLayer::Components) => {
                "components: code, class, name, owner, maintainer, state, cell"
            }
            Self::Vector(VectorLayer::Zones) => "overlay zones: layer, code, name, complete",
        }
    }
}

/// TileJSON's `vector_layers` of `layer`: each layer inside its tiles with
/// its zooms (from its least zoom, and at least `minzoom`, to `maxzoom`)
/// and its `fields` (see [`super::Tiles::fields`]).
pub fn vector_layers_json(
    layer: TileLayer,
    fields: &[(
        &'static str,
        std::collections::BTreeMap<String, &'static str>,
    )],
    minzoom: u8,
    maxzoom: u8,
) -> Vec<serde_json::Value> {
    layer
        .vector_layers()
        .into_iter()
        .map(|(id, least)| {
            let f = fields
                .iter()
                .find(|(name, _)| *name == id)
                .map_or_else(|| serde_json::json!({}), |(_, f)| serde_json::json!(f));
            serde_json::json!({ "id": id, "minzoom": least.max(minzoom), "maxzoom": maxzoom, "fields": f })
        })
        .collect()
}

/// The served layers, for messages.
pub fn served() -> String {
    TileLayer::all()
        .map(|l| format!("{} ({})", l.name(), l.format()))
        .collect::<Vec<_>>()
        .join(", ")
}

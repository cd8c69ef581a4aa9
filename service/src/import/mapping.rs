//! The mapping file: how a source's layers and fields map to the model when
//! their names are not the conventional ones (see docs/import.md).
//!
//! ```toml
//! [layers."Fire stations 2024"]   # the source layer's name
//! target = "facilities"           # districts, subdistricts, communities, buildings,
//!                                 # facilities, hazards, roads, barriers, incidents,
//!                                 # components or zones
//! datum = "gcj02"                 # optional: coordinates are GCJ-02 (or bd09)
//! [layers."Fire stations 2024".fields]
//! name = "NAME_CN"                # model field = source field
//! kind = "TYPE"
//!
//! [osm.admin_levels]              # OSM boundary=administrative → model level,
//! "6" = "district"                # by admin_level; the code comes from `ref`
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use civgrid::{AdminLevel, Datum};
use serde::Deserialize;

/// A model layer an import can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// `districts`, `subdistricts` or `communities`.
    Admin(AdminLevel),
    /// `buildings`.
    Buildings,
    /// `facilities`.
    Facilities,
    /// `hazards`.
    Hazards,
    /// `roads`.
    Roads,
    /// `barriers`: rivers, canals, walls… (lines).
    Barriers,
    /// `incidents`.
    Incidents,
    /// `components` (部件): points, lines or areas with a 16-digit code.
    Components,
    /// `zones` of an overlay layer (police beats, school-safety zones…).
    Zones,
}

impl Target {
    /// Every target with its conventional layer name.
    pub const NAMED: [(&'static str, Self); 11] = [
        ("districts", Self::Admin(AdminLevel::District)),
        ("subdistricts", Self::Admin(AdminLevel::Subdistrict)),
        ("communities", Self::Admin(AdminLevel::Community)),
        ("buildings", Self::Buildings),
        ("facilities", Self::Facilities),
        ("hazards", Self::Hazards),
        ("roads", Self::Roads),
        ("barriers", Self::Barriers),
        ("incidents", Self::Incidents),
        ("components", Self::Components),
        ("zones", Self::Zones),
    ];

    /// The conventional names, for messages (`districts, subdistricts, …`).
    pub fn names() -> String {
        Self::NAMED.map(|(n, _)| n).join(", ")
    }

    /// The target whose conventional name is `name`, exactly.
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase();
        Self::NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
    }

    /// The target a layer name designates by convention: the name itself, or a
    /// name ending in `-<name>`, `_<name>` or ` <name>` (`hangzhou-districts`).
    pub fn by_convention(layer: &str) -> Option<Self> {
        let l = layer.trim().to_ascii_lowercase();
        Self::NAMED
            .iter()
            .find(|(n, _)| {
                l == *n
                    || l.strip_suffix(n)
                        .is_some_and(|p| p.ends_with(['-', '_', ' ']))
            })
            .map(|(_, t)| *t)
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::from_name(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown target {s:?} (expected one of {})",
                Self::names()
            ))
        })
    }
}

/// How one source layer maps to the model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerMapping {
    /// The model layer it fills.
    pub target: Target,
    /// The datum of its coordinates when not CGCS2000 (`gcj02`, `bd09`).
    #[serde(default, deserialize_with = "datum")]
    pub datum: Datum,
    /// Model field name → source field name.
    #[serde(default)]
    pub fields: HashMap<String, String>,
}

fn datum<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Datum, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

/// OSM-specific settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsmMapping {
    /// `admin_level` value → model level, for `boundary=administrative`.
    #[serde(default)]
    pub admin_levels: HashMap<String, AdminLevelName>,
}

/// A model level named in a mapping file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminLevelName(pub AdminLevel);

impl<'de> Deserialize<'de> for AdminLevelName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "district" => Ok(Self(AdminLevel::District)),
            "subdistrict" => Ok(Self(AdminLevel::Subdistrict)),
            "community" => Ok(Self(AdminLevel::Community)),
            _ => Err(serde::de::Error::custom(format!(
                "unknown level {s:?} (expected district, subdistrict or community)"
            ))),
        }
    }
}

/// A whole mapping file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Source layer name → its mapping.
    #[serde(default)]
    pub layers: HashMap<String, LayerMapping>,
    /// OSM settings.
    #[serde(default)]
    pub osm: OsmMapping,
}

/// A mapping file that cannot be read or parsed.
#[derive(Debug, thiserror::Error)]
#[error("mapping file {path}: {reason}")]
pub struct MappingError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong (with line and column for syntax errors).
    pub reason: String,
}

impl Mapping {
    /// Reads a TOML mapping file.
    pub fn load(path: &Path) -> Result<Self, MappingError> {
        let err = |reason: String| MappingError {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        toml::from_str(&text).map_err(|e| err(e.to_string()))
    }

    /// How `layer` maps: the mapping file's entry, else the naming convention.
    pub fn layer(&self, layer: &str) -> Option<LayerMapping> {
        self.layers.get(layer).cloned().or_else(|| {
            Target::by_convention(layer).map(|target| LayerMapping {
                target,
                datum: Datum::Cgcs2000,
                fields: HashMap::new(),
            })
        })
    }
}

impl LayerMapping {
    /// The source field holding model field `field`.
    pub fn source_field<'a>(&'a self, field: &'a str) -> &'a str {
        self.fields.get(field).map_or(field, String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventional_names() {
        assert_eq!(
            Target::by_convention("hangzhou-districts"),
            Some(Target::Admin(AdminLevel::District))
        );
        assert_eq!(Target::by_convention("Buildings"), Some(Target::Buildings));
        assert_eq!(
            Target::by_convention("subdistricts"),
            Some(Target::Admin(AdminLevel::Subdistrict))
        );
        assert_eq!(Target::by_convention("roadsides"), None);
        assert_eq!(Target::by_convention("myroads"), None);
    }

    #[test]
    fn parses_a_mapping_file() {
        let m: Mapping = toml::from_str(
            r#"
            [layers."Fire stations"]
            target = "facilities"
            datum = "gcj02"
            fields = { name = "NAME_CN" }
            [osm.admin_levels]
            "6" = "district"
            "#,
        )
        .unwrap();
        let l = m.layer("Fire stations").unwrap();
        assert_eq!(l.target, Target::Facilities);
        assert_eq!(l.datum, Datum::Gcj02);
        assert_eq!(l.source_field("name"), "NAME_CN");
        assert_eq!(l.source_field("kind"), "kind");
        assert_eq!(m.osm.admin_levels["6"].0, AdminLevel::District);
        let bad = toml::from_str::<Mapping>("[layers.x]\ntarget = \"castles\"").unwrap_err();
        assert!(bad.to_string().contains("castles"));
    }
}

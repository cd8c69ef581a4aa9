//! Reading a feature's attributes by model field name, through the layer's
//! mapping, with OSM's `other_tags` as a fallback.

use std::collections::HashMap;

use gdal::vector::Feature;

use super::mapping::LayerMapping;
use super::FeatureProblem;
use crate::values;

/// A feature's attributes, looked up by model field name.
pub struct Attributes<'a> {
    feature: &'a Feature<'a>,
    mapping: &'a LayerMapping,
    tags: HashMap<String, String>,
}

impl<'a> Attributes<'a> {
    /// Attributes of `feature` under `mapping`; OSM's `other_tags` are parsed.
    pub fn new(feature: &'a Feature<'a>, mapping: &'a LayerMapping) -> Self {
        let mut attrs = Self {
            feature,
            mapping,
            tags: HashMap::new(),
        };
        if let Some(tags) = attrs.raw("other_tags") {
            attrs.tags = parse_hstore(&tags);
        }
        attrs
    }

    fn raw(&self, field: &str) -> Option<String> {
        let idx = self.feature.field_index(field).ok()?;
        let v = self.feature.field_as_string(idx).ok()??;
        let v = v.trim();
        (!v.is_empty()).then(|| v.to_owned())
    }
}

impl Fields for Attributes<'_> {
    /// Through the mapping; then OSM tags.
    fn get(&self, field: &str) -> Option<String> {
        let source = self.mapping.source_field(field);
        self.raw(source).or_else(|| self.tags.get(source).cloned())
    }

    /// From a column or `other_tags`.
    fn tag(&self, key: &str) -> Option<String> {
        self.raw(key).or_else(|| self.tags.get(key).cloned())
    }
}

/// A feature's attributes by model field name, with the typed readers every
/// source shares (a GDAL feature on import, GeoJSON properties in the API),
/// so one set of attribute rules applies to both.
pub trait Fields {
    /// The value of model field `field`, `None` when absent or empty.
    fn get(&self, field: &str) -> Option<String>;

    /// An OSM tag; `None` for sources without tags.
    fn tag(&self, _key: &str) -> Option<String> {
        None
    }

    /// A required text field, checked by [`values::text`].
    fn required(&self, field: &'static str) -> Result<String, FeatureProblem> {
        self.text(field)?
            .ok_or(FeatureProblem::MissingField { field })
    }

    /// An optional text field, checked by [`values::text`] (a NUL is
    /// refused, never cut).
    fn text(&self, field: &'static str) -> Result<Option<String>, FeatureProblem> {
        let v = self.get(field);
        if let Some(v) = &v {
            values::text(field, v)?;
        }
        Ok(v)
    }

    /// An optional field parsed with `FromStr`; a bad value is an error naming it.
    fn parsed<T: std::str::FromStr>(&self, field: &'static str) -> Result<Option<T>, FeatureProblem>
    where
        T::Err: std::fmt::Display,
    {
        self.get(field)
            .map(|v| {
                v.parse().map_err(|e: T::Err| FeatureProblem::BadField {
                    field,
                    value: v.clone(),
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    /// An optional number; decimals like `6.0` are accepted for counts.
    fn number(&self, field: &'static str) -> Result<Option<f64>, FeatureProblem> {
        self.get(field)
            .map(|v| match v.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(n),
                _ => Err(FeatureProblem::BadField {
                    field,
                    value: v.clone(),
                    reason: "not a number".into(),
                }),
            })
            .transpose()
    }

    /// An optional non-negative whole number that the stores keep
    /// ([`values::count`]).
    fn count(&self, field: &'static str) -> Result<Option<u32>, FeatureProblem> {
        Ok(self
            .number(field)?
            .map(|n| values::count(field, n))
            .transpose()?)
    }
}

/// GeoJSON properties: strings (trimmed), numbers and booleans as text;
/// `null` and empty strings are absent.
impl Fields for serde_json::Map<String, serde_json::Value> {
    fn get(&self, field: &str) -> Option<String> {
        use serde_json::Value;
        match self.get(field)? {
            Value::Null => None,
            Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
            other => Some(other.to_string()),
        }
    }
}

/// Parses OSM's `other_tags` (`"k"=>"v","k2"=>"v2"`, with `\"` escapes).
pub fn parse_hstore(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut strings = Vec::new();
    let mut cur = String::new();
    let mut in_str = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (in_str, c) {
            (true, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (true, '"') => {
                strings.push(std::mem::take(&mut cur));
                in_str = false;
            }
            (true, c) => cur.push(c),
            (false, '"') => in_str = true,
            (false, _) => {}
        }
    }
    let mut it = strings.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.insert(k, v);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn hstore() {
        let t = super::parse_hstore(
            r#""amenity"=>"fire_station","name:fi"=>"Paloasema \"A\"","building:levels"=>"5""#,
        );
        assert_eq!(t["amenity"], "fire_station");
        assert_eq!(t["name:fi"], "Paloasema \"A\"");
        assert_eq!(t["building:levels"], "5");
        assert_eq!(t.len(), 3);
    }
}

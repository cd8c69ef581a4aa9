//! From one source feature to model records, per target layer; and the OSM
//! tag rules that decide what an OSM feature is.

use std::collections::BTreeMap;

use civgrid::assign::ClassCode;
use civgrid::components::{ComponentCode, ComponentState};
use civgrid::zones::ZoneFeature;
use civgrid::{
    AdminArea, AdminCode, AdminLevel, Assessment, Barrier, BarrierKind, Building, Facility,
    FacilityKind, Hazard, HazardGeometry, HouseholdEstimate, Incident, LocalProjection, Oneway,
    RiskLevel, Road, Territory,
};
use gdal::vector::Geometry as GdalGeometry;
use geo::{Area, Centroid};
use geo_types::{Geometry, Point};

use super::attributes::{Attributes, Fields};
use super::geometry::GeometryReader;
use super::mapping::Target;
use super::placement::ComponentDraft;
use super::FeatureProblem;
use crate::values;

/// Road classes that carry vehicles (OSM highway values); others (footway,
/// path, steps…) are not roads for travel times and are skipped.
pub const DRIVABLE: &[&str] = &[
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "service",
    "living_street",
    "road",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
    "busway",
];

/// Everything needed to turn features into records.
pub struct RecordContext<'a> {
    /// Geometry conversion for the layer.
    pub geometry: GeometryReader<'a>,
    /// How households are estimated.
    pub estimate: HouseholdEstimate,
    /// Projections for footprint areas, one per Gauss-Krüger 3° zone (by
    /// central meridian), set up on the zone's first building: a file may
    /// hold buildings of distant cities.
    pub projections: BTreeMap<i64, LocalProjection>,
    /// The source layer's name: the overlay layer of zones without a
    /// `layer` field.
    pub layer: String,
    /// Components read from the layer, placed once the whole import is read
    /// (their codes and cells depend on the store).
    pub drafts: Vec<ComponentDraft>,
}

impl RecordContext<'_> {
    /// The projection of the Gauss-Krüger 3° zone holding `lon`.
    fn zone_projection(&mut self, lon: f64) -> Result<&LocalProjection, FeatureProblem> {
        let meridian = LocalProjection::gauss_kruger_3deg_meridian(lon);
        let key = meridian as i64;
        if !self.projections.contains_key(&key) {
            let p = LocalProjection::new(meridian).map_err(|e| FeatureProblem::Reprojection {
                reason: e.to_string(),
            })?;
            self.projections.insert(key, p);
        }
        self.projections.get(&key).ok_or(FeatureProblem::Empty)
    }
}

/// Appends the records of one feature to `out`; returns the notes of what
/// was repaired or tidied.
pub fn add_feature(
    ctx: &mut RecordContext<'_>,
    target: Target,
    attrs: &Attributes<'_>,
    g: &GdalGeometry,
    out: &mut Territory,
) -> Result<Vec<String>, FeatureProblem> {
    let gr = &ctx.geometry;
    match target {
        Target::Admin(level) => {
            let code: AdminCode = attrs
                .parsed("code")?
                .ok_or(FeatureProblem::MissingField { field: "code" })?;
            if code.level() != level {
                return Err(FeatureProblem::BadField {
                    field: "code",
                    value: code.to_string(),
                    reason: format!("a {} code has {} digits", level.name(), level.digits()),
                });
            }
            let kind = match level {
                AdminLevel::Community => Some(
                    attrs
                        .parsed("kind")?
                        .ok_or(FeatureProblem::MissingField { field: "kind" })?,
                ),
                _ => None,
            };
            let area = gr.polygons(g)?;
            let a = AdminArea {
                code,
                name: attrs.text("name")?.unwrap_or_default(),
                kind,
                geometry: area.geometry,
            };
            match level {
                AdminLevel::District => out.districts.push(a),
                AdminLevel::Subdistrict => out.subdistricts.push(a),
                AdminLevel::Community => out.communities.push(a),
            }
            Ok(area.notes)
        }
        Target::Buildings => {
            let area = gr.polygons(g)?;
            let levels = attrs.count("levels")?.or(attrs
                .tag("building:levels")
                .and_then(|v| v.parse::<f64>().ok())
                .and_then(|n| values::count("building:levels", n).ok()));
            let given = attrs.count("households")?;
            let households = if let Some(h) = given {
                h
            } else {
                let centroid = area.geometry.centroid().ok_or(FeatureProblem::Empty)?;
                let proj = ctx.zone_projection(centroid.x())?;
                let m2 = proj
                    .project(&area.geometry)
                    .map_err(|e| FeatureProblem::Reprojection {
                        reason: e.to_string(),
                    })?
                    .unsigned_area();
                let estimate = ctx.estimate.households(m2, levels);
                values::count("households", f64::from(estimate))?
            };
            out.buildings.push(Building {
                id: 0,
                name: attrs
                    .text("name")?
                    .or_else(|| address(attrs))
                    .unwrap_or_default(),
                levels,
                households,
                households_estimated: given.is_none(),
                geometry: area.geometry,
            });
            Ok(area.notes)
        }
        Target::Facilities => {
            let kind = attrs
                .parsed("kind")?
                .ok_or(FeatureProblem::MissingField { field: "kind" })?;
            add_facility(gr, kind, attrs, g, out)
        }
        Target::Hazards => {
            let geom = gr.point_or_area(g)?;
            let geometry = match geom.geometry {
                Geometry::Point(p) => HazardGeometry::Point(p),
                Geometry::MultiPolygon(m) => HazardGeometry::Area(m),
                _ => return Err(FeatureProblem::Empty),
            };
            out.hazards.push(hazard(attrs, geometry)?);
            Ok(geom.notes)
        }
        Target::Roads => {
            let class = attrs
                .text("class")?
                .or_else(|| attrs.tag("highway"))
                .ok_or(FeatureProblem::MissingField { field: "class" })?;
            add_roads(gr, class, attrs, g, out)
        }
        Target::Barriers => {
            let kind = attrs.required("kind")?;
            let kind: BarrierKind = kind.parse().map_err(|e: civgrid::UnknownBarrierKind| {
                FeatureProblem::BadField {
                    field: "kind",
                    value: kind.clone(),
                    reason: e.to_string(),
                }
            })?;
            add_barriers(gr, kind, attrs, g, out)
        }
        Target::Incidents => {
            let kind = attrs.required("kind")?;
            let time = attrs.required("time")?;
            let time_unix_s = parse_time(&time).ok_or_else(|| FeatureProblem::BadField {
                field: "time",
                value: time.clone(),
                reason: "not an ISO 8601 time (e.g. 2025-03-01T08:30:00+08:00)".into(),
            })?;
            values::time("time", time_unix_s)?;
            let p = gr.point(g)?;
            out.incidents.push(Incident {
                id: 0,
                kind,
                time_unix_s,
                location: p.geometry,
            });
            Ok(p.notes)
        }
        Target::Components => {
            let geometry = gr.any(g)?;
            ctx.drafts.push(component_draft(attrs, geometry.geometry)?);
            Ok(geometry.notes)
        }
        Target::Zones => add_zone(gr, &ctx.layer, attrs, g, out),
    }
}

/// Adds a zone of the overlay layer `layer` (or the feature's `layer` field).
fn add_zone(
    gr: &GeometryReader<'_>,
    layer: &str,
    attrs: &Attributes<'_>,
    g: &GdalGeometry,
    out: &mut Territory,
) -> Result<Vec<String>, FeatureProblem> {
    let code = attrs.required("code")?;
    let complete = match attrs.get("complete") {
        Some(v) => parse_flag(&v).ok_or_else(|| FeatureProblem::BadField {
            field: "complete",
            value: v.clone(),
            reason: "expected true or false (1/0, yes/no, 是/否)".into(),
        })?,
        None => false,
    };
    let area = gr.polygons(g)?;
    out.zones.push(ZoneFeature {
        id: 0,
        layer: attrs.text("layer")?.unwrap_or_else(|| layer.to_owned()),
        name: attrs.text("name")?.unwrap_or_default(),
        code,
        complete,
        geometry: area.geometry,
    });
    Ok(area.notes)
}

/// A component's fields: a 16-digit `code` or a 4-digit `class` (or both,
/// agreeing), `owner` (required), `maintainer` (default: the owner),
/// `state` (default: good) and `name`, at `geometry`.
///
/// # Errors
/// [`FeatureProblem`] naming the missing or bad field.
pub fn component_draft(
    attrs: &impl Fields,
    geometry: Geometry<f64>,
) -> Result<ComponentDraft, FeatureProblem> {
    let code: Option<ComponentCode> = attrs.parsed("code")?;
    let class = attrs.get("class");
    if let Some(c) = class.as_deref().filter(|c| ClassCode::parse(c).is_none()) {
        return Err(FeatureProblem::BadField {
            field: "class",
            value: c.to_owned(),
            reason: "a class code has 4 digits: major (01-99) and minor (01-99)".into(),
        });
    }
    let class = match (code, class) {
        (None, None) => {
            return Err(FeatureProblem::MissingField {
                field: "code (16 digits) or class (4 digits)",
            })
        }
        (Some(code), Some(class)) if code.class() != class => {
            return Err(FeatureProblem::BadField {
                field: "class",
                value: class,
                reason: format!("the code {code} is of class {}", code.class()),
            })
        }
        (Some(code), _) => code.class(),
        (None, Some(class)) => class,
    };
    let owner = attrs.required("owner")?;
    Ok(ComponentDraft {
        at: None,
        code,
        class,
        name: attrs.text("name")?.unwrap_or_default(),
        maintainer: attrs.text("maintainer")?.unwrap_or_else(|| owner.clone()),
        owner,
        state: attrs.parsed("state")?.unwrap_or(ComponentState::Good),
        geometry,
    })
}

/// A yes/no field: `true`/`false`, `1`/`0`, `yes`/`no`, `是`/`否`.
fn parse_flag(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "y" | "是" => Some(true),
        "false" | "f" | "0" | "no" | "n" | "否" => Some(false),
        _ => None,
    }
}

/// Adds a facility of `kind` at the feature's point (or area's interior point).
pub fn add_facility(
    gr: &GeometryReader<'_>,
    kind: FacilityKind,
    attrs: &Attributes<'_>,
    g: &GdalGeometry,
    out: &mut Territory,
) -> Result<Vec<String>, FeatureProblem> {
    let p = gr.point(g)?;
    out.facilities.push(facility(attrs, kind, p.geometry)?);
    Ok(p.notes)
}

/// A facility of `kind` at `location` with the attributes' name, capacity,
/// staff and contact (or OSM `phone`); its id is 0 until stored.
pub fn facility(
    attrs: &impl Fields,
    kind: FacilityKind,
    location: Point<f64>,
) -> Result<Facility, FeatureProblem> {
    Ok(Facility {
        id: 0,
        kind,
        name: attrs.text("name")?.unwrap_or_default(),
        capacity: attrs.count("capacity")?,
        staff: attrs.count("staff")?,
        contact: attrs.text("contact")?.or_else(|| attrs.tag("phone")),
        location,
    })
}

/// A hazard at `geometry` with the attributes' kind (required), name and
/// assessment; its id is 0 until stored.
pub fn hazard(attrs: &impl Fields, geometry: HazardGeometry) -> Result<Hazard, FeatureProblem> {
    Ok(Hazard {
        id: 0,
        assessment: assessment(attrs)?,
        kind: attrs.required("kind")?,
        name: attrs.text("name")?.unwrap_or_default(),
        geometry,
    })
}

/// Adds one road per line part.
pub fn add_roads(
    gr: &GeometryReader<'_>,
    class: String,
    attrs: &Attributes<'_>,
    g: &GdalGeometry,
    out: &mut Territory,
) -> Result<Vec<String>, FeatureProblem> {
    let speed_kmh = match attrs.number("speed_kmh")? {
        Some(s) => Some(s),
        None => attrs.tag("maxspeed").and_then(|m| parse_maxspeed(&m)),
    };
    if speed_kmh.is_some_and(|s| s <= 0.0) {
        return Err(FeatureProblem::BadField {
            field: "speed_kmh",
            value: format!("{speed_kmh:?}"),
            reason: "must be positive".into(),
        });
    }
    let oneway: Oneway = attrs.parsed("oneway")?.unwrap_or(Oneway::No);
    let lines = gr.lines(g)?;
    for geometry in lines.geometry {
        out.roads.push(Road {
            id: 0,
            class: class.clone(),
            name: attrs.text("name")?.unwrap_or_default(),
            speed_kmh,
            oneway,
            geometry,
        });
    }
    Ok(lines.notes)
}

/// Adds one barrier of `kind` per line part.
pub fn add_barriers(
    gr: &GeometryReader<'_>,
    kind: BarrierKind,
    attrs: &Attributes<'_>,
    g: &GdalGeometry,
    out: &mut Territory,
) -> Result<Vec<String>, FeatureProblem> {
    let lines = gr.lines(g)?;
    for geometry in lines.geometry {
        out.barriers.push(Barrier {
            id: 0,
            kind,
            name: attrs.text("name")?.unwrap_or_default(),
            geometry,
        });
    }
    Ok(lines.notes)
}

/// The assessment: a `level`, or LEC factors `lec_l` + `lec_e` + `lec_c`,
/// or `likelihood` + `severity` of the 5×5 matrix, in that order of precedence.
fn assessment(attrs: &impl Fields) -> Result<Assessment, FeatureProblem> {
    let bad = |e: civgrid::InvalidAssessment| FeatureProblem::BadField {
        field: e.field,
        value: e.value.to_string(),
        reason: e.reason.into(),
    };
    if let Some(level) = attrs.parsed::<RiskLevel>("level")? {
        return Ok(Assessment::Given { level });
    }
    if let (Some(l), Some(e), Some(c)) = (
        attrs.number("lec_l")?,
        attrs.number("lec_e")?,
        attrs.number("lec_c")?,
    ) {
        return Assessment::lec(l, e, c).map_err(bad);
    }
    if let (Some(l), Some(s)) = (attrs.number("likelihood")?, attrs.number("severity")?) {
        return Assessment::matrix(l, s).map_err(bad);
    }
    Err(FeatureProblem::MissingField {
        field: "level (or lec_l + lec_e + lec_c, or likelihood + severity)",
    })
}

fn address(attrs: &Attributes<'_>) -> Option<String> {
    let street = attrs.tag("addr:street")?;
    Some(match attrs.tag("addr:housenumber") {
        Some(n) => format!("{street} {n}"),
        None => street,
    })
}

/// OSM `maxspeed` in km/h (`50`, `30 mph`); `None` for `signals`, `none`…
pub fn parse_maxspeed(v: &str) -> Option<f64> {
    let v = v.trim();
    let (num, factor) = match v.strip_suffix("mph") {
        Some(n) => (n.trim(), 1.609_344),
        None => (v.strip_suffix("km/h").unwrap_or(v).trim(), 1.0),
    };
    num.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .map(|s| s * factor)
}

/// An ISO 8601 time: RFC 3339, OGR's `YYYY/MM/DD HH:MM:SS+TZ`, or a date
/// (UTC midnight). Without a zone, UTC.
pub fn parse_time(s: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    let norm = s.replace('/', "-");
    for f in [
        "%Y-%m-%d %H:%M:%S%#z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S%#z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(&norm, f) {
            return Some(t.timestamp());
        }
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&norm, f) {
            return Some(t.and_utc().timestamp());
        }
    }
    NaiveDate::parse_from_str(&norm, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
}

/// What an OSM feature is, from its tags.
pub enum OsmClass {
    /// A building footprint.
    Building,
    /// A drivable road.
    Road(String),
    /// A line cells follow: `waterway=river|canal|stream`, `barrier=wall|fence`.
    Barrier(BarrierKind),
    /// A facility of a kind.
    Facility(FacilityKind),
    /// `boundary=administrative` at an `admin_level`.
    Boundary(String),
    /// Nothing civgrid keeps.
    Other,
}

/// Classifies an OSM feature: facilities first (a fire station's building is
/// the fire station), then buildings, roads and boundaries.
pub fn classify_osm(attrs: &impl Fields) -> OsmClass {
    let amenity = attrs.tag("amenity");
    let facility = match amenity.as_deref() {
        Some("fire_station") => Some(FacilityKind::FireStation),
        Some("hospital") => Some(FacilityKind::Hospital),
        Some("clinic" | "doctors") => Some(FacilityKind::Clinic),
        Some("police") => Some(FacilityKind::Police),
        Some("school") => Some(FacilityKind::School),
        _ => match attrs.tag("emergency").as_deref() {
            Some("fire_hydrant") => Some(FacilityKind::FireHydrant),
            Some("ambulance_station") => Some(FacilityKind::AmbulanceStation),
            Some("defibrillator") => Some(FacilityKind::Defibrillator),
            Some("assembly_point") => Some(FacilityKind::Shelter),
            _ => None,
        },
    };
    if let Some(kind) = facility {
        return OsmClass::Facility(kind);
    }
    if attrs.tag("building").is_some() {
        return OsmClass::Building;
    }
    if let Some(h) = attrs.tag("highway") {
        return if DRIVABLE.contains(&h.as_str()) {
            OsmClass::Road(h)
        } else {
            OsmClass::Other
        };
    }
    let barrier = match (
        attrs.tag("waterway").as_deref(),
        attrs.tag("barrier").as_deref(),
    ) {
        (Some("river"), _) => Some(BarrierKind::River),
        (Some("canal"), _) => Some(BarrierKind::Canal),
        (Some("stream"), _) => Some(BarrierKind::Stream),
        (_, Some("wall" | "city_wall" | "retaining_wall")) => Some(BarrierKind::Wall),
        (_, Some("fence")) => Some(BarrierKind::Fence),
        _ => None,
    };
    if let Some(kind) = barrier {
        return OsmClass::Barrier(kind);
    }
    if attrs.tag("boundary").as_deref() == Some("administrative") {
        if let Some(level) = attrs.tag("admin_level") {
            return OsmClass::Boundary(level);
        }
    }
    OsmClass::Other
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn osm_rivers_and_walls_are_barriers() {
        struct Tags(HashMap<String, String>);
        impl Fields for Tags {
            fn get(&self, _: &str) -> Option<String> {
                None
            }
            fn tag(&self, key: &str) -> Option<String> {
                self.0.get(key).cloned()
            }
        }
        let class = |tags: &str| classify_osm(&Tags(crate::import::attributes::parse_hstore(tags)));
        assert!(matches!(
            class(r#""waterway"=>"river""#),
            OsmClass::Barrier(BarrierKind::River)
        ));
        assert!(matches!(
            class(r#""waterway"=>"canal""#),
            OsmClass::Barrier(BarrierKind::Canal)
        ));
        assert!(matches!(
            class(r#""barrier"=>"city_wall""#),
            OsmClass::Barrier(BarrierKind::Wall)
        ));
        assert!(matches!(
            class(r#""barrier"=>"fence""#),
            OsmClass::Barrier(BarrierKind::Fence)
        ));
        assert!(matches!(class(r#""waterway"=>"ditch""#), OsmClass::Other));
        assert!(matches!(class(r#""barrier"=>"gate""#), OsmClass::Other));
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("2025-03-01T08:30:00+08:00"), Some(1_740_789_000));
        assert_eq!(parse_time("2025-03-01T00:30:00Z"), Some(1_740_789_000));
        assert_eq!(parse_time("2025/03/01 00:30:00+00"), Some(1_740_789_000));
        assert_eq!(parse_time("2025-03-01"), Some(1_740_787_200));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn maxspeed() {
        assert_eq!(parse_maxspeed("50"), Some(50.0));
        assert!((parse_maxspeed("30 mph").unwrap() - 48.28).abs() < 0.01);
        assert_eq!(parse_maxspeed("signals"), None);
    }
}

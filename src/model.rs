//! The territory model: administrative areas, buildings, facilities, hazards,
//! roads, barriers (rivers, walls…) and incidents, all in lon/lat (CGCS2000,
//! EPSG:4490).
//!
//! Each layer is a plain struct holding `geo-types` geometry, so the engine can
//! be tested alone; stores and importers convert to and from these types.

use std::fmt;
use std::str::FromStr;

use geo_types::{LineString, MultiPolygon, Point};
use serde::{Deserialize, Serialize};

use crate::risk::{Assessment, RiskLevel};

/// Administrative level of an [`AdminCode`], with its number of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminLevel {
    /// 区/县: 6-digit GB/T 2260 code.
    District,
    /// 街道/乡镇: 9 digits (district + 3).
    Subdistrict,
    /// 社区/村: 12 digits (subdistrict + 3).
    Community,
}

impl AdminLevel {
    /// Number of digits in a code of this level.
    #[must_use]
    pub const fn digits(self) -> usize {
        match self {
            Self::District => 6,
            Self::Subdistrict => 9,
            Self::Community => 12,
        }
    }

    /// The level a code of `digits` digits belongs to, if any.
    #[must_use]
    pub const fn from_digits(digits: usize) -> Option<Self> {
        match digits {
            6 => Some(Self::District),
            9 => Some(Self::Subdistrict),
            12 => Some(Self::Community),
            _ => None,
        }
    }

    /// The level above this one (`None` for a district).
    #[must_use]
    pub const fn parent(self) -> Option<Self> {
        match self {
            Self::District => None,
            Self::Subdistrict => Some(Self::District),
            Self::Community => Some(Self::Subdistrict),
        }
    }

    /// Lower-case English name, as used for layer names (`district`, …).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::District => "district",
            Self::Subdistrict => "subdistrict",
            Self::Community => "community",
        }
    }
}

/// A code that is not a valid administrative code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid administrative code {value:?}: {reason}")]
pub struct InvalidCode {
    /// The rejected text.
    pub value: String,
    /// Why it was rejected.
    pub reason: &'static str,
}

/// An administrative code: 6 digits for a district, 9 for a subdistrict, 12
/// for a community; each code starts with its parent's.
///
/// # Example
/// ```
/// use civgrid::{AdminCode, AdminLevel};
/// let c: AdminCode = "330102001002".parse()?;
/// assert_eq!(c.level(), AdminLevel::Community);
/// assert_eq!(c.parent().unwrap().to_string(), "330102001");
/// # Ok::<(), civgrid::InvalidCode>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AdminCode {
    level: AdminLevel,
    value: u64,
}

impl AdminCode {
    /// The code's level.
    #[must_use]
    pub const fn level(self) -> AdminLevel {
        self.level
    }

    /// The code's numeric value.
    #[must_use]
    pub const fn value(self) -> u64 {
        self.value
    }

    /// The code of the parent area, taken from the prefix (`None` for a district).
    #[must_use]
    pub fn parent(self) -> Option<Self> {
        let parent = self.level.parent()?;
        Some(Self {
            level: parent,
            value: self.value / 1000,
        })
    }

    /// The ancestor of this code at `level` (itself when the levels match).
    #[must_use]
    pub fn ancestor(self, level: AdminLevel) -> Option<Self> {
        let up = self.level.digits().checked_sub(level.digits())?;
        Some(Self {
            level,
            value: self.value / 10u64.pow(up as u32),
        })
    }

    /// Builds the code of a child area from its 3-digit sequence number (1–999).
    ///
    /// # Errors
    /// [`InvalidCode`] when this is a community code or `seq` is not in 1–999.
    pub fn child(self, seq: u16) -> Result<Self, InvalidCode> {
        let level = match self.level {
            AdminLevel::District => AdminLevel::Subdistrict,
            AdminLevel::Subdistrict => AdminLevel::Community,
            AdminLevel::Community => {
                return Err(InvalidCode {
                    value: self.to_string(),
                    reason: "a community has no child areas",
                });
            }
        };
        if !(1..=999).contains(&seq) {
            return Err(InvalidCode {
                value: format!("{self}{seq:03}"),
                reason: "sequence number must be 1-999",
            });
        }
        Ok(Self {
            level,
            value: self.value * 1000 + u64::from(seq),
        })
    }
}

impl FromStr for AdminCode {
    type Err = InvalidCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let err = |reason| InvalidCode {
            value: s.to_owned(),
            reason,
        };
        if !s.bytes().all(|b| b.is_ascii_digit()) || s.is_empty() {
            return Err(err("must contain only digits"));
        }
        let level = AdminLevel::from_digits(s.len()).ok_or_else(|| {
            err("must have 6 (district), 9 (subdistrict) or 12 (community) digits")
        })?;
        if s.starts_with('0') {
            return Err(err("a GB/T 2260 code does not start with 0"));
        }
        let value = s.parse().map_err(|_| err("not a number"))?;
        Ok(Self { level, value })
    }
}

impl fmt::Display for AdminCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:0width$}", self.value, width = self.level.digits())
    }
}

impl Serialize for AdminCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AdminCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Urban (社区) or rural (村) community; decides the household-grid bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommunityKind {
    /// 社区: urban community.
    Urban,
    /// 村: rural village.
    Rural,
}

impl CommunityKind {
    /// The name used in files and the store (`urban` / `rural`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Urban => "urban",
            Self::Rural => "rural",
        }
    }
}

impl FromStr for CommunityKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "urban" | "社区" => Ok(Self::Urban),
            "rural" | "村" => Ok(Self::Rural),
            other => Err(format!(
                "unknown community kind {other:?} (expected urban or rural)"
            )),
        }
    }
}

/// A district, subdistrict or community: code, name and boundary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminArea {
    /// Code; its length gives the level.
    pub code: AdminCode,
    /// Name (may be empty for areas derived from their children's codes).
    pub name: String,
    /// Urban or rural, for communities only.
    pub kind: Option<CommunityKind>,
    /// Boundary in lon/lat.
    pub geometry: MultiPolygon<f64>,
}

/// A building footprint with its households.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Building {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// Name or address, may be empty.
    pub name: String,
    /// Number of above-ground levels, when known.
    pub levels: Option<u32>,
    /// Households living in the building.
    pub households: u32,
    /// `true` when `households` was estimated from footprint × levels.
    pub households_estimated: bool,
    /// Footprint in lon/lat.
    pub geometry: MultiPolygon<f64>,
}

impl Building {
    /// The point the building's households are counted at (the cell and
    /// grid holding them): its footprint's centroid when that lies inside
    /// it, else an interior point.
    #[must_use]
    pub fn point(&self) -> Option<Point<f64>> {
        crate::cells::partition::representative_point(&self.geometry).map(Point::from)
    }
}

/// How many households a building holds when its data does not say.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HouseholdEstimate {
    /// Floor area of one dwelling, in m² (default 90).
    pub dwelling_m2: f64,
    /// Levels assumed when a building's levels are unknown (default 1).
    pub default_levels: u32,
}

impl Default for HouseholdEstimate {
    fn default() -> Self {
        Self {
            dwelling_m2: 90.0,
            default_levels: 1,
        }
    }
}

impl HouseholdEstimate {
    /// Households for a footprint of `footprint_m2` and `levels` levels:
    /// footprint × levels ÷ dwelling size, rounded, at least 1.
    ///
    /// # Units
    /// `footprint_m2` in square metres.
    #[must_use]
    pub fn households(&self, footprint_m2: f64, levels: Option<u32>) -> u32 {
        let levels = f64::from(levels.unwrap_or(self.default_levels).max(1));
        let n = (footprint_m2 * levels / self.dwelling_m2).round();
        if n.is_finite() && n >= 1.0 {
            n.min(f64::from(u32::MAX)) as u32
        } else {
            1
        }
    }
}

/// What a facility is; the closed list keeps API filters and imports honest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilityKind {
    /// 消防站.
    FireStation,
    /// 微型消防站.
    MicroFireStation,
    /// 医院.
    Hospital,
    /// 诊所/卫生服务中心.
    Clinic,
    /// 派出所.
    Police,
    /// 避难场所 (also OSM emergency=assembly_point).
    Shelter,
    /// 急救站.
    AmbulanceStation,
    /// 学校 (a vulnerable place as well as a resource).
    School,
    /// 消火栓.
    FireHydrant,
    /// AED.
    Defibrillator,
}

impl FacilityKind {
    /// Every kind, in a stable order.
    pub const ALL: [Self; 10] = [
        Self::FireStation,
        Self::MicroFireStation,
        Self::Hospital,
        Self::Clinic,
        Self::Police,
        Self::Shelter,
        Self::AmbulanceStation,
        Self::School,
        Self::FireHydrant,
        Self::Defibrillator,
    ];

    /// The kind's name in files and APIs (`fire_station`, …).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::FireStation => "fire_station",
            Self::MicroFireStation => "micro_fire_station",
            Self::Hospital => "hospital",
            Self::Clinic => "clinic",
            Self::Police => "police",
            Self::Shelter => "shelter",
            Self::AmbulanceStation => "ambulance_station",
            Self::School => "school",
            Self::FireHydrant => "fire_hydrant",
            Self::Defibrillator => "defibrillator",
        }
    }
}

impl fmt::Display for FacilityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A facility kind that is not in [`FacilityKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown facility kind {0:?} (expected one of: fire_station, micro_fire_station, hospital, clinic, police, shelter, ambulance_station, school, fire_hydrant, defibrillator)"
)]
pub struct UnknownKind(pub String);

impl FromStr for FacilityKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownKind(t.to_owned()))
    }
}

/// A responder or resource: a point with a kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facility {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// What it is.
    pub kind: FacilityKind,
    /// Name.
    pub name: String,
    /// Capacity (beds, vehicles, people sheltered…), when known.
    pub capacity: Option<u32>,
    /// Staff on duty, when known.
    pub staff: Option<u32>,
    /// Contact (phone), when known.
    pub contact: Option<String>,
    /// Location in lon/lat.
    pub location: Point<f64>,
}

/// Where a hazard is: a point source or an area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HazardGeometry {
    /// A point source (a gas station, a chemical store).
    Point(Point<f64>),
    /// An area (an industrial park, a landslide zone).
    Area(MultiPolygon<f64>),
}

/// A hazard (危险源/风险点) with its assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hazard {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// Kind (`gas_station`, `chemical_plant`, …): an open list.
    pub kind: String,
    /// Name.
    pub name: String,
    /// How its risk was assessed.
    pub assessment: Assessment,
    /// Location.
    pub geometry: HazardGeometry,
}

impl Hazard {
    /// The hazard's risk level from its assessment.
    #[must_use]
    pub fn level(&self) -> RiskLevel {
        self.assessment.level()
    }
}

/// Direction of travel allowed on a road.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Oneway {
    /// Both directions.
    No,
    /// Only in the direction the line is drawn.
    Forward,
    /// Only against the direction the line is drawn (OSM `oneway=-1`).
    Backward,
}

impl FromStr for Oneway {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "no" | "false" | "0" => Ok(Self::No),
            "yes" | "true" | "1" => Ok(Self::Forward),
            "-1" | "reverse" => Ok(Self::Backward),
            other => Err(format!(
                "unknown oneway value {other:?} (expected yes, no or -1)"
            )),
        }
    }
}

impl Oneway {
    /// The value stored for this direction (`no`, `yes`, `-1`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::No => "no",
            Self::Forward => "yes",
            Self::Backward => "-1",
        }
    }
}

/// A road centre line, for travel times and cell boundaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Road {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// OSM highway class (`primary`, `residential`, …).
    pub class: String,
    /// Name, may be empty.
    pub name: String,
    /// Speed in km/h when the data gives it; otherwise a default by class.
    pub speed_kmh: Option<f64>,
    /// Allowed direction.
    pub oneway: Oneway,
    /// Centre line in lon/lat.
    pub geometry: LineString<f64>,
}

/// What a [`Barrier`] is. A small closed list: the lines DESIGN.md
/// (standard 1) cuts unit cells along besides roads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BarrierKind {
    /// 河流: a river's centre line (OSM `waterway=river`).
    River,
    /// 运河/渠: a canal (OSM `waterway=canal`).
    Canal,
    /// 溪/沟: a stream or ditch (OSM `waterway=stream`).
    Stream,
    /// 围墙/城墙: a wall, a city wall included (OSM `barrier=wall`).
    Wall,
    /// 围栏: a fence (OSM `barrier=fence`).
    Fence,
}

impl BarrierKind {
    /// Every kind, in a stable order.
    pub const ALL: [Self; 5] = [
        Self::River,
        Self::Canal,
        Self::Stream,
        Self::Wall,
        Self::Fence,
    ];

    /// The kind's name in files and APIs (`river`, …).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::River => "river",
            Self::Canal => "canal",
            Self::Stream => "stream",
            Self::Wall => "wall",
            Self::Fence => "fence",
        }
    }
}

impl fmt::Display for BarrierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A barrier kind that is not in [`BarrierKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown barrier kind {0:?} (expected one of: river, canal, stream, wall, fence)")]
pub struct UnknownBarrierKind(pub String);

impl FromStr for BarrierKind {
    type Err = UnknownBarrierKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownBarrierKind(t.to_owned()))
    }
}

/// A line that unit cells are cut along, like a road's centre line: a
/// river's, canal's or stream's centre line, a wall or a fence.
///
/// A river given as a water area is not a barrier; give its centre line
/// (or leave the water out of the community polygons).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Barrier {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// What it is.
    pub kind: BarrierKind,
    /// Name, may be empty.
    pub name: String,
    /// The line in lon/lat.
    pub geometry: LineString<f64>,
}

/// A reported incident (fire, flood, case…), for heat maps and hot spots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// Kind (`fire`, `flood`, …).
    pub kind: String,
    /// When it happened, as seconds since the Unix epoch (UTC).
    pub time_unix_s: i64,
    /// Where it happened.
    pub location: Point<f64>,
}

/// Everything the engine knows about a territory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Territory {
    /// Districts (区/县).
    pub districts: Vec<AdminArea>,
    /// Subdistricts (街道/乡镇).
    pub subdistricts: Vec<AdminArea>,
    /// Communities (社区/村).
    pub communities: Vec<AdminArea>,
    /// Buildings.
    pub buildings: Vec<Building>,
    /// Facilities.
    pub facilities: Vec<Facility>,
    /// Hazards.
    pub hazards: Vec<Hazard>,
    /// Roads.
    pub roads: Vec<Road>,
    /// Barriers: rivers, canals, streams, walls and fences, as lines.
    #[serde(default)]
    pub barriers: Vec<Barrier>,
    /// Incidents.
    pub incidents: Vec<Incident>,
    /// Components (部件): manhole covers, lamps, hydrants…
    #[serde(default)]
    pub components: Vec<crate::components::Component>,
    /// Zones of the overlay layers (police beats, school-safety zones…).
    #[serde(default)]
    pub zones: Vec<crate::zones::ZoneFeature>,
}

/// Feature counts per layer, as reported after an import or a load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerCounts {
    /// Districts.
    pub districts: usize,
    /// Subdistricts.
    pub subdistricts: usize,
    /// Communities.
    pub communities: usize,
    /// Buildings.
    pub buildings: usize,
    /// Facilities.
    pub facilities: usize,
    /// Hazards.
    pub hazards: usize,
    /// Roads.
    pub roads: usize,
    /// Barriers.
    #[serde(default)]
    pub barriers: usize,
    /// Incidents.
    pub incidents: usize,
    /// Components.
    #[serde(default)]
    pub components: usize,
    /// Zones of overlay layers.
    #[serde(default)]
    pub zones: usize,
}

impl LayerCounts {
    /// Total number of features.
    #[must_use]
    pub const fn total(&self) -> usize {
        self.districts
            + self.subdistricts
            + self.communities
            + self.buildings
            + self.facilities
            + self.hazards
            + self.roads
            + self.barriers
            + self.incidents
            + self.components
            + self.zones
    }
}

impl fmt::Display for LayerCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} districts, {} subdistricts, {} communities, {} buildings, {} facilities, {} hazards, {} roads, {} barriers, {} incidents, {} components, {} zones",
            self.districts,
            self.subdistricts,
            self.communities,
            self.buildings,
            self.facilities,
            self.hazards,
            self.roads,
            self.barriers,
            self.incidents,
            self.components,
            self.zones
        )
    }
}

impl Territory {
    /// Moves every feature of `other` after this territory's own, layer by
    /// layer (parts of one territory read separately, e.g. a layer each).
    pub fn append(&mut self, other: Self) {
        let Self {
            districts,
            subdistricts,
            communities,
            buildings,
            facilities,
            hazards,
            roads,
            barriers,
            incidents,
            components,
            zones,
        } = other;
        self.districts.extend(districts);
        self.subdistricts.extend(subdistricts);
        self.communities.extend(communities);
        self.buildings.extend(buildings);
        self.facilities.extend(facilities);
        self.hazards.extend(hazards);
        self.roads.extend(roads);
        self.barriers.extend(barriers);
        self.incidents.extend(incidents);
        self.components.extend(components);
        self.zones.extend(zones);
    }

    /// The lon/lat box covering every district, subdistrict and community.
    #[must_use]
    pub fn extent(&self) -> Option<geo_types::Rect<f64>> {
        use geo::BoundingRect;
        crate::extent::extent(
            self.districts
                .iter()
                .chain(&self.subdistricts)
                .chain(&self.communities)
                .filter_map(|a| a.geometry.bounding_rect()),
        )
    }

    /// Feature counts per layer.
    #[must_use]
    pub fn counts(&self) -> LayerCounts {
        LayerCounts {
            districts: self.districts.len(),
            subdistricts: self.subdistricts.len(),
            communities: self.communities.len(),
            buildings: self.buildings.len(),
            facilities: self.facilities.len(),
            hazards: self.hazards.len(),
            roads: self.roads.len(),
            barriers: self.barriers.len(),
            incidents: self.incidents.len(),
            components: self.components.len(),
            zones: self.zones.len(),
        }
    }

    /// The administrative areas of one level.
    #[must_use]
    pub fn areas(&self, level: AdminLevel) -> &[AdminArea] {
        match level {
            AdminLevel::District => &self.districts,
            AdminLevel::Subdistrict => &self.subdistricts,
            AdminLevel::Community => &self.communities,
        }
    }

    /// Appends every feature of `other`.
    pub fn extend(&mut self, other: Self) {
        self.districts.extend(other.districts);
        self.subdistricts.extend(other.subdistricts);
        self.communities.extend(other.communities);
        self.buildings.extend(other.buildings);
        self.facilities.extend(other.facilities);
        self.hazards.extend(other.hazards);
        self.roads.extend(other.roads);
        self.barriers.extend(other.barriers);
        self.incidents.extend(other.incidents);
        self.components.extend(other.components);
        self.zones.extend(other.zones);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_and_nest() {
        let c: AdminCode = "330102001002".parse().unwrap();
        assert_eq!(c.level(), AdminLevel::Community);
        assert_eq!(c.parent().unwrap().to_string(), "330102001");
        assert_eq!(
            c.ancestor(AdminLevel::District).unwrap().to_string(),
            "330102"
        );
        let d: AdminCode = "330102".parse().unwrap();
        assert_eq!(d.child(7).unwrap().to_string(), "330102007");
        assert!(d.child(0).is_err());
        assert!(d.child(1000).is_err());
    }

    #[test]
    fn bad_codes_are_rejected_with_a_reason() {
        for bad in ["", "33010", "3301021", "33010a", "012345"] {
            let e = bad.parse::<AdminCode>().unwrap_err();
            assert!(!e.to_string().is_empty(), "{bad}");
        }
    }

    #[test]
    fn household_estimate() {
        let e = HouseholdEstimate::default();
        assert_eq!(e.households(900.0, Some(6)), 60);
        assert_eq!(e.households(10.0, None), 1);
        assert_eq!(e.households(f64::NAN, None), 1);
    }

    #[test]
    fn barrier_kinds_round_trip() {
        for k in BarrierKind::ALL {
            assert_eq!(k.as_str().parse::<BarrierKind>().unwrap(), k);
            assert_eq!(
                k.to_string().to_uppercase().parse::<BarrierKind>().unwrap(),
                k
            );
        }
        let e = "moat".parse::<BarrierKind>().unwrap_err();
        assert_eq!(e, UnknownBarrierKind("moat".into()));
        assert!(e.to_string().contains("moat") && e.to_string().contains("river"));
    }

    #[test]
    fn barriers_are_counted_and_extended() {
        let river = Barrier {
            id: 0,
            kind: BarrierKind::River,
            name: "钱塘江".into(),
            geometry: LineString::from(vec![(120.0, 30.0), (120.1, 30.1)]),
        };
        let mut t = Territory::default();
        t.extend(Territory {
            barriers: vec![river.clone(), river],
            ..Territory::default()
        });
        let c = t.counts();
        assert_eq!((c.barriers, c.total()), (2, 2));
        assert!(c.to_string().contains("2 barriers"), "{c}");
    }

    #[test]
    fn facility_kinds_round_trip() {
        for k in FacilityKind::ALL {
            assert_eq!(k.as_str().parse::<FacilityKind>().unwrap(), k);
        }
        assert!("castle"
            .parse::<FacilityKind>()
            .unwrap_err()
            .to_string()
            .contains("castle"));
    }
}

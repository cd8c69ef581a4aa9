//! Default driving speeds per road class and turn-out times per facility kind.

use std::collections::{BTreeMap, HashMap};

use crate::model::{FacilityKind, Road};

/// Driving speed per OSM `highway` class, in km/h; `None` marks a class
/// that vehicles do not drive on.
///
/// Defaults (urban emergency driving, below the legal limits of open roads):
///
/// | class | km/h | class | km/h |
/// | --- | --- | --- | --- |
/// | motorway | 80 | motorway_link | 40 |
/// | trunk | 60 | trunk_link | 40 |
/// | primary | 50 | primary_link | 35 |
/// | secondary | 40 | secondary_link | 30 |
/// | tertiary | 35 | tertiary_link | 30 |
/// | unclassified | 30 | residential | 25 |
/// | road | 25 | service | 15 |
/// | track | 15 | living_street | 10 |
///
/// Not driven: footway, path, pedestrian, steps, cycleway, bridleway,
/// corridor, platform, construction, proposed. Any other class: 20 km/h.
/// A road's own `speed_kmh` (finite and positive) wins over its class.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeedTable {
    by_class: HashMap<String, Option<f64>>,
    other_kmh: Option<f64>,
}

/// Default speeds (km/h) of the driven classes.
const DEFAULT_SPEEDS: [(&str, f64); 16] = [
    ("motorway", 80.0),
    ("motorway_link", 40.0),
    ("trunk", 60.0),
    ("trunk_link", 40.0),
    ("primary", 50.0),
    ("primary_link", 35.0),
    ("secondary", 40.0),
    ("secondary_link", 30.0),
    ("tertiary", 35.0),
    ("tertiary_link", 30.0),
    ("unclassified", 30.0),
    ("residential", 25.0),
    ("road", 25.0),
    ("service", 15.0),
    ("track", 15.0),
    ("living_street", 10.0),
];

/// Classes that are not driven by default.
const NOT_DRIVEN: [&str; 10] = [
    "footway",
    "path",
    "pedestrian",
    "steps",
    "cycleway",
    "bridleway",
    "corridor",
    "platform",
    "construction",
    "proposed",
];

impl Default for SpeedTable {
    fn default() -> Self {
        let by_class = DEFAULT_SPEEDS
            .iter()
            .map(|&(c, v)| (c.to_owned(), Some(v)))
            .chain(NOT_DRIVEN.iter().map(|&c| (c.to_owned(), None)))
            .collect();
        Self {
            by_class,
            other_kmh: Some(20.0),
        }
    }
}

impl SpeedTable {
    /// Sets the speed of a class (`None`: not driven).
    #[must_use]
    pub fn with(mut self, class: &str, kmh: Option<f64>) -> Self {
        self.by_class.insert(class.to_owned(), kmh);
        self
    }

    /// Sets the speed of classes the table does not list (`None`: not driven).
    #[must_use]
    pub fn with_other(mut self, kmh: Option<f64>) -> Self {
        self.other_kmh = kmh;
        self
    }

    /// The speed of a class, in km/h (`None`: not driven).
    pub fn class_kmh(&self, class: &str) -> Option<f64> {
        self.by_class
            .get(class)
            .copied()
            .unwrap_or(self.other_kmh)
            .filter(|v| v.is_finite() && *v > 0.0)
    }

    /// The speed to drive `road` at, in km/h: its own speed when it has a
    /// usable one, else its class's (`None`: not driven).
    pub fn road_kmh(&self, road: &Road) -> Option<f64> {
        let own = road.speed_kmh.filter(|v| v.is_finite() && *v > 0.0);
        self.class_kmh(&road.class)
            .map(|class| own.unwrap_or(class))
    }
}

/// Turn-out time per facility kind: from the call to leaving the station,
/// in seconds, added to the drive time.
///
/// Defaults: fire station 60 s (GB 51080-2015 counts about 1 min of turn-out
/// in its 5 minutes), micro fire station 30 s (staff on site, 3-minute
/// target), ambulance station 60 s, police 60 s, hospital 90 s, clinic
/// 120 s; shelters, schools, hydrants and defibrillators 0 s.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnoutTable {
    seconds: BTreeMap<FacilityKind, f64>,
}

impl Default for TurnoutTable {
    fn default() -> Self {
        Self {
            seconds: [
                (FacilityKind::FireStation, 60.0),
                (FacilityKind::MicroFireStation, 30.0),
                (FacilityKind::AmbulanceStation, 60.0),
                (FacilityKind::Police, 60.0),
                (FacilityKind::Hospital, 90.0),
                (FacilityKind::Clinic, 120.0),
            ]
            .into_iter()
            .collect(),
        }
    }
}

impl TurnoutTable {
    /// No turn-out time for any kind.
    #[must_use]
    pub fn zero() -> Self {
        Self {
            seconds: BTreeMap::new(),
        }
    }

    /// Sets the turn-out time of a kind, in seconds (negative counts as 0).
    #[must_use]
    pub fn with(mut self, kind: FacilityKind, seconds: f64) -> Self {
        self.seconds.insert(kind, seconds.max(0.0));
        self
    }

    /// The turn-out time of a kind, in seconds.
    pub fn seconds(&self, kind: FacilityKind) -> f64 {
        self.seconds.get(&kind).copied().unwrap_or(0.0)
    }
}

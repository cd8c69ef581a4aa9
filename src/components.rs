//! Components (部件): the city's managed objects — manhole covers, street
//! lamps, hydrants, bus shelters, trees — as points, lines or areas, each
//! with a 16-digit code (GB/T 30428.2 / CJ/T 214): the district's code
//! (6 digits), the class code (4: major 2 + minor 2) and a serial within
//! the district and class (6).
//!
//! Every component is tied to the unit cell holding its **anchor**: the
//! point itself, the middle of a line (by length), or a point inside an
//! area. [`tie`] (re)computes the cell codes; the service calls it on
//! import, on every move and when the cells are rebuilt.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use geo::{Euclidean, InteriorPoint, Length};
use geo_types::{Geometry, Point};
use serde::{Deserialize, Serialize};

use crate::assign::ClassCode;
use crate::cells::CellCode;
use crate::{AdminCode, AdminLevel, Locator};

/// A component's 16-digit code: district (6) + class (4) + serial (6).
///
/// # Example
/// ```
/// use civgrid::components::ComponentCode;
/// let c: ComponentCode = "3301060101000017".parse()?;
/// assert_eq!(c.district().to_string(), "330106");
/// assert_eq!(c.class(), "0101");
/// assert_eq!(c.serial(), 17);
/// # Ok::<(), civgrid::components::InvalidComponentCode>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentCode {
    district: AdminCode,
    class: ClassCode,
    serial: u32,
}

/// A code that is not a valid component code, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid component code {value:?}: {reason}")]
pub struct InvalidComponentCode {
    /// The rejected text.
    pub value: String,
    /// Why it was rejected.
    pub reason: &'static str,
}

/// Largest serial: six digits.
pub const MAX_SERIAL: u32 = 999_999;

impl ComponentCode {
    /// The code of serial `serial` of class `class` (4 digits) in `district`.
    ///
    /// # Errors
    /// [`InvalidComponentCode`] when `district` is not a district's code,
    /// `class` not 4 digits with non-zero major and minor, or `serial` not
    /// within 1..=999,999.
    pub fn new(
        district: AdminCode,
        class: &str,
        serial: u32,
    ) -> Result<Self, InvalidComponentCode> {
        let bad = |reason| InvalidComponentCode {
            value: format!("{district}{class}{serial:06}"),
            reason,
        };
        if district.level() != AdminLevel::District {
            return Err(bad("the first 6 digits must be a district's code"));
        }
        let class = ClassCode::parse(class).ok_or_else(|| {
            bad("the class must be 4 digits, a major (01-99) and a minor (01-99) class")
        })?;
        if !(1..=MAX_SERIAL).contains(&serial) {
            return Err(bad("the serial must be 000001 to 999999"));
        }
        Ok(Self {
            district,
            class,
            serial,
        })
    }

    /// The district's code.
    #[must_use]
    pub const fn district(self) -> AdminCode {
        self.district
    }

    /// The class code, 4 digits.
    #[must_use]
    pub fn class(self) -> String {
        self.class.to_string()
    }

    /// The class code.
    #[must_use]
    pub const fn class_code(self) -> ClassCode {
        self.class
    }

    /// The serial within district and class.
    #[must_use]
    pub const fn serial(self) -> u32 {
        self.serial
    }
}

impl FromStr for ComponentCode {
    type Err = InvalidComponentCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidComponentCode {
                value: s.to_owned(),
                reason: "a component code has 16 digits: district 6, class 4, serial 6",
            });
        }
        let district: AdminCode = s[..6].parse().map_err(|_| InvalidComponentCode {
            value: s.to_owned(),
            reason: "the first 6 digits must be a district's code",
        })?;
        let serial = s[10..].parse().unwrap_or(0);
        Self::new(district, &s[6..10], serial).map_err(|e| InvalidComponentCode {
            value: s.to_owned(),
            reason: e.reason,
        })
    }
}

impl fmt::Display for ComponentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:06}", self.district, self.class, self.serial)
    }
}

impl Serialize for ComponentCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ComponentCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A component's condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentState {
    /// 完好: in service.
    Good,
    /// 破损: damaged.
    Damaged,
    /// 丢失: missing.
    Missing,
    /// 占用: occupied or blocked.
    Occupied,
    /// 废弃: out of service.
    Retired,
}

impl ComponentState {
    /// Every state.
    pub const ALL: [Self; 5] = [
        Self::Good,
        Self::Damaged,
        Self::Missing,
        Self::Occupied,
        Self::Retired,
    ];

    /// The English name, as stored and served.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::Damaged => "damaged",
            Self::Missing => "missing",
            Self::Occupied => "occupied",
            Self::Retired => "retired",
        }
    }

    /// The Chinese name.
    #[must_use]
    pub const fn chinese(self) -> &'static str {
        match self {
            Self::Good => "完好",
            Self::Damaged => "破损",
            Self::Missing => "丢失",
            Self::Occupied => "占用",
            Self::Retired => "废弃",
        }
    }
}

/// A state name that is none of [`ComponentState::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown component state {0:?} (expected good/完好, damaged/破损, missing/丢失, occupied/占用 or retired/废弃)")]
pub struct UnknownState(pub String);

impl FromStr for ComponentState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(t) || k.chinese() == t)
            .ok_or_else(|| UnknownState(t.to_owned()))
    }
}

/// A managed city object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// Its 16-digit code.
    pub code: ComponentCode,
    /// Name or description, may be empty.
    pub name: String,
    /// Who owns it (权属单位).
    pub owner: String,
    /// Who maintains it (养护单位).
    pub maintainer: String,
    /// Its condition.
    pub state: ComponentState,
    /// A Point, a LineString or a MultiPolygon, lon/lat.
    pub geometry: Geometry<f64>,
    /// The active unit cell holding its anchor (see [`anchor`]); `None`
    /// before cells exist or when no cell holds it.
    pub cell: Option<CellCode>,
}

/// The point a component is placed by: the point itself, the middle (by
/// length) of a line or of a multi-line's longest part, a point inside an
/// area. `None` for an empty geometry.
#[must_use]
pub fn anchor(geometry: &Geometry<f64>) -> Option<Point<f64>> {
    match geometry {
        Geometry::Point(p) => Some(*p),
        Geometry::LineString(l) => middle(l),
        Geometry::MultiLineString(m) => {
            m.0.iter()
                .max_by(|a, b| Euclidean.length(*a).total_cmp(&Euclidean.length(*b)))
                .and_then(middle)
        }
        other => other.interior_point(),
    }
}

/// The point half way along `line`, by length.
fn middle(line: &geo_types::LineString<f64>) -> Option<Point<f64>> {
    use geo::InterpolatableLine;
    line.point_at_ratio_from_start(&Euclidean, 0.5)
}

/// How far from a cell a component's anchor may lie and still be tied to
/// it, degrees (about half a metre): manhole covers sit on road centre
/// lines, which cells are cut along, and floating point leaves hairline
/// cracks between the cells on either side.
pub const SNAP_DEG: f64 = 5e-6;

/// Sets each component's cell from `locator` (which must hold the active
/// cells); returns the indexes of the components whose cell changed.
pub fn tie(components: &mut [Component], locator: &Locator) -> Vec<usize> {
    let mut changed = Vec::new();
    for (i, c) in components.iter_mut().enumerate() {
        let cell = anchor(&c.geometry).and_then(|p| locator.cell_near(p, SNAP_DEG));
        if cell != c.cell {
            c.cell = cell;
            changed.push(i);
        }
    }
    changed
}

/// Why a component cannot be placed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    /// Its geometry is empty.
    #[error("the geometry is empty")]
    Empty,
    /// No district holds its anchor.
    #[error(
        "({lon}, {lat}) is outside every district: a component's code starts with its district's"
    )]
    Outside {
        /// Longitude of the anchor.
        lon: String,
        /// Latitude of the anchor.
        lat: String,
    },
    /// Its code names another district than the one holding it.
    #[error("the code {code} starts with district {}, but the component lies in district {district}", code.district())]
    WrongDistrict {
        /// The code given.
        code: ComponentCode,
        /// The district holding the component.
        district: AdminCode,
    },
    /// No serial is left.
    #[error(transparent)]
    Exhausted(#[from] SerialsExhausted),
}

impl PlaceError {
    /// The field at fault: `geometry`, `code` or `class`.
    #[must_use]
    pub const fn field(&self) -> &'static str {
        match self {
            Self::Empty | Self::Outside { .. } => "geometry",
            Self::WrongDistrict { .. } => "code",
            Self::Exhausted(_) => "class",
        }
    }
}

/// The code and cell of a component at `geometry`: `code` when given (it
/// must start with the district holding the component), else `number`'s
/// code for that district; the cell is the active cell of `locator`
/// holding the anchor (or nearest within [`SNAP_DEG`]).
///
/// # Errors
/// [`PlaceError`] when no district holds it, the given code names another
/// district, or `number` has no serial left.
pub fn place(
    locator: &Locator,
    code: Option<ComponentCode>,
    geometry: &Geometry<f64>,
    number: impl FnOnce(AdminCode) -> Result<ComponentCode, SerialsExhausted>,
) -> Result<(ComponentCode, Option<CellCode>), PlaceError> {
    let p = anchor(geometry).ok_or(PlaceError::Empty)?;
    let loc = locator.locate(p);
    let district = loc
        .district
        .map(|d| d.code)
        .ok_or_else(|| PlaceError::Outside {
            lon: format!("{:.6}", p.x()),
            lat: format!("{:.6}", p.y()),
        })?;
    let code = match code {
        Some(c) if c.district() != district => {
            return Err(PlaceError::WrongDistrict { code: c, district })
        }
        Some(c) => c,
        None => number(district)?,
    };
    let cell = loc
        .cell
        .map(|c| c.code)
        .or_else(|| locator.nearest_cell(p, SNAP_DEG));
    Ok((code, cell))
}

/// Hands out serials: the next one of each district and class after the
/// largest in use.
#[derive(Debug, Clone, Default)]
pub struct Serials {
    last: HashMap<(AdminCode, ClassCode), u32>,
}

/// No serial left in a district and class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("district {district} has no serial left for class {class} (999999 are in use)")]
pub struct SerialsExhausted {
    /// The district.
    pub district: AdminCode,
    /// The class.
    pub class: String,
}

impl Serials {
    /// The serials of `codes` taken.
    pub fn new<'a>(codes: impl IntoIterator<Item = &'a ComponentCode>) -> Self {
        let mut s = Self::default();
        for c in codes {
            s.take(*c);
        }
        s
    }

    /// Marks `code`'s serial as taken.
    pub fn take(&mut self, code: ComponentCode) {
        let last = self.last.entry((code.district, code.class)).or_default();
        *last = (*last).max(code.serial);
    }

    /// The next free code of `class` in `district`.
    ///
    /// # Errors
    /// [`SerialsExhausted`] after serial 999,999; the class and district
    /// must be valid (see [`ComponentCode::new`]).
    pub fn next(
        &mut self,
        district: AdminCode,
        class: &str,
    ) -> Result<ComponentCode, SerialsExhausted> {
        let exhausted = || SerialsExhausted {
            district,
            class: class.to_owned(),
        };
        let key = ClassCode::parse(class).ok_or_else(exhausted)?;
        let last = self.last.entry((district, key)).or_default();
        let code = ComponentCode::new(district, class, *last + 1).map_err(|_| exhausted())?;
        *last += 1;
        Ok(code)
    }
}

/// Components counted per key (a cell, a grid, a class…): the total and
/// the count of each class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClassCounts {
    /// Components in all.
    pub total: usize,
    /// Components per class code.
    pub classes: BTreeMap<ClassCode, usize>,
}

impl ClassCounts {
    /// Counts one more component.
    pub fn add(&mut self, c: &Component) {
        self.total += 1;
        *self.classes.entry(c.code.class).or_default() += 1;
    }
}

/// Counts `components` per `key` (components without a key are left out),
/// by class, keys in order.
pub fn count_by<'a, K: Ord>(
    components: impl IntoIterator<Item = &'a Component>,
    key: impl Fn(&Component) -> Option<K>,
) -> BTreeMap<K, ClassCounts> {
    let mut out: BTreeMap<K, ClassCounts> = BTreeMap::new();
    for c in components {
        if let Some(k) = key(c) {
            out.entry(k).or_default().add(c);
        }
    }
    out
}

#[cfg(test)]
#[path = "components_tests.rs"]
mod tests;

/// The components of a territory, by code and by store id, kept tied to
/// the active cells.
#[derive(Debug, Clone, Default)]
pub struct ComponentIndex {
    by_code: BTreeMap<ComponentCode, Component>,
    codes: HashMap<i64, ComponentCode>,
}

impl ComponentIndex {
    /// The index of `components`, each tied to its cell by `locator`;
    /// also returns how many had another cell than the one they carried.
    #[must_use]
    pub fn new(mut components: Vec<Component>, locator: &Locator) -> (Self, usize) {
        let moved = tie(&mut components, locator).len();
        let mut index = Self::default();
        for c in components {
            index.put(c);
        }
        (index, moved)
    }

    /// Every component, by code.
    pub fn iter(&self) -> impl Iterator<Item = &Component> {
        self.by_code.values()
    }

    /// How many there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    /// The component with this code.
    #[must_use]
    pub fn get(&self, code: ComponentCode) -> Option<&Component> {
        self.by_code.get(&code)
    }

    /// The component with this store id.
    #[must_use]
    pub fn by_id(&self, id: i64) -> Option<&Component> {
        self.codes.get(&id).and_then(|c| self.by_code.get(c))
    }

    /// Adds `c` (stored: its id is its own), replacing the component with
    /// its store id (a move or a change of code) and any other holding its
    /// code; returns the one with its id it replaced.
    pub fn put(&mut self, c: Component) -> Option<Component> {
        let old = self.remove(c.id);
        self.codes.insert(c.id, c.code);
        if let Some(other) = self.by_code.insert(c.code, c) {
            self.codes.remove(&other.id);
        }
        old
    }

    /// The next free code of `class` in `district`: after the largest
    /// serial in use there (codes are ordered district, class, serial).
    ///
    /// # Errors
    /// [`SerialsExhausted`] after serial 999,999, or for a class that is not
    /// a class code.
    pub fn next_code(
        &self,
        district: AdminCode,
        class: &str,
    ) -> Result<ComponentCode, SerialsExhausted> {
        let exhausted = || SerialsExhausted {
            district,
            class: class.to_owned(),
        };
        let first = ComponentCode::new(district, class, 1).map_err(|_| exhausted())?;
        let last = ComponentCode {
            serial: MAX_SERIAL,
            ..first
        };
        let serial = self
            .by_code
            .range(first..=last)
            .next_back()
            .map_or(0, |(c, _)| c.serial);
        ComponentCode::new(district, class, serial + 1).map_err(|_| exhausted())
    }

    /// Removes the component with this store id.
    pub fn remove(&mut self, id: i64) -> Option<Component> {
        let code = self.codes.remove(&id)?;
        self.by_code.remove(&code)
    }
}

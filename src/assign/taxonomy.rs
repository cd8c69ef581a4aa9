//! The class taxonomy: component (部件) and event (事件) classes, their
//! department, time limits and responders, parsed from CSV.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::model::FacilityKind;

/// A 4-digit class code: major class 2 digits + minor class 2 digits
/// (GB/T 30428 / CJ/T 214), e.g. `0101` (公用设施 / 上水井盖).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassCode(u16);

impl ClassCode {
    /// The code from its 4 digits.
    ///
    /// # Errors
    /// `None` unless `s` is exactly 4 ASCII digits with a non-zero major
    /// and minor part.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u16 = s.parse().ok()?;
        (n / 100 > 0 && n % 100 > 0).then_some(Self(n))
    }

    /// The major class (first 2 digits).
    #[must_use]
    pub const fn major(self) -> u16 {
        self.0 / 100
    }

    /// The minor class within the major one (last 2 digits).
    #[must_use]
    pub const fn minor(self) -> u16 {
        self.0 % 100
    }
}

impl fmt::Display for ClassCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

impl Serialize for ClassCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Component (部件: a physical object such as a manhole cover) or event
/// (事件: a situation such as illegal parking). The two kinds number their
/// classes independently, so a code is unique only within its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassKind {
    /// 部件.
    Component,
    /// 事件.
    Event,
}

impl ClassKind {
    /// The name used in files and answers.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Component => "component",
            Self::Event => "event",
        }
    }
}

impl FromStr for ClassKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "component" | "部件" => Ok(Self::Component),
            "event" | "事件" => Ok(Self::Event),
            other => Err(format!("kind {other:?}: expected component or event")),
        }
    }
}

/// A case level (案件等级), which picks the class's time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseLevel {
    /// Level 1, 紧急.
    Urgent,
    /// Level 2, 较急.
    Important,
    /// Level 3, 一般 (the default).
    #[default]
    Normal,
}

impl CaseLevel {
    /// Every level, in file-column order.
    pub const ALL: [Self; 3] = [Self::Urgent, Self::Important, Self::Normal];

    /// The column name in the taxonomy file and the name in answers.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Urgent => "urgent",
            Self::Important => "important",
            Self::Normal => "normal",
        }
    }

    /// The level's number, 1 (urgent) to 3 (normal).
    #[must_use]
    pub const fn number(self) -> u8 {
        match self {
            Self::Urgent => 1,
            Self::Important => 2,
            Self::Normal => 3,
        }
    }
}

impl FromStr for CaseLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(t) || t == l.number().to_string())
            .ok_or_else(|| format!("level {t:?}: expected 1, 2, 3, urgent, important or normal"))
    }
}

/// A time limit (处置时限), counted on the working calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeLimit {
    /// Working minutes (`30m`).
    Minutes(u32),
    /// Working hours (`4h`).
    Hours(u32),
    /// Working days (`3d`): the limit ends when the last working period
    /// of the N-th working day after the day of the report closes.
    Days(u32),
}

impl fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Minutes(n) => write!(f, "{n}m"),
            Self::Hours(n) => write!(f, "{n}h"),
            Self::Days(n) => write!(f, "{n}d"),
        }
    }
}

impl Serialize for TimeLimit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The longest time limit, in days.
const MAX_DAYS: u32 = 366;

impl FromStr for TimeLimit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = || {
            format!("time limit {t:?}: expected a positive number and m, h or d (30m, 4h, 3d), at most a year")
        };
        // The unit is the last character, which may be any character (天).
        let unit = t.chars().last().ok_or_else(bad)?;
        let n: u32 = t[..t.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
        // At most a year: deadlines stay within the calendar, and seconds
        // within u32.
        let (limit, most) = match unit {
            'm' => (Self::Minutes(n), MAX_DAYS * 24 * 60),
            'h' => (Self::Hours(n), MAX_DAYS * 24),
            'd' => (Self::Days(n), MAX_DAYS),
            _ => return Err(bad()),
        };
        if n == 0 || n > most {
            return Err(bad());
        }
        Ok(limit)
    }
}

/// One class of the taxonomy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Class {
    /// Component or event.
    pub kind: ClassKind,
    /// The 4-digit code.
    pub code: ClassCode,
    /// The major class's name (大类), e.g. 公用设施.
    pub major: String,
    /// The class's name (小类), e.g. 上水井盖.
    pub name: String,
    /// The responsible department (责任部门).
    pub department: String,
    /// Time limit per case level: urgent, important, normal.
    pub limits: [TimeLimit; 3],
    /// The responder kinds to send, nearest first (may be empty).
    pub responders: Vec<FacilityKind>,
}

impl Class {
    /// The time limit for a case level.
    #[must_use]
    pub fn limit(&self, level: CaseLevel) -> TimeLimit {
        self.limits[level as usize]
    }
}

/// Why a taxonomy file was rejected; every variant names its line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaxonomyError {
    /// The header line is missing a column; add it.
    #[error("line {line}: the header has no column {column:?} (expected {expected})")]
    MissingColumn {
        /// The header's line.
        line: usize,
        /// The missing column.
        column: &'static str,
        /// Every required column.
        expected: String,
    },
    /// A row has another number of fields than the header.
    #[error("line {line}: {found} fields, the header has {expected}")]
    FieldCount {
        /// The row's line.
        line: usize,
        /// Fields found.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// A field holds a double quote: quoting is not supported.
    #[error("line {line}: quotes are not supported; fields cannot hold commas")]
    Quote {
        /// The row's line.
        line: usize,
    },
    /// A field's value is invalid; `reason` says what is expected.
    #[error("line {line}: column {column}: {reason}")]
    Invalid {
        /// The row's line.
        line: usize,
        /// The column.
        column: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The class has no responsible department; every class needs one.
    #[error("line {line}: class {kind} {code} has no department")]
    MissingDepartment {
        /// The row's line.
        line: usize,
        /// Its kind.
        kind: &'static str,
        /// Its code.
        code: ClassCode,
    },
    /// Two rows give the same kind and code; remove one.
    #[error("line {line}: duplicate class {kind} {code} (first on line {first})")]
    Duplicate {
        /// The second row's line.
        line: usize,
        /// The first row's line.
        first: usize,
        /// The kind.
        kind: &'static str,
        /// The code.
        code: ClassCode,
    },
    /// The file has no class at all.
    #[error("the taxonomy has no class")]
    Empty,
}

/// A class code that the taxonomy cannot answer for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// No class has this code.
    #[error("unknown class code {0}")]
    Unknown(String),
    /// Both a component and an event class have this code; say which kind.
    #[error(
        "class code {0} is both a component and an event class: give kind = component or event"
    )]
    Ambiguous(ClassCode),
}

/// The columns of a taxonomy file, in the order [`Taxonomy::to_csv`] writes.
const COLUMNS: [&str; 9] = [
    "code",
    "kind",
    "major",
    "name",
    "department",
    "urgent",
    "important",
    "normal",
    "responders",
];

/// The component and event classes, by kind and code.
#[derive(Debug, Clone, Default)]
pub struct Taxonomy {
    classes: Vec<Class>,
    by_code: HashMap<(ClassKind, ClassCode), usize>,
}

impl Taxonomy {
    /// Parses a taxonomy CSV (format in `docs/assign.md`): a header naming
    /// the columns `code, kind, major, name, department, urgent, important,
    /// normal, responders` in any order, then one class per line. Blank
    /// lines and lines starting with `#` are skipped.
    ///
    /// # Errors
    /// [`TaxonomyError`] naming the line: a missing column, a bad code,
    /// kind, time limit or responder kind, a missing department, a duplicate
    /// code within a kind, or no class at all.
    pub fn parse(text: &str) -> Result<Self, TaxonomyError> {
        let mut rows = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_start_matches('\u{feff}').trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        let Some((header_line, header)) = rows.next() else {
            return Err(TaxonomyError::Empty);
        };
        let names: Vec<&str> = header.split(',').map(str::trim).collect();
        let mut at = [0usize; COLUMNS.len()];
        for (slot, column) in at.iter_mut().zip(COLUMNS) {
            *slot = names.iter().position(|n| *n == column).ok_or_else(|| {
                TaxonomyError::MissingColumn {
                    line: header_line,
                    column,
                    expected: COLUMNS.join(", "),
                }
            })?;
        }
        let mut taxonomy = Self::default();
        let mut lines = Vec::new();
        for (line, row) in rows {
            if row.contains('"') {
                return Err(TaxonomyError::Quote { line });
            }
            let fields: Vec<&str> = row.split(',').map(str::trim).collect();
            if fields.len() != names.len() {
                return Err(TaxonomyError::FieldCount {
                    line,
                    found: fields.len(),
                    expected: names.len(),
                });
            }
            let field = |i: usize| fields[at[i]];
            let invalid = |column: &'static str, reason: String| TaxonomyError::Invalid {
                line,
                column,
                reason,
            };
            let code = ClassCode::parse(field(0)).ok_or_else(|| {
                invalid(
                    "code",
                    format!(
                        "{:?} is not 4 digits (major 2 + minor 2, neither 00)",
                        field(0)
                    ),
                )
            })?;
            let kind: ClassKind = field(1).parse().map_err(|e| invalid("kind", e))?;
            let mut limits = [TimeLimit::Days(1); 3];
            for (l, column) in limits.iter_mut().zip([5, 6, 7]) {
                *l = field(column)
                    .parse()
                    .map_err(|e| invalid(COLUMNS[column], e))?;
            }
            let responders = field(8)
                .split('|')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::parse::<FacilityKind>)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid("responders", e.to_string()))?;
            let department = field(4);
            if department.is_empty() {
                return Err(TaxonomyError::MissingDepartment {
                    line,
                    kind: kind.as_str(),
                    code,
                });
            }
            if let Some(&first) = taxonomy.by_code.get(&(kind, code)) {
                return Err(TaxonomyError::Duplicate {
                    line,
                    first: lines[first],
                    kind: kind.as_str(),
                    code,
                });
            }
            taxonomy
                .by_code
                .insert((kind, code), taxonomy.classes.len());
            lines.push(line);
            taxonomy.classes.push(Class {
                kind,
                code,
                major: field(2).to_owned(),
                name: field(3).to_owned(),
                department: department.to_owned(),
                limits,
                responders,
            });
        }
        if taxonomy.classes.is_empty() {
            return Err(TaxonomyError::Empty);
        }
        Ok(taxonomy)
    }

    /// Every class, in file order.
    #[must_use]
    pub fn classes(&self) -> &[Class] {
        &self.classes
    }

    /// The class of `kind` with `code`.
    #[must_use]
    pub fn class(&self, kind: ClassKind, code: ClassCode) -> Option<&Class> {
        self.by_code.get(&(kind, code)).map(|&i| &self.classes[i])
    }

    /// The class a request names: `code` as 4 digits, `kind` needed only
    /// when a component and an event class share the code.
    ///
    /// # Errors
    /// [`LookupError::Unknown`] when no class has the code,
    /// [`LookupError::Ambiguous`] when both kinds have it and `kind` is `None`.
    pub fn lookup(&self, kind: Option<ClassKind>, code: &str) -> Result<&Class, LookupError> {
        let unknown = || LookupError::Unknown(code.to_owned());
        let c = ClassCode::parse(code).ok_or_else(unknown)?;
        match kind {
            Some(k) => self.class(k, c).ok_or_else(unknown),
            None => match (
                self.class(ClassKind::Component, c),
                self.class(ClassKind::Event, c),
            ) {
                (Some(_), Some(_)) => Err(LookupError::Ambiguous(c)),
                (Some(x), None) | (None, Some(x)) => Ok(x),
                (None, None) => Err(unknown()),
            },
        }
    }

    /// Counts of classes: (component majors, component classes, event
    /// majors, event classes).
    #[must_use]
    pub fn counts(&self) -> [usize; 4] {
        let mut out = [0; 4];
        for (i, kind) in [ClassKind::Component, ClassKind::Event]
            .into_iter()
            .enumerate()
        {
            let mut majors: Vec<u16> = self
                .classes
                .iter()
                .filter(|c| c.kind == kind)
                .map(|c| c.code.major())
                .collect();
            out[2 * i + 1] = majors.len();
            majors.sort_unstable();
            majors.dedup();
            out[2 * i] = majors.len();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "code,kind,major,name,department,urgent,important,normal,responders";

    fn parse(rows: &[&str]) -> Result<Taxonomy, TaxonomyError> {
        let mut text = format!("# test\n{HEADER}\n");
        for r in rows {
            text.push_str(r);
            text.push('\n');
        }
        Taxonomy::parse(&text)
    }

    #[test]
    fn parses_classes_and_looks_them_up() {
        let t = parse(&[
            "0101,component,公用设施,上水井盖,区水务局,2h,1d,3d,",
            "",
            "0101,event,市容环境,私搭乱建,区城管局,4h,2d,5d,police",
            "0402,event,突发事件,火灾,区应急管理局,30m,1h,2h,fire_station|micro_fire_station",
        ])
        .unwrap();
        assert_eq!(t.classes().len(), 3);
        let fire = t.lookup(None, "0402").unwrap();
        assert_eq!(fire.department, "区应急管理局");
        assert_eq!(fire.limit(CaseLevel::Urgent), TimeLimit::Minutes(30));
        assert_eq!(fire.limit(CaseLevel::Normal), TimeLimit::Hours(2));
        assert_eq!(
            fire.responders,
            vec![FacilityKind::FireStation, FacilityKind::MicroFireStation]
        );
        assert_eq!(
            t.lookup(None, "0101").unwrap_err(),
            LookupError::Ambiguous(ClassCode(101))
        );
        assert_eq!(
            t.lookup(Some(ClassKind::Event), "0101").unwrap().name,
            "私搭乱建"
        );
        assert!(matches!(
            t.lookup(None, "9999"),
            Err(LookupError::Unknown(_))
        ));
        assert!(matches!(t.lookup(None, "x"), Err(LookupError::Unknown(_))));
        assert_eq!(t.counts(), [1, 1, 2, 2]);
    }

    #[test]
    fn duplicate_code_names_both_lines() {
        let e = parse(&[
            "0101,component,公用设施,上水井盖,区水务局,2h,1d,3d,",
            "0102,component,公用设施,污水井盖,区水务局,2h,1d,3d,",
            "0101,component,公用设施,又一个,区水务局,2h,1d,3d,",
        ])
        .unwrap_err();
        // Line 1 is the comment, 2 the header.
        assert_eq!(
            e,
            TaxonomyError::Duplicate {
                line: 5,
                first: 3,
                kind: "component",
                code: ClassCode(101)
            }
        );
        assert!(e
            .to_string()
            .starts_with("line 5: duplicate class component 0101"));
    }

    #[test]
    fn missing_department_names_its_line() {
        let e = parse(&[
            "0101,component,公用设施,上水井盖,区水务局,2h,1d,3d,",
            "0102,component,公用设施,污水井盖, ,2h,1d,3d,",
        ])
        .unwrap_err();
        assert_eq!(
            e,
            TaxonomyError::MissingDepartment {
                line: 4,
                kind: "component",
                code: ClassCode(102)
            }
        );
    }

    #[test]
    fn bad_fields_name_line_and_column() {
        let cases = [
            ("101,component,a,b,d,2h,1d,3d,", "code"),
            ("0100,component,a,b,d,2h,1d,3d,", "code"),
            ("0101,thing,a,b,d,2h,1d,3d,", "kind"),
            ("0101,event,a,b,d,2x,1d,3d,", "urgent"),
            ("0101,event,a,b,d,2h,0d,3d,", "important"),
            ("0101,event,a,b,d,2h,1d,d,", "normal"),
            ("0101,event,a,b,d,2h,1d,3d,dragon", "responders"),
        ];
        for (row, column) in cases {
            match parse(&[row]) {
                Err(TaxonomyError::Invalid {
                    line: 3, column: c, ..
                }) if c == column => {}
                other => {
                    panic!("{row}: expected an error on line 3 column {column}, got {other:?}")
                }
            }
        }
        assert_eq!(
            parse(&["0101,event,a,b,d,2h,1d"]).unwrap_err(),
            TaxonomyError::FieldCount {
                line: 3,
                found: 7,
                expected: 9
            }
        );
        assert_eq!(
            parse(&["0101,event,\"a,x\",b,d,2h,1d,3d,"]).unwrap_err(),
            TaxonomyError::Quote { line: 3 }
        );
        assert!(matches!(
            Taxonomy::parse("code,kind\n"),
            Err(TaxonomyError::MissingColumn {
                line: 1,
                column: "major",
                ..
            })
        ));
        assert_eq!(parse(&[]).unwrap_err(), TaxonomyError::Empty);
    }

    /// A unit in Chinese, a zero and more than a year are errors, never a
    /// panic or an overflowing deadline.
    #[test]
    fn time_limits_refuse_other_units_and_sizes() {
        assert_eq!("30m".parse::<TimeLimit>(), Ok(TimeLimit::Minutes(30)));
        assert_eq!("366d".parse::<TimeLimit>(), Ok(TimeLimit::Days(366)));
        assert_eq!("8784h".parse::<TimeLimit>(), Ok(TimeLimit::Hours(8784)));
        for bad in [
            "3天",
            "2小时",
            "天",
            "",
            "0d",
            "367d",
            "8785h",
            "1193047h",
            "4294967295m",
            "d",
        ] {
            let e = bad.parse::<TimeLimit>().unwrap_err();
            assert!(e.contains("expected a positive number"), "{bad}: {e}");
        }
    }

    #[test]
    fn every_error_has_a_message() {
        let errors = [
            TaxonomyError::Empty,
            TaxonomyError::Quote { line: 1 },
            TaxonomyError::FieldCount {
                line: 1,
                found: 1,
                expected: 2,
            },
        ];
        for e in errors {
            assert!(!e.to_string().is_empty());
        }
        assert!(!LookupError::Unknown("1".into()).to_string().is_empty());
    }
}

#[cfg(test)]
mod shipped {
    use super::*;

    /// The major classes of CJ/T 214 / GB/T 30428.2: components, then events.
    const MAJORS: [&[(u16, &str)]; 2] = [
        &[
            (1, "公用设施"),
            (2, "道路交通"),
            (3, "市容环境"),
            (4, "园林绿化"),
            (5, "房屋土地"),
            (6, "其他设施"),
        ],
        &[
            (1, "市容环境"),
            (2, "宣传广告"),
            (3, "施工管理"),
            (4, "突发事件"),
            (5, "街面秩序"),
            (6, "其他事件"),
        ],
    ];

    /// The example in `data/taxonomy/` loads with its 6 + 6 major and
    /// 85 + 40 minor classes, every code's first two digits name a major
    /// class of its kind (with that major's name), and every class has a
    /// department and limits that do not shrink as the level drops.
    #[test]
    fn example_taxonomy_loads() {
        let t = Taxonomy::parse(include_str!("../../data/taxonomy/taxonomy.csv")).unwrap();
        assert_eq!(
            t.counts(),
            [6, 85, 6, 40],
            "majors and minors: component, then event"
        );
        for c in t.classes() {
            let majors = MAJORS[usize::from(c.kind == ClassKind::Event)];
            let major = majors.iter().find(|(m, _)| *m == c.code.major());
            assert_eq!(
                major.map(|(_, name)| *name),
                Some(c.major.as_str()),
                "{} {} {}: no such major class of its kind",
                c.kind.as_str(),
                c.code,
                c.name
            );
        }
        let minutes = |l: TimeLimit| match l {
            TimeLimit::Minutes(m) => f64::from(m),
            TimeLimit::Hours(h) => f64::from(h) * 60.0,
            TimeLimit::Days(d) => f64::from(d) * 450.0,
        };
        for c in t.classes() {
            assert!(!c.department.is_empty());
            assert!(
                minutes(c.limits[0]) <= minutes(c.limits[1])
                    && minutes(c.limits[1]) <= minutes(c.limits[2]),
                "{} {}",
                c.kind.as_str(),
                c.code
            );
        }
    }
}

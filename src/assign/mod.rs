//! Case assignment (案件派遣): the class taxonomy of reported problems and the
//! working calendar their deadlines run on.
//!
//! The 12345 hotline, the 数字城管 case system and grid workers' phones
//! report a problem as a point and a class code. The engine answers the
//! parts that need no I/O:
//! - [`Taxonomy`]: component (部件) and event (事件) classes with 4-digit
//!   codes (major 2 + minor 2, as in GB/T 30428 / CJ/T 214), the responsible
//!   department, a time limit per case level and the responder kinds to
//!   send; parsed from a CSV file whose errors name their line.
//! - [`Calendar`]: working hours, weekly rest days, holidays and make-up
//!   workdays (调休) in one UTC offset; [`Calendar::deadline`] adds a
//!   [`TimeLimit`] in working minutes, hours or days, and
//!   [`Calendar::escalation`] says how far a case has run into its limit.
//!
//! The data formats are described in `docs/assign.md`; an example taxonomy
//! and calendar ship in `data/taxonomy/`.

mod calendar;
mod taxonomy;

pub use calendar::{Calendar, CalendarError, Escalation, OutsideCalendar, WARNING_SHARE};
pub use taxonomy::{
    CaseLevel, Class, ClassCode, ClassKind, LookupError, Taxonomy, TaxonomyError, TimeLimit,
};

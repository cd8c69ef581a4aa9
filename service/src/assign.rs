//! The taxonomy and working calendar that `POST /api/v1/assign` answers
//! with: the shipped example (`data/taxonomy/`) or files given to
//! `civgrid serve --taxonomy --calendar`.

use std::path::Path;

use civgrid::assign::{Calendar, CalendarError, Taxonomy, TaxonomyError};

/// The shipped example taxonomy.
const EXAMPLE_TAXONOMY: &str = include_str!("../../data/taxonomy/taxonomy.csv");
/// The shipped 2026 working calendar.
const EXAMPLE_CALENDAR: &str = include_str!("../../data/taxonomy/calendar-2026.txt");

/// Why the assignment data could not be loaded; names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssignDataError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The taxonomy was rejected (the error names the line).
    #[error("{path}: {source}")]
    Taxonomy {
        /// The file.
        path: String,
        /// Why.
        source: TaxonomyError,
    },
    /// The calendar was rejected (the error names the line).
    #[error("{path}: {source}")]
    Calendar {
        /// The file.
        path: String,
        /// Why.
        source: CalendarError,
    },
}

/// What case assignment needs beside the territory.
#[derive(Debug, Clone)]
pub struct AssignData {
    /// Component and event classes.
    pub taxonomy: Taxonomy,
    /// The working calendar of deadlines.
    pub calendar: Calendar,
}

impl AssignData {
    /// The shipped example: CJ/T 214 classes and the 2026 calendar.
    ///
    /// # Panics
    /// Never: the shipped files are checked by the engine's tests.
    #[must_use]
    pub fn example() -> Self {
        Self {
            taxonomy: Taxonomy::parse(EXAMPLE_TAXONOMY).expect("shipped taxonomy parses"),
            calendar: Calendar::parse(EXAMPLE_CALENDAR).expect("shipped calendar parses"),
        }
    }

    /// Reads a taxonomy and a calendar; either `None`: the shipped one.
    ///
    /// # Errors
    /// [`AssignDataError`] naming the file (and the line, for a parse error).
    pub fn load(taxonomy: Option<&Path>, calendar: Option<&Path>) -> Result<Self, AssignDataError> {
        let example = Self::example();
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| AssignDataError::Io {
                path: p.display().to_string(),
                source,
            })
        };
        let taxonomy = match taxonomy {
            None => example.taxonomy,
            Some(p) => Taxonomy::parse(&read(p)?).map_err(|source| AssignDataError::Taxonomy {
                path: p.display().to_string(),
                source,
            })?,
        };
        let calendar = match calendar {
            None => example.calendar,
            Some(p) => Calendar::parse(&read(p)?).map_err(|source| AssignDataError::Calendar {
                path: p.display().to_string(),
                source,
            })?,
        };
        Ok(Self { taxonomy, calendar })
    }
}

impl Default for AssignData {
    fn default() -> Self {
        Self::example()
    }
}

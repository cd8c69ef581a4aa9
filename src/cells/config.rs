//! Settings of a partition: target size, sliver threshold, report band,
//! code profile, line following and H3 resolution.

use super::CellError;

/// How many digits a cell's sequence number has.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CodeProfile {
    /// Beijing DB11/T 2157-2023: 15 digits, community 12 + sequence 3 (1–999).
    #[default]
    Fifteen,
    /// CJ/T 213: 14 digits, community 12 + sequence 2 (1–99).
    Fourteen,
}

impl CodeProfile {
    /// Digits of the sequence number (3 or 2).
    #[must_use]
    pub const fn sequence_digits(self) -> usize {
        match self {
            Self::Fifteen => 3,
            Self::Fourteen => 2,
        }
    }

    /// Largest sequence number the profile holds (999 or 99).
    #[must_use]
    pub const fn capacity(self) -> u16 {
        match self {
            Self::Fifteen => 999,
            Self::Fourteen => 99,
        }
    }

    /// The profile whose codes have `digits` digits in all (15 or 14).
    #[must_use]
    pub const fn from_code_digits(digits: usize) -> Option<Self> {
        match digits {
            15 => Some(Self::Fifteen),
            14 => Some(Self::Fourteen),
            _ => None,
        }
    }
}

/// Settings of [`partition`](super::partition); every number is configuration
/// (DESIGN.md, standards 1–2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellConfig {
    /// Target cell area, m² (10,000: a 万米单元网格).
    pub target_m2: f64,
    /// Cells smaller than this (m²) merge into a neighbour (1,000).
    pub min_m2: f64,
    /// Cells outside this band (m²) are listed in the report (3,000–30,000).
    pub band_m2: (f64, f64),
    /// Code length: 15 digits (default) or the older 14.
    pub profile: CodeProfile,
    /// `true` (default): cut along roads and barriers, never through a building.
    /// `false`: plain grid mode, a regular grid clipped to each community.
    pub follow_lines: bool,
    /// Resolution of each cell's H3 index (9: hexagons of about 0.1 km²).
    pub h3_resolution: h3o::Resolution,
}

impl Default for CellConfig {
    fn default() -> Self {
        Self {
            target_m2: 10_000.0,
            min_m2: 1_000.0,
            band_m2: (3_000.0, 30_000.0),
            profile: CodeProfile::Fifteen,
            follow_lines: true,
            h3_resolution: h3o::Resolution::Nine,
        }
    }
}

impl CellConfig {
    /// Side of the grid's squares, metres: √`target_m2`.
    #[must_use]
    pub fn side_m(&self) -> f64 {
        self.target_m2.sqrt()
    }

    /// Checks that the areas are finite, positive and ordered.
    ///
    /// # Errors
    /// [`CellError::InvalidConfig`] naming the setting at fault.
    pub fn validate(&self) -> Result<(), CellError> {
        let bad = |field: &'static str, reason: &str| {
            Err(CellError::InvalidConfig {
                field,
                reason: reason.to_owned(),
            })
        };
        if !(self.target_m2.is_finite() && self.target_m2 >= 1.0) {
            return bad("target_m2", "must be a finite area of at least 1 m²");
        }
        if !(self.min_m2.is_finite() && self.min_m2 >= 0.0 && self.min_m2 < self.target_m2) {
            return bad("min_m2", "must be at least 0 and below target_m2");
        }
        let (lo, hi) = self.band_m2;
        if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi) {
            return bad("band_m2", "must be two finite areas, low ≤ high");
        }
        Ok(())
    }
}

//! Risk levels and hazard assessment (DESIGN.md, standard 4).
//!
//! Two assessment methods are common in Chinese safety practice:
//! - LEC (作业条件危险性评价法): D = L·E·C; D ≥ 320 red, 160–320 orange,
//!   70–160 yellow, < 70 blue.
//! - the 5×5 risk matrix: R = L·S; 20–25 red, 15–16 orange, 9–12 yellow, 1–8 blue.
//!
//! A hazard may also carry a level assessed elsewhere.
//!
//! [`assess`] scores every unit cell from the hazards whose zone of
//! influence reaches it, its exposure and its response time (module
//! [`map`](self::RiskMap) and `docs/risk.md`).

mod map;

pub use map::{
    assess, influence_m, CellExposure, CellRisk, ExposureWeights, HazardReach, LevelCounts,
    LevelWeights, Response, ResponseWeights, RiskConfig, RiskMap, ScoreThresholds, Zone,
};

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The four risk levels, ordered from lowest to highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// 低风险.
    Blue,
    /// 一般风险.
    Yellow,
    /// 较大风险.
    Orange,
    /// 重大风险.
    Red,
}

impl RiskLevel {
    /// The level's name in files and APIs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Blue => "blue",
            Self::Yellow => "yellow",
            Self::Orange => "orange",
            Self::Red => "red",
        }
    }
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RiskLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "blue" | "低" => Ok(Self::Blue),
            "yellow" | "一般" => Ok(Self::Yellow),
            "orange" | "较大" => Ok(Self::Orange),
            "red" | "重大" => Ok(Self::Red),
            other => Err(format!(
                "unknown risk level {other:?} (expected red, orange, yellow or blue)"
            )),
        }
    }
}

/// The level of `v` in bands with these lower bounds: red from `red`,
/// orange from `orange`, yellow from `yellow`, blue below.
pub(crate) fn band(v: f64, red: f64, orange: f64, yellow: f64) -> RiskLevel {
    if v >= red {
        RiskLevel::Red
    } else if v >= orange {
        RiskLevel::Orange
    } else if v >= yellow {
        RiskLevel::Yellow
    } else {
        RiskLevel::Blue
    }
}

/// Thresholds of the LEC method on D = L·E·C.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LecThresholds {
    /// D at or above this is red (default 320).
    pub red: f64,
    /// D at or above this is orange (default 160).
    pub orange: f64,
    /// D at or above this is yellow (default 70).
    pub yellow: f64,
}

impl Default for LecThresholds {
    fn default() -> Self {
        Self {
            red: 320.0,
            orange: 160.0,
            yellow: 70.0,
        }
    }
}

/// How a hazard's risk was assessed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Assessment {
    /// A level given by the data.
    Given {
        /// The level.
        level: RiskLevel,
    },
    /// LEC: likelihood L, exposure E, consequence C.
    Lec {
        /// Likelihood (0.1–10).
        l: f64,
        /// Exposure frequency (0.5–10).
        e: f64,
        /// Consequence (1–100).
        c: f64,
    },
    /// 5×5 matrix: likelihood and severity, each 1–5.
    Matrix {
        /// Likelihood 1–5.
        likelihood: u8,
        /// Severity 1–5.
        severity: u8,
    },
}

/// An assessment whose numbers are out of their range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid {field} = {value}: {reason}")]
pub struct InvalidAssessment {
    /// The field at fault.
    pub field: &'static str,
    /// Its value.
    pub value: f64,
    /// The range it must be in.
    pub reason: &'static str,
}

impl Assessment {
    /// Builds an LEC assessment, checking each factor is positive and finite.
    ///
    /// # Errors
    /// [`InvalidAssessment`] naming the first bad factor.
    pub fn lec(l: f64, e: f64, c: f64) -> Result<Self, InvalidAssessment> {
        for (field, value) in [("lec_l", l), ("lec_e", e), ("lec_c", c)] {
            if !value.is_finite() || value <= 0.0 {
                return Err(InvalidAssessment {
                    field,
                    value,
                    reason: "must be a positive number",
                });
            }
        }
        Ok(Self::Lec { l, e, c })
    }

    /// Builds a matrix assessment, checking both factors are 1–5.
    ///
    /// # Errors
    /// [`InvalidAssessment`] naming the first bad factor.
    pub fn matrix(likelihood: f64, severity: f64) -> Result<Self, InvalidAssessment> {
        for (field, value) in [("likelihood", likelihood), ("severity", severity)] {
            if !(1.0..=5.0).contains(&value) || value.fract() != 0.0 {
                return Err(InvalidAssessment {
                    field,
                    value,
                    reason: "must be a whole number from 1 to 5",
                });
            }
        }
        Ok(Self::Matrix {
            likelihood: likelihood as u8,
            severity: severity as u8,
        })
    }

    /// The numeric score: D for LEC, R for the matrix, `None` for a given level.
    #[must_use]
    pub fn score(&self) -> Option<f64> {
        match *self {
            Self::Given { .. } => None,
            Self::Lec { l, e, c } => Some(l * e * c),
            Self::Matrix {
                likelihood,
                severity,
            } => Some(f64::from(likelihood) * f64::from(severity)),
        }
    }

    /// The level with the default thresholds.
    #[must_use]
    pub fn level(&self) -> RiskLevel {
        self.level_with(&LecThresholds::default())
    }

    /// The level with the given LEC thresholds (the matrix bands are fixed).
    #[must_use]
    pub fn level_with(&self, lec: &LecThresholds) -> RiskLevel {
        match *self {
            Self::Given { level } => level,
            Self::Lec { l, e, c } => band(l * e * c, lec.red, lec.orange, lec.yellow),
            Self::Matrix {
                likelihood,
                severity,
            } => match likelihood * severity {
                20.. => RiskLevel::Red,
                15..=19 => RiskLevel::Orange,
                9..=14 => RiskLevel::Yellow,
                _ => RiskLevel::Blue,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lec_bands() {
        let lv = |l, e, c| Assessment::lec(l, e, c).unwrap().level();
        assert_eq!(lv(10.0, 6.0, 7.0), RiskLevel::Red); // 420
        assert_eq!(lv(10.0, 4.0, 8.0), RiskLevel::Red); // 320 exactly
        assert_eq!(lv(6.0, 6.0, 7.0), RiskLevel::Orange); // 252
        assert_eq!(lv(3.0, 6.0, 7.0), RiskLevel::Yellow); // 126
        assert_eq!(lv(1.0, 6.0, 7.0), RiskLevel::Blue); // 42
        assert!(Assessment::lec(0.0, 1.0, 1.0).is_err());
        assert!(Assessment::lec(f64::NAN, 1.0, 1.0).is_err());
    }

    #[test]
    fn matrix_bands() {
        let lv = |l, s| Assessment::matrix(l, s).unwrap().level();
        assert_eq!(lv(5.0, 5.0), RiskLevel::Red);
        assert_eq!(lv(4.0, 5.0), RiskLevel::Red);
        assert_eq!(lv(4.0, 4.0), RiskLevel::Orange);
        assert_eq!(lv(3.0, 5.0), RiskLevel::Orange);
        assert_eq!(lv(3.0, 4.0), RiskLevel::Yellow);
        assert_eq!(lv(3.0, 3.0), RiskLevel::Yellow);
        assert_eq!(lv(2.0, 4.0), RiskLevel::Blue);
        assert!(Assessment::matrix(6.0, 1.0).is_err());
        assert!(Assessment::matrix(2.5, 1.0).is_err());
    }

    #[test]
    fn levels_order_and_parse() {
        assert!(RiskLevel::Red > RiskLevel::Orange);
        assert!(RiskLevel::Yellow > RiskLevel::Blue);
        assert_eq!("重大".parse::<RiskLevel>().unwrap(), RiskLevel::Red);
        assert!("purple".parse::<RiskLevel>().is_err());
    }
}

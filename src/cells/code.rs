//! Cell codes: community code + sequence number (DESIGN.md, standard 2).

use std::fmt;
use std::str::FromStr;

use super::CodeProfile;
use crate::model::{AdminCode, AdminLevel};

/// A text that is not a valid cell code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cell code {value:?}: {reason}")]
pub struct InvalidCellCode {
    /// The rejected text.
    pub value: String,
    /// Why it was rejected.
    pub reason: &'static str,
}

/// A unit cell's code: the 12-digit community code followed by a sequence
/// number of 3 digits ([`CodeProfile::Fifteen`], 15 digits in all) or 2
/// ([`CodeProfile::Fourteen`], 14 digits).
///
/// Codes order by community, then sequence number.
///
/// # Example
/// ```
/// use civgrid::cells::{CellCode, CodeProfile};
/// let c: CellCode = "330102001002017".parse()?;
/// assert_eq!(c.community().to_string(), "330102001002");
/// assert_eq!(c.sequence(), 17);
/// assert_eq!(c.profile(), CodeProfile::Fifteen);
/// assert_eq!(c.to_string(), "330102001002017");
/// # Ok::<(), civgrid::cells::InvalidCellCode>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellCode {
    community: AdminCode,
    sequence: u16,
    profile: CodeProfile,
}

impl CellCode {
    /// The code of cell `sequence` of `community`.
    ///
    /// # Errors
    /// [`InvalidCellCode`] when `community` is not a community code or
    /// `sequence` is not in 1 to the profile's capacity.
    pub fn new(
        community: AdminCode,
        sequence: u16,
        profile: CodeProfile,
    ) -> Result<Self, InvalidCellCode> {
        let err = |reason| InvalidCellCode {
            value: format!(
                "{community}{sequence:0width$}",
                width = profile.sequence_digits()
            ),
            reason,
        };
        if community.level() != AdminLevel::Community {
            return Err(err("the prefix must be a 12-digit community code"));
        }
        if sequence == 0 || sequence > profile.capacity() {
            return Err(err(match profile {
                CodeProfile::Fifteen => "sequence number must be 1-999",
                CodeProfile::Fourteen => "sequence number must be 1-99",
            }));
        }
        Ok(Self {
            community,
            sequence,
            profile,
        })
    }

    /// The community the cell belongs to.
    #[must_use]
    pub const fn community(&self) -> AdminCode {
        self.community
    }

    /// The sequence number inside the community (from 1).
    #[must_use]
    pub const fn sequence(&self) -> u16 {
        self.sequence
    }

    /// The code's profile (15 or 14 digits).
    #[must_use]
    pub const fn profile(&self) -> CodeProfile {
        self.profile
    }
}

impl fmt::Display for CellCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{:0width$}",
            self.community,
            self.sequence,
            width = self.profile.sequence_digits()
        )
    }
}

impl FromStr for CellCode {
    type Err = InvalidCellCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let err = |reason| InvalidCellCode {
            value: s.to_owned(),
            reason,
        };
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("must contain only digits"));
        }
        let profile = CodeProfile::from_code_digits(s.len())
            .ok_or_else(|| err("must have 15 digits (DB11/T 2157) or 14 (CJ/T 213)"))?;
        let community: AdminCode = s[..12]
            .parse()
            .map_err(|_| err("the first 12 digits are not a community code"))?;
        let sequence: u16 = s[12..].parse().map_err(|_| err("not a number"))?;
        Self::new(community, sequence, profile).map_err(|e| err(e.reason))
    }
}

impl serde::Serialize for CellCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for CellCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print_both_profiles() {
        let c: CellCode = "33010200100201".parse().unwrap();
        assert_eq!(c.profile(), CodeProfile::Fourteen);
        assert_eq!(c.sequence(), 1);
        assert_eq!(c.to_string(), "33010200100201");
        for bad in [
            "",
            "33010200100200",
            "330102001002000",
            "33010200100",
            "x30102001002001",
        ] {
            let e = bad.parse::<CellCode>().unwrap_err();
            assert!(e.to_string().contains("invalid cell code"), "{bad}: {e}");
        }
        let a: CellCode = "330102001002002".parse().unwrap();
        let b: CellCode = "330102001002010".parse().unwrap();
        assert!(a < b);
    }
}

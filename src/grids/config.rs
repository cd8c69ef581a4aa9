//! Settings of household grids: bounds per community kind, overrides per
//! community, and which facilities make special grids.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::GridError;
use crate::cells::CodeProfile;
use crate::model::{AdminArea, AdminCode, CommunityKind, FacilityKind};

/// Household bounds of one basic grid, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds {
    /// Fewest households (0 for none).
    pub min: u32,
    /// Most households.
    pub max: u32,
}

impl Bounds {
    /// `true` when `households` is within the bounds.
    #[must_use]
    pub const fn holds(self, households: u32) -> bool {
        self.min <= households && households <= self.max
    }

    /// The lower bound on the grid count of `households`: ⌈households ÷ max⌉
    /// (1 for an empty community: it still needs a grid).
    #[must_use]
    pub const fn lower_bound(self, households: u32) -> u32 {
        let k = households.div_ceil(self.max);
        if k == 0 {
            1
        } else {
            k
        }
    }

    /// `true` when some number of grids can hold `households` within the
    /// bounds (⌈households ÷ max⌉ grids do not go under the minimum).
    #[must_use]
    pub const fn feasible(self, households: u32) -> bool {
        self.min == 0 || self.lower_bound(households) <= households / self.min
    }

    /// The largest share of a grid's households one atom may hold before it
    /// is split between buildings: the width of the band (max − min) when
    /// there is a minimum, half the maximum otherwise. A prefix of atoms can
    /// then always stop inside the band.
    #[must_use]
    pub const fn atom_max(self) -> u32 {
        let step = if self.min > 0 {
            self.max - self.min
        } else {
            self.max / 2
        };
        if step == 0 {
            1
        } else {
            step
        }
    }

    /// The largest atom that lets a connected part of `households`
    /// households split into its lower bound of grids, k: the width of the
    /// window each of those grids must then fall in, the least of
    /// [`atom_max`](Self::atom_max), k·max − households and
    /// households − k·min (at least 1).
    ///
    /// 242 households into three 80–120 grids leave each grid 80 to 82
    /// households: atoms of 2 can meet that, atoms of 40 may jump over it.
    #[must_use]
    pub fn atom_max_for(self, households: u32) -> u32 {
        let k = u64::from(self.lower_bound(households));
        let h = u64::from(households);
        let over = (k * u64::from(self.max)).saturating_sub(h);
        let under = h.saturating_sub(k * u64::from(self.min));
        let width = over.min(under).min(u64::from(self.atom_max()));
        u32::try_from(width).map_or(1, |w| w.max(1))
    }
}

/// Settings of [`plan`](super::plan) (DESIGN.md, standard 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GridConfig {
    /// Bounds of urban communities' grids (seed standard: at most 300).
    pub urban: Bounds,
    /// Bounds of rural communities' grids (seed standard: 80 to 120).
    pub rural: Bounds,
    /// Bounds of single communities, overriding their kind's.
    pub communities: BTreeMap<AdminCode, Bounds>,
    /// Facilities whose premises become special grids (专属网格).
    pub special_kinds: Vec<FacilityKind>,
    /// Code profile: 15 digits (community 12 + sequence 3) or 14.
    pub profile: CodeProfile,
}

impl Default for GridConfig {
    fn default() -> Self {
        Self {
            urban: Bounds { min: 0, max: 300 },
            rural: Bounds { min: 80, max: 120 },
            communities: BTreeMap::new(),
            special_kinds: vec![FacilityKind::School, FacilityKind::Hospital],
            profile: CodeProfile::Fifteen,
        }
    }
}

impl GridConfig {
    /// The bounds of `community`'s basic grids (urban when its kind is unknown).
    #[must_use]
    pub fn bounds(&self, community: &AdminArea) -> Bounds {
        self.communities
            .get(&community.code)
            .copied()
            .unwrap_or(match community.kind {
                Some(CommunityKind::Rural) => self.rural,
                _ => self.urban,
            })
    }

    /// Checks that every bound has `min ≤ max` and `max > 0`.
    pub fn validate(&self) -> Result<(), GridError> {
        let named = [
            ("urban".to_owned(), self.urban),
            ("rural".to_owned(), self.rural),
        ];
        let overrides = self.communities.iter().map(|(c, b)| (c.to_string(), *b));
        for (name, b) in named.into_iter().chain(overrides) {
            if b.max == 0 || b.min > b.max {
                return Err(GridError::Config(format!(
                    "{name} bounds {}-{}: need 0 <= min <= max and max > 0",
                    b.min, b.max
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atom_max_for_is_the_window_of_the_lower_bound() {
        let rural = Bounds { min: 80, max: 120 };
        // 3 grids of 80-82.
        assert_eq!(rural.atom_max_for(242), 2);
        // 2 grids of exactly 120, or 80 + 80: single households.
        assert_eq!(rural.atom_max_for(240), 1);
        assert_eq!(rural.atom_max_for(160), 1);
        // Room to spare: the band, as before.
        assert_eq!(rural.atom_max_for(1000), rural.atom_max());
        let urban = Bounds { min: 0, max: 300 };
        assert_eq!(urban.atom_max_for(1000), urban.atom_max());
        assert_eq!(urban.atom_max_for(1190), 10);
        assert_eq!(urban.atom_max_for(u32::MAX), 105);
    }
}

//! The settings of a synthetic territory and its presets.

use std::ops::RangeInclusive;

use super::hierarchy::Layout;
use super::SynthError;
use crate::model::{AdminCode, AdminLevel, CommunityKind};

/// Settings of a synthetic territory (see [`synthesize`](super::synthesize)).
///
/// Districts form a `districts_x` × `districts_y` grid; each district is a
/// grid of subdistricts and each subdistrict a grid of communities. Urban
/// communities are squares of about `urban_community_m`; the outer districts
/// (`rural_share` of them) are rural, with villages of about
/// `rural_community_m`. A rural district keeps the urban count of villages
/// along a side that lies on a rural row or column of districts and has
/// fewer along the other side.
///
/// Start from a preset and adjust with the setters:
/// ```
/// use civgrid::synth::SynthConfig;
/// let cfg = SynthConfig::town().seed(42).year(2025);
/// assert_eq!(cfg.seed, 42);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Longitude of the territory's south-west corner, degrees (CGCS2000).
    pub origin_lon: f64,
    /// Latitude of the territory's south-west corner, degrees (CGCS2000).
    pub origin_lat: f64,
    /// Code of the first district (north-west); the others count up from it,
    /// row by row from north to south, west to east within a row.
    pub first_district: AdminCode,
    /// Districts from west to east.
    pub districts_x: usize,
    /// Districts from south to north.
    pub districts_y: usize,
    /// Subdistricts per district, west to east.
    pub subdistricts_x: usize,
    /// Subdistricts per district, south to north.
    pub subdistricts_y: usize,
    /// Communities per subdistrict, west to east.
    pub communities_x: usize,
    /// Communities per subdistrict, south to north.
    pub communities_y: usize,
    /// Side of an urban community, metres; also the lattice spacing (100–5,000).
    pub urban_community_m: f64,
    /// Side of a rural village, metres; rounded to a whole number of
    /// `urban_community_m` (at least one).
    pub rural_community_m: f64,
    /// Fraction of districts that are rural, 0–1: whole outer rows and
    /// columns of districts, as close to this share as the grid allows.
    pub rural_share: f64,
    /// Largest displacement of a lattice vertex, as a fraction of the
    /// lattice spacing (0–0.2); vertices on the outer boundary only move
    /// along it, so the territory stays a rectangle in metres.
    pub jitter: f64,
    /// Distance between neighbouring local streets in urban communities, metres.
    pub street_spacing_m: RangeInclusive<f64>,
    /// Households in one urban residential building.
    pub households_per_urban_building: RangeInclusive<u32>,
    /// Above-ground levels of an urban building.
    pub urban_levels: RangeInclusive<u32>,
    /// Households in one rural house.
    pub households_per_rural_house: RangeInclusive<u32>,
    /// Above-ground levels of a rural house.
    pub rural_levels: RangeInclusive<u32>,
    /// Incidents per 1,000 households over the year.
    pub incidents_per_1000_households: f64,
    /// Calendar year (UTC) of the incidents (1900–2200).
    pub year: i32,
    /// `true`: a meandering river crosses the territory from west to east
    /// (a [`Barrier`](crate::Barrier) of kind river) and no house stands
    /// within 10 m of it. Off in every preset, so their buildings, cells and
    /// store round trips stay as they are.
    pub river: bool,
}

/// Households per km² of urban community at the default building settings,
/// measured on generated cities (used by [`SynthConfig::estimated_households`]).
const URBAN_HOUSEHOLDS_PER_KM2: f64 = 4_750.0;
/// Households per km² of rural village at the default building settings.
const RURAL_HOUSEHOLDS_PER_KM2: f64 = 80.0;
/// Largest lattice the generator accepts, in cells (a 10-million-household
/// province needs about 10⁵).
const MAX_CELLS: u128 = 1 << 24;
/// Largest count accepted for any one grid dimension.
const MAX_COUNT: usize = 4096;

impl Default for SynthConfig {
    /// The [`SynthConfig::city`] preset.
    fn default() -> Self {
        Self::city()
    }
}

impl SynthConfig {
    /// Settings shared by every preset: one urban district with one community.
    fn base() -> Self {
        Self {
            seed: 1,
            origin_lon: 120.10,
            origin_lat: 30.15,
            first_district: default_first_district(),
            districts_x: 1,
            districts_y: 1,
            subdistricts_x: 1,
            subdistricts_y: 1,
            communities_x: 1,
            communities_y: 1,
            urban_community_m: 500.0,
            rural_community_m: 1500.0,
            rural_share: 0.0,
            jitter: 0.12,
            street_spacing_m: 150.0..=250.0,
            households_per_urban_building: 20..=200,
            urban_levels: 6..=30,
            households_per_rural_house: 1..=2,
            rural_levels: 1..=3,
            incidents_per_1000_households: 20.0,
            year: 2024,
            river: false,
        }
    }

    /// A tiny urban test town: one district, 2 × 1 subdistricts of 2 × 2
    /// communities (8 communities, 2 km × 1 km, about 100 buildings and
    /// 9,000 households).
    #[must_use]
    pub fn test() -> Self {
        Self::base().subdistricts(2, 1).communities(2, 2)
    }

    /// A small town: an urban district of 2 × 2 subdistricts of 3 × 3
    /// communities (36, 9 km²) and a rural district to its west (12 villages
    /// in 4 townships, 27 km²); about 1,900 buildings and 42,000 households.
    #[must_use]
    pub fn town() -> Self {
        Self::base()
            .districts(2, 1)
            .rural_share(0.5)
            .subdistricts(2, 2)
            .communities(3, 3)
    }

    /// An urban district of 10 km × 10 km: 4 × 4 subdistricts of 5 × 5
    /// communities (400 communities, about 5,000 buildings and 475,000
    /// households).
    #[must_use]
    pub fn city() -> Self {
        Self::base().subdistricts(4, 4).communities(5, 5)
    }

    /// A rural county of about 1,400 km² (43.2 km × 32.4 km): 4 × 3
    /// townships of 6 × 6 villages of 1.8 km (432 villages, about 140,000
    /// unit cells of 10,000 m², about 77,000 houses and 115,000 households).
    #[must_use]
    pub fn county() -> Self {
        Self {
            urban_community_m: 600.0,
            rural_community_m: 1800.0,
            ..Self::base()
        }
        .rural_share(1.0)
        .subdistricts(4, 3)
        .communities(6, 6)
    }

    /// A territory of about `households` households (within some 15 % from
    /// a few thousand up; at least one community of about 1,200): one urban
    /// district up to about 475,000 households, beyond that a grid of
    /// city-sized districts, the outer 60 % of them rural — at 10 million, a
    /// province of 8 × 8 districts, 13,000 communities and 830,000
    /// buildings in 100 × 100 km.
    #[must_use]
    pub fn with_households(households: u64) -> Self {
        let target = households.max(1) as f64;
        let error = |cfg: &Self| (cfg.estimated_households() as f64 / target).ln().abs();
        let mut best = Self::base();
        let mut consider = |cfg: Self| {
            if error(&cfg) < error(&best) {
                best = cfg;
            }
        };
        // One district, from one community up to a city.
        for (sx, sy) in [(1, 1), (2, 1), (2, 2), (3, 2), (3, 3), (4, 3), (4, 4)] {
            for (cx, cy) in [
                (1, 1),
                (2, 1),
                (2, 2),
                (3, 2),
                (3, 3),
                (4, 3),
                (4, 4),
                (5, 4),
                (5, 5),
            ] {
                consider(Self::base().subdistricts(sx, sy).communities(cx, cy));
            }
        }
        // A grid of city-sized districts, the outer ones rural.
        for dx in 2..=MAX_COUNT {
            let mut smallest = u64::MAX;
            for dy in [dx - 1, dx] {
                for (sy, cy) in [(3, 5), (4, 4), (4, 5)] {
                    let cfg = Self::base()
                        .districts(dx, dy)
                        .rural_share(0.6)
                        .subdistricts(4, sy)
                        .communities(5, cy);
                    smallest = smallest.min(cfg.estimated_households());
                    consider(cfg);
                }
            }
            // Larger grids only get further from the target (or are too large).
            if smallest == 0 || smallest as f64 > 2.0 * target {
                break;
            }
        }
        best
    }

    /// Sets the seed.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the south-west corner, degrees.
    #[must_use]
    pub fn origin(mut self, lon: f64, lat: f64) -> Self {
        self.origin_lon = lon;
        self.origin_lat = lat;
        self
    }

    /// Sets the code of the first district.
    #[must_use]
    pub fn first_district(mut self, code: AdminCode) -> Self {
        self.first_district = code;
        self
    }

    /// Sets the grid of districts (west–east, south–north).
    #[must_use]
    pub fn districts(mut self, x: usize, y: usize) -> Self {
        self.districts_x = x;
        self.districts_y = y;
        self
    }

    /// Sets the grid of subdistricts in each district.
    #[must_use]
    pub fn subdistricts(mut self, x: usize, y: usize) -> Self {
        self.subdistricts_x = x;
        self.subdistricts_y = y;
        self
    }

    /// Sets the grid of communities in each subdistrict.
    #[must_use]
    pub fn communities(mut self, x: usize, y: usize) -> Self {
        self.communities_x = x;
        self.communities_y = y;
        self
    }

    /// Sets the fraction of rural districts (0–1).
    #[must_use]
    pub fn rural_share(mut self, share: f64) -> Self {
        self.rural_share = share;
        self
    }

    /// Sets the number of incidents per 1,000 households.
    #[must_use]
    pub fn incidents_per_1000_households(mut self, rate: f64) -> Self {
        self.incidents_per_1000_households = rate;
        self
    }

    /// Sets the year of the incidents.
    #[must_use]
    pub fn year(mut self, year: i32) -> Self {
        self.year = year;
        self
    }

    /// Adds (or removes) the river across the territory.
    #[must_use]
    pub fn river(mut self, on: bool) -> Self {
        self.river = on;
        self
    }

    /// Side of a rural village in lattice cells.
    pub(super) fn rural_cells(&self) -> usize {
        (self.rural_community_m / self.urban_community_m)
            .round()
            .clamp(1.0, 100.0) as usize
    }

    /// Roughly how many households [`synthesize`](super::synthesize) makes
    /// (0 for an invalid configuration): community area × a household
    /// density measured at the default building settings.
    #[must_use]
    pub fn estimated_households(&self) -> u64 {
        if self.validate().is_err() {
            return 0;
        }
        let cell_km2 = (self.urban_community_m / 1000.0).powi(2);
        let households: f64 = Layout::new(self)
            .districts
            .iter()
            .map(|d| {
                let density = match d.kind {
                    CommunityKind::Urban => URBAN_HOUSEHOLDS_PER_KM2,
                    CommunityKind::Rural => RURAL_HOUSEHOLDS_PER_KM2,
                };
                d.cells.count() as f64 * cell_km2 * density
            })
            .sum();
        households.round() as u64
    }

    /// Checks every setting.
    pub(super) fn validate(&self) -> Result<(), SynthError> {
        let bad = |field, reason: &str| {
            Err(SynthError::InvalidConfig {
                field,
                reason: reason.to_owned(),
            })
        };
        if !(-180.0..=180.0).contains(&self.origin_lon) {
            return bad("origin_lon", "must be a longitude in -180..180");
        }
        if !(-80.0..=80.0).contains(&self.origin_lat) {
            return bad("origin_lat", "must be a latitude in -80..80");
        }
        if self.first_district.level() != AdminLevel::District {
            return Err(SynthError::NotADistrict(self.first_district));
        }
        for (field, n) in [
            ("districts_x", self.districts_x),
            ("districts_y", self.districts_y),
            ("subdistricts_x", self.subdistricts_x),
            ("subdistricts_y", self.subdistricts_y),
            ("communities_x", self.communities_x),
            ("communities_y", self.communities_y),
        ] {
            if !(1..=MAX_COUNT).contains(&n) {
                return bad(field, &format!("must be 1 to {MAX_COUNT}"));
            }
        }
        if !(100.0..=5000.0).contains(&self.urban_community_m) {
            return bad("urban_community_m", "must be 100 to 5,000 m");
        }
        if !(self.urban_community_m..=100.0 * self.urban_community_m)
            .contains(&self.rural_community_m)
        {
            return bad(
                "rural_community_m",
                "must be 1 to 100 times urban_community_m",
            );
        }
        if !(0.0..=1.0).contains(&self.rural_share) {
            return bad("rural_share", "must be 0 to 1");
        }
        if !(0.0..=0.2).contains(&self.jitter) {
            return bad("jitter", "must be 0 to 0.2");
        }
        let streets = &self.street_spacing_m;
        if !(*streets.start() >= 50.0
            && streets.start() <= streets.end()
            && streets.end().is_finite())
        {
            return bad(
                "street_spacing_m",
                "must be a range of metres from at least 50",
            );
        }
        for (field, range) in [
            (
                "households_per_urban_building",
                &self.households_per_urban_building,
            ),
            ("urban_levels", &self.urban_levels),
            (
                "households_per_rural_house",
                &self.households_per_rural_house,
            ),
            ("rural_levels", &self.rural_levels),
        ] {
            if *range.start() < 1 || range.start() > range.end() {
                return bad(field, "must be a non-empty range from at least 1");
            }
        }
        if !(0.0..=1e6).contains(&self.incidents_per_1000_households) {
            return bad("incidents_per_1000_households", "must be 0 to 1,000,000");
        }
        if !(1900..=2200).contains(&self.year) {
            return bad("year", "must be 1900 to 2200");
        }
        let cells = self.lattice_cells();
        if cells > MAX_CELLS {
            return Err(SynthError::TooLarge {
                cells,
                limit: MAX_CELLS,
            });
        }
        Ok(())
    }

    /// Lattice cells of the whole territory when every district is as large
    /// as a rural one: an upper bound computed without overflow.
    fn lattice_cells(&self) -> u128 {
        let k = self.rural_cells() as u128;
        let side = |d: usize, s: usize, c: usize| d as u128 * s as u128 * c as u128 * k;
        side(self.districts_x, self.subdistricts_x, self.communities_x)
            * side(self.districts_y, self.subdistricts_y, self.communities_y)
    }
}

/// 339001: a district code that no real Hangzhou district uses.
fn default_first_district() -> AdminCode {
    // AdminCode has no constant constructor; this literal always parses.
    "339001"
        .parse()
        .expect("339001 is a valid 6-digit district code")
}

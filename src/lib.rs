//! # civgrid — the spatial engine
//!
//! civgrid turns a territory into the grids that Chinese cities are governed
//! by (网格化管理): unit cells (万米单元网格) and household grids (全科网格).
//! This crate is the pure engine: plain geometry in, plain results out; no
//! I/O, no async. The `civgrid-service` crate stores and serves its results.
//!
//! ## Operations
//! - [`model`]: the territory model ([`Territory`], [`AdminArea`], [`Building`],
//!   [`Facility`], [`Hazard`], [`Road`], [`Incident`]) and administrative codes.
//! - [`cow`]: per-cell vectors shared between snapshots, copied a chunk at a time on write.
//! - [`crs`]: the local transverse Mercator for metric work and the GCJ-02 /
//!   BD-09 conversions.
//! - [`assign`]: case assignment: the class taxonomy (部件/事件), working calendars, deadlines and escalation.
//! - [`cells`]: unit cells (万米单元网格) with standard codes, adjacency and an H3 view.
//! - [`components`]: components (部件) with 16-digit codes, tied to the unit cell holding them.
//! - [`grids`]: household grids (全科网格): plans within household bounds, validation and planner edits.
//! - [`hotspots`]: incidents counted per cell or grid and class in a time window, top places by count or growth.
//! - [`locate`]: which district, subdistrict, community and unit cell hold a point.
//! - [`index`]: R-trees of facilities and hazards by kind; nearest facilities.
//! - [`network`]: the road graph; nearest by travel time, coverage, isochrones.
//! - [`risk`]: risk levels, hazard assessment (LEC, 5×5 matrix) and the
//!   per-cell risk map ([`risk::assess`]).
//! - [`zones`]: overlay partitions (police beats, fire districts, school-safety zones…): point lookup, gap and overlap validation.
//! - [`synth`]: a deterministic synthetic city, from a test town to a province.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod assign;
pub mod cells;
pub mod components;
pub mod cow;
pub mod crs;
pub mod extent;
pub mod grids;
pub mod hotspots;
pub mod index;
pub mod locate;
pub mod model;
pub mod network;
pub mod risk;
pub mod synth;
pub mod zones;

pub use cells::{
    aggregate_h3, partition, partition_with_progress, Adjacency, Cell, CellCode, CellConfig,
    CellError, CellReport, CodeProfile, CommunityFailure, H3Aggregate, Partition,
};
pub use crs::{CrsError, Datum, LocalProjection, OutsideDatum};
pub use index::{
    FacilityIndex, HazardHit, HazardIndex, IndexError, Indexed, LayerIndex, Nearest, NearestQuery,
    PointError,
};
pub use locate::{AreaRef, CellRef, Location, Locator};
pub use model::{
    AdminArea, AdminCode, AdminLevel, Barrier, BarrierKind, Building, CommunityKind, Facility,
    FacilityKind, Hazard, HazardGeometry, HouseholdEstimate, Incident, InvalidCode, LayerCounts,
    Oneway, Road, Territory, UnknownBarrierKind, UnknownKind,
};
pub use risk::{
    Assessment, CellExposure, CellRisk, InvalidAssessment, LecThresholds, LevelCounts, Response,
    RiskConfig, RiskLevel, RiskMap,
};

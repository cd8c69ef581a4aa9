//! # civgrid-tiles
//!
//! Map tiles for civgrid, pure (no HTTP, no store):
//! - [`TileCoord`]: z/x/y in the Web Mercator tiling scheme (XYZ, origin
//!   top-left), lon/lat bounds and pixel positions;
//! - [`Canvas`]: a raster tile, lon/lat polygons filled by scanline with
//!   crisp edges, encoded as PNG;
//! - [`MvtLayer`] and [`encode_tile`]: Mapbox Vector Tiles 2.1, quantised
//!   (simplified) per zoom;
//! - [`density`] and [`ColorRamp`]: heat maps (kernel density per km² of
//!   ground, the same scale at every zoom, no seams);
//! - [`TileCache`]: a size-bounded in-memory cache of encoded tiles,
//!   invalidated by lon/lat rectangle.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache;
mod clip;
mod coord;
mod error;
mod heat;
mod mvt;
mod raster;

pub use cache::{CacheStats, TileCache, TileKey};
pub use coord::{LonLatBounds, TileCoord, MAX_ZOOM};
pub use error::TileError;
pub use heat::{
    bandwidth_margin_deg, density, effective_bandwidth_m, pixel_m, ColorRamp, WeightedPoint,
};
pub use mvt::{encode_tile, MvtLayer, MvtValue, DEFAULT_EXTENT};
pub use raster::{Canvas, Rgba, MAX_SIZE_PX};

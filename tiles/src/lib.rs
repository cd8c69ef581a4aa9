//! # civgrid-tiles
//!
//! Tile math for civgrid's map tiles: z/x/y coordinates in the Web Mercator
//! tiling scheme (XYZ, origin top-left) and their lon/lat bounds. Pure: no
//! HTTP, no store. Rendering (PNG, MVT) builds on these coordinates.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod coord;

pub use coord::{LonLatBounds, TileCoord, MAX_ZOOM};

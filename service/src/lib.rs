//! # civgrid-service
//!
//! The I/O shell around the civgrid engine: stores (GeoPackage, PostGIS),
//! import through GDAL, the HTTP API (axum) and the `civgrid` CLI.
//! Glue only: geometry work lives in the `civgrid` engine crate.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod assign;
pub mod auth;
pub mod care;
pub mod cells;
pub mod cli;
pub mod components;
pub mod demo;
pub mod error;
pub mod export;
pub mod grids;
pub mod import;
pub mod live;
pub mod metrics;
pub mod ogc;
pub mod openapi;
pub mod progress;
pub mod replica;
pub mod responders;
pub mod risk;
pub mod routes;
pub mod state;
pub mod store;
pub mod tiles;
pub mod values;
pub mod zones;

pub use routes::app;
pub use state::{AppState, Engine};

//! civgrid-service integration tests: real stores, real GDAL, HTTP end to end.

mod cells;
mod cli;
mod common;
mod http;
mod import;
mod store_suite;

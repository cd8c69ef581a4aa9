//! civgrid-service integration tests: real stores, real GDAL, HTTP end to end.

mod cells;
mod common;
mod http;
mod import;
mod responders;
mod store_suite;

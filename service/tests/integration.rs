//! civgrid-service integration tests: real stores, real GDAL, HTTP end to end.
#![allow(clippy::too_many_lines, clippy::many_single_char_names)]

mod cells;
mod cli;
mod common;
mod grids;
mod http;
mod import;
mod responders;
mod risk;
mod store_suite;
mod web;

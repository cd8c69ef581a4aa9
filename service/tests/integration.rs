//! civgrid-service integration tests: real stores, real GDAL, HTTP end to end.
#![allow(
    clippy::too_many_lines,
    clippy::many_single_char_names,
    clippy::float_cmp
)]

mod access;
mod assign;
mod cells;
mod cli;
mod common;
mod components;
mod faults;
mod fuzz_corpus;
mod grids;
mod http;
mod import;
mod import_integrity;
mod incremental;
mod ogc;
mod openapi;
mod people;
mod replicas;
mod responders;
mod risk;
mod snapshots;
mod store_suite;
mod tiles;
mod values;
mod web;

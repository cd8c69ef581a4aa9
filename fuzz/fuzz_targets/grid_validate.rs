//! Arbitrary bodies for grid validation.
#![no_main]

use axum::http::Method;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _sent = civgrid_fuzz::check(Method::POST, "/api/v1/grids/validate", data);
});

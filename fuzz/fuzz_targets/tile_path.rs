//! Arbitrary tile paths and queries.
#![no_main]

use axum::http::Method;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tail = String::from_utf8_lossy(data);
    let _sent = civgrid_fuzz::check(Method::GET, &format!("/tiles/{tail}"), &[]);
});

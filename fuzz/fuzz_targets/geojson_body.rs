//! Arbitrary bodies for the GeoJSON writes (a dry-run grid edit, so the
//! store is not filled): facilities, hazards, grid edits.
#![no_main]

use axum::http::Method;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (which, body) = data.split_first().unwrap_or((&0, &[]));
    let uri = match which % 3 {
        0 => "/api/v1/hazards/999999",
        1 => "/api/v1/facilities/999999",
        _ => "/api/v1/grids/edits?dry_run=true",
    };
    let method = if which % 3 == 2 { Method::POST } else { Method::PUT };
    let _sent = civgrid_fuzz::check(method, uri, body);
});

//! The fuzz targets' corpus (fuzz/corpus) and seeded mutations of it,
//! replayed through the fuzz harness (fuzz/src/lib.rs, the same file
//! `cargo fuzz` builds) on stable Rust in every test run: each input must
//! be answered without a panic or a server error, errors as problem+json.

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code, unreachable_pub)]
mod harness;

use axum::http::Method;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Mutations per corpus file.
const MUTATIONS: usize = 1000;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/").to_owned() + target;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("an entry").path())
        .collect();
    files.sort();
    let seeds: Vec<_> = files
        .iter()
        .map(|f| std::fs::read(f).expect("a seed"))
        .collect();
    assert!(!seeds.is_empty(), "{dir} is empty");
    seeds
}

/// `seed` changed a few times: bytes flipped, inserted from the seeds'
/// own alphabet, removed, or the tail cut.
fn mutate(rng: &mut ChaCha8Rng, seed: &[u8], alphabet: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..rng.random_range(1..6) {
        let at = rng.random_range(0..=out.len());
        match rng.random_range(0..4) {
            0 if at < out.len() => out[at] ^= 1 << rng.random_range(0..8),
            1 => out.insert(at, alphabet[rng.random_range(0..alphabet.len())]),
            2 if at < out.len() => {
                out.remove(at);
            }
            _ => out.truncate(at),
        }
    }
    out
}

/// Sends every seed and its mutations; `send` says whether the input was
/// a request at all. Every seed must be, and most mutations.
fn replay(target: &str, send: impl Fn(&[u8]) -> bool) {
    let seeds = corpus(target);
    let alphabet: Vec<u8> = b"{}[],:\"0123456789.-eE \\uXYZ".to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut sent = 0;
    for seed in &seeds {
        assert!(send(seed), "{target}: a seed is not a request");
        for _ in 0..MUTATIONS {
            sent += usize::from(send(&mutate(&mut rng, seed, &alphabet)));
        }
    }
    let all = seeds.len() * MUTATIONS;
    eprintln!("{target}: {sent} of {all} mutations sent");
    assert!(
        sent * 2 >= all,
        "{target}: only {sent} of {all} mutations were requests"
    );
}

#[test]
fn geojson_bodies() {
    replay("geojson_body", |data| {
        let (which, body) = data.split_first().unwrap_or((&0, &[]));
        let (method, uri) = match which % 3 {
            0 => (Method::PUT, "/api/v1/hazards/999999"),
            1 => (Method::PUT, "/api/v1/facilities/999999"),
            _ => (Method::POST, "/api/v1/grids/edits?dry_run=true"),
        };
        harness::check(method, uri, body)
    });
}

#[test]
fn grid_validation() {
    replay("grid_validate", |data| {
        harness::check(Method::POST, "/api/v1/grids/validate", data)
    });
}

#[test]
fn tile_paths() {
    replay("tile_path", |data| {
        let tail = String::from_utf8_lossy(data);
        harness::check(Method::GET, &format!("/tiles/{tail}"), &[])
    });
}

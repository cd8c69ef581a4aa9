//! Rebuilds the service when the web map's built assets change: they are
//! embedded by `include_dir!` in `src/routes/web.rs`, which cargo does not
//! track by itself.

fn main() {
    println!("cargo:rerun-if-changed=../web/dist");
}

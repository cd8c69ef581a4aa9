//! The `civgrid` command: see `civgrid --help`.

/// mimalloc rather than the system allocator: a province's engine is
/// millions of small allocations made by several threads at start-up,
/// which glibc's per-thread arenas keep long after they are freed (RSS
/// 12.5 GiB against 9.3 GiB with two arenas), and allocation is a fifth of
/// the start-up time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    civgrid_service::cli::main()
}

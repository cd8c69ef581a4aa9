//! The `civgrid` command: see `civgrid --help`.

/// mimalloc rather than the system allocator: a province's engine is
/// millions of small allocations made by several threads at start-up,
/// which glibc's per-thread arenas keep long after they are freed (RSS
/// 12.5 GiB against 9.3 GiB with two arenas), and allocation is a fifth of
/// the start-up time.
///
/// Built without transparent huge pages (`no_thp`: mimalloc turns them off
/// for the process): each fresh huge page is zeroed whole, 2 MiB at a time,
/// and the kernel's zeroing had become the largest single cost of start-up
/// and of a partition (the province starts in 20 s instead of 27 s;
/// `civgrid cells --plain` of a county partitions in 0.65 s instead of
/// 1.2 s).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    civgrid_service::cli::main()
}

//! The `civgrid` command: see `civgrid --help`.

fn main() -> std::process::ExitCode {
    civgrid_service::cli::main()
}

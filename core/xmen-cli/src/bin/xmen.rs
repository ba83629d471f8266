//! The `xmen` binary: the command line of the `xmen_cli` library (src/main.rs).

fn main() -> std::process::ExitCode {
    xmen_cli::main_with_args(std::env::args_os())
}

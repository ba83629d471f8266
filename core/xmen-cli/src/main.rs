//! The `xmen` command line.

mod list;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// xmen: a fast, reproducible experiment manager.
#[derive(Parser, Debug)]
#[command(name = "xmen", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List experiments to screen.
    List(list::ListArgs),
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::List(a)) => list::run(a),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ERROR: {e:#}");
            ExitCode::FAILURE
        }
    }
}

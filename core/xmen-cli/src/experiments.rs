//! `xmen experiments` (alias `python`): the registry of runnable experiment binaries.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::Context as _;
use xmen_manager::registry;

use crate::Ctx;

/// Arguments of `xmen experiments`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  xmen experiments --add hello \"${CARGO_TARGET_DIR:-target}/release/examples/hello_world\"\n  \
                  xmen experiments --list\n  xmen experiments hello --help\n  xmen experiments --remove hello"
)]
pub struct Args {
    /// List the registered experiments.
    #[arg(short, long)]
    list: bool,
    /// Register the executable PATH (any program implementing the single-experiment command
    /// line) under NAME; re-adding a NAME replaces it.
    #[arg(short, long, num_args = 2, value_names = ["NAME", "PATH"])]
    add: Option<Vec<String>>,
    /// Unregister NAME (nothing is deleted from disk).
    #[arg(long, short_alias = 'r', value_name = "NAME")]
    remove: Option<String>,
    /// Run the registered experiment NAME with ARGS, passed on unchanged (its own command line:
    /// `-u`, `-x`, `--to-root`, `--help`).
    #[arg(value_name = "NAME [ARGS]", trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// A validated `xmen experiments` command.
#[derive(Debug)]
pub struct Cmd {
    list: bool,
    add: Option<(String, PathBuf)>,
    remove: Option<String>,
    run: Option<(String, Vec<String>)>,
}

impl Args {
    /// Check the arguments (no disk I/O).
    pub fn validate(self) -> anyhow::Result<Cmd> {
        let add = match self.add {
            Some(v) => match <[String; 2]>::try_from(v) {
                Ok([name, path]) => Some((name, PathBuf::from(path))),
                Err(_) => anyhow::bail!("`--add` takes two values: NAME PATH"),
            },
            None => None,
        };
        let mut command = self.command.into_iter();
        let run = command.next().map(|name| (name, command.collect()));
        let cmd = Cmd { list: self.list, add, remove: self.remove, run };
        if !cmd.list && cmd.add.is_none() && cmd.remove.is_none() && cmd.run.is_none() {
            anyhow::bail!(
                "nothing to do: give `--list`, `--add NAME PATH`, `--remove NAME` or `NAME [ARGS...]` (see `xmen experiments --help`)"
            );
        }
        Ok(cmd)
    }
}

/// Run a validated `xmen experiments` command.
pub fn execute(cmd: Cmd, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    if let Some((name, path)) = &cmd.add {
        let stored =
            registry::add(&ctx.config_dir, name, path).with_context(|| format!("failed to add experiment {name}"))?;
        println!("Added experiment {name} ({})", stored.display());
    }
    if let Some(name) = &cmd.remove {
        let path = registry::remove(&ctx.config_dir, name)?;
        println!("Successfully removed {name}! ({} was left on disk)", path.display());
    }
    if cmd.list {
        let all = registry::list(&ctx.config_dir)?;
        println!("The following experiments are currently linked");
        for (name, path) in all {
            println!("{name}: {}", path.display());
        }
    }
    if let Some((name, args)) = cmd.run {
        let program = registry::resolve(&ctx.config_dir, &name)?;
        let status = Command::new(&program)
            .args(&args)
            .status()
            .with_context(|| format!("cannot run experiment {name} ({})", program.display()))?;
        return Ok(match status.code() {
            Some(0) => ExitCode::SUCCESS,
            Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
            None => ExitCode::FAILURE,
        });
    }
    Ok(ExitCode::SUCCESS)
}

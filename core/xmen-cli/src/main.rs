//! The `xmen` command line (a library whose `main_with_args` the `xmen` binary runs).
//!
//! Like ripgrep, parsing is two stages: clap turns the arguments into per-command `Args`, and
//! each is then validated into a command (sweep grammar, patterns, statuses, names) before any
//! disk I/O; `run` executes it and `main` prints any error once, with its whole chain.

mod config;
mod experiments;
mod forward;
mod hooks;
mod init;
mod list;
mod manage;
mod reconcile;
mod redact;
mod register;
mod run;
mod submit;
mod ui;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};
use xmen_record::Status;

/// xmen: fast, reproducible experimentation. Manage sets of experiments: initialise a set from
/// an experiment, register sweeps, run them with any launcher, list and compare the results.
#[derive(Parser, Debug)]
#[command(name = "xmen", version)]
#[command(after_help = "Run `xmen` alone for the configuration setup, `xmen COMMAND --help` for a command.\n\
Quick start:\n  xmen experiments --add hello ./target/release/examples/hello_world\n  \
xmen init -n hello -r exps && cd exps\n  xmen register -u \"{a: Hello | Bye, b: World}\"\n  \
xmen run '*' bash\n  xmen list")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Registry of runnable experiment binaries (add, list, remove, run).
    #[command(visible_alias = "python")]
    Experiments(experiments::Args),
    /// View / edit the global configuration.
    Config(config::Args),
    /// Initialise an experiment set.
    Init(init::Args),
    /// Register a set of experiments (a sweep).
    #[command(visible_alias = "link")]
    Register(register::Args),
    /// Run experiments matching a glob that have not yet been run.
    Run(run::Args),
    /// Add notes to experiments.
    Note(manage::NoteArgs),
    /// Reset experiments to registered (or another) status.
    Reset(manage::ResetArgs),
    /// Unlink experiments from the experiment set (folders are kept).
    Unlink(manage::UnlinkArgs),
    /// Remove experiment folders no longer managed by the set (DESTRUCTIVE).
    Clean(manage::CleanArgs),
    /// Remove a whole experiment set (DESTRUCTIVE).
    Rm(manage::RmArgs),
    /// Relink experiments after a set moved, or adopt unmanaged folders.
    Relink(manage::RelinkArgs),
    /// Move (rename) an experiment set and relink it.
    Move(manage::MoveArgs),
    /// List experiments to screen.
    List(list::ListArgs),
    /// Mark runs whose process is gone (killed, node lost, job cancelled) as `lost`.
    Reconcile(reconcile::Args),
    /// Redact secrets from records written before: secret-looking `_meta.environ` values,
    /// credentials in git remote URLs, conda `variables:`.
    Redact(redact::Args),
    /// See, check and install hook libraries (list, info, doctor, install).
    Hooks(hooks::Args),
    /// Print a shell completion script (`xmen completions bash > ~/.local/share/bash-completion/completions/xmen`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// What every command needs from the environment.
#[derive(Debug)]
pub struct Ctx {
    /// The global configuration folder: `$XMEN`, else `~/.xmen`.
    pub config_dir: PathBuf,
}

/// A command after validation, ready to run.
#[derive(Debug)]
enum Validated {
    Experiments(experiments::Cmd),
    Config(config::Cmd),
    Init(init::Cmd),
    Register(register::Cmd),
    Run(run::Cmd),
    Manage(manage::Cmd),
    List(list::ListArgs),
    Reconcile(reconcile::Cmd),
    Redact(redact::Cmd),
    Completions(clap_complete::Shell),
    Hooks(hooks::Cmd),
    Setup,
}

/// Parse a status name for clap, listing the valid ones on error (defect B50).
pub fn parse_status(s: &str) -> Result<Status, String> {
    s.parse::<Status>().map_err(|e| e.to_string())
}

fn validate(cli: Cli, ctx: &Ctx) -> anyhow::Result<Validated> {
    Ok(match cli.command {
        None => Validated::Setup,
        Some(Command::Experiments(a)) => Validated::Experiments(a.validate()?),
        Some(Command::Config(a)) => Validated::Config(a.validate()),
        Some(Command::Init(a)) => Validated::Init(a.validate()?),
        Some(Command::Register(a)) => Validated::Register(a.validate(ctx)?),
        Some(Command::Run(a)) => Validated::Run(a.validate()?),
        Some(Command::Note(a)) => Validated::Manage(a.validate()?),
        Some(Command::Reset(a)) => Validated::Manage(a.validate()),
        Some(Command::Unlink(a)) => Validated::Manage(a.validate()),
        Some(Command::Clean(a)) => Validated::Manage(a.validate()),
        Some(Command::Rm(a)) => Validated::Manage(a.validate()),
        Some(Command::Relink(a)) => Validated::Manage(a.validate()),
        Some(Command::Move(a)) => Validated::Manage(a.validate()),
        Some(Command::List(a)) => Validated::List(a),
        Some(Command::Reconcile(a)) => Validated::Reconcile(a.validate()?),
        Some(Command::Redact(a)) => Validated::Redact(a.validate()),
        Some(Command::Hooks(a)) => Validated::Hooks(a.validate()?),
        Some(Command::Completions { shell }) => Validated::Completions(shell),
    })
}

fn run(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let cli = Cli::parse_from(args);
    let ctx = Ctx { config_dir: xmen_record::config_dir() };
    // Every command makes the first-party hooks beside this binary visible to experiments.
    hooks::register_installation(&ctx.config_dir);
    match validate(cli, &ctx)? {
        Validated::Setup => {
            println!("{}", ui::BANNER);
            config::setup(&ctx.config_dir)?;
            Ok(ExitCode::SUCCESS)
        }
        Validated::Experiments(c) => experiments::execute(c, &ctx),
        Validated::Config(c) => config::execute(c, &ctx),
        Validated::Init(c) => init::execute(c, &ctx),
        Validated::Register(c) => register::execute(c),
        Validated::Run(c) => run::execute(c),
        Validated::Manage(c) => manage::execute(c, &ctx),
        Validated::List(a) => list::run(a),
        Validated::Reconcile(c) => reconcile::execute(c, &ctx.config_dir),
        Validated::Redact(c) => redact::execute(c, &ctx),
        Validated::Hooks(c) => hooks::execute(c, &ctx),
        Validated::Completions(shell) => {
            clap_complete::generate(shell, &mut Cli::command(), "xmen", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The error and its causes joined by `: ` (like `{:#}`), leaving out a cause whose text the
/// message already holds: several library errors quote their source in their own message.
fn chain_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if text.is_empty() {
            text = c;
        } else if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

/// The whole command line with explicit arguments (the first is the program name): what the
/// `xmen` binary's `main` runs, and what a host running the CLI in-process (the Python
/// package's `xmen` console script) calls.
pub fn main_with_args(args: impl IntoIterator<Item = impl Into<OsString>>) -> ExitCode {
    match run(args.into_iter().map(Into::into).collect()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ERROR: {}", chain_text(&e));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn underscore_spellings_and_aliases_parse() {
        for args in [
            vec!["xmen", "config", "--disable_prompt", "--enable_save_conda", "--update_meta"],
            vec!["xmen", "python", "--list"],
            vec!["xmen", "link", "-u", "{a: 1}"],
            vec!["xmen", "run", "*", "screen", "-dm", "bash"],
            vec!["xmen", "experiments", "hello", "--help", "-x", "dir"],
        ] {
            assert!(Cli::try_parse_from(&args).is_ok(), "{args:?}");
        }
        let run = Cli::try_parse_from(["xmen", "run", "-r", "d", "*", "sbatch", "-r", "--job-name=x"]);
        match run.map(|c| c.command) {
            Ok(Some(Command::Run(a))) => assert_eq!(format!("{a:?}").matches("sbatch").count(), 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn causes_already_quoted_are_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = anyhow::Error::new(xmen_manager::ManagerError::io("read", "/x", io)).context("loading the set");
        assert_eq!(chain_text(&e), "loading the set: cannot read /x: gone");
    }
}

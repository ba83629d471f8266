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
mod progress;
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
#[command(after_help = "Run `xmen` alone for the configuration setup, `xmen COMMAND --help` for a command.\n\n\
Quick start (cargo builds into $CARGO_TARGET_DIR when it is set, else ./target):\n  \
cargo build --release -p xmen-examples --example hello_world\n  \
xmen experiments --add hello \"${CARGO_TARGET_DIR:-target}/release/examples/hello_world\"\n  \
xmen init -n hello -r exps && cd exps\n  xmen register -u \"{a: Hello | Bye, b: World}\"\n  \
xmen run '*' bash\n  xmen list\n\n\
One grammar: a command on one set takes it as `-r DIR` (default: the current folder); `list`, \
`reconcile` and `redact` read many and take paths or globs as positionals.\n\
Short flags mean one thing everywhere:\n  \
-r DIR    the set root          -u YAML   parameter overrides (a sweep)\n  \
-n NAME   the experiment name   -p TEXT   the purpose\n  \
-s        status (run/reset: which; list: show it); `init -s` is the script, as in the original\n  \
-d        list: show the dates; `init -d` is defaults.yml, as in the original\n  \
-f        list filters          -j N      runs at once\n  \
-y        do not ask            -l        list (experiments, config)\n  \
-a        experiments: add      -H        the run.sh header\n\
Long-only: --delete (note), --remove (experiments), --dry-run (run, reconcile).")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Registry of runnable experiment binaries (add, list, remove, run).
    #[command(alias = "python")]
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
    List(Box<list::ListArgs>),
    /// Mark runs whose process is gone (killed, node lost, job cancelled) as `lost`.
    Reconcile(reconcile::Args),
    /// Redact secrets from records written before: secret-looking `_meta.environ` values,
    /// credentials in git remote URLs, conda `variables:`.
    Redact(redact::Args),
    /// See, check and install hook libraries (list, info, doctor, install).
    Hooks(hooks::Args),
    /// Browse the runs, their curves and their comparison in a web browser (a local server).
    Ui(xmen_ui::UiArgs),
    /// Print a shell completion script.
    #[command(after_help = "Examples:\n  xmen completions bash > ~/.local/share/bash-completion/completions/xmen\n  \
xmen completions zsh > ~/.zfunc/_xmen")]
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
    List(Box<list::ListArgs>),
    Reconcile(reconcile::Cmd),
    Redact(redact::Cmd),
    Completions(clap_complete::Shell),
    Hooks(hooks::Cmd),
    Ui(xmen_ui::UiArgs),
    Setup,
}

/// Parse a status name for clap, listing the valid ones on error (the original's
/// `reset -s` wrote any text).
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
        Some(Command::Ui(a)) => Validated::Ui(a),
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
        Validated::Ui(a) => {
            xmen_ui::serve(a)?;
            Ok(ExitCode::SUCCESS)
        }
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

/// 2 for a mistake in the request that only the data could reveal (a column no row has), as
/// for clap's usage errors; 1 otherwise.
fn exit_code(e: &anyhow::Error) -> ExitCode {
    if e.downcast_ref::<xmen_manager::list::ListError>().is_some_and(xmen_manager::list::ListError::is_usage) {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

/// The whole command line with explicit arguments (the first is the program name): what the
/// `xmen` binary's `main` runs, and what a host running the CLI in-process (the Python
/// package's `xmen` console script) calls.
pub fn main_with_args(args: impl IntoIterator<Item = impl Into<OsString>>) -> ExitCode {
    match run(args.into_iter().map(Into::into).collect()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ERROR: {}", chain_text(&e));
            exit_code(&e)
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
    fn every_subcommand_shows_an_example_and_python_stays_hidden() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help" && !s.is_hide_set()) {
                let name = format!("{path} {}", sub.get_name());
                let help = sub.get_after_help().map(|h| h.to_string()).unwrap_or_default();
                if !help.contains(&format!("{name} ")) && !help.contains(&format!("{name}\n")) {
                    missing.push(name.clone());
                }
                walk(sub, &name, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "xmen", &mut missing);
        assert!(missing.is_empty(), "no example in the help of: {missing:?}");
        let mut help = Vec::new();
        let _ = Cli::command().write_long_help(&mut help);
        assert!(!String::from_utf8_lossy(&help).contains("python"), "the `python` alias is hidden");
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

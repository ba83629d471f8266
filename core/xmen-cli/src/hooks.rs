//! `xmen hooks`: see, check and install hook libraries.
//!
//! Key design choice: the `xmen` process never loads a hook library. `list` and `info` read
//! the manifest each library embeds, as bytes;
//! `doctor` and `install` re-run `xmen hooks probe-one PATH` in a child process, which loads the
//! library, constructs its hooks and fires them, so a library that crashes, aborts or hangs
//! costs a child process and one line of the report.

mod cost;
mod doctor;
mod install;
mod list;
mod new;
mod probe;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use xmen_loader::{Compatibility, Loader, Manifest, SearchPath};

/// Arguments of `xmen hooks`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Hooks are found by the names in the libraries' manifests, never by file names, over one \
search path, highest precedence first: an entry's `path:`; each folder of XMEN_HOOK_PATH; $XMEN/hooks/<abi> and \
$XMEN/hooks (default ~/.xmen; `xmen hooks install` puts libraries there); the first-party hook folders of the xmen \
installations that registered themselves, newest first; the experiment binary's folder and the one above it.\n\n\
Examples:\n  xmen hooks list --all\n  xmen hooks info early-stop\n  xmen hooks doctor\n  xmen hooks doctor -c defaults.yml\n  \
xmen hooks doctor --for ./sweep\n  xmen hooks install examples/custom-hook\n  xmen hooks install --first-party\n  \
xmen hooks new mylog ./xmen-hook-mylog\n  xmen hooks cost sweep/lr=0.1")]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Subcommand, Debug)]
enum Sub {
    /// List the hook libraries a run would use, from their manifests (no library code runs).
    #[command(
        after_help = "Examples:\n  xmen hooks list\n  xmen hooks list --all   # every copy, which one wins, what is skipped"
    )]
    List {
        /// Show every copy on the search path: which one wins, which are shadowed or identical,
        /// and the files skipped (another platform, damaged, another SDK).
        #[arg(long)]
        all: bool,
    },
    /// Show one hook's help, options and examples (NAME is a hook name or a library path).
    #[command(after_help = "Example:\n  xmen hooks info early-stop")]
    Info {
        /// The hook (`early-stop`) or a library file.
        name: String,
    },
    /// Check hook libraries in child processes: load each, construct each hook on its own
    /// examples, fire it; report incompatible, crashing or missing libraries. Exits 1 if any.
    #[command(after_help = "Examples:\n  xmen hooks doctor\n  xmen hooks doctor logger jsonl\n  \
xmen hooks doctor -c defaults.yml\n  xmen hooks doctor --for ./sweep          # what the runs of a set load\n  \
xmen hooks doctor --for ./target/release/my_exp")]
    Doctor {
        /// Hook names or library paths to check (default: every library on the search path).
        targets: Vec<String>,
        /// Also check the `_hooks` of these files (defaults.yml, params.yml): each entry must
        /// resolve, parse, name known options of the declared types, and construct.
        #[arg(short, long = "config", value_name = "YML")]
        configs: Vec<PathBuf>,
        /// Answer what a run would load: PATH is an experiment binary, a set or a run folder;
        /// its `_hooks` are resolved over the search path that experiment sees.
        #[arg(long = "for", value_name = "PATH")]
        for_path: Option<PathBuf>,
        /// Seconds each library may take.
        #[arg(long, default_value_t = 60, value_name = "SECS")]
        timeout: u64,
    },
    /// Install a hook library with its manifest into `$XMEN/hooks/<abi>`: a crate folder is built
    /// with `cargo build --release` first; a library file is copied.
    #[command(after_help = "Examples:\n  xmen hooks install ./xmen-hook-mylog\n  \
xmen hooks install target/release/libxmen_hook_mylog.so\n  \
xmen hooks install --first-party   # xmen's own hooks, from beside this xmen binary")]
    Install {
        /// A hook crate's folder (holding Cargo.toml) or a built library.
        #[arg(required_unless_present = "first_party", conflicts_with = "first_party")]
        source: Option<PathBuf>,
        /// Install xmen's own hook libraries (logger, timer, ...) from the folder beside this
        /// `xmen` binary, so experiments built anywhere find them.
        #[arg(long)]
        first_party: bool,
        /// Install here instead of `$XMEN/hooks/<abi>`.
        #[arg(long, value_name = "DIR")]
        dest: Option<PathBuf>,
        /// Install even if the check in a child process fails.
        #[arg(long)]
        force: bool,
    },
    /// Create a hook crate: Cargo.toml on the xmen SDK, a working hook, a test, a README.
    #[command(after_help = "Examples:\n  xmen hooks new mylog                 # ./xmen-hook-mylog, hook `mylog`\n  \
xmen hooks new mylog ~/src/mylog --hook jsonl\n  \
xmen hooks new mylog --xmen-version 0.1   # depend on the published SDK, not this checkout")]
    New {
        /// The package suffix: the crate is `xmen-hook-NAME`.
        name: String,
        /// The folder to create (default `./xmen-hook-NAME`); it must not exist or be empty.
        dir: Option<PathBuf>,
        /// The hook's name in configuration (default: NAME).
        #[arg(long, value_name = "HOOK")]
        hook: Option<String>,
        /// Depend on the SDK checkout at this path (default: the checkout this xmen was built from).
        #[arg(long, value_name = "DIR", conflicts_with = "xmen_version")]
        xmen_path: Option<PathBuf>,
        /// Depend on the published SDK at this version instead of a checkout.
        #[arg(long, value_name = "VERSION")]
        xmen_version: Option<String>,
    },
    /// Show what each hook entry cost a run's training thread (its params.yml's `_hooks_cost`).
    Cost(cost::CostArgs),
    /// Load one library and report on it as JSON (the child process of doctor and install).
    #[command(hide = true)]
    ProbeOne {
        /// The library.
        path: PathBuf,
        /// Only describe the library; construct nothing.
        #[arg(long)]
        describe_only: bool,
    },
}

/// A validated `xmen hooks` command.
#[derive(Debug)]
pub enum Cmd {
    /// `list`.
    List {
        /// `--all`.
        all: bool,
    },
    /// `info NAME`.
    Info(String),
    /// `doctor`.
    Doctor(doctor::Plan),
    /// `install`.
    Install(install::Plan),
    /// `new`.
    New(new::Plan),
    /// `probe-one`.
    Probe(PathBuf, bool),
    /// `cost RUN...`.
    Cost(cost::CostArgs),
}

impl Args {
    /// Check the arguments (no disk I/O).
    pub fn validate(self) -> anyhow::Result<Cmd> {
        Ok(match self.command {
            Sub::List { all } => Cmd::List { all },
            Sub::Info { name } => Cmd::Info(name),
            Sub::Doctor { targets, configs, for_path, timeout } => {
                anyhow::ensure!(timeout > 0, "--timeout must be at least 1 second");
                Cmd::Doctor(doctor::Plan { targets, configs, for_path, timeout: Duration::from_secs(timeout) })
            }
            Sub::Install { source, first_party, dest, force } => {
                let source = match (source, first_party) {
                    (_, true) => install::Source::FirstParty,
                    (Some(s), false) => install::Source::Path(s),
                    (None, false) => anyhow::bail!("give a hook crate's folder or a library, or --first-party"),
                };
                Cmd::Install(install::Plan { source, dest, force })
            }
            Sub::New { name, dir, hook, xmen_path, xmen_version } => {
                Cmd::New(new::Plan::validate(name, dir, hook, xmen_path, xmen_version)?)
            }
            Sub::ProbeOne { path, describe_only } => Cmd::Probe(path, describe_only),
            Sub::Cost(args) => Cmd::Cost(args),
        })
    }
}

/// Run a validated `xmen hooks` command.
pub fn execute(cmd: Cmd, ctx: &crate::Ctx) -> anyhow::Result<ExitCode> {
    let loader = Loader::new(SearchPath::from_env());
    match cmd {
        Cmd::List { all } => list::run(&loader, all),
        Cmd::Info(name) => list::info(&loader, &name),
        Cmd::Doctor(plan) => doctor::run(&loader, &plan),
        Cmd::Install(plan) => install::run(&plan, &ctx.config_dir.join("hooks")),
        Cmd::New(plan) => new::run(&plan),
        Cmd::Probe(path, describe_only) => {
            probe::run_child(&path, describe_only);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Cost(args) => cost::run(&args),
    }
}

/// Make the first-party hooks beside this `xmen` binary resolvable for every experiment on the
/// machine: record their folder as an installation of this ABI generation in `$XMEN` (see
/// `xmen_loader::search`). Called by every command; silent, and harmless when `$XMEN` is not
/// writable (experiments then need `xmen hooks install --first-party` or XMEN_HOOK_PATH).
pub fn register_installation(config_dir: &Path) {
    let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) else { return };
    if install::first_party_files(&dir).is_empty() {
        return;
    }
    let _ = xmen_loader::search::register_installation(config_dir, &dir);
}

/// The one-line title of a library: `xmen-hook-logger 0.1.0 (SDK 0.1.0, ABI 0.11)`, or why not.
fn title(m: &Manifest) -> String {
    match m.compatibility() {
        Compatibility::Compatible => m.to_string(),
        Compatibility::Incompatible(why) => format!("{m}  INCOMPATIBLE: {why}"),
    }
}

fn write_options(out: &mut String, options: &[xmen_core::hook::OptionInfo], indent: &str) {
    for o in options {
        let default = o.default.as_deref().map(|d| format!(", default {d}")).unwrap_or_default();
        out.push_str(&format!("{indent}{} ({}{default}): {}\n", o.name, o.kind, o.help));
    }
}

//! `xmen hooks`: see, check and install hook libraries.
//!
//! Key design choice: the `xmen` process never loads a hook library. `list` and `info` read
//! the manifest each library embeds (and the sidecar `install` writes beside it) as bytes;
//! `doctor` and `install` re-run `xmen hooks probe-one PATH` in a child process, which loads the
//! library, constructs its hooks and fires them, so a library that crashes, aborts or hangs
//! costs a child process and one line of the report.

mod cost;
mod doctor;
mod install;
mod probe;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use xmen_loader::{Compatibility, Manifest, SearchPath};

/// Arguments of `xmen hooks`.
#[derive(clap::Args, Debug)]
#[command(after_help = "The search path: each folder of XMEN_HOOK_PATH, the folder of the xmen executable (and its \
parent and hooks/), then $XMEN/hooks (default ~/.xmen/hooks), where `xmen hooks install` puts libraries.\n\n\
Examples:\n  xmen hooks list\n  xmen hooks info early-stop\n  xmen hooks doctor\n  xmen hooks doctor -c defaults.yml\n  \
xmen hooks install examples/custom-hook\n  xmen hooks cost sweep/lr=0.1")]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Subcommand, Debug)]
enum Sub {
    /// List every hook library on the search path, from its manifest (no library code runs).
    List,
    /// Show one hook's help, options and examples (NAME is a hook name or a library path).
    Info {
        /// The hook (`early-stop`) or a library file.
        name: String,
    },
    /// Check hook libraries in child processes: load each, construct each hook on its own
    /// examples, fire it; report incompatible, crashing or missing libraries. Exits 1 if any.
    Doctor {
        /// Hook names or library paths to check (default: every library on the search path).
        targets: Vec<String>,
        /// Also check the `_hooks` of these files (defaults.yml, params.yml): every hook they
        /// name must be found, and construct on its own spec and options.
        #[arg(short, long = "config", value_name = "YML")]
        configs: Vec<PathBuf>,
        /// Seconds each library may take.
        #[arg(long, default_value_t = 60, value_name = "SECS")]
        timeout: u64,
    },
    /// Install a hook library with its manifest into $XMEN/hooks: a crate folder is built with
    /// `cargo build --release` first; a library file is copied.
    Install {
        /// A hook crate's folder (holding Cargo.toml) or a built `libxmen_hook_*.so`.
        source: PathBuf,
        /// Install here instead of $XMEN/hooks.
        #[arg(long, value_name = "DIR")]
        dest: Option<PathBuf>,
        /// Install even if the check in a child process fails.
        #[arg(long)]
        force: bool,
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
    List,
    /// `info NAME`.
    Info(String),
    /// `doctor`.
    Doctor(doctor::Plan),
    /// `install`.
    Install(install::Plan),
    /// `probe-one`.
    Probe(PathBuf, bool),
    /// `cost RUN...`.
    Cost(cost::CostArgs),
}

impl Args {
    /// Check the arguments (no disk I/O).
    pub fn validate(self) -> anyhow::Result<Cmd> {
        Ok(match self.command {
            Sub::List => Cmd::List,
            Sub::Info { name } => Cmd::Info(name),
            Sub::Doctor { targets, configs, timeout } => {
                anyhow::ensure!(timeout > 0, "--timeout must be at least 1 second");
                Cmd::Doctor(doctor::Plan { targets, configs, timeout: Duration::from_secs(timeout) })
            }
            Sub::Install { source, dest, force } => Cmd::Install(install::Plan { source, dest, force }),
            Sub::ProbeOne { path, describe_only } => Cmd::Probe(path, describe_only),
            Sub::Cost(args) => Cmd::Cost(args),
        })
    }
}

/// Run a validated `xmen hooks` command.
pub fn execute(cmd: Cmd, ctx: &crate::Ctx) -> anyhow::Result<ExitCode> {
    let search = SearchPath::from_env();
    match cmd {
        Cmd::List => list(&search),
        Cmd::Info(name) => info(&search, &name),
        Cmd::Doctor(plan) => doctor::run(&search, &plan),
        Cmd::Install(plan) => install::run(&plan, &ctx.config_dir.join("hooks")),
        Cmd::Probe(path, describe_only) => {
            probe::run_child(&path, describe_only);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Cost(args) => cost::run(&args),
    }
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

fn list(search: &SearchPath) -> anyhow::Result<ExitCode> {
    let libraries = search.libraries();
    if libraries.is_empty() {
        println!("No hook libraries in the search path:");
        for d in search.dirs() {
            println!("  {}", d.display());
        }
        println!("Install one with `xmen hooks install CRATE_DIR|LIBRARY`.");
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    for path in libraries {
        out.push_str(&format!("{}\n", path.display()));
        match Manifest::read(&path) {
            Ok(m) => {
                out.push_str(&format!("  {}\n", title(&m)));
                for h in &m.hooks {
                    out.push_str(&format!("  - {}: {}\n", h.name, h.help));
                    match &h.options {
                        Some(options) if options.is_empty() => out.push_str("      options: none\n"),
                        Some(options) => {
                            out.push_str("      options:\n");
                            write_options(&mut out, options, "        ");
                        }
                        None => out.push_str(&format!(
                            "      options: not recorded (`xmen hooks info {}` reads them in a child process)\n",
                            h.name
                        )),
                    }
                }
            }
            Err(e) => {
                out.push_str(&format!("  cannot describe it: {e} (`xmen hooks doctor` checks whether it loads)\n"))
            }
        }
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// The library providing hook `name` (first in search order), or the library at a path.
fn find(search: &SearchPath, name: &str) -> anyhow::Result<(PathBuf, Manifest, String)> {
    let as_path = Path::new(name);
    if name.contains('/') || as_path.is_file() {
        let m = Manifest::read(as_path)?;
        let hook = m.hooks.first().map(|h| h.name.clone()).unwrap_or_default();
        return Ok((as_path.to_path_buf(), m, hook));
    }
    let mut unreadable = Vec::new();
    for path in search.libraries() {
        match Manifest::read(&path) {
            Ok(m) if m.hook(name).is_some() => return Ok((path, m, name.to_owned())),
            Ok(_) => {}
            Err(e) => unreadable.push(e.to_string()),
        }
    }
    let mut msg = format!(
        "no hook library on the search path provides hook {name:?}; `xmen hooks list` shows what is installed, \
         `xmen hooks install CRATE_DIR` installs a hook crate"
    );
    if !unreadable.is_empty() {
        msg.push_str(&format!(" ({} libraries could not be read: {})", unreadable.len(), unreadable.join("; ")));
    }
    anyhow::bail!(msg)
}

fn info(search: &SearchPath, name: &str) -> anyhow::Result<ExitCode> {
    let (path, manifest, hook) = find(search, name)?;
    let mut options = manifest.hook(&hook).and_then(|h| h.options.clone());
    let mut examples = manifest.hook(&hook).and_then(|h| h.examples.clone());
    let mut note = "";
    if options.is_none() {
        // Not recorded beside the library: ask the library itself, in a child process.
        if let probe::Outcome::Report(r) = probe::spawn(&path, true, Duration::from_secs(60))? {
            if let Some(h) = r.library.as_ref().and_then(|l| l.to_info().hooks.into_iter().find(|h| h.name == hook)) {
                options = Some(h.options);
                examples = Some(h.examples);
                note = " (read by loading the library in a child process)";
            }
        }
    }
    let mut out = format!("{hook}: {}\n", manifest.hook(&hook).map(|h| h.help.as_str()).unwrap_or_default());
    out.push_str(&format!("library: {}\npath: {}\n", title(&manifest), path.display()));
    match options {
        Some(o) if o.is_empty() => out.push_str(&format!("options{note}: none\n")),
        Some(o) => {
            out.push_str(&format!("options{note}:\n"));
            write_options(&mut out, &o, "  ");
        }
        None => out.push_str("options: unknown (the library could not be loaded; run `xmen hooks doctor` on it)\n"),
    }
    let examples = examples.unwrap_or_default();
    if !examples.is_empty() {
        out.push_str("examples (in defaults.yml or `xmen register -u \"{_hooks: [...]}\"`):\n  _hooks:\n");
        for e in examples {
            out.push_str(&format!("    - {{hook: {hook}, spec: {e:?}}}\n"));
        }
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

//! `xmen init`: make a folder an experiment set.

use std::path::PathBuf;
use std::process::ExitCode;

use xmen_manager::init::check_not_initialised;
use xmen_manager::{registry, InitOpts, InitSource};
use xmen_record::GlobalConfig;

use crate::{ui, Ctx};

/// Arguments of `xmen init`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  xmen init -n hello -r ~/exps/hello            # from a registered experiment\n  \
                  xmen init -n \"${CARGO_TARGET_DIR:-target}/release/examples/hello_world\" -r exps\n  \
                  xmen init -d defaults.yml -s script.sh -r exps   # any language")]
pub struct Args {
    /// A defaults.yml to copy into the root (default: the root's own defaults.yml).
    #[arg(short, long, value_name = "PATH", conflicts_with = "name")]
    defaults: Option<PathBuf>,
    /// A script.sh to copy into the root; it runs one experiment given its params.yml as `$1`
    /// (default: the root's own script.sh).
    #[arg(short, long, value_name = "PATH", conflicts_with = "name")]
    script: Option<PathBuf>,
    /// The set root; created when missing.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// A registered experiment (`xmen experiments --list`) or the path of an experiment binary;
    /// it writes defaults.yml and script.sh itself (`BIN --to-root DIR`).
    #[arg(short, long, value_name = "NAME|PATH")]
    name: Option<String>,
    /// New defaults for the set, as YAML (with `-n` only; passed on as `-u`).
    #[arg(short, long, value_name = "YAML", requires = "name")]
    updates: Option<String>,
    /// The purpose of the set (asked on a terminal when the `prompt` option is on).
    #[arg(short, long, value_name = "TEXT")]
    purpose: Option<String>,
}

/// Where a validated init takes its files from.
#[derive(Debug)]
enum Origin {
    Experiment { name: String, updates: Option<String> },
    Files { defaults: Option<PathBuf>, script: Option<PathBuf> },
}

/// A validated `xmen init` command.
#[derive(Debug)]
pub struct Cmd {
    root: PathBuf,
    from: Origin,
    purpose: Option<String>,
}

impl Args {
    /// Check the arguments (no disk I/O).
    pub fn validate(self) -> anyhow::Result<Cmd> {
        let from = match self.name {
            Some(name) if name.is_empty() => {
                anyhow::bail!("`-n/--name` is empty; give a registered experiment or a path")
            }
            Some(name) => Origin::Experiment { name, updates: self.updates },
            None => Origin::Files { defaults: self.defaults, script: self.script },
        };
        Ok(Cmd { root: self.root, from, purpose: self.purpose })
    }
}

/// Run a validated `xmen init` command.
pub fn execute(cmd: Cmd, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    check_not_initialised(&cmd.root)?;
    let cfg = GlobalConfig::load(&ctx.config_dir)?;
    let (source, kind) = match cmd.from {
        Origin::Experiment { name, updates } => {
            let looks_like_path = name.contains('/') || std::path::Path::new(&name).is_file();
            let program = if looks_like_path {
                std::path::absolute(xmen_manager::launch::find_program(&name)?)?
            } else {
                registry::resolve(&ctx.config_dir, &name)?
            };
            let kind = if looks_like_path {
                program.file_name().map(|f| f.to_string_lossy().into_owned())
            } else {
                Some(name)
            };
            (InitSource::Binary { program, updates }, kind)
        }
        Origin::Files { defaults, script } => (InitSource::Files { defaults, script }, None),
    };
    let purpose = match cmd.purpose {
        Some(p) => p,
        None if cfg.prompt => ui::ask_text("\nPlease enter the purpose of the experiments: ")?.unwrap_or_default(),
        None => String::new(),
    };
    let report = xmen_manager::init(&InitOpts { root: cmd.root, source, purpose, kind })?;
    println!("Defaults from {}", report.defaults_from.display());
    println!("Script from {}", report.script_from.display());
    println!("Experiment root created at {}", report.root.display());
    Ok(ExitCode::SUCCESS)
}

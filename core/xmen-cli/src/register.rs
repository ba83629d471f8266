//! `xmen register` (alias `link`): register a sweep of experiments in a set.

use std::path::PathBuf;
use std::process::ExitCode;

use xmen_core::Value;
use xmen_manager::naming::check_name;
use xmen_manager::scripts::DEFAULT_SHELL;
use xmen_manager::{RegisterOpts, Sweep};

use crate::Ctx;

/// Arguments of `xmen register`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Sweep grammar (-u): a YAML mapping whose values may hold `|` alternatives; every \
combination is registered, the first key varying slowest, each value cast to its default's type:\n  \
xmen register -u \"{lr: 1e-2 | 1e-3, epochs: 5 | 10}\"      # 4 experiments: lr=0.01__epochs=5, ...\n  \
xmen register -u \"{opt: {beta: 0.5}}\"                     # maps merge into the default map\n  \
xmen register -n baseline -x 3                            # baseline, baseline_1, baseline_2")]
pub struct Args {
    /// The folder name of every experiment (default: `key=value__key=value` from the overrides).
    #[arg(short, long, value_name = "NAME")]
    name: Option<String>,
    /// The sweep: a YAML mapping of parameter overrides with `|` alternatives.
    #[arg(short, long, value_name = "YAML")]
    updates: Option<String>,
    /// A file whose contents go at the top of each run.sh (e.g. `#SBATCH` lines; default: the
    /// `header` option of `xmen config`).
    #[arg(short = 'H', long, value_name = "PATH")]
    header: Option<PathBuf>,
    /// The purpose of these experiments (default: the set's purpose).
    #[arg(short, long, value_name = "TEXT")]
    purpose: Option<String>,
    /// The set root.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// Register each combination N times (`name`, `name_1`, ...).
    #[arg(short = 'x', long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    repeats: u32,
    /// The interpreter each run.sh runs script.sh with.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_SHELL)]
    shell: String,
    /// Register even when an experiment of the set already has the same configuration.
    #[arg(long)]
    force: bool,
    /// Words given without a flag (`xmen register lr=0.1`): refused with the `-u` form.
    #[arg(hide = true, value_name = "WORDS")]
    stray: Vec<String>,
}

/// `xmen register lr=0.1 epochs=3`: the same overrides written as the `-u` sweep.
fn stray_hint(words: &[String]) -> String {
    let pairs: Option<Vec<String>> = words
        .iter()
        .map(|w| w.split_once('=').filter(|(k, _)| !k.is_empty()).map(|(k, v)| format!("{k}: {v}")))
        .collect();
    let given = words.join(" ");
    match pairs {
        Some(p) => format!(
            "`xmen register` takes no positional arguments (got `{given}`); parameters are overridden with -u: \
             `xmen register -u '{{{}}}'`",
            p.join(", ")
        ),
        None => format!(
            "`xmen register` takes no positional arguments (got `{given}`); give overrides with -u \
             (`xmen register -u '{{lr: 0.1}}'`) and a folder name with -n"
        ),
    }
}

/// A validated `xmen register` command.
#[derive(Debug)]
pub struct Cmd {
    opts: RegisterOpts,
}

impl Args {
    /// Check the arguments: the sweep's grammar and the name (no disk I/O).
    pub fn validate(self, ctx: &Ctx) -> anyhow::Result<Cmd> {
        if !self.stray.is_empty() {
            anyhow::bail!(stray_hint(&self.stray));
        }
        if self.name.is_none() && self.updates.is_none() {
            return Err(xmen_manager::ManagerError::NothingToRegister.into());
        }
        if let Some(n) = &self.name {
            check_name(n)?;
        }
        let sweep = self.updates.as_deref().map(Sweep::parse).transpose()?;
        if let (Some(sw), None) = (&sweep, &self.name) {
            if sw.keys().iter().all(|k| k.key == xmen_record::HOOKS_KEY) {
                anyhow::bail!("the sweep overrides no parameter, so it gives no folder name; add `-n NAME`");
            }
        }
        let mut opts = RegisterOpts::new(self.root, &ctx.config_dir);
        opts.name = self.name;
        opts.sweep = sweep;
        opts.header = self.header;
        opts.purpose = self.purpose;
        opts.shell = self.shell;
        opts.repeats = usize::try_from(self.repeats).unwrap_or(1);
        opts.force = self.force;
        Ok(Cmd { opts })
    }
}

/// Resolve and check every `_hooks` list the registration would write, before any folder is
/// created: the sweep's alternatives, else the set's defaults.yml. Every problem is reported.
fn validate_hooks(opts: &RegisterOpts) -> anyhow::Result<()> {
    let swept: Vec<&Value> = opts
        .sweep
        .iter()
        .flat_map(|s| s.keys())
        .filter(|k| k.key == xmen_record::HOOKS_KEY)
        .flat_map(|k| k.alternatives.iter())
        .collect();
    let mut lists: Vec<(String, Value)> = Vec::new();
    if swept.is_empty() {
        let Ok(set) = xmen_manager::ExperimentSet::open(&opts.root) else { return Ok(()) };
        let path = set.defaults_path();
        let Ok(defaults) = xmen_record::Record::load(&path) else { return Ok(()) };
        if let Some(h) = defaults.hooks {
            lists.push((path.display().to_string(), h));
        }
    } else {
        let n = swept.len();
        for (i, v) in swept.into_iter().enumerate() {
            let origin = if n == 1 { "-u".to_owned() } else { format!("-u (_hooks alternative {})", i + 1) };
            lists.push((origin, v.clone()));
        }
    }
    if lists.is_empty() {
        return Ok(());
    }
    let loader = xmen_loader::Loader::default();
    let problems: Vec<String> = lists
        .iter()
        .filter_map(|(origin, v)| xmen_loader::validate::validate_hooks(&loader, v, origin).err())
        .map(|p| p.to_string())
        .collect();
    anyhow::ensure!(problems.is_empty(), "nothing registered: {}", problems.join("\n"));
    Ok(())
}

/// Run a validated `xmen register` command.
pub fn execute(cmd: Cmd) -> anyhow::Result<ExitCode> {
    validate_hooks(&cmd.opts)?;
    let report = xmen_manager::register(&cmd.opts)?;
    let n = report.folders.len();
    println!("Registered {n} experiment{} in {}", if n == 1 { "" } else { "s" }, report.root.display());
    let names: Vec<String> =
        report.folders.iter().map(|f| f.strip_prefix(&report.root).unwrap_or(f).display().to_string()).collect();
    println!("{}", crate::ui::bullet_list(&names, 20));
    Ok(ExitCode::SUCCESS)
}

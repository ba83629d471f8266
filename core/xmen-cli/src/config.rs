//! `xmen config` and the setup bare `xmen` offers.
//!
//! The options are those of the original's `xmen config` that do not concern its server:
//! `prompt`, `save_conda`, `redirect_stdout` (`--*-stdout-to-txt`), `requeue`, `header`,
//! `--list`, `--clean` and `--update-meta`. They are applied in the original's order.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xmen_core::Value;
use xmen_manager::config::{self as cfgops, ConfigChanges};
use xmen_record::{yaml, GlobalConfig, RecordError};

use crate::ui::{self, bullet_list, confirm};
use crate::Ctx;

/// Arguments of `xmen config`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  xmen config --list\n  xmen config --disable-prompt\n  \
xmen config -H header.txt          # e.g. #SBATCH lines for every new run.sh\n  \
xmen config --environ none         # record no environment variables at all\n  xmen config --clean --yes")]
pub struct Args {
    /// Ask for every setting in turn (on a terminal).
    #[arg(long)]
    interactive: bool,
    /// Do not ask for purposes or confirmations.
    #[arg(long, alias = "disable_prompt", conflicts_with = "enable_prompt")]
    disable_prompt: bool,
    /// Ask for purposes and confirm destructive commands.
    #[arg(long, alias = "enable_prompt")]
    enable_prompt: bool,
    /// Do not write environment.yml when a run starts.
    #[arg(long, alias = "disable_save_conda", conflicts_with = "enable_save_conda")]
    disable_save_conda: bool,
    /// Write environment.yml (the conda environment) when a run starts.
    #[arg(long, alias = "enable_save_conda")]
    enable_save_conda: bool,
    /// Do not copy each run's output to out.txt by default.
    #[arg(long, alias = "disable_stdout_to_txt", conflicts_with = "enable_stdout_to_txt")]
    disable_stdout_to_txt: bool,
    /// Copy each run's output to out.txt in its folder by default.
    #[arg(long, alias = "enable_stdout_to_txt")]
    enable_stdout_to_txt: bool,
    /// Do not requeue SLURM jobs that time out.
    #[arg(long, alias = "disable_requeue", conflicts_with = "enable_requeue")]
    disable_requeue: bool,
    /// Requeue SLURM jobs that time out (`scontrol requeue`).
    #[arg(long, alias = "enable_requeue")]
    enable_requeue: bool,
    /// The header of every new run.sh: the contents of HEADER when it is a file, else the text itself.
    #[arg(short = 'H', long, value_name = "HEADER")]
    header: Option<String>,
    /// How much of the environment each run records in `_meta.environ` and environment.yml:
    /// `redacted` (default: values of names containing TOKEN, KEY, SECRET, PASSWORD, PASSWD,
    /// CREDENTIAL, AUTH, COOKIE or SESSION become `<redacted>`), `all`, or `none`.
    #[arg(long, value_name = "MODE", value_parser = parse_environ)]
    environ: Option<xmen_core::redact::EnvironMode>,
    /// Print the configuration.
    #[arg(short, long)]
    list: bool,
    /// Remove linked experiments whose folder (params.yml) is gone.
    #[arg(long)]
    clean: bool,
    /// Refresh the basic `_meta` (host, user, mac, home) in the set's defaults.yml and params.yml files.
    #[arg(long, alias = "update_meta")]
    update_meta: bool,
    /// The set `--update-meta` works on.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// Do not ask before `--clean` removes entries.
    #[arg(short, long)]
    yes: bool,
}

/// A validated `xmen config` command.
#[derive(Debug)]
pub struct Cmd {
    interactive: bool,
    changes: ConfigChanges,
    header_arg: Option<String>,
    list: bool,
    clean: bool,
    update_meta: Option<PathBuf>,
    yes: bool,
}

fn parse_environ(s: &str) -> Result<xmen_core::redact::EnvironMode, String> {
    s.parse().map_err(|e: xmen_core::redact::EnvironModeError| e.to_string())
}

fn toggle(off: bool, on: bool) -> Option<bool> {
    if off {
        Some(false)
    } else if on {
        Some(true)
    } else {
        None
    }
}

impl Args {
    /// Check the arguments (no disk I/O; `--header` is read when the command runs).
    pub fn validate(self) -> Cmd {
        let changes = ConfigChanges {
            prompt: toggle(self.disable_prompt, self.enable_prompt),
            save_conda: toggle(self.disable_save_conda, self.enable_save_conda),
            redirect_stdout: toggle(self.disable_stdout_to_txt, self.enable_stdout_to_txt),
            requeue: toggle(self.disable_requeue, self.enable_requeue),
            header: None,
            environ: self.environ,
        };
        let nothing =
            !self.interactive && changes.is_empty() && self.header.is_none() && !self.clean && !self.update_meta;
        Cmd {
            interactive: self.interactive,
            changes,
            header_arg: self.header,
            list: self.list || nothing,
            clean: self.clean,
            update_meta: self.update_meta.then_some(self.root),
            yes: self.yes,
        }
    }
}

/// Run a validated `xmen config` command.
pub fn execute(mut cmd: Cmd, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let dir = &ctx.config_dir;
    if cmd.interactive {
        setup(dir)?;
    }
    if let Some(h) = &cmd.header_arg {
        let p = Path::new(h);
        cmd.changes.header = Some(if p.is_file() {
            std::fs::read_to_string(p).map_err(|e| RecordError::io("read the header", p, e))?
        } else {
            h.clone()
        });
    }
    let cfg = cfgops::change(dir, &cmd.changes)?;
    if cmd.list {
        print!("{}", cfgops::render(&cfg, dir));
    }
    if cmd.clean {
        clean(dir, cmd.yes || !cfg.prompt)?;
    }
    if let Some(root) = &cmd.update_meta {
        let files = cfgops::update_meta(root)?;
        println!("Updated _meta in {} files", files.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// `xmen config --clean`: drop linked experiments whose params.yml is gone.
pub fn clean(dir: &Path, skip_question: bool) -> anyhow::Result<()> {
    let stale = cfgops::stale_linked(dir)?;
    if stale.is_empty() {
        println!("No linked experiments are missing; nothing to remove from the global configuration");
        return Ok(());
    }
    println!("The following experiments were found for removal from the global configuration...");
    println!("{}", bullet_list(&stale, 50));
    if !confirm("Would you like to remove them from the global configuration?", skip_question)? {
        println!("Aborting!");
        return Ok(());
    }
    let n = cfgops::drop_linked(dir, &stale)?;
    println!("{n} experiments were successfully removed from the global configuration");
    Ok(())
}

/// The settings the setup asks for, with their current values as text.
fn settings(c: &GlobalConfig) -> Vec<(&'static str, Value)> {
    vec![
        ("local_host", Value::Str(c.local_host.clone())),
        ("local_user", Value::Str(c.local_user.clone())),
        ("prompt", Value::Bool(c.prompt)),
        ("save_conda", Value::Bool(c.save_conda)),
        ("redirect_stdout", Value::Bool(c.redirect_stdout)),
        ("requeue", Value::Bool(c.requeue)),
        ("header", Value::Str(c.header.clone())),
        ("environ", Value::Str(c.environ.as_str().to_owned())),
    ]
}

fn set(c: &mut GlobalConfig, key: &str, v: Value) -> Result<(), String> {
    let flag = |v: &Value| match v {
        Value::Bool(b) => Ok(*b),
        other => Err(format!("`{key}` takes true or false, not `{}`", xmen_core::pyfmt::str_of(other))),
    };
    let text = |v: Value| match v {
        Value::Str(s) => s,
        Value::None => String::new(),
        other => xmen_core::pyfmt::str_of(&other),
    };
    match key {
        "local_host" => c.local_host = text(v),
        "local_user" => c.local_user = text(v),
        "prompt" => c.prompt = flag(&v)?,
        "save_conda" => c.save_conda = flag(&v)?,
        "redirect_stdout" => c.redirect_stdout = flag(&v)?,
        "requeue" => c.requeue = flag(&v)?,
        "header" => c.header = text(v),
        "environ" => c.environ = text(v).parse().map_err(|e: xmen_core::redact::EnvironModeError| e.to_string())?,
        _ => {}
    }
    Ok(())
}

/// The configuration setup: interactive on a terminal (each setting asked, YAML answers, empty
/// keeps), otherwise the configuration is created with its defaults and shown. A legacy
/// `config.yml` is offered for migration (migrated without asking when not interactive: the
/// migration only adds).
pub fn setup(dir: &Path) -> anyhow::Result<()> {
    let mut cfg = GlobalConfig::load_or_create(dir)?;
    if ui::interactive() {
        println!("Config Setup...");
        for (key, current) in settings(&cfg) {
            loop {
                let shown = xmen_core::pyfmt::str_of(&current);
                let Some(answer) = ui::ask(&format!("{key} (default={shown}): "))? else { break };
                if answer.trim().is_empty() {
                    break;
                }
                let value = yaml::parse(&answer, Path::new("<answer>")).unwrap_or(Value::Str(answer.clone()));
                match set(&mut cfg, key, value) {
                    Ok(()) => break,
                    Err(msg) => eprintln!("{msg}; try again (empty keeps the current value)"),
                }
            }
        }
        let changes = cfg.clone();
        GlobalConfig::update(dir, |c| {
            c.local_host = changes.local_host.clone();
            c.local_user = changes.local_user.clone();
            ConfigChanges {
                prompt: Some(changes.prompt),
                save_conda: Some(changes.save_conda),
                redirect_stdout: Some(changes.redirect_stdout),
                requeue: Some(changes.requeue),
                header: Some(changes.header.clone()),
                environ: Some(changes.environ),
            }
            .apply(c);
            Ok::<_, RecordError>(())
        })?;
    }
    if let Some(legacy) = cfgops::legacy_config(dir) {
        let go = !ui::interactive()
            || confirm(
                &format!(
                    "Found old config ({}). Would you like to move experiments across to the new configuration?",
                    legacy.display()
                ),
                false,
            )?;
        if go {
            if let Some(m) = cfgops::migrate_legacy(dir)? {
                println!(
                    "Migrated {}: {} registered experiment(s) added, {} experiment folder(s) linked",
                    m.from.display(),
                    m.experiments.len(),
                    m.linked
                );
                for s in &m.unreadable {
                    eprintln!("WARNING: the legacy set {s} could not be read; it was not migrated");
                }
            }
        }
    }
    let cfg = GlobalConfig::load(dir)?;
    if !ui::interactive() {
        println!("Configuration in {} (stdin is not a terminal: no questions asked)", dir.join("xmen.yml").display());
        print!("{}", cfgops::render(&cfg, dir));
        println!("Change it with `xmen config --help`, or run `xmen config --interactive` on a terminal.");
    } else {
        println!("Configuration saved to {}", dir.join("xmen.yml").display());
    }
    Ok(())
}

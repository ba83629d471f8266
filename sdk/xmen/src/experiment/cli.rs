//! The single-experiment command line (docs/migrating.md lists how it differs), parsed with
//! clap in two stages: clap reads the flags, then [`Plan`] validates them before any disk I/O.

use std::ffi::OsString;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};
use xmen_core::{pyfmt, Value};
use xmen_record::{
    config_dir, locked_write, register, write_script, GlobalConfig, Param, Record, RecordError, RecordFile,
    RegisterOpts, Status, VersionInfo, WriteOpts, HOOKS_KEY,
};

use super::error::ExperimentError;
use super::help::help_block;
use super::root::Root;
use super::{run, Experiment, Parameters};

/// Run the experiment `E` from the process's command line and exit with its status.
///
/// This is the whole `main` of an experiment binary. The flags:
///
/// | flag | meaning |
/// |---|---|
/// | `-u, --update YML...` | a YAML mapping (`"{a: Bye}"`) or a params.yml/defaults.yml path; repeatable, applied in order; unknown names and wrong types are errors |
/// | `-p, --purpose STR...` | the purpose recorded at registration |
/// | `-x, --execute [PATH]` | run: a params.yml (must be registered, detached, timeout or requeue), a folder to register and run, or nothing for a detached run |
/// | `-r, --to-root PATH` | write `defaults.yml` and an executable `script.sh` into `PATH` (alias `--to_root`) |
/// | `-d, --debug` | call [`Experiment::debug`], register without linking into the global configuration |
/// | `-t, --txt` / `--no-txt` | copy stdout and stderr to `{root}/out.txt` (default: the configuration's `redirect_stdout`) |
/// | `-f, --restart` | with `-x DIR`, reuse `DIR/params.yml` instead of registering `DIR_0` |
///
/// Exit status: 0 on success, 1 on an error (of the command line or of the run body), 101 on
/// a panic in the body, 128 + the signal number after SIGINT, SIGTERM or SIGUSR1, 2 on a
/// usage error.
///
/// ```no_run
/// /// Says hello.
/// #[derive(xmen::Experiment)]
/// struct Hello {
///     /// Who to greet
///     #[param(default = "World")]
///     name: String,
/// }
///
/// impl xmen::Experiment for Hello {
///     fn run(&mut self, _root: &xmen::Root) -> xmen::RunResult {
///         println!("Hello {}!", self.name);
///         Ok(())
///     }
/// }
///
/// fn main() {
///     xmen::main::<Hello>()
/// }
/// ```
pub fn main<E: Experiment>() -> ! {
    let code = run_cli::<E>(std::env::args_os().collect());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(i32::from(code))
}

/// [`main`] with explicit arguments (the first is the program name), returning the exit
/// status instead of exiting.
///
/// ```
/// /// Says hello.
/// #[derive(xmen::Experiment)]
/// struct Hello {}
/// impl xmen::Experiment for Hello {
///     fn run(&mut self, _root: &xmen::Root) -> xmen::RunResult { Ok(()) }
/// }
///
/// let code = xmen::main_with_args::<Hello>(["hello", "--no-such-flag"]);
/// assert_eq!(code, std::process::ExitCode::from(2));
/// ```
pub fn main_with_args<E: Experiment>(args: impl IntoIterator<Item = impl Into<OsString>>) -> ExitCode {
    ExitCode::from(run_cli::<E>(args.into_iter().map(Into::into).collect()))
}

fn run_cli<E: Experiment>(args: Vec<OsString>) -> u8 {
    let bin = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map_or_else(|| E::NAME.to_owned(), |n| n.to_string_lossy().into_owned());
    let matches = match command::<E>(&bin).try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    match Plan::from_matches(&matches).and_then(|plan| plan.execute::<E>()) {
        Ok(code) => code,
        Err(e) => {
            let _ = std::io::stdout().flush();
            eprintln!("ERROR: {}", run::error_chain(&e));
            1
        }
    }
}

fn command<E: Parameters>(bin: &str) -> Command {
    Command::new(bin.to_owned())
        .override_usage(format!("{bin} -u YML -r PATH\n       {bin} -u YML -x DIR\n       {bin} -x PARAMS"))
        .after_help(help_block::<E>())
        .arg(
            Arg::new("update")
                .short('u')
                .long("update")
                .value_name("YML")
                .num_args(1..)
                .action(ArgAction::Append)
                .help(
                    "Update parameters from a YAML mapping (\"{a: Bye, epochs: 3}\") or a params.yml or \
                     defaults.yml file; several values apply in order",
                ),
        )
        .arg(
            Arg::new("purpose")
                .short('p')
                .long("purpose")
                .value_name("STR")
                .num_args(1..)
                .action(ArgAction::Append)
                .help("The purpose of the run, recorded when it is registered"),
        )
        .arg(
            Arg::new("execute")
                .short('x')
                .long("execute")
                .value_name("PATH")
                .num_args(0..=1)
                .value_parser(clap::value_parser!(PathBuf))
                .help(
                    "Run: a params.yml of a registered run, or a folder to register the experiment in and \
                     run; without a value, run detached (nothing is saved)",
                ),
        )
        .arg(
            Arg::new("to_root")
                .short('r')
                .long("to-root")
                .alias("to_root")
                .value_name("PATH")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Write defaults.yml and an executable script.sh for an experiment set into PATH"),
        )
        .arg(
            Arg::new("debug")
                .short('d')
                .long("debug")
                .action(ArgAction::SetTrue)
                .help("Debug run: apply the experiment's debug settings and do not link it into the global configuration"),
        )
        .arg(
            Arg::new("txt")
                .short('t')
                .long("txt")
                .action(ArgAction::SetTrue)
                .help("Copy stdout and stderr to out.txt in the experiment folder (the default when redirect_stdout is on in xmen.yml)"),
        )
        .arg(
            Arg::new("no_txt")
                .long("no-txt")
                .alias("no_txt")
                .action(ArgAction::SetTrue)
                .conflicts_with("txt")
                .help("Do not copy stdout and stderr to out.txt"),
        )
        .arg(
            Arg::new("restart")
                .short('f')
                .long("restart")
                .action(ArgAction::SetTrue)
                .help("With -x DIR: reuse DIR/params.yml and run it again instead of registering DIR_0"),
        )
}

/// What `-x` asked for.
enum Execute {
    Detached,
    File(PathBuf),
    Folder(PathBuf),
}

/// The validated command line.
struct Plan {
    updates: Vec<String>,
    purpose: Option<String>,
    execute: Option<Execute>,
    to_root: Option<PathBuf>,
    debug: bool,
    txt: Option<bool>,
    restart: bool,
}

impl Plan {
    fn from_matches(m: &ArgMatches) -> Result<Plan, ExperimentError> {
        let updates: Vec<String> = m.get_many::<String>("update").map(|v| v.cloned().collect()).unwrap_or_default();
        let purpose = m.get_many::<String>("purpose").map(|v| v.map(String::as_str).collect::<Vec<_>>().join(" "));
        let execute = if m.contains_id("execute") && m.value_source("execute").is_some() {
            Some(match m.get_one::<PathBuf>("execute") {
                None => Execute::Detached,
                Some(p) if p.as_os_str().is_empty() => Execute::Detached,
                // Absolute, so errors and the root name the file unambiguously.
                Some(p) if p.is_file() => Execute::File(std::path::absolute(p).unwrap_or_else(|_| p.clone())),
                // `-x newdir/params.yml` names a file: a missing one is an error, never a folder
                // called params.yml (a missing folder stays a valid place to register).
                Some(p) if names_a_file(p) => return Err(ExperimentError::MissingFile { path: p.clone() }),
                Some(p) => Execute::Folder(p.clone()),
            })
        } else {
            None
        };
        if let (Some(Execute::File(path)), false) = (&execute, updates.is_empty()) {
            return Err(ExperimentError::UpdateRegistered { path: path.clone() });
        }
        let txt = if m.get_flag("txt") {
            Some(true)
        } else if m.get_flag("no_txt") {
            Some(false)
        } else {
            None
        };
        Ok(Plan {
            updates,
            purpose,
            execute,
            to_root: m.get_one::<PathBuf>("to_root").cloned(),
            debug: m.get_flag("debug"),
            txt,
            restart: m.get_flag("restart"),
        })
    }

    fn execute<E: Experiment>(self) -> Result<u8, ExperimentError> {
        let cfg_dir = config_dir();
        let cfg = GlobalConfig::load(&cfg_dir)?;
        let mut exp = E::from_defaults();
        let mut hooks = None;
        if self.debug {
            println!("Running as debug");
            exp.debug();
        }
        for (i, text) in self.updates.iter().enumerate() {
            apply_update(&mut exp, &mut hooks, i + 1, text)?;
        }
        // `_hooks` from `-u` are resolved and checked before anything is written.
        #[cfg(feature = "run")]
        if let Some(h) = &hooks {
            xmen_loader::validate::validate_hooks(&xmen_loader::Loader::default(), h, "-u")
                .map_err(|p| ExperimentError::Hooks { message: p.to_string() })?;
        }
        if !self.debug && self.execute.is_none() && self.to_root.is_none() && self.updates.is_empty() {
            println!("{}\n\nFor more help use --help.", help_block::<E>());
            return Ok(0);
        }
        let mut record = record_of(&exp);
        record.hooks = hooks;
        if let Some(path) = &self.to_root {
            println!("Generating experiment root at {}", path.display());
            to_root::<E>(&record, path, &cfg)?;
        }
        let root = match self.execute {
            None if self.to_root.is_some() => return Ok(0),
            None => {
                // Updates (or -d) alone: checked, but nothing to apply them to.
                let what = if self.updates.is_empty() { "the debug settings" } else { "the updates" };
                eprintln!(
                    "ERROR: nothing was run or written: {what} were checked and applied in memory only. Add \
                     `-x DIR` to register the experiment in DIR and run it, `-x` alone to run it detached \
                     (nothing saved), or `-r DIR` to write an experiment set's defaults.yml and script.sh"
                );
                return Ok(2);
            }
            Some(Execute::Detached) => {
                record.status = Status::Detached;
                Root::detached_with(E::NAME, record)?
            }
            Some(Execute::File(path)) => load_params(&mut exp, &path, self.restart)?,
            Some(Execute::Folder(dir)) => {
                let purpose = match self.purpose {
                    Some(p) => p,
                    None if cfg.prompt && std::io::stdin().is_terminal() => ask_purpose(),
                    None => String::new(),
                };
                let opts = RegisterOpts {
                    purpose,
                    restart: self.restart,
                    version: None,
                    link: !self.debug,
                    config_dir: Some(cfg_dir.clone()),
                    ..RegisterOpts::default()
                };
                record.version = Some(version_value::<E>());
                let registered = register(&dir, record, &opts)?;
                if self.restart {
                    // A restarted run keeps its recorded parameters, like `-x params.yml`.
                    load_params(&mut exp, &RecordFile::path_in(&registered.root), true)?
                } else {
                    Root::open_with(E::NAME, &registered.root, WriteOpts::default())?
                }
            }
        };
        run::start(&root, self.restart, cfg.save_conda)?;
        let txt = self.txt.unwrap_or(cfg.redirect_stdout);
        run::body(&mut exp, &root, txt)
    }
}

fn ask_purpose() -> String {
    print!("Enter the purpose of the experiment: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    line.trim().to_owned()
}

/// The record of `exp`: its current values, each with the help line of its declaration.
fn record_of<E: Parameters>(exp: &E) -> Record {
    let infos = E::parameters();
    let params = exp
        .values()
        .into_iter()
        .map(|(name, value)| {
            let help = infos.iter().find(|i| i.name == name).map(|i| i.help_line()).unwrap_or_default();
            Param { name, value, help }
        })
        .collect();
    Record::new(params)
}

/// `_version` (docs/file-formats.md#_version): `module` and `class` (or `function`), then the
/// executable path, the crate and its version, and the git state of the crate's source.
fn version_value<E: Parameters>() -> Value {
    let s = E::SOURCE;
    let info = VersionInfo::current(s.crate_name, s.crate_version, Some(Path::new(s.manifest_dir)));
    let mut map = vec![
        ("module".to_owned(), Value::from(s.module)),
        ((if s.function { "function" } else { "class" }).to_owned(), Value::from(E::NAME)),
    ];
    if let Value::Map(rest) = info.to_value() {
        map.extend(rest);
    }
    Value::Map(map)
}

/// Apply one `-u` value: a parameter file, else a YAML mapping.
fn apply_update<E: Parameters>(
    exp: &mut E,
    hooks: &mut Option<Value>,
    index: usize,
    text: &str,
) -> Result<(), ExperimentError> {
    let path = Path::new(text);
    if path.is_dir() {
        let file = ["params.yml", "defaults.yml"].iter().map(|f| path.join(f)).find(|f| f.is_file());
        let reason = match file {
            Some(f) => format!("it is a folder; give the parameter file inside it: `-u {}`", f.display()),
            None => "it is a folder holding no params.yml or defaults.yml; give a parameter file or a mapping such as \"{a: 1}\"".to_owned(),
        };
        return Err(ExperimentError::Update { index, value: text.to_owned(), reason });
    }
    let (origin, overrides) = if path.is_file() {
        let rec = Record::load(path)?;
        if let Some(h) = rec.hooks {
            *hooks = Some(h);
        }
        (path.display().to_string(), rec.params.into_iter().map(|p| (p.name, p.value)).collect::<Vec<_>>())
    } else {
        let origin = format!("-u argument {index}");
        let value = match xmen_record::yaml::parse(text, Path::new(&format!("<{origin}>"))) {
            Ok(v) => v,
            Err(e) if looks_like_path(text) => {
                return Err(ExperimentError::Update {
                    index,
                    value: text.to_owned(),
                    reason: format!("there is no file {} (and as YAML: {e})", path.display()),
                })
            }
            Err(e) => return Err(e.into()),
        };
        let Value::Map(map) = value else {
            let reason = if looks_like_path(text) {
                format!("there is no file {}", path.display())
            } else {
                format!(
                    "it is a YAML {} and no such file exists; give a mapping such as \"{{a: 1, b: text}}\"",
                    value.kind()
                )
            };
            return Err(ExperimentError::Update { index, value: text.to_owned(), reason });
        };
        println!("Updating parameters {}", pyfmt::str_of(&Value::Map(map.clone())));
        (origin, map)
    };
    // The record applies the override rules of docs/migrating.md#casting (unknown names, specials,
    // casts, list lengths)...
    let mut rec = record_of(exp);
    rec.update(&overrides).map_err(|source| ExperimentError::Invalid { origin: origin.clone(), source })?;
    // ...then the struct checks the Rust types.
    for (name, _) in &overrides {
        if name == HOOKS_KEY {
            *hooks = rec.hooks.clone();
            continue;
        }
        if let Some(v) = rec.get(name) {
            exp.set(name, v)
                .map_err(|source| ExperimentError::Param { origin: origin.clone(), source: Box::new(source) })?;
        }
    }
    Ok(())
}

/// Whether `-x PATH` names a record file rather than a folder (`.yml`, `.yaml`).
fn names_a_file(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "yml" || e == "yaml") && !p.is_dir()
}

fn looks_like_path(text: &str) -> bool {
    let t = text.trim();
    !t.starts_with('{') && (t.ends_with(".yml") || t.ends_with(".yaml") || t.contains(std::path::MAIN_SEPARATOR))
}

/// `-x params.yml`: check that it may run and load its parameters into `exp`.
fn load_params<E: Parameters>(exp: &mut E, path: &Path, restart: bool) -> Result<Root, ExperimentError> {
    let rec = RecordFile::load(path)?;
    // An empty or cut params.yml is refused before anything runs or rewrites it (issue 13
    // item 3); extra keys and changed kinds are only reported.
    let declared: Vec<Param> =
        E::parameters().into_iter().map(|i| Param::new(i.name, i.default.clone(), i.help_line())).collect();
    let by = format!("{} (see its --help)", E::NAME);
    let checked = xmen_record::validate::check(&rec, path, &declared, &by, true)?;
    for w in checked.warnings {
        eprintln!("WARNING: {w}");
    }
    if !rec.status.can_run(restart) && !super::slurm::restart_may_run(&rec) {
        return Err(ExperimentError::not_runnable(path.to_path_buf(), rec.status));
    }
    for p in &rec.params {
        match exp.set(&p.name, &p.value) {
            Ok(true) => {}
            // Not declared: reported above, and kept in the file.
            Ok(false) => {}
            Err(source) => {
                return Err(ExperimentError::Param { origin: path.display().to_string(), source: Box::new(source) });
            }
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok(Root::open_with(E::NAME, &dir, WriteOpts::default())?)
}

/// `-r PATH`: `defaults.yml` and `script.sh` (`exec` of this binary with
/// `--execute "$1"`, the path made absolute and quoted).
fn to_root<E: Parameters>(record: &Record, path: &Path, cfg: &GlobalConfig) -> Result<(), ExperimentError> {
    std::fs::create_dir_all(path).map_err(|e| RecordError::io("create the folder", path, e))?;
    let mut defaults = record.clone();
    defaults.user = Some(cfg.local_user.clone());
    defaults.host = Some(cfg.local_host.clone());
    defaults.version = Some(version_value::<E>());
    defaults.meta = Some(xmen_record::meta::basic());
    let text = defaults.to_defaults_yaml()?;
    locked_write(&path.join("defaults.yml"), text.as_bytes(), WriteOpts::default(), None)?;
    let exe = std::env::current_exe().map_err(|e| RecordError::io("find the path of", "this executable", e))?;
    let exe = std::path::absolute(&exe).unwrap_or(exe);
    write_script(&path.join("script.sh"), &xmen_record::shell::experiment_script(&exe), WriteOpts::default())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_told_from_yaml() {
        for (t, want) in [("{a: 1}", false), ("params.yml", true), ("dir/x", true), ("a: 1", false)] {
            assert_eq!(looks_like_path(t), want, "{t}");
        }
    }
}

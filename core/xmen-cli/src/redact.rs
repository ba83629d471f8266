//! `xmen redact PATH...`: apply the secrets rule (see `xmen_core::redact`) to records written
//! before it: `_meta.environ` values of secret-looking names, credentials in
//! `_version.git.remote`, and the `variables:` of conda's environment.yml.
//!
//! A folder is searched recursively for params.yml, defaults.yml and environment.yml. Each
//! record is rewritten through the record crate's locked update, and only when something
//! changes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xmen_core::redact::EnvironMode;
use xmen_record::{GlobalConfig, RecordError, RecordFile, WriteOpts};

use crate::Ctx;

/// Arguments of `xmen redact`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  xmen redact ~/exps               # every record under the folder\n  \
xmen redact exps/lr=0.1/params.yml\n  xmen redact --environ none ~/exps   # drop _meta.environ entirely")]
pub struct Args {
    /// Records (params.yml, defaults.yml, environment.yml) or folders to search for them.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// `redacted` (default: the configuration's setting, or `redacted` when that is `all`)
    /// or `none` (remove `_meta.environ`).
    #[arg(long, value_name = "MODE", value_parser = parse_mode)]
    environ: Option<EnvironMode>,
}

fn parse_mode(s: &str) -> Result<EnvironMode, String> {
    match s.parse::<EnvironMode>() {
        Ok(EnvironMode::All) => Err("`all` would redact nothing; use `redacted` or `none`".to_owned()),
        Ok(m) => Ok(m),
        Err(e) => Err(e.to_string()),
    }
}

/// A validated `xmen redact` command.
#[derive(Debug)]
pub struct Cmd {
    paths: Vec<PathBuf>,
    environ: Option<EnvironMode>,
}

impl Args {
    /// Check the arguments (no disk I/O).
    pub fn validate(self) -> Cmd {
        Cmd { paths: self.paths, environ: self.environ }
    }
}

const RECORD_FILES: [&str; 3] = ["params.yml", "defaults.yml", "environment.yml"];

fn is_record_file(p: &Path) -> bool {
    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| RECORD_FILES.contains(&n))
}

/// Every record file under `dir` (symbolic links are not followed).
fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(format!("cannot list {}: {e}", dir.display()));
            return;
        }
    };
    let mut children: Vec<_> = entries.filter_map(Result::ok).collect();
    children.sort_by_key(|e| e.file_name());
    for e in children {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, out, errors),
            Ok(t) if t.is_file() && is_record_file(&p) => out.push(p),
            _ => {}
        }
    }
}

/// Redact one file; returns how many values changed.
fn redact_file(path: &Path, mode: EnvironMode) -> Result<usize, RecordError> {
    if path.file_name().is_some_and(|n| n == "environment.yml") {
        let text = std::fs::read_to_string(path).map_err(|e| RecordError::io("read", path, e))?;
        let clean = xmen_record::redact::conda_variables(&text, mode);
        if clean == text {
            return Ok(0);
        }
        xmen_record::locked_write(path, clean.as_bytes(), WriteOpts::default(), None)?;
        return Ok(1);
    }
    let mut probe = RecordFile::load(path)?;
    if xmen_record::redact::record(&mut probe, mode) == 0 {
        return Ok(0);
    }
    RecordFile::update(path, WriteOpts::default(), |r| Ok::<_, RecordError>(xmen_record::redact::record(r, mode)))
}

/// Run a validated `xmen redact` command.
pub fn execute(cmd: Cmd, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let mode = match cmd.environ {
        Some(m) => m,
        None => match GlobalConfig::load(&ctx.config_dir)?.environ {
            EnvironMode::All => EnvironMode::Redacted,
            m => m,
        },
    };
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in &cmd.paths {
        if p.is_dir() {
            let before = files.len();
            walk(p, &mut files, &mut errors);
            if files.len() == before {
                errors.push(format!(
                    "{} holds no params.yml, defaults.yml or environment.yml; give a set, an experiment folder or a record",
                    p.display()
                ));
            }
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            errors.push(format!("{} does not exist; give a set, an experiment folder or a record file", p.display()));
        }
    }
    let (mut changed_files, mut values) = (0usize, 0usize);
    for f in &files {
        match redact_file(f, mode) {
            Ok(0) => {}
            Ok(n) => {
                changed_files += 1;
                values += n;
                println!("Redacted {n} value{} in {}", if n == 1 { "" } else { "s" }, f.display());
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    println!(
        "{} file(s) checked, {changed_files} rewritten, {values} value(s) redacted (environ: {mode})",
        files.len()
    );
    if errors.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        anyhow::bail!("{} path(s) could not be redacted:\n{}", errors.len(), crate::ui::bullet_list(&errors, 20))
    }
}

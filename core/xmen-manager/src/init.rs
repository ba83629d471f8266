//! `xmen init`: make a folder an experiment set.
//!
//! The defaults and the script come either from an experiment binary, which writes them itself
//! through the single-experiment command line (`BIN --to-root DIR [-u YAML]`), or
//! from a `defaults.yml` and a `script.sh` of any language, copied into the root. The
//! "already initialised" check runs before anything is generated or copied (the original wrote first), and
//! every input is checked before the first file is written.

use std::path::{Path, PathBuf};
use std::process::Command;

use xmen_core::pyfmt;
use xmen_record::{Record, WriteOpts};

use crate::error::{ManagerError, Result};
use crate::set::{absolute, same_folder};
use crate::setfile::{SetFile, DEFAULTS_FILE, EXPERIMENT_FILE, SCRIPT_FILE};

/// Where a new set's defaults and script come from.
#[derive(Clone, Debug)]
pub enum InitSource {
    /// An executable implementing the single-experiment command line.
    Binary {
        /// The executable.
        program: PathBuf,
        /// New defaults, passed as `-u YAML`.
        updates: Option<String>,
    },
    /// Files of any language; `None` means the one already in the root.
    Files {
        /// A defaults.yml to copy into the root.
        defaults: Option<PathBuf>,
        /// A script.sh to copy into the root.
        script: Option<PathBuf>,
    },
}

/// What `xmen init` does.
#[derive(Clone, Debug)]
pub struct InitOpts {
    /// The set root (created when missing).
    pub root: PathBuf,
    /// Where the defaults and script come from.
    pub source: InitSource,
    /// The purpose of the set.
    pub purpose: String,
    /// The registered experiment's name, recorded as `type`.
    pub kind: Option<String>,
}

/// What `xmen init` did.
#[derive(Clone, Debug)]
pub struct InitReport {
    /// The set root (absolute).
    pub root: PathBuf,
    /// Where the defaults came from.
    pub defaults_from: PathBuf,
    /// Where the script came from.
    pub script_from: PathBuf,
}

/// [`ManagerError::AlreadyInitialised`] when `root` already holds experiment.yml.
pub fn check_not_initialised(root: &Path) -> Result<()> {
    let root = absolute(root)?;
    let file = root.join(EXPERIMENT_FILE);
    if file.exists() {
        return Err(ManagerError::AlreadyInitialised { root, file });
    }
    Ok(())
}

fn source_file(given: &Option<PathBuf>, root: &Path, name: &str, what: &'static str, flag: &str) -> Result<PathBuf> {
    match given {
        Some(p) => {
            let p = absolute(p)?;
            if !p.is_file() {
                return Err(ManagerError::MissingFile {
                    what,
                    path: p,
                    hint: format!("check the path given to `{flag}`"),
                });
            }
            Ok(p)
        }
        None => {
            let p = root.join(name);
            if !p.is_file() {
                return Err(ManagerError::MissingFile {
                    what,
                    path: p,
                    hint: format!(
                        "give one with `{flag} PATH` (it is copied into the root), put a {name} in {} by hand, \
                         or initialise from an experiment binary with `-n NAME`",
                        root.display()
                    ),
                });
            }
            Ok(p)
        }
    }
}

fn copy_into(from: &Path, to: &Path) -> Result<()> {
    if !same_folder(from, to) {
        std::fs::copy(from, to).map_err(|e| ManagerError::io("copy into the set", from, e))?;
    }
    Ok(())
}

/// Run `program --to-root root [-u updates]`, its output going to ours.
fn generate(program: &Path, root: &Path, updates: Option<&str>) -> Result<()> {
    let mut cmd = Command::new(program);
    cmd.arg("--to-root").arg(root);
    if let Some(u) = updates {
        cmd.arg("-u").arg(u);
    }
    let shown = format!(
        "{} --to-root {}{}",
        program.display(),
        root.display(),
        updates.map(|u| format!(" -u '{u}'")).unwrap_or_default()
    );
    let status = cmd.status().map_err(|e| ManagerError::Program {
        program: program.display().to_string(),
        reason: format!("{e}; give the path of an executable that implements the single-experiment command line"),
    })?;
    if !status.success() {
        return Err(ManagerError::Child {
            command: shown,
            status: status.to_string(),
            hint: "; see its message above, and check that it implements `--to-root DIR`".into(),
        });
    }
    Ok(())
}

/// Initialise the set (see the module docs).
pub fn init(opts: &InitOpts) -> Result<InitReport> {
    let root = absolute(&opts.root)?;
    check_not_initialised(&root)?;
    let defaults = root.join(DEFAULTS_FILE);
    let script = root.join(SCRIPT_FILE);
    let (defaults_from, script_from) = match &opts.source {
        InitSource::Binary { program, updates } => {
            let created = !root.exists();
            std::fs::create_dir_all(&root).map_err(|e| ManagerError::io("create the folder", &root, e))?;
            if let Err(e) = generate(program, &root, updates.as_deref()) {
                if created {
                    let _ = std::fs::remove_dir(&root); // only when still empty
                }
                return Err(e);
            }
            for (p, what) in [(&defaults, "the defaults file"), (&script, "the script")] {
                if !p.is_file() {
                    return Err(ManagerError::MissingFile {
                        what,
                        path: p.clone(),
                        hint: format!(
                            "{} did not write it; check that it implements `--to-root DIR`",
                            program.display()
                        ),
                    });
                }
            }
            Record::load(&defaults)?;
            (program.clone(), program.clone())
        }
        InitSource::Files { defaults: d, script: s } => {
            let d = source_file(d, &root, DEFAULTS_FILE, "the defaults file", "-d/--defaults")?;
            let s = source_file(s, &root, SCRIPT_FILE, "the script", "-s/--script")?;
            Record::load(&d)?; // a broken defaults file is refused before anything is written
            std::fs::create_dir_all(&root).map_err(|e| ManagerError::io("create the folder", &root, e))?;
            copy_into(&d, &defaults)?;
            copy_into(&s, &script)?;
            (d, s)
        }
    };
    let set = SetFile::new(&root, pyfmt::now_stamp(), opts.purpose.clone(), opts.kind.clone());
    let file = root.join(EXPERIMENT_FILE);
    // Created under the lock and only when absent, so two concurrent inits cannot both win.
    xmen_record::store::update_text(&file, WriteOpts::default(), |current| match current {
        Some(_) => Err(ManagerError::AlreadyInitialised { root: root.clone(), file: file.clone() }),
        None => Ok((Some(set.to_yaml()?), ())),
    })?;
    Ok(InitReport { root, defaults_from, script_from })
}

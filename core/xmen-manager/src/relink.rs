//! `xmen relink` and `xmen move` (the original's `relink` crashed without `--recursive`).
//!
//! After a set is moved (`mv set set-2 && xmen relink -r set-2`), *replanting* rewrites
//! everything that named the old place: the paths in experiment.yml, `_root` in each params.yml
//! (each experiment's own folder, not the set root as the original wrote), the `exec` line of
//! each run.sh, mentions of the old root in script.sh, and the global `linked` list. With
//! `--recursive` every set below the folder is replanted and loose experiment folders are
//! fixed and linked too. `relink -e PATTERN` instead adopts unmanaged experiment folders whose
//! parameters fit the defaults.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use xmen_record::{write_script, GlobalConfig, Record, RecordError, RecordFile, WriteOpts};

use crate::error::{ManagerError, Result};
use crate::heal;
use crate::register::link_all;
use crate::scripts::{rewrite_run_sh, rewrite_script, run_sh, ScriptRewrite, DEFAULT_SHELL};
use crate::select::Pattern;
use crate::set::{absolute, diff_overrides, same_folder, ExperimentSet};
use crate::setfile::{Entry, DEFAULTS_FILE, EXPERIMENT_FILE, RUN_FILE, SCRIPT_FILE};

/// What replanting one set did.
#[derive(Clone, Debug, Default)]
pub struct Replanted {
    /// The set root now.
    pub root: PathBuf,
    /// Where experiment.yml said it was.
    pub old_root: PathBuf,
    /// The experiments found and fixed.
    pub fixed: Vec<PathBuf>,
    /// Managed experiments whose folder is not there (kept in experiment.yml).
    pub missing: Vec<PathBuf>,
    /// The set's script.sh when it is the user's own and names the old root: xmen does not
    /// edit a script it did not write, so the user should check it.
    pub foreign_script: Option<PathBuf>,
}

/// What `xmen relink` (without `-e`) did.
#[derive(Clone, Debug, Default)]
pub struct RelinkReport {
    /// Each set replanted.
    pub sets: Vec<Replanted>,
    /// Loose experiment folders (outside any set) fixed and linked (`--recursive`).
    pub loose: Vec<PathBuf>,
}

/// Where an experiment path of the old root lives under the new root.
fn moved_path(p: &Path, old_root: &Path, new_root: &Path) -> PathBuf {
    match p.strip_prefix(old_root) {
        Ok(rel) => new_root.join(rel),
        Err(_) => p.to_path_buf(),
    }
}

/// Point a record's `_root` at its own folder; rewrite its run.sh for the set's script.sh.
fn fix_experiment(folder: &Path, script: Option<&Path>, header: &str) -> Result<()> {
    let params = RecordFile::path_in(folder);
    let want = folder.display().to_string();
    RecordFile::update(&params, WriteOpts::default(), |r| {
        r.root = Some(want);
        Ok::<_, RecordError>(())
    })?;
    if let Some(script) = script {
        let run = folder.join(RUN_FILE);
        let text = match std::fs::read_to_string(&run) {
            Ok(old) => rewrite_run_sh(&old, header, script, &params),
            Err(_) => run_sh(header, DEFAULT_SHELL, script, &params),
        };
        if std::fs::read_to_string(&run).ok().as_deref() != Some(text.as_str()) {
            write_script(&run, &text, WriteOpts::default())?;
        }
    }
    Ok(())
}

/// Replant one set. Its journal (and those of dead replantings of it, whose old roots are
/// added to `old_roots`) go into `journals`, to remove once `linked` is updated.
fn replant_one(
    root: &Path,
    header: &str,
    journals: &mut Vec<PathBuf>,
    old_roots: &mut Vec<PathBuf>,
) -> Result<Replanted> {
    let set = ExperimentSet::open_unchecked(root)?;
    let new_root = set.root().to_path_buf();
    let old_root = set.file().root.clone();
    let dead = heal::dead_relinks(&new_root, &old_root);
    journals.extend(dead.journals);
    old_roots.extend(dead.old_roots);
    journals.push(heal::RelinkJournal::begin(&new_root, &old_root, &new_root)?.path().to_path_buf());
    let script = new_root.join(SCRIPT_FILE);
    let mut report = Replanted { root: new_root.clone(), old_root: old_root.clone(), ..Replanted::default() };
    if let Ok(old) = std::fs::read_to_string(&script) {
        match rewrite_script(&old, &old_root, &new_root) {
            ScriptRewrite::Regenerated(new) => write_script(&script, &new, WriteOpts::default())?,
            ScriptRewrite::Foreign => report.foreign_script = Some(script.clone()),
            ScriptRewrite::Unchanged => {}
        }
    }
    let (fixed, missing) = set.update(false, |file| {
        let mut fixed = Vec::new();
        let mut missing = Vec::new();
        file.root = new_root.clone();
        file.defaults = new_root.join(DEFAULTS_FILE);
        file.script = script.clone();
        for e in &mut file.entries {
            e.path = moved_path(&e.path, &old_root, &new_root);
            if RecordFile::path_in(&e.path).is_file() {
                fix_experiment(&e.path, Some(&script), header)?;
                fixed.push(e.path.clone());
            } else {
                missing.push(e.path.clone());
            }
        }
        Ok((fixed, missing))
    })?;
    report.fixed = fixed;
    report.missing = missing;
    Ok(report)
}

/// Sets (folders with experiment.yml) and loose experiment folders (params.yml) below `dir`.
fn walk(dir: &Path, sets: &mut Vec<PathBuf>, loose: &mut Vec<PathBuf>) -> Result<()> {
    if dir.join(EXPERIMENT_FILE).is_file() {
        sets.push(dir.to_path_buf());
    } else if RecordFile::path_in(dir).is_file() {
        loose.push(dir.to_path_buf());
        return Ok(());
    }
    let rd = std::fs::read_dir(dir).map_err(|e| ManagerError::io("list the folder", dir, e))?;
    let mut subdirs: Vec<PathBuf> =
        rd.filter_map(|e| e.ok()).filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()).collect();
    subdirs.sort();
    for d in subdirs {
        walk(&d, sets, loose)?;
    }
    Ok(())
}

/// Update the global `linked` list after a move: drop entries under `old_roots` whose params.yml
/// is gone, add `folders`.
fn relink_globally(config_dir: &Path, old_roots: &[PathBuf], folders: &[PathBuf]) -> Result<()> {
    GlobalConfig::update(config_dir, |c| {
        c.linked.retain(|l| {
            let p = Path::new(l);
            !old_roots.iter().any(|o| p.starts_with(o)) || RecordFile::path_in(p).is_file()
        });
        Ok::<_, RecordError>(())
    })?;
    link_all(config_dir, folders)
}

/// `xmen relink [-r DIR] [--recursive]`: replant the set at `root` (or, recursively, every set
/// and loose experiment below it).
pub fn replant(root: &Path, recursive: bool, config_dir: &Path) -> Result<RelinkReport> {
    let root = absolute(root)?;
    let header = GlobalConfig::load(config_dir)?.header;
    let mut report = RelinkReport::default();
    let mut journals = Vec::new();
    let mut old_roots = Vec::new();
    if recursive {
        let mut sets = Vec::new();
        let mut loose = Vec::new();
        walk(&root, &mut sets, &mut loose)?;
        if sets.is_empty() && loose.is_empty() {
            return Err(ManagerError::NotASet { root: root.clone(), missing: root.join(EXPERIMENT_FILE) });
        }
        for s in sets {
            report.sets.push(replant_one(&s, &header, &mut journals, &mut old_roots)?);
        }
        let managed: HashSet<&PathBuf> = report.sets.iter().flat_map(|s| s.fixed.iter().chain(&s.missing)).collect();
        for l in loose.into_iter().filter(|l| !managed.contains(l)) {
            fix_experiment(&l, None, &header)?;
            report.loose.push(l);
        }
    } else {
        report.sets.push(replant_one(&root, &header, &mut journals, &mut old_roots)?);
    }
    old_roots.extend(report.sets.iter().filter(|s| !same_folder(&s.old_root, &s.root)).map(|s| s.old_root.clone()));
    let folders: Vec<PathBuf> =
        report.sets.iter().flat_map(|s| s.fixed.iter().cloned()).chain(report.loose.iter().cloned()).collect();
    relink_globally(config_dir, &old_roots, &folders)?;
    heal::finish(&journals);
    Ok(report)
}

/// What `xmen relink -e` did.
#[derive(Clone, Debug, Default)]
pub struct AdoptReport {
    /// Folders now managed.
    pub adopted: Vec<PathBuf>,
    /// Folders whose parameters do not fit the defaults, with the unknown parameters.
    pub incompatible: Vec<(PathBuf, Vec<String>)>,
}

/// `xmen relink -e PATTERN`: manage the unmanaged experiment folders below the root whose names
/// match and whose parameters all exist in the defaults; their overrides are the parameters
/// that differ from the defaults.
pub fn adopt(root: &Path, pattern: &Pattern, config_dir: &Path) -> Result<AdoptReport> {
    let set = ExperimentSet::open(root)?;
    let defaults = Record::load(&set.defaults_path())?;
    let header = GlobalConfig::load(config_dir)?.header;
    let mut sets = Vec::new();
    let mut loose = Vec::new();
    walk(set.root(), &mut sets, &mut loose)?;
    let mut report = AdoptReport::default();
    let mut entries = Vec::new();
    for folder in loose {
        if set.file().manages(&folder) || !pattern.matches(&set.name_of(&folder)) {
            continue;
        }
        let rec = RecordFile::load(&RecordFile::path_in(&folder))?;
        let unknown: Vec<String> =
            rec.params.iter().filter(|p| defaults.param(&p.name).is_none()).map(|p| p.name.clone()).collect();
        if !unknown.is_empty() {
            report.incompatible.push((folder, unknown));
            continue;
        }
        fix_experiment(&folder, Some(&set.script_path()), &header)?;
        entries.push(Entry { path: folder.clone(), overrides: diff_overrides(&defaults, &rec) });
        report.adopted.push(folder);
    }
    if !entries.is_empty() {
        set.update(false, |file| {
            for e in entries {
                if !file.manages(&e.path) {
                    file.entries.push(e);
                }
            }
            Ok(())
        })?;
        link_all(config_dir, &report.adopted)?;
    }
    Ok(report)
}

/// `xmen move`: rename the set at `root` to `dest` (which must not exist), then replant it.
///
/// The replanting's journal is written before the rename and travels with the set, so a move
/// killed at any instant is finished by the next command touching the set (see [`heal`]).
pub fn move_set(root: &Path, dest: &Path, config_dir: &Path) -> Result<RelinkReport> {
    heal::heal_set(&absolute(root)?, config_dir)?;
    let set = ExperimentSet::open(root)?;
    let dest = absolute(dest)?;
    if dest.exists() {
        return Err(ManagerError::io(
            "move the set to",
            &dest,
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "it already exists; choose a new path"),
        ));
    }
    if dest.starts_with(set.root()) {
        return Err(ManagerError::io("move the set to", &dest, std::io::Error::other("it is inside the set itself")));
    }
    let journal = heal::RelinkJournal::begin(set.root(), set.root(), &dest)?;
    std::fs::rename(set.root(), &dest).map_err(|e| {
        let _ = std::fs::remove_file(journal.path());
        let _ = std::fs::remove_dir(set.root().join(heal::PENDING_DIR));
        let hint = if e.kind() == std::io::ErrorKind::CrossesDevices {
            format!("{e} (another file system: `mv` it yourself, then run `xmen relink -r {}`)", dest.display())
        } else {
            e.to_string()
        };
        ManagerError::io("move the set to", &dest, std::io::Error::other(hint))
    })?;
    replant(&dest, false, config_dir)
}

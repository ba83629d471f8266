//! `xmen note`, `reset`, `unlink`, `clean` and `rm`.
//!
//! params.yml is only ever changed through the record crate's locked read-modify-write, so a
//! note or a reset never loses an update a running experiment makes at the same moment.
//! Destructive operations come in two steps, a plan the command line shows and confirms, then
//! the execution; nothing managed by a set is deleted by `clean`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use xmen_record::{GlobalConfig, RecordError, RecordFile, Status, WriteOpts};

use xmen_record::runinfo::{heartbeat_age, RunInfo};

use crate::error::{ManagerError, Result};
use crate::reconcile::Reconciler;
use crate::select::Pattern;
use crate::set::ExperimentSet;
use crate::setfile::EXPERIMENT_FILE;

/// Apply `f` to the params.yml of every experiment `pattern` selects and return those it
/// changed (`f` returns whether it did); every failure is collected
/// ([`ManagerError::Partial`]) rather than stopping at the first.
fn for_each_record(
    root: &Path,
    pattern: &Pattern,
    mut f: impl FnMut(&mut xmen_record::Record) -> Result<bool, RecordError>,
) -> Result<Changed> {
    crate::heal::heal_set(root, &xmen_record::config_dir())?;
    let set = ExperimentSet::open(root)?;
    let selected = pattern.select_in(&set)?;
    let total = selected.len();
    let declared = set.declared();
    let mut done = Vec::with_capacity(total);
    let mut errors = Vec::new();
    for e in selected {
        let path = RecordFile::path_in(&e.path);
        // Validated under the lock, before the change: an incomplete record is never rewritten.
        let res = RecordFile::update(&path, WriteOpts::default(), |r| {
            declared.check(r, &path)?;
            f(r)
        });
        match res {
            Ok(true) => done.push(e.path.clone()),
            Ok(false) => {}
            Err(err) => errors.push(ManagerError::from(err)),
        }
    }
    if errors.is_empty() {
        Ok(Changed { matched: total, changed: done })
    } else {
        Err(ManagerError::Partial { total, errors })
    }
}

/// What a command over the matching experiments did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changed {
    /// How many experiments the pattern matched.
    pub matched: usize,
    /// The experiments changed, in set order.
    pub changed: Vec<PathBuf>,
}

/// `xmen note`: add `message` (trimmed) to the notes of every matching experiment, or with
/// `remove` delete its exact occurrence (`changed` then lists only the experiments that had it).
pub fn note(root: &Path, pattern: &Pattern, message: &str, remove: bool) -> Result<Changed> {
    let message = message.trim();
    for_each_record(root, pattern, |r| Ok(r.note(message, remove)))
}

/// `xmen reset`: set the status of every matching experiment (validated by its type: one
/// of the eleven statuses), moving its previous attempt (status, timestamps, messages, error, `_end`) into its
/// `_attempts` history. No server is involved, so nothing can crash after the write (the original's did,
/// without a server account).
pub fn reset(root: &Path, pattern: &Pattern, status: Status) -> Result<Changed> {
    for_each_record(root, pattern, |r| {
        r.archive_attempt();
        r.set_status(status);
        Ok(true)
    })
}

/// The statuses `xmen run --retry` runs again.
pub const RETRY: [Status; 4] = [Status::Error, Status::Stopped, Status::Timeout, Status::Lost];

/// `xmen run --retry`: reset to `registered` the matching experiments whose status is one of
/// [`RETRY`], or `running` with their process gone (`lost`), archiving their previous attempt.
/// Returns those reset.
pub fn reset_failed(root: &Path, pattern: &Pattern) -> Result<Changed> {
    let mut judge = Reconciler::new();
    for_each_record(root, pattern, |r| {
        let status = if r.status == Status::Running { judge.judge(r).status } else { r.status };
        if !RETRY.contains(&status) {
            return Ok(false);
        }
        r.archive_attempt();
        r.set_status(Status::Registered);
        Ok(true)
    })
}

/// `xmen unlink`: stop managing the matching experiments (their folders stay; their overrides
/// leave with them). Returns the experiments unlinked.
pub fn unlink(root: &Path, pattern: &Pattern) -> Result<Vec<PathBuf>> {
    crate::heal::heal_set(root, &xmen_record::config_dir())?;
    let set = ExperimentSet::open(root)?;
    let chosen: HashSet<PathBuf> = pattern.select_in(&set)?.into_iter().map(|e| e.path.clone()).collect();
    set.update(false, |file| {
        file.entries.retain(|e| !chosen.contains(&e.path));
        Ok(())
    })?;
    let mut out: Vec<PathBuf> = chosen.into_iter().collect();
    out.sort();
    Ok(out)
}

/// Folders below `dir` holding a params.yml that the set does not manage. Managed experiments
/// and nested sets (folders with their own experiment.yml) are not entered, so `clean` never
/// touches another set's experiments.
fn unmanaged(dir: &Path, managed: &HashSet<PathBuf>, out: &mut Vec<PathBuf>) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| ManagerError::io("list the folder", dir, e))?;
    let mut subdirs: Vec<PathBuf> =
        rd.filter_map(|e| e.ok()).filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()).collect();
    subdirs.sort();
    for d in subdirs {
        if managed.contains(&d) || d.join(EXPERIMENT_FILE).exists() {
            continue;
        }
        if RecordFile::path_in(&d).is_file() {
            out.push(d);
        } else {
            unmanaged(&d, managed, out)?;
        }
    }
    Ok(())
}

/// What `xmen clean` would delete: experiment folders under the root that are no longer managed
/// (exact paths, resolved against the root, never the cwd, never a suffix match).
pub fn clean_plan(root: &Path) -> Result<Vec<PathBuf>> {
    // A killed registration's folders are adopted, not offered for deletion.
    crate::heal::heal_set(root, &xmen_record::config_dir())?;
    let set = ExperimentSet::open(root)?;
    let managed: HashSet<PathBuf> = set.entries().iter().map(|e| e.path.clone()).collect();
    let mut out = Vec::new();
    unmanaged(set.root(), &managed, &mut out)?;
    Ok(out)
}

/// A run that is alive in a folder about to be deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRun {
    /// The experiment folder.
    pub folder: PathBuf,
    /// How we know (`process 123 on vm is alive`, `heartbeat 4 s ago`).
    pub why: String,
}

impl std::fmt::Display for LiveRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.folder.display(), self.why)
    }
}

/// Every run alive in `folders` or below them (issue 13 item 6): a record saying `running`
/// whose process is alive on this host (same pid, start time and boot id), or whose heartbeat
/// is fresh, or that nothing can tell is gone (see [`crate::reconcile`]).
pub fn live_runs(folders: &[PathBuf]) -> Vec<LiveRun> {
    let mut judge = Reconciler::new();
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = folders.to_vec();
    while let Some(d) = stack.pop() {
        let params = RecordFile::path_in(&d);
        if let Ok(rec) = RecordFile::load(&params) {
            if rec.status == Status::Running && judge.judge(&rec).status == Status::Running {
                out.push(LiveRun { folder: d.clone(), why: liveness(&rec) });
            }
        }
        if let Ok(rd) = std::fs::read_dir(&d) {
            stack.extend(rd.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()));
        }
    }
    out.sort_by(|a, b| a.folder.cmp(&b.folder));
    out
}

fn liveness(rec: &xmen_record::Record) -> String {
    let info = RunInfo::of(rec);
    if let Some(i) = &info {
        if i.process_alive_here() == Some(true) {
            return format!("process {} on {} is alive", i.pid, i.host);
        }
    }
    match (heartbeat_age(rec), &info) {
        (Some(age), Some(i)) => format!("heartbeat {} s ago from process {} on {}", age.as_secs(), i.pid, i.host),
        (Some(age), None) => format!("heartbeat {} s ago", age.as_secs()),
        _ => "recorded running; its process cannot be checked from here".to_owned(),
    }
}

fn refuse_live(folders: &[PathBuf], force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    let live = live_runs(folders);
    if live.is_empty() {
        Ok(())
    } else {
        Err(ManagerError::Live { runs: live.iter().map(ToString::to_string).collect() })
    }
}

/// Delete the folders of a [`clean_plan`], re-checking that each is still unmanaged and that
/// no run in them is alive (unless `force`), then drop linked entries that no longer exist.
/// Returns the folders deleted.
pub fn clean(root: &Path, plan: &[PathBuf], config_dir: &Path, force: bool) -> Result<Vec<PathBuf>> {
    let set = ExperimentSet::open(root)?;
    refuse_live(plan, force)?;
    let mut deleted = Vec::new();
    for d in plan {
        if set.file().manages(d) || !d.starts_with(set.root()) {
            continue; // registered again (or moved) since the plan was shown
        }
        std::fs::remove_dir_all(d).map_err(|e| ManagerError::io("delete", d, e))?;
        deleted.push(d.clone());
    }
    remove_linked(config_dir, &deleted)?;
    Ok(deleted)
}

/// What `xmen rm` would delete: the set root, and its managed experiments (for the summary).
pub fn rm_plan(root: &Path) -> Result<ExperimentSet> {
    ExperimentSet::open_unchecked(root)
}

/// Delete a whole set, unless a run in it is alive (and not `force`), then drop its
/// experiments from the global `linked` list.
pub fn rm(set: &ExperimentSet, config_dir: &Path, force: bool) -> Result<()> {
    let root = set.root();
    refuse_live(&[root.to_path_buf()], force)?;
    std::fs::remove_dir_all(root).map_err(|e| ManagerError::io("delete", root, e))?;
    let root_text = root.display().to_string();
    GlobalConfig::update(config_dir, |c| {
        c.linked.retain(|l| !(Path::new(l).starts_with(&root_text)));
        Ok::<_, RecordError>(())
    })?;
    Ok(())
}

/// Remove `folders` from the global `linked` list (one locked write).
pub fn remove_linked(config_dir: &Path, folders: &[PathBuf]) -> Result<usize> {
    if folders.is_empty() {
        return Ok(0);
    }
    Ok(GlobalConfig::unlink(config_dir, folders)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::{init, InitOpts, InitSource};
    use crate::register::{register, RegisterOpts};

    #[test]
    fn clean_plans_only_unmanaged_experiments_and_never_enters_nested_sets() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| ManagerError::io("tempdir", "/tmp", e))?;
        let base = t.path();
        let write = |p: &Path, text: &str| std::fs::write(p, text).map_err(|e| ManagerError::io("write", p, e));
        write(&base.join("defaults.yml"), "a: 1\n")?;
        write(&base.join("script.sh"), "echo $1\n")?;
        let files =
            InitSource::Files { defaults: Some(base.join("defaults.yml")), script: Some(base.join("script.sh")) };
        let root = base.join("set");
        init(&InitOpts { root: root.clone(), source: files.clone(), purpose: String::new(), kind: None })?;
        let mut opts = RegisterOpts::new(&root, base.join("cfg"));
        opts.sweep = Some("{a: 1 | 2 | 3}".parse()?);
        let r = register(&opts)?;
        assert_eq!(r.folders.len(), 3);
        let gone = unlink(&root, &Pattern::new("a=2"))?;
        assert_eq!(gone, [root.join("a=2")]);
        // a set nested inside the set, with its own experiment: not ours to clean
        init(&InitOpts { root: root.join("inner"), source: files, purpose: String::new(), kind: None })?;
        let mut inner = RegisterOpts::new(root.join("inner"), base.join("cfg"));
        inner.name = Some("x".into());
        register(&inner)?;
        // a loose experiment folder deeper down is found
        std::fs::create_dir_all(root.join("deep/e")).map_err(|e| ManagerError::io("mkdir", &root, e))?;
        write(&root.join("deep/e/params.yml"), "a: 5\n")?;
        let plan = clean_plan(&root)?;
        assert_eq!(plan, [root.join("a=2"), root.join("deep/e")]);
        let deleted = clean(&root, &plan, &base.join("cfg"), false)?;
        assert_eq!(deleted, plan);
        assert!(root.join("a=1/params.yml").exists() && root.join("inner/x/params.yml").exists());
        let linked = GlobalConfig::load(&base.join("cfg"))?.linked;
        assert!(!linked.contains(&root.join("a=2").display().to_string()), "{linked:?}");
        Ok(())
    }
}

//! Killed registrations heal (issue 13 item 4).
//!
//! `xmen register` writes many folders under the lock of experiment.yml, then experiment.yml,
//! then (after the lock) the global `linked` list. Killed half way it used to leave folders the
//! set did not know, half-written folders, and runs missing from `linked`.
//!
//! **Key design choice: an intent journal, replayed by the next command.** Before its first
//! folder, a registration writes `{root}/.xmen-pending/{pid}.{start}` (atomically) naming every
//! folder it will create; it deletes the journal once experiment.yml and `linked` hold them all.
//! Each folder's run.sh is written last and ends with a known line, so a folder with a whole
//! run.sh and a params.yml is complete. The next command touching the set ([`heal`], under the
//! lock of experiment.yml) replays every journal whose writer is dead: a complete folder is
//! adopted (with the overrides its params.yml shows against defaults.yml) and linked, any
//! other folder it names (created by that registration's `mkdir`, so nobody else's) is
//! removed, and the journal goes. A set
//! without a pending folder costs one failed `read_dir`.
//!
//! `xmen relink` and `xmen move` use the same journal. Before changing anything, replanting a
//! set writes `{root}/.xmen-pending/{pid}.{start}.relink` naming the root experiment.yml
//! recorded and the root the set is being replanted at; `move` writes it before renaming the
//! set, so the journal travels with the folder. Replanting is idempotent, so the repair of a
//! dead one is to replant again ([`crate::relink::replant`], which also drops the old paths
//! from `linked`); a `move` killed before its rename left the set where it was and its journal
//! is simply dropped. `xmen unlink` needs no journal: its one write is experiment.yml's atomic
//! rename, so a kill leaves the set before or after it (the kill-loop tests check all four).

use std::path::{Path, PathBuf};

use xmen_record::runinfo::process_start;
use xmen_record::{Record, RecordFile};

use crate::error::{ManagerError, Result};
use crate::set::recover_overrides;
use crate::setfile::{Entry, SetFile};

/// The folder of pending registrations, inside the set root.
pub const PENDING_DIR: &str = ".xmen-pending";

/// A registration in progress.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
}

fn host() -> String {
    xmen_record::meta::host_name()
}

impl Journal {
    /// Record that this process is about to create `names` under `root`.
    pub fn begin(root: &Path, names: &[String]) -> Result<Journal> {
        let dir = root.join(PENDING_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| ManagerError::io("create the folder", &dir, e))?;
        let pid = std::process::id();
        let start = process_start(pid).unwrap_or(0);
        let path = dir.join(format!("{pid}.{start}"));
        let mut text = format!("{}\n", host());
        for n in names {
            text.push_str(n);
            text.push('\n');
        }
        xmen_record::atomic_write(&path, text.as_bytes(), xmen_record::WriteOpts::default(), None)?;
        Ok(Journal { path })
    }

    /// Everything was recorded and linked: forget the journal.
    pub fn done(self) {
        let _ = std::fs::remove_file(&self.path);
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::remove_dir(dir); // only when empty
        }
    }
}

/// The suffix of a relink (or move) journal's name.
const RELINK_SUFFIX: &str = ".relink";

/// A replanting (`xmen relink` or `xmen move`) in progress.
#[derive(Debug)]
pub struct RelinkJournal {
    path: PathBuf,
}

impl RelinkJournal {
    /// Record that this process replants the set in `dir` (its current folder), whose
    /// experiment.yml says `old_root`, at `new_root`. Written again by the same process (a
    /// move, then its replant), it is the same file.
    pub fn begin(dir: &Path, old_root: &Path, new_root: &Path) -> Result<RelinkJournal> {
        let pending = dir.join(PENDING_DIR);
        std::fs::create_dir_all(&pending).map_err(|e| ManagerError::io("create the folder", &pending, e))?;
        let pid = std::process::id();
        let start = process_start(pid).unwrap_or(0);
        let path = pending.join(format!("{pid}.{start}{RELINK_SUFFIX}"));
        let text = format!("{}\n{}\n{}\n", host(), old_root.display(), new_root.display());
        xmen_record::atomic_write(&path, text.as_bytes(), xmen_record::WriteOpts::default(), None)?;
        Ok(RelinkJournal { path })
    }

    /// The journal file (removed with [`finish`] once experiment.yml, the records, the
    /// scripts and `linked` all name the new place).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What dead replantings left in the set at `root`.
#[derive(Debug, Default)]
pub struct DeadRelinks {
    /// Journals to remove once the set is replanted and linked.
    pub journals: Vec<PathBuf>,
    /// Roots the set was recorded at or moving to, other than `root`: `linked` entries under
    /// them whose params.yml is gone are dropped.
    pub old_roots: Vec<PathBuf>,
    /// Whether the set must be replanted (a move killed before its rename needs nothing).
    pub replant: bool,
}

/// The journals of dead replantings of the set at `root`, whose experiment.yml records
/// `recorded` as its root.
pub fn dead_relinks(root: &Path, recorded: &Path) -> DeadRelinks {
    let mut out = DeadRelinks::default();
    let Ok(entries) = std::fs::read_dir(root.join(PENDING_DIR)) else { return out };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !name.ends_with(RELINK_SUFFIX) {
            continue;
        }
        let path = e.path();
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let mut lines = text.lines();
        let journal_host = lines.next().unwrap_or_default();
        if writer_alive(&name, journal_host) {
            continue;
        }
        let (old, new) = (lines.next().map(PathBuf::from), lines.next().map(PathBuf::from));
        let here = |p: &Path| crate::set::same_folder(p, root);
        // A move killed before its rename: nothing changed.
        let untouched = old.as_deref().is_some_and(here) && here(recorded);
        if !untouched {
            out.replant = true;
            for p in [old, new].into_iter().flatten() {
                if !here(&p) && !out.old_roots.contains(&p) {
                    out.old_roots.push(p);
                }
            }
        }
        out.journals.push(path);
    }
    out
}

/// What [`heal`] repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Healed {
    /// Complete folders added to experiment.yml.
    pub adopted: Vec<PathBuf>,
    /// Complete folders of dead registrations, to (re)link: `linked` may lack them.
    pub to_link: Vec<PathBuf>,
    /// Half-written folders removed.
    pub removed: Vec<PathBuf>,
}

impl Healed {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.to_link.is_empty() && self.removed.is_empty()
    }
}

/// Whether the writer of journal `name` (`{pid}.{start}`, written on `host`) may still run.
fn writer_alive(name: &str, journal_host: &str) -> bool {
    if journal_host != host() {
        return true; // cannot tell from here: leave it to a command on that host
    }
    let mut it = name.split('.');
    let (Some(pid), Some(start)) = (it.next().and_then(|p| p.parse::<u32>().ok()), it.next()) else { return false };
    match process_start(pid) {
        Some(now) => now.to_string() == start,
        None => false,
    }
}

/// Replay the journals of dead registrations of the set at `root` into `file` (its
/// experiment.yml, held under its lock by the caller). The caller links [`Healed::to_link`]
/// after writing `file`, then calls [`finish`].
pub fn heal(root: &Path, file: &mut SetFile, defaults: Option<&Record>) -> Result<(Healed, Vec<PathBuf>)> {
    let dir = root.join(PENDING_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok((Healed::default(), Vec::new())) };
    let mut healed = Healed::default();
    let mut journals = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(RELINK_SUFFIX) {
            continue; // a journal being written (its temporary file), or a replanting's
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let mut lines = text.lines();
        let journal_host = lines.next().unwrap_or_default();
        if writer_alive(&name, journal_host) {
            continue;
        }
        for folder in lines.filter(|l| !l.is_empty()) {
            let d = root.join(folder);
            if RecordFile::path_in(&d).is_file() && crate::scripts::run_sh_whole(&d.join(crate::setfile::RUN_FILE)) {
                if !file.manages(&d) {
                    let overrides = defaults.and_then(|def| recover_overrides(def, &d)).unwrap_or_default();
                    file.entries.push(Entry { path: d.clone(), overrides });
                    healed.adopted.push(d.clone());
                }
                healed.to_link.push(d);
            } else if d.is_dir() {
                std::fs::remove_dir_all(&d).map_err(|e| ManagerError::io("remove the half-written folder", &d, e))?;
                healed.removed.push(d);
            }
        }
        journals.push(path);
    }
    Ok((healed, journals))
}

/// Remove replayed journals (after experiment.yml and `linked` hold their folders).
pub fn finish(journals: &[PathBuf]) {
    for j in journals {
        let _ = std::fs::remove_file(j);
    }
    for j in journals {
        if let Some(dir) = j.parent() {
            let _ = std::fs::remove_dir(dir); // only when empty
        }
    }
}

/// Remove from the pending folder `dir` the temporary files of journals whose writer died
/// before renaming them (`.{pid}.{start}….tmp`, judged by the pid and start time in the name,
/// once older than a second), then the folder itself when empty. Returns whether it is gone.
fn sweep_pending(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return true };
    let mut left = false;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(inner) = name.strip_prefix('.') else {
            left = true;
            continue;
        };
        let age = e.metadata().ok().and_then(|m| m.modified().ok()).and_then(|t| t.elapsed().ok()).unwrap_or_default();
        let abandoned = age >= std::time::Duration::from_secs(600)
            || (age >= std::time::Duration::from_secs(1) && !writer_alive(inner, &host()));
        if !(abandoned && std::fs::remove_file(e.path()).is_ok()) {
            left = true;
        }
    }
    !left && std::fs::remove_dir(dir).is_ok()
}

/// Heal the set at `root` if a dead registration left anything (a no-op costing one
/// `read_dir` otherwise); returns what was repaired.
pub fn heal_set(root: &Path, config_dir: &Path) -> Result<Healed> {
    let dir = root.join(PENDING_DIR);
    if !dir.exists() || sweep_pending(&dir) {
        return Ok(Healed::default());
    }
    // A replanting killed half way first: until it is redone, experiment.yml may name the
    // place the set was moved from.
    let unchecked = crate::set::ExperimentSet::open_unchecked(root)?;
    let dead = dead_relinks(unchecked.root(), &unchecked.file().root);
    if dead.replant {
        let r = crate::relink::replant(root, false, config_dir)?;
        for s in &r.sets {
            eprintln!(
                "Repaired what an interrupted `xmen relink` or `xmen move` left: the set {} replanted ({} experiments)",
                s.root.display(),
                s.fixed.len()
            );
        }
    } else {
        finish(&dead.journals);
    }
    if !dir.exists() || sweep_pending(&dir) {
        return Ok(Healed::default());
    }
    let set = crate::set::ExperimentSet::open(root)?;
    let defaults = Record::load(&set.defaults_path()).ok();
    let (healed, journals) = set.update(false, |file| heal(set.root(), file, defaults.as_ref()))?;
    crate::register::link_all(config_dir, &healed.to_link)?;
    finish(&journals);
    if !healed.is_empty() {
        report(&healed);
    }
    Ok(healed)
}

/// Say what was repaired, on stderr.
pub fn report(h: &Healed) {
    if !h.adopted.is_empty() || !h.removed.is_empty() || !h.to_link.is_empty() {
        eprintln!(
            "Repaired what an interrupted `xmen register` left: {} folder(s) adopted, {} linked, {} half-written folder(s) removed",
            h.adopted.len(),
            h.to_link.len(),
            h.removed.len()
        );
    }
}

//! Killed registrations heal (issue 13 item 4).
//!
//! `xmen register` writes many folders under the lock of experiment.yml, then experiment.yml,
//! then (after the lock) the global `linked` list. Killed half way it used to leave folders the
//! set did not know, half-written folders, and runs missing from `linked`.
//!
//! **Key design choice: an intent journal, replayed by the next command.** Before its first
//! folder, a registration writes `{root}/.xmen-pending/{pid}.{start}` (atomically) naming every
//! folder it will create; it deletes the journal once experiment.yml and `linked` hold them all.
//! Each folder's params.yml is written last, by an atomic rename, so a folder with a params.yml
//! is complete. The next command touching the set ([`heal`], under the lock of experiment.yml)
//! replays every journal whose writer is dead: a complete folder is adopted (with the overrides
//! its params.yml shows against defaults.yml) and linked, a folder without params.yml (created
//! by that registration's `mkdir`, so nobody else's) is removed, and the journal goes. A set
//! without a pending folder costs one failed `read_dir`.

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
        if name.starts_with('.') {
            continue; // a journal being written (its temporary file)
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let mut lines = text.lines();
        let journal_host = lines.next().unwrap_or_default();
        if writer_alive(&name, journal_host) {
            continue;
        }
        for folder in lines.filter(|l| !l.is_empty()) {
            let d = root.join(folder);
            if RecordFile::path_in(&d).is_file() {
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
    if let Some(dir) = journals.first().and_then(|j| j.parent()) {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Heal the set at `root` if a dead registration left anything (a no-op costing one
/// `read_dir` otherwise); returns what was repaired.
pub fn heal_set(root: &Path, config_dir: &Path) -> Result<Healed> {
    let dir = root.join(PENDING_DIR);
    if std::fs::read_dir(&dir).map_or(true, |mut d| d.next().is_none()) {
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

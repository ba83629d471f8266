//! The safety of the record (issue item 6): every params.yml write is a locked
//! read-modify-write ending in an atomic rename.
//!
//! A writer takes an advisory exclusive lock on the hidden sibling `.params.yml.lock`, re-reads
//! params.yml, applies its change, writes the result to a temporary file in the same folder,
//! optionally fsyncs it ([`WriteOpts::durable`]), renames it over params.yml (fsyncing the
//! folder when durable) and releases the lock. Readers need no lock: they see either the old or
//! the new file, never a torn one, and two writers (the running experiment, `xmen note`,
//! `xmen reset`, the Messenger) never lose each other's updates. Without `durable` the file
//! survives a killed process; with it, also a power loss.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::error::{RecordError, Result};
use crate::record::Record;

/// TEST ONLY: when this environment variable holds a number of milliseconds, every atomic
/// write sleeps that long just before its rename, so tests can kill a writer at the most
/// dangerous moment. Never set it in production.
pub const PAUSE_BEFORE_RENAME_ENV: &str = "XMEN_TEST_PAUSE_BEFORE_RENAME_MS";

/// The file name of an experiment's record inside its folder.
pub const PARAMS_FILE: &str = "params.yml";

/// How a file is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOpts {
    /// fsync the new file before the rename and the folder after it, so the write also survives
    /// a power loss (slower: see the bench).
    pub durable: bool,
}

impl WriteOpts {
    /// Options with fsync on.
    pub fn durable() -> WriteOpts {
        WriteOpts { durable: true }
    }
}

/// An advisory exclusive lock on `.{name}.lock` beside the file, released when dropped.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

fn lock_file(file: &File, path: &Path) -> Result<()> {
    match file.lock() {
        Ok(()) => Ok(()),
        // A file system without locks (Lustre noflock, some NFS): say so once, write anyway.
        Err(e) if crate::locks::unsupported(&e) => {
            crate::locks::lock_failed(path, &e);
            Ok(())
        }
        Err(e) => Err(RecordError::io("lock", path, e)),
    }
}

impl FileLock {
    /// Block until the lock on `.{name}.lock` is ours (the lock file is created if needed).
    ///
    /// Lock files used to be visible siblings (`params.yml.lock`), which the shell expanded
    /// into unquoted globs (`xmen run * bash`). When such a file is still there (written by an
    /// older xmen), it is locked too, so a writer of that version still excludes us, and then
    /// removed.
    pub fn exclusive(target: &Path) -> Result<FileLock> {
        let path = lock_path(target);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| RecordError::io("create the lock file (beside it) of", target, e))?;
        crate::locks::check_scope(&path);
        lock_file(&file, &path)?;
        let legacy = legacy_lock_path(target);
        if let Ok(old) = OpenOptions::new().write(true).open(&legacy) {
            lock_file(&old, &legacy)?;
            let _ = fs::remove_file(&legacy);
        }
        Ok(FileLock { file, path })
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing the descriptor releases the lock too; unlocking first is explicit.
        let _ = self.file.unlock();
    }
}

/// `params.yml` -> `.params.yml.lock` (hidden: a lock on the file itself would not survive
/// its atomic rename, and a visible sibling shows up in the shell's `*`).
pub fn lock_path(target: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(target.file_name().unwrap_or_default());
    name.push(".lock");
    target.with_file_name(name)
}

/// `params.yml` -> `params.yml.lock`, the lock file of xmen before hidden lock files.
pub fn legacy_lock_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    target.with_file_name(name)
}

fn temp_path(target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// How old a dead writer's temporary file must be before another writer removes it: a write
/// takes milliseconds, so an older file is abandoned.
const ABANDONED_AFTER: Duration = Duration::from_secs(1);
/// Past this age a temporary file is abandoned whoever wrote it (a writer on another host,
/// whose pid cannot be checked from here).
const ABANDONED_ANYWAY: Duration = Duration::from_secs(600);

/// Remove the temporary files of dead writers of `target` (`.params.yml.<pid>.<n>.tmp`), once
/// per target and process (issue 13 item 4). Called under the target's lock, so no live
/// writer that locks can be between writing such a file and its rename.
fn remove_dead_temporaries(target: &Path) {
    static DONE: std::sync::Mutex<Option<std::collections::HashSet<PathBuf>>> = std::sync::Mutex::new(None);
    if let Ok(mut done) = DONE.lock() {
        if !done.get_or_insert_with(Default::default).insert(target.to_path_buf()) {
            return;
        }
    }
    let Some(name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else { return };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = fs::read_dir(dir) else { return };
    let prefix = format!(".{name}.");
    let me = std::process::id();
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix).and_then(|r| r.strip_suffix(".tmp")) else { continue };
        let Some(pid) = rest.split('.').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        let age = e.metadata().ok().and_then(|m| m.modified().ok()).and_then(|t| t.elapsed().ok()).unwrap_or_default();
        let dead = pid != me && !Path::new(&format!("/proc/{pid}")).exists() && Path::new("/proc/self").exists();
        if (dead && age >= ABANDONED_AFTER) || age >= ABANDONED_ANYWAY {
            let _ = fs::remove_file(e.path());
        }
    }
}

fn pause_before_rename() {
    if let Some(ms) = std::env::var(PAUSE_BEFORE_RENAME_ENV).ok().and_then(|s| s.parse::<u64>().ok()) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// Replace `path` with `bytes` atomically: temporary file in the same folder, optional fsync,
/// rename, optional folder fsync. `mode` sets Unix permission bits (e.g. `0o755` for scripts).
///
/// This takes no lock; see [`locked_write`] and [`RecordFile::update`].
pub fn atomic_write(path: &Path, bytes: &[u8], opts: WriteOpts, mode: Option<u32>) -> Result<()> {
    let tmp = temp_path(path);
    let result = (|| -> Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| RecordError::io("create", &tmp, e))?;
        f.write_all(bytes).map_err(|e| RecordError::io("write", &tmp, e))?;
        set_mode(&f, &tmp, mode)?;
        if opts.durable {
            f.sync_all().map_err(|e| RecordError::io("fsync", &tmp, e))?;
        }
        drop(f);
        pause_before_rename();
        fs::rename(&tmp, path).map_err(|e| RecordError::io("rename a temporary file onto", path, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    if opts.durable {
        sync_dir(path)?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(f: &File, path: &Path, mode: Option<u32>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    match mode {
        Some(m) => f
            .set_permissions(fs::Permissions::from_mode(m))
            .map_err(|e| RecordError::io("set the permissions of", path, e)),
        None => Ok(()),
    }
}

#[cfg(not(unix))]
fn set_mode(_: &File, _: &Path, _: Option<u32>) -> Result<()> {
    Ok(())
}

fn sync_dir(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    {
        let d = File::open(dir).map_err(|e| RecordError::io("open the folder", dir, e))?;
        d.sync_all().map_err(|e| RecordError::io("fsync the folder", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// [`atomic_write`] under the lock of `path` (for files written whole, like defaults.yml).
pub fn locked_write(path: &Path, bytes: &[u8], opts: WriteOpts, mode: Option<u32>) -> Result<()> {
    let _lock = FileLock::exclusive(path)?;
    remove_dead_temporaries(path);
    atomic_write(path, bytes, opts, mode)
}

/// Write an executable script (`script.sh`, run.sh): atomic, mode `0755`.
pub fn write_script(path: &Path, text: &str, opts: WriteOpts) -> Result<()> {
    atomic_write(path, text.as_bytes(), opts, Some(0o755))
}

/// Locked read-modify-write of any text file: `f` receives the current text (`None` when the
/// file does not exist) and returns the new text (or `None` to leave the file alone) and a
/// result.
pub fn update_text<T, E: From<RecordError>>(
    path: &Path,
    opts: WriteOpts,
    f: impl FnOnce(Option<String>) -> std::result::Result<(Option<String>, T), E>,
) -> std::result::Result<T, E> {
    let _lock = FileLock::exclusive(path)?;
    remove_dead_temporaries(path);
    let current = match fs::read_to_string(path) {
        Ok(s) => Some(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(RecordError::io("read", path, e).into()),
    };
    let (new, out) = f(current)?;
    if let Some(text) = new {
        atomic_write(path, text.as_bytes(), opts, None)?;
    }
    Ok(out)
}

/// What identifies one version of a file: a writer that replaces it (atomic rename: a new
/// inode) or edits it in place (new mtime/ctime in nanoseconds) changes it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

fn fingerprint(path: &Path) -> Option<Fingerprint> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path).ok()?;
    Some(Fingerprint {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
    })
}

type Cache = std::collections::HashMap<PathBuf, (Fingerprint, Record)>;
static LAST_WRITTEN: std::sync::Mutex<Option<Cache>> = std::sync::Mutex::new(None);

/// The record this process last wrote to `path`, if the file is still exactly that
/// version: it saves re-parsing params.yml on every message of a running experiment.
/// Called under the record's lock, so nobody can replace the file meanwhile.
fn cached(path: &Path) -> Option<Record> {
    let now = fingerprint(path)?;
    let guard = LAST_WRITTEN.lock().ok()?;
    let (fp, rec) = guard.as_ref()?.get(path)?;
    (*fp == now).then(|| rec.clone())
}

fn remember(path: &Path, rec: Record) {
    if let (Some(fp), Ok(mut guard)) = (fingerprint(path), LAST_WRITTEN.lock()) {
        let cache = guard.get_or_insert_with(Cache::new);
        if cache.len() > 64 {
            cache.clear();
        }
        cache.insert(path.to_path_buf(), (fp, rec));
    }
}

/// Reading and writing one experiment's params.yml safely.
#[derive(Debug, Clone, Copy)]
pub struct RecordFile;

impl RecordFile {
    /// `{dir}/params.yml`.
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join(PARAMS_FILE)
    }

    /// Read a params.yml (no lock needed: writes are atomic renames).
    pub fn load(path: &Path) -> Result<Record> {
        Record::load(path)
    }

    /// The locked read-modify-write every writer uses: lock `.params.yml.lock`, re-read
    /// `path`, apply `f`, write the record back atomically (in its own layout), unlock.
    ///
    /// When `f` fails nothing is written and its error is returned.
    pub fn update<T, E: From<RecordError>>(
        path: &Path,
        opts: WriteOpts,
        f: impl FnOnce(&mut Record) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let _lock = FileLock::exclusive(path)?;
        remove_dead_temporaries(path);
        let mut rec = match cached(path) {
            Some(rec) => rec,
            None => Record::load(path)?,
        };
        let out = f(&mut rec)?;
        let text = rec.to_yaml()?;
        atomic_write(path, text.as_bytes(), opts, None)?;
        remember(path, rec);
        Ok(out)
    }

    /// Write a new params.yml for registration; [`RecordError::Exists`] (naming the folder)
    /// when one is already there, so two registrations never take the same folder.
    pub fn write_new(path: &Path, record: &Record, opts: WriteOpts) -> Result<()> {
        let _lock = FileLock::exclusive(path)?;
        if path.exists() {
            return Err(RecordError::Exists {
                path: path.parent().map_or_else(|| path.to_path_buf(), Path::to_path_buf),
            });
        }
        atomic_write(path, record.to_yaml()?.as_bytes(), opts, None)
    }

    /// Overwrite params.yml with `record` under the lock (for a record held in memory by its
    /// only writer; prefer [`RecordFile::update`]).
    pub fn write(path: &Path, record: &Record, opts: WriteOpts) -> Result<()> {
        locked_write(path, record.to_yaml()?.as_bytes(), opts, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Keep;
    use xmen_core::Value;

    #[test]
    fn update_rereads_applies_and_writes_back() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| RecordError::io("tempdir", "/tmp", e))?;
        let path = RecordFile::path_in(dir.path());
        let rec = Record { root: Some(dir.path().display().to_string()), ..Record::default() };
        RecordFile::write_new(&path, &rec, WriteOpts::default())?;
        assert!(matches!(RecordFile::write_new(&path, &rec, WriteOpts::default()), Err(RecordError::Exists { .. })));
        for (i, durable) in [(1, false), (2, true)] {
            RecordFile::update(&path, WriteOpts { durable }, |r| {
                r.message(&[("k".to_owned(), Value::Int(i))], Keep::Latest, None)
            })?;
            assert_eq!(RecordFile::load(&path)?.message_value("k"), Some(&Value::Int(i)));
        }
        // a failing closure writes nothing
        let before = fs::read_to_string(&path).map_err(|e| RecordError::io("read", &path, e))?;
        let res: Result<()> = RecordFile::update(&path, WriteOpts::default(), |r| {
            r.note("lost", false);
            Err(RecordError::Special { name: "_x".into() })
        });
        assert!(res.is_err());
        let after = fs::read_to_string(&path).map_err(|e| RecordError::io("read", &path, e))?;
        assert_eq!(before, after);
        // no temporary files are left behind
        let names: Vec<String> = fs::read_dir(dir.path())
            .map_err(|e| RecordError::io("list", dir.path(), e))?
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn scripts_are_executable() -> Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().map_err(|e| RecordError::io("tempdir", "/tmp", e))?;
        let p = dir.path().join("script.sh");
        write_script(&p, "#!/bin/bash\necho hi", WriteOpts::default())?;
        let mode = fs::metadata(&p).map_err(|e| RecordError::io("stat", &p, e))?.permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        Ok(())
    }

    #[test]
    fn a_missing_params_file_is_an_error_naming_it() {
        let err = RecordFile::update(Path::new("/nonexistent-xmen/params.yml"), WriteOpts::default(), |_| {
            Ok::<_, RecordError>(())
        });
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("/nonexistent-xmen/params.yml"), "{msg}");
    }
}

//! Advisory locks on shared file systems (issue 13 item 11).
//!
//! Every params.yml write takes an advisory lock (see [`crate::store`]). On a cluster file
//! system those locks may fail (Lustre mounted `noflock`: `ENOLCK`; some NFS set-ups:
//! `EOPNOTSUPP`) or hold only on the node that took them (Lustre `localflock`, NFS
//! `local_lock=flock|all` or `nolock`). The writer then says so once per mount, on stderr,
//! naming the mount and what holds there:
//!
//! * writes stay atomic renames, so every params.yml still parses and nothing is half written;
//! * two writers on different nodes (or, without locks at all, any two writers) may lose one
//!   of two simultaneous updates of the same record, e.g. `xmen note` while the run messages.
//!
//! A failed lock does not stop the write: a run on such a file system keeps recording.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What the locks of a mount are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockScope {
    /// Locks work across every client (local disks, NFSv4 with server locks, Lustre `flock`).
    Shared,
    /// Locks hold only on this node (`localflock`, `local_lock=...`, `nolock`).
    NodeLocal(String),
}

/// The lock scope of a `/proc/self/mounts` line's file-system type and options.
pub fn scope_of(fstype: &str, options: &str) -> LockScope {
    let opts: Vec<&str> = options.split(',').collect();
    let has = |o: &str| opts.contains(&o);
    if fstype == "lustre" && has("localflock") {
        return LockScope::NodeLocal("Lustre mounted with localflock".into());
    }
    if fstype.starts_with("nfs") {
        if has("nolock") {
            return LockScope::NodeLocal(format!("{fstype} mounted with nolock"));
        }
        if let Some(l) = opts.iter().find(|o| o.starts_with("local_lock=") && **o != "local_lock=none") {
            return LockScope::NodeLocal(format!("{fstype} mounted with {l}"));
        }
    }
    LockScope::Shared
}

/// The mount holding `path` (longest mount-point prefix): (mount point, type, options).
fn mount_of(path: &Path) -> Option<(PathBuf, String, String)> {
    let abs = std::path::absolute(path).ok()?;
    let text = std::fs::read_to_string("/proc/self/mounts").ok()?;
    let mut best: Option<(PathBuf, String, String)> = None;
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 {
            continue;
        }
        // Mount points escape spaces as \040.
        let point = PathBuf::from(f[1].replace("\\040", " "));
        if abs.starts_with(&point)
            && best.as_ref().is_none_or(|(b, _, _)| point.as_os_str().len() >= b.as_os_str().len())
        {
            best = Some((point, f[2].to_owned(), f[3].to_owned()));
        }
    }
    best
}

static WARNED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// Print `text` once per mount point.
fn once(mount: &Path, text: impl FnOnce() -> String) {
    if let Ok(mut w) = WARNED.lock() {
        if w.get_or_insert_with(HashSet::new).insert(mount.to_path_buf()) {
            eprintln!("{}", text());
        }
    }
}

const WHAT_HOLDS: &str = "params.yml writes stay atomic (every file parses, nothing is half written), but two \
                          writers at the same moment (say `xmen note` on a login node while the run messages on \
                          a compute node) may lose one update. See README, \"Shared file systems\".";

/// Called once per lock file: warn when the locks of its mount hold only on this node.
pub fn check_scope(lock_file: &Path) {
    static CHECKED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let dir = lock_file.parent().map(Path::to_path_buf).unwrap_or_default();
    if let Ok(mut c) = CHECKED.lock() {
        if !c.get_or_insert_with(HashSet::new).insert(dir) {
            return;
        }
    }
    if let Some((point, fstype, options)) = mount_of(lock_file) {
        if let LockScope::NodeLocal(why) = scope_of(&fstype, &options) {
            once(&point, || {
                format!("WARNING: file locks on {} ({why}) hold only on this node: {WHAT_HOLDS}", point.display())
            });
        }
    }
}

/// A lock on `lock_file` failed with `err`: say so once for its mount; the write goes on
/// without the lock.
pub fn lock_failed(lock_file: &Path, err: &std::io::Error) {
    let point = mount_of(lock_file).map_or_else(|| lock_file.to_path_buf(), |(p, _, _)| p);
    once(&point, || {
        format!(
            "WARNING: cannot lock {} ({err}): this file system ({}) does not support file locks (Lustre noflock, some NFS set-ups); writing without them: {WHAT_HOLDS}",
            lock_file.display(),
            point.display()
        )
    });
}

/// Whether a lock error means "this file system has no locks" (as opposed to a real I/O error).
pub fn unsupported(err: &std::io::Error) -> bool {
    matches!(err.raw_os_error(), Some(37 /* ENOLCK */ | 95 /* EOPNOTSUPP */ | 38 /* ENOSYS */ | 22 /* EINVAL */))
        || err.kind() == std::io::ErrorKind::Unsupported
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_local_locks_are_recognised_from_mount_options() {
        for (fstype, options, local) in [
            ("lustre", "rw,flock,lazystatfs", false),
            ("lustre", "rw,localflock,lazystatfs", true),
            ("nfs4", "rw,relatime,vers=4.2,local_lock=none,addr=10.0.0.1", false),
            ("nfs", "rw,vers=3,local_lock=all", true),
            ("nfs", "rw,vers=3,nolock", true),
            ("nfs4", "rw,local_lock=flock", true),
            ("ext4", "rw,relatime", false),
        ] {
            assert_eq!(matches!(scope_of(fstype, options), LockScope::NodeLocal(_)), local, "{fstype} {options}");
        }
    }

    #[test]
    fn missing_lock_support_is_told_from_io_errors() {
        assert!(unsupported(&std::io::Error::from_raw_os_error(37)));
        assert!(unsupported(&std::io::Error::from(std::io::ErrorKind::Unsupported)));
        assert!(!unsupported(&std::io::Error::from_raw_os_error(13)));
    }

    #[test]
    fn the_mount_of_a_path_is_its_longest_mount_point() {
        if let Some((point, _, _)) = mount_of(Path::new("/proc/self")) {
            assert_eq!(point, Path::new("/proc"));
        }
    }
}

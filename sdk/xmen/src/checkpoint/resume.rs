//! The resume contract's process-wide state: which experiment folders are being resumed.
//!
//! The experiment runner marks a run's folder when the run starts on a record whose status
//! was `timeout`, `requeue` or `stopped`, or with `--restart`; the Monitor builder then loads
//! the named objects' newest checkpoints when its directory lies in a marked folder.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

static RESUMING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn absolute(dir: &Path) -> PathBuf {
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Mark `dir` (an experiment folder) as resuming: Monitors built with a directory inside it
/// load their objects' newest checkpoints and counters.
pub fn mark_resuming(dir: &Path) {
    let mut marked = RESUMING.lock().unwrap_or_else(PoisonError::into_inner);
    let dir = absolute(dir);
    if !marked.contains(&dir) {
        marked.push(dir);
    }
}

/// Whether `dir` lies in a folder marked by [`mark_resuming`].
///
/// ```
/// use xmen::checkpoint::{is_resuming, mark_resuming};
/// let run = std::env::temp_dir().join("xmen-doc-resuming");
/// assert!(!is_resuming(&run));
/// mark_resuming(&run);
/// assert!(is_resuming(&run.join("sub")));
/// ```
pub fn is_resuming(dir: &Path) -> bool {
    let dir = absolute(dir);
    RESUMING.lock().unwrap_or_else(PoisonError::into_inner).iter().any(|m| dir.starts_with(m))
}

//! `load`: restore objects from their newest (or a given step's) checkpoint, with the
//! original's defects fixed: the step is matched exactly (`20` never picks `120.safetensors`), the
//! counters come from the first object that loaded, a missing object or file is skipped with
//! a warning (with `attempt`), and an empty folder counts as missing.

use std::path::{Path, PathBuf};

use xmen_core::value::{StateHandle, Value};

use super::state::lookup;
use xmen_checkpoint_format::{format, python_list, CheckpointError};

/// One object restored by [`load`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedObject {
    /// The object's name (its folder).
    pub name: String,
    /// The step of the checkpoint it was restored from.
    pub step: u64,
    /// The file.
    pub path: PathBuf,
}

/// What [`load`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// The objects restored, in the order they were asked for.
    pub objects: Vec<LoadedObject>,
    /// The counters (step first) of the first object restored, or `None` when none was.
    pub counters: Option<[u64; 5]>,
    /// What was skipped and why (with `attempt`), for the caller to print or log.
    pub warnings: Vec<String>,
}

impl Loaded {
    /// The object called `name`, when it was restored.
    pub fn get(&self, name: &str) -> Option<&LoadedObject> {
        self.objects.iter().find(|o| o.name == name)
    }
}

/// Restore `objects` (name, [`Tracked`](super::Tracked) handle as a [`Value`]) from the
/// checkpoints in `dir` (`{directory}/checkpoints`): each from `{dir}/{name}/{step}.safetensors`,
/// the newest file when `step` is `None`.
///
/// With `attempt`, every problem (no checkpoints at all, a missing object or step, a value
/// that is not checkpointable state, an object that refuses its state) is a warning in
/// [`Loaded::warnings`] and the other objects are still restored. Without it, all problems
/// are found first and returned as an error before any object is changed.
///
/// ```
/// use xmen::checkpoint::{load, Tracked};
/// use xmen::{Tensor, Value};
/// let dir = tempfile::tempdir()?;
/// let w = Tracked::new(vec![("w".to_owned(), Tensor::from_f32(&[1], &[0.0]))]);
/// let loaded = load(dir.path(), None, true, [("w", Value::from(&w))])?;
/// assert_eq!(loaded.counters, None);
/// assert_eq!(loaded.warnings, [format!("No checkpoints exist in {}", dir.path().display())]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load<K: AsRef<str>, V: Into<Value>>(
    dir: &Path,
    step: Option<u64>,
    attempt: bool,
    objects: impl IntoIterator<Item = (K, V)>,
) -> Result<Loaded, CheckpointError> {
    let objects: Vec<(String, Value)> = objects.into_iter().map(|(k, v)| (k.as_ref().to_owned(), v.into())).collect();
    let mut out = Loaded::default();
    let mut problems: Vec<CheckpointError> = Vec::new();

    if !any_checkpoint(dir)? {
        let e = CheckpointError::NoCheckpoints { dir: dir.to_path_buf() };
        if attempt {
            out.warnings.push(e.to_string());
            return Ok(out);
        }
        return Err(e);
    }

    // Find every file first, so that without `attempt` nothing changes unless all are there.
    let mut plan: Vec<(String, StateHandle, u64, PathBuf)> = Vec::new();
    let mut missing = Vec::new();
    for (name, value) in &objects {
        let Value::State(handle) = value else {
            problems.push(CheckpointError::NotState { name: name.clone(), kind: value.kind() });
            continue;
        };
        let folder = dir.join(name);
        let files = format::steps(&folder)?;
        let chosen = match (step, files.last()) {
            // A missing or empty folder: the object has no checkpoint.
            (_, None) => {
                missing.push(name.clone());
                continue;
            }
            (None, Some(newest)) => newest.clone(),
            (Some(s), Some(_)) => match files.iter().find(|(fs, _)| *fs == s) {
                Some(f) => f.clone(),
                None => {
                    problems.push(CheckpointError::MissingStep { step: s, folder });
                    continue;
                }
            },
        };
        plan.push((name.clone(), *handle, chosen.0, chosen.1));
    }
    if !missing.is_empty() {
        problems.push(CheckpointError::MissingObjects { missing, dir: dir.to_path_buf() });
    }
    if !attempt {
        CheckpointError::collect(std::mem::take(&mut problems))?;
    }
    out.warnings.extend(problems.iter().map(warning));

    let mut failures = Vec::new();
    for (name, handle, step, path) in plan {
        let restored = (|| {
            let object = lookup(handle).ok_or_else(|| CheckpointError::State {
                name: name.clone(),
                path: Some(path.clone()),
                source: super::StateError::new("the object is gone; keep its `Tracked` alive"),
            })?;
            let decoded = format::read(&path)?;
            object.restore(&decoded.state).map_err(|source| CheckpointError::State {
                name: name.clone(),
                path: Some(path.clone()),
                source,
            })?;
            Ok::<_, CheckpointError>(decoded.counters)
        })();
        match restored {
            Ok(counters) => {
                out.counters.get_or_insert(counters);
                out.objects.push(LoadedObject { name, step, path });
            }
            Err(e) if attempt => out.warnings.push(e.to_string()),
            Err(e) => failures.push(e),
        }
    }
    CheckpointError::collect(failures)?;
    Ok(out)
}

/// The original's wording for a skipped object.
fn warning(e: &CheckpointError) -> String {
    match e {
        CheckpointError::MissingObjects { missing, .. } => {
            format!("Keys {} were not found in the checkpoint", python_list(missing))
        }
        other => other.to_string(),
    }
}

/// Whether any sub-folder of `dir` holds a checkpoint file.
fn any_checkpoint(dir: &Path) -> Result<bool, CheckpointError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(CheckpointError::io("list", dir, e)),
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() && !format::steps(&path)?.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

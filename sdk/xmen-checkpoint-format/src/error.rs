//! What can go wrong while saving or loading checkpoints, with the file or object it
//! happened to and how to fix it.

use std::fmt;
use std::path::PathBuf;

/// Why a checkpointable object could not give or take its state (a shape mismatch, a
/// missing tensor, JSON that does not fit the type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateError(pub String);

impl StateError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> StateError {
        StateError(message.into())
    }
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StateError {}

/// A checkpoint that could not be written, read or applied.
#[derive(Debug)]
#[non_exhaustive]
pub enum CheckpointError {
    /// A file operation failed.
    Io {
        /// What was being done (`create the folder`, `rename a temporary file onto`).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A checkpoint file is not a valid safetensors file, or holds what xmen cannot read.
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An object refused its state, or could not produce it.
    State {
        /// The object's name (the Monitor variable).
        name: String,
        /// The checkpoint file, when one was being applied.
        path: Option<PathBuf>,
        /// The object's reason.
        source: StateError,
    },
    /// A value given as an object is not checkpointable (not a `Tracked` (the SDK's) handle
    /// or a map of tensors).
    NotState {
        /// The name it was given under.
        name: String,
        /// Its kind (`float`, `str`, ...).
        kind: &'static str,
    },
    /// `load` with `attempt = false` found no checkpoint at all in the folder.
    NoCheckpoints {
        /// The folder searched (`{directory}/checkpoints`).
        dir: PathBuf,
    },
    /// `load` with `attempt = false` found no file for the requested step.
    MissingStep {
        /// The requested step.
        step: u64,
        /// The object's folder.
        folder: PathBuf,
    },
    /// `load` with `attempt = false` found no checkpoint for some objects.
    MissingObjects {
        /// The objects without a checkpoint.
        missing: Vec<String>,
        /// The folder searched.
        dir: PathBuf,
    },
    /// The Monitor has no directory, so it has nowhere to save or load.
    NoDirectory,
    /// Several of the above (every object is tried before an error is returned).
    Partial(Vec<CheckpointError>),
}

impl CheckpointError {
    /// A file operation that failed.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> CheckpointError {
        CheckpointError::Io { action, path: path.into(), source }
    }

    /// A file that is not a checkpoint xmen can read.
    pub fn format(path: impl Into<PathBuf>, reason: impl Into<String>) -> CheckpointError {
        CheckpointError::Format { path: path.into(), reason: reason.into() }
    }

    /// One error, or all of them.
    pub fn collect(mut errors: Vec<CheckpointError>) -> Result<(), CheckpointError> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(CheckpointError::Partial(errors)),
        }
    }
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::Io { action, path, source } => write!(f, "cannot {action} {}: {source}", path.display()),
            CheckpointError::Format { path, reason } => {
                write!(f, "{} is not a readable xmen checkpoint: {reason}", path.display())
            }
            CheckpointError::State { name, path: Some(path), source } => {
                write!(f, "cannot restore `{name}` from {}: {source}", path.display())
            }
            CheckpointError::State { name, path: None, source } => {
                write!(f, "cannot read the state of `{name}`: {source}")
            }
            CheckpointError::NotState { name, kind } => write!(
                f,
                "Value for key = {name} does not have a state_dict (it is a {kind}); \
                 pass a `xmen::checkpoint::Tracked` object or a map of tensors"
            ),
            CheckpointError::NoCheckpoints { dir } => write!(f, "No checkpoints exist in {}", dir.display()),
            CheckpointError::MissingStep { step, folder } => {
                write!(f, "Could not find checkpoint at step {step} for {}", folder.display())
            }
            CheckpointError::MissingObjects { missing, dir } => {
                write!(f, "Keys {} were not found in the checkpoint {}", python_list(missing), dir.display())
            }
            CheckpointError::NoDirectory => f.write_str(
                "the Monitor has no directory to keep checkpoints in; build it with `.directory(root.directory())`",
            ),
            CheckpointError::Partial(errors) => {
                write!(f, "{} checkpoint errors:", errors.len())?;
                for e in errors {
                    write!(f, "\n  - {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CheckpointError::Io { source, .. } => Some(source),
            CheckpointError::State { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// `['a', 'b']`, as the original prints a list of names.
pub fn python_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    format!("[{}]", quoted.join(", "))
}

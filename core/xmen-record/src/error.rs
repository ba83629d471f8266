//! The one error type of the record crate.
//!
//! Every variant carries its input (the file, the key, the value) and its message says how to
//! fix the problem, in the style of globset's errors.

use std::io;
use std::path::PathBuf;

use crate::status::Status;

/// What went wrong while reading, validating or writing an experiment record or the global
/// configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A YAML document could not be parsed.
    #[error("{}:{line}:{column}: invalid YAML: {message}", path.display())]
    Yaml {
        /// The file (or `<string>` for text that did not come from a file).
        path: PathBuf,
        /// 1-based line of the problem (0 when unknown).
        line: u64,
        /// 1-based column of the problem (0 when unknown).
        column: u64,
        /// What the parser said.
        message: String,
    },

    /// A YAML document parsed but does not have the shape of the file it should be.
    #[error("{}: {message}", path.display())]
    Shape {
        /// The file (or `<string>`).
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// A filesystem operation failed.
    #[error("cannot {action} {}: {source}{}", path.display(), enotdir_hint(source))]
    Io {
        /// What we were doing (`read`, `write`, `create the folder`, `lock`, ...).
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: io::Error,
    },

    /// An override names something that is not a parameter (the original accepted it).
    #[error("unknown parameter `{name}`; the parameters are: {}", known.join(", "))]
    UnknownParam {
        /// The name that was given.
        name: String,
        /// The names that exist, in declaration order.
        known: Vec<String>,
    },

    /// An override names a special field (`_root`, `_status`, ...), which can never be updated.
    #[error("`{name}` is a special field and cannot be updated; only parameters (names without a leading `_`) and `_hooks` can")]
    Special {
        /// The special's name.
        name: String,
    },

    /// An override has the wrong type for its parameter.
    #[error("parameter `{key}` expects {expected} but got {found} `{value}`; give a value of type {expected}")]
    Type {
        /// The parameter, with a dotted path into maps and `[i]` into lists (`opt.beta`, `sizes[1]`).
        key: String,
        /// The type of the default (`int`, `float`, `str`, `bool`, `list`, `map`).
        expected: &'static str,
        /// The type of the override.
        found: &'static str,
        /// The override, rendered like Python's `str()`.
        value: String,
    },

    /// A params.yml that is empty or lacks keys its experiment declares: refused before it is
    /// run or rewritten, so the loss is not made permanent.
    #[error("{} {}: it lacks {}, which {declared_by} declares; nothing was run or rewritten. Restore the file from a copy, add the keys back (their defaults: {declared_by}), or remove the folder and register it again", path.display(), if *empty { "is empty" } else { "is incomplete" }, missing.join(", "))]
    Incomplete {
        /// The params.yml.
        path: PathBuf,
        /// The keys it lacks.
        missing: Vec<String>,
        /// Whether it holds nothing at all.
        empty: bool,
        /// Where the declaration comes from (defaults.yml, the experiment's name).
        declared_by: String,
    },

    /// A value cannot become the type its parameter declares (`None` for an `f64`, `-1` for a
    /// `u64`, a number beyond the type's range).
    #[error("parameter `{key}` is declared `{ty}` and cannot take `{value}`: {reason}")]
    Declared {
        /// The parameter (dotted path, `[i]` into lists).
        key: String,
        /// The declared type (`u64`, `Option<f64>`, `int`).
        ty: String,
        /// The value, rendered like Python's `str()`.
        value: String,
        /// Why, and what to give instead.
        reason: String,
    },

    /// A list override does not have the length of its default.
    #[error("parameter `{key}` expects a list of {expected} elements but got {found}; give exactly {expected}")]
    ListLength {
        /// The parameter (dotted path).
        key: String,
        /// The default's length.
        expected: usize,
        /// The override's length.
        found: usize,
    },

    /// Parameters were updated in a status that does not allow it.
    #[error("parameters of an experiment in status `{status}` cannot be updated; parameters can only be changed when status is `default` or `detached`")]
    Immutable {
        /// The record's status.
        status: Status,
    },

    /// A status string is not one of [`Status::ALL`].
    #[error("`{value}` is not a valid status; valid values are: {}", Status::names().join(", "))]
    InvalidStatus {
        /// The text that was given.
        value: String,
    },

    /// The experiment cannot run in its current status.
    #[error("an experiment in status `{status}` cannot be run; it must be registered, detached, timeout or requeue (stopped only with a restart)")]
    NotRunnable {
        /// The record's status.
        status: Status,
    },

    /// A message batch's leader is not one of the batch's keys.
    #[error("the leader `{leader}` is not one of the messages ({}); name one of them as the leader", keys.join(", "))]
    LeaderMissing {
        /// The leader that was asked for.
        leader: String,
        /// The keys of the batch.
        keys: Vec<String>,
    },

    /// A value that YAML cannot hold (a tensor, an image, a handle).
    #[error(
        "`{key}` holds a {kind}, which cannot be written to YAML; convert it to a number, string, list or map first"
    )]
    Unsupported {
        /// Where the value sits (dotted path).
        key: String,
        /// Its kind (`tensor`, `image`, ...).
        kind: &'static str,
    },

    /// Registration found `params.yml` in the folder and `force` is off.
    #[error("experiment folder {} already contains a params.yml file; an experiment cannot be registered in an existing experiment folder (use force to pick `{}_0`, `{}_1`, ... or restart to reuse it)", path.display(), path.display(), path.display())]
    Exists {
        /// The folder.
        path: PathBuf,
    },

    /// Every suffix `_0` ... `_{same_names-1}` is already taken (the original then overwrote the
    /// first folder).
    #[error("{} and all {same_names} suffixed folders already hold a params.yml; choose another folder name or raise same_names", root.display())]
    NoFreeSuffix {
        /// The requested folder.
        root: PathBuf,
        /// How many suffixes were tried.
        same_names: usize,
    },
}

fn enotdir_hint(e: &io::Error) -> &'static str {
    if e.kind() == io::ErrorKind::NotADirectory {
        " (a parent of this path is a regular file, not a folder; choose another path)"
    } else {
        ""
    }
}

impl RecordError {
    /// Wrap an I/O error with the action and the path it was done to.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> RecordError {
        RecordError::Io { action, path: path.into(), source }
    }
}

/// The crate's result type.
pub type Result<T, E = RecordError> = std::result::Result<T, E>;

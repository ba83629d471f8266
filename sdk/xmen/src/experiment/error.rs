//! [`ExperimentError`]: what can go wrong before or around a run body; each message names the
//! input (file, key, argument) and the fix.

use std::path::PathBuf;

use xmen_record::{RecordError, Status};

use super::value::ParamError;

/// Why the single-experiment command line or the run machinery failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExperimentError {
    /// Reading, validating or writing the record failed (the message names the file and key).
    #[error(transparent)]
    Record(#[from] RecordError),

    /// An update was rejected by the record's rules (an unknown name, a special field, a
    /// wrong type or list length).
    #[error("{origin}: {source}")]
    Invalid {
        /// Where the update came from (`-u argument 1`, a file path).
        origin: String,
        /// The rule that was broken, naming the key.
        #[source]
        source: RecordError,
    },

    /// A value does not fit its parameter's Rust type.
    #[error("{origin}: {source}")]
    Param {
        /// Where the value came from (`-u argument 1`, a params.yml path).
        origin: String,
        /// The mismatch, naming the parameter, the type and the value.
        #[source]
        source: Box<ParamError>,
    },

    /// The `_hooks` given with `-u` do not resolve or do not fit their hooks' declarations
    /// (every problem, each naming the entry's index and field).
    #[error("{message}")]
    Hooks {
        /// The problems, one per line.
        message: String,
    },

    /// An `-u` value is neither a YAML mapping nor a parameter file.
    #[error("-u argument {index} `{value}` is neither a YAML mapping of parameters nor a path to a params.yml or defaults.yml file: {reason}")]
    Update {
        /// 1-based position among the `-u` values.
        index: usize,
        /// The value as given.
        value: String,
        /// What was wrong with it.
        reason: String,
    },

    /// A params.yml names a parameter the experiment does not declare.
    #[error("{}: parameter `{name}` is not declared by {experiment}; its parameters are: {}. Was this file written by another experiment?", path.display(), known.join(", "))]
    UnknownInFile {
        /// The file.
        path: PathBuf,
        /// The unknown name.
        name: String,
        /// The experiment's name.
        experiment: String,
        /// The declared names.
        known: Vec<String>,
    },

    /// `-x params.yml` of an experiment that may not run in its status (the
    /// original printed a misleading message and ran anyway).
    #[error("cannot execute {}: its status is `{status}`, and only registered, detached, timeout or requeue experiments can run{hint}", path.display())]
    NotRunnable {
        /// The params.yml.
        path: PathBuf,
        /// Its status.
        status: Status,
        /// What to do about it.
        hint: String,
    },

    /// `-x PATH.yml` where no such file exists.
    #[error("-x {}: there is no such file, so nothing was run or created; give an existing params.yml, or a folder to register a new run in (`-x {}`)", path.display(), path.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| "NEW_FOLDER".to_owned(), |p| p.display().to_string()))]
    MissingFile {
        /// The path as given.
        path: PathBuf,
    },

    /// `-u` together with `-x params.yml`: a registered experiment's parameters are fixed.
    #[error("-u cannot be combined with `-x {}`: the parameters of a registered experiment are fixed; register a new run with `-u ... -x NEW_FOLDER` instead", path.display())]
    UpdateRegistered {
        /// The params.yml given to `-x`.
        path: PathBuf,
    },

    /// Setting up the run (signal handling, output capture) failed.
    #[error("cannot {action}: {source}")]
    Setup {
        /// What was being set up.
        action: &'static str,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
}

impl ExperimentError {
    /// [`ExperimentError::NotRunnable`] with the fix for `status`.
    pub fn not_runnable(path: PathBuf, status: Status) -> ExperimentError {
        let folder = path.parent().map(|p| p.display().to_string()).unwrap_or_default();
        let hint = match status {
            Status::Stopped => format!("; give --restart to run it again, or reset it with `xmen reset {folder}`"),
            Status::Default => "; register it first by executing a folder: `-x FOLDER`".to_owned(),
            _ => format!(
                "; reset it with `xmen reset {folder}` to run it again, or register a new run with `-x NEW_FOLDER`"
            ),
        };
        ExperimentError::NotRunnable { path, status, hint }
    }
}

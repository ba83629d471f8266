//! The one error type of the set manager.
//!
//! Every variant carries its input (the folder, the file, the pattern, the value) and its
//! message says what was wrong, where, and how to fix it.

use std::io;
use std::path::PathBuf;

use xmen_record::RecordError;

use crate::sweep::SweepError;

/// What went wrong while managing an experiment set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerError {
    /// A record, the global configuration or a YAML file could not be read or written.
    #[error(transparent)]
    Record(#[from] RecordError),

    /// A sweep string (`register -u`) is malformed or does not fit the defaults (boxed: it is
    /// large and rare).
    #[error(transparent)]
    Sweep(Box<SweepError>),

    /// A filesystem operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: io::Error,
    },

    /// Registration's one sync failed (see [`crate::register()`]): nothing was recorded.
    #[error(
        "cannot sync the new experiment folders of {} to disk: {source}; nothing was recorded yet, and \
         the next xmen command in this set (e.g. `xmen list {}`) adopts the folders that were written \
         whole; check the disk (free space, `dmesg`) before running them",
        root.display(), root.display()
    )]
    Sync {
        /// The set root.
        root: PathBuf,
        /// The operating-system error.
        #[source]
        source: io::Error,
    },

    /// The folder is not an experiment set: one of its three files is missing.
    #[error(
        "{} is not an experiment set: {} is missing (a set holds experiment.yml, defaults.yml and script.sh); \
         create one with `xmen init` (see `xmen init --help`) or point `-r/--root` at a set",
        root.display(),
        missing.display()
    )]
    NotASet {
        /// The folder that was given.
        root: PathBuf,
        /// The first required file that is missing.
        missing: PathBuf,
    },

    /// `xmen init` on a folder that already holds experiment.yml (checked before anything is
    /// written; the original wrote first).
    #[error(
        "{} is already an experiment set ({} exists); to re-initialise it remove experiment.yml first",
        root.display(),
        file.display()
    )]
    AlreadyInitialised {
        /// The set root.
        root: PathBuf,
        /// Its experiment.yml.
        file: PathBuf,
    },

    /// A file `xmen init` needs does not exist.
    #[error("{what} {} does not exist; {hint}", path.display())]
    MissingFile {
        /// What the file is (`the defaults file`, `the script`).
        what: &'static str,
        /// Where it was looked for.
        path: PathBuf,
        /// How to provide it.
        hint: String,
    },

    /// experiment.yml holds something unexpected.
    #[error("{}: {message}", path.display())]
    SetFile {
        /// The experiment.yml.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// The set was moved or copied and experiment.yml still names the old place.
    #[error(
        "the experiment set at {} was moved: its experiment.yml still says it lives at {}; \
         run `xmen relink -r {}` to rewrite its paths",
        root.display(),
        recorded.display(),
        root.display()
    )]
    Moved {
        /// Where the set is now.
        root: PathBuf,
        /// Where experiment.yml says it is.
        recorded: PathBuf,
    },

    /// A glob pattern could not be compiled.
    #[error(
        "invalid pattern `{pattern}` at character {}: {message}; escape glob characters with a backslash (`\\[`) or \
         give the exact folder name, quoted so the shell leaves it alone (`xmen run 'sizes=\\[3, 4\\]' bash`)",
        position + 1
    )]
    Pattern {
        /// The pattern as given.
        pattern: String,
        /// The 0-based character offset where the glob goes wrong.
        position: usize,
        /// What the glob parser said.
        message: String,
    },

    /// A pattern matched no managed experiment.
    #[error(
        "no managed experiment of the set {} matches `{pattern}` ({managed} managed{}); \
         patterns are unix globs over the experiment folder names, e.g. `'*'` or `'lr=0.01*'`",
        root.display(),
        sample_text(sample)
    )]
    NoMatch {
        /// The pattern.
        pattern: String,
        /// The set root.
        root: PathBuf,
        /// How many experiments the set manages.
        managed: usize,
        /// A few managed names, to show what patterns can match.
        sample: Vec<String>,
    },

    /// A folder name made from overrides (or given with `-n`) cannot be used.
    #[error("the experiment folder name `{name}` {reason}; give another name with `-n/--name`")]
    BadName {
        /// The name.
        name: String,
        /// Why it cannot be used.
        reason: &'static str,
    },

    /// `name`, `name_1` ... `name_99` are all taken (docs/migrating.md#the-sweep-grammar-and-folder-names).
    #[error(
        "the folders {name}, {name}_1 ... {name}_99 already exist in {}: the number of experiments allowed \
         with the same overrides is limited to 100; give another name with `-n/--name`",
        root.display()
    )]
    NameTaken {
        /// The base name.
        name: String,
        /// The set root.
        root: PathBuf,
    },

    /// Every experiment to register has the configuration of one the set already manages.
    #[error(
        "nothing registered: the set {} already has {} with the same configuration: {}; \
         pass `--force` to register {} again (as numbered copies), or `-x N` to register repeats in one go",
        root.display(),
        if same.len() == 1 { "an experiment" } else { "experiments" },
        same.iter().take(5).map(|old| format!("`{old}`")).collect::<Vec<_>>().join(", ")
            + &if same.len() > 5 { format!(" and {} more", same.len() - 5) } else { String::new() },
        if same.len() == 1 { "it" } else { "them" }
    )]
    Duplicate {
        /// The set root.
        root: PathBuf,
        /// The existing folders (names relative to the root) whose configuration would repeat.
        same: Vec<String>,
    },

    /// Registration was given neither a name nor overrides.
    #[error("nothing to register: give a sweep with `-u/--updates` (e.g. `-u \"{{lr: 0.1 | 0.01}}\"`), a name with `-n/--name`, or both")]
    NothingToRegister,

    /// An experiment name is not in the registry.
    #[error(
        "no experiment named `{name}` is registered{}; add it with `xmen experiments --add {name} PATH`",
        known_text(known)
    )]
    UnknownExperiment {
        /// The name that was given.
        name: String,
        /// The registered names.
        known: Vec<String>,
    },

    /// A program to run (an experiment binary or a launcher) cannot be used.
    #[error("cannot run `{program}`: {reason}")]
    Program {
        /// The program as given.
        program: String,
        /// Why it cannot run, and the fix.
        reason: String,
    },

    /// A child process failed.
    #[error("`{command}` failed ({status}){hint}")]
    Child {
        /// The command line.
        command: String,
        /// How it ended.
        status: String,
        /// What to check.
        hint: String,
    },

    /// `clean` or `rm` would delete a run that is alive.
    #[error("refusing to delete {} live run{} (nothing was deleted):\n{}\nstop {} first (Ctrl-C, scancel), wait for {} to end, or give --force if you know {} dead", runs.len(), if runs.len() == 1 { "" } else { "s" }, runs.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"), if runs.len() == 1 { "it" } else { "them" }, if runs.len() == 1 { "it" } else { "them" }, if runs.len() == 1 { "it is" } else { "they are" })]
    Live {
        /// Each live run: folder and how we know.
        runs: Vec<String>,
    },

    /// Several experiments failed independently; every failure is listed.
    #[error("{} of {total} experiments failed:\n{}", errors.len(), list_errors(errors))]
    Partial {
        /// How many were attempted.
        total: usize,
        /// Each failure, naming its experiment.
        errors: Vec<ManagerError>,
    },
}

fn sample_text(sample: &[String]) -> String {
    if sample.is_empty() {
        String::new()
    } else {
        format!(": {}", sample.join(", "))
    }
}

fn known_text(known: &[String]) -> String {
    if known.is_empty() {
        " (none is registered)".to_owned()
    } else {
        format!(" (registered: {})", known.join(", "))
    }
}

fn list_errors(errors: &[ManagerError]) -> String {
    errors.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n")
}

impl From<SweepError> for ManagerError {
    fn from(e: SweepError) -> ManagerError {
        ManagerError::Sweep(Box::new(e))
    }
}

impl ManagerError {
    /// Wrap an I/O error with the action and the path it was done to.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> ManagerError {
        ManagerError::Io { action, path: path.into(), source }
    }
}

/// The crate's result type.
pub type Result<T, E = ManagerError> = std::result::Result<T, E>;

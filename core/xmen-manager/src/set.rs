//! Opening an experiment set: the root is made absolute, the three files of a set are required,
//! and a set that was moved without `xmen relink` is refused with the fix.

use std::path::{Path, PathBuf};

use xmen_core::Value;
use xmen_record::{Record, RecordError, RecordFile};

use crate::error::{ManagerError, Result};
use crate::setfile::{Entry, SetFile, DEFAULTS_FILE, EXPERIMENT_FILE, SCRIPT_FILE};

/// Make `root` absolute against the current directory (no symlinks are resolved, so paths stay
/// the ones the user sees).
pub fn absolute(root: &Path) -> Result<PathBuf> {
    std::path::absolute(root).map_err(|e| ManagerError::io("resolve the path", root, e))
}

/// The first of experiment.yml, defaults.yml and script.sh missing from `root`, if any.
pub fn missing_file(root: &Path) -> Option<PathBuf> {
    [EXPERIMENT_FILE, DEFAULTS_FILE, SCRIPT_FILE].iter().map(|f| root.join(f)).find(|p| !p.is_file())
}

/// Whether two paths name the same folder (textually, else after resolving symlinks).
pub fn same_folder(a: &Path, b: &Path) -> bool {
    a == b
        || match (a.canonicalize(), b.canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
}

/// An experiment set opened from its root.
#[derive(Clone, Debug)]
pub struct ExperimentSet {
    root: PathBuf,
    file: SetFile,
}

impl ExperimentSet {
    /// Open the set at `root`: [`ManagerError::NotASet`] naming the missing file when it is not
    /// one, [`ManagerError::Moved`] when experiment.yml names another place.
    pub fn open(root: &Path) -> Result<ExperimentSet> {
        let root = absolute(root)?;
        if let Some(missing) = missing_file(&root) {
            return Err(ManagerError::NotASet { root, missing });
        }
        let mut file = SetFile::load(&root.join(EXPERIMENT_FILE))?;
        if !same_folder(&file.root, &root) {
            return Err(ManagerError::Moved { root, recorded: file.root });
        }
        if file.drifted {
            let defaults = Record::load(&root.join(DEFAULTS_FILE))?;
            for e in &mut file.entries {
                e.overrides = recover_overrides(&defaults, &e.path).unwrap_or_default();
            }
        }
        Ok(ExperimentSet { root, file })
    }

    /// Open the set at `root` without the moved check (for `xmen relink`).
    pub fn open_unchecked(root: &Path) -> Result<ExperimentSet> {
        let root = absolute(root)?;
        if let Some(missing) = missing_file(&root) {
            return Err(ManagerError::NotASet { root, missing });
        }
        let file = SetFile::load(&root.join(EXPERIMENT_FILE))?;
        Ok(ExperimentSet { root, file })
    }

    /// The set root (absolute).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The parsed experiment.yml.
    pub fn file(&self) -> &SetFile {
        &self.file
    }

    /// The managed experiments.
    pub fn entries(&self) -> &[Entry] {
        &self.file.entries
    }

    /// `{root}/experiment.yml`.
    pub fn experiment_yml(&self) -> PathBuf {
        self.root.join(EXPERIMENT_FILE)
    }

    /// `{root}/defaults.yml`.
    pub fn defaults_path(&self) -> PathBuf {
        self.root.join(DEFAULTS_FILE)
    }

    /// `{root}/script.sh`.
    pub fn script_path(&self) -> PathBuf {
        self.root.join(SCRIPT_FILE)
    }

    /// The folder name of an experiment relative to the root (its full path when it lives
    /// elsewhere).
    pub fn name_of(&self, path: &Path) -> String {
        path.strip_prefix(&self.root).unwrap_or(path).display().to_string()
    }

    /// What the set's defaults.yml declares, to validate its records against (issue 13 item
    /// 3). An unreadable defaults.yml declares nothing (records are then only checked for
    /// `_root`); commands that need it report it themselves.
    pub fn declared(&self) -> Declared {
        let path = self.defaults_path();
        let params = Record::load(&path).map(|r| r.params).unwrap_or_default();
        Declared { params, source: path.display().to_string() }
    }

    /// Locked read-modify-write of this set's experiment.yml.
    pub fn update<T>(&self, durable: bool, f: impl FnOnce(&mut SetFile) -> Result<T>) -> Result<T> {
        SetFile::update(&self.experiment_yml(), durable, f)
    }

    /// [`SetFile::update_rendered`] of this set's experiment.yml.
    pub fn update_rendered<T>(
        &self,
        durable: bool,
        f: impl FnOnce(&mut SetFile) -> Result<(T, Option<String>)>,
    ) -> Result<T> {
        SetFile::update_rendered(&self.experiment_yml(), durable, f)
    }
}

/// The overrides of an experiment folder: the parameters whose value differs from the default,
/// in defaults order. `None` when its params.yml cannot be read.
pub fn recover_overrides(defaults: &Record, folder: &Path) -> Option<Vec<(String, Value)>> {
    let rec = RecordFile::load(&RecordFile::path_in(folder)).ok()?;
    Some(diff_overrides(defaults, &rec))
}

/// The parameters of `rec` whose value differs from (or is missing in) `defaults`.
pub fn diff_overrides(defaults: &Record, rec: &Record) -> Vec<(String, Value)> {
    rec.params
        .iter()
        .filter(|p| defaults.get(&p.name) != Some(&p.value))
        .map(|p| (p.name.clone(), p.value.clone()))
        .collect()
}

/// The parameters a set's defaults.yml declares.
#[derive(Clone, Debug)]
pub struct Declared {
    params: Vec<xmen_record::Param>,
    source: String,
}

impl Declared {
    /// Refuse a record that is empty or lacks declared parameters ([`RecordError::Incomplete`],
    /// naming the keys and the repair); print a warning for extra keys and changed kinds.
    pub fn check(&self, rec: &Record, path: &Path) -> std::result::Result<(), RecordError> {
        let checked = xmen_record::validate::check(rec, path, &self.params, &self.source, true)?;
        for w in checked.warnings {
            eprintln!("WARNING: {w}");
        }
        Ok(())
    }
}

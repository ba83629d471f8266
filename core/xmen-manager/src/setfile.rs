//! experiment.yml, the set manager's state (docs/file-formats.md#experimentyml).
//!
//! In memory the set is a list of [`Entry`] records (an experiment folder and the overrides it
//! was registered with), so the two lists of the file, `experiments` and `overides` (sic), can
//! never drift apart (the original's `unlink` and `relink` let them). They are still written as the
//! two parallel lists the original reads. Reading resolves YAML anchors and aliases (the original
//! wrote them for repeated override maps); writing never emits them.

use std::path::{Path, PathBuf};

use xmen_core::pyfmt;
use xmen_core::Value;
use xmen_record::store::update_text;
use xmen_record::{yaml, WriteOpts};

use crate::error::{ManagerError, Result};

/// The set manager's state file inside a set root.
pub const EXPERIMENT_FILE: &str = "experiment.yml";
/// The parameter defaults inside a set root.
pub const DEFAULTS_FILE: &str = "defaults.yml";
/// The generic entry point inside a set root (`script.sh path/to/params.yml`).
pub const SCRIPT_FILE: &str = "script.sh";
/// The per-experiment launcher written by `xmen register`.
pub const RUN_FILE: &str = "run.sh";

/// One managed experiment: its folder and the overrides it was registered with.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The experiment folder (absolute).
    pub path: PathBuf,
    /// The overrides, in sweep order (empty for `-n NAME` alone).
    pub overrides: Vec<(String, Value)>,
}

/// The contents of experiment.yml.
#[derive(Clone, Debug, PartialEq)]
pub struct SetFile {
    /// `root`: the set root as recorded (absolute).
    pub root: PathBuf,
    /// `defaults`: `{root}/defaults.yml`.
    pub defaults: PathBuf,
    /// `script`: `{root}/script.sh`.
    pub script: PathBuf,
    /// `experiments` and `overides`, kept together.
    pub entries: Vec<Entry>,
    /// `created`, in `DATE_FORMAT` (opaque text).
    pub created: Option<String>,
    /// `purpose` of the set.
    pub purpose: Option<String>,
    /// `notes` on the set.
    pub notes: Vec<String>,
    /// `type`: the registered experiment the set was made from (`init -n`), else null.
    pub kind: Option<String>,
    /// Other keys, kept in file order.
    pub extra: Vec<(String, Value)>,
    /// Set when the file's `experiments` and `overides` lists had drifted apart (written by the
    /// original's unlink); the overrides of every entry are then unknown (empty) and should be
    /// recomputed from the records.
    pub drifted: bool,
}

fn text(v: Value) -> Option<String> {
    match v {
        Value::None => None,
        Value::Str(s) => Some(s),
        other => Some(pyfmt::str_of(&other)),
    }
}

impl SetFile {
    /// A new, empty set at `root` (absolute).
    pub fn new(root: &Path, created: String, purpose: String, kind: Option<String>) -> SetFile {
        SetFile {
            root: root.to_path_buf(),
            defaults: root.join(DEFAULTS_FILE),
            script: root.join(SCRIPT_FILE),
            entries: Vec::new(),
            created: Some(created),
            purpose: Some(purpose),
            notes: Vec::new(),
            kind,
            extra: Vec::new(),
            drifted: false,
        }
    }

    /// Parse experiment.yml text read from `path` (named in errors).
    pub fn parse(text_in: &str, path: &Path) -> Result<SetFile> {
        let shape = |message: String| ManagerError::SetFile { path: path.to_path_buf(), message };
        let map = match yaml::parse(text_in, path)? {
            Value::Map(m) => m,
            other => {
                return Err(shape(format!(
                    "expected a mapping with the keys root, defaults, script, experiments, overides but found a {}; \
                     restore the file or re-create the set with `xmen init`",
                    other.kind()
                )))
            }
        };
        let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut root = None;
        let mut defaults = None;
        let mut script = None;
        let mut experiments: Vec<PathBuf> = Vec::new();
        let mut overrides: Vec<Vec<(String, Value)>> = Vec::new();
        let mut out = SetFile::new(&folder, String::new(), String::new(), None);
        out.created = None;
        out.purpose = None;
        for (key, value) in map {
            match key.as_str() {
                "root" => root = text(value).map(PathBuf::from),
                "defaults" => defaults = text(value).map(PathBuf::from),
                "script" => script = text(value).map(PathBuf::from),
                "experiments" => {
                    experiments = match value {
                        Value::None => Vec::new(),
                        Value::List(l) => l
                            .into_iter()
                            .map(|v| match v {
                                Value::Str(s) => Ok(PathBuf::from(s)),
                                other => Err(shape(format!(
                                    "`experiments` must list folder paths but holds the {} `{}`",
                                    other.kind(),
                                    pyfmt::str_of(&other)
                                ))),
                            })
                            .collect::<Result<_>>()?,
                        other => {
                            return Err(shape(format!(
                                "`experiments` must be a list of folder paths but is a {}",
                                other.kind()
                            )))
                        }
                    }
                }
                "overides" | "overrides" => {
                    overrides = match value {
                        Value::None => Vec::new(),
                        Value::List(l) => l
                            .into_iter()
                            .map(|v| match v {
                                Value::Map(m) => m,
                                _ => Vec::new(),
                            })
                            .collect(),
                        _ => Vec::new(),
                    }
                }
                "created" => out.created = text(value),
                "purpose" => out.purpose = text(value),
                "notes" => {
                    out.notes = match value {
                        Value::None => Vec::new(),
                        Value::List(l) => l.into_iter().filter_map(text).collect(),
                        other => text(other).into_iter().collect(),
                    }
                }
                "type" => out.kind = text(value),
                _ => out.extra.push((key, value)),
            }
        }
        out.root = root.unwrap_or(folder);
        out.defaults = defaults.unwrap_or_else(|| out.root.join(DEFAULTS_FILE));
        out.script = script.unwrap_or_else(|| out.root.join(SCRIPT_FILE));
        out.drifted = overrides.len() != experiments.len();
        let mut overrides = overrides.into_iter();
        out.entries = experiments
            .into_iter()
            .map(|path| Entry {
                path,
                overrides: if out.drifted { Vec::new() } else { overrides.next().unwrap_or_default() },
            })
            .collect();
        Ok(out)
    }

    /// The file's text, keys in the original's order.
    pub fn to_yaml(&self) -> Result<String> {
        let s = |p: &Path| Value::Str(p.display().to_string());
        let opt = |o: &Option<String>| o.clone().map_or(Value::None, Value::Str);
        let mut m = vec![
            ("root".to_owned(), s(&self.root)),
            ("defaults".to_owned(), s(&self.defaults)),
            ("script".to_owned(), s(&self.script)),
            ("experiments".to_owned(), Value::List(self.entries.iter().map(|e| s(&e.path)).collect())),
            (
                "overides".to_owned(),
                Value::List(self.entries.iter().map(|e| Value::Map(e.overrides.clone())).collect()),
            ),
            ("created".to_owned(), opt(&self.created)),
            ("purpose".to_owned(), opt(&self.purpose)),
            ("notes".to_owned(), Value::List(self.notes.iter().cloned().map(Value::Str).collect())),
            ("type".to_owned(), opt(&self.kind)),
        ];
        m.extend(self.extra.iter().cloned());
        Ok(yaml::to_string(&Value::Map(m))?)
    }

    /// Read experiment.yml.
    pub fn load(path: &Path) -> Result<SetFile> {
        let text = std::fs::read_to_string(path).map_err(|e| ManagerError::io("read", path, e))?;
        SetFile::parse(&text, path)
    }

    /// Locked read-modify-write of experiment.yml: `f` changes the parsed file, which is then
    /// written back atomically (fsynced when `durable`). Nothing is written when `f` fails.
    pub fn update<T>(path: &Path, durable: bool, f: impl FnOnce(&mut SetFile) -> Result<T>) -> Result<T> {
        SetFile::update_rendered(path, durable, |set| f(set).map(|out| (out, None)))
    }

    /// [`SetFile::update`] where `f` may also return the file's new text, [`SetFile::to_yaml`]
    /// of the file as `f` leaves it, made while `f` waited for something else (`xmen register`
    /// renders it during its sync); with `None` it is rendered here.
    pub fn update_rendered<T>(
        path: &Path,
        durable: bool,
        f: impl FnOnce(&mut SetFile) -> Result<(T, Option<String>)>,
    ) -> Result<T> {
        let opts = WriteOpts { durable };
        update_text(path, opts, |current| {
            let Some(current) = current else {
                return Err(ManagerError::io(
                    "read",
                    path,
                    std::io::Error::new(std::io::ErrorKind::NotFound, "experiment.yml vanished"),
                ));
            };
            let mut set = SetFile::parse(&current, path)?;
            let (out, text) = f(&mut set)?;
            let text = match text {
                Some(t) => t,
                None => set.to_yaml()?,
            };
            Ok((Some(text), out))
        })
    }

    /// Whether `folder` is one of the managed experiments (an exact path comparison, never a
    /// suffix match; the original matched suffixes).
    pub fn manages(&self, folder: &Path) -> bool {
        self.entries.iter().any(|e| e.path == folder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &str = "root: /data/xrun/exps2
defaults: /data/xrun/exps2/defaults.yml
script: /data/xrun/exps2/script.sh
experiments:
- /data/xrun/exps2/a=Hello__b=World
- /data/xrun/exps2/test
- /data/xrun/exps2/test_1
overides:
- a: Hello
  b: World
- &id003 {}
- *id003
created: 26-11-27-17-59-23-143385
purpose: ''
notes: []
type: HelloWorld
";

    #[test]
    fn the_originals_file_is_read_with_aliases_resolved_and_written_back_the_same_way() {
        let set =
            SetFile::parse(ORIGINAL, Path::new("/data/xrun/exps2/experiment.yml")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.entries.len(), 3);
        assert!(!set.drifted);
        assert_eq!(
            set.entries[0].overrides,
            [("a".to_owned(), Value::Str("Hello".into())), ("b".to_owned(), Value::Str("World".into()))]
        );
        assert!(set.entries[2].overrides.is_empty());
        assert_eq!(set.kind.as_deref(), Some("HelloWorld"));
        let out = set.to_yaml().unwrap_or_else(|e| panic!("{e}"));
        assert!(!out.contains('&') && !out.contains('*'), "{out}");
        assert!(out.starts_with("root: /data/xrun/exps2\ndefaults: /data/xrun/exps2/defaults.yml\n"), "{out}");
        assert!(out.contains("overides:\n- a: Hello\n  b: World\n- {}\n- {}\n"), "{out}");
        assert_eq!(SetFile::parse(&out, Path::new("/data/xrun/exps2/experiment.yml")).ok(), Some(set));
    }

    #[test]
    fn drifted_lists_are_flagged_and_legacy_files_without_optional_keys_read() {
        let text = "root: /r\ndefaults: /r/defaults.yml\nscript: /r/script.sh\nexperiments:\n- /r/a\noverides:\n- {a: 1}\n- {a: 2}\ncreated: x\n";
        let set = SetFile::parse(text, Path::new("/r/experiment.yml")).unwrap_or_else(|e| panic!("{e}"));
        assert!(set.drifted);
        assert_eq!(set.entries.len(), 1);
        assert_eq!(set.kind, None);
        assert_eq!(set.purpose, None);
    }

    #[test]
    fn a_file_of_the_wrong_shape_names_itself() {
        for text in ["- a\n- b\n", "root: /r\nexperiments: 3\n", "experiments:\n- {a: 1}\n"] {
            let msg =
                SetFile::parse(text, Path::new("/r/experiment.yml")).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(msg.starts_with("/r/experiment.yml"), "{msg}");
        }
    }
}

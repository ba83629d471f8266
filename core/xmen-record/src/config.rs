//! The global configuration `$XMEN/xmen.yml` (docs/file-formats.md#xmenyml), read and written
//! with the same locked, atomic discipline as params.yml.
//!
//! The folder is `$XMEN`, else `~/.xmen`. `_dir` is never persisted and ignored when read
//! (the original trusted it). The original's server keys (`server_host`, `server_port`, `user`, `password`) and any
//! other unknown keys are kept as they are but unused. The experiment registry is written as
//! `experiments`; the original's `python_experiments` is read into it when `experiments` is
//! absent (and kept verbatim for the original).

use std::path::{Path, PathBuf};

use xmen_core::redact::EnvironMode;
use xmen_core::Value;

use crate::error::{RecordError, Result};
use crate::meta;
use crate::store::{update_text, WriteOpts};
use crate::yaml;

/// The file name inside the configuration folder.
pub const CONFIG_FILE: &str = "xmen.yml";

/// `$XMEN/xmen.yml` as a struct.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalConfig {
    /// Ask for purposes and confirm destructive actions.
    pub prompt: bool,
    /// Write environment.yml when a run starts.
    pub save_conda: bool,
    /// The default of `--txt` (tee stdout and stderr to out.txt).
    pub redirect_stdout: bool,
    /// `scontrol requeue` on a timeout under SLURM.
    pub requeue: bool,
    /// Text inserted into every run.sh (SLURM `#SBATCH` lines).
    pub header: String,
    /// The default of `lenient` for `_hooks` entries that do not set it (`lenient_hooks`):
    /// a run starts without a hook that fails to load, with a warning.
    pub lenient_hooks: bool,
    /// How much of the environment records keep (`_meta.environ`, environment.yml
    /// `variables:`): `redacted` (default) replaces the values of secret-looking names.
    pub environ: EnvironMode,
    /// Recorded as `_user`.
    pub local_user: String,
    /// Recorded as `_host`.
    pub local_host: String,
    /// The experiment registry: name to executable path, in insertion order.
    pub experiments: Vec<(String, String)>,
    /// Absolute paths of every registered experiment folder (what `xmen list` reads).
    pub linked: Vec<String>,
    /// Other keys (the server keys among them), kept in file order.
    pub extra: Vec<(String, Value)>,
}

impl Default for GlobalConfig {
    fn default() -> GlobalConfig {
        GlobalConfig {
            prompt: true,
            save_conda: true,
            redirect_stdout: true,
            requeue: true,
            header: String::new(),
            lenient_hooks: false,
            environ: EnvironMode::default(),
            local_user: meta::user_name(),
            local_host: meta::host_name(),
            experiments: Vec::new(),
            linked: Vec::new(),
            extra: Vec::new(),
        }
    }
}

/// The configuration folder: `$XMEN`, else `$HOME/.xmen`.
pub fn config_dir() -> PathBuf {
    match std::env::var_os("XMEN").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".xmen"),
    }
}

fn shape(path: &Path, key: &str, want: &str, got: &Value) -> RecordError {
    RecordError::Shape {
        path: path.to_path_buf(),
        message: format!("`{key}` must be {want} but is a {}; fix or remove the key", got.kind()),
    }
}

fn text_map(path: &Path, key: &str, v: Value) -> Result<Vec<(String, String)>> {
    match v {
        Value::None => Ok(Vec::new()),
        Value::Map(m) => m
            .into_iter()
            .map(|(k, v)| match v {
                Value::Str(s) => Ok((k, s)),
                other => Err(shape(path, &format!("{key}.{k}"), "a path", &other)),
            })
            .collect(),
        other => Err(shape(path, key, "a map of name: path", &other)),
    }
}

impl GlobalConfig {
    /// Parse xmen.yml text (`path` names it in errors); missing keys take their defaults.
    pub fn parse(text: &str, path: &Path) -> Result<GlobalConfig> {
        let mut c = GlobalConfig::default();
        let mut python_experiments = None;
        let mut has_experiments = false;
        // xmen.yml lists every linked experiment: read it quickly when it is in the subset the
        // emitter writes (see crate::quick); comments are not needed.
        let entries = match crate::quick::parse_map(text) {
            Some(e) => e.into_iter().map(|(k, v)| (k, v, String::new())).collect(),
            None => yaml::parse_commented_map(text, path)?,
        };
        for (key, value, _) in entries {
            let flag = |v: &Value| match v {
                Value::Bool(b) => Ok(*b),
                other => Err(shape(path, &key, "true or false", other)),
            };
            let text = |v: Value| match v {
                Value::Str(s) => Ok(s),
                Value::None => Ok(String::new()),
                other => Err(shape(path, &key, "text", &other)),
            };
            match key.as_str() {
                "prompt" => c.prompt = flag(&value)?,
                "save_conda" => c.save_conda = flag(&value)?,
                "redirect_stdout" => c.redirect_stdout = flag(&value)?,
                "requeue" => c.requeue = flag(&value)?,
                "header" => c.header = text(value)?,
                "lenient_hooks" => c.lenient_hooks = flag(&value)?,
                "environ" => {
                    let word = text(value)?;
                    c.environ = word.parse().map_err(|e: xmen_core::redact::EnvironModeError| RecordError::Shape {
                        path: path.to_path_buf(),
                        message: format!("`environ`: {e} (or `xmen config --environ redacted`)"),
                    })?;
                }
                "local_user" => c.local_user = text(value)?,
                "local_host" => c.local_host = text(value)?,
                "experiments" => {
                    has_experiments = true;
                    c.experiments = text_map(path, &key, value)?;
                }
                "linked" => {
                    c.linked = match value {
                        Value::None => Vec::new(),
                        Value::List(l) => l
                            .into_iter()
                            .map(|v| match v {
                                Value::Str(s) => Ok(s),
                                other => Err(shape(path, "linked", "a list of folder paths", &other)),
                            })
                            .collect::<Result<_>>()?,
                        other => return Err(shape(path, "linked", "a list of folder paths", &other)),
                    }
                }
                "_dir" => {} // never trusted, never written back
                "python_experiments" => {
                    python_experiments = Some(value.clone());
                    c.extra.push((key, value));
                }
                _ => c.extra.push((key, value)),
            }
        }
        if !has_experiments {
            if let Some(v) = python_experiments {
                c.experiments = text_map(path, "python_experiments", v)?;
            }
        }
        Ok(c)
    }

    /// The YAML text: the original's server keys first when present, then the keys of
    /// docs/file-formats.md#xmenyml in order, then any other kept keys.
    pub fn to_yaml(&self) -> Result<String> {
        const SERVER: [&str; 4] = ["server_host", "server_port", "user", "password"];
        let mut m: Vec<(String, Value)> = Vec::new();
        m.extend(self.extra.iter().filter(|(k, _)| SERVER.contains(&k.as_str())).cloned());
        m.push(("local_host".into(), Value::Str(self.local_host.clone())));
        m.push(("local_user".into(), Value::Str(self.local_user.clone())));
        m.push(("prompt".into(), Value::Bool(self.prompt)));
        m.push(("save_conda".into(), Value::Bool(self.save_conda)));
        m.push(("redirect_stdout".into(), Value::Bool(self.redirect_stdout)));
        m.push(("requeue".into(), Value::Bool(self.requeue)));
        m.push(("header".into(), Value::Str(self.header.clone())));
        if self.lenient_hooks {
            // Written only when set: files of the original, and of xmen before it, stay as they were.
            m.push(("lenient_hooks".into(), Value::Bool(true)));
        }
        m.push(("environ".into(), Value::Str(self.environ.as_str().to_owned())));
        m.push((
            "experiments".into(),
            Value::Map(self.experiments.iter().map(|(k, v)| (k.clone(), Value::Str(v.clone()))).collect()),
        ));
        m.extend(self.extra.iter().filter(|(k, _)| !SERVER.contains(&k.as_str())).cloned());
        m.push(("linked".into(), Value::List(self.linked.iter().cloned().map(Value::Str).collect())));
        yaml::to_string(&Value::Map(m))
    }

    /// Read `{dir}/xmen.yml`; defaults when it does not exist (nothing is written).
    pub fn load(dir: &Path) -> Result<GlobalConfig> {
        let path = dir.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => GlobalConfig::parse(&text, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(GlobalConfig::default()),
            Err(e) => Err(RecordError::io("read", path, e)),
        }
    }

    /// Locked read-modify-write of `{dir}/xmen.yml` (created with the defaults, and `dir` with
    /// it, when missing).
    pub fn update<T, E: From<RecordError>>(
        dir: &Path,
        f: impl FnOnce(&mut GlobalConfig) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        std::fs::create_dir_all(dir).map_err(|e| RecordError::io("create the folder", dir, e))?;
        let path = dir.join(CONFIG_FILE);
        update_text(&path, WriteOpts::default(), |text| {
            let mut cfg = match text {
                Some(t) => GlobalConfig::parse(&t, &path)?,
                None => GlobalConfig::default(),
            };
            let out = f(&mut cfg)?;
            Ok((Some(cfg.to_yaml()?), out))
        })
    }

    /// [`GlobalConfig::load`], writing the defaults first when the file is missing.
    pub fn load_or_create(dir: &Path) -> Result<GlobalConfig> {
        GlobalConfig::update(dir, |c| Ok::<_, RecordError>(c.clone()))
    }

    /// Add `folder` to `linked` unless it is already there (link exactly once). Returns
    /// whether it was added.
    pub fn link(dir: &Path, folder: &Path) -> Result<bool> {
        let folder = folder.display().to_string();
        GlobalConfig::update(dir, |c| {
            let add = !c.linked.contains(&folder);
            if add {
                c.linked.push(folder);
            }
            Ok::<_, RecordError>(add)
        })
    }

    /// Remove every entry of `folders` from `linked`; returns how many entries were removed.
    pub fn unlink(dir: &Path, folders: &[PathBuf]) -> Result<usize> {
        let drop: Vec<String> = folders.iter().map(|p| p.display().to_string()).collect();
        GlobalConfig::update(dir, |c| {
            let before = c.linked.len();
            c.linked.retain(|l| !drop.contains(l));
            Ok::<_, RecordError>(before - c.linked.len())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_originals_file_is_read_and_its_extra_keys_kept() -> Result<()> {
        let text = "server_host: xmen.rob-otics.co.uk\nserver_port: 8000\nuser:\npassword:\n\
                    local_host: h\nlocal_user: u\nprompt: false\nsave_conda: false\nredirect_stdout: true\n\
                    requeue: true\nheader: '#SBATCH -p gpu'\npython_experiments:\n  m.Hello: /x/m.Hello\n\
                    linked:\n- /a\n- /b\n_dir: /elsewhere\ncolour: blue\n";
        let c = GlobalConfig::parse(text, Path::new("xmen.yml"))?;
        assert!(!c.prompt && !c.save_conda && c.requeue);
        assert_eq!(c.header, "#SBATCH -p gpu");
        assert_eq!(c.experiments, [("m.Hello".to_owned(), "/x/m.Hello".to_owned())]);
        assert_eq!(c.linked, ["/a", "/b"]);
        let out = c.to_yaml()?;
        assert!(!out.contains("_dir"), "{out}");
        assert!(out.starts_with("server_host: xmen.rob-otics.co.uk\nserver_port: 8000\nuser:\npassword:\n"), "{out}");
        assert!(out.contains("colour: blue") && out.contains("python_experiments:"), "{out}");
        assert_eq!(GlobalConfig::parse(&out, Path::new("xmen.yml"))?, c);
        Ok(())
    }

    #[test]
    fn the_environ_setting_round_trips_and_defaults_to_redacted() -> Result<()> {
        assert_eq!(GlobalConfig::parse("prompt: true\n", Path::new("x"))?.environ, EnvironMode::Redacted);
        for mode in [EnvironMode::All, EnvironMode::None, EnvironMode::Redacted] {
            let c = GlobalConfig { environ: mode, ..GlobalConfig::default() };
            assert_eq!(GlobalConfig::parse(&c.to_yaml()?, Path::new("x"))?.environ, mode);
        }
        let msg = GlobalConfig::parse("environ: some\n", Path::new("/c/xmen.yml")).err().map(|e| e.to_string());
        assert!(msg.as_deref().is_some_and(|m| m.contains("all, redacted, none")), "{msg:?}");
        Ok(())
    }

    #[test]
    fn lenient_hooks_round_trips_and_is_written_only_when_set() -> Result<()> {
        let c = GlobalConfig::parse("lenient_hooks: true\n", Path::new("x"))?;
        assert!(c.lenient_hooks);
        let out = c.to_yaml()?;
        assert!(out.contains("lenient_hooks: true"), "{out}");
        assert!(GlobalConfig::parse(&out, Path::new("x"))?.lenient_hooks);
        assert!(!GlobalConfig::default().to_yaml()?.contains("lenient_hooks"));
        let msg = GlobalConfig::parse("lenient_hooks: sometimes\n", Path::new("/c/xmen.yml")).err();
        assert!(msg.map(|e| e.to_string()).is_some_and(|m| m.contains("`lenient_hooks`")));
        Ok(())
    }

    #[test]
    fn a_wrong_type_names_the_key() {
        let err = GlobalConfig::parse("prompt: maybe\n", Path::new("/c/xmen.yml")).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("/c/xmen.yml") && msg.contains("`prompt`"), "{msg}");
    }

    #[test]
    fn linking_is_idempotent_and_unlinking_removes() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RecordError::io("tempdir", "/tmp", e))?;
        let dir = t.path().join("cfg");
        assert!(GlobalConfig::link(&dir, Path::new("/e/1"))?);
        assert!(!GlobalConfig::link(&dir, Path::new("/e/1"))?);
        assert!(GlobalConfig::link(&dir, Path::new("/e/2"))?);
        assert_eq!(GlobalConfig::load(&dir)?.linked, ["/e/1", "/e/2"]);
        assert_eq!(GlobalConfig::unlink(&dir, &[PathBuf::from("/e/1"), PathBuf::from("/e/9")])?, 1);
        assert_eq!(GlobalConfig::load(&dir)?.linked, ["/e/2"]);
        Ok(())
    }
}

//! Registering an experiment to its folder.
//!
//! Suffixes: when `{root}/params.yml` exists and `force` is on, the folders
//! `{root}_0`, `{root}_1`, ... `{root}_{same_names-1}` are tried, `_0` first, as the original's
//! experiment API does (the set manager may choose to start at `_1`, as `xmen register` did).
//! Running out of suffixes is an error, never an overwrite (the original overwrote). The params.yml of a new folder
//! is created under its lock and only when absent, so two concurrent registrations never take
//! the same folder. The folder is linked into the global configuration exactly once (the
//! original linked it again at every save).

use std::path::{Path, PathBuf};

use xmen_core::pyfmt;

use crate::config::{config_dir, GlobalConfig};
use crate::error::{RecordError, Result};
use crate::meta;
use crate::record::Record;
use crate::status::Status;
use crate::store::{RecordFile, WriteOpts};
use crate::version::VersionInfo;

/// How [`register`] behaves.
#[derive(Clone, Debug)]
pub struct RegisterOpts {
    /// `_purpose` (the original writes `''` when none is given).
    pub purpose: String,
    /// Pick a suffixed folder when `root` already holds a params.yml (else an error).
    pub force: bool,
    /// How many suffixes to try (default 100).
    pub same_names: usize,
    /// Reuse an existing `{root}/params.yml`: reload it and set it `registered`.
    pub restart: bool,
    /// Refresh `_version` from this (kept as it is when `None`).
    pub version: Option<VersionInfo>,
    /// The global configuration folder to link into (default [`config_dir`]).
    pub config_dir: Option<PathBuf>,
    /// Link into the global configuration (off in debug mode).
    pub link: bool,
    /// How params.yml is written.
    pub write: WriteOpts,
}

impl Default for RegisterOpts {
    fn default() -> RegisterOpts {
        RegisterOpts {
            purpose: String::new(),
            force: true,
            same_names: 100,
            restart: false,
            version: None,
            config_dir: None,
            link: true,
            write: WriteOpts::default(),
        }
    }
}

/// The outcome of [`register`].
#[derive(Clone, Debug)]
pub struct Registered {
    /// The folder the experiment was registered to (absolute; maybe suffixed).
    pub root: PathBuf,
    /// The record as written to `{root}/params.yml`.
    pub record: Record,
}

/// Register `record` to the folder `root` (its own folder, not a parent): choose the folder,
/// create it, refresh `_version` and the basic `_meta`, set `_root`, `_purpose` and the
/// timestamps (`created` only the first time, `registered` every time), set `registered`,
/// write params.yml and link the folder into the global configuration.
pub fn register(root: &Path, mut record: Record, opts: &RegisterOpts) -> Result<Registered> {
    let root = std::path::absolute(root).map_err(|e| RecordError::io("resolve", root, e))?;
    let cfg_dir = opts.config_dir.clone().unwrap_or_else(config_dir);
    let params = RecordFile::path_in(&root);

    if opts.restart && params.exists() {
        let record = RecordFile::update(&params, opts.write, |r| {
            r.status = Status::Registered;
            Ok::<_, RecordError>(r.clone())
        })?;
        if opts.link {
            GlobalConfig::link(&cfg_dir, &root)?;
        }
        return Ok(Registered { root, record });
    }

    if record.user.is_none() || record.host.is_none() {
        let cfg = GlobalConfig::load(&cfg_dir).unwrap_or_default();
        record.user.get_or_insert(cfg.local_user);
        record.host.get_or_insert(cfg.local_host);
    }
    if let Some(v) = &opts.version {
        record.version = Some(v.to_value());
    }
    record.meta = Some(meta::basic());
    record.purpose = Some(opts.purpose.clone());
    record.status = Status::Registered;

    let mut candidates = vec![root.clone()];
    if opts.force {
        let base = root.as_os_str().to_owned();
        candidates.extend((0..opts.same_names).map(|i| {
            let mut p = base.clone();
            p.push(format!("_{i}"));
            PathBuf::from(p)
        }));
    }
    for (i, dir) in candidates.iter().enumerate() {
        let params = RecordFile::path_in(dir);
        if params.exists() {
            if !opts.force {
                return Err(RecordError::Exists { path: dir.clone() });
            }
            continue;
        }
        std::fs::create_dir_all(dir).map_err(|e| RecordError::io("create the folder", dir, e))?;
        let now = pyfmt::now_stamp();
        record.root = Some(dir.display().to_string());
        record.timestamps.created.get_or_insert_with(|| now.clone());
        record.timestamps.registered = Some(now);
        match RecordFile::write_new(&params, &record, opts.write) {
            Ok(()) => {}
            // Another registration took this folder between our check and our write.
            Err(RecordError::Exists { .. }) if opts.force && i + 1 < candidates.len() => continue,
            Err(RecordError::Exists { .. }) if !opts.force => return Err(RecordError::Exists { path: dir.clone() }),
            Err(e) => return Err(e),
        }
        if opts.link {
            GlobalConfig::link(&cfg_dir, dir)?;
        }
        return Ok(Registered { root: dir.clone(), record });
    }
    Err(RecordError::NoFreeSuffix { root, same_names: opts.same_names })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Param;
    use xmen_core::Value;

    struct Env {
        _t: tempfile::TempDir,
        base: PathBuf,
        opts: RegisterOpts,
    }

    fn env() -> Env {
        let t = match tempfile::tempdir() {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        let base = t.path().to_path_buf();
        let opts = RegisterOpts { config_dir: Some(base.join("cfg")), ..RegisterOpts::default() };
        Env { _t: t, base, opts }
    }

    fn rec() -> Record {
        Record::new(vec![Param::new("a", "Hello", "a: str='Hello' ~ The first argument")])
    }

    #[test]
    fn a_new_folder_gets_a_registered_record_and_one_link() -> Result<()> {
        let e = env();
        let root = e.base.join("exps/first");
        let opts = RegisterOpts { purpose: "try".into(), ..e.opts.clone() };
        let r = register(&root, rec(), &opts)?;
        assert_eq!(r.root, root);
        let on_disk = RecordFile::load(&root.join("params.yml"))?;
        assert_eq!(on_disk.status, Status::Registered);
        assert_eq!(on_disk.root.as_deref(), Some(root.to_str().unwrap_or_default()));
        assert_eq!(on_disk.purpose.as_deref(), Some("try"));
        assert!(on_disk.timestamps.created.is_some());
        assert_eq!(on_disk.timestamps.created, on_disk.timestamps.registered);
        assert!(on_disk.meta.as_ref().and_then(|m| m.get("host")).is_some());
        assert!(on_disk.user.is_some() && on_disk.host.is_some());
        assert_eq!(on_disk.get("a"), Some(&Value::Str("Hello".into())));
        assert_eq!(GlobalConfig::load(&e.base.join("cfg"))?.linked, [root.display().to_string()]);
        Ok(())
    }

    #[test]
    fn collisions_take_suffixes_from_0_and_running_out_is_an_error() -> Result<()> {
        let e = env();
        let root = e.base.join("first");
        let opts = RegisterOpts { same_names: 2, ..e.opts.clone() };
        let names: Vec<PathBuf> =
            (0..3).map(|_| register(&root, rec(), &opts).map(|r| r.root)).collect::<Result<_>>()?;
        assert_eq!(names, [e.base.join("first"), e.base.join("first_0"), e.base.join("first_1")]);
        match register(&root, rec(), &opts) {
            Err(RecordError::NoFreeSuffix { same_names: 2, .. }) => {}
            other => panic!("{other:?}"),
        }
        let linked = GlobalConfig::load(&e.base.join("cfg"))?.linked;
        assert_eq!(linked.len(), 3);
        Ok(())
    }

    #[test]
    fn without_force_an_existing_folder_is_an_error() -> Result<()> {
        let e = env();
        let root = e.base.join("x");
        register(&root, rec(), &e.opts)?;
        let opts = RegisterOpts { force: false, ..e.opts.clone() };
        let msg = register(&root, rec(), &opts).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("already contains a params.yml") && msg.contains(root.to_str().unwrap_or("?")), "{msg}");
        Ok(())
    }

    #[test]
    fn restart_reloads_and_forces_registered() -> Result<()> {
        let e = env();
        let root = e.base.join("x");
        let first = register(&root, rec(), &e.opts)?;
        RecordFile::update(&root.join("params.yml"), WriteOpts::default(), |r| {
            r.status = Status::Timeout;
            r.note("kept", false);
            Ok::<_, RecordError>(())
        })?;
        let opts = RegisterOpts { restart: true, ..e.opts.clone() };
        let again = register(&root, Record::default(), &opts)?;
        assert_eq!(again.root, first.root);
        assert_eq!(again.record.status, Status::Registered);
        assert_eq!(again.record.notes, ["kept"]);
        assert_eq!(GlobalConfig::load(&e.base.join("cfg"))?.linked.len(), 1);
        Ok(())
    }

    #[test]
    fn a_folder_under_a_regular_file_is_a_clear_error() -> Result<()> {
        let e = env();
        let file = e.base.join("plain");
        std::fs::write(&file, "x").map_err(|err| RecordError::io("write", &file, err))?;
        let root = file.join("exp");
        let msg = register(&root, rec(), &e.opts).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains(root.to_str().unwrap_or("?")), "{msg}");
        assert!(msg.contains("regular file"), "{msg}");
        Ok(())
    }

    #[test]
    fn version_is_refreshed_when_given() -> Result<()> {
        let e = env();
        let opts = RegisterOpts {
            version: Some(VersionInfo {
                path: PathBuf::from("/bin/exp"),
                crate_name: "demo".into(),
                crate_version: "1.2.3".into(),
                source_dir: Some(e.base.clone()),
            }),
            ..e.opts.clone()
        };
        let r = register(&e.base.join("v"), rec(), &opts)?;
        let v = r.record.version.unwrap_or(Value::None);
        assert_eq!(v.get("crate"), Some(&Value::Str("demo".into())));
        Ok(())
    }
}

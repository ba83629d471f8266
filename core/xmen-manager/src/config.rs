//! The parts of `xmen config` that touch files: changing options, finding linked
//! experiments that no longer exist, refreshing `_meta` (the original ignored
//! `--update_meta`), migrating the pre-0.3 `config.yml`, and printing the configuration.
//! The original's server options are not part of this crate.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use xmen_core::pyfmt;
use xmen_core::Value;
use xmen_record::yaml::{self, TopEntry};
use xmen_record::{meta, store, GlobalConfig, RecordError, RecordFile, WriteOpts};

use crate::error::{ManagerError, Result};
use crate::register::link_all;
use crate::set::ExperimentSet;
use crate::setfile::{SetFile, EXPERIMENT_FILE};

/// The legacy configuration file of versions before 0.3, read once by the setup.
pub const LEGACY_CONFIG_FILE: &str = "config.yml";

/// Changes to the boolean options and the header; `None` leaves an option alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigChanges {
    /// `prompt`.
    pub prompt: Option<bool>,
    /// `save_conda`.
    pub save_conda: Option<bool>,
    /// `redirect_stdout`.
    pub redirect_stdout: Option<bool>,
    /// `requeue`.
    pub requeue: Option<bool>,
    /// `header` (the text itself).
    pub header: Option<String>,
    /// `environ`: how much of the environment records keep.
    pub environ: Option<xmen_core::redact::EnvironMode>,
}

impl ConfigChanges {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        *self == ConfigChanges::default()
    }

    /// Apply the changes to a configuration.
    pub fn apply(&self, c: &mut GlobalConfig) {
        if let Some(v) = self.prompt {
            c.prompt = v;
        }
        if let Some(v) = self.save_conda {
            c.save_conda = v;
        }
        if let Some(v) = self.redirect_stdout {
            c.redirect_stdout = v;
        }
        if let Some(v) = self.requeue {
            c.requeue = v;
        }
        if let Some(h) = &self.header {
            c.header = h.clone();
        }
        if let Some(e) = self.environ {
            c.environ = e;
        }
    }
}

/// Apply `changes` to `$XMEN/xmen.yml` (created with the defaults when missing); returns the
/// configuration as saved.
pub fn change(config_dir: &Path, changes: &ConfigChanges) -> Result<GlobalConfig> {
    Ok(GlobalConfig::update(config_dir, |c| {
        changes.apply(c);
        Ok::<_, RecordError>(c.clone())
    })?)
}

/// Linked experiment folders whose params.yml no longer exists.
pub fn stale_linked(config_dir: &Path) -> Result<Vec<String>> {
    let cfg = GlobalConfig::load(config_dir)?;
    Ok(cfg.linked.into_iter().filter(|l| !RecordFile::path_in(Path::new(l)).is_file()).collect())
}

/// Remove `stale` entries (and duplicates) from `linked`; returns how many entries went.
pub fn drop_linked(config_dir: &Path, stale: &[String]) -> Result<usize> {
    let stale: HashSet<&str> = stale.iter().map(String::as_str).collect();
    Ok(GlobalConfig::update(config_dir, |c| {
        let before = c.linked.len();
        let mut seen = HashSet::new();
        c.linked.retain(|l| !stale.contains(l.as_str()) && seen.insert(l.clone()));
        Ok::<_, RecordError>(before - c.linked.len())
    })?)
}

fn merge_meta(current: Option<&Value>) -> Value {
    let basic = match meta::basic() {
        Value::Map(m) => m,
        _ => Vec::new(),
    };
    let mut m = match current {
        Some(Value::Map(m)) => m.clone(),
        _ => Vec::new(),
    };
    for (k, v) in basic {
        match m.iter_mut().find(|(mk, _)| *mk == k) {
            Some((_, slot)) => *slot = v,
            None => m.push((k, v)),
        }
    }
    Value::Map(m)
}

/// Refresh the basic `_meta` (mac, host, user, home) in the set's defaults.yml (keeping its key
/// order and comments) and in every managed params.yml. Returns the files updated.
pub fn update_meta(root: &Path) -> Result<Vec<PathBuf>> {
    let set = ExperimentSet::open(root)?;
    let defaults = set.defaults_path();
    store::update_text(&defaults, WriteOpts::default(), |text| {
        let text = text.unwrap_or_default();
        let mut entries = yaml::parse_commented_map(&text, &defaults)?;
        let merged = merge_meta(entries.iter().find(|(k, _, _)| k == "_meta").map(|(_, v, _)| v));
        match entries.iter_mut().find(|(k, _, _)| k == "_meta") {
            Some((_, v, _)) => *v = merged,
            None => entries.push(("_meta".into(), merged, String::new())),
        }
        let top: Vec<TopEntry<'_>> =
            entries.iter().map(|(k, v, c)| TopEntry { key: k, value: v, comment: Some(c.as_str()) }).collect();
        Ok::<_, ManagerError>((Some(yaml::write_document(&top)?), ()))
    })?;
    let mut out = vec![defaults];
    for e in set.entries() {
        let params = RecordFile::path_in(&e.path);
        if params.is_file() {
            RecordFile::update(&params, WriteOpts::default(), |r| {
                r.meta = Some(merge_meta(r.meta.as_ref()));
                Ok::<_, RecordError>(())
            })?;
            out.push(params);
        }
    }
    Ok(out)
}

/// What a legacy migration brought across.
#[derive(Clone, Debug, Default)]
pub struct Migration {
    /// The legacy file.
    pub from: PathBuf,
    /// Registry names added.
    pub experiments: Vec<String>,
    /// Experiment folders linked.
    pub linked: usize,
    /// Legacy sets that could not be read.
    pub unreadable: Vec<String>,
}

/// Whether `$XMEN/config.yml` (the pre-0.3 configuration) exists.
pub fn legacy_config(config_dir: &Path) -> Option<PathBuf> {
    let p = config_dir.join(LEGACY_CONFIG_FILE);
    p.is_file().then_some(p)
}

/// Bring a legacy `config.yml` across: the registry (`python_experiments`, names
/// not yet registered), `prompt` (from `prompt_for_message`), `save_conda`, `redirect_stdout`,
/// `requeue` and `header`, and every experiment of every legacy set into `linked`. Safe to
/// repeat: nothing is duplicated.
pub fn migrate_legacy(config_dir: &Path) -> Result<Option<Migration>> {
    let Some(from) = legacy_config(config_dir) else { return Ok(None) };
    let text = std::fs::read_to_string(&from).map_err(|e| ManagerError::io("read", &from, e))?;
    let legacy = match yaml::parse(&text, &from)? {
        Value::Map(m) => m,
        _ => Vec::new(),
    };
    let get = |k: &str| legacy.iter().find(|(lk, _)| lk == k).map(|(_, v)| v);
    let mut report = Migration { from: from.clone(), ..Migration::default() };
    let mut changes = ConfigChanges::default();
    let flag = |k: &str| match get(k) {
        Some(Value::Bool(b)) => Some(*b),
        _ => None,
    };
    changes.prompt = flag("prompt_for_message");
    changes.save_conda = flag("save_conda");
    changes.redirect_stdout = flag("redirect_stdout");
    changes.requeue = flag("requeue");
    changes.header = get("header").and_then(|v| v.as_str()).map(str::to_owned);
    let registry: Vec<(String, String)> = match get("python_experiments") {
        Some(Value::Map(m)) => m.iter().filter_map(|(k, v)| v.as_str().map(|p| (k.clone(), p.to_owned()))).collect(),
        _ => Vec::new(),
    };
    let added = GlobalConfig::update(config_dir, |c| {
        changes.apply(c);
        let mut added = Vec::new();
        for (k, p) in &registry {
            if !c.experiments.iter().any(|(ck, _)| ck == k) {
                c.experiments.push((k.clone(), p.clone()));
                added.push(k.clone());
            }
        }
        Ok::<_, RecordError>(added)
    })?;
    report.experiments = added;
    let mut folders = Vec::new();
    if let Some(Value::Map(sets)) = get("experiments") {
        for (root, _) in sets {
            match SetFile::load(&Path::new(root).join(EXPERIMENT_FILE)) {
                Ok(set) => folders.extend(set.entries.into_iter().map(|e| e.path)),
                Err(_) => report.unreadable.push(root.clone()),
            }
        }
    }
    report.linked = folders.len();
    link_all(config_dir, &folders)?;
    Ok(Some(report))
}

/// Print a value the way the original's recursive printer does: `key: value`,
/// nulls skipped, maps as `key:` with their entries indented two spaces, lists as Python lists;
/// booleans as `true`/`false`, as xmen.yml spells them (the original printed `True`).
pub fn render_tree(entries: &[(String, Value)], indent: usize, out: &mut String) {
    for (k, v) in entries {
        match v {
            Value::None => {}
            Value::Bool(b) => out.push_str(&format!("{}{k}: {b}\n", " ".repeat(indent))),
            Value::Map(m) => {
                out.push_str(&format!("{}{k}:\n", " ".repeat(indent)));
                render_tree(m, indent + 2, out);
            }
            other => out.push_str(&format!("{}{k}: {}\n", " ".repeat(indent), pyfmt::str_of(other))),
        }
    }
}

/// The configuration as `xmen config --list` prints it. A password is masked; a long `linked`
/// list is summarised (`xmen list` shows those experiments).
pub fn render(cfg: &GlobalConfig, config_dir: &Path) -> String {
    let mut entries: Vec<(String, Value)> = vec![
        ("dir".into(), Value::Str(config_dir.display().to_string())),
        ("local_host".into(), Value::Str(cfg.local_host.clone())),
        ("local_user".into(), Value::Str(cfg.local_user.clone())),
        ("prompt".into(), Value::Bool(cfg.prompt)),
        ("save_conda".into(), Value::Bool(cfg.save_conda)),
        ("redirect_stdout".into(), Value::Bool(cfg.redirect_stdout)),
        ("requeue".into(), Value::Bool(cfg.requeue)),
        ("header".into(), Value::Str(cfg.header.clone())),
        ("environ".into(), Value::Str(cfg.environ.as_str().to_owned())),
        (
            "experiments".into(),
            Value::Map(cfg.experiments.iter().map(|(k, v)| (k.clone(), Value::Str(v.clone()))).collect()),
        ),
    ];
    for (k, v) in &cfg.extra {
        let v = if k == "password" && *v != Value::None { Value::Str("********".into()) } else { v.clone() };
        entries.push((k.clone(), v));
    }
    entries.push((
        "linked".into(),
        if cfg.linked.len() <= 10 {
            Value::List(cfg.linked.iter().cloned().map(Value::Str).collect())
        } else {
            Value::Str(format!("{} experiment folders (see `xmen list`)", cfg.linked.len()))
        },
    ));
    let mut out = String::new();
    render_tree(&entries, 0, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_printer_skips_nulls_and_indents_maps() {
        let entries = vec![
            ("root".to_owned(), Value::Str("/r".into())),
            ("purpose".to_owned(), Value::None),
            ("notes".to_owned(), Value::List(vec![Value::Str("n1".into())])),
            ("flag".to_owned(), Value::Bool(true)),
            (
                "timestamps".to_owned(),
                Value::Map(vec![("created".into(), Value::Str("x".into())), ("start".into(), Value::None)]),
            ),
        ];
        let mut out = String::new();
        render_tree(&entries, 0, &mut out);
        assert_eq!(out, "root: /r\nnotes: ['n1']\nflag: true\ntimestamps:\n  created: x\n");
    }
}

//! [`Record`]: one experiment's parameters and special fields, read from and written to
//! defaults.yml and params.yml (docs/file-formats.md).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use xmen_core::pyfmt;
use xmen_core::Value;

use crate::error::{RecordError, Result};
use crate::status::Status;
use crate::yaml::{self, TopEntry};

/// One parameter: its name, current value and help string.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The name (never starts with `_`).
    pub name: String,
    /// The current value (the default until overridden).
    pub value: Value,
    /// The help string written as the key's YAML comment, normally made by [`help_line`];
    /// empty for none. Strings read from files are kept verbatim, whatever their format.
    pub help: String,
}

impl Param {
    /// A parameter with a value and help string.
    pub fn new(name: impl Into<String>, value: impl Into<Value>, help: impl Into<String>) -> Param {
        Param { name: name.into(), value: value.into(), help: help.into() }
    }
}

/// The help string of a parameter in the single format xmen writes (the
/// original had three): `{name}[: {type}][={default}][ ~ {help}]`.
///
/// `default` is the default's display text (`'Hello'`, `0.001`, `[3, 4]`); empty parts are
/// left out.
pub fn help_line(name: &str, ty: Option<&str>, default: Option<&str>, help: Option<&str>) -> String {
    let mut s = name.to_owned();
    if let Some(t) = ty.filter(|t| !t.is_empty()) {
        s.push_str(": ");
        s.push_str(t);
    }
    if let Some(d) = default.filter(|d| !d.is_empty()) {
        s.push('=');
        s.push_str(d);
    }
    if let Some(h) = help.map(str::trim).filter(|h| !h.is_empty()) {
        s.push_str(" ~ ");
        s.push_str(h);
    }
    s
}

/// The `_timestamps` map, every date in `DATE_FORMAT` (`26-11-27-17-58-59-165499`) and treated
/// as opaque text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timestamps {
    /// First registration.
    pub created: Option<String>,
    /// Start of the latest run.
    pub start: Option<String>,
    /// End of the latest run, whatever the reason.
    pub stopped: Option<String>,
    /// Refreshed on every save while running.
    pub last: Option<String>,
    /// Latest registration.
    pub registered: Option<String>,
    /// Other keys found in the file, kept in order.
    pub extra: Vec<(String, Value)>,
}

impl Timestamps {
    pub(crate) fn to_value(&self) -> Value {
        let s = |o: &Option<String>| o.clone().map_or(Value::None, Value::Str);
        let mut m = vec![
            ("created".to_owned(), s(&self.created)),
            ("start".to_owned(), s(&self.start)),
            ("stopped".to_owned(), s(&self.stopped)),
            ("last".to_owned(), s(&self.last)),
            ("registered".to_owned(), s(&self.registered)),
        ];
        m.extend(self.extra.iter().cloned());
        Value::Map(m)
    }

    fn from_value(v: Value) -> Timestamps {
        let mut t = Timestamps::default();
        if let Value::Map(m) = v {
            for (k, v) in m {
                let text = opt_text(v.clone());
                match k.as_str() {
                    "created" => t.created = text,
                    "start" => t.start = text,
                    "stopped" => t.stopped = text,
                    "last" => t.last = text,
                    "registered" => t.registered = text,
                    _ => t.extra.push((k, v)),
                }
            }
        }
        t
    }
}

/// Which producer's layout a params.yml follows (docs/file-formats.md#paramsyml); a record is written back in the
/// layout it was read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Layout {
    /// Written by the experiment: every key alphabetical.
    #[default]
    Experiment,
    /// Written by `xmen register`: specials first in a fixed order, then the parameters in
    /// defaults order.
    Manager,
}

/// A key the record does not know (an unknown `_` key), kept with its comment.
#[derive(Clone, Debug, PartialEq)]
pub struct Extra {
    /// The key.
    pub key: String,
    /// Its value.
    pub value: Value,
    /// Its end-of-line comment (empty for none).
    pub comment: String,
}

/// The special fields: name, and the help line in the original's format 1
/// (`name: type=default ~ help`, with Rust types); files written by the manager keep only the
/// help after `~`. Readers ignore these comments, the original included.
pub(crate) const SPECIALS: [(&str, &str); 10] = [
    ("_root", "_root: Option<String>=None ~ The root directory of the experiment"),
    (
        "_status",
        "_status: String=default ~ One of default, registered, running, finished, error, stopped, timeout, requeue, detached, lost, debug",
    ),
    ("_purpose", "_purpose: Option<String>=None ~ A description of the experiment purpose"),
    ("_notes", "_notes: Option<Vec<String>>=None ~ Notes attached to the experiment"),
    ("_user", "_user: Option<String>=local_user ~ The user of the experiment"),
    ("_host", "_host: Option<String>=local_host ~ The name of the default host"),
    ("_timestamps", "_timestamps: Map<String, Option<String>>=now ~ timestamps attached to the experiment"),
    ("_messages", "_messages: Map<String, Value>={} ~ Messages left by the experiment"),
    ("_version", "_version: Option<Map>=None ~ Experiment version information (module, crate, path, git)"),
    ("_meta", "_meta: Option<Map>=None ~ The global configuration for the experiment manager"),
];

/// The reserved key of the hooks issue: a list of hook configurations, kept verbatim.
pub const HOOKS_KEY: &str = "_hooks";
pub(crate) const HOOKS_HELP: &str = "_hooks: Option<Vec<Map>>=None ~ The hooks attached to the experiment's monitor";

/// Keys left out of defaults.yml, including the legacy `_origin` and `_type`.
const NOT_IN_DEFAULTS: [&str; 8] =
    ["_root", "_status", "_purpose", "_messages", "_timestamps", "_notes", "_origin", "_type"];

/// The names of the special fields, in the manager's order.
pub fn special_names() -> impl Iterator<Item = &'static str> {
    SPECIALS.iter().map(|(k, _)| *k)
}

/// One experiment's record: ordered parameters plus the special fields
/// (docs/file-formats.md#the-special-keys).
///
/// Built by the experiment (from its declared parameters) or read from defaults.yml or
/// params.yml in either producer's layout, legacy keys included.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    /// The parameters, in declaration (or defaults file) order.
    pub params: Vec<Param>,
    /// `_root`: the absolute path of the experiment folder, set by registration.
    pub root: Option<String>,
    /// `_status`.
    pub status: Status,
    /// `_purpose`: free text given at registration.
    pub purpose: Option<String>,
    /// `_notes`; written as null when empty.
    pub notes: Vec<String>,
    /// `_user`: the user at creation.
    pub user: Option<String>,
    /// `_host`: the host at creation.
    pub host: Option<String>,
    /// `_timestamps`.
    pub timestamps: Timestamps,
    /// `_messages`: key to scalar, in first-written order.
    pub messages: Vec<(String, Value)>,
    /// `_version`: provenance (see [`crate::version`]).
    pub version: Option<Value>,
    /// `_meta`: the system snapshot (see [`crate::meta`]).
    pub meta: Option<Value>,
    /// `_hooks`: the reserved hook configuration list, kept verbatim.
    pub hooks: Option<Value>,
    /// Unknown `_` keys, kept verbatim.
    pub extra: Vec<Extra>,
    /// The layout this record is written back in by [`Record::to_yaml`].
    pub layout: Layout,
}

fn opt_text(v: Value) -> Option<String> {
    match v {
        Value::None => None,
        Value::Str(s) => Some(s),
        other => Some(pyfmt::str_of(&other)),
    }
}

fn text_value(s: &Option<String>) -> Value {
    s.clone().map_or(Value::None, Value::Str)
}

/// The help text of a special as the manager layout writes it: what follows ` ~ `.
pub(crate) fn manager_help(help: &str) -> &str {
    help.split_once(" ~ ").map_or(help, |(_, h)| h)
}

/// A value the record holds, borrowed; null when absent.
fn held(v: &Option<Value>) -> Cow<'_, Value> {
    v.as_ref().map_or(Cow::Owned(Value::None), Cow::Borrowed)
}

impl Record {
    /// A record in `default` status holding `params`.
    pub fn new(params: Vec<Param>) -> Record {
        Record { params, ..Record::default() }
    }

    /// Parse a defaults.yml or params.yml text (`<string>` names it in errors).
    pub fn from_yaml_str(text: &str) -> Result<Record> {
        Record::parse(text, Path::new("<string>"))
    }

    /// Read a defaults.yml or params.yml file.
    pub fn load(path: &Path) -> Result<Record> {
        let text = std::fs::read_to_string(path).map_err(|e| RecordError::io("read", path, e))?;
        Record::parse(&text, path)
    }

    /// Parse text that came from `path`: either producer's layout, any key order, and the
    /// legacy keys `_name` (joined onto `_root`) and `_created` (moved to
    /// `_timestamps.created`).
    pub fn parse(text: &str, path: &Path) -> Result<Record> {
        Record::from_entries(yaml::parse_commented_map(text, path)?, path)
    }

    /// [`Record::parse`] for readers that need values only (`xmen list`): help comments are
    /// left empty, and a file in the subset the emitter writes is read without the general YAML
    /// parser (see [`crate::quick`]); any other file goes through it.
    pub fn parse_values(text: &str, path: &Path) -> Result<Record> {
        match crate::quick::parse_map(text) {
            Some(entries) => {
                Record::from_entries(entries.into_iter().map(|(k, v)| (k, v, String::new())).collect(), path)
            }
            None => Record::parse(text, path),
        }
    }

    /// Build a record from top-level `(key, value, comment)` entries read from `path`.
    fn from_entries(entries: Vec<(String, Value, String)>, path: &Path) -> Result<Record> {
        let mut rec = Record::default();
        if entries.len() >= 2 && entries[0].0 == "_root" && entries[1].0 == "_status" {
            rec.layout = Layout::Manager;
        }
        let mut legacy_name = None;
        let mut legacy_created = None;
        for (key, value, comment) in entries {
            match key.as_str() {
                "_root" => rec.root = opt_text(value),
                "_status" => {
                    rec.status = match value {
                        Value::None => Status::Default,
                        Value::Str(s) => s.parse().map_err(|e: RecordError| RecordError::Shape {
                            path: path.to_path_buf(),
                            message: format!("_status: {e}"),
                        })?,
                        other => {
                            return Err(RecordError::Shape {
                                path: path.to_path_buf(),
                                message: format!(
                                    "_status must be a status name but is the {} `{}`; valid values are: {}",
                                    other.kind(),
                                    pyfmt::str_of(&other),
                                    Status::names().join(", ")
                                ),
                            })
                        }
                    }
                }
                "_purpose" => rec.purpose = opt_text(value),
                "_notes" => {
                    rec.notes = match value {
                        Value::None => Vec::new(),
                        Value::List(l) => l.into_iter().filter_map(opt_text).collect(),
                        other => opt_text(other).into_iter().collect(),
                    }
                }
                "_user" => rec.user = opt_text(value),
                "_host" => rec.host = opt_text(value),
                "_timestamps" => rec.timestamps = Timestamps::from_value(value),
                "_messages" => {
                    rec.messages = match value {
                        Value::Map(m) => m,
                        Value::None => Vec::new(),
                        other => {
                            return Err(RecordError::Shape {
                                path: path.to_path_buf(),
                                message: format!(
                                    "_messages must be a map of key: value but is a {}; write `_messages: {{}}`",
                                    other.kind()
                                ),
                            })
                        }
                    }
                }
                "_version" => rec.version = Some(value).filter(|v| *v != Value::None),
                "_meta" => rec.meta = Some(value).filter(|v| *v != Value::None),
                HOOKS_KEY => rec.hooks = Some(value),
                "_name" => legacy_name = opt_text(value),
                "_created" => legacy_created = opt_text(value),
                k if k.starts_with('_') => rec.extra.push(Extra { key, value, comment }),
                _ => rec.params.push(Param { name: key, value, help: comment }),
            }
        }
        if let Some(name) = legacy_name {
            rec.root = Some(match rec.root.take() {
                Some(root) => PathBuf::from(root).join(name).to_string_lossy().into_owned(),
                None => name,
            });
        }
        if let Some(created) = legacy_created {
            rec.timestamps.created = Some(created);
        }
        Ok(rec)
    }

    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.param(name).map(|p| &p.value)
    }

    /// The message stored under `key`.
    pub fn message_value(&self, key: &str) -> Option<&Value> {
        self.messages.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of a special field as written to YAML (`None` for an unknown name).
    pub fn special(&self, name: &str) -> Option<Value> {
        self.special_value(name).map(Cow::into_owned)
    }

    /// [`Record::special`], borrowing what the record holds as a value.
    pub(crate) fn special_value(&self, name: &str) -> Option<Cow<'_, Value>> {
        Some(match name {
            "_root" => Cow::Owned(text_value(&self.root)),
            "_status" => Cow::Owned(Value::Str(self.status.as_str().to_owned())),
            "_purpose" => Cow::Owned(text_value(&self.purpose)),
            "_notes" if self.notes.is_empty() => Cow::Owned(Value::None),
            "_notes" => Cow::Owned(Value::List(self.notes.iter().cloned().map(Value::Str).collect())),
            "_user" => Cow::Owned(text_value(&self.user)),
            "_host" => Cow::Owned(text_value(&self.host)),
            "_timestamps" => Cow::Owned(self.timestamps.to_value()),
            "_messages" => Cow::Owned(Value::Map(self.messages.clone())),
            "_version" => held(&self.version),
            "_meta" => held(&self.meta),
            _ => return None,
        })
    }

    /// Every key, value and help comment, borrowed from the record where it holds them;
    /// specials use the original's format-1 help lines when `manager` is false and the
    /// bare help text otherwise.
    fn entries(&self, manager: bool) -> Vec<(&str, Cow<'_, Value>, &str)> {
        let help_of = |help: &'static str| if manager { manager_help(help) } else { help };
        let mut out = Vec::with_capacity(SPECIALS.len() + self.extra.len() + self.params.len() + 1);
        for (name, help) in SPECIALS {
            out.push((name, self.special_value(name).unwrap_or(Cow::Owned(Value::None)), help_of(help)));
        }
        if let Some(h) = &self.hooks {
            out.push((HOOKS_KEY, Cow::Borrowed(h), help_of(HOOKS_HELP)));
        }
        for e in &self.extra {
            out.push((e.key.as_str(), Cow::Borrowed(&e.value), e.comment.as_str()));
        }
        for p in &self.params {
            out.push((p.name.as_str(), Cow::Borrowed(&p.value), p.help.as_str()));
        }
        out
    }

    fn render(entries: &[(&str, Cow<'_, Value>, &str)]) -> Result<String> {
        let top: Vec<TopEntry<'_>> =
            entries.iter().map(|(k, v, c)| TopEntry { key: k, value: v, comment: Some(c) }).collect();
        yaml::write_document(&top)
    }

    /// params.yml as the experiment writes it (the experiment layout): every key
    /// alphabetical (ASCII order: upper case, then `_`, then lower case), with help comments.
    pub fn to_params_yaml(&self) -> Result<String> {
        let mut e = self.entries(false);
        e.sort_by(|a, b| a.0.cmp(b.0));
        Record::render(&e)
    }

    /// params.yml as `xmen register` writes it (the manager layout): the specials in the
    /// order `_root _status _purpose _notes _user _host _timestamps _messages _version _meta`
    /// with their bare help text, then `_hooks` and other `_` keys, then the parameters in
    /// their order with their help strings.
    pub fn to_manager_yaml(&self) -> Result<String> {
        Record::render(&self.entries(true))
    }

    /// defaults.yml: alphabetical, without `_root _status _purpose _messages
    /// _timestamps _notes` (nor the legacy `_origin _type`).
    pub fn to_defaults_yaml(&self) -> Result<String> {
        let mut e: Vec<_> = self.entries(false).into_iter().filter(|(k, _, _)| !NOT_IN_DEFAULTS.contains(k)).collect();
        e.sort_by(|a, b| a.0.cmp(b.0));
        Record::render(&e)
    }

    /// params.yml in this record's [`Layout`].
    pub fn to_yaml(&self) -> Result<String> {
        match self.layout {
            Layout::Experiment => self.to_params_yaml(),
            Layout::Manager => self.to_manager_yaml(),
        }
    }

    /// All parameters as one map value (name to value), e.g. for display.
    pub fn params_value(&self) -> Value {
        Value::Map(self.params.iter().map(|p| (p.name.clone(), p.value.clone())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(text: &str) -> Record {
        match Record::from_yaml_str(text) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn help_lines_use_format_1() {
        let table = [
            (("a", Some("str"), Some("'Hello'"), Some("The first argument")), "a: str='Hello' ~ The first argument"),
            (
                ("w", None, Some("3"), Some("parameter w has a help message whilst t does not")),
                "w=3 ~ parameter w has a help message whilst t does not",
            ),
            (("t", None, Some("'cat'"), None), "t='cat'"),
            (("t", Some(""), Some(""), Some("  ")), "t"),
            (("lr", Some("f64"), Some("0.001"), None), "lr: f64=0.001"),
        ];
        for ((n, t, d, h), want) in table {
            assert_eq!(help_line(n, t, d, h), want);
        }
    }

    #[test]
    fn legacy_name_joins_root_and_created_moves_to_timestamps() {
        let r = rec("_root: /data/set\n_name: exp1\n_created: 06:58PM September 16, 2019\n_status: registered\na: 3\n");
        assert_eq!(r.root.as_deref(), Some("/data/set/exp1"));
        assert_eq!(r.timestamps.created.as_deref(), Some("06:58PM September 16, 2019"));
        assert_eq!(r.timestamps.start, None);
        assert_eq!(r.status, Status::Registered);
        assert_eq!(r.get("a"), Some(&Value::Int(3)));
        // the legacy keys are gone when written back
        let text = r.to_params_yaml().unwrap_or_default();
        assert!(!text.contains("_name") && !text.contains("_created"), "{text}");
        assert!(text.contains("created: 06:58PM September 16, 2019"), "{text}");
    }

    #[test]
    fn legacy_files_of_every_date_format_are_read() {
        for created in ["02-08-21-19:04:29", "11-16-20-16:50:06", "8/2/2021"] {
            let r = rec(&format!("_created: {created}\n_version:\n  path: '/x/script.sh'\n_meta: {{}}\na: Hello\n"));
            assert_eq!(r.timestamps.created.as_deref(), Some(created));
            assert_eq!(r.status, Status::Default);
        }
    }

    #[test]
    fn hooks_and_unknown_underscore_keys_are_kept() {
        let text = "_hooks:\n- logger: {spec: 'loss@1e', level: info}\n_origin: x # o\n_zzz: 1\na: 1\n";
        let r = rec(text);
        assert!(matches!(&r.hooks, Some(Value::List(l)) if l.len() == 1));
        assert_eq!(r.extra.len(), 2);
        let again = rec(&r.to_params_yaml().unwrap_or_default());
        assert_eq!(again.hooks, r.hooks);
        assert_eq!(again.extra, r.extra);
        let defaults = r.to_defaults_yaml().unwrap_or_default();
        assert!(defaults.contains("_hooks:") && defaults.contains("_zzz: 1") && !defaults.contains("_origin"));
    }

    #[test]
    fn layout_is_detected_and_kept() {
        let manager = rec("_root: /r\n_status: registered\na: 1\n");
        assert_eq!(manager.layout, Layout::Manager);
        assert!(manager.to_yaml().unwrap_or_default().starts_with("_root: /r  # The root directory"));
        let experiment = rec("_status: registered\n_root: /r\na: 1\n");
        assert_eq!(experiment.layout, Layout::Experiment);
        assert!(experiment.to_yaml().unwrap_or_default().starts_with("_host:"));
    }

    #[test]
    fn a_bad_status_in_a_file_is_an_error_listing_valid_values() {
        for text in ["_status: done\n", "_status: 3\n"] {
            let err = Record::from_yaml_str(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("<string>") && err.contains("registered, running"), "{err}");
        }
    }

    #[test]
    fn empty_notes_are_null_and_written_back_the_same() {
        let r = rec("_notes:\na: 1\n");
        assert!(r.notes.is_empty());
        assert_eq!(r.special("_notes"), Some(Value::None));
        let r = rec("_notes:\n- first\n- second\n");
        assert_eq!(r.notes, ["first", "second"]);
        assert_eq!(rec(&r.to_params_yaml().unwrap_or_default()).notes, r.notes);
    }
}

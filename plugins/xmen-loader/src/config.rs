//! The `_hooks` configuration list.

use crate::error::LoadError;
use std::path::PathBuf;

use xmen_core::Value;

/// The keys of a `_hooks` entry.
pub(crate) const ENTRY_KEYS: [&str; 4] = ["hook", "spec", "options", "path"];

/// An entry as an example, for messages.
pub(crate) const EXAMPLE_ENTRY: &str = "{hook: logger, spec: \"loss@10s\", options: {format: \".3f\"}}";

/// One configured hook: `{hook: logger, spec: "x@2s", options: {join: "|"}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct HookConfig {
    /// A hook name (`logger`) or a library path.
    pub hook: String,
    /// Its spec string.
    pub spec: String,
    /// Its options, in order.
    pub options: Vec<(String, Value)>,
    /// The library file, when the entry names it (`path:`); else the hook is resolved by name.
    pub path: Option<PathBuf>,
}

impl HookConfig {
    /// A configuration entry without options.
    pub fn new(hook: &str, spec: &str) -> HookConfig {
        HookConfig { hook: hook.into(), spec: spec.into(), options: Vec::new(), path: None }
    }

    /// Add an option.
    pub fn option(mut self, name: &str, value: impl Into<Value>) -> HookConfig {
        self.options.push((name.into(), value.into()));
        self
    }

    /// Read one entry of a `_hooks` list.
    pub fn from_value(v: &Value, index: usize) -> Result<HookConfig, LoadError> {
        let bad =
            |what: String| LoadError::Config(format!("_hooks entry {index}: {what}; write entries as {EXAMPLE_ENTRY}"));
        let Value::Map(m) = v else { return Err(bad(format!("expected a map, found a {}", v.kind()))) };
        let mut hook = None;
        let mut spec = None;
        let mut options = Vec::new();
        let mut path = None;
        for (k, v) in m {
            match (k.as_str(), v) {
                ("hook", Value::Str(s)) => hook = Some(s.clone()),
                ("spec", Value::Str(s)) => spec = Some(s.clone()),
                ("options", Value::Map(o)) => options = o.clone(),
                ("options", Value::None) => {}
                ("path", Value::Str(p)) => path = Some(PathBuf::from(p)),
                ("hook" | "spec" | "options" | "path", v) => {
                    return Err(bad(format!("{k:?} has the wrong type ({})", v.kind())))
                }
                (other, _) => return Err(bad(format!("unknown key {other:?} (known: {})", ENTRY_KEYS.join(", ")))),
            }
        }
        Ok(HookConfig {
            hook: hook.ok_or_else(|| bad("missing \"hook\"".into()))?,
            spec: spec.ok_or_else(|| bad("missing \"spec\"".into()))?,
            options,
            path,
        })
    }

    /// Read a whole `_hooks` list.
    pub fn list_from_value(v: &Value) -> Result<Vec<HookConfig>, LoadError> {
        match v {
            Value::List(items) => items.iter().enumerate().map(|(i, v)| HookConfig::from_value(v, i)).collect(),
            Value::None => Ok(Vec::new()),
            other => Err(LoadError::Config(format!("_hooks must be a list of hook entries, found a {}", other.kind()))),
        }
    }
}

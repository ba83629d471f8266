//! The `_hooks` configuration list.

use crate::error::LoadError;
use std::path::PathBuf;

use xmen_core::monitor::OnError;
use xmen_core::Value;

/// The keys of a `_hooks` entry.
pub(crate) const ENTRY_KEYS: [&str; 6] = ["hook", "spec", "options", "path", "on_error", "lenient"];

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
    /// What the Monitor does when the hook returns an error (`on_error: warn | disable | stop`).
    pub on_error: OnError,
    /// Start the run without this hook, with a warning, when it fails to load (`lenient: true`).
    pub lenient: bool,
}

impl HookConfig {
    /// A configuration entry without options.
    pub fn new(hook: &str, spec: &str) -> HookConfig {
        HookConfig {
            hook: hook.into(),
            spec: spec.into(),
            options: Vec::new(),
            path: None,
            on_error: OnError::default(),
            lenient: false,
        }
    }

    /// Add an option.
    pub fn option(mut self, name: &str, value: impl Into<Value>) -> HookConfig {
        self.options.push((name.into(), value.into()));
        self
    }

    /// With an error policy.
    pub fn on_error(mut self, on_error: OnError) -> HookConfig {
        self.on_error = on_error;
        self
    }

    /// Whether a failure to load this hook only warns.
    pub fn lenient(mut self, lenient: bool) -> HookConfig {
        self.lenient = lenient;
        self
    }

    /// Read one entry of a `_hooks` list.
    pub fn from_value(v: &Value, index: usize) -> Result<HookConfig, LoadError> {
        HookConfig::from_value_with(v, index, false)
    }

    /// Read one entry of a `_hooks` list; an entry without a `lenient` key takes
    /// `default_lenient` (`lenient_hooks` in xmen.yml).
    pub fn from_value_with(v: &Value, index: usize, default_lenient: bool) -> Result<HookConfig, LoadError> {
        let bad =
            |what: String| LoadError::Config(format!("_hooks entry {index}: {what}; write entries as {EXAMPLE_ENTRY}"));
        let Value::Map(m) = v else { return Err(bad(format!("expected a map, found a {}", v.kind()))) };
        let mut hook = None;
        let mut spec = None;
        let mut options = Vec::new();
        let mut path = None;
        let mut on_error = OnError::default();
        let mut lenient = default_lenient;
        for (k, v) in m {
            match (k.as_str(), v) {
                ("hook", Value::Str(s)) => hook = Some(s.clone()),
                ("spec", Value::Str(s)) => spec = Some(s.clone()),
                ("options", Value::Map(o)) => options = o.clone(),
                ("options", Value::None) => {}
                ("path", Value::Str(p)) => path = Some(PathBuf::from(p)),
                ("on_error", Value::Str(s)) => {
                    on_error = s.parse().map_err(|e: String| bad(format!("\"on_error\": {e}")))?
                }
                ("lenient", Value::Bool(b)) => lenient = *b,
                ("hook" | "spec" | "options" | "path" | "on_error" | "lenient", v) => {
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
            on_error,
            lenient,
        })
    }

    /// Read a whole `_hooks` list.
    pub fn list_from_value(v: &Value) -> Result<Vec<HookConfig>, LoadError> {
        HookConfig::list_from_value_with(v, false)
    }

    /// Read a whole `_hooks` list; entries without a `lenient` key take `default_lenient`.
    pub fn list_from_value_with(v: &Value, default_lenient: bool) -> Result<Vec<HookConfig>, LoadError> {
        match v {
            Value::List(items) => {
                items.iter().enumerate().map(|(i, v)| HookConfig::from_value_with(v, i, default_lenient)).collect()
            }
            Value::None => Ok(Vec::new()),
            other => Err(LoadError::Config(format!("_hooks must be a list of hook entries, found a {}", other.kind()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pairs: &[(&str, Value)]) -> Value {
        Value::Map(pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
    }

    #[test]
    fn on_error_and_lenient_are_read_per_entry() {
        let base = [("hook", Value::from("logger")), ("spec", Value::from("x@1s"))];
        let plain = HookConfig::from_value(&entry(&base), 0).map_err(|e| e.to_string());
        assert_eq!(plain.map(|c| (c.on_error, c.lenient)), Ok((OnError::Warn, false)));
        let mut both = base.to_vec();
        both.extend([("on_error", Value::from("stop")), ("lenient", Value::Bool(true))]);
        let c = HookConfig::from_value(&entry(&both), 0).map_err(|e| e.to_string());
        assert_eq!(c.map(|c| (c.on_error, c.lenient)), Ok((OnError::Stop, true)));
        let table: [(&str, Value, &str); 3] = [
            (
                "on_error",
                Value::from("halt"),
                "_hooks entry 2: \"on_error\": on_error `halt` is not a policy; use warn, disable or stop",
            ),
            ("on_error", Value::Int(1), "_hooks entry 2: \"on_error\" has the wrong type (int)"),
            ("lenient", Value::from("yes"), "_hooks entry 2: \"lenient\" has the wrong type (str)"),
        ];
        for (key, value, want) in table {
            let mut e = base.to_vec();
            e.push((key, value));
            let err = HookConfig::from_value(&entry(&e), 2).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.starts_with(want), "{err}");
        }
    }

    #[test]
    fn the_global_lenient_default_applies_to_entries_that_do_not_say() {
        let base = [("hook", Value::from("logger")), ("spec", Value::from("x@1s"))];
        let mut strict = base.to_vec();
        strict.push(("lenient", Value::Bool(false)));
        let list = Value::List(vec![entry(&base), entry(&strict)]);
        let lenient = |default| {
            HookConfig::list_from_value_with(&list, default)
                .map(|l| l.iter().map(|c| c.lenient).collect::<Vec<_>>())
                .map_err(|e| e.to_string())
        };
        assert_eq!(lenient(true), Ok(vec![true, false]));
        assert_eq!(lenient(false), Ok(vec![false, false]));
    }
}

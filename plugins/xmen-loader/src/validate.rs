//! Validation of a `_hooks` list before anything is written: `xmen register`, an experiment's
//! `-u` and `xmen hooks doctor -c` all call [`validate_hooks`].
//!
//! Key design choice: every problem of every entry is collected, each naming the entry's index
//! and field (`_hooks[1].options.formt`) and the fix, so a sweep is corrected in one pass. The
//! hook is resolved by the same function a run uses ([`crate::Loader::find`]); option names
//! and types are checked only when the library's manifest declares them
//! ([`crate::manifest::ManifestHook::declared_options`]), without loading any library.

use std::fmt;

use xmen_core::hook::OptionInfo;
use xmen_core::spec::Spec;
use xmen_core::Value;

use crate::config::{HookConfig, ENTRY_KEYS, EXAMPLE_ENTRY};
use crate::resolve::did_you_mean;
use crate::Loader;

/// One problem in a `_hooks` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where: `_hooks`, `_hooks[0]`, `_hooks[2].options.formt`.
    pub at: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Every problem found in one `_hooks` list (never empty when returned as an error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problems {
    /// Where the list came from (`defaults.yml`, `-u argument 1`), for the heading.
    pub origin: String,
    /// The problems, in list order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(f, "{}: {n} problem{} in `_hooks`:", self.origin, if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

fn value_fits(kind: &str, v: &Value) -> bool {
    match (kind, v) {
        (_, Value::None) => true,
        ("str", Value::Str(_)) | ("bool", Value::Bool(_)) | ("int", Value::Int(_)) => true,
        ("float", Value::Float(_) | Value::Int(_)) => true,
        ("list", Value::List(_)) | ("map", Value::Map(_)) => true,
        ("str" | "bool" | "int" | "float" | "list" | "map", _) => false,
        // `any`, or a kind this program does not know: not checked.
        _ => true,
    }
}

fn article(kind: &str) -> &'static str {
    if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Check a `_hooks` value from `origin` (see the module docs); the entries when all is well.
pub fn validate_hooks(loader: &Loader, value: &Value, origin: &str) -> Result<Vec<HookConfig>, Problems> {
    let mut problems = Vec::new();
    let mut configs = Vec::new();
    let mut problem = |at: String, message: String| problems.push(Problem { at, message });
    let items = match value {
        Value::None => return Ok(Vec::new()),
        Value::List(items) => items,
        Value::Map(m) => {
            let hint = if m.iter().any(|(k, _)| k == "hook") {
                format!("this looks like one entry: wrap it in a list, `_hooks: [{EXAMPLE_ENTRY}]`")
            } else {
                format!("write `_hooks: [{EXAMPLE_ENTRY}, ...]`")
            };
            problem("_hooks".into(), format!("a map where a list of hook entries is expected; {hint}"));
            return Err(Problems { origin: origin.to_owned(), problems });
        }
        other => {
            problem(
                "_hooks".into(),
                format!(
                    "{} {} where a list of hook entries is expected; write `_hooks: [{EXAMPLE_ENTRY}]`",
                    article(other.kind()),
                    other.kind()
                ),
            );
            return Err(Problems { origin: origin.to_owned(), problems });
        }
    };
    for (i, item) in items.iter().enumerate() {
        let at = |field: &str| if field.is_empty() { format!("_hooks[{i}]") } else { format!("_hooks[{i}].{field}") };
        let Value::Map(fields) = item else {
            problem(
                at(""),
                format!(
                    "{} {} where a hook entry (a map) is expected; write {EXAMPLE_ENTRY}",
                    article(item.kind()),
                    item.kind()
                ),
            );
            continue;
        };
        let mut ok = true;
        for (k, v) in fields {
            if !ENTRY_KEYS.contains(&k.as_str()) {
                let known: Vec<String> = ENTRY_KEYS.iter().map(|s| s.to_string()).collect();
                let mean = did_you_mean(k, &known);
                let mean = mean.first().map(|m| format!("did you mean {m:?}? ")).unwrap_or_default();
                problem(at(k), format!("unknown key; {mean}(known: {})", ENTRY_KEYS.join(", ")));
                ok = false;
                continue;
            }
            let want = match k.as_str() {
                "options" => "map",
                "lenient" => "bool",
                _ => "str",
            };
            if !value_fits(want, v) || (want == "str" && matches!(v, Value::None)) {
                let named = if matches!(v, Value::List(_)) && want == "map" {
                    "a list where a map is expected".to_owned()
                } else {
                    format!("{} {} where {} {want} is expected", article(v.kind()), v.kind(), article(want))
                };
                problem(at(k), format!("{named}; write {EXAMPLE_ENTRY}"));
                ok = false;
            } else if let ("on_error", Value::Str(policy)) = (k.as_str(), v) {
                if let Err(e) = policy.parse::<xmen_core::monitor::OnError>() {
                    problem(at(k), e);
                    ok = false;
                }
            }
        }
        for required in ["hook", "spec"] {
            if !fields.iter().any(|(k, _)| k == required) {
                problem(at(required), format!("missing; write {EXAMPLE_ENTRY}"));
                ok = false;
            }
        }
        if !ok {
            continue;
        }
        let cfg = match HookConfig::from_value(item, i) {
            Ok(c) => c,
            Err(e) => {
                problem(at(""), e.to_string());
                continue;
            }
        };
        if let Err(e) = Spec::parse(&cfg.spec) {
            problem(at("spec"), e.to_string());
        }
        match loader.find_config(&cfg) {
            Err(e) => problem(at(if cfg.path.is_some() { "path" } else { "hook" }), e.to_string()),
            Ok(found) => {
                if let Some(decls) = found.manifest.declared_options(&found.hook) {
                    check_options(&found.hook, decls, &cfg.options, &mut |field, msg| problem(at(&field), msg));
                }
            }
        }
        configs.push(cfg);
    }
    if problems.is_empty() {
        Ok(configs)
    } else {
        Err(Problems { origin: origin.to_owned(), problems })
    }
}

fn check_options(hook: &str, decls: &[OptionInfo], given: &[(String, Value)], problem: &mut dyn FnMut(String, String)) {
    let known: Vec<String> = decls.iter().map(|d| d.name.clone()).collect();
    for (name, v) in given {
        let field = format!("options.{name}");
        match decls.iter().find(|d| &d.name == name) {
            None => {
                let mean = did_you_mean(name, &known);
                let mean = mean.first().map(|m| format!("did you mean {m:?}? ")).unwrap_or_default();
                let list = if known.is_empty() { "it declares none".to_owned() } else { known.join(", ") };
                problem(field, format!("hook {hook:?} has no option {name:?}; {mean}(its options: {list})"));
            }
            Some(d) if !value_fits(&d.kind, v) => problem(
                field,
                format!(
                    "{} {} where hook {hook:?} expects {} {} ({}); `xmen hooks info {hook}` shows its options",
                    article(v.kind()),
                    v.kind(),
                    article(&d.kind),
                    d.kind,
                    d.help
                ),
            ),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_values_fit_their_declared_kinds() {
        let table = [
            ("str", Value::from("x"), true),
            ("str", Value::Int(1), false),
            ("float", Value::Int(1), true),
            ("int", Value::Float(1.5), false),
            ("bool", Value::from("yes"), false),
            ("list", Value::Map(Vec::new()), false),
            ("any", Value::Map(Vec::new()), true),
            ("int", Value::None, true),
        ];
        for (kind, v, fits) in table {
            assert_eq!(value_fits(kind, &v), fits, "{kind} {v:?}");
        }
    }

    #[test]
    fn unknown_and_mistyped_options_are_named_with_a_suggestion() {
        let decls = [OptionInfo::new("format", "str", "a format"), OptionInfo::new("join", "str", "a separator")];
        let given = vec![("formt".to_owned(), Value::from(".3f")), ("join".to_owned(), Value::Int(3))];
        let mut seen = Vec::new();
        check_options("logger", &decls, &given, &mut |f, m| seen.push(format!("{f}: {m}")));
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(seen[0].starts_with("options.formt:") && seen[0].contains("did you mean \"format\""), "{seen:?}");
        assert!(seen[1].starts_with("options.join:") && seen[1].contains("an int where"), "{seen:?}");
    }
}

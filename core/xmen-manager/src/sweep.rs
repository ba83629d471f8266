//! The override ("sweep") grammar of `xmen register -u` (docs/migrating.md#the-sweep-grammar-and-folder-names).
//!
//! A sweep is a YAML mapping, flow (`{lr: 1e-2 | 1e-3, name: dog}`) or block (`lr: 1e-2 | 1e-3`).
//! A value that YAML reads as a string containing `|` is split on every `|` and each piece is
//! read again as a YAML scalar (an empty piece is null); any other value is one alternative. The
//! combinations are the Cartesian product over the keys in mapping order, the first key varying
//! slowest.
//!
//! [`Sweep`] is the grammar alone (no defaults needed, so the command line checks it before any
//! disk I/O); [`Sweep::typed`] checks the keys against the defaults and casts every alternative
//! to its default's type once (as the original documented but did not do: ints become floats for
//! float defaults, partial maps merge into the default map, list lengths must match).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use xmen_core::pyfmt;
use xmen_core::Value;
use xmen_record::declared::{self, declared_type};
use xmen_record::{cast_to_default, yaml, Record, RecordError, HOOKS_KEY};

/// The most combinations one sweep may expand to.
pub const MAX_COMBINATIONS: usize = 10_000_000;

/// A sweep string that is malformed or does not fit the defaults.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// The string is not valid YAML.
    #[error(
        "invalid sweep string at line {line}, column {column}: {message}\n{}\n\
         a sweep is a YAML mapping such as `{{lr: 0.1 | 0.01, epochs: 5}}`; lists and maps can be single \
         values but not `|` alternatives",
        pointer(input, *line, *column)
    )]
    Yaml {
        /// The sweep string.
        input: String,
        /// 1-based line (0 when unknown).
        line: u64,
        /// 1-based column (0 when unknown).
        column: u64,
        /// What the YAML parser expected.
        message: String,
    },

    /// The string is valid YAML but not a mapping.
    #[error("invalid sweep string `{input}`: expected a mapping of parameter: values such as `{{lr: 0.1 | 0.01, epochs: 5}}` but found {found}")]
    NotAMap {
        /// The sweep string.
        input: String,
        /// What was found (`a list`, `nothing`, ...).
        found: String,
    },

    /// One `|` alternative is not a valid YAML scalar.
    #[error("invalid sweep string: alternative {index} of `{key}`, `{piece}`, is not valid YAML ({message}); quote it or fix it")]
    Alternative {
        /// The key whose value was split.
        key: String,
        /// 1-based position of the alternative.
        index: usize,
        /// The piece's text.
        piece: String,
        /// What the YAML parser said.
        message: String,
    },

    /// Keys that are not parameters of the defaults.
    #[error(
        "the sweep names {} not found in the defaults {}: {}; the parameters are: {}",
        if keys.len() == 1 { "a key" } else { "keys" },
        defaults.display(),
        keys.iter().map(|(k, hint)| format!("{k}{hint}")).collect::<Vec<_>>().join(", "),
        known.join(", ")
    )]
    UnknownKeys {
        /// The unknown keys, in sweep order, each with its "did you mean" (or nothing).
        keys: Vec<(String, String)>,
        /// The parameters of the defaults.
        known: Vec<String>,
        /// The defaults file.
        defaults: PathBuf,
    },

    /// A special field (other than `_hooks`) was swept.
    #[error("the sweep sets `{key}`, a special field that cannot be overridden; only parameters and `_hooks` can")]
    Special {
        /// The special's name.
        key: String,
    },

    /// An alternative cannot be cast to its default's type.
    #[error("in the sweep, `{key}: {value}`: {source}{hint}")]
    Cast {
        /// The key.
        key: String,
        /// The alternative, in Python rendering.
        value: String,
        /// How to write what was probably meant (or nothing).
        hint: String,
        /// Why it does not fit (boxed: it is large and rare).
        #[source]
        source: Box<RecordError>,
    },

    /// The product is too large to register.
    #[error("the sweep expands to more than {MAX_COMBINATIONS} combinations; split it into several registrations")]
    TooMany,
}

/// The input line a YAML error points at, with a caret under the column.
fn pointer(input: &str, line: u64, column: u64) -> String {
    let Some(text) = usize::try_from(line).ok().and_then(|l| input.lines().nth(l.saturating_sub(1))) else {
        return format!("  {input}");
    };
    let col = usize::try_from(column).unwrap_or(0).saturating_sub(1);
    format!("  {text}\n  {}^", " ".repeat(col.min(text.chars().count())))
}

/// One key of a sweep and its alternatives, as YAML read them.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepKey {
    /// The parameter (or `_hooks`).
    pub key: String,
    /// Its alternatives, in the order given (at least one).
    pub alternatives: Vec<Value>,
}

/// A parsed sweep string: keys in mapping order with their alternatives.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    keys: Vec<SweepKey>,
}

fn sweep_path() -> &'static Path {
    Path::new("<sweep>")
}

fn split_alternatives(key: &str, text: &str) -> Result<Vec<Value>, SweepError> {
    text.split('|')
        .enumerate()
        .map(|(i, piece)| {
            let piece = piece.trim();
            if piece.is_empty() {
                return Ok(Value::None);
            }
            if let Some(i) = leading_zero_int(piece) {
                return Ok(Value::Int(i));
            }
            yaml::parse(piece, sweep_path()).map_err(|e| SweepError::Alternative {
                key: key.to_owned(),
                index: i + 1,
                piece: piece.to_owned(),
                message: match e {
                    RecordError::Yaml { message, .. } => message,
                    other => other.to_string(),
                },
            })
        })
        .collect()
}

/// `010` is the int 10 in YAML 1.2 (as ruamel reads it); serde-saphyr reads a float.
fn leading_zero_int(piece: &str) -> Option<i64> {
    let digits = piece.strip_prefix(['-', '+']).unwrap_or(piece);
    if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()) {
        piece.parse().ok()
    } else {
        None
    }
}

impl Sweep {
    /// Parse a sweep string (see the module docs for the grammar).
    pub fn parse(input: &str) -> Result<Sweep, SweepError> {
        let value = yaml::parse(input, sweep_path()).map_err(|e| match e {
            RecordError::Yaml { line, column, message, .. } => {
                SweepError::Yaml { input: input.to_owned(), line, column, message }
            }
            other => SweepError::Yaml { input: input.to_owned(), line: 0, column: 0, message: other.to_string() },
        })?;
        let map = match value {
            Value::Map(m) => m,
            Value::None => return Err(SweepError::NotAMap { input: input.to_owned(), found: "nothing".into() }),
            other => {
                return Err(SweepError::NotAMap {
                    input: input.to_owned(),
                    found: format!("the {} `{}`", other.kind(), pyfmt::str_of(&other)),
                })
            }
        };
        let keys = map
            .into_iter()
            .map(|(key, value)| {
                let alternatives = match value {
                    Value::Str(s) if s.contains('|') => split_alternatives(&key, &s)?,
                    other => vec![other],
                };
                Ok(SweepKey { key, alternatives })
            })
            .collect::<Result<_, SweepError>>()?;
        Ok(Sweep { keys })
    }

    /// The keys with their alternatives.
    pub fn keys(&self) -> &[SweepKey] {
        &self.keys
    }

    /// How many combinations the sweep expands to (1 for an empty sweep);
    /// [`SweepError::TooMany`] beyond [`MAX_COMBINATIONS`].
    pub fn len(&self) -> Result<usize, SweepError> {
        self.keys.iter().try_fold(1usize, |n, k| {
            n.checked_mul(k.alternatives.len()).filter(|&n| n <= MAX_COMBINATIONS).ok_or(SweepError::TooMany)
        })
    }

    /// Whether the sweep sets no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Check the keys against `defaults` (read from `defaults_path`, named in errors) and cast
    /// every alternative to its default's type.
    pub fn typed(&self, defaults: &Record, defaults_path: &Path) -> Result<TypedSweep, SweepError> {
        self.len()?;
        let mut unknown = Vec::new();
        for k in &self.keys {
            if k.key == HOOKS_KEY {
                continue;
            }
            if k.key.starts_with('_') {
                return Err(SweepError::Special { key: k.key.clone() });
            }
            if defaults.param(&k.key).is_none() {
                unknown.push(k.key.clone());
            }
        }
        if !unknown.is_empty() {
            let known: Vec<String> = defaults.params.iter().map(|p| p.name.clone()).collect();
            let keys = unknown
                .into_iter()
                .map(|k| {
                    // One or two letters are close to every short name: no guess.
                    let close =
                        if k.chars().count() < 3 { Vec::new() } else { xmen_core::suggest::did_you_mean(&k, &known) };
                    let hint = match close.as_slice() {
                        [] => String::new(),
                        close => format!(
                            " (did you mean {}?)",
                            close.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(" or ")
                        ),
                    };
                    (k, hint)
                })
                .collect();
            return Err(SweepError::UnknownKeys { keys, known, defaults: defaults_path.to_path_buf() });
        }
        let keys = self
            .keys
            .iter()
            .map(|k| {
                let (param, default) = match defaults.params.iter().position(|p| p.name == k.key) {
                    Some(i) => (Some(i), &defaults.params[i].value),
                    None => (None, &Value::None), // _hooks: taken as given
                };
                let alternatives = k
                    .alternatives
                    .iter()
                    .map(|alt| {
                        let cast_error = |source| SweepError::Cast {
                            key: k.key.clone(),
                            value: pyfmt::str_of(alt),
                            hint: list_hint(alt, default),
                            source: Box::new(source),
                        };
                        let mut value = cast_to_default(alt, default, &k.key).map_err(cast_error)?;
                        // A Rust experiment declares each parameter's type in its help line:
                        // refuse now what its run would refuse (issue 13 item 3).
                        let declared = param.and_then(|i| declared_type(&defaults.params[i].help));
                        if let Some(ty) = declared {
                            value = declared::check(&value, ty, &k.key).map_err(cast_error)?;
                        }
                        let shown = shown_value(alt, &value);
                        Ok(TypedAlt { value, shown })
                    })
                    .collect::<Result<_, SweepError>>()?;
                Ok(TypedKey { key: k.key.clone(), param, alternatives })
            })
            .collect::<Result<_, SweepError>>()?;
        Ok(TypedSweep { keys })
    }
}

/// A list given for a parameter that is not a list was most likely meant as alternatives:
/// say how those are written.
fn list_hint(given: &Value, default: &Value) -> String {
    match (given, default) {
        (Value::List(items), d) if !matches!(d, Value::List(_)) && !items.is_empty() => format!(
            "; to register one experiment per value, write the alternatives with `|`: `{}`",
            items.iter().map(pyfmt::str_of).collect::<Vec<_>>().join(" | ")
        ),
        _ => String::new(),
    }
}

/// The value an override is named and recorded by: the cast value, except that a map override
/// shows only the keys it gave (the merged default keys would make every name long).
fn shown_value(given: &Value, cast: &Value) -> Value {
    match (given, cast) {
        (Value::Map(g), Value::Map(c)) => {
            Value::Map(g.iter().filter_map(|(k, _)| c.iter().find(|(ck, _)| ck == k).cloned()).collect())
        }
        _ => cast.clone(),
    }
}

impl FromStr for Sweep {
    type Err = SweepError;

    fn from_str(s: &str) -> Result<Sweep, SweepError> {
        Sweep::parse(s)
    }
}

impl fmt::Display for Sweep {
    /// The sweep in flow style with Python-rendered alternatives: `{lr: 0.01 | 0.001, name: dog}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, k) in self.keys.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}: ", k.key)?;
            for (j, alt) in k.alternatives.iter().enumerate() {
                if j > 0 {
                    f.write_str(" | ")?;
                }
                pyfmt::write_repr(f, alt)?;
            }
        }
        f.write_str("}")
    }
}

/// One alternative after casting.
#[derive(Clone, Debug, PartialEq)]
pub struct TypedAlt {
    /// The value written to params.yml (maps merged into the default).
    pub value: Value,
    /// The value the folder is named by and experiment.yml records as the override.
    pub shown: Value,
}

/// One key of a typed sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct TypedKey {
    /// The parameter (or `_hooks`).
    pub key: String,
    /// The parameter's index in the defaults; `None` for `_hooks`.
    pub param: Option<usize>,
    /// The cast alternatives.
    pub alternatives: Vec<TypedAlt>,
}

/// A sweep checked against the defaults, every alternative cast to its default's type.
#[derive(Clone, Debug, PartialEq)]
pub struct TypedSweep {
    keys: Vec<TypedKey>,
}

impl TypedSweep {
    /// The keys.
    pub fn keys(&self) -> &[TypedKey] {
        &self.keys
    }

    /// How many combinations (checked against [`MAX_COMBINATIONS`] when typed).
    pub fn len(&self) -> usize {
        self.keys.iter().map(|k| k.alternatives.len()).product()
    }

    /// Whether the sweep sets no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The combinations in registration order: the first key varies slowest. Each is one
    /// alternative per key, in key order.
    pub fn combinations(&self) -> impl Iterator<Item = Vec<(&TypedKey, &TypedAlt)>> + '_ {
        (0..self.len()).map(move |mut i| {
            let mut combo = Vec::with_capacity(self.keys.len());
            for k in self.keys.iter().rev() {
                let n = k.alternatives.len();
                combo.push((k, &k.alternatives[i % n]));
                i /= n;
            }
            combo.reverse();
            combo
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmen_record::Param;

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    fn parse(input: &str) -> Vec<(String, Vec<Value>)> {
        match Sweep::parse(input) {
            Ok(sw) => sw.keys().iter().map(|k| (k.key.clone(), k.alternatives.clone())).collect(),
            Err(e) => panic!("{input:?}: {e}"),
        }
    }

    #[test]
    fn alternatives_are_split_and_reparsed_as_yaml_scalars() {
        type Case<'a> = (&'a str, Vec<(&'a str, Vec<Value>)>);
        let table: Vec<Case<'_>> = vec![
            (
                "{a: 1e-3 | 1.0e-3 | .5 | 5. | 0x10 | yes | ~ | null | True}",
                vec![(
                    "a",
                    vec![
                        Value::Float(0.001),
                        Value::Float(0.001),
                        Value::Float(0.5),
                        Value::Float(5.0),
                        Value::Int(16),
                        s("yes"),
                        Value::None,
                        Value::None,
                        Value::Bool(true),
                    ],
                )],
            ),
            ("{maybe: 2 | }", vec![("maybe", vec![Value::Int(2), Value::None])]),
            ("{name: dog|'3'}", vec![("name", vec![s("dog"), s("3")])]),
            ("{a: \"x|y\"}", vec![("a", vec![s("x"), s("y")])]),
            ("{a: Hello, b: World}", vec![("a", vec![s("Hello")]), ("b", vec![s("World")])]),
            ("a: 1 | 2\nb: x", vec![("a", vec![Value::Int(1), Value::Int(2)]), ("b", vec![s("x")])]),
            ("{sizes: [3, 4]}", vec![("sizes", vec![Value::List(vec![Value::Int(3), Value::Int(4)])])]),
            ("{opt: {beta: 0.5}}", vec![("opt", vec![Value::Map(vec![("beta".into(), Value::Float(0.5))])])]),
            ("{a: 3}", vec![("a", vec![Value::Int(3)])]),
            ("{}", vec![]),
            ("a: x | | 1", vec![("a", vec![s("x"), Value::None, Value::Int(1)])]),
            ("{a: 010 | 0o10}", vec![("a", vec![Value::Int(10), Value::Int(8)])]),
        ];
        for (input, want) in table {
            let want: Vec<(String, Vec<Value>)> = want.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            assert_eq!(parse(input), want, "{input}");
        }
    }

    #[test]
    fn malformed_sweeps_say_where_and_what_was_expected() {
        let table: Vec<(&str, &[&str])> = vec![
            ("{a: 1 | 2", &["line 1", "column", "{a: 1 | 2", "^"]),
            ("{a: [1, 2] | [3, 4]}", &["invalid sweep string at line 1", "not `|` alternatives"]),
            ("[1, 2]", &["expected a mapping", "the list `[1, 2]`"]),
            ("", &["expected a mapping", "found nothing"]),
            ("3", &["found the int `3`"]),
            ("{a: x | 'y}", &["alternative 2 of `a`", "`'y`"]),
            ("{a: 1, a: 2}", &["invalid sweep string", "line 1"]),
            ("{a: | 1}", &["line 1, column 5", "`|`"]),
        ];
        for (input, wants) in table {
            let msg = Sweep::parse(input).err().map(|e| e.to_string()).unwrap_or_default();
            for want in wants {
                assert!(msg.contains(want), "{input:?}: {msg:?} lacks {want:?}");
            }
        }
    }

    #[test]
    fn combinations_vary_the_first_key_slowest() {
        let sw = Sweep::parse("{lr: 1e-2 | 1e-3, name: dog|'3', maybe: 2 | }").unwrap_or_else(|e| panic!("{e}"));
        let defaults = Record::new(vec![
            Param::new("lr", 0.1, ""),
            Param::new("name", "x", ""),
            Param::new("maybe", Value::None, ""),
        ]);
        let typed = sw.typed(&defaults, Path::new("defaults.yml")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(typed.len(), 8);
        let rendered: Vec<String> = typed
            .combinations()
            .map(|c| c.iter().map(|(_, a)| pyfmt::str_of(&a.value)).collect::<Vec<_>>().join(","))
            .collect();
        assert_eq!(
            rendered,
            [
                "0.01,dog,2",
                "0.01,dog,None",
                "0.01,3,2",
                "0.01,3,None",
                "0.001,dog,2",
                "0.001,dog,None",
                "0.001,3,2",
                "0.001,3,None"
            ]
        );
    }

    fn defaults() -> Record {
        Record::new(vec![
            Param::new("lr", 0.001, ""),
            Param::new("epochs", 10, ""),
            Param::new("name", "dog", ""),
            Param::new("free", Value::None, ""),
            Param::new("sizes", vec![3, 4], ""),
            Param::new(
                "opt",
                Value::Map(vec![("beta".into(), Value::Float(0.9)), ("eps".into(), Value::Float(1e-8))]),
                "",
            ),
        ])
    }

    #[test]
    fn alternatives_are_cast_to_the_defaults_types() {
        let map =
            |pairs: &[(&str, Value)]| Value::Map(pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect());
        // (sweep, key, value written, value shown)
        let table: Vec<(&str, Value, Value)> = vec![
            ("{lr: 1}", Value::Float(1.0), Value::Float(1.0)),
            ("{lr: 1 | }", Value::Float(1.0), Value::Float(1.0)),
            ("{epochs: 5}", Value::Int(5), Value::Int(5)),
            ("{name: 3}", s("3"), s("3")),
            ("{free: [1]}", Value::List(vec![Value::Int(1)]), Value::List(vec![Value::Int(1)])),
            (
                "{sizes: [5, 6]}",
                Value::List(vec![Value::Int(5), Value::Int(6)]),
                Value::List(vec![Value::Int(5), Value::Int(6)]),
            ),
            (
                "{opt: {beta: 1}}",
                map(&[("beta", Value::Float(1.0)), ("eps", Value::Float(1e-8))]),
                map(&[("beta", Value::Float(1.0))]),
            ),
        ];
        for (input, value, shown) in table {
            let sw = Sweep::parse(input).unwrap_or_else(|e| panic!("{e}"));
            let typed = sw.typed(&defaults(), Path::new("d.yml")).unwrap_or_else(|e| panic!("{input}: {e}"));
            let first = &typed.keys()[0].alternatives[0];
            assert_eq!(first.value, value, "{input}");
            assert_eq!(first.shown, shown, "{input}");
        }
    }

    #[test]
    fn sweeps_that_do_not_fit_the_defaults_are_rejected_naming_the_problem() {
        let table: Vec<(&str, &[&str])> = vec![
            (
                "{c: 3, lr: 1, d: 4}",
                &["keys not found in the defaults /s/defaults.yml: c, d", "the parameters are: lr, epochs"],
            ),
            ("{c: 3}", &["a key not found", ": c;"]),
            ("{_root: /x}", &["`_root`, a special field"]),
            ("{sizes: [1, 2, 3]}", &["`sizes: [1, 2, 3]`", "expects a list of 2 elements but got 3"]),
            ("{epochs: 1 | ten}", &["`epochs: ten`", "expects int but got str"]),
            ("{opt: {beta: big}}", &["`opt.beta` expects float"]),
            ("{lr: [1]}", &["`lr` expects float but got list"]),
        ];
        for (input, wants) in table {
            let sw = Sweep::parse(input).unwrap_or_else(|e| panic!("{e}"));
            let msg =
                sw.typed(&defaults(), Path::new("/s/defaults.yml")).err().map(|e| e.to_string()).unwrap_or_default();
            for want in wants {
                assert!(msg.contains(want), "{input:?}: {msg:?} lacks {want:?}");
            }
        }
    }

    #[test]
    fn hooks_may_be_swept_and_an_empty_sweep_has_one_combination() {
        let sw = Sweep::parse("{_hooks: [{hook: timer}], lr: 1 | 2}").unwrap_or_else(|e| panic!("{e}"));
        let typed = sw.typed(&defaults(), Path::new("d.yml")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(typed.keys()[0].param, None);
        assert_eq!(typed.len(), 2);
        let empty = Sweep::parse("{}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(empty.typed(&defaults(), Path::new("d.yml")).map(|t| t.combinations().count()).ok(), Some(1));
    }

    #[test]
    fn display_shows_the_alternatives() {
        let sw = Sweep::parse("{lr: 1e-2 | 1e-3, name: dog | '3', m: 2 | }").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sw.to_string(), "{lr: 0.01 | 0.001, name: 'dog' | '3', m: 2 | None}");
    }

    #[test]
    fn huge_products_are_refused() {
        let alts = ["1"; 10].join(" | ");
        let input = format!("{{{}}}", (0..8).map(|i| format!("k{i}: {alts}")).collect::<Vec<_>>().join(", "));
        let sw = Sweep::parse(&input).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(sw.len(), Err(SweepError::TooMany)));
    }
}

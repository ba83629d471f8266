//! Parameter overrides with validation, as the original documented but did not do
//! (docs/migrating.md#casting).

use xmen_core::pyfmt;
use xmen_core::Value;

use crate::error::{RecordError, Result};
use crate::record::{Record, HOOKS_KEY};

impl Record {
    /// Apply `overrides` (name, value) to the parameters, all or nothing.
    ///
    /// Rules:
    /// - only in `default` or `detached` status ([`RecordError::Immutable`] otherwise);
    /// - a name that is not a parameter is an error ([`RecordError::UnknownParam`]), a
    ///   special is an error ([`RecordError::Special`]), except `_hooks`, which is replaced;
    /// - each value is cast to the type of the current value (see [`cast_to_default`]): an int
    ///   becomes a float for a float default, a number or bool becomes its Python `str()` for a
    ///   string default, null is never cast, a null default accepts anything, a list must keep
    ///   its length and a map is merged into the default map key by key.
    ///
    /// Returns the names that were updated.
    pub fn update(&mut self, overrides: &[(String, Value)]) -> Result<Vec<String>> {
        if !self.status.is_mutable() {
            return Err(RecordError::Immutable { status: self.status });
        }
        let mut staged: Vec<(Option<usize>, Value)> = Vec::with_capacity(overrides.len());
        for (name, value) in overrides {
            if name == HOOKS_KEY {
                check_writable(value, name)?;
                staged.push((None, value.clone()));
                continue;
            }
            if name.starts_with('_') {
                return Err(RecordError::Special { name: name.clone() });
            }
            let Some(i) = self.params.iter().position(|p| &p.name == name) else {
                return Err(RecordError::UnknownParam {
                    name: name.clone(),
                    known: self.params.iter().map(|p| p.name.clone()).collect(),
                });
            };
            // Later overrides of the same name apply on top of earlier ones.
            let current = staged.iter().rev().find(|(j, _)| *j == Some(i)).map_or(&self.params[i].value, |(_, v)| v);
            let cast = cast_to_default(value, current, name)?;
            staged.push((Some(i), cast));
        }
        let mut names = Vec::with_capacity(staged.len());
        for (i, v) in staged {
            match i {
                Some(i) => {
                    self.params[i].value = v;
                    names.push(self.params[i].name.clone());
                }
                None => {
                    self.hooks = Some(v);
                    names.push(HOOKS_KEY.to_owned());
                }
            }
        }
        Ok(names)
    }
}

fn check_writable(v: &Value, key: &str) -> Result<()> {
    match v {
        Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Str(_) => Ok(()),
        Value::List(l) => l.iter().enumerate().try_for_each(|(i, x)| check_writable(x, &format!("{key}[{i}]"))),
        Value::Map(m) => m.iter().try_for_each(|(k, x)| check_writable(x, &format!("{key}.{k}"))),
        other => Err(RecordError::Unsupported { key: key.to_owned(), kind: other.kind() }),
    }
}

/// Cast `new` to the type of `default` for the parameter `key` (a dotted path in errors).
///
/// | default | accepted override |
/// |---|---|
/// | null | anything, as given |
/// | any | null, which is never cast |
/// | int | int, or a whole-number float (`7.0`, `1e3`: cast to int) |
/// | float | float, or int (cast to float) |
/// | bool | bool |
/// | str | str, or int/float/bool (their Python `str()`) |
/// | list | a list of the same length (any length when the default is empty), cast elementwise |
/// | map | a map, merged into the default: known keys cast, new keys added |
pub fn cast_to_default(new: &Value, default: &Value, key: &str) -> Result<Value> {
    let type_error = || RecordError::Type {
        key: key.to_owned(),
        expected: default.kind(),
        found: new.kind(),
        value: pyfmt::str_of(new),
    };
    check_writable(new, key)?;
    Ok(match (default, new) {
        (_, Value::None) => Value::None,
        (Value::None, v) => v.clone(),
        (Value::Int(_), Value::Int(_))
        | (Value::Float(_), Value::Float(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Str(_), Value::Str(_)) => new.clone(),
        (Value::Float(_), Value::Int(i)) => Value::Float(*i as f64),
        // The original casts a whole-number float to an int default (`7.0`, `1e3`).
        (Value::Int(_), Value::Float(f)) if f.is_finite() && f.fract() == 0.0 => {
            if *f >= -(2f64.powi(63)) && *f < 2f64.powi(63) {
                Value::Int(*f as i64)
            } else {
                return Err(RecordError::Declared {
                    key: key.to_owned(),
                    ty: "int".to_owned(),
                    value: pyfmt::str_of(new),
                    reason: format!(
                        "it is beyond the range of an integer ({} to {}); give a smaller number",
                        i64::MIN,
                        i64::MAX
                    ),
                });
            }
        }
        (Value::Str(_), Value::Int(_) | Value::Float(_) | Value::Bool(_)) => Value::Str(pyfmt::str_of(new)),
        (Value::List(d), Value::List(n)) => {
            if d.is_empty() {
                new.clone()
            } else if d.len() != n.len() {
                return Err(RecordError::ListLength { key: key.to_owned(), expected: d.len(), found: n.len() });
            } else {
                Value::List(
                    d.iter()
                        .zip(n)
                        .enumerate()
                        .map(|(i, (dv, nv))| cast_to_default(nv, dv, &format!("{key}[{i}]")))
                        .collect::<Result<_>>()?,
                )
            }
        }
        (Value::Map(d), Value::Map(n)) => {
            let mut merged = d.clone();
            for (k, nv) in n {
                match merged.iter_mut().find(|(dk, _)| dk == k) {
                    Some((_, dv)) => *dv = cast_to_default(nv, dv, &format!("{key}.{k}"))?,
                    None => merged.push((k.clone(), nv.clone())),
                }
            }
            Value::Map(merged)
        }
        _ => return Err(type_error()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Param;
    use crate::status::Status;

    fn record() -> Record {
        Record::new(vec![
            Param::new("epochs", 10, "epochs: int=10"),
            Param::new("lr", 0.001, ""),
            Param::new("name", "dog", ""),
            Param::new("flag", true, ""),
            Param::new("maybe", Value::None, ""),
            Param::new("sizes", vec![3, 4], ""),
            Param::new("free", Value::List(vec![]), ""),
            Param::new(
                "opt",
                Value::Map(vec![("beta".into(), Value::Float(0.9)), ("eps".into(), Value::Float(1e-8))]),
                "",
            ),
        ])
    }

    fn ov(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    #[test]
    fn valid_overrides_are_cast_to_their_defaults() {
        let s = |x: &str| Value::Str(x.into());
        let table: Vec<(&str, Value, Value)> = vec![
            ("epochs", Value::Int(5), Value::Int(5)),
            ("epochs", Value::Float(7.0), Value::Int(7)),
            ("epochs", Value::Float(1e3), Value::Int(1000)),
            ("lr", Value::Int(1), Value::Float(1.0)),
            ("lr", Value::Float(0.5), Value::Float(0.5)),
            ("lr", Value::None, Value::None),
            ("name", Value::Int(3), s("3")),
            ("name", Value::Float(0.5), s("0.5")),
            ("name", Value::Bool(true), s("True")),
            ("flag", Value::Bool(false), Value::Bool(false)),
            ("maybe", Value::List(vec![Value::Int(1)]), Value::List(vec![Value::Int(1)])),
            ("maybe", s("x"), s("x")),
            ("sizes", Value::List(vec![Value::Int(5), Value::Int(6)]), Value::List(vec![Value::Int(5), Value::Int(6)])),
            (
                "free",
                Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(3)]),
                Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(3)]),
            ),
            (
                "opt",
                Value::Map(vec![("beta".into(), Value::Int(1))]),
                Value::Map(vec![("beta".into(), Value::Float(1.0)), ("eps".into(), Value::Float(1e-8))]),
            ),
            (
                "opt",
                Value::Map(vec![("gamma".into(), Value::Int(2))]),
                Value::Map(vec![
                    ("beta".into(), Value::Float(0.9)),
                    ("eps".into(), Value::Float(1e-8)),
                    ("gamma".into(), Value::Int(2)),
                ]),
            ),
        ];
        for (name, given, want) in table {
            let mut r = record();
            let updated = r.update(&ov(&[(name, given.clone())]));
            assert!(updated.is_ok(), "{name} = {given:?}: {updated:?}");
            assert_eq!(r.get(name), Some(&want), "{name} = {given:?}");
        }
    }

    #[test]
    fn r13_a_number_beyond_an_integer_says_so_not_got_float() {
        let mut r = record();
        let msg = r.update(&ov(&[("epochs", Value::Float(1e23))])).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("`epochs`") && msg.contains("beyond the range of an integer"), "{msg}");
        assert!(!msg.contains("got float"), "{msg}");
    }

    #[test]
    fn invalid_overrides_name_the_key_and_both_types() {
        let s = |x: &str| Value::Str(x.into());
        let table: Vec<(&str, Value, &str)> = vec![
            ("epochs", s("ten"), "parameter `epochs` expects int but got str `ten`"),
            ("epochs", Value::Float(2.5), "parameter `epochs` expects int but got float `2.5`"),
            ("epochs", Value::Bool(true), "expects int but got bool `True`"),
            ("lr", s("fast"), "parameter `lr` expects float but got str `fast`"),
            ("flag", Value::Int(1), "parameter `flag` expects bool but got int `1`"),
            ("name", Value::List(vec![]), "parameter `name` expects str but got list `[]`"),
            ("sizes", Value::List(vec![Value::Int(1)]), "parameter `sizes` expects a list of 2 elements but got 1"),
            ("sizes", Value::List(vec![Value::Int(1), s("x")]), "parameter `sizes[1]` expects int but got str `x`"),
            ("sizes", Value::Int(3), "parameter `sizes` expects list but got int `3`"),
            (
                "opt",
                Value::Map(vec![("beta".into(), s("big"))]),
                "parameter `opt.beta` expects float but got str `big`",
            ),
            ("c", Value::Int(3), "unknown parameter `c`; the parameters are: epochs, lr, name"),
            ("_root", s("/x"), "`_root` is a special field and cannot be updated"),
            ("_status", s("running"), "`_status` is a special field"),
        ];
        for (name, given, want) in table {
            let mut r = record();
            let before = r.clone();
            let err = r.update(&ov(&[("epochs", Value::Int(7)), (name, given.clone())]));
            let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(msg.contains(want), "{name} = {given:?}: {msg}");
            assert_eq!(r, before, "a failed update changes nothing");
        }
    }

    #[test]
    fn hooks_can_be_updated_and_never_count_as_unknown() {
        let mut r = record();
        let hooks = Value::List(vec![Value::Map(vec![("logger".into(), Value::Map(vec![]))])]);
        assert!(r.update(&ov(&[("_hooks", hooks.clone())])).is_ok());
        assert_eq!(r.hooks, Some(hooks));
    }

    #[test]
    fn parameters_are_frozen_once_registered() {
        for (status, ok) in [
            (Status::Default, true),
            (Status::Detached, true),
            (Status::Registered, false),
            (Status::Running, false),
            (Status::Finished, false),
        ] {
            let mut r = record();
            r.status = status;
            let res = r.update(&ov(&[("epochs", Value::Int(1))]));
            assert_eq!(res.is_ok(), ok, "{status}");
            if let Err(e) = res {
                assert!(e.to_string().contains(&format!("status `{status}`")), "{e}");
            }
        }
    }

    #[test]
    fn repeated_overrides_apply_in_order() {
        let mut r = record();
        let res = r.update(&ov(&[
            ("opt", Value::Map(vec![("beta".into(), Value::Float(0.1))])),
            ("opt", Value::Map(vec![("eps".into(), Value::Float(0.2))])),
        ]));
        assert!(res.is_ok());
        assert_eq!(
            r.get("opt"),
            Some(&Value::Map(vec![("beta".into(), Value::Float(0.1)), ("eps".into(), Value::Float(0.2))]))
        );
    }
}

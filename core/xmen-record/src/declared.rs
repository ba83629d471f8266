//! Values checked against the Rust type a parameter declares (issue 13 item 3).
//!
//! A Rust experiment writes each parameter's type into its help line (`epochs: u64=3 ~ ...`).
//! `xmen register` reads defaults.yml, not the binary, so without this check it accepted
//! values that only failed when the run started: `None` for an `f64`, `-1` for a `u64`, a
//! number beyond the type's range. [`check`] refuses those at register time and casts a
//! whole-number float to an integer type (`7.0`, `1e3`), as the original casts.
//!
//! Types it does not know (`String`-likes, maps, the original's Python names `int`, `float`)
//! pass unchanged: the record's own casting rules ([`crate::cast_to_default`]) still apply.

use xmen_core::pyfmt;
use xmen_core::Value;

use crate::error::{RecordError, Result};

/// The declared type of a help line (`epochs: u64=3 ~ ...` -> `u64`), if it names one.
pub fn declared_type(help: &str) -> Option<&str> {
    let (_, rest) = help.split_once(": ")?;
    // The type ends at the default (`=`) or the help (` ~ `); a type holds neither.
    let end = [rest.find('='), rest.find(" ~ ")].into_iter().flatten().min().unwrap_or(rest.len());
    let ty = rest[..end].trim();
    (!ty.is_empty()).then_some(ty)
}

/// The inclusive range of a Rust integer type, as i128.
fn int_range(ty: &str) -> Option<(i128, i128)> {
    Some(match ty {
        "u8" => (0, i128::from(u8::MAX)),
        "u16" => (0, i128::from(u16::MAX)),
        "u32" => (0, i128::from(u32::MAX)),
        "u64" | "usize" => (0, i128::from(u64::MAX)),
        "i8" => (i128::from(i8::MIN), i128::from(i8::MAX)),
        "i16" => (i128::from(i16::MIN), i128::from(i16::MAX)),
        "i32" => (i128::from(i32::MIN), i128::from(i32::MAX)),
        "i64" | "isize" => (i128::from(i64::MIN), i128::from(i64::MAX)),
        _ => return None,
    })
}

fn inner<'a>(ty: &'a str, wrapper: &str) -> Option<&'a str> {
    ty.strip_prefix(wrapper)?.strip_prefix('<')?.strip_suffix('>').map(str::trim)
}

/// Check (and cast) `value` against the declared Rust type `ty` of the parameter `key`.
pub fn check(value: &Value, ty: &str, key: &str) -> Result<Value> {
    let ty = ty.trim();
    let bad = |reason: String| RecordError::Declared {
        key: key.to_owned(),
        ty: ty.to_owned(),
        value: pyfmt::str_of(value),
        reason,
    };
    if let Some(t) = inner(ty, "Option") {
        return match value {
            Value::None => Ok(Value::None),
            v => check(v, t, key),
        };
    }
    if let Some(t) = inner(ty, "Vec") {
        return match value {
            Value::List(items) => Ok(Value::List(
                items.iter().enumerate().map(|(i, v)| check(v, t, &format!("{key}[{i}]"))).collect::<Result<_>>()?,
            )),
            Value::None => Err(bad(format!("a `{ty}` cannot be None; give a list such as [1, 2]"))),
            _ => Ok(value.clone()),
        };
    }
    if let Some((lo, hi)) = int_range(ty) {
        let n: i128 = match value {
            Value::Int(i) => i128::from(*i),
            Value::Float(f) if f.is_finite() && f.fract() == 0.0 => {
                if *f < lo as f64 || *f > hi as f64 {
                    return Err(bad(format!("it is beyond the range of {ty} ({lo} to {hi})")));
                }
                *f as i128
            }
            Value::Float(_) => return Err(bad(format!("a `{ty}` takes a whole number, such as 7 or 1e3"))),
            Value::None => {
                return Err(bad(format!("a `{ty}` cannot be None; give a number (or declare the field Option<{ty}>)")))
            }
            _ => return Ok(value.clone()),
        };
        if n < lo || n > hi {
            return Err(bad(format!("it is beyond the range of {ty} ({lo} to {hi})")));
        }
        return i64::try_from(n)
            .map(Value::Int)
            .map_err(|_| bad(format!("records hold integers up to {}; give a smaller number", i64::MAX)));
    }
    match ty {
        "f32" | "f64" => match value {
            Value::None => {
                Err(bad(format!("a `{ty}` cannot be None; give a number (or declare the field Option<{ty}>)")))
            }
            Value::Int(i) => Ok(Value::Float(*i as f64)),
            Value::Float(f) if ty == "f32" && f.is_finite() && f.abs() > f64::from(f32::MAX) => {
                Err(bad(format!("it is beyond the range of f32 (±{:e})", f32::MAX)))
            }
            _ => Ok(value.clone()),
        },
        "bool" | "String" | "&str" | "PathBuf" | "char" => match value {
            Value::None => {
                Err(bad(format!("a `{ty}` cannot be None; give a value (or declare the field Option<{ty}>)")))
            }
            _ => Ok(value.clone()),
        },
        _ => Ok(value.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_are_read_from_help_lines() {
        for (help, want) in [
            ("epochs: u64=3 ~ Passes", Some("u64")),
            ("x: Option<f64>=None", Some("Option<f64>")),
            ("m: BTreeMap<String, i64>={} ~ a map", Some("BTreeMap<String, i64>")),
            ("w=3 ~ no type", None),
            ("t='cat'", None),
            ("a: str='Hello' ~ The first argument", Some("str")),
        ] {
            assert_eq!(declared_type(help), want, "{help}");
        }
    }

    #[test]
    fn values_are_refused_or_cast_at_register_time() {
        let ok: Vec<(&str, Value, Value)> = vec![
            ("u64", Value::Float(7.0), Value::Int(7)),
            ("u64", Value::Float(1e3), Value::Int(1000)),
            ("i32", Value::Int(-5), Value::Int(-5)),
            ("f64", Value::Int(2), Value::Float(2.0)),
            ("Option<f64>", Value::None, Value::None),
            ("Option<u8>", Value::Float(3.0), Value::Int(3)),
            ("Vec<u64>", Value::List(vec![Value::Float(2.0)]), Value::List(vec![Value::Int(2)])),
            ("String", Value::from("x"), Value::from("x")),
            ("float", Value::None, Value::None),
        ];
        for (ty, given, want) in ok {
            assert_eq!(check(&given, ty, "k").ok(), Some(want), "{ty} {given:?}");
        }
        let bad: Vec<(&str, Value, &str)> = vec![
            ("f64", Value::None, "cannot be None"),
            ("u64", Value::Int(-1), "beyond the range of u64 (0 to 18446744073709551615)"),
            ("u64", Value::Float(1e23), "beyond the range of u64"),
            ("u8", Value::Int(256), "beyond the range of u8 (0 to 255)"),
            ("i64", Value::Float(7.5), "whole number"),
            ("bool", Value::None, "cannot be None"),
            ("Vec<u64>", Value::List(vec![Value::Int(-1)]), "k[0]"),
        ];
        for (ty, given, want) in bad {
            let msg = check(&given, ty, "k").err().map(|e| e.to_string()).unwrap_or_default();
            assert!(msg.contains(want), "{ty} {given:?}: {msg}");
        }
    }
}

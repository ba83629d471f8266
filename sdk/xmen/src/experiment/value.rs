//! [`ParamValue`]: how a parameter's Rust type converts to and from a [`Value`], so that
//! `-u`, params.yml and defaults.yml are validated against the declared types.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use xmen_core::pyfmt;
use xmen_core::Value;

/// A value that does not fit a parameter's type.
///
/// Made by [`ParamValue::from_value`] without the parameter's name; the derive adds the name
/// and the declared type with [`ParamError::named`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    /// The parameter (with `[i]` and `.key` into lists and maps), empty until named.
    pub key: String,
    /// The declared Rust type (`Option<String>`) or the expected kind (`int`).
    pub expected: String,
    /// The kind of the value that was given (`str`, `float`, ...).
    pub found: &'static str,
    /// The given value, rendered like Python's `str()`.
    pub value: String,
    /// Why it does not fit, when more than a kind mismatch (`out of range for u8`).
    pub reason: Option<String>,
}

impl ParamError {
    /// A kind mismatch: `expected` what, given `value`.
    pub fn mismatch(expected: impl Into<String>, value: &Value) -> ParamError {
        ParamError {
            key: String::new(),
            expected: expected.into(),
            found: value.kind(),
            value: pyfmt::str_of(value),
            reason: None,
        }
    }

    /// The same error, with a reason (`out of range for u8`).
    pub fn because(mut self, reason: impl Into<String>) -> ParamError {
        self.reason = Some(reason.into());
        self
    }

    /// The same error for the parameter `key` of declared type `ty`: the outermost call names
    /// the parameter, inner calls (list elements, map entries) keep their path.
    pub fn named(mut self, key: &str, ty: &str) -> ParamError {
        self.key = if self.key.is_empty() { key.to_owned() } else { format!("{key}{}", self.key) };
        if self.reason.is_none() && self.key == key {
            self.expected = ty.to_owned();
        }
        self
    }

    fn inner(mut self, path: String) -> ParamError {
        self.key = format!("{path}{}", self.key);
        self
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.key.is_empty() { "value" } else { self.key.as_str() };
        write!(f, "parameter `{key}` expects {} but got {} `{}`", self.expected, self.found, self.value)?;
        match &self.reason {
            Some(r) => write!(f, " ({r})"),
            None => write!(f, "; give a value of type {}", self.expected),
        }
    }
}

impl std::error::Error for ParamError {}

/// A Rust type a parameter can have: it converts to a [`Value`] (for params.yml and help)
/// and back (for `-u` and params.yml), rejecting values of the wrong type.
///
/// Implemented for `bool`, the integer types, `f32`, `f64`, `String`, `PathBuf`, [`Value`]
/// (anything), `Option<T>` (null is `None`), `Vec<T>`, `BTreeMap<String, T>` and
/// `IndexMap<String, T>`. Implement it for your own type to use it as a parameter:
///
/// ```
/// use xmen::{ParamError, ParamValue, Value};
///
/// #[derive(Clone, Debug, PartialEq)]
/// enum Optimizer { Sgd, Adam }
///
/// impl ParamValue for Optimizer {
///     fn to_value(&self) -> Value {
///         Value::Str(match self { Optimizer::Sgd => "sgd", Optimizer::Adam => "adam" }.into())
///     }
///     fn from_value(v: &Value) -> Result<Self, ParamError> {
///         match v.as_str() {
///             Some("sgd") => Ok(Optimizer::Sgd),
///             Some("adam") => Ok(Optimizer::Adam),
///             _ => Err(ParamError::mismatch("sgd or adam", v)),
///         }
///     }
/// }
///
/// assert_eq!(Optimizer::from_value(&Value::from("adam")), Ok(Optimizer::Adam));
/// assert!(Optimizer::from_value(&Value::from(3)).is_err());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter type: it does not implement `xmen::ParamValue`",
    label = "not a parameter type",
    note = "parameters are bool, integers, f32/f64, String, PathBuf, xmen::Value, Option<T>, Vec<T> or maps of String to T",
    note = "implement `xmen::ParamValue` for it, mark the field `#[param(skip)]`, or add `#[param(flatten)]` if it derives `xmen::Experiment`"
)]
pub trait ParamValue: Sized {
    /// The value written to params.yml.
    fn to_value(&self) -> Value;
    /// Read a value back; an error when it does not fit the type.
    fn from_value(v: &Value) -> Result<Self, ParamError>;
}

impl ParamValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
    fn from_value(v: &Value) -> Result<Self, ParamError> {
        Ok(v.clone())
    }
}

impl ParamValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
    fn from_value(v: &Value) -> Result<Self, ParamError> {
        match v {
            Value::Bool(b) => Ok(*b),
            _ => Err(ParamError::mismatch("bool", v)),
        }
    }
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl ParamValue for $t {
            fn to_value(&self) -> Value {
                // Values beyond i64 (u64/usize only) saturate, as `Value::from` does.
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
            fn from_value(v: &Value) -> Result<Self, ParamError> {
                match v {
                    Value::Int(i) => <$t>::try_from(*i).map_err(|_| {
                        ParamError::mismatch(stringify!($t), v)
                            .because(format!("out of range for {}", stringify!($t)))
                    }),
                    _ => Err(ParamError::mismatch(stringify!($t), v)),
                }
            }
        }
    )*};
}
int_param!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl ParamValue for f64 {
    fn to_value(&self) -> Value {
        Value::Float(*self)
    }
    fn from_value(v: &Value) -> Result<Self, ParamError> {
        match v {
            Value::Float(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            _ => Err(ParamError::mismatch("f64", v)),
        }
    }
}

impl ParamValue for f32 {
    fn to_value(&self) -> Value {
        // Through the shortest decimal text, so 0.1f32 is written 0.1, not 0.10000000149011612.
        Value::Float(self.to_string().parse().unwrap_or(f64::from(*self)))
    }
    fn from_value(v: &Value) -> Result<Self, ParamError> {
        match v {
            Value::Float(f) => Ok(*f as f32),
            Value::Int(i) => Ok(*i as f32),
            _ => Err(ParamError::mismatch("f32", v)),
        }
    }
}

impl ParamValue for String {
    fn to_value(&self) -> Value {
        Value::Str(self.clone())
    }
    /// Text; numbers and booleans are accepted as their Python `str()` (`3`, `0.5`, `True`),
    /// as the record's update rules do.
    fn from_value(v: &Value) -> Result<Self, ParamError> {
        match v {
            Value::Str(s) => Ok(s.clone()),
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => Ok(pyfmt::str_of(v)),
            _ => Err(ParamError::mismatch("String", v)),
        }
    }
}

impl ParamValue for PathBuf {
    fn to_value(&self) -> Value {
        Value::Str(self.display().to_string())
    }
    fn from_value(v: &Value) -> Result<Self, ParamError> {
        match v {
            Value::Str(s) => Ok(PathBuf::from(s)),
            _ => Err(ParamError::mismatch("a path", v)),
        }
    }
}

impl<T: ParamValue> ParamValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::None, T::to_value)
    }
    fn from_value(v: &Value) -> Result<Self, ParamError> {
        match v {
            Value::None => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl<T: ParamValue> ParamValue for Vec<T> {
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(T::to_value).collect())
    }
    fn from_value(v: &Value) -> Result<Self, ParamError> {
        match v {
            Value::List(l) => {
                l.iter().enumerate().map(|(i, x)| T::from_value(x).map_err(|e| e.inner(format!("[{i}]")))).collect()
            }
            _ => Err(ParamError::mismatch("list", v)),
        }
    }
}

fn map_entries(v: &Value) -> Result<&[(String, Value)], ParamError> {
    match v {
        Value::Map(m) => Ok(m),
        _ => Err(ParamError::mismatch("map", v)),
    }
}

impl<T: ParamValue> ParamValue for BTreeMap<String, T> {
    fn to_value(&self) -> Value {
        Value::Map(self.iter().map(|(k, v)| (k.clone(), v.to_value())).collect())
    }
    fn from_value(v: &Value) -> Result<Self, ParamError> {
        map_entries(v)?
            .iter()
            .map(|(k, x)| T::from_value(x).map(|x| (k.clone(), x)).map_err(|e| e.inner(format!(".{k}"))))
            .collect()
    }
}

impl<T: ParamValue> ParamValue for indexmap::IndexMap<String, T> {
    fn to_value(&self) -> Value {
        Value::Map(self.iter().map(|(k, v)| (k.clone(), v.to_value())).collect())
    }
    fn from_value(v: &Value) -> Result<Self, ParamError> {
        map_entries(v)?
            .iter()
            .map(|(k, x)| T::from_value(x).map(|x| (k.clone(), x)).map_err(|e| e.inner(format!(".{k}"))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg<T: ParamValue>(v: Value, ty: &str) -> String {
        T::from_value(&v).err().map(|e| e.named("p", ty).to_string()).unwrap_or_default()
    }

    #[test]
    fn values_round_trip_through_their_types() {
        assert_eq!(i64::from_value(&5i64.to_value()), Ok(5));
        assert_eq!(u8::from_value(&7u8.to_value()), Ok(7));
        assert_eq!(f64::from_value(&Value::Int(2)), Ok(2.0));
        assert_eq!(0.1f32.to_value(), Value::Float(0.1));
        assert_eq!(String::from_value(&Value::Int(3)), Ok("3".to_owned()));
        assert_eq!(Option::<i64>::from_value(&Value::None), Ok(None));
        assert_eq!(Vec::<f64>::from_value(&Value::List(vec![1.into(), 0.5.into()])), Ok(vec![1.0, 0.5]));
        let m = Value::Map(vec![("a".into(), 1.into())]);
        assert_eq!(BTreeMap::<String, i64>::from_value(&m).map(|m| m.len()), Ok(1));
        assert_eq!(indexmap::IndexMap::<String, i64>::from_value(&m).map(|m| m["a"]), Ok(1));
    }

    #[test]
    fn wrong_values_name_the_key_the_type_and_the_value() {
        let table = [
            (msg::<i64>("ten".into(), "i64"), "parameter `p` expects i64 but got str `ten`; give a value of type i64"),
            (msg::<u8>(300.into(), "u8"), "parameter `p` expects u8 but got int `300` (out of range for u8)"),
            (msg::<bool>(1.into(), "bool"), "parameter `p` expects bool but got int `1`"),
            (msg::<Option<String>>(Value::List(vec![]), "Option<String>"), "expects Option<String> but got list `[]`"),
            (
                msg::<Vec<i64>>(Value::List(vec![1.into(), "x".into()]), "Vec<i64>"),
                "parameter `p[1]` expects i64 but got str `x`",
            ),
            (
                msg::<BTreeMap<String, f64>>(Value::Map(vec![("beta".into(), "big".into())]), "BTreeMap<String, f64>"),
                "parameter `p.beta` expects f64 but got str `big`",
            ),
        ];
        for (got, want) in table {
            assert!(got.contains(want), "{got:?} lacks {want:?}");
        }
    }
}

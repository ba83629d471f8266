//! Python-compatible rendering of values: `str()`, `repr()`, `format(v, spec)`,
//! `str(timedelta)`, the strftime formats xmen writes, and human-readable sizes.
//!
//! Folder names, params.yml comments and every logger line are built from Python's text for a
//! value, so this module reproduces CPython's output byte for byte rather than Rust's: floats
//! print their shortest round-trip digits in Python's layout (`1e-05`, not `0.00001`), format
//! specs follow `format()`'s grammar and type rules, and strings inside containers are quoted
//! with `repr`'s rules. The unit tests compare against a live `python3` when one is on PATH.
//!
//! The functions write into any [`std::fmt::Write`] and render numbers on the stack, because the
//! Monitor's logger calls them for every variable on every log line.

use std::fmt::{self, Write};

mod apply;
mod buf;
mod float;
mod size;
mod spec;
mod time;

#[cfg(test)]
mod python_check;

pub use apply::{format_value, FormatError, FormatValueError};
pub use float::{float_repr, write_float};
pub use size::human_bytes;
pub use spec::{FormatSpec, FormatSpecError, MAX_WIDTH};
pub use time::{
    now_last, now_long, now_stamp, stamp_of, timedelta, write_timedelta, DATE_FORMAT, LAST_FORMAT, LONG_DATE_FORMAT,
    SERVER_DATE_FORMAT,
};

use crate::value::Value;

/// Write Python's `str()` of a value.
///
/// Ints as `10`, floats as [`float_repr`], `True`/`False`, `None`, strings as they are, lists
/// as `[3, 'a']` and maps as `{'beta': 0.5}` with their elements `repr`'d. Values Python has no
/// counterpart for render as `tensor(dtype=F32, shape=[2, 3])`, `<png 1234 bytes>`,
/// `<experiment 3>` and `<state 3>`.
///
/// ```
/// use xmen_core::pyfmt::write_str;
/// use xmen_core::Value;
/// let mut s = String::new();
/// write_str(&mut s, &Value::from(vec![Value::from("a"), Value::from(1e-5)])).unwrap();
/// assert_eq!(s, "['a', 1e-05]");
/// ```
pub fn write_str<W: Write + ?Sized>(out: &mut W, v: &Value) -> fmt::Result {
    match v {
        Value::Str(s) => out.write_str(s),
        other => write_repr(out, other),
    }
}

/// Write Python's `repr()` of a value: like [`write_str`], except that a string is quoted
/// (`'abc'`, `"it's"`, `'a\nb'`).
pub fn write_repr<W: Write + ?Sized>(out: &mut W, v: &Value) -> fmt::Result {
    match v {
        Value::None => out.write_str("None"),
        Value::Bool(true) => out.write_str("True"),
        Value::Bool(false) => out.write_str("False"),
        Value::Int(i) => write!(out, "{i}"),
        Value::Float(x) => write_float(out, *x),
        Value::Str(s) => write_quoted(out, s),
        Value::List(items) => {
            out.write_char('[')?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_str(", ")?;
                }
                write_repr(out, item)?;
            }
            out.write_char(']')
        }
        Value::Map(entries) => {
            out.write_char('{')?;
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.write_str(", ")?;
                }
                write_quoted(out, k)?;
                out.write_str(": ")?;
                write_repr(out, item)?;
            }
            out.write_char('}')
        }
        Value::Tensor(t) => {
            write!(out, "tensor(dtype={}, shape=[", t.dtype.name())?;
            for (i, d) in t.shape.iter().enumerate() {
                if i > 0 {
                    out.write_str(", ")?;
                }
                write!(out, "{d}")?;
            }
            out.write_str("])")
        }
        Value::Image(png) => write!(out, "<png {} bytes>", png.len()),
        Value::Experiment(h) => write!(out, "<experiment {}>", h.0),
        Value::State(h) => write!(out, "<state {}>", h.0),
    }
}

/// Python's `str()` of a value as a new string (see [`write_str`]).
pub fn str_of(v: &Value) -> String {
    let mut s = String::new();
    // Writing into a String cannot fail.
    let _ = write_str(&mut s, v);
    s
}

/// Python's `repr()` of a value as a new string (see [`write_repr`]).
pub fn repr_of(v: &Value) -> String {
    let mut s = String::new();
    // Writing into a String cannot fail.
    let _ = write_repr(&mut s, v);
    s
}

/// Write `s` quoted the way Python's `repr(str)` does: single quotes unless the text contains
/// a single quote and no double quote; backslash, the chosen quote, `\n`, `\r` and `\t`
/// escaped; other non-printable characters as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
fn write_quoted<W: Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    out.write_char(quote)?;
    let mut clean_from = 0;
    for (i, c) in s.char_indices() {
        let needs_escape = c == '\\' || c == quote || !is_printable(c);
        if !needs_escape {
            continue;
        }
        out.write_str(&s[clean_from..i])?;
        clean_from = i + c.len_utf8();
        match c {
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if c == quote => {
                out.write_char('\\')?;
                out.write_char(c)?;
            }
            c => match u32::from(c) {
                n @ 0..=0xff => write!(out, "\\x{n:02x}")?,
                n @ 0x100..=0xffff => write!(out, "\\u{n:04x}")?,
                n => write!(out, "\\U{n:08x}")?,
            },
        }
    }
    out.write_str(&s[clean_from..])?;
    out.write_char(quote)
}

/// Whether Python's `repr` shows `c` as is.
///
/// Python escapes the Unicode categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs (except the space).
/// Without Unicode tables this covers controls, the separators, the common format characters,
/// private use and noncharacters; other unassigned code points are shown as is.
fn is_printable(c: char) -> bool {
    let n = u32::from(c);
    if (0x20..0x7f).contains(&n) {
        return true;
    }
    !matches!(
        n,
        0..=0x1f | 0x7f..=0xa0 | 0xad
            | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x890..=0x891 | 0x8e2
            | 0x1680 | 0x180e
            | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x206f
            | 0x3000
            | 0xd800..=0xf8ff | 0xfdd0..=0xfdef | 0xfeff | 0xfff9..=0xfffb
            | 0x110bd | 0x110cd | 0x13430..=0x1343f | 0x1bca0..=0x1bca3 | 0x1d173..=0x1d17a
            | 0xe0001 | 0xe0020..=0xe007f
            | 0xf0000..=0x10ffff
    ) && (n & 0xfffe) != 0xfffe
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;
    use crate::value::{ExperimentHandle, StateHandle, Tensor};

    fn map(entries: &[(&str, Value)]) -> Value {
        entries.iter().map(|(k, v)| (*k, v.clone())).collect()
    }

    #[test]
    fn str_matches_python_str() {
        let cases: Vec<(Value, &str)> = vec![
            (Value::Int(10), "10"),
            (Value::Int(-3), "-3"),
            (Value::Int(i64::MIN), "-9223372036854775808"),
            (Value::Float(0.001), "0.001"),
            (Value::Float(0.5), "0.5"),
            (Value::Float(5.0), "5.0"),
            (Value::Float(1e-5), "1e-05"),
            (Value::Float(1e16), "1e+16"),
            (Value::Float(f64::INFINITY), "inf"),
            (Value::Float(f64::NAN), "nan"),
            (Value::Bool(true), "True"),
            (Value::Bool(false), "False"),
            (Value::None, "None"),
            (Value::from("abc"), "abc"),
            (Value::from("it's"), "it's"),
            (Value::from(""), ""),
            (Value::from(vec![3, 4]), "[3, 4]"),
            (Value::from(vec!["a", "b"]), "['a', 'b']"),
            (Value::List(vec![]), "[]"),
            (Value::List(vec![Value::None, Value::Bool(true), Value::Float(2.0)]), "[None, True, 2.0]"),
            (Value::List(vec![Value::from(vec![1]), Value::List(vec![])]), "[[1], []]"),
            (map(&[("beta", Value::Float(0.5))]), "{'beta': 0.5}"),
            (map(&[("a", Value::from("x")), ("b", Value::from(vec![1, 2]))]), "{'a': 'x', 'b': [1, 2]}"),
            (Value::Map(vec![]), "{}"),
            (Value::Tensor(Tensor::from_f32(&[2, 3], &[0.0; 6])), "tensor(dtype=F32, shape=[2, 3])"),
            (Value::Tensor(Tensor::from_f64(&[], &[1.0])), "tensor(dtype=F64, shape=[])"),
            (Value::Image(vec![0; 1234]), "<png 1234 bytes>"),
            (Value::Experiment(ExperimentHandle(3)), "<experiment 3>"),
            (Value::State(StateHandle(3)), "<state 3>"),
        ];
        for (v, want) in cases {
            assert_eq!(str_of(&v), want, "{v:?}");
            assert_eq!(v.to_string(), want, "Display of {v:?}");
        }
    }

    #[test]
    fn repr_quotes_strings_like_python() {
        // Checked with CPython 3.11's repr().
        let cases: &[(&str, &str)] = &[
            ("abc", "'abc'"),
            ("", "''"),
            ("it's", "\"it's\""),
            ("say \"hi\"", "'say \"hi\"'"),
            ("it's \"x\"", "'it\\'s \"x\"'"),
            ("a\\b", "'a\\\\b'"),
            ("a\nb\rc\td", "'a\\nb\\rc\\td'"),
            ("\x00\x1b\x7f", "'\\x00\\x1b\\x7f'"),
            ("\u{80}\u{a0}\u{ad}", "'\\x80\\xa0\\xad'"),
            ("é ü 日本 😀", "'é ü 日本 😀'"),
            ("\u{2028}\u{200b}\u{feff}", "'\\u2028\\u200b\\ufeff'"),
            ("\u{e000}\u{fdd0}\u{ffff}", "'\\ue000\\ufdd0\\uffff'"),
            ("\u{f0000}\u{e0001}", "'\\U000f0000\\U000e0001'"),
        ];
        for &(s, want) in cases {
            assert_eq!(repr_of(&Value::from(s)), want, "{s:?}");
        }
        assert_eq!(repr_of(&Value::Float(0.1)), "0.1");
        assert_eq!(repr_of(&Value::from(vec!["it's"])), "[\"it's\"]");
    }
}

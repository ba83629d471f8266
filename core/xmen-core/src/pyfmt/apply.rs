//! Applying a [`FormatSpec`] to a [`Value`], as Python's `format(value, spec)` does.

use std::fmt::{self, Write};

use super::buf::NumBuf;
use super::float::{self, FloatStyle};
use super::spec::{Align, FormatSpec, FormatSpecError, Sign, Type};
use crate::value::Value;

/// A value that a (valid) spec cannot format, such as a `str` with `.3f` or a float with `d`.
///
/// Displays as `cannot format a str with ".3f": type "f" needs a number; ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatValueError {
    /// The kind of the value, as [`Value::kind`] names it (`"str"`, `"float"`, ...).
    pub kind: &'static str,
    /// The spec, in canonical form.
    pub spec: String,
    /// Why the two do not fit, and what to use instead.
    pub message: String,
}

impl fmt::Display for FormatValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let article = match self.kind.as_bytes().first() {
            Some(b'a' | b'e' | b'i' | b'o' | b'u') => "an",
            _ => "a",
        };
        write!(f, "cannot format {article} {} with \"{}\": {}", self.kind, self.spec, self.message)
    }
}

impl std::error::Error for FormatValueError {}

/// Either way [`format_value`] can fail: a malformed spec or a value the spec cannot format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The spec string does not parse.
    #[error(transparent)]
    Spec(#[from] FormatSpecError),
    /// The spec parses but does not apply to the value.
    #[error(transparent)]
    Value(#[from] FormatValueError),
}

/// Python's `format(v, spec)` in one call: parse `spec`, then apply it.
///
/// Parse once with [`FormatSpec::from_str`](std::str::FromStr) when formatting repeatedly.
///
/// ```
/// use xmen_core::pyfmt::format_value;
/// use xmen_core::Value;
/// assert_eq!(format_value(&Value::Int(1234567), ",d").unwrap(), "1,234,567");
/// assert_eq!(format_value(&Value::Float(0.25), ".1%").unwrap(), "25.0%");
/// assert!(format_value(&Value::from("abc"), ".3f").is_err());
/// ```
pub fn format_value(v: &Value, spec: &str) -> Result<String, FormatError> {
    let spec: FormatSpec = spec.parse()?;
    Ok(spec.format(v)?)
}

impl FormatSpec {
    /// Python's `format(v, spec)`: the empty spec gives `str(v)`; numbers and text follow
    /// Python's rules for `int`, `float` and `str` (a `bool` with a non-empty spec is the
    /// integer 0 or 1).
    ///
    /// ```
    /// use xmen_core::pyfmt::FormatSpec;
    /// use xmen_core::Value;
    /// let spec: FormatSpec = ".5f".parse().unwrap();
    /// assert_eq!(spec.format(&Value::Int(10)).unwrap(), "10.00000");
    /// ```
    pub fn format(&self, v: &Value) -> Result<String, FormatValueError> {
        let mut s = String::new();
        self.write(&mut s, v)?;
        Ok(s)
    }

    /// Write `format(v, spec)` to `out` (see [`FormatSpec::format`]).
    ///
    /// Nothing is written when the value does not fit the spec. Numbers are rendered on the
    /// stack, so formatting a float or an int into an existing buffer does not allocate. A
    /// failure of `out` itself is reported as a [`FormatValueError`] saying so.
    pub fn write<W: Write + ?Sized>(&self, out: &mut W, v: &Value) -> Result<(), FormatValueError> {
        if self.is_empty() {
            return super::write_str(out, v).map_err(|_| self.sink_error(v.kind()));
        }
        match v {
            Value::Bool(b) => self.write_int(out, i64::from(*b), "bool"),
            Value::Int(i) => self.write_int(out, *i, "int"),
            Value::Float(x) => self.write_float(out, *x, "float"),
            Value::Str(s) => self.write_text(out, s),
            other => Err(self.error(
                other.kind(),
                format!(
                    "only numbers and text take a format spec; use the empty spec \"\" to \
                     print str() of a {}",
                    other.kind()
                ),
            )),
        }
    }

    fn error(&self, kind: &'static str, message: String) -> FormatValueError {
        FormatValueError { kind, spec: self.to_string(), message }
    }

    fn sink_error(&self, kind: &'static str) -> FormatValueError {
        self.error(kind, "the output writer returned an error".to_owned())
    }

    fn write_int<W: Write + ?Sized>(&self, out: &mut W, i: i64, kind: &'static str) -> Result<(), FormatValueError> {
        match self.ty {
            None | Some(Type::Decimal) => {
                if self.precision.is_some() {
                    return Err(self.error(
                        kind,
                        "a precision is not allowed for integers; use type \"f\" (as in \".2f\") to \
                         show decimals"
                            .to_owned(),
                    ));
                }
                let mut body = NumBuf::new();
                write!(body, "{}", i.unsigned_abs()).map_err(|_| self.sink_error(kind))?;
                self.write_number(out, i < 0, &body).map_err(|_| self.sink_error(kind))
            }
            Some(Type::Str) => {
                Err(self.error(kind, "type \"s\" is for text; use \"d\" or no type for integers".to_owned()))
            }
            // Python converts the integer to float for the float types.
            Some(_) => self.write_float(out, i as f64, kind),
        }
    }

    fn write_float<W: Write + ?Sized>(&self, out: &mut W, x: f64, kind: &'static str) -> Result<(), FormatValueError> {
        let (style, upper) = match self.ty {
            None => (FloatStyle::Repr, false),
            Some(Type::Fixed { upper }) => (FloatStyle::Fixed, upper),
            Some(Type::Exp { upper }) => (FloatStyle::Exp, upper),
            Some(Type::General { upper }) => (FloatStyle::General, upper),
            Some(Type::Percent) => (FloatStyle::Percent, false),
            Some(Type::Decimal) => {
                return Err(self.error(
                    kind,
                    "type \"d\" is for integers; use \"f\", \"e\", \"g\" or \"%\" for floats, or \
                     round the value to an int first"
                        .to_owned(),
                ))
            }
            Some(Type::Str) => {
                return Err(self.error(
                    kind,
                    "type \"s\" is for text; use \"f\", \"e\", \"g\", \"%\" or no type for floats".to_owned(),
                ))
            }
        };
        // Python never prints a sign for NaN.
        let negative = x.is_sign_negative() && !x.is_nan();
        let mut body = NumBuf::new();
        float::write_body(&mut body, x.abs(), style, self.precision, self.alt, upper)
            .and_then(|()| self.write_number(out, negative, &body))
            .map_err(|_| self.sink_error(kind))
    }

    fn write_text<W: Write + ?Sized>(&self, out: &mut W, s: &str) -> Result<(), FormatValueError> {
        const KIND: &str = "str";
        if let Some(ty) = self.ty.filter(|&t| t != Type::Str) {
            return Err(self.error(
                KIND,
                format!(
                    "type \"{}\" needs a number; use \"s\" or no type for text, or convert the \
                     text to a number first",
                    ty.as_char()
                ),
            ));
        }
        let refuse = |what: &str| self.error(KIND, format!("{what} is only for numbers; remove it to format text"));
        if let Some(sign) = self.sign {
            return Err(refuse(match sign {
                Sign::Plus => "the sign \"+\"",
                Sign::Minus => "the sign \"-\"",
                Sign::Space => "the sign \" \"",
            }));
        }
        if self.alt {
            return Err(refuse("the alternate form \"#\""));
        }
        if let Some(g) = self.grouping {
            return Err(refuse(if g == ',' { "the separator \",\"" } else { "the separator \"_\"" }));
        }
        if self.align == Some(Align::AfterSign) {
            return Err(refuse("the alignment \"=\""));
        }
        let text = match self.precision {
            Some(p) => s.char_indices().nth(p).map_or(s, |(i, _)| &s[..i]),
            None => s,
        };
        let width = self.width.unwrap_or(0);
        let pad = if width == 0 { 0 } else { width.saturating_sub(text.chars().count()) };
        let (left, right) = split_padding(pad, self.align.unwrap_or(Align::Left));
        let fill = self.fill_char();
        let res =
            write_fill(out, fill, left).and_then(|()| out.write_str(text)).and_then(|()| write_fill(out, fill, right));
        res.map_err(|_| self.sink_error(KIND))
    }

    fn fill_char(&self) -> char {
        self.fill.unwrap_or(if self.zero { '0' } else { ' ' })
    }

    /// Write a rendered number: sign, grouped integer digits, the rest of `body`, with padding
    /// placed as CPython's `fill_number` does (zero padding with `=` is grouped too).
    fn write_number<W: Write + ?Sized>(&self, out: &mut W, negative: bool, body: &NumBuf) -> fmt::Result {
        let sign = if negative {
            Some('-')
        } else {
            match self.sign {
                Some(Sign::Plus) => Some('+'),
                Some(Sign::Space) => Some(' '),
                Some(Sign::Minus) | None => None,
            }
        };
        let sign_len = usize::from(sign.is_some());
        let text = body.as_str()?;
        let n_digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let (digits, rest) = text.split_at(n_digits);
        let fill = self.fill_char();
        let align = self.align.unwrap_or(if self.zero { Align::AfterSign } else { Align::Right });
        let width = self.width.unwrap_or(0);

        // Zero padding after the sign is part of the digits, so separators go through it.
        let min_width =
            if fill == '0' && align == Align::AfterSign { width.saturating_sub(sign_len + rest.len()) } else { 0 };
        let sep = self.grouping;
        let positions = if n_digits == 0 {
            0 // inf and nan: nothing to group or zero-pad
        } else if sep.is_some() {
            group_positions(n_digits, min_width)
        } else {
            n_digits.max(min_width)
        };
        let n_separators = if sep.is_some() && positions > 0 { (positions - 1) / 3 } else { 0 };
        let total = sign_len + positions + n_separators + rest.len();
        let pad = width.saturating_sub(total);

        let (left, right) = split_padding(pad, align);
        let (left, inner) = if align == Align::AfterSign { (0, pad) } else { (left, 0) };
        write_fill(out, fill, left)?;
        if let Some(c) = sign {
            out.write_char(c)?;
        }
        write_fill(out, fill, inner)?;
        write_grouped(out, digits, positions, sep)?;
        out.write_str(rest)?;
        write_fill(out, fill, right)
    }
}

/// Digit positions (real digits plus zero padding) once grouped in threes with separators
/// counted against `min_width`, following CPython's `_PyUnicode_InsertThousandsGrouping`.
fn group_positions(n_digits: usize, min_width: usize) -> usize {
    let mut digits_left = n_digits as i64;
    let mut width_left = min_width as i64;
    let mut positions = 0;
    loop {
        let l = digits_left.max(width_left).clamp(1, 3);
        positions += l;
        digits_left -= digits_left.min(l);
        width_left -= l;
        if digits_left <= 0 && width_left <= 0 {
            break;
        }
        width_left -= 1; // the separator
    }
    positions as usize
}

/// Write `digits` right-aligned in `positions` places (zeros in front), with `sep` before each
/// group of three counted from the right.
fn write_grouped<W: Write + ?Sized>(out: &mut W, digits: &str, positions: usize, sep: Option<char>) -> fmt::Result {
    let zeros = positions.saturating_sub(digits.len());
    let Some(sep) = sep else {
        float::write_zeros(out, zeros as i64)?;
        return out.write_str(digits);
    };
    let mut start = 0;
    let mut end = match positions % 3 {
        0 => 3,
        r => r,
    };
    while start < positions {
        if start > 0 {
            out.write_char(sep)?;
        }
        let zeros_end = end.min(zeros);
        if start < zeros_end {
            float::write_zeros(out, (zeros_end - start) as i64)?;
        }
        let from = start.max(zeros) - zeros;
        let to = end.max(zeros) - zeros;
        if from < to {
            out.write_str(digits.get(from..to).ok_or(fmt::Error)?)?;
        }
        start = end;
        end += 3;
    }
    Ok(())
}

/// Split `pad` fill characters into (before, after) for an alignment.
fn split_padding(pad: usize, align: Align) -> (usize, usize) {
    match align {
        Align::Left => (0, pad),
        Align::Right | Align::AfterSign => (pad, 0),
        Align::Center => (pad / 2, pad - pad / 2),
    }
}

/// Write `fill` `n` times.
fn write_fill<W: Write + ?Sized>(out: &mut W, fill: char, n: usize) -> fmt::Result {
    for _ in 0..n {
        out.write_char(fill)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;
    use crate::value::Tensor;

    fn f(x: f64) -> Value {
        Value::Float(x)
    }

    /// `format(value, spec)` expectations, each checked with CPython 3.11.
    fn table() -> Vec<(Value, &'static str, &'static str)> {
        vec![
            (f(1.0 / 3.0), "", "0.3333333333333333"),
            (f(0.5), "", "0.5"),
            (f(1e-5), "", "1e-05"),
            (Value::Bool(true), "", "True"),
            (Value::None, "", "None"),
            (Value::from(vec![3, 4]), "", "[3, 4]"),
            (Value::from("abc"), "", "abc"),
            (Value::Tensor(Tensor::from_f32(&[2], &[1.0, 2.0])), "", "tensor(dtype=F32, shape=[2])"),
            (f(3.14659), ".3f", "3.147"),
            (Value::Int(10), ".5f", "10.00000"),
            (Value::Bool(true), ".2f", "1.00"),
            (f(2.5), ".0f", "2"),
            (f(0.125), ".2f", "0.12"),
            (f(-0.001), ".2f", "-0.00"),
            (f(3.14659), "10.2f", "      3.15"),
            (f(-3.14659), "10.2f", "     -3.15"),
            (Value::from("ab"), "<10", "ab        "),
            (Value::Int(12), "<10", "12        "),
            (f(1.5), "<10", "1.5       "),
            (Value::from("ab"), "^10s", "    ab    "),
            (Value::from("ab"), "^9", "   ab    "),
            (Value::from("abcdef"), ".3", "abc"),
            (f(12345.678), "+.2e", "+1.23e+04"),
            (f(1e-300), "e", "1.000000e-300"),
            (f(f64::INFINITY), "+.2e", "+inf"),
            (Value::Int(1_234_567), ",d", "1,234,567"),
            (Value::Int(-1_234_567), "_d", "-1_234_567"),
            (f(1_234_567.891), ",.2f", "1,234,567.89"),
            (Value::Int(1234), "010,d", "00,001,234"),
            (f(1234.5), "012,.1f", "00,001,234.5"),
            (f(0.12345), ".1%", "12.3%"),
            (Value::Int(1), "%", "100.000000%"),
            (f(-3.14659), "08.3f", "-003.147"),
            (f(3.14659), "08.3f", "0003.147"),
            (f(f64::NAN), "08.3f", "00000nan"),
            (f(f64::NEG_INFINITY), "010", "-000000inf"),
            (f(1e-5), ".3g", "1e-05"),
            (f(123_456_789.0), ".3g", "1.23e+08"),
            (f(0.0001), ".3g", "0.0001"),
            (f(100.0), "g", "100"),
            (f(1e6), "g", "1e+06"),
            (f(1e-5), "g", "1e-05"),
            (f(1.0), "#.3g", "1.00"),
            (f(100_000.0), "#.3g", "1.00e+05"),
            (f(0.5), ".0g", "0.5"),
            (f(1.0), ".3", "1.0"),
            (f(123.0), ".3", "1.23e+02"),
            (f(1e20), ",", "1e+20"),
            (f(1234.5), ",", "1,234.5"),
            (Value::Int(42), "+d", "+42"),
            (Value::Int(42), " d", " 42"),
            (Value::Int(-42), "=+8d", "-     42"),
            (Value::Int(42), "*>+8", "*****+42"),
            (Value::Bool(true), ">5", "    1"),
            (Value::Int(7), "x^7", "xxx7xxx"),
            (f(1.5), "E", "1.500000E+00"),
            (f(f64::INFINITY), "F", "INF"),
            (f(1.0), "#.0e", "1.e+00"),
            (Value::from("ab"), "05", "ab000"),
            (Value::Int(12), "<05", "12000"),
        ]
    }

    #[test]
    fn specs_format_values_like_python() {
        for (v, spec, want) in table() {
            assert_eq!(format_value(&v, spec).as_deref(), Ok(want), "format({v:?}, {spec:?})");
            // `write` appends to what is already there.
            let mut s = String::from(">");
            spec.parse::<FormatSpec>().unwrap().write(&mut s, &v).unwrap();
            assert_eq!(s, format!(">{want}"));
        }
    }

    #[test]
    fn mismatched_values_are_refused_with_the_reason() {
        let cases: &[(Value, &str, &str)] = &[
            (Value::from("abc"), ".3f", "cannot format a str with \".3f\": type \"f\" needs a number"),
            (Value::from("abc"), "d", "type \"d\" needs a number"),
            (Value::from("abc"), "+", "the sign \"+\" is only for numbers"),
            (Value::from("abc"), "=5", "the alignment \"=\" is only for numbers"),
            (Value::from("abc"), ",", "the separator \",\" is only for numbers"),
            (Value::from("abc"), "#", "the alternate form \"#\" is only for numbers"),
            (f(1.5), "d", "cannot format a float with \"d\": type \"d\" is for integers"),
            (f(1.5), "s", "type \"s\" is for text"),
            (Value::Int(3), "s", "cannot format an int with \"s\""),
            (Value::Int(3), ".2", "a precision is not allowed for integers"),
            (Value::Int(3), ".2d", "use type \"f\""),
            (Value::Bool(true), "s", "cannot format a bool with \"s\""),
            (Value::None, ">5", "cannot format a none with \">5\": only numbers and text"),
            (Value::from(vec![1]), ".3f", "cannot format a list with \".3f\""),
            (Value::Map(vec![]), "s", "use the empty spec \"\" to print str() of a map"),
            (Value::Image(vec![1, 2]), "<9", "cannot format an image"),
        ];
        for (v, spec, needle) in cases {
            let parsed: FormatSpec = spec.parse().unwrap();
            let mut out = String::new();
            let e = parsed.write(&mut out, v).expect_err(spec);
            assert!(out.is_empty(), "nothing is written on error");
            assert_eq!(e.kind, v.kind());
            assert!(e.to_string().contains(needle), "{v:?} {spec:?}: {e}");
            assert_eq!(format_value(v, spec), Err(FormatError::Value(e)));
        }
        let e = format_value(&f(1.0), ".3q").unwrap_err();
        assert!(matches!(e, FormatError::Spec(_)));
        assert!(e.to_string().starts_with("invalid format spec \".3q\": unknown type \"q\" at column 3"));
    }

    #[test]
    fn grouping_counts_separators_into_zero_padding() {
        // CPython pads "=" zero fill with grouped zeros, never starting with a separator.
        let cases: &[(i64, &str, &str)] = &[
            (1, "01,", "1"),
            (1, "02,", "01"),
            (1, "04,", "0,001"),
            (1, "05,", "0,001"),
            (1, "06,", "00,001"),
            (-1, "06,", "-0,001"),
            (123, "07,", "000,123"),
            (1_234_567, "05,", "1,234,567"),
        ];
        for &(i, spec, want) in cases {
            assert_eq!(format_value(&Value::Int(i), spec).as_deref(), Ok(want), "{i} {spec:?}");
        }
    }
}

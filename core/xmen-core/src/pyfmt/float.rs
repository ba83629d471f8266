//! Python's float-to-text conversions: `repr` and the `f`, `e`, `g` and no-type layouts.
//!
//! Rust's `{:e}` and `{:.Ne}` already produce the digits Python needs (shortest round-trip
//! digits, or correctly rounded with ties to even), so this module only parses them into a
//! digit string plus decimal exponent and lays them out the way CPython's
//! `format_float_short` does.

use std::fmt::{self, Write};

use super::buf::NumBuf;

/// A run of zeros for padding, written in chunks.
const ZEROS: &str = "0000000000000000";

/// Python's `repr(x)` of a float: `0.001`, `5.0`, `1e-05`, `1e+16`, `-0.0`, `inf`, `nan`.
///
/// The digits are the shortest that read back to `x`. Scientific notation is used when the
/// decimal exponent is below -4 or at least 16, with a sign and at least two exponent digits;
/// integral values in fixed notation keep a trailing `.0`.
///
/// ```
/// use xmen_core::pyfmt::float_repr;
/// assert_eq!(float_repr(1e-5), "1e-05");
/// assert_eq!(float_repr(0.1 + 0.2), "0.30000000000000004");
/// assert_eq!(float_repr(1e16), "1e+16");
/// ```
pub fn float_repr(x: f64) -> String {
    let mut s = String::with_capacity(24);
    // Writing into a String cannot fail.
    let _ = write_float(&mut s, x);
    s
}

/// Write Python's `repr(x)` of a float (see [`float_repr`]) without allocating.
pub fn write_float<W: Write + ?Sized>(out: &mut W, x: f64) -> fmt::Result {
    if x.is_nan() {
        return out.write_str("nan");
    }
    if x.is_sign_negative() {
        out.write_char('-')?;
    }
    let a = x.abs();
    if a.is_infinite() {
        return out.write_str("inf");
    }
    let d = Decimal::shortest(a)?;
    let exp = d.exp;
    let layout = Layout { use_exp: !(-4..16).contains(&exp), min_digits: 0, add_dot_0: true, alt: false, upper: false };
    layout.write(out, d.digits(), exp)
}

/// The decimal digits of a finite, non-negative float: `digits[0].digits[1..] × 10^exp`.
pub(crate) struct Decimal {
    buf: NumBuf,
    /// Decimal exponent of the first digit.
    pub(crate) exp: i32,
}

impl Decimal {
    /// The shortest digits that round-trip (`0.1` gives `1`, exp -1). Zero gives `0`, exp 0.
    pub(crate) fn shortest(a: f64) -> Result<Decimal, fmt::Error> {
        let mut buf = NumBuf::new();
        write!(buf, "{a:e}")?;
        Decimal::from_sci(buf)
    }

    /// Exactly `n` (at least 1) significant digits, correctly rounded with ties to even.
    pub(crate) fn rounded(a: f64, n: usize) -> Result<Decimal, fmt::Error> {
        let mut buf = NumBuf::new();
        write!(buf, "{:.*e}", n.saturating_sub(1), a)?;
        Decimal::from_sci(buf)
    }

    /// Parse Rust's `d.ddde[-]x` in place into digits and exponent.
    fn from_sci(mut buf: NumBuf) -> Result<Decimal, fmt::Error> {
        let bytes = buf.as_bytes();
        let e_pos = bytes.iter().position(|&b| b == b'e').ok_or(fmt::Error)?;
        let exp = parse_exp(bytes.get(e_pos + 1..).ok_or(fmt::Error)?)?;
        // Drop the '.' after the first digit, if any, by shifting the fraction left.
        let n_digits = if e_pos > 1 {
            buf.as_mut_bytes().copy_within(2..e_pos, 1);
            e_pos - 1
        } else {
            e_pos
        };
        buf.truncate(n_digits);
        Ok(Decimal { buf, exp })
    }

    /// The significant digits, ASCII.
    pub(crate) fn digits(&self) -> &[u8] {
        self.buf.as_bytes()
    }

    /// Drop trailing zeros, keeping at least one digit (what `g` does before layout).
    pub(crate) fn strip_trailing_zeros(&mut self) {
        let d = self.buf.as_bytes();
        let keep = d.iter().rposition(|&b| b != b'0').map_or(1, |i| i + 1);
        self.buf.truncate(keep);
    }
}

/// Parse the exponent Rust prints after `e`: optional `-`, then decimal digits.
fn parse_exp(s: &[u8]) -> Result<i32, fmt::Error> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(fmt::Error);
    }
    let mut v: i32 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(fmt::Error);
        }
        v = v.checked_mul(10).and_then(|v| v.checked_add(i32::from(b - b'0'))).ok_or(fmt::Error)?;
    }
    Ok(if neg { -v } else { v })
}

/// How to lay digits out, mirroring the flags of CPython's `format_float_short`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    /// Scientific notation (`d.ddde+XX`) instead of fixed.
    pub(crate) use_exp: bool,
    /// Pad the significant digits with zeros up to this many (`#g`, `e`).
    pub(crate) min_digits: usize,
    /// In fixed notation, show at least one digit after the point (`5.0`).
    pub(crate) add_dot_0: bool,
    /// Always show the decimal point (`#`).
    pub(crate) alt: bool,
    /// Upper-case `E`.
    pub(crate) upper: bool,
}

impl Layout {
    /// Write `digits × 10^exp` (first digit's exponent) in this layout.
    pub(crate) fn write<W: Write + ?Sized>(&self, out: &mut W, digits: &[u8], exp: i32) -> fmt::Result {
        let nd = digits.len() as i64;
        // Position of the decimal point, counted in digits from the first significant one.
        let decpt: i64 = if self.use_exp { 1 } else { i64::from(exp) + 1 };
        let mut end = nd.max(self.min_digits as i64);
        end = end.max(if !self.use_exp && self.add_dot_0 { decpt + 1 } else { decpt });
        if decpt <= 0 {
            out.write_char('0')?;
        } else {
            write_positions(out, digits, 0, decpt)?;
        }
        if end > decpt || self.alt {
            out.write_char('.')?;
        }
        write_positions(out, digits, decpt, end)?;
        if self.use_exp {
            write_exponent(out, exp, self.upper)?;
        }
        Ok(())
    }
}

/// Write digit positions `start..end`; positions outside the digit string are zeros.
fn write_positions<W: Write + ?Sized>(out: &mut W, digits: &[u8], start: i64, end: i64) -> fmt::Result {
    if start >= end {
        return Ok(());
    }
    let nd = digits.len() as i64;
    write_zeros(out, (end.min(0) - start).max(0))?;
    let a = start.clamp(0, nd);
    let b = end.clamp(a, nd);
    if a < b {
        let slice = digits.get(a as usize..b as usize).ok_or(fmt::Error)?;
        out.write_str(std::str::from_utf8(slice).map_err(|_| fmt::Error)?)?;
    }
    write_zeros(out, (end - start.max(nd)).max(0))
}

/// Write `n` zeros.
pub(crate) fn write_zeros<W: Write + ?Sized>(out: &mut W, n: i64) -> fmt::Result {
    let mut left = usize::try_from(n).unwrap_or(0);
    while left > 0 {
        let k = left.min(ZEROS.len());
        out.write_str(&ZEROS[..k])?;
        left -= k;
    }
    Ok(())
}

/// Python's exponent suffix: `e+05`, `e-300`, `E+16`.
fn write_exponent<W: Write + ?Sized>(out: &mut W, exp: i32, upper: bool) -> fmt::Result {
    out.write_char(if upper { 'E' } else { 'e' })?;
    out.write_char(if exp < 0 { '-' } else { '+' })?;
    let e = exp.unsigned_abs();
    if e < 10 {
        out.write_char('0')?;
    }
    write!(out, "{e}")
}

/// The presentation types a float can be rendered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FloatStyle {
    /// No type: `repr` without a precision, `g`-like with at least one fractional digit with one.
    Repr,
    /// `f` / `F`.
    Fixed,
    /// `e` / `E`.
    Exp,
    /// `g` / `G`.
    General,
    /// `%`: fixed after multiplying by 100, then a `%` sign.
    Percent,
}

/// The largest precision [`fixed_from_shortest`] takes.
const FIXED_MAX: usize = 12;

/// Write `v` (finite, not negative) as `{v:.p$}` would, from the shortest decimal that reads
/// back as `v` (Rust's `{}`, which never needs the exact-digits fallback, Dragon4, that
/// `{:.p$}` runs on values such as 0.9: the Logger's `.4f` spent 60% of a firing there).
/// `Ok(false)`, with nothing written, where this cannot decide.
///
/// Python rounds the exact binary value of `v`, which lies within half an ulp of that shortest
/// decimal `S`. Limited to `1e-20 <= v < 10^(15-p)` (or `v == 0`), where an ulp is under
/// `0.45 * 10^-p`:
/// - when `S` has at most `p` fractional digits, the exact value rounds to `S` itself (the
///   next candidates are `10^-p` away), padded with zeros;
/// - when it has more, the exact value and `S` lie on the same side of every rounding boundary
///   `B` (a decimal of `p + 1` digits) unless `S == B`: a `B` strictly between them would be a
///   decimal that reads back as `v` and is shorter than `S`, or as short and closer to `v`,
///   and `S` is the shortest and, among those, the closest. So rounding `S` gives Python's
///   digits, except for a tie in `S` (`...5` just after the `p`th digit), left to the caller.
fn fixed_from_shortest(out: &mut NumBuf, v: f64, p: usize) -> Result<bool, fmt::Error> {
    const LIMIT: [f64; FIXED_MAX + 1] = [1e15, 1e14, 1e13, 1e12, 1e11, 1e10, 1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3];
    if p > FIXED_MAX || !(v == 0.0 || (1e-20..LIMIT[p]).contains(&v)) {
        return Ok(false);
    }
    let start = out.as_bytes().len();
    write!(out, "{v}")?;
    let bytes = out.as_bytes();
    let Some(dot) = bytes[start..].iter().position(|&b| b == b'.').map(|d| start + d) else {
        // A whole number: `p` zeros after the point.
        if p > 0 {
            out.push(b'.');
            (0..p).for_each(|_| out.push(b'0'));
        }
        return Ok(true);
    };
    let frac = bytes.len() - dot - 1;
    if frac <= p {
        (frac..p).for_each(|_| out.push(b'0'));
        return Ok(true);
    }
    let cut = dot + 1 + p;
    if &bytes[cut..] == b"5" {
        out.truncate(start);
        return Ok(false);
    }
    let up = bytes[cut] >= b'5';
    out.truncate(if p == 0 { dot } else { cut });
    if !up {
        return Ok(true);
    }
    // Round up: add one to the last kept digit, carrying left over nines and the point.
    let digits = &mut out.as_mut_bytes()[start..];
    let mut carry = true;
    for d in digits.iter_mut().rev() {
        match *d {
            b'9' => *d = b'0',
            b'0'..=b'8' => {
                *d += 1;
                carry = false;
                break;
            }
            _ => {} // the point
        }
    }
    if carry {
        // 9.99 -> 10.00: a new leading digit.
        let mut kept = [0u8; 40];
        let len = digits.len();
        let Some(dst) = kept.get_mut(..len) else {
            out.truncate(start);
            return Ok(false);
        };
        dst.copy_from_slice(digits);
        out.truncate(start);
        out.push(b'1');
        out.push_bytes(&kept[..len]);
    }
    Ok(true)
}

/// Write the unsigned body of `format(a, spec)` for a non-negative (or NaN) `a`: digits, point,
/// exponent and `%`, but no sign, grouping or padding.
pub(crate) fn write_body(
    out: &mut NumBuf,
    a: f64,
    style: FloatStyle,
    precision: Option<usize>,
    alt: bool,
    upper: bool,
) -> fmt::Result {
    if !a.is_finite() {
        let word = match (a.is_nan(), upper) {
            (true, false) => "nan",
            (true, true) => "NAN",
            (false, false) => "inf",
            (false, true) => "INF",
        };
        out.write_str(word)?;
        if style == FloatStyle::Percent {
            out.push(b'%');
        }
        return Ok(());
    }
    match style {
        FloatStyle::Fixed | FloatStyle::Percent => {
            let v = if style == FloatStyle::Percent { a * 100.0 } else { a };
            let p = precision.unwrap_or(6);
            if !fixed_from_shortest(out, v, p)? {
                write!(out, "{v:.p$}")?;
            }
            if alt && p == 0 {
                out.push(b'.');
            }
            if style == FloatStyle::Percent {
                out.push(b'%');
            }
            Ok(())
        }
        FloatStyle::Exp => {
            let p = precision.unwrap_or(6);
            let d = Decimal::rounded(a, p + 1)?;
            let layout = Layout { use_exp: true, min_digits: p + 1, add_dot_0: false, alt, upper };
            layout.write(out, d.digits(), d.exp)
        }
        FloatStyle::General => general(out, a, precision.unwrap_or(6), false, alt, upper),
        FloatStyle::Repr => match precision {
            Some(p) => general(out, a, p, true, alt, upper),
            None => {
                let d = Decimal::shortest(a)?;
                let layout = Layout { use_exp: !(-4..16).contains(&d.exp), min_digits: 0, add_dot_0: true, alt, upper };
                layout.write(out, d.digits(), d.exp)
            }
        },
    }
}

/// Python's `g` (and the no-type form with a precision, `add_dot_0`): round to `p` significant
/// digits, then pick fixed or scientific from the exponent and drop trailing zeros unless `alt`.
fn general(out: &mut NumBuf, a: f64, p: usize, add_dot_0: bool, alt: bool, upper: bool) -> fmt::Result {
    let p = p.max(1);
    let mut d = Decimal::rounded(a, p)?;
    d.strip_trailing_zeros();
    let limit = if add_dot_0 { p as i64 - 1 } else { p as i64 };
    let exp = i64::from(d.exp);
    let layout =
        Layout { use_exp: exp < -4 || exp >= limit, min_digits: if alt { p } else { 0 }, add_dot_0, alt, upper };
    layout.write(out, d.digits(), d.exp)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    #[test]
    fn fixed_from_the_shortest_decimal_writes_what_exact_rounding_writes() {
        // Values that round, tie, carry, sit at the fast path's limits, or need the slow path.
        let mut xs = vec![
            0.0,
            0.9,
            0.123456,
            0.5,
            1.5,
            2.5,
            0.125,
            0.375,
            1e-5,
            0.00005,
            0.00015,
            9.99995,
            99999.99995,
            123456789.0,
            1e11,
            1e14 - 1.0,
            1e15 - 1.0,
            1e15,
            1e16,
            1e23,
            5e-324,
            1e-20,
            1.0 / 3.0,
            2.0 / 3.0,
            7.25,
            f64::MAX,
            f64::MIN_POSITIVE,
            0.1 + 0.2,
            1.005,
            2.675,
            0.99995,
            9.5,
            99.96,
            0.0451,
            0.95,
            999.9999999,
            0.00004,
            0.00006,
            9.0,
            99.0,
        ];
        // And a deterministic spread over magnitudes (a linear congruential sequence).
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..4000 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let mantissa = (state >> 11) as f64 / (1u64 << 53) as f64;
            let exp = ((state >> 3) % 24) as i32 - 12;
            xs.push(mantissa * 10f64.powi(exp));
            // Short decimals (the fast path's case): k / 10^d.
            xs.push((state % 100_000) as f64 / 10f64.powi((state % 7) as i32));
        }
        let mut taken = 0;
        for p in 0..=FIXED_MAX + 1 {
            for &x in &xs {
                let want = format!("{x:.p$}");
                let mut got = NumBuf::new();
                got.push_bytes(b"v = ");
                if fixed_from_shortest(&mut got, x, p).unwrap() {
                    assert_eq!(&got.as_str().unwrap()["v = ".len()..], want, "{x:?} with .{p}f");
                    taken += 1;
                } else {
                    assert_eq!(got.as_str().unwrap(), "v = ", "{x:?} with .{p}f: nothing written when declined");
                }
            }
        }
        // The fast path is the common one, not a rarity hiding behind the fallback.
        assert!(taken * 10 > xs.len() * (FIXED_MAX + 1) * 8, "fast path taken {taken} times");
    }

    /// Expectations checked with CPython 3.11's `repr`.
    const REPRS: &[(f64, &str)] = &[
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (0.1, "0.1"),
        (1.0 / 3.0, "0.3333333333333333"),
        (2.0 / 3.0, "0.6666666666666666"),
        (0.001, "0.001"),
        (0.0001, "0.0001"),
        (0.00012, "0.00012"),
        (1e-5, "1e-05"),
        (1.5e-5, "1.5e-05"),
        (2.5e-7, "2.5e-07"),
        (0.5, "0.5"),
        (5.0, "5.0"),
        (-3.0, "-3.0"),
        (10.0, "10.0"),
        (123.456, "123.456"),
        (1e15, "1000000000000000.0"),
        (9999999999999998.0, "9999999999999998.0"),
        (1e16, "1e+16"),
        (1.5e16, "1.5e+16"),
        (123456789012345678.0, "1.2345678901234568e+17"),
        (1.5e300, "1.5e+300"),
        (1e100, "1e+100"),
        (f64::MAX, "1.7976931348623157e+308"),
        (f64::MIN, "-1.7976931348623157e+308"),
        (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        (5e-324, "5e-324"),
        (f64::EPSILON, "2.220446049250313e-16"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (f64::NAN, "nan"),
        (-f64::NAN, "nan"),
        (0.1 + 0.2, "0.30000000000000004"),
        (100.0, "100.0"),
        (1234567.0, "1234567.0"),
        (-1e-7, "-1e-07"),
        (2.675, "2.675"),
    ];

    #[test]
    fn float_repr_matches_python_repr() {
        for &(x, want) in REPRS {
            assert_eq!(float_repr(x), want, "repr({x:?})");
            let mut s = String::new();
            write_float(&mut s, x).unwrap();
            assert_eq!(s, want);
        }
    }

    #[test]
    fn decimal_rounds_half_to_even_like_python() {
        // 0.125 and 2.5 are exact binary values, so these are true ties.
        let d = Decimal::rounded(0.125, 2).unwrap();
        assert_eq!((d.digits(), d.exp), (&b"12"[..], -1));
        let d = Decimal::rounded(2.5, 1).unwrap();
        assert_eq!((d.digits(), d.exp), (&b"2"[..], 0));
        let d = Decimal::rounded(9.99, 2).unwrap();
        assert_eq!((d.digits(), d.exp), (&b"10"[..], 1));
        let d = Decimal::shortest(0.0).unwrap();
        assert_eq!((d.digits(), d.exp), (&b"0"[..], 0));
    }

    #[test]
    fn body_covers_each_style() {
        // (value, style, precision, alt, upper, expected), checked with CPython 3.11.
        type Case = (f64, FloatStyle, Option<usize>, bool, bool, &'static str);
        let cases: &[Case] = &[
            (1.0, FloatStyle::Repr, Some(3), false, false, "1.0"),
            (123.0, FloatStyle::Repr, Some(3), false, false, "1.23e+02"),
            (5.0, FloatStyle::Repr, Some(1), false, false, "5e+00"),
            (1e16, FloatStyle::Repr, None, true, false, "1.e+16"),
            (2.0, FloatStyle::Fixed, Some(0), true, false, "2."),
            (0.125, FloatStyle::Fixed, Some(2), false, false, "0.12"),
            (1e5, FloatStyle::General, Some(3), true, false, "1.00e+05"),
            (0.0, FloatStyle::General, Some(3), true, false, "0.00"),
            (0.0001, FloatStyle::General, Some(3), true, false, "0.000100"),
            (1e-5, FloatStyle::General, Some(3), false, false, "1e-05"),
            (123456.0, FloatStyle::General, None, false, true, "123456"),
            (1234567.0, FloatStyle::General, None, false, true, "1.23457E+06"),
            (1.0, FloatStyle::Exp, Some(0), true, false, "1.e+00"),
            (0.5, FloatStyle::Percent, Some(1), false, false, "50.0%"),
            (f64::INFINITY, FloatStyle::Percent, None, false, false, "inf%"),
            (f64::NAN, FloatStyle::Fixed, None, false, true, "NAN"),
        ];
        for &(x, style, p, alt, upper, want) in cases {
            let mut b = NumBuf::new();
            write_body(&mut b, x, style, p, alt, upper).unwrap();
            assert_eq!(b.as_str().unwrap(), want, "{x:?} {style:?} {p:?} alt={alt}");
        }
    }
}

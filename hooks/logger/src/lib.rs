//! The Logger hook: prints `[{last} {levels}]: name = value ...` for the
//! variables its spec matches.
//!
//! Unlike the original it prints the full value (`cat|dog`, not `cat|do`) and
//! applies the format to the raw value, not to its text. Options: `format` (a Python format spec
//! such as `.4f`) and `join` (a separator for list values, the usual `log_fn`).

use std::fmt::Write as _;
use xmen_hook::pyfmt::FormatSpec;
use xmen_hook::{Firing, Hook, HookError, HookResult, NewHook, OptionDecl, Options, Outcome, Spec, Value, ValueRef};

/// Prints matched variables.
pub struct Logger {
    format: FormatSpec,
    /// `N` when the format is exactly `.Nf` (the common `.4f`): floats take [`write_fixed`].
    fixed: Option<usize>,
    join: Option<String>,
    line: String,
}

/// The largest `N` of a `.Nf` format that takes the fast path.
const FIXED_MAX: usize = 12;

/// Write `x` as Python's `format(x, ".{n}f")` would, from the shortest decimal that reads back
/// as `x` (Rust's `{}`, which never needs the slow exact-digits fallback, Dragon4, that `{:.n}`
/// runs on values such as 0.9); `false`, with nothing written, where that cannot decide.
///
/// Python rounds the exact binary value of `x`, which lies within half an ulp of that
/// shortest decimal `S`. Limited to `|x| < 10^(15-n)`, where an ulp is under `0.45 * 10^-n`:
/// - when `S` has at most `n` fractional digits, the exact value rounds to `S` itself (the
///   next candidates are `10^-n` away), padded with zeros;
/// - when it has more, the exact value and `S` lie on the same side of every rounding boundary
///   `B` (a decimal of `n + 1` digits) unless `S == B`: a `B` strictly between them would be a
///   decimal that reads back as `x` and is shorter than `S`, or as short and closer to `x`,
///   and `S` is the shortest and, among those, the closest. So rounding `S` gives Python's
///   digits, except for a tie in `S` (`...5` just after the `n`th digit), left to the caller.
fn write_fixed(out: &mut String, x: f64, n: usize) -> bool {
    const LIMIT: [f64; FIXED_MAX + 1] = [1e15, 1e14, 1e13, 1e12, 1e11, 1e10, 1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3];
    // NaN and infinities fail `is_finite`; the limit keeps an ulp under the last digit.
    if n > FIXED_MAX || !x.is_finite() || x.abs() >= LIMIT[n] {
        return false;
    }
    let start = out.len();
    let _ = write!(out, "{x}");
    let Some(dot) = out[start..].find('.').map(|d| start + d) else {
        // An integer: `n` zeros after the point.
        if n > 0 {
            out.push('.');
            out.extend(std::iter::repeat_n('0', n));
        }
        return true;
    };
    let frac = out.len() - dot - 1;
    if frac <= n {
        out.extend(std::iter::repeat_n('0', n - frac));
        return true;
    }
    let cut = dot + 1 + n;
    let bytes = out.as_bytes();
    if &bytes[cut..] == b"5" {
        out.truncate(start);
        return false;
    }
    let up = bytes[cut] >= b'5';
    let kept = if n == 0 { dot } else { cut };
    if !up {
        out.truncate(kept);
        return true;
    }
    // Round the magnitude up: add one to the last kept digit, carrying left (over the point).
    let mut digits = [0u8; 40];
    let len = kept - start;
    if len + 1 > digits.len() {
        out.truncate(start);
        return false;
    }
    digits[..len].copy_from_slice(&bytes[start..kept]);
    let mut i = len;
    let mut carry = true;
    while carry && i > 0 {
        i -= 1;
        match digits[i] {
            b'9' => digits[i] = b'0',
            d @ b'0'..=b'8' => {
                digits[i] = d + 1;
                carry = false;
            }
            _ => {} // the point; a sign stops the loop below
        }
        if digits[i] == b'-' {
            break;
        }
    }
    out.truncate(start);
    let sign = usize::from(digits[0] == b'-');
    if carry {
        // 9.99 -> 10.00: a new leading digit after the sign.
        out.push_str(if sign == 1 { "-1" } else { "1" });
        out.push_str(std::str::from_utf8(&digits[sign..len]).unwrap_or_default());
    } else {
        out.push_str(std::str::from_utf8(&digits[..len]).unwrap_or_default());
    }
    true
}

/// `N` when `format` is exactly `.Nf` with `N <= FIXED_MAX`.
fn fixed_precision(format: &str) -> Option<usize> {
    let digits = format.strip_prefix('.')?.strip_suffix('f')?;
    if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&n| n <= FIXED_MAX)
}

impl Logger {
    /// A logger with a format spec and an optional list separator.
    pub fn new(format: &str, join: Option<&str>) -> Result<Logger, HookError> {
        let format_str = format;
        let format = format.parse::<FormatSpec>().map_err(|e| {
            HookError::new(format!("option \"format\": {e}")).with_help("use a Python format spec such as \".4f\"")
        })?;
        Ok(Logger { fixed: fixed_precision(format_str), format, join: join.map(str::to_owned), line: String::new() })
    }

    fn write_value(&self, out: &mut String, name: &str, v: ValueRef<'_>) -> Result<(), HookError> {
        let fail = |e: xmen_hook::pyfmt::FormatValueError| HookError::new(format!("variable {name:?}: {e}"));
        match (v, &self.join) {
            (ValueRef::List(items), Some(sep)) => {
                let mut joined = String::new();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        joined.push_str(sep);
                    }
                    let _ = item.write_str(&mut joined);
                }
                self.format.write(out, &Value::Str(joined)).map_err(fail)
            }
            _ if self.format.is_empty() => {
                let _ = v.write_str(out);
                Ok(())
            }
            (ValueRef::Float(f), _) => {
                if self.fixed.is_some_and(|n| write_fixed(out, f, n)) {
                    return Ok(());
                }
                self.format.write(out, &Value::Float(f)).map_err(fail)
            }
            (ValueRef::Int(i), _) => self.format.write(out, &Value::Int(i)).map_err(fail),
            (ValueRef::Bool(b), _) => self.format.write(out, &Value::Bool(b)).map_err(fail),
            _ => self.format.write(out, &v.to_value()).map_err(fail),
        }
    }
}

impl Hook for Logger {
    fn call(&mut self, firing: &Firing<'_>) -> HookResult {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        let mut result = Ok(());
        for (name, v) in firing.vars() {
            if !line.is_empty() {
                line.push(' ');
            }
            let _ = write!(line, "{name} = ");
            if let Err(e) = self.write_value(&mut line, name, v) {
                result = Err(e);
                line.push('?');
            }
        }
        firing.log(&line);
        self.line = line;
        result.map(|_| Outcome::Continue)
    }
}

impl NewHook for Logger {
    const NAME: &'static str = "logger";
    const HELP: &'static str = "Print matched variables: [time levels]: name = value";

    const OPTIONS: &'static [OptionDecl] = &[
        OptionDecl::new("format", "str", "Python format spec applied to each value, e.g. \".4f\"").default("''"),
        OptionDecl::new("join", "str", "join list values with this separator, e.g. \"|\""),
    ];

    const EXAMPLES: &'static [&'static str] = &["loss|acc@100s", "x@2s"];

    fn new(_spec: &Spec, options: &Options<'_>) -> Result<Logger, HookError> {
        options.expect_only(&["format", "join"])?;
        Logger::new(options.str("format")?.unwrap_or(""), options.str("join")?)
    }
}

xmen_hook::export_hooks!(Logger);

#[cfg(test)]
mod tests {
    use super::*;
    use xmen_hook::testing::Harness;

    /// Options, variables, and the line logged.
    type Case<'a> = (&'a [(&'a str, Value)], &'a [(&'a str, Value)], &'a str);

    #[test]
    fn values_are_formatted_and_lists_joined_as_configured() -> Result<(), HookError> {
        let table: [Case<'_>; 4] = [
            (&[], &[("loss", Value::Float(0.25)), ("n", Value::Int(3))], "loss = 0.25 n = 3"),
            (&[("format", Value::from(".3f"))], &[("loss", Value::Float(0.25))], "loss = 0.250"),
            (
                &[("join", Value::from("|"))],
                &[("tags", Value::List(vec![Value::from("cat"), Value::from("dog")]))],
                "tags = cat|dog",
            ),
            (&[("format", Value::from(">6"))], &[("s", Value::from("ab"))], "s =     ab"),
        ];
        for (options, vars, want) in table {
            let mut h = Harness::<Logger>::new("x@1s", options)?;
            assert_eq!(h.fire_ok(vars)?, [want], "{options:?}");
        }
        Ok(())
    }

    #[test]
    fn the_fixed_fast_path_writes_what_the_format_spec_writes() {
        // Values that round, tie, carry, sit at the fast path's limits, or need the slow path.
        let mut xs = vec![
            0.0,
            -0.0,
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
            1.0 / 3.0,
            2.0 / 3.0,
            -7.25,
            f64::MAX,
            f64::MIN_POSITIVE,
            0.1 + 0.2,
            1.005,
            2.675,
            0.99995,
            -0.99995,
            9.5,
            -9.5,
            99.96,
            -99.96,
            0.0451,
            0.95,
            999.9999999,
            -0.00004,
            0.00006,
        ];
        // And a deterministic spread over magnitudes (a linear congruential sequence).
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..4000 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let mantissa = (state >> 11) as f64 / (1u64 << 53) as f64;
            let exp = ((state >> 3) % 24) as i32 - 12;
            let x = mantissa * 10f64.powi(exp);
            xs.push(if state & 1 == 0 { x } else { -x });
            // Short decimals (the fast path's case): k / 10^d.
            xs.push((state % 100_000) as f64 / 10f64.powi((state % 7) as i32));
        }
        let mut taken = 0;
        for n in 0..=FIXED_MAX {
            let spec: FormatSpec = format!(".{n}f").parse().unwrap_or_else(|e| panic!("{e}"));
            for &x in &xs {
                let mut want = String::new();
                spec.write(&mut want, &Value::Float(x)).unwrap_or_else(|e| panic!("{e}"));
                let mut got = String::from("v = ");
                if write_fixed(&mut got, x, n) {
                    assert_eq!(got["v = ".len()..], want, "{x:?} with .{n}f");
                    taken += 1;
                } else {
                    assert_eq!(got, "v = ", "{x:?} with .{n}f: nothing written when the fast path declines");
                }
            }
        }
        // The fast path is the common one, not a rarity hiding behind the fallback.
        assert!(taken * 10 > xs.len() * (FIXED_MAX + 1) * 9, "fast path taken {taken} times");
        assert_eq!(fixed_precision(".4f"), Some(4));
        assert_eq!(fixed_precision(".12f"), Some(12));
        for not in ["", ".4", "4f", ".f", ".13f", ">8.4f", ".4e", ".x4f"] {
            assert_eq!(fixed_precision(not), None, "{not:?}");
        }
    }

    #[test]
    fn bad_options_and_unformattable_values_are_errors_that_say_which() {
        let e = Harness::<Logger>::new("x@1s", &[("fromat", Value::from(".3f"))]).err();
        assert_eq!(e.map(|e| e.message), Some("unknown option \"fromat\"".to_owned()));
        let e = Harness::<Logger>::new("x@1s", &[("format", Value::from(".3q"))]).err();
        assert!(e.is_some_and(|e| e.message.starts_with("option \"format\": ")));
        let mut h = Harness::<Logger>::new("x@1s", &[("format", Value::from(".2f"))]).expect("a valid format");
        let e = h.fire(&[("s", Value::from("text"))]).err();
        assert!(e.is_some_and(|e| e.message.starts_with("variable \"s\": ")));
        // The line is still logged, with `?` for the value that failed.
        assert_eq!(h.logged(), ["s = ?"]);
    }
}

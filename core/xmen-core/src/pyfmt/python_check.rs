//! Byte-for-byte comparison with a live CPython, when `python3` is on PATH.
//!
//! Each case is sent to Python as one line (`kind payload spec`, hex-encoded where text could
//! contain spaces) and Python answers with the hex of `format(v, spec)` (or `repr`), or `ERR`
//! when it raises. Errors are compared by kind only: both sides must refuse.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::io::Write as _;
use std::process::{Command, Stdio};

use super::{float_repr, FormatSpec};
use crate::value::Value;

const SCRIPT: &str = r#"
import sys, struct
out = []
for line in sys.stdin:
    kind, payload, spec = line.split()
    spec = '' if spec == '-' else bytes.fromhex(spec).decode()
    if kind in 'fr':
        v = struct.unpack('<d', struct.pack('<Q', int(payload)))[0]
    elif kind == 'i':
        v = int(payload)
    elif kind == 'b':
        v = payload == '1'
    else:
        v = '' if payload == '-' else bytes.fromhex(payload).decode()
    try:
        res = repr(v) if kind == 'r' else format(v, spec)
    except (ValueError, TypeError):
        res = None
    out.append('ERR' if res is None else (res.encode().hex() or '-'))
sys.stdout.write('\n'.join(out) + '\n')
"#;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn hex(s: &str) -> String {
    if s.is_empty() {
        return "-".to_owned();
    }
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> String {
    if s == "-" {
        return String::new();
    }
    let bytes: Vec<u8> =
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex from python")).collect();
    String::from_utf8(bytes).expect("utf-8 from python")
}

/// One case: the line sent to Python and what this crate produced (`None` for an error).
struct Case {
    line: String,
    ours: Option<String>,
}

fn format_case(kind: char, payload: String, v: &Value, spec: &str) -> Case {
    let ours = spec.parse::<FormatSpec>().ok().and_then(|s| s.format(v).ok());
    Case { line: format!("{kind} {payload} {}", hex(spec)), ours }
}

/// Run the cases through python3; `None` when python3 is not available.
fn run_python(cases: &[Case]) -> Option<Vec<Option<String>>> {
    let child = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!("note: skipping the Python comparison, python3 is not runnable: {e}");
            return None;
        }
    };
    let input: String = cases.iter().map(|c| format!("{}\n", c.line)).collect();
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("python3 runs");
    writer.join().expect("writer thread").expect("write to python3");
    assert!(output.status.success(), "python3 failed");
    let text = String::from_utf8(output.stdout).expect("utf-8 output");
    let answers: Vec<Option<String>> = text.lines().map(|l| if l == "ERR" { None } else { Some(unhex(l)) }).collect();
    assert_eq!(answers.len(), cases.len(), "one answer per case");
    Some(answers)
}

fn compare(cases: &[Case]) {
    let Some(answers) = run_python(cases) else {
        return;
    };
    let mismatches: Vec<String> = cases
        .iter()
        .zip(&answers)
        .filter(|(c, py)| c.ours != **py)
        .map(|(c, py)| format!("{}: ours {:?}, python {:?}", c.line, c.ours, py))
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ from Python, first ones:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.iter().take(25).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// Floats of many magnitudes and shapes: random bit patterns, short decimals (near rounding
/// ties), exact binary ties, large integers and the special values.
fn floats(n: usize) -> Vec<f64> {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut out = vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        0.1,
        1.0 / 3.0,
        1e-5,
        1e16,
        1e15,
        123_456_789_012_345_678.0,
        2.5e-7,
        0.5,
        2.5,
        0.125,
        9.995,
        999_999.5,
        0.000_099_995,
    ];
    while out.len() < n {
        let sign = if rng.below(3) == 0 { -1.0 } else { 1.0 };
        let x = match rng.below(6) {
            0 => f64::from_bits(rng.next()),
            1 => {
                let m = rng.below(1_000_000);
                let k = rng.below(61) as i64 - 30;
                format!("{m}e{k}").parse().expect("decimal literal")
            }
            2 => {
                let m = rng.below(100_000);
                let k = rng.below(10) as i64;
                format!("{m}e-{k}").parse().expect("decimal literal")
            }
            3 => (rng.next() >> rng.below(64)) as f64,
            4 => rng.below(1 << 20) as f64 / f64::from(1u32 << rng.below(12)),
            _ => (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi(rng.below(41) as i32 - 20),
        };
        out.push(sign * x);
    }
    out
}

#[test]
fn matches_python_on_random_floats() {
    const SPECS: &[&str] = &[
        "", ".3f", ".5f", "f", ".0f", "#.0f", "10.2f", "F", "e", ".2e", "+.2e", "E", ".0e", "#.0e", ".25e", "g", ".3g",
        "#.3g", ".1g", ".0g", "#g", ".17g", "G", ".3", ".1", ".12", "#", "#.3", ",", ",.2f", "012,.2f", "_.3f", "%",
        ".1%", "08.3f", "+", " ", "=+12.4e", "*^15.3g", "<12", ">12", "020", "015,", "0=15,.1f", ".20f", "d", "s",
    ];
    let mut cases = Vec::new();
    for x in floats(2000) {
        let bits = x.to_bits().to_string();
        cases.push(Case { line: format!("r {bits} -"), ours: Some(float_repr(x)) });
        for spec in SPECS {
            cases.push(format_case('f', bits.clone(), &Value::Float(x), spec));
        }
    }
    compare(&cases);
}

#[test]
fn matches_python_on_ints_bools_and_strings() {
    const INT_SPECS: &[&str] = &[
        "", "d", ",d", "_d", "010,d", "+d", " d", "=+8d", ".5f", ".2e", "g", "%", ".2", "s", ">8", "<8", "^8", "x<8d",
        "08", "08,", "#d", ".3g", "e", ",", "020_", "0<8", ".1%",
    ];
    const STR_SPECS: &[&str] = &[
        "", "s", ">10", "<10", "^10", "*^9", ".2", "10.2", "05", "<05", "=5", "+5", ",", "#5", ".3f", "d", "é>6", ".0",
        "^1",
    ];
    let mut rng = XorShift(42);
    let mut ints = vec![0, 1, -1, 999, 1000, -1000, 123_456_789, i64::MAX, i64::MIN];
    while ints.len() < 300 {
        let v = (rng.next() >> rng.below(64)) as i64;
        ints.push(if rng.below(2) == 0 { v } else { v.wrapping_neg() });
    }
    let mut cases = Vec::new();
    for i in ints {
        for spec in INT_SPECS {
            cases.push(format_case('i', i.to_string(), &Value::Int(i), spec));
        }
    }
    for b in [true, false] {
        for spec in INT_SPECS {
            cases.push(format_case('b', u8::from(b).to_string(), &Value::Bool(b), spec));
        }
    }
    for s in ["abc", "", "héllo wörld", "it's", "a longer piece of text", "日本"] {
        for spec in STR_SPECS {
            cases.push(format_case('s', hex(s), &Value::from(s), spec));
        }
    }
    compare(&cases);
}

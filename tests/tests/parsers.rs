//! Generated inputs for every parser of user input: spec strings and limits, the sweep
//! grammar, `xmen list` filters, selection globs, record YAML, `-u` values and `_hooks`
//! configuration. Each must answer `Ok` or an error whose position lies inside the input;
//! none may panic. Inputs are seeded and reproducible: a failure prints the seed, the parser
//! and the input.
//!
//! The normal test run tries `XMEN_FUZZ_CASES` inputs per parser (default 17,000: over
//! 100,000 in all). A longer run of the same harness, with another seed:
//!
//! ```text
//! XMEN_FUZZ_CASES=2000000 XMEN_FUZZ_SEED=7 cargo test --release -p xmen-tests --test main parsers
//! ```

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use xmen::Value;
use xmen_core::spec::{parse_limit, Spec};
use xmen_loader::HookConfig;
use xmen_manager::list::Filter;
use xmen_manager::{ManagerError, Pattern, Sweep, SweepError};
use xmen_record::{Param, Record, RecordError};

/// A small deterministic generator (xorshift64*): reproducible from its seed on any machine.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Characters every parser sees: ASCII punctuation of all the grammars, digits, letters,
/// blanks, and non-ASCII text (the filter parser once sliced bytes and panicked on `é`).
const CHARS: &[&str] = &[
    "a", "b", "x", "_", "0", "1", "9", ".", "e", "E", "-", "+", " ", " ", "\t", "\n", "'", "\"", "\\", "{", "}", "[",
    "]", "(", ")", "|", ":", ",", "@", "<", ">", "=", "!", "?", "*", "^", "$", "%", ";", "#", "&", "/", "é", "λ",
    "日本", "🙂", "\u{0}", "\u{301}",
];

/// Whole tokens of the grammars, so generated text reaches past the first check.
const TOKENS: &[&str] = &[
    "loss",
    "lr",
    "step",
    "s",
    "e",
    "epoch",
    "era",
    "eon",
    "i",
    "@",
    "@10s",
    "@1e",
    "->",
    "|",
    "==",
    "!=",
    "<=",
    ">=",
    "(?!_)",
    "(?P<n>",
    "(?<=",
    "1e3",
    "0.1",
    "-1",
    "99999999999999999999999",
    "None",
    "True",
    "false",
    "null",
    "~",
    "{",
    "}",
    "[",
    "]",
    "{a: 1}",
    "'quoted text'",
    "\"dq\"",
    "hook:",
    "spec:",
    "options:",
    "_hooks:",
    "- ",
    "format: '.4f'",
    "&anchor",
    "*anchor",
    "!!str",
    "---",
    "...",
    "*",
    "**",
    "?",
    "[!a]",
    "{x,y}",
    "\\[",
];

/// Valid inputs of each grammar, mutated by the generator.
const SEEDS: &[&str] = &[
    "loss|acc@100s",
    "model@1e",
    "loss->ex@10s",
    "@1e",
    "{lr: 0.1 | 0.01, epochs: 2 | 4}",
    "{opt: {beta: 0.5}, a: 'x y' | \"it's\"}",
    "lr<0.05",
    "a == 'Hello World'",
    "_messages_loss>=1e-3",
    "sizes=\\[3, 4\\]",
    "lr=0.1__epochs=*",
    "_hooks:\n  - {hook: logger, spec: \"x@2s\", options: {join: \"|\"}}\n",
    "lr: 0.01 # lr: float=0.01 ~ The learning rate\nepochs: 3\n_status: registered\n",
];

fn generate(rng: &mut Rng) -> String {
    match rng.below(3) {
        // Random characters.
        0 => (0..rng.below(24)).map(|_| rng.pick(CHARS)).collect(),
        // Random tokens and characters.
        1 => (0..rng.below(12)).map(|_| if rng.below(2) == 0 { rng.pick(TOKENS) } else { rng.pick(CHARS) }).collect(),
        // A valid input with a few characters inserted, removed or replaced.
        _ => {
            let mut chars: Vec<String> = rng.pick(SEEDS).chars().map(String::from).collect();
            for _ in 0..=rng.below(4) {
                let at = rng.below(chars.len() + 1);
                match rng.below(3) {
                    0 => chars.insert(at, rng.pick(CHARS).to_owned()),
                    1 if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ if at < chars.len() => chars[at] = rng.pick(TOKENS).to_owned(),
                    _ => chars.push(rng.pick(TOKENS).to_owned()),
                }
            }
            chars.concat()
        }
    }
}

/// Whether a 1-based (line, column) lies inside `text` (a column may point one past the end
/// of its line: "at the end").
fn inside(text: &str, line: u64, column: u64) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    let Some(l) = usize::try_from(line).ok().and_then(|l| l.checked_sub(1)).and_then(|l| lines.get(l)) else {
        // The parser may report the line after a final newline as the end of input.
        return line as usize == lines.len() + 1 && column <= 1;
    };
    column >= 1 && column as usize <= l.chars().count() + 1
}

fn cases() -> usize {
    std::env::var("XMEN_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(17_000)
}

fn seed() -> u64 {
    std::env::var("XMEN_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(20_261_202)
}

/// Run `check` on generated inputs; it returns `Err(why)` when an error's position is outside
/// the input. A panic or a bad position fails the test naming the seed and the input.
fn fuzz(parser: &str, salt: u64, check: impl Fn(&str) -> Result<(), String>) {
    let seed = seed();
    let mut rng = Rng::new(seed ^ salt);
    // Panics are reported below with their input; keep the default hook quiet meanwhile.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failure = None;
    for _ in 0..cases() {
        let input = generate(&mut rng);
        match catch_unwind(AssertUnwindSafe(|| check(&input))) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => {
                failure = Some(format!("{parser}: {why}\n  input: {input:?}\n  seed: XMEN_FUZZ_SEED={seed}"));
                break;
            }
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failure = Some(format!("{parser} panicked: {msg}\n  input: {input:?}\n  seed: XMEN_FUZZ_SEED={seed}"));
                break;
            }
        }
    }
    std::panic::set_hook(hook);
    if let Some(f) = failure {
        panic!("{f}");
    }
}

#[test]
fn spec_strings_and_limits() {
    fuzz("Spec::parse", 1, |input| {
        match Spec::parse(input) {
            Ok(spec) => {
                let again = spec.to_string();
                Spec::parse(&again).map_err(|e| format!("`{again}`, the Display of a parsed spec, fails: {e}"))?;
            }
            Err(e) if e.column >= 1 && e.column <= input.chars().count() + 1 => {}
            Err(e) => return Err(format!("column {} outside the input: {e}", e.column)),
        }
        match parse_limit(input) {
            Ok(_) => Ok(()),
            Err(e) if e.column >= 1 && e.column <= input.chars().count() + 1 => Ok(()),
            Err(e) => Err(format!("limit column {} outside the input: {e}", e.column)),
        }
    });
}

#[test]
fn list_filters() {
    fuzz("Filter", 2, |input| match input.parse::<Filter>() {
        Ok(f) => {
            let again = f.to_string();
            match again.parse::<Filter>() {
                Ok(g) if g == f => Ok(()),
                other => Err(format!("`{again}`, the Display of a parsed filter, parses to {other:?}")),
            }
        }
        Err(e) if e.position <= input.chars().count() => Ok(()),
        Err(e) => Err(format!("position {} outside the input: {e}", e.position)),
    });
}

#[test]
fn sweep_grammar() {
    fuzz("Sweep::parse", 3, |input| match Sweep::parse(input) {
        Ok(_) => Ok(()),
        Err(SweepError::Yaml { line, column, .. }) if inside(input, line, column) => Ok(()),
        Err(e @ SweepError::Yaml { .. }) => Err(format!("position outside the input: {e}")),
        Err(_) => Ok(()),
    });
}

#[test]
fn selection_globs() {
    fuzz("Pattern", 4, |input| {
        let p = Pattern::new(input);
        let _ = p.matches("lr=0.1__epochs=2");
        match p.check() {
            Ok(()) => Ok(()),
            Err(ManagerError::Pattern { position, .. }) if position <= input.chars().count() => Ok(()),
            Err(e) => Err(format!("not a pattern error inside the input: {e}")),
        }
    });
}

#[test]
fn record_yaml() {
    fuzz("Record::parse", 5, |input| match Record::parse(input, Path::new("params.yml")) {
        Ok(_) => Ok(()),
        Err(RecordError::Yaml { line, column, .. }) if inside(input, line, column) => Ok(()),
        Err(e @ RecordError::Yaml { .. }) => Err(format!("position outside the input: {e}")),
        Err(_) => Ok(()),
    });
}

#[test]
fn update_values_and_hook_configuration() {
    let defaults = Record::new(vec![
        Param::new("lr", 0.01, "lr: float=0.01 ~ The learning rate"),
        Param::new("epochs", 3, "epochs: int=3 ~ Passes"),
        Param::new("name", "x", "name: str='x' ~ A name"),
        Param::new("sizes", Value::List(vec![Value::Int(3), Value::Int(4)]), "sizes: list=[3, 4]"),
    ]);
    fuzz("-u values and _hooks", 6, |input| {
        let value = match xmen_record::yaml::parse(input, Path::new("<-u argument 1>")) {
            Ok(v) => v,
            Err(RecordError::Yaml { line, column, .. }) if inside(input, line, column) => return Ok(()),
            Err(e @ RecordError::Yaml { .. }) => return Err(format!("position outside the input: {e}")),
            Err(_) => return Ok(()),
        };
        if let Value::Map(map) = &value {
            let mut rec = defaults.clone();
            let _ = rec.update(map);
        }
        let _ = HookConfig::list_from_value(&value);
        let _ = HookConfig::from_value(&value, 0);
        Ok(())
    });
}

//! Hook specification strings such as `loss|acc@100s`.
//!
//! A [`Spec`] says which variables a Monitor hook receives (a regex matched against variable
//! *names*) and when it runs (every `modulo` ticks of a [`Trigger`]). Three forms exist:
//!
//! * modulo form `<regex>@<modulo><trigger>`, e.g. `loss|acc@100s`. The regex may be empty
//!   (`@10s`): such a hook receives no variables;
//! * message form `<log_regex>-><exp_regex>@<modulo><trigger>`, e.g. `y.*->ex.*@10s`, split at the
//!   first `->` of the part before `@`. The hook's effective regex is `{log}|{exp}`;
//! * manual form: text without `@`; the whole text is the regex and there is no schedule.
//!
//! Regexes are compiled once, at parse time, as `^(?:<regex>)`: they are anchored at the start
//! only, like Python's `re.match`, so `loss` matches `loss_val`. An invalid regex is a
//! parse error here rather than a failure on the first match, as in the original.
//!
//! Decisions where this parser deliberately differs from the original:
//! * The original took the *first run of digits* after `@`, silently skipping anything before
//!   it (`x@every10s` meant `x@10s`). Here the modulo must follow `@` directly; anything else is
//!   rejected with [`SpecErrorKind::JunkBeforeModulo`] at its column.
//! * A modulo of 0 (the original divided by zero when the hook first fired) and a modulo beyond
//!   `u64` are rejected.
//! * Message specs need both sides of `->`: an empty log or experiment regex is an error.
//! * [`Display`](fmt::Display) renders a spec so that it parses back to an equal value, using the
//!   trigger spelling the user wrote (`x@2s` stays `x@2s`, `x@2step` stays `x@2step`) and the
//!   modulo without leading zeros. A manual spec renders as its text, not `{text}@NoneNone`.
//!
//! Errors carry the input, the 1-based character column where parsing went wrong and what to
//! write instead, for example
//! `invalid spec "loss@10x": unknown trigger "x" at column 8; expected one of s, e, er, eo, se (or step, epoch, era, eon, supereon)`.

use std::fmt;
use std::str::FromStr;

use regex::Regex;

/// The list of accepted trigger spellings, worded as Python's `inc` error prints it.
const PY_TRIGGER_LIST: &str = "['s', 'step', 'e', 'epoch', 'er', 'era', 'eo', 'eon', 'se', 'supereon']";

/// The list of accepted trigger spellings, worded for spec errors.
const TRIGGER_HELP: &str = "s, e, er, eo, se (or step, epoch, era, eon, supereon)";

/// One of the Monitor's five nested counters, innermost first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trigger {
    /// The innermost wrapped loop (brief name `s`).
    Step,
    /// The loop around `step` (brief name `e`).
    Epoch,
    /// The loop around `epoch` (brief name `er`).
    Era,
    /// The loop around `era` (brief name `eo`).
    Eon,
    /// The outermost loop (brief name `se`).
    Supereon,
}

impl Trigger {
    /// Every trigger, innermost first; `ALL[t.index()] == t`.
    pub const ALL: [Trigger; 5] = [Trigger::Step, Trigger::Epoch, Trigger::Era, Trigger::Eon, Trigger::Supereon];

    /// The nesting level of this trigger: `Step` is 0, `Supereon` is 4.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The trigger at nesting level `index`, or `None` past `Supereon` (4).
    pub fn from_index(index: usize) -> Option<Trigger> {
        Self::ALL.get(index).copied()
    }

    /// The brief name used in specs: `s`, `e`, `er`, `eo` or `se`.
    pub fn brief(self) -> &'static str {
        match self {
            Trigger::Step => "s",
            Trigger::Epoch => "e",
            Trigger::Era => "er",
            Trigger::Eon => "eo",
            Trigger::Supereon => "se",
        }
    }

    /// The full name: `step`, `epoch`, `era`, `eon` or `supereon`.
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Step => "step",
            Trigger::Epoch => "epoch",
            Trigger::Era => "era",
            Trigger::Eon => "eon",
            Trigger::Supereon => "supereon",
        }
    }

    /// Looks a trigger up by brief or full name, also saying whether the brief name was used.
    fn lookup(s: &str) -> Option<(Trigger, bool)> {
        Self::ALL.into_iter().find_map(|t| {
            if s == t.brief() {
                Some((t, true))
            } else if s == t.name() {
                Some((t, false))
            } else {
                None
            }
        })
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of [`Trigger::from_str`]: the text that is neither a brief nor a full trigger name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not in {PY_TRIGGER_LIST}")]
pub struct UnknownTrigger(pub String);

impl FromStr for Trigger {
    type Err = UnknownTrigger;

    /// Accepts the brief (`s`) and the full (`step`) names, case-sensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Trigger::lookup(s).map(|(t, _)| t).ok_or_else(|| UnknownTrigger(s.to_owned()))
    }
}

/// When a modulo spec fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Schedule {
    modulo: u64,
    trigger: Trigger,
    /// Whether the user wrote the brief trigger name; kept so that `Display` round-trips.
    brief: bool,
}

/// A user regex together with its prefix-anchored compiled form.
#[derive(Clone, Debug)]
struct Pattern {
    text: String,
    matcher: Regex,
}

/// Which variables a spec selects.
#[derive(Clone, Debug)]
enum Selector {
    /// `@10s`: no regex, no variables.
    Nothing,
    /// A single regex (modulo and manual specs).
    Regex(Pattern),
    /// `log->exp`: `effective` is `log|exp`.
    Message { log: Pattern, exp: Pattern, effective: Pattern },
}

/// A parsed hook specification: which variables a hook receives and when it runs.
///
/// ```
/// use xmen_core::spec::{Spec, Trigger};
/// let spec: Spec = "loss|acc@100s".parse().unwrap();
/// assert_eq!(spec.regex(), Some("loss|acc"));
/// assert_eq!((spec.modulo(), spec.trigger()), (Some(100), Some(Trigger::Step)));
/// assert!(spec.matches("loss_val"));
/// assert!(spec.fires_at(Trigger::Step, 300));
/// assert_eq!(spec.to_string(), "loss|acc@100s");
/// ```
#[derive(Clone, Debug)]
pub struct Spec {
    selector: Selector,
    /// `None` for manual specs.
    schedule: Option<Schedule>,
}

impl PartialEq for Spec {
    /// Compares what the user wrote; the compiled regexes follow from it.
    fn eq(&self, other: &Self) -> bool {
        self.schedule == other.schedule
            && self.log_regex() == other.log_regex()
            && self.exp_regex() == other.exp_regex()
            && self.regex() == other.regex()
    }
}

impl Eq for Spec {}

impl Spec {
    /// Parses a spec string; see the [module documentation](self) for the grammar.
    pub fn parse(s: &str) -> Result<Spec, SpecError> {
        if s.is_empty() {
            return Err(SpecError::new(s, 0, SpecErrorKind::Empty));
        }
        let Some(at) = s.find('@') else {
            let pattern = compile(s, s, 0, true)?;
            return Ok(Spec { selector: Selector::Regex(pattern), schedule: None });
        };
        check_single_at(s, at)?;
        let selector = parse_selector(s, &s[..at])?;
        let schedule = parse_schedule(s, at)?;
        Ok(Spec { selector, schedule: Some(schedule) })
    }

    /// The effective regex text: `log|exp` for message specs, `None` when the spec has none
    /// (`@10s`).
    pub fn regex(&self) -> Option<&str> {
        self.pattern().map(|p| p.text.as_str())
    }

    /// The log (payload) regex of a message spec `log->exp@..`.
    pub fn log_regex(&self) -> Option<&str> {
        match &self.selector {
            Selector::Message { log, .. } => Some(&log.text),
            _ => None,
        }
    }

    /// The experiment (target) regex of a message spec `log->exp@..`.
    pub fn exp_regex(&self) -> Option<&str> {
        match &self.selector {
            Selector::Message { exp, .. } => Some(&exp.text),
            _ => None,
        }
    }

    /// How many ticks of [`trigger`](Self::trigger) lie between firings; `None` for manual specs.
    pub fn modulo(&self) -> Option<u64> {
        self.schedule.map(|s| s.modulo)
    }

    /// The counter this spec fires on; `None` for manual specs.
    pub fn trigger(&self) -> Option<Trigger> {
        self.schedule.map(|s| s.trigger)
    }

    /// Whether this is a manual spec (no `@`): it fires only when variables are sent to hooks
    /// by hand.
    pub fn is_manual(&self) -> bool {
        self.schedule.is_none()
    }

    /// Whether this is a message spec `log->exp@..`.
    pub fn is_message(&self) -> bool {
        matches!(self.selector, Selector::Message { .. })
    }

    /// The effective regex compiled as `^(?:regex)`; `None` when the spec has no regex.
    pub fn matcher(&self) -> Option<&Regex> {
        self.pattern().map(|p| &p.matcher)
    }

    /// The log regex of a message spec, compiled as `^(?:log)`.
    pub fn log_matcher(&self) -> Option<&Regex> {
        match &self.selector {
            Selector::Message { log, .. } => Some(&log.matcher),
            _ => None,
        }
    }

    /// The experiment regex of a message spec, compiled as `^(?:exp)`.
    pub fn exp_matcher(&self) -> Option<&Regex> {
        match &self.selector {
            Selector::Message { exp, .. } => Some(&exp.matcher),
            _ => None,
        }
    }

    /// Whether a variable called `name` goes to this hook: the regex matches at the start of
    /// `name` (Python `re.match`). Always false for a spec without a regex.
    pub fn matches(&self, name: &str) -> bool {
        self.matcher().is_some_and(|m| m.is_match(name))
    }

    /// Whether the hook runs when `trigger`'s counter reaches `counter`: the trigger is this
    /// spec's and `counter` is a multiple of the modulo. Always false for manual specs.
    pub fn fires_at(&self, trigger: Trigger, counter: u64) -> bool {
        self.schedule.is_some_and(|s| s.trigger == trigger && counter % s.modulo == 0)
    }

    fn pattern(&self) -> Option<&Pattern> {
        match &self.selector {
            Selector::Nothing => None,
            Selector::Regex(p) => Some(p),
            Selector::Message { effective, .. } => Some(effective),
        }
    }
}

impl FromStr for Spec {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Spec::parse(s)
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.selector {
            Selector::Nothing => {}
            Selector::Regex(p) => f.write_str(&p.text)?,
            Selector::Message { log, exp, .. } => write!(f, "{}->{}", log.text, exp.text)?,
        }
        if let Some(s) = self.schedule {
            let trigger = if s.brief { s.trigger.brief() } else { s.trigger.name() };
            write!(f, "@{}{trigger}", s.modulo)?;
        }
        Ok(())
    }
}

/// Parses a Monitor `limit` such as `@20s` into its modulo and trigger. Any text before `@` is
/// ignored, as in the original.
pub fn parse_limit(s: &str) -> Result<(u64, Trigger), SpecError> {
    let Some(at) = s.find('@') else {
        return Err(SpecError::new(s, s.len(), SpecErrorKind::NoAt));
    };
    check_single_at(s, at)?;
    parse_schedule(s, at).map(|sch| (sch.modulo, sch.trigger))
}

fn check_single_at(s: &str, at: usize) -> Result<(), SpecError> {
    match s[at + 1..].find('@') {
        Some(i) => Err(SpecError::new(s, at + 1 + i, SpecErrorKind::TooManyAt)),
        None => Ok(()),
    }
}

/// Parses the part before `@`.
fn parse_selector(s: &str, left: &str) -> Result<Selector, SpecError> {
    if left.is_empty() {
        return Ok(Selector::Nothing);
    }
    let Some(arrow) = left.find("->") else {
        return Ok(Selector::Regex(compile(s, left, 0, true)?));
    };
    let (log, exp) = (&left[..arrow], &left[arrow + 2..]);
    if log.is_empty() {
        return Err(SpecError::new(s, 0, SpecErrorKind::EmptyLogRegex));
    }
    if exp.is_empty() {
        return Err(SpecError::new(s, arrow + 2, SpecErrorKind::EmptyExpRegex));
    }
    let log = compile(s, log, 0, true)?;
    let exp = compile(s, exp, arrow + 2, true)?;
    // Both halves compile, yet together they may not (a capture group name used on both sides).
    let effective = compile(s, &format!("{}|{}", log.text, exp.text), 0, false)?;
    Ok(Selector::Message { log, exp, effective })
}

/// Parses the part after the `@` at byte `at`: `<digits><trigger>`.
fn parse_schedule(s: &str, at: usize) -> Result<Schedule, SpecError> {
    let start = at + 1;
    let rest = &s[start..];
    let err = |offset: usize, kind| SpecError::new(s, start + offset, kind);
    match rest.find(|c: char| c.is_ascii_digit()) {
        None => return Err(err(0, SpecErrorKind::NoModulo)),
        Some(0) => {}
        Some(d) => return Err(err(0, SpecErrorKind::JunkBeforeModulo(rest[..d].to_owned()))),
    }
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let digits = &rest[..end];
    // `digits` is a non-empty run of ASCII digits, so parsing fails only on overflow.
    let modulo: u64 = digits.parse().map_err(|_| err(0, SpecErrorKind::ModuloOverflow(digits.to_owned())))?;
    if modulo == 0 {
        return Err(err(0, SpecErrorKind::ZeroModulo));
    }
    let word = &rest[end..];
    if word.is_empty() {
        return Err(err(end, SpecErrorKind::NoTrigger));
    }
    let (trigger, brief) =
        Trigger::lookup(word).ok_or_else(|| err(end, SpecErrorKind::UnknownTrigger(word.to_owned())))?;
    Ok(Schedule { modulo, trigger, brief })
}

/// Compiles the user regex `text`, found at byte `offset` of `spec`, as `^(?:text)`. With
/// `locate`, an error points at the culprit inside `text`, else at its start.
fn compile(spec: &str, text: &str, offset: usize, locate: bool) -> Result<Pattern, SpecError> {
    let invalid = |e: regex::Error, locate: bool| {
        let (reason, at) = describe_regex_error(text, &e);
        let at = if locate { at } else { 0 };
        SpecError::new(spec, offset + at, SpecErrorKind::InvalidRegex { regex: text.to_owned(), reason })
    };
    // Compile the bare regex first: wrapped in `(?:..)`, an unbalanced `a)|(b` would compile
    // into a different regex instead of failing, and error positions would be shifted.
    Regex::new(text).map_err(|e| invalid(e, locate))?;
    let matcher = Regex::new(&format!("^(?:{text})")).map_err(|e| invalid(e, false))?;
    Ok(Pattern { text: text.to_owned(), matcher })
}

/// Pulls the one-line reason and the byte offset of the culprit within `text` out of the
/// regex crate's multi-line message (pattern line, caret line, `error: ..` line). The offset
/// falls back to 0 when the message has another shape.
fn describe_regex_error(text: &str, e: &regex::Error) -> (String, usize) {
    let message = e.to_string();
    let lines: Vec<&str> = message.lines().collect();
    let reason = lines
        .iter()
        .find_map(|l| l.strip_prefix("error: "))
        .or_else(|| lines.iter().map(|l| l.trim()).find(|l| !l.is_empty()))
        .unwrap_or("the regex does not compile")
        .to_owned();
    let caret_column =
        (!text.contains('\n') && lines.len() >= 4).then(|| lines[2].strip_prefix("    ")?.find('^')).flatten();
    let at = caret_column.and_then(|col| text.char_indices().nth(col).map(|(i, _)| i)).unwrap_or(0);
    (reason, at)
}

/// Why a spec string was rejected, with the input and the position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// The whole spec string as given.
    pub spec: String,
    /// The 1-based character column where parsing went wrong.
    pub column: usize,
    /// What went wrong.
    pub kind: SpecErrorKind,
}

/// The ways a spec string can be malformed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpecErrorKind {
    /// The spec is the empty string.
    Empty,
    /// A limit has no `@` (only [`parse_limit`] reports this).
    NoAt,
    /// Nothing that looks like a modulo follows `@` (`xx@s`).
    NoModulo,
    /// The modulo is 0.
    ZeroModulo,
    /// The modulo (the digits given) does not fit in a `u64`.
    ModuloOverflow(String),
    /// Text (given) between `@` and the modulo (`x@every10s`).
    JunkBeforeModulo(String),
    /// The modulo is not followed by a trigger (`x@10`).
    NoTrigger,
    /// The text (given) after the modulo is not a trigger name.
    UnknownTrigger(String),
    /// More than one `@`.
    TooManyAt,
    /// A message spec with nothing before `->`.
    EmptyLogRegex,
    /// A message spec with nothing between `->` and `@`.
    EmptyExpRegex,
    /// A regex that does not compile.
    InvalidRegex {
        /// The regex as written.
        regex: String,
        /// The regex engine's reason, on one line.
        reason: String,
    },
}

impl SpecError {
    /// Builds an error at byte offset `byte` of `spec`.
    fn new(spec: &str, byte: usize, kind: SpecErrorKind) -> SpecError {
        let column = spec.get(..byte).map_or(1, |head| head.chars().count() + 1);
        SpecError { spec: spec.to_owned(), column, kind }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (spec, col) = (&self.spec, self.column);
        write!(f, "invalid spec \"{spec}\": ")?;
        match &self.kind {
            SpecErrorKind::Empty => {
                write!(f, "a spec needs a variable regex, '@', a modulo and a trigger, e.g. \"loss@100s\"")
            }
            SpecErrorKind::NoAt => {
                write!(f, "no '@' at column {col}; a limit is '@', a modulo and a trigger, e.g. \"@20s\"")
            }
            SpecErrorKind::NoModulo => {
                write!(f, "no modulo after '@' at column {col}; write a positive number such as \"@10s\"")
            }
            SpecErrorKind::ZeroModulo => {
                write!(f, "modulo 0 at column {col}; the modulo must be at least 1")
            }
            SpecErrorKind::ModuloOverflow(digits) => {
                write!(f, "modulo {digits} at column {col} is too large; the largest is {}", u64::MAX)
            }
            SpecErrorKind::JunkBeforeModulo(junk) => {
                let fixed = spec.replacen(&format!("@{junk}"), "@", 1);
                let example = if Spec::parse(&fixed).is_ok() { fixed } else { "loss@10s".to_owned() };
                write!(
                    f,
                    "unexpected \"{junk}\" at column {col} before the modulo; \
                     write the number right after '@', e.g. \"{example}\""
                )
            }
            SpecErrorKind::NoTrigger => {
                write!(f, "no trigger at column {col}; add one of {TRIGGER_HELP}, e.g. \"{spec}s\"")
            }
            SpecErrorKind::UnknownTrigger(word) => {
                write!(f, "unknown trigger \"{word}\" at column {col}; expected one of {TRIGGER_HELP}")
            }
            SpecErrorKind::TooManyAt => write!(f, "a second '@' at column {col}; a spec has exactly one '@'"),
            SpecErrorKind::EmptyLogRegex => write!(
                f,
                "no log regex before '->' at column {col}; \
                 name the variables to send, e.g. \"loss->^ex$@10s\""
            ),
            SpecErrorKind::EmptyExpRegex => write!(
                f,
                "no experiment regex after '->' at column {col}; \
                 name the experiments to message, e.g. \"loss->^ex$@10s\""
            ),
            SpecErrorKind::InvalidRegex { regex, reason } => {
                write!(f, "invalid regex \"{regex}\" at column {col}: {reason}")
            }
        }
    }
}

impl std::error::Error for SpecError {}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use Trigger::*;

    #[test]
    fn triggers_parse_in_both_spellings_and_display_in_full() {
        for (i, t) in Trigger::ALL.into_iter().enumerate() {
            assert_eq!(t.index(), i);
            assert_eq!(Trigger::from_index(i), Some(t));
            assert_eq!(t.brief().parse::<Trigger>(), Ok(t));
            assert_eq!(t.name().parse::<Trigger>(), Ok(t));
            assert_eq!(t.to_string(), t.name());
        }
        assert_eq!(Trigger::from_index(5), None);
        assert!(Step < Supereon);
        let err = "x".parse::<Trigger>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "x is not in ['s', 'step', 'e', 'epoch', 'er', 'era', 'eo', 'eon', 'se', 'supereon']"
        );
    }

    #[test]
    fn valid_specs_parse_and_round_trip() {
        // (input, regex, log, exp, modulo, trigger)
        type Row =
            (&'static str, Option<&'static str>, Option<(&'static str, &'static str)>, Option<u64>, Option<Trigger>);
        let rows: &[Row] = &[
            ("loss|acc@100s", Some("loss|acc"), None, Some(100), Some(Step)),
            ("model@1e", Some("model"), None, Some(1), Some(Epoch)),
            ("@10s", None, None, Some(10), Some(Step)),
            ("@1e", None, None, Some(1), Some(Epoch)),
            ("^xx|yy@100step", Some("^xx|yy"), None, Some(100), Some(Step)),
            ("a|b@2s", Some("a|b"), None, Some(2), Some(Step)),
            ("c@1er", Some("c"), None, Some(1), Some(Era)),
            ("d|e@1eo", Some("d|e"), None, Some(1), Some(Eon)),
            ("e@1se", Some("e"), None, Some(1), Some(Supereon)),
            ("x@2epoch", Some("x"), None, Some(2), Some(Epoch)),
            ("x@3supereon", Some("x"), None, Some(3), Some(Supereon)),
            ("X@10s", Some("X"), None, Some(10), Some(Step)),
            ("y.*->ex.*@10s", Some("y.*|ex.*"), Some(("y.*", "ex.*")), Some(10), Some(Step)),
            ("^y$|^i$->^ex$@10s", Some("^y$|^i$|^ex$"), Some(("^y$|^i$", "^ex$")), Some(10), Some(Step)),
            (
                "seconds|^a$|^b$->root@1s",
                Some("seconds|^a$|^b$|root"),
                Some(("seconds|^a$|^b$", "root")),
                Some(1),
                Some(Step),
            ),
            ("a->b->c@1e", Some("a|b->c"), Some(("a", "b->c")), Some(1), Some(Epoch)),
            ("a random string", Some("a random string"), None, None, None),
            ("a->b", Some("a->b"), None, None, None),
        ];
        for &(input, regex, message, modulo, trigger) in rows {
            let spec = Spec::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(spec.regex(), regex, "{input}");
            assert_eq!(spec.matcher().is_some(), regex.is_some(), "{input}");
            assert_eq!(spec.log_regex(), message.map(|m| m.0), "{input}");
            assert_eq!(spec.exp_regex(), message.map(|m| m.1), "{input}");
            assert_eq!(spec.log_matcher().is_some(), message.is_some(), "{input}");
            assert_eq!(spec.exp_matcher().is_some(), message.is_some(), "{input}");
            assert_eq!(spec.is_message(), message.is_some(), "{input}");
            assert_eq!(spec.modulo(), modulo, "{input}");
            assert_eq!(spec.trigger(), trigger, "{input}");
            assert_eq!(spec.is_manual(), modulo.is_none(), "{input}");
            assert_eq!(spec.to_string(), input, "{input}");
            assert_eq!(Spec::parse(&spec.to_string()), Ok(spec.clone()), "{input}");
            assert_eq!(input.parse::<Spec>(), Ok(spec), "{input}");
        }
    }

    #[test]
    fn leading_zeros_are_dropped_on_display() {
        let spec = Spec::parse("x@010s").unwrap();
        assert_eq!(spec.modulo(), Some(10));
        assert_eq!(spec.to_string(), "x@10s");
        assert_ne!(Spec::parse("x@2s").unwrap(), Spec::parse("x@2step").unwrap());
    }

    #[test]
    fn malformed_specs_say_what_where_and_how() {
        use SpecErrorKind as K;
        let rows: &[(&str, usize, SpecErrorKind, &str)] = &[
            ("", 1, K::Empty, "invalid spec \"\": a spec needs a variable regex, '@', a modulo and a trigger, e.g. \"loss@100s\""),
            ("@", 2, K::NoModulo, "invalid spec \"@\": no modulo after '@' at column 2; write a positive number such as \"@10s\""),
            ("xx@s", 4, K::NoModulo, "invalid spec \"xx@s\": no modulo after '@' at column 4; write a positive number such as \"@10s\""),
            ("@0s", 2, K::ZeroModulo, "invalid spec \"@0s\": modulo 0 at column 2; the modulo must be at least 1"),
            ("a@@1s", 3, K::TooManyAt, "invalid spec \"a@@1s\": a second '@' at column 3; a spec has exactly one '@'"),
            (
                "loss@18446744073709551616s",
                6,
                K::ModuloOverflow("18446744073709551616".into()),
                "invalid spec \"loss@18446744073709551616s\": modulo 18446744073709551616 at column 6 is too large; the largest is 18446744073709551615",
            ),
            ("x@10", 5, K::NoTrigger, "invalid spec \"x@10\": no trigger at column 5; add one of s, e, er, eo, se (or step, epoch, era, eon, supereon), e.g. \"x@10s\""),
            ("xx@10", 6, K::NoTrigger, "invalid spec \"xx@10\": no trigger at column 6; add one of s, e, er, eo, se (or step, epoch, era, eon, supereon), e.g. \"xx@10s\""),
            ("loss@10x", 8, K::UnknownTrigger("x".into()), "invalid spec \"loss@10x\": unknown trigger \"x\" at column 8; expected one of s, e, er, eo, se (or step, epoch, era, eon, supereon)"),
            ("x@10x", 5, K::UnknownTrigger("x".into()), "invalid spec \"x@10x\": unknown trigger \"x\" at column 5; expected one of s, e, er, eo, se (or step, epoch, era, eon, supereon)"),
            ("x@10S", 5, K::UnknownTrigger("S".into()), "invalid spec \"x@10S\": unknown trigger \"S\" at column 5; expected one of s, e, er, eo, se (or step, epoch, era, eon, supereon)"),
            ("x@every10s", 3, K::JunkBeforeModulo("every".into()), "invalid spec \"x@every10s\": unexpected \"every\" at column 3 before the modulo; write the number right after '@', e.g. \"x@10s\""),
            ("x@s10", 3, K::JunkBeforeModulo("s".into()), "invalid spec \"x@s10\": unexpected \"s\" at column 3 before the modulo; write the number right after '@', e.g. \"loss@10s\""),
            (
                "(@1s",
                1,
                K::InvalidRegex { regex: "(".into(), reason: "unclosed group".into() },
                "invalid spec \"(@1s\": invalid regex \"(\" at column 1: unclosed group",
            ),
            (
                "ab)@1s",
                3,
                K::InvalidRegex { regex: "ab)".into(), reason: "unopened group".into() },
                "invalid spec \"ab)@1s\": invalid regex \"ab)\" at column 3: unopened group",
            ),
            (
                "a->b(@1s",
                5,
                K::InvalidRegex { regex: "b(".into(), reason: "unclosed group".into() },
                "invalid spec \"a->b(@1s\": invalid regex \"b(\" at column 5: unclosed group",
            ),
            ("->@1s", 1, K::EmptyLogRegex, "invalid spec \"->@1s\": no log regex before '->' at column 1; name the variables to send, e.g. \"loss->^ex$@10s\""),
            ("a->@1s", 4, K::EmptyExpRegex, "invalid spec \"a->@1s\": no experiment regex after '->' at column 4; name the experiments to message, e.g. \"loss->^ex$@10s\""),
            (
                "a)|(b",
                2,
                K::InvalidRegex { regex: "a)|(b".into(), reason: "unopened group".into() },
                "invalid spec \"a)|(b\": invalid regex \"a)|(b\" at column 2: unopened group",
            ),
        ];
        for (input, column, kind, message) in rows {
            let err = Spec::parse(input).unwrap_err();
            assert_eq!(&err.spec, input);
            assert_eq!(err.column, *column, "{input}");
            assert_eq!(&err.kind, kind, "{input}");
            assert_eq!(err.to_string(), *message, "{input}");
        }
    }

    #[test]
    fn message_halves_that_clash_are_reported_on_the_joined_regex() {
        let err = Spec::parse("(?P<v>a)->(?P<v>b)@1s").unwrap_err();
        assert_eq!(err.column, 1);
        assert_eq!(
            err.to_string(),
            "invalid spec \"(?P<v>a)->(?P<v>b)@1s\": invalid regex \"(?P<v>a)|(?P<v>b)\" at column 1: duplicate capture group name"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let err = Spec::parse("λé@10q").unwrap_err();
        assert_eq!(err.column, 6);
    }

    #[test]
    fn regexes_match_at_the_start_only() {
        let rows = [
            ("a@1s", "abc", true),
            ("loss@1s", "loss_val", true),
            ("loss@1s", "val_loss", false),
            ("^model$@1s", "model2", false),
            ("^model$@1s", "model", true),
            ("opt@1e", "optimiser", true),
            ("b|a@1s", "abc", true),
            ("y.*->ex.*@10s", "ex1", true),
            ("y.*->ex.*@10s", "xy", false),
            ("a random string", "a random string!", true),
            ("@10s", "anything", false),
        ];
        for (spec, name, expected) in rows {
            assert_eq!(Spec::parse(spec).unwrap().matches(name), expected, "{spec} ~ {name}");
        }
        let msg = Spec::parse("y.*->ex.*@10s").unwrap();
        assert!(msg.log_matcher().unwrap().is_match("y1"));
        assert!(!msg.log_matcher().unwrap().is_match("ex"));
        assert!(msg.exp_matcher().unwrap().is_match("ex"));
    }

    #[test]
    fn fires_on_its_trigger_at_multiples_of_the_modulo() {
        let spec = Spec::parse("loss@3e").unwrap();
        assert!(spec.fires_at(Epoch, 3));
        assert!(spec.fires_at(Epoch, 6));
        assert!(!spec.fires_at(Epoch, 4));
        assert!(!spec.fires_at(Step, 3));
        assert!(!Spec::parse("manual").unwrap().fires_at(Step, 1));
    }

    #[test]
    fn limits_ignore_the_regex_part() {
        assert_eq!(parse_limit("@20s"), Ok((20, Step)));
        assert_eq!(parse_limit("(@2epoch"), Ok((2, Epoch)));
        assert_eq!(parse_limit("20s").unwrap_err().kind, SpecErrorKind::NoAt);
        assert_eq!(parse_limit("@0s").unwrap_err().kind, SpecErrorKind::ZeroModulo);
        assert_eq!(parse_limit("@2s@").unwrap_err().kind, SpecErrorKind::TooManyAt);
    }

    #[test]
    fn generated_strings_never_panic_and_every_success_round_trips() {
        const ALPHABET: &[char] = &[
            'a', '(', ')', '|', '@', '0', '1', '9', 's', 'e', 'p', 'r', 'o', 't', '>', '-', '^', '$', '.', '*', ' ',
            'é',
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut ok, mut err) = (0, 0);
        for _ in 0..10_000 {
            let len = (next() % 12) as usize;
            let s: String = (0..len).map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize]).collect();
            match Spec::parse(&s) {
                Ok(spec) => {
                    ok += 1;
                    assert_eq!(Spec::parse(&spec.to_string()), Ok(spec), "{s:?}");
                }
                Err(e) => {
                    err += 1;
                    assert!(e.column >= 1 && e.column <= s.chars().count() + 1, "{s:?}");
                    assert!(e.to_string().starts_with("invalid spec"));
                }
            }
            let _ = parse_limit(&s);
        }
        assert!(ok > 100 && err > 100, "ok={ok} err={err}");
    }
}

//! `-f` filters (docs/migrating.md#listing-and-filters): `REGEX` selects columns, `REGEX OP LITERAL` also
//! keeps only the rows whose matching cells satisfy the comparison.
//!
//! A filter is parsed like the original: spaces are deleted (here only outside quotes, so
//! `a == 'Hello World'` keeps its literal) and the text is split at the operators `<=`, `==`,
//! `>=`, `<`, `>` and `!=`, tried in that order at each position as Python's `re.split` does.
//! The regex is matched against flattened column names like Python's `re.match`: anchored at
//! the start only. It is compiled with fancy-regex because the original's documentation relies
//! on the look-ahead `(?!_)`.
//!
//! Comparisons follow Python's rules where they are defined (`1 == 1.0`, `True == 1`, strings
//! compared by code point, lists lexicographically) and are false where Python would raise
//! (`'a' < 1`). A missing or null cell compares false, except with `!=`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use xmen_core::pyfmt;
use xmen_core::Value;

/// The comparison operators of a row predicate, in the order the original splits on them.
const OPERATORS: [(&str, Op); 6] =
    [("<=", Op::Le), ("==", Op::Eq), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt), ("!=", Op::Ne)];

/// A comparison operator of a row predicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>=`
    Ge,
    /// `>`
    Gt,
}

impl Op {
    /// The operator as written in a filter.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Ge => ">=",
            Op::Gt => ">",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a filter could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterErrorKind {
    /// More than one comparison operator (the original allows one).
    TooManyOperators(Vec<&'static str>),
    /// An operator with nothing before it.
    EmptyRegex,
    /// An operator with nothing after it.
    EmptyLiteral,
    /// The regex does not compile.
    BadRegex(String),
    /// The literal is not a Python literal we understand.
    BadLiteral(String),
    /// The text before the operator does not compile: the operator was probably part of the
    /// regex (`(?<=`, `(?P<name>`).
    OperatorInRegex(String),
    /// `name=value` with one `=`: a comparison meant as `==` (given: the column and the value).
    SingleEquals(String, String),
}

/// A filter that could not be parsed, with the filter text and where it went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    /// The filter as given.
    pub filter: String,
    /// The 0-based character offset into `filter` where it went wrong (the length of the
    /// filter when the problem is at its end).
    pub position: usize,
    /// What is wrong with it.
    pub kind: FilterErrorKind,
}

const FORM: &str = "a filter is REGEX or REGEX OP LITERAL with one OP of <= == >= < > !=, \
                    e.g. -f \"lr<0.01\" or -f \"a=='Hello'\"";

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid filter `{}` at character {}: ", self.filter, self.position + 1)?;
        match &self.kind {
            FilterErrorKind::TooManyOperators(ops) => write!(
                f,
                "it has {} comparison operators ({}); {FORM}. A regex cannot contain these \
                 characters either (so no look-behind `(?<=` or named group `(?P<name>`); \
                 split a range into two filters: -f \"lr>0.001\" -f \"lr<0.1\"",
                ops.len(),
                ops.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
            ),
            FilterErrorKind::EmptyRegex => {
                write!(f, "there is no column regex before the operator; {FORM}")
            }
            FilterErrorKind::EmptyLiteral => {
                write!(f, "there is no value after the operator; {FORM}")
            }
            FilterErrorKind::BadRegex(msg) => write!(f, "the regex does not compile: {msg}"),
            FilterErrorKind::OperatorInRegex(msg) => write!(
                f,
                "the regex before the operator does not compile ({msg}); a regex cannot contain \
                 the operator characters < > == != (so no look-behind `(?<=` or named group \
                 `(?P<name>`); {FORM}"
            ),
            FilterErrorKind::SingleEquals(column, value) => write!(
                f,
                "`=` is not a comparison; to keep the rows whose `{column}` equals {value}, write `==`: \
                 -f \"{column}=={value}\""
            ),
            FilterErrorKind::BadLiteral(lit) => write!(
                f,
                "`{lit}` is not a number, a quoted string, True, False, None or a list of \
                 those; quote text, e.g. a=='{lit}'"
            ),
        }?;
        // A caret under the place, when the filter is one line of reasonable length.
        if !self.filter.contains('\n') && self.filter.chars().count() <= 200 {
            write!(f, "\n    {}\n    {}^", self.filter, " ".repeat(self.position))?;
        }
        Ok(())
    }
}

impl std::error::Error for FilterError {}

/// One `-f` filter: a column regex and an optional row predicate.
#[derive(Clone, Debug)]
pub struct Filter {
    regex_text: String,
    regex: fancy_regex::Regex,
    condition: Option<(Op, Value)>,
    /// The literal was a date (`2026-12-01`, `2026-12-01T10:30`): cells compare as times,
    /// and this is the literal as typed (for `Display`). The condition's value holds the
    /// date in [`time_key`] form.
    time: Option<String>,
}

impl PartialEq for Filter {
    fn eq(&self, other: &Filter) -> bool {
        self.regex_text == other.regex_text && self.condition == other.condition
    }
}

impl Filter {
    /// A column-only filter from a regex (no spaces are removed, no operators are looked for):
    /// the display toggles use this.
    pub fn column(regex: &str) -> Result<Filter, FilterError> {
        let origin: Vec<usize> = (0..regex.chars().count()).collect();
        Filter::build(regex, regex.to_owned(), &origin)
    }

    /// Compile `regex_text`, the part of `text` (the filter as typed) whose `k`-th character
    /// was typed at character `origin[k]`: errors point into `text`, not into the anchored
    /// pattern compiled here.
    fn build(text: &str, regex_text: String, origin: &[usize]) -> Result<Filter, FilterError> {
        const ANCHOR: &str = "^(?:";
        let regex = fancy_regex::Regex::new(&format!("{ANCHOR}{regex_text})")).map_err(|e| {
            let (at_byte, message) = match &e {
                fancy_regex::Error::ParseError(pos, inner) => (pos.saturating_sub(ANCHOR.len()), inner.to_string()),
                other => (0, other.to_string()),
            };
            let at_char = regex_text.char_indices().take_while(|(b, _)| *b < at_byte).count();
            let position = origin.get(at_char).copied().unwrap_or_else(|| text.chars().count());
            FilterError { filter: text.to_owned(), position, kind: FilterErrorKind::BadRegex(message) }
        })?;
        Ok(Filter { regex_text, regex, condition: None, time: None })
    }

    /// The column regex as written (without the implicit start anchor).
    pub fn regex(&self) -> &str {
        &self.regex_text
    }

    /// The row predicate, when there is one.
    pub fn condition(&self) -> Option<(Op, &Value)> {
        self.condition.as_ref().map(|(op, v)| (*op, v))
    }

    /// Whether the regex matches the start of a flattened column name (Python's `re.match`).
    /// A regex that exceeds the backtracking limit counts as no match.
    pub fn matches(&self, key: &str) -> bool {
        self.regex.is_match(key).unwrap_or(false)
    }

    /// Whether a row passes this filter's predicate on one matching cell (`None` = missing).
    /// Always true for a column-only filter.
    pub fn holds(&self, cell: Option<&Value>) -> bool {
        match &self.condition {
            None => true,
            Some((op, lit)) if self.time.is_some() => {
                let cell = match cell {
                    Some(Value::Str(s)) => time_key(s).map(Value::Str),
                    _ => None,
                };
                compare(cell.as_ref(), *op, lit)
            }
            Some((op, lit)) => compare(cell, *op, lit),
        }
    }
}

impl FromStr for Filter {
    type Err = FilterError;

    fn from_str(text: &str) -> Result<Filter, FilterError> {
        let err = |position, kind| FilterError { filter: text.to_owned(), position, kind };
        // `squeezed` is the filter without spaces outside quotes; its k-th character was
        // typed at character `origin[k]`.
        let (squeezed, origin) = remove_spaces_outside_quotes(text);
        let typed_len = text.chars().count();
        let at = |k: usize| origin.get(k).copied().unwrap_or(typed_len);
        // (byte offset in squeezed, char index in squeezed, operator)
        let mut parts: Vec<(usize, usize, &'static str, Op)> = Vec::new();
        let mut chars = squeezed.char_indices().enumerate().peekable();
        let mut quote: Option<char> = None;
        while let Some((k, (byte, c))) = chars.next() {
            if let Some(q) = quote {
                if c == '\\' {
                    chars.next();
                } else if c == q {
                    quote = None;
                }
                continue;
            }
            // Quotes only start a literal once an operator has been seen.
            if (c == '\'' || c == '"') && !parts.is_empty() {
                quote = Some(c);
                continue;
            }
            if let Some((s, op)) = OPERATORS.iter().find(|(s, _)| squeezed[byte..].starts_with(s)) {
                parts.push((byte, k, s, *op));
                // Every operator is ASCII: one char per byte.
                for _ in 1..s.len() {
                    chars.next();
                }
            }
        }
        match parts.as_slice() {
            [] => {
                // `lr=0.1`: a column name, one `=`, a value. (A regex uses `=` only inside
                // `(?=`/`(?<=`/`(?!`, which the name check excludes.)
                if let Some((column, value)) = squeezed.split_once('=') {
                    let is_name =
                        !column.is_empty() && column.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.');
                    if is_name && !value.is_empty() && !value.starts_with('=') {
                        let k = column.chars().count();
                        return Err(err(at(k), FilterErrorKind::SingleEquals(column.to_owned(), value.to_owned())));
                    }
                }
                Filter::build(text, squeezed.clone(), &origin)
            }
            [(byte, k, s, op)] => {
                let (regex, literal) = (&squeezed[..*byte], &squeezed[byte + s.len()..]);
                if regex.is_empty() {
                    return Err(err(at(*k), FilterErrorKind::EmptyRegex));
                }
                if literal.is_empty() {
                    return Err(err(typed_len, FilterErrorKind::EmptyLiteral));
                }
                // Compile first: a regex cut in two at an operator character is the likelier
                // mistake than a bad literal.
                let mut filter = Filter::build(text, regex.to_owned(), &origin).map_err(|e| match e.kind {
                    FilterErrorKind::BadRegex(m) => err(e.position, FilterErrorKind::OperatorInRegex(m)),
                    other => err(e.position, other),
                })?;
                // An unquoted date compares as a time (`_timestamps_start>2026-12-01`).
                if let Some(key) = time_key(literal) {
                    filter.condition = Some((*op, Value::Str(key)));
                    filter.time = Some(literal.to_owned());
                    return Ok(filter);
                }
                let value = parse_literal(literal)
                    .ok_or_else(|| err(at(k + s.len()), FilterErrorKind::BadLiteral(literal.to_owned())))?;
                filter.condition = Some((*op, value));
                Ok(filter)
            }
            [_, (_, k, _, _), ..] => {
                Err(err(at(*k), FilterErrorKind::TooManyOperators(parts.iter().map(|(_, _, s, _)| *s).collect())))
            }
        }
    }
}

impl fmt::Display for Filter {
    /// `REGEX` or `REGEX OP LITERAL` with the literal as Python's `repr`, which parses back to
    /// an equal filter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.regex_text)?;
        if let (Some((op, _)), Some(typed)) = (&self.condition, &self.time) {
            write!(f, "{op}{typed}")?;
        } else if let Some((op, lit)) = &self.condition {
            write!(f, "{op}{}", pyfmt::repr_of(lit))?;
        }
        Ok(())
    }
}

/// The filter without the spaces outside quotes, and for each character kept, the index of the
/// character of `text` it came from.
fn remove_spaces_outside_quotes(text: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in text.chars().enumerate() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                out.push(c);
                origin.push(i);
            }
            None if c == ' ' => {}
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                out.push(c);
                origin.push(i);
            }
        }
    }
    (out, origin)
}

/// A date or time as sortable text (`2026-12-01 10:30:00.000000`), or `None` when `text` is
/// neither: the records' timestamps (`26-11-27-17-58-59-165499`, year 20yy) and ISO dates
/// typed in filters (`2026-12-01`, `2026-12-01T10:30`, `2026-12-01_10:30:15`; a space is not
/// possible as `-f` removes spaces outside quotes).
pub fn time_key(text: &str) -> Option<String> {
    use std::sync::OnceLock;
    static RE: OnceLock<[regex::Regex; 2]> = OnceLock::new();
    let [record, iso] = RE.get_or_init(|| {
        #[allow(clippy::unwrap_used)] // constant patterns, tested below
        [
            regex::Regex::new(r"^([0-9]{2})-([0-9]{2})-([0-9]{2})-([0-9]{2})-([0-9]{2})-([0-9]{2})-([0-9]{1,6})$").unwrap(),
            regex::Regex::new(
                r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[T_ ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?)?$",
            )
            .unwrap(),
        ]
    });
    let (c, century) = match (record.captures(text), iso.captures(text)) {
        (Some(c), _) => (c, "20"),
        (None, Some(c)) => (c, ""),
        (None, None) => return None,
    };
    let n = |i: usize| c.get(i).map_or(0, |m| m.as_str().parse::<u32>().unwrap_or(0));
    let micro = c.get(7).map_or(0, |m| {
        let digits = m.as_str();
        digits.parse::<u32>().unwrap_or(0) * 10u32.pow(6 - digits.len().min(6) as u32)
    });
    let (month, day, hour, minute, second) = (n(2), n(3), n(4), n(5), n(6));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(format!(
        "{century}{}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}.{micro:06}",
        c.get(1).map_or("", |m| m.as_str())
    ))
}

/// Parse a Python literal: a number, a quoted string, `True`, `False`, `None`, or a list or
/// tuple of those. `None` for anything else.
pub fn parse_literal(text: &str) -> Option<Value> {
    let mut p = LiteralParser { s: text.as_bytes(), text, pos: 0 };
    let v = p.value()?;
    p.skip_ws();
    (p.pos == p.s.len()).then_some(v)
}

struct LiteralParser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl LiteralParser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.pos).is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Option<Value> {
        self.skip_ws();
        match *self.s.get(self.pos)? {
            q @ (b'\'' | b'"') => self.string(q),
            open @ (b'[' | b'(') => self.list(if open == b'[' { b']' } else { b')' }),
            _ => {
                let start = self.pos;
                while self.s.get(self.pos).is_some_and(|b| !matches!(b, b',' | b']' | b')') && !b.is_ascii_whitespace())
                {
                    self.pos += 1;
                }
                scalar(&self.text[start..self.pos])
            }
        }
    }

    fn string(&mut self, quote: u8) -> Option<Value> {
        self.pos += 1;
        let mut out = String::new();
        let rest = &self.text[self.pos..];
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            if c as u32 == u32::from(quote) {
                self.pos += i + 1;
                return Some(Value::Str(out));
            }
            if c == '\\' {
                let (_, e) = chars.next()?;
                // Python's escapes, as its repr writes them (`\x00`, `\u00e9`).
                let hex_digits = match e {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => 0,
                };
                if hex_digits > 0 {
                    let hex: String = (0..hex_digits).map_while(|_| chars.next().map(|(_, h)| h)).collect();
                    let code = u32::from_str_radix(&hex, 16).ok().filter(|_| hex.len() == hex_digits)?;
                    out.push(char::from_u32(code)?);
                    continue;
                }
                out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'v' => '\u{b}',
                    other => other,
                });
            } else {
                out.push(c);
            }
        }
        None
    }

    fn list(&mut self, close: u8) -> Option<Value> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.s.get(self.pos) == Some(&close) {
                self.pos += 1;
                return Some(Value::List(items));
            }
            items.push(self.value()?);
            self.skip_ws();
            match self.s.get(self.pos)? {
                b',' => self.pos += 1,
                b if *b == close => {}
                _ => return None,
            }
        }
    }
}

fn scalar(word: &str) -> Option<Value> {
    match word {
        "True" => return Some(Value::Bool(true)),
        "False" => return Some(Value::Bool(false)),
        "None" => return Some(Value::None),
        // Python writes an overflowing float (`1e999`) as `inf`; a filter's Display uses
        // Python's repr, so these words read back.
        "inf" | "+inf" => return Some(Value::Float(f64::INFINITY)),
        "-inf" => return Some(Value::Float(f64::NEG_INFINITY)),
        "" => return None,
        _ => {}
    }
    let clean = word.replace('_', "");
    if word.starts_with('_') || word.ends_with('_') || word.contains("__") {
        return None;
    }
    let digits = clean.strip_prefix(['+', '-']).unwrap_or(&clean);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some(clean.parse::<i64>().map_or_else(|_| Value::Float(clean.parse().unwrap_or(f64::NAN)), Value::Int));
    }
    // Python float literals: digits, one dot, an exponent; no `nan`.
    let ok = digits.bytes().any(|b| b.is_ascii_digit())
        && digits.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if ok {
        return clean.parse::<f64>().ok().map(Value::Float);
    }
    None
}

/// A number as f64 for comparisons: bools are ints in Python.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Python's `==` between two values.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::None, Value::None) => true,
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q)),
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.iter().any(|(k2, v2)| k == k2 && py_eq(v, v2)))
        }
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// Python's ordering of two values; `None` where Python raises `TypeError` (or for NaN).
pub fn py_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y) {
                if !py_eq(p, q) {
                    return py_cmp(p, q);
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => number(a)?.partial_cmp(&number(b)?),
    }
}

/// `cell op literal` with the rules of the module docs.
pub fn compare(cell: Option<&Value>, op: Op, literal: &Value) -> bool {
    let cell = match cell {
        None | Some(Value::None) => return op == Op::Ne,
        Some(c) => c,
    };
    match op {
        Op::Eq => py_eq(cell, literal),
        Op::Ne => !py_eq(cell, literal),
        Op::Lt => py_cmp(cell, literal) == Some(Ordering::Less),
        Op::Le => matches!(py_cmp(cell, literal), Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => py_cmp(cell, literal) == Some(Ordering::Greater),
        Op::Ge => matches!(py_cmp(cell, literal), Some(Ordering::Greater | Ordering::Equal)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(text: &str) -> Filter {
        match text.parse() {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn dates_compare_as_times() {
        for (text, want) in [
            ("26-11-27-17-58-59-165499", Some("2026-11-27 17:58:59.165499")),
            ("2026-12-01", Some("2026-12-01 00:00:00.000000")),
            ("2026-12-1T9:05", Some("2026-12-01 09:05:00.000000")),
            ("2026-12-01_10:30:15.5", Some("2026-12-01 10:30:15.500000")),
            ("2026-13-01", None),
            ("0.01", None),
            ("hello", None),
        ] {
            assert_eq!(time_key(text).as_deref(), want, "{text}");
        }
        let after = f("_timestamps_start>2026-12-01");
        assert_eq!(after.to_string(), "_timestamps_start>2026-12-01");
        let cell = |s: &str| Value::Str(s.to_owned());
        assert!(after.holds(Some(&cell("26-12-01-00-00-01-000000"))));
        assert!(!after.holds(Some(&cell("26-11-30-23-59-59-999999"))));
        // the record's two-digit year is read as 20yy
        assert!(after.holds(Some(&cell("27-01-01-00-00-00-000000"))));
        assert!(!after.holds(Some(&cell("not a time"))));
        assert!(!after.holds(None));
        assert!(f("_timestamps_start<=2026-12-01T12:00").holds(Some(&cell("26-12-01-11-59-00-000000"))));
    }

    #[test]
    fn filters_split_at_one_operator() {
        type Case = (&'static str, &'static str, Option<(Op, Value)>);
        let table: [Case; 12] = [
            ("lr<0.01", "lr", Some((Op::Lt, Value::Float(0.01)))),
            ("lr <= 1e-3", "lr", Some((Op::Le, Value::Float(0.001)))),
            ("a=='Hello'", "a", Some((Op::Eq, Value::Str("Hello".into())))),
            ("a == 'Hello World'", "a", Some((Op::Eq, Value::Str("Hello World".into())))),
            ("a!=\"x<y\"", "a", Some((Op::Ne, Value::Str("x<y".into())))),
            ("n>=3", "n", Some((Op::Ge, Value::Int(3)))),
            ("n>-3", "n", Some((Op::Gt, Value::Int(-3)))),
            ("flag==True", "flag", Some((Op::Eq, Value::Bool(true)))),
            ("x==None", "x", Some((Op::Eq, Value::None))),
            ("s==[3, 4]", "s", Some((Op::Eq, Value::List(vec![Value::Int(3), Value::Int(4)])))),
            ("(?!_).*", "(?!_).*", None),
            ("_messages_.*", "_messages_.*", None),
        ];
        for (text, regex, cond) in table {
            let got = f(text);
            assert_eq!(got.regex(), regex, "{text}");
            assert_eq!(got.condition.clone(), cond, "{text}");
            // Display round-trips
            assert_eq!(f(&got.to_string()), got, "{text} -> {got}");
        }
    }

    #[test]
    fn bad_filters_say_what_and_how_to_fix() {
        let table: [(&str, &str); 7] = [
            ("0.1<lr<0.2", "2 comparison operators (`<`, `<`)"),
            ("(?<=a)b", "look-behind"),
            ("a==Hello", "quote text, e.g. a=='Hello'"),
            ("<3", "no column regex"),
            ("lr<", "no value after"),
            ("a((", "does not compile"),
            ("a=='open", "not a number"),
        ];
        for (text, want) in table {
            let msg = text.parse::<Filter>().err().map(|e| e.to_string()).unwrap_or_default();
            assert!(msg.contains(want) && msg.contains(text), "{text}: {msg}");
        }
    }

    #[test]
    fn r13_non_ascii_anywhere_is_parsed_not_a_panic() {
        for text in ["é", "λ<1", "lr<é", "é==1", "'é'<1", "a=='日本'", "λλ λ<=λ", "x<'é", "\\é", "é\\"] {
            let r = text.parse::<Filter>();
            if let Err(e) = &r {
                assert!(e.position <= text.chars().count(), "{text}: {e:?}");
            }
        }
        let f: Filter = "λ < 1".parse().unwrap();
        assert_eq!((f.regex(), f.condition()), ("λ", Some((Op::Lt, &Value::Int(1)))));
        let f: Filter = "name == 'é b'".parse().unwrap();
        assert_eq!(f.condition(), Some((Op::Eq, &Value::Str("é b".into()))));
    }

    #[test]
    fn r14_a_single_equals_sign_is_an_error_suggesting_two() {
        let e = "lr=0.1".parse::<Filter>().unwrap_err();
        assert_eq!((e.position, &e.kind), (2, &FilterErrorKind::SingleEquals("lr".into(), "0.1".into())));
        assert!(e.to_string().contains("-f \"lr==0.1\""), "{e}");
        // look-arounds and comparisons keep working
        for ok in ["(?=lr)", "x(?=a)", "lr==0.1", "lr<=1", "a!=2"] {
            assert!(ok.parse::<Filter>().is_ok(), "{ok}");
        }
    }

    #[test]
    fn r13_error_positions_point_into_the_filter_as_typed() {
        let table: [(&str, usize); 7] = [
            // the group is never closed: the end of what was typed, not a place inside the
            // anchored pattern xmen compiles
            ("(?!_", 4),
            ("a  ((", 5),
            ("0.1 < lr < 0.2", 9),
            ("<3", 0),
            ("lr <", 4),
            ("é == Hello", 5),
            ("λ<1<2", 3),
        ];
        for (text, want) in table {
            let e = text.parse::<Filter>().unwrap_err();
            assert_eq!(e.position, want, "{text}: {e}");
            assert!(!e.to_string().contains("position"), "{e}");
        }
    }

    #[test]
    fn regexes_match_at_the_start_only_with_look_ahead() {
        let table: [(&str, &str, bool); 8] = [
            ("a", "abc", true),
            ("loss", "loss_val", true),
            ("b", "abc", false),
            ("(?!_).*", "lr", true),
            ("(?!_).*", "_root", false),
            ("_status$", "_status", true),
            ("_status$", "_status_x", false),
            ("(?i)LR", "lr", true),
        ];
        for (re, key, want) in table {
            assert_eq!(f(re).matches(key), want, "{re} on {key}");
        }
    }

    #[test]
    fn comparisons_follow_python_and_never_fail() {
        let s = |x: &str| Value::Str(x.into());
        let table: [(Option<Value>, Op, Value, bool); 16] = [
            (Some(Value::Float(0.001)), Op::Lt, Value::Float(0.01), true),
            (Some(Value::Int(1)), Op::Eq, Value::Float(1.0), true),
            (Some(Value::Bool(true)), Op::Eq, Value::Int(1), true),
            (Some(s("Hello")), Op::Eq, s("Hello"), true),
            (Some(s("Hello")), Op::Lt, Value::Int(3), false),
            (Some(s("Hello")), Op::Ge, Value::Int(3), false),
            (Some(s("Hello")), Op::Ne, Value::Int(3), true),
            (Some(s("Hello")), Op::Eq, Value::Int(3), false),
            (None, Op::Eq, Value::Int(3), false),
            (None, Op::Ne, Value::Int(3), true),
            (Some(Value::None), Op::Lt, Value::Int(3), false),
            (Some(Value::Float(f64::NAN)), Op::Eq, Value::Float(f64::NAN), false),
            (Some(Value::Float(f64::NAN)), Op::Ne, Value::Int(1), true),
            (Some(s("b")), Op::Gt, s("a"), true),
            (
                Some(Value::List(vec![Value::Int(1), Value::Int(2)])),
                Op::Lt,
                Value::List(vec![Value::Int(1), Value::Int(3)]),
                true,
            ),
            (Some(Value::Int(i64::MAX)), Op::Gt, Value::Int(i64::MAX - 1), true),
        ];
        for (cell, op, lit, want) in table {
            assert_eq!(compare(cell.as_ref(), op, &lit), want, "{cell:?} {op} {lit:?}");
        }
    }
}

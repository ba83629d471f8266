//! YAML in and out: serde-saphyr reads, our own emitter writes.
//!
//! Reading follows YAML 1.2 like the original's ruamel.yaml: `yes`/`no` stay strings, `~` and an
//! empty value are null, `.inf`/`.nan` are floats, `0:00:00.1` and `06:01PM 27/11/26` stay
//! strings, anchors and aliases are resolved. serde-saphyr is used with strict booleans and
//! non-finite floats passed through; its `Commented` wrapper gives each top-level key's
//! end-of-line comment (the help text), including `_meta: # ...` on containers.
//!
//! Writing copies ruamel's round-trip output: block maps indented by two spaces, block
//! sequences whose dash sits at the key's column, `{}`/`[]` for empty containers, null as
//! nothing after the colon, floats as Python's `repr` (`1e-08`, `0.001`, `1.0`, `.inf`), and
//! strings quoted with single quotes only when they would read back as something else
//! (`'3'`, `'yes'`, `''`, `'0x2fc00000001'`, `'2001-12-14'`). Top-level comments are written
//! here too, so layout and comments are entirely under our control.
//!
//! One known reading difference: a plain scalar with a leading zero such as `09` reads as the
//! float `9.0` (ruamel reads the int `9`). We never write such scalars: ints are written
//! without leading zeros and such strings are quoted.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Commented, NonFiniteFloatPolicy, Options};
use xmen_core::pyfmt;
use xmen_core::Value;

use crate::error::{RecordError, Result};

/// The serde-saphyr options of every read: YAML 1.2 booleans, non-finite floats kept,
/// duplicate keys rejected (as ruamel does), no snippet text in messages.
fn options() -> Options {
    serde_saphyr::options! {
        strict_booleans: true,
        non_finite_float_policy: NonFiniteFloatPolicy::PassThrough,
        with_snippet: false,
    }
}

/// A [`Value`] that serde can build from any YAML node.
struct Node(Value);

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> std::result::Result<Node, E> {
        Ok(Node(Value::None))
    }
    fn visit_none<E>(self) -> std::result::Result<Node, E> {
        Ok(Node(Value::None))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> std::result::Result<Node, E> {
        Ok(Node(Value::Bool(b)))
    }
    fn visit_i64<E>(self, i: i64) -> std::result::Result<Node, E> {
        Ok(Node(Value::Int(i)))
    }
    fn visit_u64<E>(self, u: u64) -> std::result::Result<Node, E> {
        // Beyond i64 a YAML int can only be held approximately.
        Ok(Node(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int)))
    }
    fn visit_i128<E>(self, i: i128) -> std::result::Result<Node, E> {
        Ok(Node(i64::try_from(i).map_or(Value::Float(i as f64), Value::Int)))
    }
    fn visit_u128<E>(self, u: u128) -> std::result::Result<Node, E> {
        Ok(Node(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int)))
    }
    fn visit_f64<E>(self, f: f64) -> std::result::Result<Node, E> {
        Ok(Node(Value::Float(f)))
    }
    fn visit_str<E>(self, s: &str) -> std::result::Result<Node, E> {
        Ok(Node(Value::Str(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> std::result::Result<Node, E> {
        Ok(Node(Value::Str(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(Node(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Node(Value::List(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((Node(k), Node(v))) = map.next_entry()? {
            entries.push((key_text(&k), v));
        }
        Ok(Node(Value::Map(entries)))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// Map keys are strings in [`Value`]; other YAML keys (`0: x`) become their Python `str()`.
fn key_text(k: &Value) -> String {
    match k {
        Value::Str(s) => s.clone(),
        other => pyfmt::str_of(other),
    }
}

/// The top-level mapping, each value with its end-of-line comment.
struct TopLevel(Vec<(String, Value, String)>);

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<TopLevel, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopLevel;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping of keys to values")
            }
            fn visit_unit<E>(self) -> std::result::Result<TopLevel, E> {
                Ok(TopLevel(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<TopLevel, A::Error> {
                let mut entries = Vec::new();
                while let Some((Node(k), Commented(Node(v), comment))) = map.next_entry()? {
                    entries.push((key_text(&k), v, comment));
                }
                Ok(TopLevel(entries))
            }
        }
        d.deserialize_map(V)
    }
}

fn yaml_error(path: &Path, e: &serde_saphyr::Error) -> RecordError {
    let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
    let mut message = e.to_string();
    // The location is reported in its own fields; drop the parser's " at line L, column C".
    let suffix = format!(" at line {line}, column {column}");
    if let Some(stripped) = message.strip_suffix(&suffix) {
        message = stripped.to_owned();
    }
    RecordError::Yaml { path: path.to_path_buf(), line, column, message }
}

/// Parse a YAML document into a [`Value`]; an empty document is [`Value::None`].
///
/// `path` only names the source in errors (use `Path::new("<string>")` for text).
pub fn parse(text: &str, path: &Path) -> Result<Value> {
    let node: Option<Node> = serde_saphyr::from_str_with_options(text, options()).map_err(|e| yaml_error(path, &e))?;
    Ok(node.map_or(Value::None, |n| n.0))
}

/// Parse a YAML document that must be a mapping, returning each top-level key with its value
/// and its end-of-line comment (empty when there is none), in file order.
///
/// An empty document gives no entries.
pub fn parse_commented_map(text: &str, path: &Path) -> Result<Vec<(String, Value, String)>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let top: TopLevel = serde_saphyr::from_str_with_options(text, options()).map_err(|e| yaml_error(path, &e))?;
    Ok(top.0)
}

// ---------------------------------------------------------------------------------------------
// Writing

/// How a string must be written to read back as the same string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
}

fn resolves_to_non_string() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let alternatives = [
            // null (YAML 1.2) and the merge/value keys
            r"~|null|Null|NULL|<<|=",
            // booleans of YAML 1.2 and, for the sake of YAML 1.1 readers such as PyYAML, 1.1
            r"true|True|TRUE|false|False|FALSE",
            r"yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF",
            // ints in every base, with underscores
            r"[-+]?[0-9][0-9_]*",
            r"[-+]?0[xX][0-9a-fA-F_]*",
            r"[-+]?0[oO][0-7_]*",
            r"[-+]?0[bB][01_]*",
            // floats
            r"[-+]?(\.[0-9_]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9_]+)?",
            r"[-+]?\.(inf|Inf|INF|nan|NaN|NAN)",
            // YAML 1.1 sexagesimal ints and floats are left plain, as ruamel writes them.
        ];
        let pattern = format!("^(?:{})$", alternatives.join("|"));
        #[allow(clippy::unwrap_used)] // a constant pattern, tested below
        Regex::new(&pattern).unwrap()
    })
}

fn timestamp_prefix() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // ruamel's implicit timestamp resolver reads `2001-12-14` (and longer forms) as a date.
    #[allow(clippy::unwrap_used)] // a constant pattern, tested below
    RE.get_or_init(|| Regex::new(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}").unwrap())
}

fn string_style(s: &str) -> Style {
    // ASCII text (paths, names: nearly everything) is checked a byte at a time; its control
    // characters are the C0 range and DEL.
    let needs_escape = if s.is_ascii() {
        s.bytes().any(|b| b < 0x20 || b == 0x7f)
    } else {
        s.chars().any(|c| c.is_control() || c == '\u{feff}' || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}')
    };
    if needs_escape {
        return Style::Double;
    }
    // Only a string starting with one of these can read back as something else (every
    // alternative of the two patterns starts with one); the others skip the regexes.
    let may_resolve = s.starts_with(|c: char| {
        c.is_ascii_digit()
            || matches!(
                c,
                '~' | '<' | '=' | '+' | '-' | '.' | 'n' | 'N' | 't' | 'T' | 'f' | 'F' | 'y' | 'Y' | 'o' | 'O'
            )
    });
    if s.is_empty() || (may_resolve && (resolves_to_non_string().is_match(s) || timestamp_prefix().is_match(s))) {
        return Style::Single;
    }
    let first = s.chars().next().unwrap_or(' ');
    let second = s.chars().nth(1);
    let leading_indicator =
        matches!(first, '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`')
            || (matches!(first, '-' | '?' | ':') && second.is_none_or(|c| c == ' '));
    if leading_indicator
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.ends_with(':')
        || s.contains(": ")
        || s.contains(" #")
        || s.starts_with("---")
        || s.starts_with("...")
    {
        return Style::Single;
    }
    Style::Plain
}

/// Whether the emitter writes `s` as a plain scalar, which then reads back as the same string
/// (the round-trip rule [`crate::quick`] relies on).
pub(crate) fn writes_plain(s: &str) -> bool {
    string_style(s) == Style::Plain
}

fn write_string(out: &mut String, s: &str) {
    match string_style(s) {
        Style::Plain => out.push_str(s),
        Style::Single => {
            out.push('\'');
            out.push_str(&s.replace('\'', "''"));
            out.push('\'');
        }
        Style::Double => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    '\0' => out.push_str("\\0"),
                    c if c.is_control() || matches!(c, '\u{feff}' | '\u{85}' | '\u{2028}' | '\u{2029}') => {
                        let _ = write!(out, "\\u{:04x}", u32::from(c));
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
    }
}

/// Render a float as ruamel does: Python's `repr` for finite values, `.inf`, `-.inf`, `.nan`.
pub fn float_text(f: f64) -> String {
    if f.is_nan() {
        ".nan".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf" } else { "-.inf" }.to_owned()
    } else {
        pyfmt::float_repr(f)
    }
}

/// Whether a value is written on the key's own line (a scalar, null or an empty container).
fn is_inline(v: &Value) -> bool {
    match v {
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => true,
    }
}

/// Write an inline value; nothing at all for null.
fn write_inline(out: &mut String, v: &Value, key: &KeyPath<'_>) -> Result<()> {
    match v {
        Value::None => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&float_text(*f)),
        Value::Str(s) => write_string(out, s),
        Value::List(_) => out.push_str("[]"),
        Value::Map(_) => out.push_str("{}"),
        other => return Err(RecordError::Unsupported { key: key.text(), kind: other.kind() }),
    }
    Ok(())
}

/// Where a value sits in the document (`opt.beta`, `sizes[1]`), built as the writer descends
/// and written out only when an error names it.
#[derive(Clone, Copy)]
enum KeyPath<'a> {
    /// A top-level key (empty for the document itself).
    Top(&'a str),
    /// A key of the map at the path.
    Key(&'a KeyPath<'a>, &'a str),
    /// An item of the list at the path.
    Item(&'a KeyPath<'a>, usize),
}

impl KeyPath<'_> {
    fn text(&self) -> String {
        match self {
            KeyPath::Top(k) => (*k).to_owned(),
            KeyPath::Key(parent, k) => {
                let parent = parent.text();
                if parent.is_empty() {
                    (*k).to_owned()
                } else {
                    format!("{parent}.{k}")
                }
            }
            KeyPath::Item(parent, i) => format!("{}[{i}]", parent.text()),
        }
    }
}

/// Write `v`, which comes after `prefix` (`key:` or `-`) on the current line, then newline.
fn write_after(out: &mut String, v: &Value, indent: usize, key: &KeyPath<'_>) -> Result<()> {
    if is_inline(v) {
        if !matches!(v, Value::None) {
            out.push(' ');
        }
        write_inline(out, v, key)?;
        out.push('\n');
        return Ok(());
    }
    out.push('\n');
    match v {
        Value::Map(m) => write_block_map(out, m, indent + 2, key, false),
        Value::List(l) => write_block_list(out, l, indent, key, false),
        _ => Ok(()),
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A block map at `indent`; with `hanging` the first entry continues the current line
/// (after `- `).
fn write_block_map(
    out: &mut String,
    m: &[(String, Value)],
    indent: usize,
    key: &KeyPath<'_>,
    hanging: bool,
) -> Result<()> {
    for (i, (k, v)) in m.iter().enumerate() {
        if !(hanging && i == 0) {
            pad(out, indent);
        }
        write_string(out, k);
        out.push(':');
        write_after(out, v, indent, &KeyPath::Key(key, k))?;
    }
    Ok(())
}

/// A block sequence whose dashes sit at `indent`.
fn write_block_list(out: &mut String, l: &[Value], indent: usize, key: &KeyPath<'_>, hanging: bool) -> Result<()> {
    for (i, v) in l.iter().enumerate() {
        if !(hanging && i == 0) {
            pad(out, indent);
        }
        out.push('-');
        let item_key = KeyPath::Item(key, i);
        match v {
            Value::Map(m) if !m.is_empty() => {
                out.push(' ');
                write_block_map(out, m, indent + 2, &item_key, true)?;
            }
            Value::List(inner) if !inner.is_empty() => {
                out.push(' ');
                write_block_list(out, inner, indent + 2, &item_key, true)?;
            }
            _ => write_after(out, v, indent, &item_key)?,
        }
    }
    Ok(())
}

/// Write a whole [`Value`] as a YAML document in ruamel's block style (`{}` for an empty map,
/// `null` for a null document).
pub fn to_string(v: &Value) -> Result<String> {
    let mut out = String::new();
    match v {
        Value::Map(m) if !m.is_empty() => write_block_map(&mut out, m, 0, &KeyPath::Top(""), false)?,
        Value::List(l) if !l.is_empty() => write_block_list(&mut out, l, 0, &KeyPath::Top(""), false)?,
        Value::None => out.push_str("null\n"),
        other => {
            write_inline(&mut out, other, &KeyPath::Top(""))?;
            out.push('\n');
        }
    }
    Ok(out)
}

/// One top-level line of a record file: key, value and the help comment.
#[derive(Debug, Clone, Copy)]
pub struct TopEntry<'a> {
    /// The key.
    pub key: &'a str,
    /// Its value.
    pub value: &'a Value,
    /// The end-of-line comment, without `# ` (none when empty).
    pub comment: Option<&'a str>,
}

/// Write top-level `key: value # comment` lines in the given order, as the original's files
/// show them: the comment follows the value of a scalar (two spaces before `#`
/// on the first line, one after, as ruamel lays them out) and the colon of a container.
pub fn write_document(entries: &[TopEntry<'_>]) -> Result<String> {
    let mut out = String::with_capacity(64 * entries.len());
    for (i, e) in entries.iter().enumerate() {
        write_top_entry(&mut out, e, i == 0)?;
    }
    Ok(out)
}

/// Write one top-level entry of [`write_document`]: its text depends only on the entry and on
/// whether it comes `first` (the first scalar's comment has two spaces before `#`), so a
/// document's entries may be written apart and joined (see `crate::RegisterTemplate`).
pub fn write_top_entry(out: &mut String, e: &TopEntry<'_>, first: bool) -> Result<()> {
    write_string(out, e.key);
    out.push(':');
    let comment = e.comment.map(str::trim).filter(|c| !c.is_empty());
    if is_inline(e.value) {
        if !matches!(e.value, Value::None) {
            out.push(' ');
            write_inline(out, e.value, &KeyPath::Top(e.key))?;
            if first && comment.is_some() {
                out.push(' ');
            }
        }
        if let Some(c) = comment {
            out.push_str(" # ");
            push_comment(out, c);
        }
        out.push('\n');
    } else {
        if let Some(c) = comment {
            out.push_str(" # ");
            push_comment(out, c);
        }
        out.push('\n');
        match e.value {
            Value::Map(m) => write_block_map(out, m, 2, &KeyPath::Top(e.key), false)?,
            Value::List(l) => write_block_list(out, l, 0, &KeyPath::Top(e.key), false)?,
            _ => {}
        }
    }
    Ok(())
}

/// A comment cannot span lines: line breaks become spaces.
fn push_comment(out: &mut String, c: &str) {
    let mut rest = c;
    while let Some(at) = rest.bytes().position(|b| b == b'\n' || b == b'\r') {
        out.push_str(&rest[..at]);
        out.push(' ');
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Value {
        match parse(text, Path::new("<test>")) {
            Ok(v) => v,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn scalar(text: &str) -> Value {
        match p(&format!("k: {text}\n")) {
            Value::Map(mut m) if m.len() == 1 => m.remove(0).1,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scalars_read_as_yaml_1_2() {
        let s = |x: &str| Value::Str(x.to_owned());
        let table: Vec<(&str, Value)> = vec![
            ("yes", s("yes")),
            ("no", s("no")),
            ("on", s("on")),
            ("true", Value::Bool(true)),
            ("False", Value::Bool(false)),
            ("1e-3", Value::Float(0.001)),
            ("1e-08", Value::Float(1e-8)),
            ("1.0", Value::Float(1.0)),
            ("5.", Value::Float(5.0)),
            (".5", Value::Float(0.5)),
            (".inf", Value::Float(f64::INFINITY)),
            ("-.inf", Value::Float(f64::NEG_INFINITY)),
            ("'3'", s("3")),
            ("3", Value::Int(3)),
            ("-3", Value::Int(-3)),
            ("0x10", Value::Int(16)),
            ("0:00:00.1", s("0:00:00.1")),
            ("06:01PM 27/11/26", s("06:01PM 27/11/26")),
            ("26-11-27-17-59-25-862242", s("26-11-27-17-59-25-862242")),
            ("~", Value::None),
            ("", Value::None),
            ("null", Value::None),
            ("''", s("")),
            ("'0x2fc00000001'", s("0x2fc00000001")),
            ("[1, 2]", Value::List(vec![Value::Int(1), Value::Int(2)])),
            ("{}", Value::Map(vec![])),
            ("Hello # a comment", s("Hello")),
        ];
        for (text, want) in table {
            assert_eq!(scalar(text), want, "{text:?}");
        }
        match scalar(".nan") {
            Value::Float(f) => assert!(f.is_nan()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn anchors_and_aliases_are_resolved() {
        let v = p("a: &x {b: 1}\nc:\n- *x\n- *x\n");
        let b = Value::Map(vec![("b".into(), Value::Int(1))]);
        assert_eq!(v.get("a"), Some(&b));
        assert_eq!(v.get("c"), Some(&Value::List(vec![b.clone(), b])));
    }

    #[test]
    fn malformed_yaml_names_file_line_and_column() {
        let table = [("a: 1\nb: [1, 2\nc: 3\n", 3), ("a: 1\n  b: 2\n", 2), ("a: 1\na: 2\n", 2)];
        for (text, line) in table {
            match parse(text, Path::new("/x/params.yml")) {
                Err(RecordError::Yaml { path, line: l, column, message }) => {
                    assert_eq!(path, Path::new("/x/params.yml"));
                    assert_eq!(l, line, "{text:?}: {message}");
                    assert!(column > 0);
                    assert!(!message.contains(" at line "), "{message}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let shown = parse("a: [\n", Path::new("/x/params.yml")).err().map(|e| e.to_string());
        assert!(shown.is_some_and(|s| s.starts_with("/x/params.yml:")));
    }

    #[test]
    fn comments_are_captured_on_scalars_nulls_and_containers() {
        let text = "_host: h  # the host\n_notes: # the notes\n_meta: # the meta\n  mac: '0x1'\n\
                    a: Hello # a: str='Hello' ~ The first argument\nb: 3\n";
        let got = parse_commented_map(text, Path::new("<t>")).unwrap_or_default();
        let comments: Vec<(&str, &str)> = got.iter().map(|(k, _, c)| (k.as_str(), c.as_str())).collect();
        assert_eq!(
            comments,
            [
                ("_host", "the host"),
                ("_notes", "the notes"),
                ("_meta", "the meta"),
                ("a", "a: str='Hello' ~ The first argument"),
                ("b", "")
            ]
        );
    }

    #[test]
    fn strings_are_quoted_only_when_they_would_read_back_as_something_else() {
        let table = [
            ("Hello", "Hello"),
            ("3", "'3'"),
            ("yes", "'yes'"),
            ("No", "'No'"),
            ("", "''"),
            ("0x2fc00000001", "'0x2fc00000001'"),
            ("1e-3", "'1e-3'"),
            ("1.0", "'1.0'"),
            (".inf", "'.inf'"),
            ("null", "'null'"),
            ("~", "'~'"),
            ("true", "'true'"),
            ("2001-12-14", "'2001-12-14'"),
            ("0:00:00.1", "0:00:00.1"),
            ("06:01PM 27/11/26", "06:01PM 27/11/26"),
            ("26-11-27-17-59-25-862242", "26-11-27-17-59-25-862242"),
            ("/data/xrun/exps2/a=Hello__b=World", "/data/xrun/exps2/a=Hello__b=World"),
            ("a: b", "'a: b'"),
            ("a #b", "'a #b'"),
            ("#x", "'#x'"),
            ("- x", "'- x'"),
            ("-x", "-x"),
            ("it's", "it's"),
            ("'q'", "'''q'''"),
            (" pad", "' pad'"),
            ("{'beta': 0.5}", "'{''beta'': 0.5}'"),
            ("[3, 4]", "'[3, 4]'"),
            ("a, b", "a, b"),
            ("two\nlines", "\"two\\nlines\""),
            ("tab\there", "\"tab\\there\""),
            ("é", "é"),
            ("key:", "'key:'"),
            ("---", "'---'"),
        ];
        for (s, want) in table {
            let mut out = String::new();
            write_string(&mut out, s);
            assert_eq!(out, want, "{s:?}");
            // and it reads back as the same string
            assert_eq!(scalar(&out), Value::Str(s.to_owned()), "{s:?} written as {out}");
        }
    }

    #[test]
    fn floats_are_written_like_ruamel() {
        let table = [
            (1e-8, "1e-08"),
            (0.001, "0.001"),
            (1.0, "1.0"),
            (0.5, "0.5"),
            (1e16, "1e+16"),
            (-2.5, "-2.5"),
            (f64::INFINITY, ".inf"),
            (f64::NEG_INFINITY, "-.inf"),
            (f64::NAN, ".nan"),
        ];
        for (f, want) in table {
            assert_eq!(float_text(f), want);
            if !f.is_nan() {
                assert_eq!(scalar(want), Value::Float(f), "{want}");
            }
        }
    }

    #[test]
    fn nested_values_are_written_in_block_style() {
        let v: Value = Value::Map(vec![
            ("n".into(), Value::None),
            ("e".into(), Value::Map(vec![])),
            ("el".into(), Value::List(vec![])),
            ("l".into(), Value::List(vec![Value::Int(3), Value::Str("4".into()), Value::None])),
            (
                "m".into(),
                Value::Map(vec![
                    ("a".into(), Value::Float(0.5)),
                    ("l".into(), Value::List(vec![Value::Bool(true)])),
                    ("m".into(), Value::Map(vec![("x".into(), Value::Int(1))])),
                ]),
            ),
            (
                "lm".into(),
                Value::List(vec![
                    Value::Map(vec![("a".into(), Value::Int(1)), ("b".into(), Value::Int(2))]),
                    Value::List(vec![Value::Int(1), Value::Int(2)]),
                ]),
            ),
        ]);
        let text = to_string(&v).unwrap_or_default();
        let want = "n:\ne: {}\nel: []\nl:\n- 3\n- '4'\n-\nm:\n  a: 0.5\n  l:\n  - true\n  m:\n    x: 1\n\
                    lm:\n- a: 1\n  b: 2\n- - 1\n  - 2\n";
        assert_eq!(text, want);
        assert_eq!(p(&text), v);
    }

    #[test]
    fn top_level_comments_follow_the_original_layout() {
        let meta = Value::Map(vec![("mac".into(), Value::Str("0x2fc00000001".into()))]);
        let host = Value::Str("testhost".into());
        let empty = Value::Map(vec![]);
        let entries = [
            TopEntry { key: "_host", value: &host, comment: Some("the host") },
            TopEntry { key: "_meta", value: &meta, comment: Some("the meta") },
            TopEntry { key: "_notes", value: &Value::None, comment: Some("notes") },
            TopEntry { key: "_messages", value: &empty, comment: Some("msgs") },
            TopEntry { key: "a", value: &host, comment: None },
        ];
        let text = write_document(&entries).unwrap_or_default();
        assert_eq!(
            text,
            "_host: testhost  # the host\n_meta: # the meta\n  mac: '0x2fc00000001'\n\
             _notes: # notes\n_messages: {} # msgs\na: testhost\n"
        );
    }

    #[test]
    fn tensors_cannot_be_written() {
        let v = Value::Map(vec![("x".into(), Value::List(vec![Value::Image(vec![1, 2])]))]);
        match to_string(&v) {
            Err(RecordError::Unsupported { key, kind }) => {
                assert_eq!(key, "x[0]");
                assert_eq!(kind, "image");
            }
            other => panic!("{other:?}"),
        }
        // The error names the value's place in the document, however deep.
        let inner = Value::Map(vec![("b".into(), Value::Image(vec![1]))]);
        let opt = Value::Map(vec![("a".into(), Value::List(vec![Value::Int(1), inner]))]);
        let entry = TopEntry { key: "opt", value: &opt, comment: None };
        match write_document(&[entry]) {
            Err(RecordError::Unsupported { key, .. }) => assert_eq!(key, "opt.a[1].b"),
            other => panic!("{other:?}"),
        }
    }
}

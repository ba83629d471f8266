//! A quick reader for the YAML our own emitter writes, for readers that need values only
//! (`xmen list` parses 100,000 params.yml files on a cold listing).
//!
//! Key design choice: **it reads a strict subset and gives up on anything else**, returning
//! `None` so that the caller uses the general parser (serde-saphyr). The subset is what
//! [`crate::yaml`] writes: block maps indented by two spaces, block sequences of scalars whose
//! dash sits at the key's column, `{}` and `[]`, plain and single-quoted scalars, end-of-line
//! comments. A plain scalar becomes a null, a bool, an int or a float only in the spellings the
//! emitter writes; any other plain scalar is a string exactly when the emitter would write that
//! string plain (its round-trip rule, `yaml::writes_plain`), and otherwise the quick
//! reader gives up. So a document it accepts reads as the general parser reads it, minus the
//! comments.

use std::collections::HashSet;

use xmen_core::Value;

use crate::yaml::writes_plain;

/// One non-blank, non-comment line: its indent and its text after the indent.
#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

/// The top-level keys and values of `text`, or `None` when it is outside the subset.
pub fn parse_map(text: &str) -> Option<Vec<(String, Value)>> {
    let mut lines = Vec::with_capacity(64);
    for raw in text.lines() {
        let trimmed = raw.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed.starts_with('\t') || raw.ends_with('\r') || raw.starts_with("---") || raw.starts_with("...") {
            return None;
        }
        lines.push(Line { indent: raw.len() - trimmed.len(), text: trimmed });
    }
    let mut at = 0;
    let map = block_map(&lines, &mut at, 0)?;
    (at == lines.len()).then_some(map)
}

/// A block map whose keys sit at `indent`, from `lines[*at]` on.
fn block_map<'a>(lines: &[Line<'a>], at: &mut usize, indent: usize) -> Option<Vec<(String, Value)>> {
    let mut out: Vec<(String, Value)> = Vec::new();
    // Duplicate keys go to the general parser, which reports them; past a few keys, a set
    // finds them (a record may hold 16,000 parameters).
    let mut keys: Vec<&str> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    while let Some(line) = lines.get(*at) {
        if line.indent < indent {
            break;
        }
        if line.indent > indent || line.text.starts_with('-') {
            return None;
        }
        let (key, rest) = split_key(line.text)?;
        let duplicate = if keys.len() < 16 { keys.contains(&key) } else { !seen.insert(key) };
        if duplicate {
            return None;
        }
        keys.push(key);
        if keys.len() == 16 {
            seen.extend(keys.iter().copied());
        }
        *at += 1;
        let value = match inline(rest)? {
            Some(v) => v,
            None => nested(lines, at, indent)?,
        };
        out.push((key.to_owned(), value));
    }
    Some(out)
}

/// What follows `key:` with nothing after it: a block map indented further, a block sequence
/// at the key's column, or null.
fn nested(lines: &[Line<'_>], at: &mut usize, indent: usize) -> Option<Value> {
    match lines.get(*at) {
        Some(next) if next.indent > indent => {
            let inner = next.indent;
            if inner != indent + 2 {
                return None;
            }
            Some(Value::Map(block_map(lines, at, inner)?))
        }
        Some(next) if next.indent == indent && (next.text == "-" || next.text.starts_with("- ")) => {
            let mut items = Vec::new();
            while let Some(line) = lines.get(*at) {
                if line.indent != indent || !(line.text == "-" || line.text.starts_with("- ")) {
                    break;
                }
                let item = line.text.get(1..).unwrap_or_default();
                // Items that are maps or lists themselves go to the general parser.
                let v = match plain_path_item(item) {
                    Some(s) => Value::Str(s.to_owned()),
                    None => inline(item)?.unwrap_or(Value::None),
                };
                if line.text == "-" && lines.get(*at + 1).is_some_and(|l| l.indent > indent) {
                    return None;
                }
                items.push(v);
                *at += 1;
            }
            if lines.get(*at).is_some_and(|l| l.indent > indent) {
                return None;
            }
            Some(Value::List(items))
        }
        _ => Some(Value::None),
    }
}

/// Split `key: rest` (or `key:` at the end of the line); the key must be one the emitter writes
/// plain.
fn split_key(text: &str) -> Option<(&str, &str)> {
    let end = text.find(": ").or_else(|| text.strip_suffix(':').map(str::len))?;
    let key = &text[..end];
    if key.is_empty() || key.contains(" #") || !writes_plain(key) {
        return None;
    }
    Some((key, text.get(end + 1..).unwrap_or_default()))
}

/// The value written after `key:` or `-`: `Some(None)` when there is none (a nested block or
/// null follows), `None` when it is outside the subset.
fn inline(rest: &str) -> Option<Option<Value>> {
    let rest = rest.trim_start_matches(' ');
    if rest.is_empty() || rest.starts_with('#') {
        return Some(None);
    }
    if let Some(body) = rest.strip_prefix('\'') {
        // A single-quoted scalar on one line, `''` standing for a quote.
        let mut s = String::with_capacity(body.len());
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if body[i + 1..].starts_with('\'') {
                    s.push('\'');
                    chars.next();
                    continue;
                }
                return after_scalar(&body[i + 1..]).then_some(Some(Value::Str(s)));
            }
            s.push(c);
        }
        return None;
    }
    let scalar = match rest.find(" #") {
        Some(i) => &rest[..i],
        None => rest,
    }
    .trim_end_matches(' ');
    match scalar {
        "{}" => return Some(Some(Value::Map(Vec::new()))),
        "[]" => return Some(Some(Value::List(Vec::new()))),
        _ => {}
    }
    plain(scalar).map(Some)
}

/// The fast path of a block sequence item (`xmen.yml`'s `linked:` list holds 100,000 paths):
/// `item` (what follows the dash) when it is one space and then a string [`inline`] would read
/// as that very string, decided in one pass over its bytes; `None` sends the item through
/// [`inline`]. It accepts printable ASCII only, never starting with a character that could make
/// it something else (a digit or sign, `.`, `~`, the first letter of a null, bool or `yes`/`no`
/// word, an indicator, a quote or a space), with no `: ` or ` #` inside and no space or colon
/// at its end: exactly what [`crate::yaml::writes_plain`] leaves plain among such strings, and
/// what the general parser reads back as the same string.
fn plain_path_item(item: &str) -> Option<&str> {
    let s = item.strip_prefix(' ')?;
    let b = s.as_bytes();
    let (&first, &last) = (b.first()?, b.last()?);
    let risky_start = first.is_ascii_digit()
        || matches!(
            first,
            b'~' | b'<'
                | b'='
                | b'+'
                | b'-'
                | b'.'
                | b'n'
                | b'N'
                | b't'
                | b'T'
                | b'f'
                | b'F'
                | b'y'
                | b'Y'
                | b'o'
                | b'O'
        )
        || matches!(
            first,
            b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@'
        )
        || matches!(first, b'`' | b'?' | b':' | b' ');
    if risky_start || last == b' ' || last == b':' {
        return None;
    }
    // A branch-free pass (the compiler vectorises it), then the pairs around spaces, which
    // paths seldom hold.
    let printable = b.iter().fold(true, |ok, &c| ok & (b' '..=b'~').contains(&c));
    if !printable || (b.contains(&b' ') && (s.contains(": ") || s.contains(" #"))) {
        return None;
    }
    Some(s)
}

/// Whether only spaces and a comment follow a closing quote.
fn after_scalar(tail: &str) -> bool {
    let t = tail.trim_start_matches(' ');
    t.is_empty() || (t.starts_with('#') && tail.starts_with(' '))
}

/// A plain scalar in the spellings the emitter writes.
fn plain(s: &str) -> Option<Value> {
    match s {
        "~" | "null" => return Some(Value::None),
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        ".inf" => return Some(Value::Float(f64::INFINITY)),
        "-.inf" => return Some(Value::Float(f64::NEG_INFINITY)),
        ".nan" => return Some(Value::Float(f64::NAN)),
        _ => {}
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return number(s, digits);
    }
    writes_plain(s).then(|| Value::Str(s.to_owned()))
}

/// `-?(0|[1-9][0-9]*)` as an int; the same with a fraction and/or an exponent as a float (the
/// forms Python's `repr` writes); any other digit-led scalar is a string when the emitter would
/// write it plain (`26-11-27-17-59-25-165499`), else outside the subset.
fn number(s: &str, digits: &str) -> Option<Value> {
    let b = digits.as_bytes();
    let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let leading_zero = b[0] == b'0' && int_len > 1;
    let mut i = int_len;
    let mut is_float = false;
    if b.get(i) == Some(&b'.') {
        let frac = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if frac == 0 {
            return writes_plain(s).then(|| Value::Str(s.to_owned()));
        }
        i += 1 + frac;
        is_float = true;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp = b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return writes_plain(s).then(|| Value::Str(s.to_owned()));
        }
        i = j + exp;
        is_float = true;
    }
    if i != b.len() {
        // Not a number at all: a string if the emitter writes it plain.
        return writes_plain(s).then(|| Value::Str(s.to_owned()));
    }
    if leading_zero || (s.starts_with('-') && !is_float && digits == "0") {
        return None;
    }
    if is_float {
        s.parse::<f64>().ok().map(Value::Float)
    } else {
        s.parse::<i64>().ok().map(Value::Int)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The general parser's reading of `text`, without comments.
    fn general(text: &str) -> Vec<(String, Value)> {
        match crate::yaml::parse_commented_map(text, Path::new("<test>")) {
            Ok(e) => e.into_iter().map(|(k, v, _)| (k, v)).collect(),
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn same(a: &[(String, Value)], b: &[(String, Value)]) -> bool {
        // NaN != NaN: compare through the emitter's text.
        let t = |e: &[(String, Value)]| crate::yaml::to_string(&Value::Map(e.to_vec())).unwrap_or_default();
        t(a) == t(b)
    }

    #[test]
    fn documents_in_the_subset_read_as_the_general_parser_reads_them() {
        let docs = [
            "_root: /data/set/lr=0.1  # The root directory of the experiment\n_status: registered # One of\n\
             _purpose: '' # A description\n_notes: # Notes\n_timestamps: # t\n  created: 26-11-27-17-59-25-000001\n  \
             start:\n  last: ~\n_messages: {} # m\n_meta: # meta\n  mac: '0x2fc00000001'\n  host: localhost\n  \
             slurm:\n    JobId: '42'\n    NodeList: n[1-3]\nlr: 0.001 # lr: float=0.001 ~ The learning rate\n\
             batch: 32\nneg: -7\nbig: 1e-08\nexp: 2.5E+10\nname: run1\nt: true\nf: false\nempty: []\n",
            "_notes:\n- first note\n- 'it''s quoted'\n- 3\na: 'yes'\nb: 'null'\nc: '2001-12-14'\nd: .inf\ne: -.inf\n\
             g: a#b\nh: x # comment\ni: 'q' # comment\nj: http://x.y/z\nk: Hello World!\nl: -0.0\n",
            "_messages:\n  loss: 0.25\n  step_best: 100\n_hooks_cost:\n  logger:\n    hook: logger\n    \
             spec: loss@50s\n    firings: 12\n  timer:\n    spec: '@1e'\n",
            "",
            "# only a comment\n",
        ];
        for d in docs {
            let quick = parse_map(d).unwrap_or_else(|| panic!("outside the subset: {d}"));
            assert!(same(&quick, &general(d)), "{d}\nquick: {quick:?}\ngeneral: {:?}", general(d));
        }
        // .nan reads as NaN
        assert!(matches!(parse_map("x: .nan\n").as_deref(), Some([(_, Value::Float(f))]) if f.is_nan()));
    }

    #[test]
    fn records_written_by_the_emitter_read_back_quickly() {
        use crate::{Param, Record};
        let values = [
            Value::Str("yes".into()),
            Value::Str("0.5".into()),
            Value::Str("".into()),
            Value::Str("a: b".into()),
            Value::Str("# x".into()),
            Value::Str("-".into()),
            Value::Str("1:30".into()),
            Value::Str("06:01PM 27/11/26".into()),
            Value::Int(-12),
            Value::Int(0),
            Value::Float(0.1),
            Value::Float(-0.0),
            Value::Float(1e300),
            Value::Float(3.0),
            Value::Bool(true),
            Value::None,
            Value::List(vec![Value::Int(3), Value::Str("x y".into())]),
            Value::Map(vec![("a".into(), Value::Map(vec![("b".into(), Value::Int(1))]))]),
        ];
        let mut rec = Record::new(
            values.iter().enumerate().map(|(i, v)| Param::new(format!("p{i}"), v.clone(), "help")).collect(),
        );
        rec.notes = vec!["note 1".into(), "it's".into()];
        rec.messages = vec![("loss".into(), Value::Float(0.5))];
        rec.root = Some("/r/x".into());
        for text in [rec.to_params_yaml(), rec.to_manager_yaml()] {
            let text = text.unwrap_or_else(|e| panic!("{e}"));
            let quick = parse_map(&text).unwrap_or_else(|| panic!("outside the subset:\n{text}"));
            assert!(same(&quick, &general(&text)), "{text}");
        }
    }

    #[test]
    fn the_fast_path_of_sequence_items_reads_as_the_general_path() {
        let items = [
            "/data/sweeps/lr=0.1__i=3",
            "/data/with space/run 1",
            "/a#b",
            "/a #b",
            "/a # comment",
            "/a:b",
            "/a: b",
            "/a:",
            "/a ",
            "relative/path",
            "run_1",
            "Hello World!",
            "http://x.y/z",
            "'/quoted'",
            "'it''s'",
            "\"double\"",
            "3",
            "-3",
            "0.5",
            "1e-08",
            "2001-12-14",
            "0x1F",
            "~",
            "null",
            "Null",
            "true",
            "True",
            "false",
            "yes",
            "no",
            "on",
            "off",
            ".inf",
            "-.inf",
            ".nan",
            "-x",
            "- x",
            "--",
            "---",
            "...",
            "?x",
            "? x",
            ":x",
            "[a]",
            "{a: 1}",
            "{}",
            "[]",
            "!tag x",
            "&anchor x",
            "*alias",
            "%x",
            "@x",
            "`x`",
            "|",
            ">",
            "#x",
            "a,b",
            "/données/été",
            "/路径/运行",
            "tab\tinside",
            "",
            " ",
            "  /two spaces",
            "/x\u{7f}",
        ];
        let mut fast = 0;
        for item in items {
            let line = format!("-{}{item}", if item.is_empty() { "" } else { " " });
            if let Some(s) = plain_path_item(&line[1..]) {
                fast += 1;
                assert_eq!(inline(&line[1..]), Some(Some(Value::Str(s.to_owned()))), "{line:?}");
            }
            // The whole document reads the same through the quick reader (fast path or not) as
            // through the general parser, whenever the quick reader takes it.
            let doc = format!("linked:\n{line}\n- /after\n");
            if let Some(quick) = parse_map(&doc) {
                assert!(same(&quick, &general(&doc)), "{doc:?}\nquick: {quick:?}\ngeneral: {:?}", general(&doc));
            }
        }
        assert_eq!(fast, 9, "the plain paths and names take the fast path");
        for item in ["/a", "/with space/x", "/données"] {
            let quick = parse_map(&format!("linked:\n- {item}\n"));
            let want = vec![("linked".to_owned(), Value::List(vec![Value::Str(item.to_owned())]))];
            assert_eq!(quick, Some(want), "{item:?}");
        }
    }

    #[test]
    fn anything_else_is_left_to_the_general_parser() {
        for d in [
            "a: [1, 2]\n",
            "a: {b: 1}\n",
            "a: \"double\"\n",
            "a: |\n  block\n",
            "a: &x 1\nb: *x\n",
            "a: yes\n",
            "a: True\n",
            "a: 010\n",
            "a: 1_000\n",
            "a: 0x1F\n",
            "a: 2001-12-14\n",
            "a: -0\n",
            "a: 1.\n",
            "a: 99999999999999999999\n",
            "a: 1\na: 2\n",
            "a0: 0\na1: 1\na2: 2\na3: 3\na4: 4\na5: 5\na6: 6\na7: 7\na8: 8\na9: 9\nb0: 0\nb1: 1\nb2: 2\nb3: 3\n\
             b4: 4\nb5: 5\nb6: 6\nb7: 7\na3: 3\n",
            "a:\n   b: 1\n",
            "a:\n- b: 1\n  c: 2\n",
            "a: multi\n  line\n",
            "'quoted key': 1\n",
            "a: 'unclosed\n",
            "---\na: 1\n",
            "a:\tb\n",
            "- 1\n- 2\n",
        ] {
            assert!(parse_map(d).is_none(), "{d:?} read as {:?}", parse_map(d));
        }
    }
}

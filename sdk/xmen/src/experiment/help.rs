//! Text shown to people: the help block of an experiment and a record printed like the
//! original's `repr`.

use xmen_core::{pyfmt, Value};
use xmen_record::Record;

use super::Parameters;

/// Wrap `text` like Python's `textwrap.wrap(width=width, break_long_words=False)` with the
/// given indents: words move to the next line at whitespace, a word longer than a line stays
/// whole.
///
/// ```
/// let lines = xmen::experiment::wrap("aaa bbb ccc", 9, "  ", "    ");
/// assert_eq!(lines, ["  aaa bbb", "    ccc"]);
/// ```
pub fn wrap(text: &str, width: usize, initial: &str, subsequent: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::from(initial);
    let mut empty = true;
    for word in text.split_whitespace() {
        let fits = line.chars().count() + usize::from(!empty) + word.chars().count() <= width;
        if !empty && !fits {
            lines.push(std::mem::replace(&mut line, String::from(subsequent)));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    if !empty {
        lines.push(line);
    }
    lines
}

/// The help width, as the original's.
const WIDTH: usize = 70;

/// The description followed by the `Parameters:` block: for a struct, one
/// group per declaring experiment (its own fields and each flattened part), each parameter in
/// the one help format; for a function, one ungrouped block. Lines wrap at 70
/// columns.
///
/// ```
/// use xmen::Experiment;
///
/// /// Says hello.
/// #[derive(Experiment)]
/// struct Hello {
///     /// The first argument
///     #[param(default = "Hello")]
///     a: String,
/// }
///
/// let text = xmen::experiment::help_block::<Hello>();
/// assert_eq!(text, "Says hello.\n\nParameters:\n  \n  Hello\n  -----\n     a: String='Hello' ~ The first argument");
/// ```
pub fn help_block<E: Parameters>() -> String {
    let params = E::parameters();
    let mut out = String::from(E::DESCRIPTION);
    if params.is_empty() {
        return out;
    }
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str("Parameters:");
    if E::SOURCE.function {
        for p in &params {
            for line in wrap(&p.help_line(), WIDTH, "    ", "      ") {
                out.push('\n');
                out.push_str(&line);
            }
        }
        return out;
    }
    let mut owner = None;
    for p in &params {
        if owner != Some(p.owner) {
            owner = Some(p.owner);
            out.push_str("\n  \n  ");
            out.push_str(p.owner);
            out.push_str("\n  ");
            out.push_str(&"-".repeat(p.owner.chars().count()));
        }
        for line in wrap(&p.help_line(), WIDTH, "     ", "       ") {
            out.push('\n');
            out.push_str(&line);
        }
    }
    out
}

fn push_map(out: &mut String, entries: &[(String, Value)], depth: usize) {
    for (k, v) in entries {
        match v {
            Value::None => {}
            Value::Map(m) => {
                out.push_str(&format!("{}{k}:\n", "  ".repeat(depth)));
                push_map(out, m, depth + 1);
            }
            other => out.push_str(&format!("{}{k}: {}\n", "  ".repeat(depth), pyfmt::str_of(other))),
        }
    }
}

/// A record as the original prints an experiment: the specials without their
/// `_`, null values skipped, maps indented two spaces per level, then `parameters:` with
/// each parameter's Python `str()`.
///
/// ```
/// use xmen::experiment::display_record;
/// use xmen_record::{Param, Record};
///
/// let mut rec = Record::new(vec![Param::new("a", "Hello", "")]);
/// rec.root = Some("/data/run".into());
/// rec.notes.push("n1".into());
/// let text = display_record(&rec);
/// assert!(text.starts_with("root: /data/run\nstatus: default\nnotes: ['n1']\n"), "{text}");
/// assert!(text.ends_with("messages:\nparameters:\n  a: Hello\n"), "{text}");
/// ```
pub fn display_record(rec: &Record) -> String {
    const ORDER: [&str; 10] =
        ["_root", "_status", "_notes", "_purpose", "_user", "_host", "_timestamps", "_messages", "_version", "_meta"];
    let mut specials = Vec::with_capacity(ORDER.len());
    for name in ORDER {
        if let Some(v) = rec.special(name) {
            specials.push((name.trim_start_matches('_').to_owned(), v));
        }
    }
    let mut out = String::new();
    push_map(&mut out, &specials, 0);
    out.push_str("parameters:\n");
    for p in &rec.params {
        out.push_str(&format!("  {}: {}\n", p.name, pyfmt::str_of(&p.value)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_follows_textwrap() {
        let table: [(&str, usize, Vec<&str>); 4] = [
            ("", 10, vec![]),
            ("one two three", 70, vec!["    one two three"]),
            ("averyveryverylongword b", 10, vec!["    averyveryverylongword", "      b"]),
            ("aa bb cc dd", 11, vec!["    aa bb", "      cc dd"]),
        ];
        for (text, width, want) in table {
            assert_eq!(wrap(text, width, "    ", "      "), want, "{text:?}");
        }
    }

    #[test]
    fn records_print_like_the_original() {
        let mut rec = Record::new(vec![xmen_record::Param::new("b", vec![1, 2], "")]);
        rec.root = Some("/r".into());
        rec.purpose = Some("p".into());
        rec.timestamps.created = Some("26-11-27-18-03-54-234737".into());
        rec.version = Some(Value::Map(vec![("path".into(), "/x".into()), ("git".into(), Value::None)]));
        let text = display_record(&rec);
        assert_eq!(
            text,
            "root: /r\nstatus: default\npurpose: p\ntimestamps:\n  created: 26-11-27-18-03-54-234737\nmessages:\n\
             version:\n  path: /x\nparameters:\n  b: [1, 2]\n"
        );
    }
}

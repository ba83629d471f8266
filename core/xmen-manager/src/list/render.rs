//! Printing a [`Table`]: the pandas-style text table, CSV, JSON and notebook mode.
//!
//! The text layout copies pandas' `DataFrame.to_string`: a left-aligned index column, then
//! every column right-aligned to the widest of its header and its cells, each cell preceded by
//! a space and columns joined by another (two spaces between columns, one next to a column of
//! empty cells). Cells are Python's `str()` of the value, empty for missing or null values.

use std::fmt::Write as _;
use std::path::Path;

use xmen_core::pyfmt;
use xmen_core::Value;

use super::{Row, Table, ERROR_KEY};

/// How to print the text table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// Longer cells are cut to this many characters, keeping both ends around `...`.
    pub max_width: usize,
    /// Show at most this many rows: the first and last halves around a `...` row, as pandas
    /// does; `None` shows all.
    pub max_rows: Option<usize>,
    /// Colour the status (and unreadable rows) with ANSI codes.
    pub colour: bool,
    /// Floats with this many significant digits (Python's `format(x, '.Ng')`); `None`: all
    /// (Python's `str()`).
    pub precision: Option<usize>,
    /// The width of the terminal: the widest columns are narrowed (down to 8 characters)
    /// until a line fits; `None`: no limit.
    pub width: Option<usize>,
}

impl Default for RenderOptions {
    fn default() -> RenderOptions {
        RenderOptions { max_width: 60, max_rows: None, colour: false, precision: None, width: None }
    }
}

/// The default of `--precision`: six significant digits, as `%g` and pandas show floats.
pub const DEFAULT_PRECISION: usize = 6;

/// The folder every `_root` of the table lies in (at least `/`), when there are any roots.
pub fn common_root(table: &Table) -> Option<std::path::PathBuf> {
    let col = table.column("_root")?;
    let mut prefix: Option<std::path::PathBuf> = None;
    for row in &table.rows {
        let Some(Value::Str(root)) = row.cells.get(col).and_then(Option::as_ref) else { continue };
        let parent = Path::new(root).parent().unwrap_or(Path::new(root));
        prefix = Some(match prefix {
            None => parent.to_path_buf(),
            // Rows of one set share their parent: a plain prefix test settles most of them.
            Some(p) if same_or_under(parent, &p) => p,
            Some(p) => p.components().zip(parent.components()).take_while(|(a, b)| a == b).map(|(a, _)| a).collect(),
        });
    }
    prefix.filter(|p| !p.as_os_str().is_empty())
}

/// Whether `child` is `dir` or lies under it, by a byte comparison (`dir` is normalised); a
/// `false` only means "compare components".
fn same_or_under(child: &Path, dir: &Path) -> bool {
    let (c, d) = (child.as_os_str().as_encoded_bytes(), dir.as_os_str().as_encoded_bytes());
    c.starts_with(d) && (c.len() == d.len() || c[d.len()] == b'/' || d.ends_with(b"/"))
}

/// Show every `_root` relative to `prefix` (see [`common_root`]).
pub fn relative_roots(table: &mut Table, prefix: &Path) {
    let Some(col) = table.column("_root") else { return };
    for row in &mut table.rows {
        if let Some(Some(Value::Str(root))) = row.cells.get_mut(col) {
            let plain = !root.ends_with('/') && !root.contains("//") && !root.contains("/.");
            if plain && same_or_under(Path::new(root.as_str()), prefix) {
                // What `strip_prefix` leaves, without building paths (for roots with no
                // `.` component or doubled separator, which it would skip).
                let at = prefix.as_os_str().len().min(root.len());
                if root.is_char_boundary(at) {
                    let rel = root[at..].trim_start_matches('/').to_owned();
                    *root = rel;
                    continue;
                }
            }
            if let Ok(rel) = Path::new(root.as_str()).strip_prefix(prefix) {
                *root = rel.display().to_string();
            }
        }
    }
}

/// A cell's text with floats (also inside lists) formatted by `precision` (the spec
/// `.{N}g`, parsed once per table).
fn cell_text_with(v: Option<&Value>, precision: Option<&pyfmt::FormatSpec>) -> String {
    let mut out = String::new();
    write_cell(&mut out, v, precision);
    out
}

/// Append [`cell_text_with`]'s text to `out`.
fn write_cell(out: &mut String, v: Option<&Value>, precision: Option<&pyfmt::FormatSpec>) {
    match (v, precision) {
        (Some(Value::Float(x)), Some(spec)) => {
            let at = out.len();
            if spec.write(out, &Value::Float(*x)).is_err() {
                out.truncate(at);
                let _ = pyfmt::write_float(out, *x);
            }
        }
        (Some(Value::List(items)), Some(_)) if items.iter().any(|i| matches!(i, Value::Float(_))) => {
            out.push('[');
            for (n, i) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                match i {
                    Value::Float(_) => write_cell(out, Some(i), precision),
                    other => {
                        let _ = pyfmt::write_repr(out, other);
                    }
                }
            }
            out.push(']');
        }
        (None | Some(Value::None), _) => {}
        (Some(Value::Str(s)), _) if !s.contains(['\n', '\r']) => out.push_str(s),
        (Some(v @ (Value::Bool(_) | Value::Int(_) | Value::Float(_))), _) => {
            let _ = pyfmt::write_str(out, v);
        }
        (Some(v), _) => out.push_str(&pyfmt::str_of(v).replace('\n', "\\n").replace('\r', "\\r")),
    }
}

/// A cell's text: Python's `str()`, empty for missing or null; line breaks shown as `\n`.
pub fn cell_text(v: Option<&Value>) -> String {
    cell_text_with(v, None)
}

/// Cut `text` to `max` characters by replacing its middle with `...`: both ends stay, since
/// the end of a path or a message often tells rows apart.
pub fn truncate(text: String, max: usize) -> String {
    if width(&text) <= max {
        return text;
    }
    if max <= 3 {
        return "..."[..max].to_owned();
    }
    let keep = max - 3;
    let (head, tail) = (keep.div_ceil(2), keep / 2);
    let n = text.chars().count();
    let mut out: String = text.chars().take(head).collect();
    out.push_str("...");
    out.extend(text.chars().skip(n - tail));
    out
}

fn width(s: &str) -> usize {
    // Most cells are ASCII: their width is their length.
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

fn status_colour(status: &str) -> Option<&'static str> {
    Some(match status {
        "finished" => "32",
        "running" => "33",
        "error" | super::UNREADABLE => "31",
        "timeout" | "requeue" => "36",
        "stopped" => "35",
        _ => return None,
    })
}

/// The cell texts of a run of consecutive shown rows, made by one thread: every cell of the
/// run in one buffer (no string per cell), and what the table's layout needs from them.
struct Texts<'a> {
    /// The rows (`None`: the `...` row).
    rows: &'a [Option<&'a Row>],
    /// All cell texts, row by row.
    buf: String,
    /// Where each cell's text ends in `buf`.
    ends: Vec<usize>,
    /// Per column, the widest cell of these rows.
    widest: Vec<usize>,
    /// The widest row label of these rows.
    label_w: usize,
}

/// The number of decimal digits of `n`.
fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

impl<'a> Texts<'a> {
    fn new(rows: &'a [Option<&'a Row>], ncols: usize, spec: Option<&pyfmt::FormatSpec>) -> Texts<'a> {
        let mut t = Texts { rows, buf: String::new(), ends: Vec::new(), widest: vec![0; ncols], label_w: 0 };
        for r in rows {
            let Some(r) = r else {
                t.label_w = t.label_w.max(3);
                continue;
            };
            t.label_w = t.label_w.max(digits(r.index));
            for c in 0..ncols {
                let at = t.buf.len();
                write_cell(&mut t.buf, r.cells.get(c).and_then(Option::as_ref), spec);
                t.widest[c] = t.widest[c].max(width(&t.buf[at..]));
                t.ends.push(t.buf.len());
            }
        }
        t
    }
}

/// The text table (without the `Roots relative to` line), ending in a newline.
pub fn render_text(table: &Table, opts: &RenderOptions) -> String {
    let total = table.rows.len();
    let truncated = opts.max_rows.is_some_and(|max| total > max);
    let shown: Vec<Option<&Row>> = match opts.max_rows {
        Some(max) if truncated => {
            let head = max.div_ceil(2);
            let tail = max / 2;
            let mut v: Vec<Option<&Row>> = table.rows[..head].iter().map(Some).collect();
            v.push(None);
            v.extend(table.rows[total - tail..].iter().map(Some));
            v
        }
        _ => table.rows.iter().map(Some).collect(),
    };
    let ncols = table.columns.len();
    let spec: Option<pyfmt::FormatSpec> = opts.precision.and_then(|p| format!(".{p}g").parse().ok());
    // Cell texts and lines are made on every core (a listing may show 100,000 rows), each
    // thread a run of consecutive rows.
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let runs: Vec<&[Option<&Row>]> = shown.chunks(shown.len().div_ceil(threads).max(2048)).collect();
    let texts: Vec<Texts<'_>> = crate::par::par_chunks(&runs, 0, 2, |part| {
        part.iter().map(|rows| Texts::new(rows, ncols, spec.as_ref())).collect()
    });
    let index_w = texts.iter().map(|t| t.label_w).max().unwrap_or(0);
    // Each column's widest cell, then its limit: `max_width`, then the widest columns
    // narrowed in turn until a line fits the terminal.
    let widest: Vec<usize> = (0..ncols).map(|c| texts.iter().map(|t| t.widest[c]).max().unwrap_or(0)).collect();
    let mut limits: Vec<usize> = widest.iter().map(|w| (*w).min(opts.max_width)).collect();
    if let Some(term) = opts.width {
        const NARROWEST: usize = 8;
        let line = |limits: &[usize]| {
            index_w + table.columns.iter().zip(limits).map(|(col, l)| width(&col.name).max(l + 1) + 1).sum::<usize>()
        };
        while line(&limits) > term {
            let widest = (0..limits.len()).filter(|&c| limits[c] > NARROWEST).max_by_key(|&c| limits[c]);
            match widest {
                Some(c) => limits[c] -= 1,
                None => break,
            }
        }
    }
    // A cell cut to its limit is exactly as wide as the limit.
    let widths: Vec<usize> = table
        .columns
        .iter()
        .enumerate()
        .map(|(c, col)| {
            let mut cells = widest[c].min(limits[c]);
            if truncated {
                cells = cells.max(3); // room for the `...` row
            }
            width(&col.name).max(cells + 1)
        })
        .collect();
    let status_col = table.column("_status");
    let error_col = table.column(ERROR_KEY);

    let line_len = index_w + widths.iter().map(|w| w + 1).sum::<usize>() + 1;
    let mut out = String::with_capacity(line_len * (shown.len() + 1));
    out.push_str(&" ".repeat(index_w));
    for (col, w) in table.columns.iter().zip(&widths) {
        out.push(' ');
        pad_left(&mut out, &col.name, *w, opts.colour.then_some("1"));
    }
    out.push('\n');
    let parts = crate::par::par_chunks(&texts, 0, 2, |part| {
        part.iter()
            .map(|t| {
                let mut out = String::with_capacity(line_len * t.rows.len());
                let mut cells = t.ends.iter();
                let mut start = 0;
                for r in t.rows {
                    let Some(r) = r else {
                        out.push_str("...");
                        out.extend(std::iter::repeat_n(' ', index_w.saturating_sub(3)));
                        for w in &widths {
                            out.push(' ');
                            pad_left(&mut out, "...", *w, None);
                        }
                        out.push('\n');
                        continue;
                    };
                    let _ = write!(out, "{}", r.index);
                    out.extend(std::iter::repeat_n(' ', index_w.saturating_sub(digits(r.index))));
                    for (c, (w, limit)) in widths.iter().zip(&limits).enumerate() {
                        let end = cells.next().copied().unwrap_or(start);
                        let cell = &t.buf[start..end];
                        start = end;
                        out.push(' ');
                        let cut;
                        let cell = if width(cell) > *limit {
                            cut = truncate(cell.to_owned(), *limit);
                            cut.as_str()
                        } else {
                            cell
                        };
                        let colour = if !opts.colour {
                            None
                        } else if Some(c) == status_col {
                            status_colour(cell)
                        } else if Some(c) == error_col && !cell.is_empty() {
                            Some("31")
                        } else {
                            None
                        };
                        pad_left(&mut out, cell, *w, colour);
                    }
                    out.push('\n');
                }
                out
            })
            .collect()
    });
    for part in parts {
        out.push_str(&part);
    }
    if truncated {
        let _ = write!(out, "\n[{total} rows x {} columns]\n", table.columns.len());
    }
    out
}

fn pad_left(out: &mut String, text: &str, w: usize, colour: Option<&str>) {
    for _ in width(text)..w {
        out.push(' ');
    }
    match colour {
        Some(code) => {
            let _ = write!(out, "\x1b[{code}m{text}\x1b[0m");
        }
        None => out.push_str(text),
    }
}

fn csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// The table as CSV like pandas' `to_csv`: a header with an empty index name, then one line
/// per row with its index; cells are not truncated.
pub fn render_csv(table: &Table) -> String {
    let mut out = String::new();
    for col in &table.columns {
        out.push(',');
        csv_field(&mut out, &col.name);
    }
    out.push('\n');
    for row in &table.rows {
        let _ = write!(out, "{}", row.index);
        for cell in &row.cells {
            out.push(',');
            let text = match cell {
                None | Some(Value::None) => String::new(),
                Some(v) => pyfmt::str_of(v),
            };
            csv_field(&mut out, &text);
        }
        out.push('\n');
    }
    out
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_value(out: &mut String, v: Option<&Value>) {
    match v {
        None | Some(Value::None) => out.push_str("null"),
        Some(Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::Int(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(Value::Float(f)) if f.is_finite() => {
            let text = pyfmt::str_of(&Value::Float(*f));
            out.push_str(&text);
        }
        Some(Value::Float(_)) => out.push_str("null"),
        Some(Value::Str(s)) => json_str(out, s),
        Some(Value::List(items)) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_value(out, Some(item));
            }
            out.push(']');
        }
        Some(Value::Map(entries)) => {
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_str(out, k);
                out.push(':');
                json_value(out, Some(item));
            }
            out.push('}');
        }
        Some(other) => json_str(out, &pyfmt::str_of(other)),
    }
}

/// The table as a JSON array with one object per row, keyed by the displayed column names
/// (the flattened key where two columns would share a name), missing cells as `null`.
pub fn render_json(table: &Table) -> String {
    let mut names: Vec<&str> = Vec::with_capacity(table.columns.len());
    for col in &table.columns {
        let clash = names.contains(&col.name.as_str());
        names.push(if clash { &col.key } else { &col.name });
    }
    let mut out = String::from("[");
    for (r, row) in table.rows.iter().enumerate() {
        out.push_str(if r == 0 { "\n  {" } else { ",\n  {" });
        for (c, (name, cell)) in names.iter().zip(&row.cells).enumerate() {
            if c > 0 {
                out.push_str(", ");
            }
            json_str(&mut out, name);
            out.push_str(": ");
            json_value(&mut out, cell.as_ref());
        }
        out.push('}');
    }
    out.push_str(if table.rows.is_empty() { "]\n" } else { "\n]\n" });
    out
}

fn text_of(table: &Table, row: &Row, key: &str) -> Option<String> {
    match table.cell(row, key) {
        None | Some(Value::None) => None,
        Some(v) => Some(cell_text(Some(v))),
    }
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// Notebook mode (`-N`): the rows grouped by set (the parent folder of
/// `_root`), each with its experiments, the latest timestamp, the distinct git states,
/// purposes and notes. Distinct values keep their first-seen order.
pub fn render_notebook(table: &Table, max_rows: Option<usize>) -> String {
    struct Set {
        dir: String,
        names: Vec<String>,
        last: Vec<String>,
        git: Vec<String>,
        purposes: Vec<String>,
        notes: Vec<String>,
    }
    let mut sets: Vec<Set> = Vec::new();
    for row in &table.rows {
        let root = text_of(table, row, "_root").unwrap_or_else(|| row.folder.clone());
        let p = Path::new(&root);
        let dir = p.parent().map(|d| d.display().to_string()).unwrap_or_default();
        let mut name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if let Some(why) = &row.unreadable {
            name = format!("{name} (unreadable: {why})");
        }
        let at = match sets.iter().position(|s| s.dir == dir) {
            Some(i) => i,
            None => {
                sets.push(Set { dir, names: vec![], last: vec![], git: vec![], purposes: vec![], notes: vec![] });
                sets.len() - 1
            }
        };
        let set = &mut sets[at];
        set.names.push(name);
        if let Some(p) = text_of(table, row, "_purpose") {
            push_unique(&mut set.purposes, p);
        }
        if let Some(Value::List(notes)) = table.cell(row, "_notes") {
            for n in notes {
                push_unique(&mut set.notes, cell_text(Some(n)));
            }
        }
        let ts = ["_timestamps_last", "_timestamps_registered", "_timestamps_created"]
            .iter()
            .find_map(|k| text_of(table, row, k));
        set.last.extend(ts);
        let git: Vec<String> = ["_version_git_local", "_version_git_branch", "_version_git_commit"]
            .iter()
            .map(|k| text_of(table, row, k).unwrap_or_default())
            .collect();
        if git.iter().any(|g| !g.is_empty()) {
            push_unique(&mut set.git, git.join("\n"));
        }
    }
    let mut out = String::from("\n");
    for (i, s) in sets.iter().enumerate() {
        let _ = writeln!(out, "{i}:{}", s.dir);
        // `--max-rows`: the first and last halves of each set's experiments.
        let (head, tail) = match max_rows {
            Some(max) if s.names.len() > max => (max.div_ceil(2), max / 2),
            _ => (s.names.len(), 0),
        };
        for n in &s.names[..head] {
            let _ = writeln!(out, "  |- {n}");
        }
        if head + tail < s.names.len() {
            let _ = writeln!(out, "  |- ... ({} more)", s.names.len() - head - tail);
            for n in &s.names[s.names.len() - tail..] {
                let _ = writeln!(out, "  |- {n}");
            }
        }
        let _ = writeln!(out, "Last: {}", s.last.iter().max().map_or("", String::as_str));
        out.push_str("Git:\n");
        for g in &s.git {
            for part in g.split('\n') {
                let _ = writeln!(out, "  {part}");
            }
        }
        out.push_str("Purpose:\n");
        for p in &s.purposes {
            let _ = writeln!(out, "  {p}");
        }
        out.push_str("Notes:\n");
        for n in &s.notes {
            let _ = writeln!(out, "  {n}");
        }
        out.push('\n');
    }
    out
}

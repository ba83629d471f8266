//! Issue 14 item 8: comments, messages, scripts and pages say a rule in place or cite a page of
//! `docs/`; they never cite the private analysis the port was built from, which is not in this
//! repository. This test scans every `.rs`, `.md`, `.sh` and `.py` file of the checkout for the
//! two forms such citations took and fails on any it finds, naming file and line.
//!
//! The forms, and why the patterns cannot match ordinary text:
//!
//! - a section sign followed by a digit (a section number, with or without `spec` before it).
//!   A section sign alone, in prose, is not flagged.
//! - a defect number: a capital `B` and a number from 1 to 54, standing alone as a word. Inside
//!   a longer word it is not flagged, so hex (`0xB1`, `\xB1`, `#B1B2B3`) and identifiers pass;
//!   nor is the lower-case anchor of a link into the defect table (`migrating.md#b13`).
//!
//! The one exception: the defect table of docs/migrating.md, whose rows are numbered as the
//! original's defects were (a row starts with `| <a id="b`); that is where such a number is
//! explained, so code links to the row's anchor instead of naming the number.

use std::path::{Path, PathBuf};

use regex::Regex;
use xmen_tests::workspace_root;

/// The file kinds scanned.
const EXTENSIONS: &[&str] = &["rs", "md", "sh", "py"];

/// Folders never scanned: build output, git's own files, generated Python package contents.
const SKIPPED_DIRS: &[&str] = &["target", ".git", "node_modules", "__pycache__"];

/// The page whose defect table may number defects, and how its rows start.
const DEFECT_TABLE: (&str, &str) = ("docs/migrating.md", "| <a id=\"b");

/// One citation found: the file (relative to the checkout), its 1-based line, and the line.
#[derive(Debug, PartialEq)]
struct Citation {
    file: String,
    line: usize,
    text: String,
}

/// The two patterns: a section number, and a defect number standing alone.
fn patterns() -> [Regex; 2] {
    [Regex::new("\u{a7}\\s*[0-9]").unwrap(), Regex::new(r"\bB(?:[1-9]|[1-4][0-9]|5[0-4])\b").unwrap()]
}

/// The citations in one file's text; `file` is its path relative to the checkout, with `/`.
fn citations_in(file: &str, text: &str, patterns: &[Regex]) -> Vec<Citation> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !(file == DEFECT_TABLE.0 && line.starts_with(DEFECT_TABLE.1)))
        .filter(|(_, line)| patterns.iter().any(|p| p.is_match(line)))
        .map(|(i, line)| Citation { file: file.to_owned(), line: i + 1, text: line.trim().to_owned() })
        .collect()
}

/// Every scanned file under `dir`, sorted so the report is stable.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            // Hidden folders are tool state (.venv, .pytest_cache), except the CI scripts.
            let hidden = name.starts_with('.') && name != ".ci" && name != ".github";
            if !hidden && !SKIPPED_DIRS.contains(&name.as_str()) {
                files(&path, out);
            }
        } else if kind.is_file() && path.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e)) {
            out.push(path);
        }
    }
}

#[test]
fn no_file_cites_the_private_spec_by_section_or_defect_number() {
    let root = workspace_root();
    let mut paths = Vec::new();
    files(&root, &mut paths);
    paths.sort();
    // The scan must reach the places citations used to be, or it proves nothing.
    for must in ["core/xmen-record/src/record.rs", "docs/migrating.md", "python/xmen/experiment.py"] {
        assert!(paths.contains(&root.join(must)), "the scan did not reach {must}");
    }
    let patterns = patterns();
    let mut found = Vec::new();
    for path in &paths {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        let rel = path.strip_prefix(&root).unwrap_or(path).to_string_lossy().replace('\\', "/");
        found.extend(citations_in(&rel, &text, &patterns));
    }
    let report: Vec<String> = found.iter().map(|c| format!("{}:{}: {}", c.file, c.line, c.text)).collect();
    assert!(
        report.is_empty(),
        "{} line(s) cite the private spec by section or defect number; say the rule in place, or link \
         a page of docs/ (a defect's row: docs/migrating.md#b<n>):\n{}",
        report.len(),
        report.join("\n")
    );
}

#[test]
fn the_patterns_flag_citations_and_nothing_else() {
    let p = patterns();
    let flagged = |text: &str| !citations_in("core/x.rs", text, &p).is_empty();
    // citations, in the forms the code used
    for text in [
        "/// Python's `str()` (spec \u{a7}0.2).",
        "//! (\u{a7}1.2, \u{a7}1.10)",
        "// see research notes \u{a7} 5",
        concat!("// ", "B", "5: redirect_stdout defaults to on"),
        concat!("/// (defect ", "B", "22)."),
        concat!("assert!(x, \"", "B", "6: the purpose is recorded\");"),
        concat!("//! defects ", "B", "11, ", "B", "23"),
        concat!("(", "B", "54)"),
    ] {
        assert!(flagged(text), "not flagged: {text}");
    }
    // ordinary text
    for text in [
        "let x = 0xB1;",
        "\"\\xB1\\xB2\"",
        "color: #B1B2B3;",
        "a section sign alone: \u{a7}",
        "see docs/migrating.md#b13",
        concat!("B", "0 and ", "B", "55 are not defect numbers"),
        concat!("AB", "12 and ", "B", "12x are parts of words"),
    ] {
        assert!(!flagged(text), "flagged: {text}");
    }
    // the defect table's rows are the one place a defect is numbered; other lines of that page are not
    let row = concat!("| <a id=\"b4\"></a>", "B", "4 | linked twice | once | fixed |");
    assert!(citations_in(DEFECT_TABLE.0, row, &p).is_empty());
    assert!(!citations_in(DEFECT_TABLE.0, concat!("as ", "B", "4 says"), &p).is_empty());
    assert!(!citations_in("docs/file-formats.md", row, &p).is_empty());
}

//! Which linked experiments a listing shows: a prefix regex (`--pattern`), a folder (its
//! experiments, path-prefix semantics: `/a/b` never selects `/a/bc`), or a glob. Duplicate
//! `linked` entries are listed once (the original repeated their rows), in first-seen order.

use std::path::{Component, Path, PathBuf};

/// How to pick rows from `linked`.
#[derive(Clone, Debug)]
pub enum Selection {
    /// Entries that `re.match` the regex: anchored at the start only (the whole pattern;
    /// the original used its first character).
    Pattern(regex::Regex),
    /// Entries equal to or inside one of these folders.
    Under(Vec<String>),
    /// Entries that, or one of whose parent folders, match a shell glob (`*` also crosses
    /// `/`, as with Python's fnmatch).
    Glob(regex::Regex),
}

/// A `--pattern` regex could not be compiled.
#[derive(Debug, thiserror::Error)]
#[error("invalid --pattern `{pattern}`: {message}; it is a regex matched at the start of each linked folder (e.g. --pattern /data/sweeps/lr); to list a folder give it as an argument instead")]
pub struct PatternError {
    /// The pattern as given.
    pub pattern: String,
    /// What the regex engine said.
    pub message: String,
}

impl Selection {
    /// A `--pattern` prefix regex.
    pub fn pattern(pattern: &str) -> Result<Selection, PatternError> {
        regex::Regex::new(&format!("^(?:{pattern})"))
            .map(Selection::Pattern)
            .map_err(|e| PatternError { pattern: pattern.to_owned(), message: e.to_string() })
    }

    /// The experiments in `folder` (relative to `cwd`), by its lexical and canonical forms.
    pub fn under(folder: &Path, cwd: &Path) -> Selection {
        let lexical = normalize(&cwd.join(folder));
        let mut forms = vec![lexical.display().to_string()];
        if let Ok(canon) = lexical.canonicalize() {
            let c = canon.display().to_string();
            if !forms.contains(&c) {
                forms.push(c);
            }
        }
        Selection::Under(forms.into_iter().map(|f| f.trim_end_matches('/').to_owned()).collect())
    }

    /// A glob (relative to `cwd`), or `None` when `text` has no glob characters.
    pub fn glob(text: &str, cwd: &Path) -> Option<Selection> {
        if !text.contains(['*', '?', '[']) {
            return None;
        }
        let abs = if Path::new(text).is_absolute() {
            text.to_owned()
        } else {
            format!("{}/{text}", cwd.display().to_string().trim_end_matches('/'))
        };
        // A folder whose name holds glob characters (`sizes=[3, 4]`, `*[;`) is that folder.
        if Path::new(&abs).is_dir() {
            return None;
        }
        regex::Regex::new(&glob_to_regex(&abs)).ok().map(Selection::Glob)
    }

    /// Whether a linked folder is selected.
    pub fn matches(&self, linked: &str) -> bool {
        match self {
            Selection::Pattern(re) => re.is_match(linked),
            Selection::Under(dirs) => dirs.iter().any(|d| {
                d.is_empty() || linked == d || (linked.starts_with(d.as_str()) && linked[d.len()..].starts_with('/'))
            }),
            Selection::Glob(re) => {
                // The folder itself or any of its parents (a glob over set roots).
                let mut p = Some(Path::new(linked));
                while let Some(dir) = p {
                    if re.is_match(&dir.to_string_lossy()) {
                        return true;
                    }
                    p = dir.parent();
                }
                false
            }
        }
    }
}

/// Remove `.` and resolve `..` without touching the filesystem.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Translate a shell glob to an anchored regex like Python's `fnmatch.translate`.
pub fn glob_to_regex(glob: &str) -> String {
    let mut re = String::from("^(?s:");
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '[' => {
                let mut j = i;
                if j < chars.len() && chars[j] == '!' {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ']' {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    re.push_str("\\[");
                } else {
                    let mut class: String = chars[i..j].iter().collect();
                    i = j + 1;
                    if let Some(rest) = class.strip_prefix('!') {
                        class = format!("^{rest}");
                    }
                    re.push('[');
                    re.push_str(&class.replace('\\', "\\\\").replace('[', "\\["));
                    re.push(']');
                }
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push_str(")$");
    re
}

/// The selected folders of `linked`, each once (trailing slashes ignored), in order, borrowed
/// from `linked` (a listing of 100,000 runs copies none of them).
pub fn select<'a>(linked: &'a [String], selection: &Selection) -> Vec<&'a str> {
    let mut seen = super::index::FastSet::with_capacity_and_hasher(linked.len(), Default::default());
    let mut out = Vec::with_capacity(linked.len());
    for l in linked {
        let folder = if l.len() > 1 { l.trim_end_matches('/') } else { l.as_str() };
        if selection.matches(folder) && seen.insert(folder) {
            out.push(folder);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linked() -> Vec<String> {
        ["/d/set/a=1", "/d/set/a=2", "/d/set/a=1/", "/d/setb/x", "/e/y", "/d/set/a=2"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    }

    #[test]
    fn selections_pick_rows_once_in_order() {
        let cwd = Path::new("/d");
        let table: [(Selection, &[&str]); 7] = [
            (
                Selection::pattern("/d/set").unwrap_or_else(|e| panic!("{e}")),
                &["/d/set/a=1", "/d/set/a=2", "/d/setb/x"],
            ),
            // the whole pattern, not its first character
            (Selection::pattern("/e").unwrap_or_else(|e| panic!("{e}")), &["/e/y"]),
            (Selection::under(Path::new("set"), cwd), &["/d/set/a=1", "/d/set/a=2"]),
            (Selection::under(Path::new("/d/set/../setb"), cwd), &["/d/setb/x"]),
            (Selection::under(Path::new("/"), cwd), &["/d/set/a=1", "/d/set/a=2", "/d/setb/x", "/e/y"]),
            (Selection::glob("set*/x", cwd).unwrap_or_else(|| panic!("glob")), &["/d/setb/x"]),
            (Selection::glob("/d/se?", cwd).unwrap_or_else(|| panic!("glob")), &["/d/set/a=1", "/d/set/a=2"]),
        ];
        for (sel, want) in table {
            assert_eq!(select(&linked(), &sel), want, "{sel:?}");
        }
        assert!(Selection::glob("plain/path", cwd).is_none());
        assert!(Selection::pattern("(").err().map(|e| e.to_string()).unwrap_or_default().contains("--pattern `(`"));
    }

    #[test]
    fn globs_translate_like_fnmatch() {
        let table: [(&str, &str, bool); 6] = [
            ("/a/*", "/a/b/c", true),
            ("/a/?", "/a/b", true),
            ("/a/[bc]", "/a/c", true),
            ("/a/[!bc]", "/a/c", false),
            ("/a/x.y", "/a/xzy", false),
            ("/a/[", "/a/[", true),
        ];
        for (g, p, want) in table {
            let re = regex::Regex::new(&glob_to_regex(g)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(re.is_match(p), want, "{g} on {p}");
        }
    }
}

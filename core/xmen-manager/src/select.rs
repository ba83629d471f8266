//! Selecting managed experiments by pattern (`run`, `note`, `reset`, `unlink`).
//!
//! A pattern is a unix glob over experiment folder names relative to the set root (`*` does not
//! cross `/`). Only managed experiments (those in experiment.yml) can match, and matches come
//! back sorted by name, not in file-system order (`xmen run` then puts them in registration
//! order). Folder names may contain glob characters (`opt={'beta': 0.5}`, `sizes=[3, 4]`), so a
//! pattern that is exactly a managed folder's name selects that folder, and a backslash escapes a
//! glob character (`sizes=\[3, 4\]`) (the original could not select such folders).

use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};

use crate::error::{ManagerError, Result};
use crate::set::ExperimentSet;
use crate::setfile::Entry;

/// A compiled selection pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    text: String,
    /// The compiled glob, or why the text is not a valid glob and where (it may still be a
    /// folder's exact name, such as `a=[1`).
    matcher: std::result::Result<GlobMatcher, (usize, String)>,
}

/// The 0-based character offset in `text` that a glob error is about: globset names the kind
/// of mistake but not its place, so find the character that causes that kind.
fn glob_error_position(text: &str, kind: &globset::ErrorKind) -> usize {
    use globset::ErrorKind as K;
    let chars: Vec<char> = text.chars().collect();
    // Characters not escaped by a backslash, with their offsets.
    let mut live = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' {
            i += 2;
            continue;
        }
        live.push((i, chars[i]));
        i += 1;
    }
    let first = |c: char| live.iter().find(|(_, x)| *x == c).map(|(i, _)| *i);
    let last = |c: char| live.iter().rev().find(|(_, x)| *x == c).map(|(i, _)| *i);
    let found = match kind {
        K::UnclosedClass => last('['),
        K::UnopenedAlternates => first('}'),
        K::UnclosedAlternates => last('{'),
        K::NestedAlternates | K::TooManyNestedAlternates => {
            live.iter().filter(|(_, c)| *c == '{').nth(1).map(|(i, _)| *i)
        }
        K::DanglingEscape => Some(chars.len().saturating_sub(1)),
        K::InvalidRecursive => text.find("**").map(|b| text[..b].chars().count()),
        K::InvalidRange(a, _) => first(*a),
        _ => None,
    };
    found.unwrap_or(0)
}

/// Trim what shells and users add around a folder name: a leading `./`, trailing `/`.
fn normalise(text: &str) -> &str {
    let mut t = text;
    while let Some(rest) = t.strip_prefix("./") {
        t = rest;
    }
    let trimmed = t.trim_end_matches('/');
    if trimmed.is_empty() {
        t
    } else {
        trimmed
    }
}

impl Pattern {
    /// Compile `text`. Text that is not a valid glob is kept: it can still select a folder by
    /// its exact name, and [`Pattern::check`] or [`Pattern::select_in`] report the glob error.
    pub fn new(text: &str) -> Pattern {
        let matcher = GlobBuilder::new(normalise(text))
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map(|g| g.compile_matcher())
            .map_err(|e| {
                // Offsets are into the text as typed: count what normalise() trimmed in front.
                let front = text.len() - text.trim_start_matches("./").len();
                let lead = text[..front].chars().count();
                (lead + glob_error_position(normalise(text), e.kind()), e.kind().to_string())
            });
        Pattern { text: text.to_owned(), matcher }
    }

    /// [`ManagerError::Pattern`] when the text is not a valid glob.
    pub fn check(&self) -> Result<()> {
        match &self.matcher {
            Ok(_) => Ok(()),
            Err((position, message)) => {
                Err(ManagerError::Pattern { pattern: self.text.clone(), position: *position, message: message.clone() })
            }
        }
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The name this pattern is matched against for `path`, relative to `root` when the pattern
    /// is relative.
    fn relative<'p>(&self, root: &Path, path: &'p Path) -> &'p Path {
        path.strip_prefix(root).unwrap_or(path)
    }

    /// Whether `name` (a folder path relative to the root) matches.
    pub fn matches(&self, name: &str) -> bool {
        name == normalise(&self.text) || self.matcher.as_ref().is_ok_and(|m| m.is_match(name))
    }

    /// The entries of `entries` under `root` this pattern selects, sorted by path. A pattern equal
    /// to a managed name selects exactly that one.
    pub fn select<'e>(&self, root: &Path, entries: &'e [Entry]) -> Vec<&'e Entry> {
        let mut literal_text = normalise(&self.text).to_owned();
        if Path::new(&literal_text).is_absolute() {
            if let Ok(rel) = Path::new(&literal_text).strip_prefix(root) {
                literal_text = rel.display().to_string();
            }
        }
        let literal: Vec<&Entry> =
            entries.iter().filter(|e| self.relative(root, &e.path) == Path::new(&literal_text)).collect();
        let mut out = if literal.is_empty() {
            let Ok(matcher) = &self.matcher else { return Vec::new() };
            let abs_pattern = Path::new(&self.text).is_absolute();
            entries
                .iter()
                .filter(|e| {
                    let name = if abs_pattern { e.path.as_path() } else { self.relative(root, &e.path) };
                    matcher.is_match(name)
                })
                .collect()
        } else {
            literal
        };
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out.dedup_by(|a, b| a.path == b.path);
        out
    }

    /// [`Pattern::select`] over a set, [`ManagerError::NoMatch`] when nothing matches.
    pub fn select_in<'s>(&self, set: &'s ExperimentSet) -> Result<Vec<&'s Entry>> {
        let found = self.select(set.root(), set.entries());
        if found.is_empty() {
            self.check()?;
            let mut names: Vec<String> = set.entries().iter().map(|e| set.name_of(&e.path)).collect();
            names.sort();
            let managed = names.len();
            names.truncate(5);
            if managed > names.len() {
                names.push("...".into());
            }
            return Err(ManagerError::NoMatch {
                pattern: self.text.clone(),
                root: set.root().to_path_buf(),
                managed,
                sample: names,
            });
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn entries(names: &[&str]) -> Vec<Entry> {
        names.iter().map(|n| Entry { path: PathBuf::from("/set").join(n), overrides: Vec::new() }).collect()
    }

    fn pick(pattern: &str, names: &[&str]) -> Vec<String> {
        let es = entries(names);
        let p = Pattern::new(pattern);
        p.select(Path::new("/set"), &es).iter().map(|e| e.path.display().to_string().replace("/set/", "")).collect()
    }

    #[test]
    fn globs_select_managed_names_sorted() {
        let names = ["lr=0.1__b=2", "lr=0.01__b=1", "a=Hello", "lr=0.1__b=1", "sub/x=1"];
        let table: Vec<(&str, Vec<&str>)> = vec![
            ("*", vec!["a=Hello", "lr=0.01__b=1", "lr=0.1__b=1", "lr=0.1__b=2"]),
            ("lr=0.1*", vec!["lr=0.1__b=1", "lr=0.1__b=2"]),
            ("*b=1", vec!["lr=0.01__b=1", "lr=0.1__b=1"]),
            ("a=Hello", vec!["a=Hello"]),
            ("./a=Hello/", vec!["a=Hello"]),
            ("/set/a=Hello", vec!["a=Hello"]),
            ("/set/lr=0.1*", vec!["lr=0.1__b=1", "lr=0.1__b=2"]),
            ("sub/*", vec!["sub/x=1"]),
            ("lr=0.1__b=[12]", vec!["lr=0.1__b=1", "lr=0.1__b=2"]),
            ("nothing*", vec![]),
        ];
        for (pattern, want) in table {
            assert_eq!(pick(pattern, &names), want, "{pattern}");
        }
    }

    #[test]
    fn names_with_glob_characters_can_be_selected() {
        let names = ["sizes=[3, 4]", "sizes=3", "opt={'beta': 0.5}", "a=1"];
        let table: Vec<(&str, Vec<&str>)> = vec![
            ("sizes=[3, 4]", vec!["sizes=[3, 4]"]),     // exact name wins over the class
            ("sizes=\\[3, 4\\]", vec!["sizes=[3, 4]"]), // escaped
            ("sizes=\\[*", vec!["sizes=[3, 4]"]),
            ("opt={'beta': 0.5}", vec!["opt={'beta': 0.5}"]),
            ("opt=\\{*", vec!["opt={'beta': 0.5}"]),
            ("sizes=[34]", vec!["sizes=3"]), // not a name: a character class
        ];
        for (pattern, want) in table {
            assert_eq!(pick(pattern, &names), want, "{pattern}");
        }
    }

    #[test]
    fn an_invalid_glob_says_how_to_escape_but_still_selects_an_exact_name() {
        let msg = Pattern::new("a=[1").check().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("invalid pattern `a=[1`") && msg.contains("\\["), "{msg}");
        assert_eq!(pick("a=[1", &["a=[1", "b"]), ["a=[1"]);
        assert!(pick("a=[1", &["a=1"]).is_empty());
    }
}

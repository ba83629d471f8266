//! Experiment folder names (docs/migrating.md#the-sweep-grammar-and-folder-names).
//!
//! A registered experiment is named `k=v__k=v` over its overrides in sweep order, each value in
//! Python's `str()` rendering (`lr=0.001__opt={'beta': 0.5}__sizes=[3, 4]`); the reserved
//! `_hooks` key never enters a name. `-n NAME` names every experiment `NAME`. A name already
//! taken gets `_1`, `_2`, ... `_99` (the manager's suffixes start at `_1`, as the original's
//! `xmen register` did); past that registration stops with an error.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use xmen_core::pyfmt;
use xmen_core::Value;
use xmen_record::HOOKS_KEY;

use crate::error::{ManagerError, Result};

/// The highest collision suffix (`name_99`).
pub const MAX_SUFFIX: usize = 99;

/// `name` without a collision suffix (`lr=0.1_2` -> `lr=0.1`), if it has one.
pub fn unsuffixed(name: &str) -> Option<&str> {
    let (base, n) = name.rsplit_once('_')?;
    let n: usize = n.parse().ok().filter(|_| !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit()))?;
    (1..=MAX_SUFFIX).contains(&n).then_some(base).filter(|b| !b.is_empty())
}

/// The folder name of a set of overrides: `k=str(v)` joined by `__`, skipping `_hooks`.
pub fn folder_name<'a>(overrides: impl IntoIterator<Item = (&'a str, &'a Value)>) -> String {
    let mut name = String::new();
    for (k, v) in overrides {
        if k == HOOKS_KEY {
            continue;
        }
        if !name.is_empty() {
            name.push_str("__");
        }
        name.push_str(k);
        name.push('=');
        // Writing into a String cannot fail.
        let _ = pyfmt::write_str(&mut name, v);
    }
    name
}

/// Check that `name` can be one folder inside the set root.
pub fn check_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "is empty (the sweep overrides no parameter, or only `_hooks`)"
    } else if name == "." || name == ".." {
        "is a special folder name"
    } else if name.contains('/') {
        "contains `/`, which would nest folders"
    } else if name.contains('\0') {
        "contains a NUL character"
    } else if name.len() > 255 {
        "is longer than the 255 bytes a folder name may have"
    } else {
        return Ok(());
    };
    Err(ManagerError::BadName { name: name.to_owned(), reason })
}

/// Hands out folder names inside one set root, adding `_1` ... `_99` when a name is taken on
/// disk or earlier in the same registration.
///
/// On Linux, after the first [`LOOKUPS_BEFORE_LISTING`] names, the root's entries are read
/// once (one `getdents` per few hundred names) instead of one `lstat` per name, so a large
/// sweep costs no per-name system call and a single name in a large set no listing; elsewhere,
/// where a folder may compare names without case, each name is looked up.
#[derive(Debug)]
pub struct NameAllocator {
    root: PathBuf,
    taken: HashSet<String>,
    /// The root's entries once listed.
    on_disk: Option<HashSet<String>>,
    lookups: usize,
}

/// How many names are looked up one by one before the set root is listed instead.
pub const LOOKUPS_BEFORE_LISTING: usize = 32;

impl NameAllocator {
    /// An allocator for folders of `root`.
    pub fn new(root: &Path) -> NameAllocator {
        NameAllocator { root: root.to_path_buf(), taken: HashSet::new(), on_disk: None, lookups: 0 }
    }

    fn free(&mut self, name: &str) -> bool {
        if self.taken.contains(name) {
            return false;
        }
        self.lookups += 1;
        if self.on_disk.is_none() && cfg!(target_os = "linux") && self.lookups > LOOKUPS_BEFORE_LISTING {
            self.on_disk = std::fs::read_dir(&self.root)
                .ok()
                .map(|entries| entries.flatten().filter_map(|e| e.file_name().into_string().ok()).collect());
        }
        match &self.on_disk {
            Some(names) => !names.contains(name),
            None => std::fs::symlink_metadata(self.root.join(name)).is_err(),
        }
    }

    /// The first free name of `base`, `base_1` ... `base_99`, now marked taken.
    pub fn allocate(&mut self, base: &str) -> Result<String> {
        check_name(base)?;
        let chosen = if self.free(base) {
            Some(base.to_owned())
        } else {
            (1..=MAX_SUFFIX).map(|i| format!("{base}_{i}")).find(|n| self.free(n))
        };
        match chosen {
            Some(n) => {
                check_name(&n)?;
                self.taken.insert(n.clone());
                Ok(n)
            }
            None => Err(ManagerError::NameTaken { name: base.to_owned(), root: self.root.clone() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_render_values_like_python() {
        let s = |x: &str| Value::Str(x.into());
        let table: Vec<(Vec<(&str, Value)>, &str)> = vec![
            (vec![("a", s("Hello")), ("b", s("World"))], "a=Hello__b=World"),
            (vec![("a", Value::Int(10)), ("b", Value::Int(3))], "a=10__b=3"),
            (
                vec![
                    ("lr", Value::Float(0.001)),
                    ("epochs", Value::Int(5)),
                    ("name", s("3")),
                    ("maybe", Value::None),
                    ("opt", Value::Map(vec![("beta".into(), Value::Float(0.5))])),
                    ("sizes", Value::List(vec![Value::Int(3), Value::Int(4)])),
                ],
                "lr=0.001__epochs=5__name=3__maybe=None__opt={'beta': 0.5}__sizes=[3, 4]",
            ),
            (
                vec![("lr", Value::Float(1.0)), ("x", Value::Float(1e-5)), ("f", Value::Bool(true))],
                "lr=1.0__x=1e-05__f=True",
            ),
            (vec![("_hooks", Value::List(vec![])), ("a", Value::Int(1))], "a=1"),
            (vec![("tags", Value::List(vec![s("a"), s("b")]))], "tags=['a', 'b']"),
        ];
        for (overrides, want) in table {
            assert_eq!(folder_name(overrides.iter().map(|(k, v)| (*k, v))), want);
        }
    }

    #[test]
    fn unusable_names_are_rejected() {
        for (name, ok) in [("a=1", true), ("", false), (".", false), ("..", false), ("p=/x/y", false), ("a b", true)] {
            assert_eq!(check_name(name).is_ok(), ok, "{name:?}");
        }
        let long = "x".repeat(300);
        assert!(check_name(&long).err().map(|e| e.to_string()).unwrap_or_default().contains("255 bytes"));
    }

    #[test]
    fn folders_on_disk_are_skipped_before_and_after_the_root_is_listed() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for n in ["r0", "r40", "r40_1", "r79"] {
            std::fs::create_dir(t.path().join(n)).unwrap_or_else(|e| panic!("{e}"));
        }
        let mut names = NameAllocator::new(t.path());
        let got: Vec<String> = (0..80).map(|i| names.allocate(&format!("r{i}")).unwrap_or_default()).collect();
        assert_eq!(got[0], "r0_1", "looked up one by one");
        assert!(names.on_disk.is_some() || !cfg!(target_os = "linux"), "listed after the first lookups");
        assert_eq!(got[40], "r40_2", "found in the listing");
        assert_eq!(got[79], "r79_1");
        assert_eq!(got[41], "r41");
    }

    #[test]
    fn collisions_take_suffixes_1_to_99_then_fail() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir(t.path().join("a=1")).unwrap_or_else(|e| panic!("{e}"));
        let mut names = NameAllocator::new(t.path());
        assert_eq!(names.allocate("a=1").ok().as_deref(), Some("a=1_1"));
        assert_eq!(names.allocate("a=1").ok().as_deref(), Some("a=1_2"));
        assert_eq!(names.allocate("b").ok().as_deref(), Some("b"));
        for _ in 3..=MAX_SUFFIX {
            assert!(names.allocate("a=1").is_ok());
        }
        let msg = names.allocate("a=1").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("limited to 100") && msg.contains("a=1_99"), "{msg}");
    }
}

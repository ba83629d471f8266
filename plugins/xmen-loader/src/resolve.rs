//! The one resolution: a hook *name* to the library that provides it.
//!
//! Key design choice: a hook is found by the names in the libraries' compiled-in manifests,
//! read from the files without loading them, never by file names: a package `xmen-hook-mylog`
//! whose hook is `jsonl` is found as `jsonl`, wherever it lies and whatever its file is called.
//! Runs (the Monitor builder and `_hooks`), `xmen hooks list/info/doctor` and `register`'s
//! validation all call [`Catalog::resolve`] (through [`crate::Loader`]), so what a listing
//! shows is what a run loads. The search path and its precedence are in [`crate::search`].
//!
//! Rules: the first level (folder) holding a usable library that provides the name wins;
//! copies further down are *shadowed*. Identical copies in one folder (same manifest, same
//! bytes) count once; two different libraries providing the name in one folder are an error
//! naming both files. A file for another platform, a damaged file, or a library built against
//! an SDK this program cannot load is skipped with a note, which the error repeats when
//! nothing else provides the name.

use std::path::{Path, PathBuf};

use crate::error::LoadError;
use crate::manifest::{Compatibility, Manifest, ManifestError};
use crate::search::{SearchPath, Source};

/// One readable hook library found on the search path.
#[derive(Clone, Debug)]
pub struct Library {
    /// The file.
    pub path: PathBuf,
    /// Its level (index in the search path; lower wins).
    pub level: usize,
    /// Why its folder is searched.
    pub source: Source,
    /// Its manifest, read from the file.
    pub manifest: Manifest,
    /// `Some(why)` when this program cannot load it (another SDK or ABI).
    pub incompatible: Option<String>,
}

/// A file on the search path that is not used, and why (for notes, never an error by itself).
#[derive(Clone, Debug)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Its level.
    pub level: usize,
    /// Why it is not used: one sentence naming the fix.
    pub reason: String,
}

/// What the search path holds: every readable library and every skipped file.
#[derive(Clone, Debug)]
pub struct Catalog {
    search: SearchPath,
    /// Readable libraries, in search order.
    pub libraries: Vec<Library>,
    /// Files not used, in search order.
    pub skipped: Vec<Skipped>,
}

/// The library a hook name resolves to.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The hook's name, as its library's manifest says it.
    pub hook: String,
    /// The library file that provides it.
    pub path: PathBuf,
    /// Why its folder is searched (`None` for an explicit path).
    pub source: Option<Source>,
    /// The library's manifest.
    pub manifest: Manifest,
    /// Identical copies in the same folder (counted once).
    pub identical: Vec<PathBuf>,
    /// Usable copies further down the search path, which this one shadows.
    pub shadowed: Vec<PathBuf>,
    /// Files that were skipped and might have been meant (another platform, damaged, another
    /// SDK), as sentences.
    pub notes: Vec<String>,
}

/// Whether two library files are the same build: the same manifest and the same bytes.
pub fn same_build(a: &Library, b: &Library) -> bool {
    if a.manifest != b.manifest {
        return false;
    }
    if let (Ok(ca), Ok(cb)) = (a.path.canonicalize(), b.path.canonicalize()) {
        if ca == cb {
            return true;
        }
    }
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(&a.path), std::fs::metadata(&b.path)) else { return false };
    if ma.len() != mb.len() {
        return false;
    }
    matches!((std::fs::read(&a.path), std::fs::read(&b.path)), (Ok(x), Ok(y)) if x == y)
}

impl Catalog {
    /// Read the manifest of every library file on `search` (no library is loaded).
    pub fn scan(search: &SearchPath) -> Catalog {
        let mut libraries = Vec::new();
        let mut skipped = Vec::new();
        let sources: Vec<Source> = search.entries().iter().map(|e| e.source).collect();
        for (level, path) in search.candidate_files() {
            match Manifest::read(&path) {
                Ok(manifest) => {
                    let incompatible = match manifest.compatibility() {
                        Compatibility::Compatible => None,
                        Compatibility::Incompatible(why) => Some(why),
                    };
                    let source = sources.get(level).copied().unwrap_or(Source::Given);
                    libraries.push(Library { path, level, source, manifest, incompatible });
                }
                // Any other shared library in a folder (not an xmen hook) is none of our business,
                // unless its name says it was meant to be one.
                Err(ManifestError::Missing { .. } | ManifestError::NotALibrary { .. })
                    if !looks_like_hook_file(&path) => {}
                Err(e) => skipped.push(Skipped { path, level, reason: e.to_string() }),
            }
        }
        Catalog { search: search.clone(), libraries, skipped }
    }

    /// The search path scanned.
    pub fn search(&self) -> &SearchPath {
        &self.search
    }

    /// Every hook name a usable library provides, sorted, once each.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .libraries
            .iter()
            .filter(|l| l.incompatible.is_none())
            .flat_map(|l| l.manifest.hooks.iter().map(|h| h.name.clone()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Every library providing `name` (usable or not), in search order.
    pub fn providers<'c>(&'c self, name: &'c str) -> impl Iterator<Item = &'c Library> + 'c {
        self.libraries.iter().filter(move |l| l.manifest.hook(name).is_some())
    }

    /// The library that provides hook `name` (see the module docs for the rules).
    pub fn resolve(&self, name: &str) -> Result<Resolved, LoadError> {
        let usable: Vec<&Library> = self.providers(name).filter(|l| l.incompatible.is_none()).collect();
        let Some(first) = usable.first() else {
            return Err(self.not_found(name));
        };
        let mut identical = Vec::new();
        for other in usable.iter().skip(1).filter(|l| l.level == first.level) {
            if same_build(first, other) {
                identical.push(other.path.clone());
            } else {
                return Err(LoadError::Ambiguous {
                    hook: name.to_owned(),
                    first: first.path.clone(),
                    second: other.path.clone(),
                    first_library: first.manifest.to_string(),
                    second_library: other.manifest.to_string(),
                });
            }
        }
        let shadowed = usable.iter().filter(|l| l.level > first.level).map(|l| l.path.clone()).collect();
        let mut notes = self.notes_before(first.level);
        notes.extend(
            self.providers(name)
                .filter(|l| l.level <= first.level)
                .filter_map(|l| l.incompatible.as_ref().map(|why| format!("skipped {}: {why}", l.path.display()))),
        );
        Ok(Resolved {
            hook: name.to_owned(),
            path: first.path.clone(),
            source: Some(first.source),
            manifest: first.manifest.clone(),
            identical,
            shadowed,
            notes,
        })
    }

    /// Notes on the files skipped at or above `level` (any of them might have been meant).
    fn notes_before(&self, level: usize) -> Vec<String> {
        self.skipped.iter().filter(|s| s.level <= level).map(|s| format!("skipped {}", s.reason)).collect()
    }

    fn not_found(&self, name: &str) -> LoadError {
        // Only libraries this program cannot load provide it: say why the nearest one is refused.
        if let Some(lib) = self.providers(name).find(|l| l.incompatible.is_some()) {
            let reason = lib.incompatible.clone().unwrap_or_default();
            return LoadError::Incompatible { path: lib.path.clone(), reason };
        }
        let incompatible: Vec<String> = self
            .providers(name)
            .filter_map(|l| l.incompatible.as_ref().map(|why| format!("{}: {why}", l.path.display())))
            .collect();
        let mut skipped: Vec<String> = incompatible;
        skipped.extend(self.skipped.iter().map(|s| s.reason.clone()));
        LoadError::NotFound {
            hook: name.to_owned(),
            searched: self.search.dirs().to_vec(),
            suggestions: did_you_mean(name, &self.names()),
            skipped,
        }
    }
}

/// Resolve a hook entry that names its library explicitly (`path:`, or a `hook:` that is a
/// path): the file is checked and must provide the hook (`None`: its only hook).
pub fn resolve_path(path: &Path, hook: Option<&str>) -> Result<Resolved, LoadError> {
    let manifest = Manifest::read(path).map_err(|e| LoadError::from_manifest(path, e))?;
    if let Compatibility::Incompatible(reason) = manifest.compatibility() {
        return Err(LoadError::Incompatible { path: path.to_path_buf(), reason });
    }
    let names: Vec<String> = manifest.hooks.iter().map(|h| h.name.clone()).collect();
    let hook = match hook {
        Some(h) if manifest.hook(h).is_some() => h.to_owned(),
        Some(h) => {
            return Err(LoadError::NotProvided {
                hook: h.to_owned(),
                path: path.to_path_buf(),
                suggestions: did_you_mean(h, &names),
                provides: names,
            })
        }
        None => match names.as_slice() {
            [only] => only.clone(),
            _ => {
                return Err(LoadError::Config(format!(
                    "hook library {} provides {} hooks ({}); name one: {{hook: NAME, path: {}}}",
                    path.display(),
                    names.len(),
                    names.join(", "),
                    path.display()
                )))
            }
        },
    };
    Ok(Resolved {
        hook,
        path: path.to_path_buf(),
        source: None,
        manifest,
        identical: Vec::new(),
        shadowed: Vec::new(),
        notes: Vec::new(),
    })
}

/// Whether a `hook:` value is a library path rather than a name.
pub fn is_path(hook: &str) -> bool {
    hook.contains('/') || hook.contains(std::path::MAIN_SEPARATOR) || hook.ends_with(std::env::consts::DLL_SUFFIX)
}

fn looks_like_hook_file(path: &Path) -> bool {
    let prefix = format!("{}xmen_hook_", std::env::consts::DLL_PREFIX);
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix))
}

pub use xmen_core::suggest::did_you_mean;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_values_that_are_paths_are_told_from_names() {
        for (hook, path) in [("logger", false), ("early-stop", false), ("./libx.so", true), ("/a/b", true)] {
            assert_eq!(is_path(hook), path, "{hook}");
        }
    }
}

//! Load failures, each saying what, where and how to fix it.

use crate::library::LibraryLoadError;
use std::fmt;
use std::path::PathBuf;
use xmen_core::abi::{CRATE_VERSION, SDK_VERSION};
use xmen_core::spec::SpecError;

use crate::manifest::ManifestError;

/// Why one configured hook could not be loaded.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // the fields are named for what they hold: the hook, the file, the reason
pub enum LoadError {
    /// No usable library on the search path provides the hook.
    #[error("hook {hook:?}: no library on the search path provides it{mean}{skip}; searched {searched}. Install a hook crate with `xmen hooks install CRATE_DIR`, xmen's own hooks with `xmen hooks install --first-party`, or add the library's folder to XMEN_HOOK_PATH; `xmen hooks list --all` shows what is found",
        mean = suggest(.suggestions), skip = skipped_text(.skipped), searched = display_dirs(.searched))]
    NotFound { hook: String, searched: Vec<PathBuf>, suggestions: Vec<String>, skipped: Vec<String> },
    /// Two different libraries provide the hook in one folder of the search path.
    #[error("hook {hook:?}: two different libraries in one folder provide it: {first} ({first_library}) and {second} ({second_library}); remove or rename one of them, or name one with `path:` in the hook entry")]
    Ambiguous { hook: String, first: PathBuf, second: PathBuf, first_library: String, second_library: String },
    /// A library named explicitly does not provide the hook.
    #[error("hook {hook:?}: the library {path} does not provide it{mean} (it provides: {list})", mean = suggest(.suggestions), list = .provides.join(", "))]
    NotProvided { hook: String, path: PathBuf, provides: Vec<String>, suggestions: Vec<String> },
    /// The file failed the check before loading (damaged, another platform, no manifest).
    #[error("{0}")]
    File(ManifestError),
    /// Built against an SDK or ABI this program cannot load (known from its manifest).
    #[error("hook library {path}: {reason}")]
    Incompatible { path: PathBuf, reason: String },
    /// An explicit path that does not exist.
    #[error("hook library {path}: no such file; check the path in the hook configuration")]
    Missing { path: PathBuf },
    /// The file is not a loadable shared library.
    #[error("hook library {path}: not a shared library this process can load ({reason}); rebuild it as a `cdylib` for this platform")]
    NotALibrary { path: PathBuf, reason: String },
    /// A shared library without the xmen root module.
    #[error("hook library {path}: not an xmen hook library ({reason}); a hook crate must call `xmen::export_hooks!(...)` and be built with crate-type [\"cdylib\"]")]
    NotAHook { path: PathBuf, reason: String },
    /// Built against an incompatible SDK.
    #[error("hook library {path}: {}", rebuild_message(.found, .expected))]
    Version { path: PathBuf, expected: String, found: String },
    /// abi_stable's layout check failed.
    #[error("hook library {path}: its types do not match this program's (abi_stable layout check); rebuild it against xmen-hook {CRATE_VERSION} (hook ABI {SDK_VERSION}). abi_stable reports:\n{details}")]
    Layout { path: PathBuf, details: String },
    /// Any other abi_stable error.
    #[error("hook library {path}: {details}")]
    Other { path: PathBuf, details: String },
    /// The spec in the configuration is invalid.
    #[error("hook {hook:?}: {error}")]
    Spec { hook: String, error: SpecError },
    /// The library refused to construct the hook.
    #[error("hook {hook:?} with spec {spec:?} (from {path}): the constructor failed: {message}")]
    Constructor { hook: String, spec: String, path: PathBuf, message: String },
    /// The configuration itself is malformed.
    #[error("{0}")]
    Config(String),
}

fn suggest(s: &[String]) -> String {
    match s {
        [] => String::new(),
        [one] => format!("; did you mean {one:?}?"),
        many => {
            format!("; did you mean one of {}?", many.iter().map(|m| format!("{m:?}")).collect::<Vec<_>>().join(", "))
        }
    }
}

fn skipped_text(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" (skipped: {})", s.join("; "))
    }
}

fn display_dirs(d: &[PathBuf]) -> String {
    d.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// What to say about a library built for hook ABI `found` in a program on ABI `expected`:
/// both versions and the commands that rebuild it.
pub(crate) fn rebuild_message(found: &str, expected: &str) -> String {
    format!(
        "built for hook ABI {found}, but this program uses hook ABI {expected}; rebuild the hook against xmen-hook {CRATE_VERSION}: `cargo build --release` in its crate (or `xmen hooks install <its crate folder>`)"
    )
}

/// Keep the lines of abi_stable's layout report that say what differs (the full
/// report runs to a thousand lines of type dumps): each `Error:` line, with its
/// `Expected:`/`Found:` values when they fit on a line, and the type it was found in.
fn summarize_layout(details: &str) -> String {
    let lines: Vec<&str> = details.lines().map(str::trim).collect();
    let mut in_type: Option<String> = None;
    let mut out: Vec<String> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if *line == "Layout of expected type:" {
            in_type = layout_type(&lines[i + 1..]);
        } else if line.starts_with("Error:") {
            let block: Vec<&str> = lines[i + 1..].iter().copied().take_while(|l| !l.starts_with("Error:")).collect();
            let value = |label: &str| {
                let at = block.iter().position(|l| *l == label)?;
                block.get(at + 1).filter(|v| !v.is_empty() && v.len() <= 80).copied()
            };
            let mut text = format!("  {line}");
            if let (Some(expected), Some(found)) = (value("Expected:"), value("Found:")) {
                text.push_str(&format!(" (expected {expected}, found {found})"));
            }
            if let Some(t) = &in_type {
                text.push_str(&format!(" in {t}"));
            }
            out.push(text);
        }
    }
    out.dedup();
    if out.is_empty() {
        details.lines().take(20).map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
    } else {
        out.join("\n")
    }
}

/// `type FfiFiring<'a> (xmen_core::abi)` from the lines after "Layout of expected type:".
fn layout_type(lines: &[&str]) -> Option<String> {
    let head = &lines[..lines.len().min(8)];
    let ty = head.iter().find_map(|l| l.strip_prefix("type:"))?;
    match head.iter().find_map(|l| l.split_once("mod:").map(|(_, m)| m)) {
        Some(module) => Some(format!("type {ty} ({module})")),
        None => Some(format!("type {ty}")),
    }
}

impl LoadError {
    /// A library file that failed the check before loading.
    pub(crate) fn from_manifest(path: &std::path::Path, e: ManifestError) -> LoadError {
        match e {
            ManifestError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                LoadError::Missing { path: path.to_path_buf() }
            }
            e => LoadError::File(e),
        }
    }

    pub(crate) fn from_library(path: &std::path::Path, e: LibraryLoadError) -> LoadError {
        let path = path.to_path_buf();
        match e {
            LibraryLoadError::Open { reason } => LoadError::NotALibrary { path, reason },
            LibraryLoadError::NotAHookLibrary { reason } => LoadError::NotAHook { path, reason },
            LibraryLoadError::IncompatibleVersion { expected, found } => LoadError::Version { path, expected, found },
            LibraryLoadError::Layout { details } => LoadError::Layout { path, details: summarize_layout(&details) },
            LibraryLoadError::Other { details } => LoadError::Other { path, details },
        }
    }
}

/// Several load failures, reported together.
#[derive(Debug)]
pub struct LoadErrors(pub Vec<LoadError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} hook(s) failed to load:", self.0.len())?;
        for (i, e) in self.0.iter().enumerate() {
            writeln!(f, "  {}. {e}", i + 1)?;
        }
        write!(f, "(set the Monitor's `lenient` option to run without them)")
    }
}

impl std::error::Error for LoadErrors {}

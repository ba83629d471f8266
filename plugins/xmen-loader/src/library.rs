//! Loading one library: abi_stable's checked load of its root module, and what the loaded
//! library says about itself. Everything abi_stable stays in this file; the loader's public
//! API hands out [`Library`], [`LibraryInfo`] and core's `LibraryHook`.

use xmen_core::abi::abi_stable::std_types::RString;
use xmen_core::abi::{CallFailure, HookLibRef, LibraryHook};
use xmen_core::hook::OptionInfo;
use xmen_core::Value;

/// A loaded hook library whose layout and ABI version were checked at load. It stays loaded
/// for the life of the process.
#[derive(Clone, Copy)]
pub struct Library {
    root: HookLibRef,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Library({} {})", self.root.library().as_str(), self.root.version().as_str())
    }
}

impl Library {
    pub(crate) fn new(root: HookLibRef) -> Library {
        Library { root }
    }

    /// What the library says about itself and its hooks (its root module's `describe`).
    pub fn info(&self) -> LibraryInfo {
        library_info(self.root)
    }

    /// Construct its hook `name` on a spec and options (the constructor runs in the library,
    /// guarded: a panic comes back as `CallFailure::Panic`).
    pub fn construct(&self, name: &str, spec: &str, options: &[(String, Value)]) -> Result<LibraryHook, CallFailure> {
        LibraryHook::new(self.root, name, spec, options)
    }
}

/// What a library says about itself and its hooks (read through the root module).
#[derive(Clone, Debug)]
pub struct LibraryInfo {
    /// Crate name.
    pub library: String,
    /// Crate version.
    pub version: String,
    /// The hook ABI version it was built for.
    pub sdk_version: String,
    /// The hooks it provides.
    pub hooks: Vec<HookInfo>,
}

/// One hook of a library.
#[derive(Clone, Debug)]
pub struct HookInfo {
    /// Name used in configuration.
    pub name: String,
    /// One-line help.
    pub help: String,
    /// Declared options.
    pub options: Vec<OptionInfo>,
    /// Example specs.
    pub examples: Vec<String>,
}

/// Read a loaded library's description.
fn library_info(lib: HookLibRef) -> LibraryInfo {
    let hooks = (lib.describe())()
        .into_iter()
        .map(|h| HookInfo {
            name: h.name.into_string(),
            help: h.help.into_string(),
            options: h
                .options
                .into_iter()
                .map(|o| OptionInfo {
                    name: o.name.into_string(),
                    kind: o.kind.into_string(),
                    help: o.help.into_string(),
                    default: o.default.into_option().map(RString::into_string),
                })
                .collect(),
            examples: h.examples.into_iter().map(RString::into_string).collect(),
        })
        .collect();
    LibraryInfo {
        library: lib.library().as_str().to_owned(),
        version: lib.version().as_str().to_owned(),
        sdk_version: lib.sdk_version().as_str().to_owned(),
        hooks,
    }
}

/// Why abi_stable could not load a library, as plain data.
#[derive(Clone, Debug)]
pub(crate) enum LibraryLoadError {
    /// The file could not be opened as a shared library (missing, not a library, wrong architecture).
    Open { reason: String },
    /// The file is a shared library but exports no xmen root module.
    NotAHookLibrary { reason: String },
    /// The library was built against an incompatible xmen-core.
    IncompatibleVersion { expected: String, found: String },
    /// abi_stable found the library's types laid out differently from the host's.
    Layout { details: String },
    /// Anything else abi_stable reported.
    Other { details: String },
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        let t = x.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = x.source();
    }
    s
}

fn map_library_error(e: xmen_core::abi::abi_stable::library::LibraryError) -> LibraryLoadError {
    use xmen_core::abi::abi_stable::library::LibraryError as E;
    match e {
        E::OpenError { err, .. } => LibraryLoadError::Open { reason: chain(&*err) },
        E::GetSymbolError { err, symbol, .. } => LibraryLoadError::NotAHookLibrary {
            reason: format!("no symbol {}: {}", String::from_utf8_lossy(&symbol).trim_end_matches('\0'), chain(&*err)),
        },
        E::IncompatibleVersionNumber { expected_version, actual_version, .. } => {
            LibraryLoadError::IncompatibleVersion {
                expected: expected_version.to_string(),
                found: actual_version.to_string(),
            }
        }
        E::AbiInstability(err) => LibraryLoadError::Layout { details: err.to_string() },
        E::Many(errs) => match errs.into_iter().next() {
            Some(first) => map_library_error(first),
            None => LibraryLoadError::Other { details: "unknown load error".into() },
        },
        other => LibraryLoadError::Other { details: other.to_string() },
    }
}

/// Load a library's root module from its own path (never `load_from_file`,
/// which caches one module per type), checking layout and version. The library
/// stays loaded for the life of the process.
pub(crate) fn load_library(path: &std::path::Path) -> Result<HookLibRef, LibraryLoadError> {
    xmen_core::abi::abi_stable::library::lib_header_from_path(path)
        .and_then(|h| h.init_root_module::<HookLibRef>())
        .map_err(map_library_error)
}

//! Hook configuration -> library paths -> checked load -> the Monitor's hook set.
//!
//! Key design choice: every library is loaded from its own path and checked by
//! abi_stable (layout and version) before anything in it runs, and every failure is
//! collected, so a run that asks for five hooks reports all five problems at once.
//! Libraries are never unloaded.

mod check;
mod config;
mod error;
mod library;
pub mod manifest;
pub mod resolve;
pub mod search;
pub mod validate;

pub use config::HookConfig;
pub use error::{LoadError, LoadErrors};
pub use library::{HookInfo, Library, LibraryInfo};
pub use manifest::{Compatibility, Manifest, ManifestError};
pub use resolve::{Catalog, Resolved};
pub use search::{library_file_name, xmen_home, SearchPath};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use xmen_core::abi;
use xmen_core::monitor::HookSlot;
use xmen_core::spec::Spec;
use xmen_core::Value;

static LOADED: Mutex<Option<HashMap<PathBuf, Library>>> = Mutex::new(None);

/// Load (once per process) and check the library at `path`.
///
/// The file is checked before `dlopen` (see [`Manifest::read`]): a truncated, damaged or
/// foreign file, or one whose manifest names an SDK this program cannot load, is refused with
/// a message instead of crashing the process. A library without a manifest (built before
/// manifests) goes on to abi_stable's own checks.
pub fn load_path(path: &Path) -> Result<Library, LoadError> {
    let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mut guard = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    if let Some(lib) = map.get(&key) {
        return Ok(*lib);
    }
    if !path.exists() {
        return Err(LoadError::Missing { path: path.to_path_buf() });
    }
    match Manifest::read(path) {
        Ok(m) => {
            if let Compatibility::Incompatible(reason) = m.compatibility() {
                return Err(LoadError::Incompatible { path: path.to_path_buf(), reason });
            }
        }
        Err(ManifestError::Missing { .. } | ManifestError::Malformed { .. }) => {}
        Err(e) => return Err(LoadError::from_manifest(path, e)),
    }
    let lib = Library::new(library::load_library(path).map_err(|e| LoadError::from_library(path, e))?);
    map.insert(key, lib);
    Ok(lib)
}

/// Describe a loaded library and its hooks.
pub fn describe(path: &Path) -> Result<LibraryInfo, LoadError> {
    Ok(load_path(path)?.info())
}

/// Resolves hook names and builds hook slots.
///
/// The search path is scanned once per loader (and its clones), on first use.
#[derive(Clone, Debug)]
pub struct Loader {
    search: SearchPath,
    catalog: Arc<OnceLock<Catalog>>,
    /// Options the host provides to every hook that declares them (see [`Loader::provide`]).
    provided: Vec<(String, Value)>,
}

impl Default for Loader {
    fn default() -> Self {
        Loader::new(SearchPath::from_env())
    }
}

impl Loader {
    /// A loader over a search path.
    pub fn new(search: SearchPath) -> Loader {
        Loader { search, catalog: Arc::new(OnceLock::new()), provided: Vec::new() }
    }

    /// Provide option `name` to every hook that declares it (in its `NewHook::OPTIONS`) and
    /// whose configuration does not set it, whatever the hook is called: how a run's folder
    /// reaches hooks that write files (`directory`, see `xmen_hook::HOST_OPTIONS`).
    pub fn provide(mut self, name: &str, value: impl Into<Value>) -> Loader {
        self.provided.retain(|(k, _)| k != name);
        self.provided.push((name.to_owned(), value.into()));
        self
    }

    /// The options of `cfg` with the provided ones its hook declares added.
    fn options_with_provided(&self, lib: Library, name: &str, cfg: &HookConfig) -> Vec<(String, Value)> {
        let mut options = cfg.options.clone();
        if self.provided.is_empty() {
            return options;
        }
        let info = lib.info();
        let Some(hook) = info.hooks.iter().find(|h| h.name == name) else { return options };
        for (k, v) in &self.provided {
            let declared = hook.options.iter().any(|o| &o.name == k);
            if declared && !options.iter().any(|(set, _)| set == k) {
                options.push((k.clone(), v.clone()));
            }
        }
        options
    }

    /// The search path.
    pub fn search_path(&self) -> &SearchPath {
        &self.search
    }

    /// Every library on the search path, read from the files (scanned once).
    pub fn catalog(&self) -> &Catalog {
        self.catalog.get_or_init(|| Catalog::scan(&self.search))
    }

    /// The one resolution (see [`resolve`]): the library that provides hook `hook` (a name as
    /// in `_hooks` or the builder, or a library path), or, with `path`, the library at `path`,
    /// which must provide it.
    pub fn find(&self, hook: &str, path: Option<&Path>) -> Result<Resolved, LoadError> {
        match path {
            Some(p) => resolve::resolve_path(p, Some(hook)),
            None if resolve::is_path(hook) => resolve::resolve_path(Path::new(hook), None),
            None => self.catalog().resolve(hook),
        }
    }

    /// [`Loader::find`] for one configured hook.
    pub fn find_config(&self, cfg: &HookConfig) -> Result<Resolved, LoadError> {
        self.find(&cfg.hook, cfg.path.as_deref())
    }

    /// The library file for a hook name (`logger`) or an explicit path.
    pub fn resolve(&self, hook: &str) -> Result<PathBuf, LoadError> {
        self.find(hook, None).map(|r| r.path)
    }

    /// Load one configured hook.
    pub fn load(&self, cfg: &HookConfig) -> Result<HookSlot, LoadError> {
        let spec = Spec::parse(&cfg.spec).map_err(|e| LoadError::Spec { hook: cfg.hook.clone(), error: e })?;
        let found = self.find_config(cfg)?;
        let path = found.path;
        let lib = load_path(&path)?;
        let name = found.hook;
        let options = self.options_with_provided(lib, &name, cfg);
        let hook = lib.construct(&name, &cfg.spec, &options).map_err(|f| LoadError::Constructor {
            hook: name.clone(),
            spec: cfg.spec.clone(),
            path: path.clone(),
            message: match f {
                abi::CallFailure::Error(e) => match e.help {
                    Some(h) => format!("{}; {h}", e.message),
                    None => e.message,
                },
                abi::CallFailure::Panic(p) => format!(
                    "{p}; a panic is a bug in the hook library: report it to its authors, or remove the hook from the configuration"
                ),
            },
        })?;
        Ok(HookSlot::library(name, spec, hook).with_on_error(cfg.on_error))
    }

    /// Load every configured hook, collecting every failure.
    pub fn load_all(&self, configs: &[HookConfig]) -> (Vec<HookSlot>, Vec<LoadError>) {
        let mut slots = Vec::new();
        let mut errors = Vec::new();
        for c in configs {
            match self.load(c) {
                Ok(s) => slots.push(s),
                Err(e) => errors.push(e),
            }
        }
        (slots, errors)
    }
}

/// The configuration name of a hook: `logger` for `logger` or `/x/libxmen_hook_logger.so`.
pub fn hook_name(hook: &str) -> String {
    let file = Path::new(hook).file_name().and_then(|f| f.to_str()).unwrap_or(hook);
    let stem = file
        .strip_prefix(std::env::consts::DLL_PREFIX)
        .unwrap_or(file)
        .strip_suffix(std::env::consts::DLL_SUFFIX)
        .unwrap_or(file);
    let stem = stem.strip_prefix(std::env::consts::DLL_PREFIX).unwrap_or(stem);
    stem.strip_prefix("xmen_hook_").unwrap_or(stem).replace('_', "-")
}

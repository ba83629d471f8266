//! Where hook libraries are looked for.

use crate::error::LoadError;
use std::path::{Path, PathBuf};

/// The ordered folders searched for hook libraries:
/// 1. each entry of `XMEN_HOOK_PATH` (`:`-separated),
/// 2. the folder of the running executable, its parent (so `cargo run --example`
///    finds the workspace's built hooks) and its `hooks/` subfolder,
/// 3. `$XMEN/hooks`, where `$XMEN` defaults to `~/.xmen`.
#[derive(Clone, Debug, Default)]
pub struct SearchPath {
    dirs: Vec<PathBuf>,
}

/// The file name of hook `name`'s library on this platform: `libxmen_hook_logger.so`.
pub fn library_file_name(name: &str) -> String {
    format!("{}xmen_hook_{}{}", std::env::consts::DLL_PREFIX, name.replace('-', "_"), std::env::consts::DLL_SUFFIX)
}

impl SearchPath {
    /// The default search path, from the environment.
    pub fn from_env() -> SearchPath {
        let mut dirs = Vec::new();
        if let Some(p) = std::env::var_os("XMEN_HOOK_PATH") {
            dirs.extend(std::env::split_paths(&p).filter(|p| !p.as_os_str().is_empty()));
        }
        if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
            dirs.push(exe_dir.clone());
            if let Some(parent) = exe_dir.parent() {
                dirs.push(parent.to_path_buf());
            }
            dirs.push(exe_dir.join("hooks"));
        }
        dirs.push(xmen_home().join("hooks"));
        SearchPath { dirs }
    }

    /// An explicit list of folders.
    pub fn new(dirs: Vec<PathBuf>) -> SearchPath {
        SearchPath { dirs }
    }

    /// The folders, in search order.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The library for a hook name, or an explicit path (anything with a `/` or
    /// ending in the platform's library suffix).
    pub fn resolve(&self, hook: &str) -> Result<PathBuf, LoadError> {
        if hook.contains('/') || hook.ends_with(std::env::consts::DLL_SUFFIX) {
            return Ok(PathBuf::from(hook));
        }
        let file = library_file_name(hook);
        self.dirs.iter().map(|d| d.join(&file)).find(|p| p.is_file()).ok_or_else(|| LoadError::NotFound {
            hook: hook.to_owned(),
            file,
            searched: self.dirs.clone(),
        })
    }

    /// Every hook library file in the search path, first occurrence of each name.
    pub fn libraries(&self) -> Vec<PathBuf> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        let prefix = format!("{}xmen_hook_", std::env::consts::DLL_PREFIX);
        for d in &self.dirs {
            let Ok(rd) = std::fs::read_dir(d) else { continue };
            let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
            files.sort();
            for f in files {
                let Some(name) = f.file_name().and_then(|n| n.to_str()) else { continue };
                if name.starts_with(&prefix)
                    && name.ends_with(std::env::consts::DLL_SUFFIX)
                    && seen.insert(name.to_owned())
                {
                    out.push(f);
                }
            }
        }
        out
    }
}

/// `$XMEN`, or `~/.xmen`.
pub fn xmen_home() -> PathBuf {
    if let Some(x) = std::env::var_os("XMEN") {
        return PathBuf::from(x);
    }
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".xmen")
}

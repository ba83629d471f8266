//! `xmen experiments` (the original's `xmen python`): a registry of runnable
//! experiment binaries, name to executable path, kept in the global configuration.
//!
//! Any executable implementing the single-experiment command line can be registered: a Rust
//! experiment binary, a Python launcher, a shell script. Paths are stored absolute and checked
//! to be executable when added.

use std::path::{Path, PathBuf};

use xmen_record::{GlobalConfig, RecordError};

use crate::error::{ManagerError, Result};
use crate::launch::find_program;

/// Check `name` can be a registry key.
fn check_registry_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '/' || c == ':') {
        return Err(ManagerError::Program {
            program: name.to_owned(),
            reason: "an experiment name must be non-empty without spaces, `/` or `:`".into(),
        });
    }
    Ok(())
}

/// Register (or re-register) `name` as the executable at `path`; returns the absolute path
/// stored.
pub fn add(config_dir: &Path, name: &str, path: &Path) -> Result<PathBuf> {
    check_registry_name(name)?;
    let text = path.display().to_string();
    // A bare name is looked up on PATH, like a shell would; anything else is a path.
    let found = if text.contains('/') {
        find_program(&text)?
    } else {
        find_program(&format!("./{text}")).or_else(|_| find_program(&text))?
    };
    let abs = found.canonicalize().map_err(|e| ManagerError::io("resolve", &found, e))?;
    let stored = abs.display().to_string();
    GlobalConfig::update(config_dir, |c| {
        match c.experiments.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = stored.clone(),
            None => c.experiments.push((name.to_owned(), stored.clone())),
        }
        Ok::<_, RecordError>(())
    })?;
    Ok(abs)
}

/// Unregister `name`; returns the path it had, or [`ManagerError::UnknownExperiment`].
/// Nothing is deleted from disk.
pub fn remove(config_dir: &Path, name: &str) -> Result<PathBuf> {
    let removed = GlobalConfig::update(config_dir, |c| {
        let found = c.experiments.iter().position(|(k, _)| k == name).map(|i| c.experiments.remove(i).1);
        Ok::<_, RecordError>((found, c.experiments.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()))
    })?;
    match removed {
        (Some(p), _) => Ok(PathBuf::from(p)),
        (None, known) => Err(ManagerError::UnknownExperiment { name: name.to_owned(), known }),
    }
}

/// The registered experiments, in registration order.
pub fn list(config_dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    Ok(GlobalConfig::load(config_dir)?.experiments.into_iter().map(|(k, v)| (k, PathBuf::from(v))).collect())
}

/// The executable registered as `name`.
pub fn resolve(config_dir: &Path, name: &str) -> Result<PathBuf> {
    let all = list(config_dir)?;
    match all.iter().find(|(k, _)| k == name) {
        Some((_, p)) => Ok(p.clone()),
        None => Err(ManagerError::UnknownExperiment {
            name: name.to_owned(),
            known: all.into_iter().map(|(k, _)| k).collect(),
        }),
    }
}

//! `xmen hooks install PATH|CRATE_DIR`: build (a crate) or take (a library), check it in a
//! child process, then install it with its manifest sidecar, atomically.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use xmen_loader::{library_file_name, Manifest};

use super::doctor;

/// What to install, and where.
#[derive(Debug)]
pub struct Plan {
    /// A crate folder or a library file.
    pub source: PathBuf,
    /// The destination folder (default `$XMEN/hooks`).
    pub dest: Option<PathBuf>,
    /// Install even when the check fails.
    pub force: bool,
}

/// Build the hook crate in `dir` with `cargo build --release` and return its `cdylib`.
fn build_crate(dir: &Path) -> anyhow::Result<PathBuf> {
    let manifest = dir.join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("Building {} with `cargo build --release` ...", dir.display());
    let out = Command::new(&cargo)
        .args(["build", "--release", "--message-format=json-render-diagnostics", "--manifest-path"])
        .arg(&manifest)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| {
            anyhow::anyhow!("cannot run cargo ({}): {e}; install Rust from https://rustup.rs", cargo.to_string_lossy())
        })?;
    anyhow::ensure!(
        out.status.success(),
        "`cargo build --release --manifest-path {}` failed ({}); see cargo's errors above",
        manifest.display(),
        out.status
    );
    let mut libraries = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let is_cdylib = msg["target"]["crate_types"].as_array().is_some_and(|t| t.iter().any(|t| t == "cdylib"));
        if !is_cdylib {
            continue;
        }
        for f in msg["filenames"].as_array().into_iter().flatten().filter_map(|f| f.as_str()) {
            if f.ends_with(std::env::consts::DLL_SUFFIX) {
                libraries.push(PathBuf::from(f));
            }
        }
    }
    let prefix = format!("{}xmen_hook_", std::env::consts::DLL_PREFIX);
    let hooks: Vec<PathBuf> = libraries
        .iter()
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix)))
        .cloned()
        .collect();
    let pick = if hooks.is_empty() { libraries } else { hooks };
    match pick.as_slice() {
        [one] => Ok(one.clone()),
        [] => anyhow::bail!(
            "{} builds no cdylib; a hook crate needs `[lib] crate-type = [\"cdylib\", \"rlib\"]` and `xmen::export_hooks!(...)`",
            manifest.display()
        ),
        many => anyhow::bail!(
            "{} builds several libraries ({}); install the one you mean by its path",
            manifest.display(),
            many.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The file name to install a library under: its own when it is `libxmen_hook_*`, else one
/// made from its manifest (`xmen-hook-foo` -> `libxmen_hook_foo.so`).
fn installed_name(library: &Path, manifest: &Manifest) -> String {
    let own = library.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if own.starts_with(&format!("{}xmen_hook_", std::env::consts::DLL_PREFIX)) {
        return own.to_owned();
    }
    let name = manifest
        .library
        .strip_prefix("xmen-hook-")
        .map(str::to_owned)
        .or_else(|| manifest.hooks.first().map(|h| h.name.clone()))
        .unwrap_or_else(|| manifest.library.clone());
    library_file_name(&name)
}

/// Install as planned into `default_dest` unless the plan names another folder.
pub fn run(plan: &Plan, default_dest: &Path) -> anyhow::Result<ExitCode> {
    let library = if plan.source.is_dir() {
        anyhow::ensure!(
            plan.source.join("Cargo.toml").is_file(),
            "{} is a folder without Cargo.toml; give a hook crate's folder or a built library file",
            plan.source.display()
        );
        build_crate(&plan.source)?
    } else if plan.source.is_file() {
        plan.source.clone()
    } else {
        anyhow::bail!(
            "{}: no such file or folder; give a hook crate's folder or a built library file",
            plan.source.display()
        );
    };
    let manifest = Manifest::read(&library)?;
    let dest = plan.dest.clone().unwrap_or_else(|| default_dest.to_path_buf());
    std::fs::create_dir_all(&dest).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dest.display()))?;
    let name = installed_name(&library, &manifest);
    let target = dest.join(&name);
    // Copy beside the target, check the copy, then rename over the target: a process that has
    // the old library mapped keeps it intact.
    let staged = dest.join(format!(".{name}.installing-{}", std::process::id()));
    std::fs::copy(&library, &staged)
        .map_err(|e| anyhow::anyhow!("cannot copy {} to {}: {e}", library.display(), staged.display()))?;
    let verdict = doctor::check(&staged, Duration::from_secs(120));
    let verdict = match verdict {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
    };
    if !verdict.problems.is_empty() && !plan.force {
        let _ = std::fs::remove_file(&staged);
        anyhow::bail!(
            "not installing {}: {} (install anyway with --force)",
            library.display(),
            verdict.problems.join("; ")
        );
    }
    std::fs::rename(&staged, &target)
        .map_err(|e| anyhow::anyhow!("cannot move {} to {}: {e}", staged.display(), target.display()))?;
    let sidecar = match &verdict.library {
        Some(lib) => Some(xmen_loader::manifest::write_sidecar(&target, &lib.to_info())?),
        None => None,
    };
    println!("Installed {} as {}", manifest, target.display());
    if let Some(s) = sidecar {
        println!("  with its manifest {}", s.display());
    }
    for h in &manifest.hooks {
        println!("  hook {}: {}", h.name, h.help);
    }
    for p in &verdict.problems {
        println!("  WARNING (--force): {p}");
    }
    println!(
        "Use it from defaults.yml: _hooks: [{{hook: {}, spec: \"...\"}}] (`xmen hooks info {}` for its options)",
        manifest.hooks.first().map_or("NAME", |h| h.name.as_str()),
        manifest.hooks.first().map_or("NAME", |h| h.name.as_str())
    );
    Ok(ExitCode::SUCCESS)
}

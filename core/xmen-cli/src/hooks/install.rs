//! `xmen hooks install PATH|CRATE_DIR|--first-party`: build (a crate) or take (a library),
//! check it in a child process, then install it atomically into
//! `$XMEN/hooks/<abi>`, the folder of the ABI generation the library was built for (so an
//! experiment built against an older SDK keeps finding libraries it can load).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use xmen_loader::search::abi_folder;
use xmen_loader::{library_file_name, Catalog, Compatibility, Manifest, SearchPath};

use super::doctor;

/// xmen's own hook packages (`xmen-hook-<name>`), which `--first-party` installs and whose
/// folder every `xmen` command registers.
pub const FIRST_PARTY: [&str; 7] =
    ["logger", "timer", "messenger", "probe", "tensorboard", "checkpointer", "early-stop"];

/// The first-party hook libraries in `dir`, by cargo's file names (a few `stat`s: every command
/// calls this to decide whether to register its folder).
pub fn first_party_files(dir: &Path) -> Vec<PathBuf> {
    FIRST_PARTY.iter().map(|n| dir.join(library_file_name(n))).filter(|p| p.is_file()).collect()
}

/// What to install.
#[derive(Debug)]
pub enum Source {
    /// A crate folder or a library file.
    Path(PathBuf),
    /// The first-party libraries beside this `xmen` binary.
    FirstParty,
}

/// What to install, and where.
#[derive(Debug)]
pub struct Plan {
    /// What.
    pub source: Source,
    /// The destination folder (default `$XMEN/hooks/<abi>`).
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

/// Install as planned into `hooks_root`/`<abi>` unless the plan names another folder.
pub fn run(plan: &Plan, hooks_root: &Path) -> anyhow::Result<ExitCode> {
    let source = match &plan.source {
        Source::FirstParty => return first_party(plan, hooks_root),
        Source::Path(p) => p,
    };
    let library = if source.is_dir() {
        anyhow::ensure!(
            source.join("Cargo.toml").is_file(),
            "{} is a folder without Cargo.toml; give a hook crate's folder or a built library file",
            source.display()
        );
        build_crate(source)?
    } else if source.is_file() {
        source.clone()
    } else {
        anyhow::bail!(
            "{}: no such file or folder; give a hook crate's folder or a built library file",
            source.display()
        );
    };
    let manifest = Manifest::read(&library)?;
    let dest = plan.dest.clone().unwrap_or_else(|| hooks_root.join(abi_folder(&manifest.sdk_version, manifest.abi)));
    std::fs::create_dir_all(&dest).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dest.display()))?;
    let name = installed_name(&library, &manifest);
    let target = dest.join(&name);
    refuse_conflicts(&dest, &target, &manifest, plan.force)?;
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
    println!("Installed {} as {}", manifest, target.display());
    for h in &manifest.hooks {
        println!("  hook {}: {}", h.name, h.help);
    }
    if let Some(w) = name_mismatch(&manifest) {
        println!("  WARNING: {w}");
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

/// A warning when the package's name suggests a hook name its library does not provide:
/// `xmen-hook-mylog` providing only `jsonl` is configured as `jsonl`, not `mylog`.
pub fn name_mismatch(m: &Manifest) -> Option<String> {
    let suffix = m.library.strip_prefix("xmen-hook-")?;
    if m.hook(suffix).is_some() {
        return None;
    }
    let names = m.hook_names();
    Some(format!(
        "package {} provides hook{} {}, not {suffix:?}: configuration names {} ({}), never the package",
        m.library,
        if names.len() == 1 { "" } else { "s" },
        names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "),
        if names.len() == 1 { "it" } else { "them" },
        names.iter().map(|n| format!("{{hook: {n}, spec: ...}}")).collect::<Vec<_>>().join(", ")
    ))
}

/// Refuse to put a library into `dest` where another, different file already provides one of
/// its hooks: the search would then find two libraries for one name at one level.
fn refuse_conflicts(dest: &Path, target: &Path, manifest: &Manifest, force: bool) -> anyhow::Result<()> {
    let here = Catalog::scan(&SearchPath::new(vec![dest.to_path_buf()]));
    for other in here.libraries.iter().filter(|l| l.path != target) {
        let shared: Vec<&str> =
            manifest.hook_names().into_iter().filter(|n| other.manifest.hook(n).is_some()).collect();
        if !shared.is_empty() && !force {
            anyhow::bail!(
                "{} already holds {} ({}), which provides {}; two libraries providing one hook in one folder make it \
                 ambiguous. Remove that file first (or install anyway with --force)",
                dest.display(),
                other.path.display(),
                other.manifest,
                shared.join(", ")
            );
        }
    }
    Ok(())
}

/// `--first-party`: copy xmen's own libraries from beside this binary into `$XMEN/hooks/<abi>`,
/// each with its recorded options (read by loading it in a child process).
fn first_party(plan: &Plan, hooks_root: &Path) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().map_err(|e| anyhow::anyhow!("cannot find this xmen binary: {e}"))?;
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    let files = first_party_files(&dir);
    anyhow::ensure!(
        !files.is_empty(),
        "no first-party hook libraries beside {} (looked for {}); build them with `cargo build --release --workspace` \
         in the xmen checkout, then run its xmen",
        exe.display(),
        FIRST_PARTY.map(library_file_name).join(", ")
    );
    let mut installed = 0;
    for file in files {
        let manifest = Manifest::read(&file)?;
        if let Compatibility::Incompatible(why) = manifest.compatibility() {
            println!("Skipped {}: {why}", file.display());
            continue;
        }
        let dest =
            plan.dest.clone().unwrap_or_else(|| hooks_root.join(abi_folder(&manifest.sdk_version, manifest.abi)));
        std::fs::create_dir_all(&dest).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dest.display()))?;
        let name = installed_name(&file, &manifest);
        let target = dest.join(&name);
        let staged = dest.join(format!(".{name}.installing-{}", std::process::id()));
        std::fs::copy(&file, &staged)
            .map_err(|e| anyhow::anyhow!("cannot copy {} to {}: {e}", file.display(), staged.display()))?;
        std::fs::rename(&staged, &target)
            .map_err(|e| anyhow::anyhow!("cannot move {} to {}: {e}", staged.display(), target.display()))?;
        println!("Installed {} as {}", manifest, target.display());
        installed += 1;
    }
    println!(
        "{installed} first-party hook librar{} installed; experiments built anywhere now find them.",
        if installed == 1 { "y" } else { "ies" }
    );
    Ok(if installed == 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

//! `xmen hooks doctor`: check libraries in child processes and report every problem.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use xmen_loader::{Compatibility, HookConfig, Manifest, ManifestError, SearchPath};

use super::probe::{self, Outcome};

/// What to check.
#[derive(Debug)]
pub struct Plan {
    /// Hook names or library paths (none: the whole search path).
    pub targets: Vec<String>,
    /// YAML files whose `_hooks` must resolve and construct.
    pub configs: Vec<PathBuf>,
    /// Per-library time limit.
    pub timeout: Duration,
}

/// The verdict on one library.
pub struct Verdict {
    /// What the library is, when known (`xmen-hook-logger 0.1.0 (...)`).
    pub title: String,
    /// Problems (each one clear sentence); empty when the library is fine.
    pub problems: Vec<String>,
    /// Things worth knowing that do not make the library unusable.
    pub notes: Vec<String>,
    /// The library's own description, when it could be loaded.
    pub library: Option<probe::Library>,
}

/// Check one library: its manifest here, then everything else in a child process.
pub fn check(path: &Path, timeout: Duration) -> anyhow::Result<Verdict> {
    let mut v = Verdict { title: String::new(), problems: Vec::new(), notes: Vec::new(), library: None };
    let manifest = match Manifest::read(path) {
        Ok(m) => Some(m),
        Err(ManifestError::Missing { .. }) => None,
        Err(e) => {
            v.problems.push(e.to_string());
            return Ok(v);
        }
    };
    if let Some(m) = &manifest {
        v.title = m.to_string();
        if let Compatibility::Incompatible(why) = m.compatibility() {
            // Known from the file alone: nothing needs to be loaded to say so.
            v.problems.push(format!("incompatible: {why}"));
            return Ok(v);
        }
    }
    let report = match probe::spawn(path, false, timeout)? {
        Outcome::Report(r) => r,
        Outcome::Died(how) => {
            v.problems.push(format!(
                "crashed: {how}; do not use it in a run (it would take the experiment down): report it to its authors"
            ));
            return Ok(v);
        }
    };
    if let Some(e) = report.load_error {
        v.problems.push(e);
        return Ok(v);
    }
    let Some(lib) = report.library else {
        v.problems.push("the probe process reported nothing about the library".into());
        return Ok(v);
    };
    match &manifest {
        Some(m) => {
            let diff = m.disagreements(&lib.to_info());
            if !diff.is_empty() {
                v.problems.push(format!(
                    "its manifest disagrees with its root module ({}); the file was altered or built by hand: rebuild it with `xmen::export_hooks!`",
                    diff.join("; ")
                ));
            }
        }
        None => {
            v.title = format!("{} {} (SDK {})", lib.library, lib.version, lib.sdk_version);
            v.notes.push(
                "it embeds no manifest (built with an older SDK), so `xmen hooks list` cannot describe it; rebuild it against the current xmen SDK".into(),
            );
        }
    }
    for c in &report.checks {
        let spec = if c.fallback {
            format!("spec {:?} (it declares no examples; add some in `NewHook::examples`)", c.spec)
        } else {
            format!("example spec {:?}", c.spec)
        };
        if let Some(p) = &c.problem {
            v.problems.push(format!("hook {} on {spec}: {p}", c.hook));
        }
        for w in &c.warnings {
            v.notes.push(format!("hook {} on {spec}, fired without variables: {w}", c.hook));
        }
    }
    v.library = Some(lib);
    Ok(v)
}

/// The `_hooks` entries of a defaults.yml or params.yml.
fn hooks_of(file: &Path) -> anyhow::Result<Vec<HookConfig>> {
    let text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let value = xmen_record::yaml::parse(&text, file)?;
    let list = match &value {
        xmen_core::Value::Map(m) => m.iter().find(|(k, _)| k == xmen_record::HOOKS_KEY).map(|(_, v)| v.clone()),
        _ => None,
    };
    HookConfig::list_from_value(&list.unwrap_or(xmen_core::Value::None))
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
}

/// A `_hooks` entry: its spec must parse and its library must be found.
fn check_entry(loader: &xmen_loader::Loader, origin: &Path, cfg: &HookConfig) -> Result<PathBuf, String> {
    if let Err(e) = xmen_core::spec::Spec::parse(&cfg.spec) {
        return Err(format!("{}: hook {:?}: {e}", origin.display(), cfg.hook));
    }
    match loader.resolve(&cfg.hook) {
        Err(e) => Err(format!("{}: {e}", origin.display())),
        Ok(path) if !path.is_file() => {
            Err(format!("{}: hook {:?}: no such library file {}", origin.display(), cfg.hook, path.display()))
        }
        Ok(path) => Ok(path),
    }
}

/// Run the doctor: print one block per library, exit 1 when any has a problem.
pub fn run(search: &SearchPath, plan: &Plan) -> anyhow::Result<ExitCode> {
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let loader = xmen_loader::Loader::new(search.clone());
    for t in &plan.targets {
        match loader.resolve(t) {
            Ok(p) if p.is_file() => paths.push(p),
            Ok(p) => missing.push(format!("{t}: no such library file {}", p.display())),
            Err(e) => missing.push(e.to_string()),
        }
    }
    for file in &plan.configs {
        for cfg in hooks_of(file)? {
            match check_entry(&loader, file, &cfg) {
                Ok(p) => paths.push(p),
                Err(m) => missing.push(m),
            }
        }
    }
    if plan.targets.is_empty() && plan.configs.is_empty() {
        paths = search.libraries();
    }
    let mut seen = std::collections::HashSet::new();
    paths.retain(|p| seen.insert(p.canonicalize().unwrap_or_else(|_| p.clone())));

    let mut bad = missing.len();
    let mut out = String::new();
    for m in &missing {
        out.push_str(&format!("MISSING {m}\n"));
    }
    for path in &paths {
        let v = check(path, plan.timeout)?;
        let status = if v.problems.is_empty() { "ok     " } else { "FAIL   " };
        bad += usize::from(!v.problems.is_empty());
        let title = if v.title.is_empty() { String::new() } else { format!("{}  ", v.title) };
        out.push_str(&format!("{status}{title}{}\n", path.display()));
        for p in &v.problems {
            out.push_str(&format!("  problem: {p}\n"));
        }
        for n in &v.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
        if v.problems.is_empty() {
            if let Some(lib) = &v.library {
                let names: Vec<&str> = lib.hooks.iter().map(|h| h.name.as_str()).collect();
                out.push_str(&format!(
                    "  loads, and each hook ({}) constructs on its examples and fires {} times\n",
                    names.join(", "),
                    3
                ));
            }
        }
    }
    if paths.is_empty() && missing.is_empty() {
        out.push_str("No hook libraries to check.\n");
    }
    let total = paths.len() + missing.len();
    if bad == 0 {
        out.push_str(&format!("{total} checked, all usable.\n"));
    } else {
        out.push_str(&format!(
            "{total} checked, {bad} with problems. A problem library fails a run that names it in `_hooks`; fix or remove it (or set the Monitor's `lenient` option).\n"
        ));
    }
    print!("{out}");
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

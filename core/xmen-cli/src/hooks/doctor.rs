//! `xmen hooks doctor`: check libraries in child processes and report every problem.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use xmen_core::Value;
use xmen_loader::validate::validate_hooks;
use xmen_loader::{Compatibility, Loader, Manifest, ManifestError, SearchPath};

use super::probe::{self, Outcome};

/// What to check.
#[derive(Debug)]
pub struct Plan {
    /// Hook names or library paths (none: the whole search path).
    pub targets: Vec<String>,
    /// YAML files whose `_hooks` must resolve and construct.
    pub configs: Vec<PathBuf>,
    /// `--for`: an experiment binary, a set or a run folder whose loads to answer for.
    pub for_path: Option<PathBuf>,
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

/// The `_hooks` value of a defaults.yml or params.yml (`None` when it has none).
fn hooks_value(file: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let value = xmen_record::yaml::parse(&text, file)?;
    let list = match &value {
        Value::Map(m) => m.iter().find(|(k, _)| k == xmen_record::HOOKS_KEY).map(|(_, v)| v.clone()),
        _ => None,
    };
    Ok(list.unwrap_or(Value::None))
}

/// The experiment binary a record names (`_version.path`), if it exists.
fn program_of(file: &Path) -> Option<PathBuf> {
    let rec = xmen_record::Record::load(file).ok()?;
    let Some(Value::Map(m)) = rec.version else { return None };
    let path = m.iter().find(|(k, _)| k == "path").and_then(|(_, v)| v.as_str()).map(PathBuf::from)?;
    path.is_file().then_some(path)
}

/// What `--for PATH` names: the program whose search path applies, and the record whose
/// `_hooks` the run loads.
fn target_of(path: &Path) -> anyhow::Result<(Option<PathBuf>, Option<PathBuf>)> {
    if path.is_file() {
        return Ok((Some(path.to_path_buf()), None));
    }
    anyhow::ensure!(
        path.is_dir(),
        "--for {}: no such file or folder; give an experiment binary, a set's folder or a run's folder",
        path.display()
    );
    let record = [xmen_record::RecordFile::path_in(path), path.join("defaults.yml")]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--for {}: neither a run folder (params.yml) nor a set (defaults.yml); give an experiment binary, \
                 a set's folder or a run's folder",
                path.display()
            )
        })?;
    Ok((program_of(&record), Some(record)))
}

/// Run the doctor: print one block per library, exit 1 when any has a problem.
pub fn run(loader: &Loader, plan: &Plan) -> anyhow::Result<ExitCode> {
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let mut invalid: Vec<String> = Vec::new();
    let mut out = String::new();
    let for_loader;
    let mut configs: Vec<PathBuf> = plan.configs.clone();
    let loader = match &plan.for_path {
        Some(p) => {
            let (program, record) = target_of(p)?;
            for_loader = Loader::new(SearchPath::for_program(program.as_deref()));
            match &program {
                Some(prog) => out.push_str(&format!("For {} (program {}):\n", p.display(), prog.display())),
                None => out.push_str(&format!(
                    "For {} (its program is unknown: its record names no existing `_version.path`; the search path \
                     leaves out the program's own folder):\n",
                    p.display()
                )),
            }
            configs.extend(record);
            // What each hook name would load for that program, builder names included.
            let catalog = for_loader.catalog();
            for name in catalog.names() {
                match catalog.resolve(&name) {
                    Ok(r) => {
                        let source = r.source.map(|s| s.label()).unwrap_or("path");
                        out.push_str(&format!("  {name} -> {}  [{source}]\n", r.path.display()));
                        for s in &r.shadowed {
                            out.push_str(&format!("      shadows {}\n", s.display()));
                        }
                    }
                    Err(e) => missing.push(e.to_string()),
                }
            }
            &for_loader
        }
        None => loader,
    };
    for t in &plan.targets {
        // A file is checked as it is (the doctor says why it is unusable); a name is resolved.
        if xmen_loader::resolve::is_path(t) && Path::new(t).is_file() {
            paths.push(PathBuf::from(t));
            continue;
        }
        match loader.find(t, None) {
            Ok(r) => paths.push(r.path),
            Err(e) => missing.push(e.to_string()),
        }
    }
    for file in &configs {
        let value = hooks_value(file)?;
        match validate_hooks(loader, &value, &file.display().to_string()) {
            Ok(entries) => {
                for (i, cfg) in entries.iter().enumerate() {
                    if let Ok(r) = loader.find_config(cfg) {
                        out.push_str(&format!(
                            "{}: _hooks[{i}] {} -> {}\n",
                            file.display(),
                            cfg.hook,
                            r.path.display()
                        ));
                        paths.push(r.path);
                    }
                }
            }
            Err(problems) => {
                for p in problems.problems {
                    invalid.push(format!("{}: {p}", file.display()));
                }
            }
        }
    }
    if plan.targets.is_empty() && configs.is_empty() && plan.for_path.is_none() {
        paths = loader.catalog().libraries.iter().map(|l| l.path.clone()).collect();
        // Files the search skips (damaged, another platform, no manifest) are checked too.
        paths.extend(loader.catalog().skipped.iter().map(|s| s.path.clone()));
    }
    let mut seen = std::collections::HashSet::new();
    paths.retain(|p| seen.insert(p.canonicalize().unwrap_or_else(|_| p.clone())));

    let mut bad = missing.len() + invalid.len();
    for m in &missing {
        out.push_str(&format!("MISSING {m}\n"));
    }
    for m in &invalid {
        out.push_str(&format!("INVALID {m}\n"));
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
    if paths.is_empty() && missing.is_empty() && invalid.is_empty() {
        out.push_str("No hook libraries to check.\n");
    }
    let total = paths.len() + missing.len() + invalid.len();
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

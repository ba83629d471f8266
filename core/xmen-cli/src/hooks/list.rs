//! `xmen hooks list [--all]` and `xmen hooks info NAME`: what the search path holds, read from
//! the libraries' manifests through the loader's one resolution (no library code runs).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use xmen_loader::resolve::Library;
use xmen_loader::{LoadError, Loader};

use super::{probe, title, write_options};

/// What the resolution says about one hook name: the winner, or why there is none.
enum Verdict {
    Wins(PathBuf),
    Error(String),
}

/// Every hook name on the search path and what it resolves to.
fn verdicts(loader: &Loader) -> BTreeMap<String, Verdict> {
    let catalog = loader.catalog();
    let mut out = BTreeMap::new();
    for lib in &catalog.libraries {
        for h in &lib.manifest.hooks {
            if out.contains_key(&h.name) {
                continue;
            }
            let v = match catalog.resolve(&h.name) {
                Ok(r) => Verdict::Wins(r.path),
                Err(e @ LoadError::Ambiguous { .. }) => Verdict::Error(e.to_string()),
                // Only incompatible copies: shown with the library itself.
                Err(_) => continue,
            };
            out.insert(h.name.clone(), v);
        }
    }
    out
}

fn describe_library(out: &mut String, lib: &Library, verdicts: &BTreeMap<String, Verdict>, all: bool) {
    out.push_str(&format!("{}  [{}]\n", lib.path.display(), lib.source.label()));
    out.push_str(&format!("  {}\n", title(&lib.manifest)));
    for h in &lib.manifest.hooks {
        let status = match (verdicts.get(&h.name), &lib.incompatible) {
            (_, Some(_)) => "  (not usable here)".to_owned(),
            (Some(Verdict::Wins(p)), None) if p == &lib.path => {
                if all {
                    "  (wins)".to_owned()
                } else {
                    String::new()
                }
            }
            (Some(Verdict::Wins(p)), None) => format!("  (shadowed by {})", p.display()),
            (Some(Verdict::Error(_)), None) => "  (CONFLICT: see below)".to_owned(),
            (None, None) => String::new(),
        };
        out.push_str(&format!("  - {}: {}{status}\n", h.name, h.help));
        match h.declared_options() {
            Some([]) => out.push_str("      options: none\n"),
            Some(options) => {
                out.push_str("      options:\n");
                write_options(out, options, "        ");
            }
            None => out.push_str(&format!(
                "      options: not recorded (`xmen hooks info {}` reads them in a child process)\n",
                h.name
            )),
        }
    }
}

/// `xmen hooks list`: the libraries that win for at least one hook; `--all`: every copy.
pub fn run(loader: &Loader, all: bool) -> anyhow::Result<ExitCode> {
    let catalog = loader.catalog();
    let verdicts = verdicts(loader);
    let mut out = String::new();
    if all {
        out.push_str("Search path (highest precedence first):\n");
        for (i, e) in catalog.search().entries().iter().enumerate() {
            out.push_str(&format!("  {}. {}  [{}]\n", i + 1, e.dir.display(), e.source.label()));
        }
        out.push('\n');
    }
    let winners: Vec<&PathBuf> =
        verdicts.values().filter_map(|v| if let Verdict::Wins(p) = v { Some(p) } else { None }).collect();
    let mut shown = 0;
    let mut hidden = 0;
    for lib in &catalog.libraries {
        // A build folder registered as an installation also holds the workspace's benchmark
        // and test libraries (`bench-noop`); only the first-party hooks are xmen's to offer.
        let build_only = matches!(lib.source, xmen_loader::search::Source::Registered)
            && !super::install::FIRST_PARTY
                .iter()
                .any(|n| lib.path.file_name() == Some(std::ffi::OsStr::new(&xmen_loader::library_file_name(n))));
        if build_only && !all {
            hidden += 1;
        } else if all || winners.contains(&&lib.path) || lib.incompatible.is_some() {
            describe_library(&mut out, lib, &verdicts, all);
            shown += 1;
        } else {
            hidden += 1;
        }
    }
    if all {
        for s in &catalog.skipped {
            out.push_str(&format!("{}  SKIPPED: {}\n", s.path.display(), s.reason));
        }
    }
    let conflicts: Vec<&String> =
        verdicts.values().filter_map(|v| if let Verdict::Error(e) = v { Some(e) } else { None }).collect();
    for c in &conflicts {
        out.push_str(&format!("ERROR: {c}\n"));
    }
    if shown == 0 && conflicts.is_empty() {
        out.push_str("No usable hook libraries on the search path:\n");
        for d in catalog.search().dirs() {
            out.push_str(&format!("  {}\n", d.display()));
        }
        out.push_str(
            "Install xmen's own with `xmen hooks install --first-party`, a hook crate with `xmen hooks install CRATE_DIR`.\n",
        );
    }
    let skipped = catalog.skipped.len();
    if !all && (hidden > 0 || skipped > 0) {
        out.push_str(&format!(
            "({hidden} other cop{} shadowed or not usable here, {skipped} file{} skipped; `xmen hooks list --all` shows them)\n",
            if hidden == 1 { "y" } else { "ies" },
            if skipped == 1 { "" } else { "s" }
        ));
    }
    print!("{out}");
    Ok(if conflicts.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `xmen hooks info NAME`: one hook's help, options and examples, from the library a run
/// would load.
pub fn info(loader: &Loader, name: &str) -> anyhow::Result<ExitCode> {
    let found = loader.find(name, None)?;
    let (path, manifest, hook) = (found.path, found.manifest, found.hook);
    let mut options = manifest.declared_options(&hook).map(<[_]>::to_vec);
    let mut examples = manifest.hook(&hook).and_then(|h| h.examples.clone());
    let mut note = "";
    if options.is_none() {
        // Not recorded in the manifest: ask the library itself, in a child process.
        if let probe::Outcome::Report(r) = probe::spawn(&path, true, Duration::from_secs(60))? {
            if let Some(h) = r.library.as_ref().and_then(|l| l.to_info().hooks.into_iter().find(|h| h.name == hook)) {
                options = Some(h.options);
                examples = Some(h.examples);
                note = " (read by loading the library in a child process)";
            }
        }
    }
    let mut out = format!("{hook}: {}\n", manifest.hook(&hook).map(|h| h.help.as_str()).unwrap_or_default());
    out.push_str(&format!("library: {}\npath: {}\n", title(&manifest), path.display()));
    for s in &found.shadowed {
        out.push_str(&format!("shadows: {}\n", s.display()));
    }
    match options {
        Some(o) if o.is_empty() => out.push_str(&format!("options{note}: none\n")),
        Some(o) => {
            out.push_str(&format!("options{note}:\n"));
            write_options(&mut out, &o, "  ");
        }
        None => out.push_str("options: unknown (the library could not be loaded; run `xmen hooks doctor` on it)\n"),
    }
    let examples = examples.unwrap_or_default();
    if !examples.is_empty() {
        out.push_str("examples (in defaults.yml or `xmen register -u \"{_hooks: [...]}\"`):\n  _hooks:\n");
        for e in examples {
            out.push_str(&format!("    - {{hook: {hook}, spec: {e:?}}}\n"));
        }
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

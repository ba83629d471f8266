//! `xmen hooks probe-one PATH` (hidden): the child-process half of `doctor`, `info` and
//! `install`. It loads one library, describes it, constructs each hook on its own examples and
//! fires each one a few times on a Monitor with no variables, then prints one report line,
//! `XMEN-PROBE {json}`. Whatever the library does (abort, crash, print to stdout, hang) can
//! only take this process down; the parent reads the report, or how the process ended.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use xmen_core::abi::CallFailure;
use xmen_core::hook::OptionInfo;
use xmen_core::monitor::{HookSlot, Monitor, MonitorConfig, Output};
use xmen_core::spec::Spec;
use xmen_core::Value;
use xmen_loader::{HookInfo, LibraryInfo};

/// The prefix of the report line (the library may print to stdout too).
const REPORT: &str = "XMEN-PROBE ";
/// The spec tried for a hook that declares no examples.
pub const FALLBACK_SPEC: &str = "@1s";
/// How many times each constructed hook is fired.
const FIRINGS: u64 = 3;

/// What the child found.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Report {
    /// The loader's error, when the library could not be loaded.
    pub load_error: Option<String>,
    /// The library's own description (its root module's `describe`).
    pub library: Option<Library>,
    /// One entry per hook and example.
    pub checks: Vec<Check>,
}

/// A library's description, as it crosses the process boundary.
#[derive(Debug, Serialize, Deserialize)]
pub struct Library {
    /// Crate name.
    pub library: String,
    /// Crate version.
    pub version: String,
    /// xmen-core version.
    pub sdk_version: String,
    /// The hooks.
    pub hooks: Vec<Hook>,
}

/// One hook of a [`Library`].
#[derive(Debug, Serialize, Deserialize)]
pub struct Hook {
    /// Name.
    pub name: String,
    /// One-line help.
    pub help: String,
    /// Options: (name, kind, help, default).
    pub options: Vec<(String, String, String, Option<String>)>,
    /// Example specs.
    pub examples: Vec<String>,
}

/// How constructing and firing one hook on one spec went.
#[derive(Debug, Serialize, Deserialize)]
pub struct Check {
    /// The hook.
    pub hook: String,
    /// The spec tried.
    pub spec: String,
    /// Whether the spec is [`FALLBACK_SPEC`] because the hook declares no examples.
    pub fallback: bool,
    /// `None` when all went well, else what went wrong.
    pub problem: Option<String>,
    /// Errors the hook returned when fired on an empty set of variables (not fatal: a hook
    /// may rightly refuse to run without its variables).
    pub warnings: Vec<String>,
}

impl Library {
    fn from_info(i: &LibraryInfo) -> Library {
        Library {
            library: i.library.clone(),
            version: i.version.clone(),
            sdk_version: i.sdk_version.clone(),
            hooks: i
                .hooks
                .iter()
                .map(|h| Hook {
                    name: h.name.clone(),
                    help: h.help.clone(),
                    options: h
                        .options
                        .iter()
                        .map(|o| (o.name.clone(), o.kind.clone(), o.help.clone(), o.default.clone()))
                        .collect(),
                    examples: h.examples.clone(),
                })
                .collect(),
        }
    }

    /// Back to the core's form (to compare with a manifest).
    pub fn to_info(&self) -> LibraryInfo {
        LibraryInfo {
            library: self.library.clone(),
            version: self.version.clone(),
            sdk_version: self.sdk_version.clone(),
            hooks: self
                .hooks
                .iter()
                .map(|h| HookInfo {
                    name: h.name.clone(),
                    help: h.help.clone(),
                    options: h
                        .options
                        .iter()
                        .map(|(name, kind, help, default)| OptionInfo {
                            name: name.clone(),
                            kind: kind.clone(),
                            help: help.clone(),
                            default: default.clone(),
                        })
                        .collect(),
                    examples: h.examples.clone(),
                })
                .collect(),
        }
    }
}

/// The child: probe `path` and print the report line. Exits 0 whatever it found.
pub fn run_child(path: &Path, describe_only: bool) {
    let report = probe(path, describe_only);
    let json = serde_json::to_string(&report).unwrap_or_else(|e| format!("{{\"load_error\": \"{e}\"}}"));
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "\n{REPORT}{json}");
    let _ = out.flush();
}

fn probe(path: &Path, describe_only: bool) -> Report {
    let lib = match xmen_loader::load_path(path) {
        Ok(lib) => lib,
        Err(e) => return Report { load_error: Some(e.to_string()), ..Report::default() },
    };
    let info = lib.info();
    let mut checks = Vec::new();
    if !describe_only {
        let scratch = std::env::current_dir().unwrap_or_else(|_| std::env::temp_dir());
        for h in &info.hooks {
            let fallback = h.examples.is_empty();
            let specs = if fallback { vec![FALLBACK_SPEC.to_owned()] } else { h.examples.clone() };
            for spec in specs {
                let (problem, warnings) = check(lib, h, &spec, &scratch);
                checks.push(Check { hook: h.name.clone(), spec, fallback, problem, warnings });
            }
        }
    }
    Report { load_error: None, library: Some(Library::from_info(&info)), checks }
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&bytes).lines().map(str::to_owned).collect()
    }
}

/// Construct hook `h` on `spec` and fire it [`FIRINGS`] times.
fn check(lib: xmen_loader::Library, h: &HookInfo, spec_text: &str, scratch: &Path) -> (Option<String>, Vec<String>) {
    let spec = match Spec::parse(spec_text) {
        Ok(s) => s,
        Err(e) => return (Some(format!("its example spec {spec_text:?} does not parse: {e}")), Vec::new()),
    };
    // Hooks that write files get a scratch folder (the child runs inside one).
    let mut options: Vec<(String, Value)> = Vec::new();
    if h.options.iter().any(|o| o.name == "directory") {
        options.push(("directory".into(), Value::from(scratch.to_string_lossy().into_owned())));
    }
    let hook = match lib.construct(&h.name, spec_text, &options) {
        Ok(hook) => hook,
        Err(CallFailure::Error(e)) => {
            let help = e.help.map(|h| format!("; {h}")).unwrap_or_default();
            return (Some(format!("the constructor failed: {}{help}", e.message)), Vec::new());
        }
        // The glue already words it: "the constructor panicked: ...".
        Err(CallFailure::Panic(p)) => return (Some(p), Vec::new()),
    };
    let out = Captured::default();
    let monitor = Monitor::new(MonitorConfig {
        hooks: vec![HookSlot::library(h.name.clone(), spec.clone(), hook)],
        output: Some(Output::Writer(Box::new(out.clone()))),
        directory: Some(scratch.to_path_buf()),
        ..MonitorConfig::default()
    });
    match (spec.trigger(), spec.modulo()) {
        (Some(t), Some(modulo)) => {
            for k in 1..=FIRINGS {
                let mut counters = monitor.counters();
                counters[t.index()] = k.saturating_mul(modulo).saturating_sub(1);
                monitor.set_counters(counters);
                monitor.inc(t);
            }
        }
        _ => {
            for _ in 0..FIRINGS {
                monitor.to_hooks(&[]);
            }
        }
    }
    monitor.close();
    let disabled = monitor.hook_calls().iter().any(|(_, _, _, disabled)| *disabled);
    let lines = out.lines();
    if disabled {
        let why = lines.iter().find(|l| l.contains("panicked")).cloned().unwrap_or_default();
        let calls = monitor.hook_calls().first().map_or(0, |c| c.2);
        return (Some(format!("it panicked when fired (call {calls} of {FIRINGS}): {why}")), Vec::new());
    }
    let warnings = lines.into_iter().filter(|l| l.starts_with("WARNING: hook")).collect();
    (None, warnings)
}

/// How a probe child ended.
pub enum Outcome {
    /// It printed a report.
    Report(Report),
    /// It ended without one: how (a signal, an exit status, a timeout), with its stderr's tail.
    Died(String),
}

/// Run `xmen hooks probe-one PATH` in a child process, inside a fresh scratch folder, for at
/// most `timeout`.
pub fn spawn(path: &Path, describe_only: bool, timeout: Duration) -> anyhow::Result<Outcome> {
    let exe = std::env::current_exe().map_err(|e| anyhow::anyhow!("cannot find the xmen executable to re-run: {e}"))?;
    let scratch = tempfile::Builder::new()
        .prefix("xmen-hooks-probe-")
        .tempdir()
        .map_err(|e| anyhow::anyhow!("cannot create a scratch folder for the probe: {e}"))?;
    let path: PathBuf = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut cmd = Command::new(exe);
    cmd.args(["hooks", "probe-one"]).arg(&path);
    if describe_only {
        cmd.arg("--describe-only");
    }
    let mut child = cmd
        .current_dir(scratch.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start the probe process: {e}"))?;
    // Read both pipes on threads so a chatty library cannot block on a full pipe.
    let read = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut r) = r {
                let _ = r.read_to_string(&mut s);
            }
            s
        })
    };
    let stdout = read(child.stdout.take().map(|r| Box::new(r) as Box<dyn std::io::Read + Send>));
    let stderr = read(child.stderr.take().map(|r| Box::new(r) as Box<dyn std::io::Read + Send>));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let tail = stderr_tail(&stderr);
    let Some(status) = status else {
        return Ok(Outcome::Died(format!(
            "it did not finish within {}s (hung while loading or firing){tail}",
            timeout.as_secs()
        )));
    };
    if let Some(line) = stdout.lines().rev().find_map(|l| l.strip_prefix(REPORT)) {
        if let Ok(report) = serde_json::from_str::<Report>(line) {
            return Ok(Outcome::Report(report));
        }
    }
    Ok(Outcome::Died(format!("{}{tail}", died(status))))
}

fn died(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(sig) = status.signal() {
            let name = match sig {
                4 => " (SIGILL)",
                6 => " (SIGABRT: an abort, e.g. a panic that could not unwind)",
                7 => " (SIGBUS)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV: invalid memory access)",
                _ => "",
            };
            return format!("it crashed the process that loaded it: signal {sig}{name}");
        }
    }
    format!("the process that loaded it exited with {status} without a report")
}

fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let from = lines.len().saturating_sub(3);
    format!("; its last words: {}", lines[from..].join(" | "))
}

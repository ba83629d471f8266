//! Shared helpers: the venv Python with the real `tensorboard`, and reading event
//! files back through it.
#![allow(dead_code, clippy::unwrap_used)]

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python that has `tensorboard`: `$XMEN_PYTHON`, else the venv of
/// `scripts/python-env.sh`. Under `CI=true` a missing one fails the test; otherwise
/// the test prints a skip note and returns `None`.
pub fn python() -> Option<&'static Path> {
    static PY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = PY.get_or_init(|| {
        let py = match std::env::var_os("XMEN_PYTHON") {
            Some(p) => PathBuf::from(p),
            None => {
                let out = Command::new("bash")
                    .arg(workspace().join("scripts/python-env.sh"))
                    .output()
                    .map_err(|e| format!("running scripts/python-env.sh: {e}"))?;
                if !out.status.success() {
                    return Err(format!(
                        "scripts/python-env.sh failed: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ));
                }
                PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().lines().last().unwrap_or(""))
            }
        };
        let ok = Command::new(&py)
            .args(["-c", "import tensorboard, numpy, PIL"])
            .status()
            .map_err(|e| format!("running {}: {e}", py.display()))?;
        if ok.success() {
            Ok(py)
        } else {
            Err(format!("{} cannot import tensorboard; run `bash scripts/python-env.sh`", py.display()))
        }
    });
    match found {
        Ok(p) => Some(p),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("CI=true and no TensorBoard python: {e}"),
        Err(e) => {
            eprintln!("SKIPPED: reading back with the real TensorBoard: {e}");
            None
        }
    }
}

/// What the real TensorBoard reads from `logdir` (see `read_events.py`).
pub fn read(py: &Path, logdir: &Path, run_root: Option<&Path>, pr_reference: Option<&Json>) -> Json {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/read_events.py");
    let mut cmd = Command::new(py);
    cmd.arg(script).arg(logdir);
    cmd.arg(run_root.map(|r| r.as_os_str().to_owned()).unwrap_or_default());
    if let Some(r) = pr_reference {
        cmd.arg(r.to_string());
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "read_events.py failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A `Write` that keeps what the Monitor printed.
#[derive(Clone, Default)]
pub struct Captured(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Everything printed so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

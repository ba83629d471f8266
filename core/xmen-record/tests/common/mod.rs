//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The Python made by the project's setup script (env `XMEN_PYTHON`), if it can import
/// ruamel.yaml. Without one, the test must not pass silently in CI: `CI=true` makes this panic;
/// elsewhere a skip note is printed and `None` returned.
pub fn python_with_ruamel() -> Option<PathBuf> {
    let found = std::env::var_os("XMEN_PYTHON")
        .map(PathBuf::from)
        .filter(|py| Command::new(py).args(["-c", "import ruamel.yaml"]).output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        let why = "XMEN_PYTHON is unset or its Python cannot import ruamel.yaml";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{why}; CI must provide it (run the project's Python setup script)");
        }
        eprintln!("SKIPPED: {why}; set XMEN_PYTHON to a Python with ruamel.yaml to run this test");
    }
    found
}

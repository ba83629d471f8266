//! `xmen._xmen`, the extension module of the `xmen` Python package: the Monitor over the Rust
//! Monitor and the hook libraries, records and runs through the record crate and the SDK's
//! runner, and the `xmen` command line itself (the package's console script).
//!
//! Key design choice: the Python layer (`python/xmen/*.py`) keeps the original's API — class
//! attributes with `# @p` comments, `functional_experiment`, `Monitor(log=..., ...)` — and
//! decides nothing about files or hooks; every file is written here by the Rust crates, so a
//! Python run's record is the same bytes a Rust run writes, and hook names resolve through
//! the one loader function.

mod convert;
mod monitor;
mod record;
mod state;

use std::path::PathBuf;
use std::process::ExitCode;

use pyo3::prelude::*;

/// Run the `xmen` command line with `argv` (the first is the program name); returns the
/// exit status.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<String>) -> u8 {
    let code = py.allow_threads(|| xmen_cli::main_with_args(argv));
    (0..=u8::MAX).find(|&n| ExitCode::from(n) == code).unwrap_or(1)
}

/// Make `hooks_dir` (the wheel's first-party hook libraries) an installation of this ABI
/// generation, as every `xmen` command does for the folder beside its binary (README "Where
/// hooks are found", level 4): experiments and `xmen hooks list` find them with no variable.
#[pyfunction]
fn register_hooks_dir(hooks_dir: PathBuf) -> PyResult<bool> {
    let home = xmen_loader::search::xmen_home();
    xmen_loader::search::register_installation(&home, &hooks_dir)
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("registering {}: {e}", hooks_dir.display())))
}

/// The hook ABI generation folder name (`sdk-0.1-abi-0.11`).
#[pyfunction]
fn abi_folder() -> String {
    xmen_loader::search::host_abi_folder()
}

#[pymodule]
fn _xmen(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(register_hooks_dir, m)?)?;
    m.add_function(wrap_pyfunction!(abi_folder, m)?)?;
    m.add_class::<monitor::PyMonitor>()?;
    m.add_class::<monitor::PyLoop>()?;
    m.add_class::<record::PyRoot>()?;
    m.add_function(wrap_pyfunction!(record::version, m)?)?;
    m.add_function(wrap_pyfunction!(record::to_root, m)?)?;
    m.add_function(wrap_pyfunction!(record::register_record, m)?)?;
    m.add_function(wrap_pyfunction!(record::load_record, m)?)?;
    m.add_function(wrap_pyfunction!(record::check_params, m)?)?;
    m.add_function(wrap_pyfunction!(record::apply_update, m)?)?;
    m.add_function(wrap_pyfunction!(record::parse_yaml, m)?)?;
    m.add_function(wrap_pyfunction!(record::help_line, m)?)?;
    m.add_function(wrap_pyfunction!(record::py_str, m)?)?;
    m.add_function(wrap_pyfunction!(record::run, m)?)?;
    m.add_function(wrap_pyfunction!(record::flush_messages, m)?)?;
    m.add_function(wrap_pyfunction!(record::status_can_run, m)?)?;
    Ok(())
}

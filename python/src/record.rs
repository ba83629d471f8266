//! Records and runs for Python experiments: every file is written by the record crate and
//! every run goes through the SDK's runner (`xmen::experiment::run_body`), so a Python run's
//! params.yml is byte-compatible with a Rust run's and its lifecycle (signals, `_hooks`,
//! `out.txt`, `_hooks_cost`) is the same code.

use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use xmen::experiment::run_body;
use xmen::{Keep, Root};
use xmen_core::Value;
use xmen_record::{
    locked_write, register, write_script, GlobalConfig, Param, Record, RecordError, RecordFile, RegisterOpts, Status,
    WriteOpts,
};

use crate::convert::{dict_to_pairs, to_py, to_value};

fn err(e: impl std::fmt::Display) -> PyErr {
    PyRuntimeError::new_err(e.to_string())
}

fn keep_of(keep: &str) -> PyResult<Keep> {
    match keep {
        "latest" => Ok(Keep::Latest),
        "min" => Ok(Keep::Min),
        "max" => Ok(Keep::Max),
        other => Err(PyValueError::new_err(format!("keep = {other:?}: use 'latest', 'min' or 'max'"))),
    }
}

/// An experiment's folder and record (the Rust `xmen::Root`).
#[pyclass(name = "Root", module = "xmen._xmen", frozen)]
pub struct PyRoot {
    pub root: Root,
}

#[pymethods]
impl PyRoot {
    /// The root of the experiment registered in `directory`.
    #[staticmethod]
    fn open(name: &str, directory: PathBuf) -> PyResult<PyRoot> {
        Ok(PyRoot { root: Root::open(name, directory).map_err(err)? })
    }

    /// A detached root: a scratch folder, nothing persisted.
    #[staticmethod]
    fn detached(name: &str) -> PyResult<PyRoot> {
        Ok(PyRoot { root: Root::detached(name).map_err(err)? })
    }

    #[getter]
    fn directory(&self) -> String {
        self.root.directory().display().to_string()
    }

    #[getter]
    fn is_detached(&self) -> bool {
        self.root.is_detached()
    }

    /// Leave messages (docs/file-formats.md#_messages). They go to the record's writer thread, which writes them at
    /// once (`Root::post_messages`): the caller does not wait for the locked write of
    /// params.yml (about 200 µs on ext4, most of it the kernel's writeback of the replaced
    /// file), and what reaches the disk is what writing each at once leaves. `flush` (or
    /// reading the record, or the run's end, or the interpreter's exit) waits for them.
    #[pyo3(signature = (messages, keep = "latest", leader = None))]
    fn message(&self, messages: &Bound<'_, PyDict>, keep: &str, leader: Option<&str>) -> PyResult<()> {
        let pairs = dict_to_pairs(messages)?;
        if let Some(l) = leader {
            if !pairs.iter().any(|(k, _)| k == l) {
                return Err(PyValueError::new_err(format!("leader {l:?} is not one of the messages' keys")));
            }
        }
        self.root.post_messages(pairs, keep_of(keep)?, leader).map_err(err)
    }

    /// Wait until every message left so far is in params.yml (raises if a write failed).
    fn flush(&self) -> PyResult<()> {
        self.root.flush().map_err(err)
    }

    /// Add a note, or remove the first equal one; returns whether the record changed.
    #[pyo3(signature = (text, remove = false))]
    fn note(&self, text: &str, remove: bool) -> PyResult<bool> {
        if remove {
            self.root.remove_note(text).map_err(err)
        } else {
            self.root.note(text).map_err(err).map(|()| true)
        }
    }

    /// The record as a dict: parameters by name, then the specials (`_status`, ...).
    fn record<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        record_dict(py, &self.root.record().map_err(err)?)
    }
}

fn record_dict<'py>(py: Python<'py>, rec: &Record) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for p in &rec.params {
        d.set_item(&p.name, to_py(py, (&p.value).into())?)?;
    }
    for name in xmen_record::record::special_names() {
        if let Some(v) = rec.special(name) {
            d.set_item(name, to_py(py, (&v).into())?)?;
        }
    }
    if let Some(h) = &rec.hooks {
        d.set_item(xmen_record::HOOKS_KEY, to_py(py, h.into())?)?;
    }
    Ok(d)
}

/// Parameters from Python: `(name, value, help line)`.
fn params_of(params: &Bound<'_, PyList>) -> PyResult<Vec<Param>> {
    params
        .iter()
        .map(|t| {
            let (name, value, help): (String, Bound<'_, PyAny>, String) = t.extract()?;
            Ok(Param { name, value: to_value(&value)?, help })
        })
        .collect()
}

fn record_of(params: &Bound<'_, PyList>, hooks: Option<&Bound<'_, PyAny>>) -> PyResult<Record> {
    let mut rec = Record::new(params_of(params)?);
    if let Some(h) = hooks.filter(|h| !h.is_none()) {
        rec.hooks = Some(to_value(h)?);
    }
    Ok(rec)
}

/// `_version` of a Python experiment (docs/file-formats.md#_version): module, class (or
/// function), the source file, and the git state of its folder.
#[pyfunction]
#[pyo3(signature = (module, name, path, function = false))]
pub fn version<'py>(
    py: Python<'py>,
    module: &str,
    name: &str,
    path: PathBuf,
    function: bool,
) -> PyResult<Bound<'py, PyAny>> {
    to_py(py, (&version_value(module, name, &path, function)).into())
}

fn version_value(module: &str, name: &str, path: &Path, function: bool) -> Value {
    let mut m = vec![
        ("module".to_owned(), Value::from(module)),
        ((if function { "function" } else { "class" }).to_owned(), Value::from(name)),
        ("path".to_owned(), Value::Str(path.display().to_string())),
    ];
    if let Some(git) = path.parent().and_then(xmen_record::version::git_info) {
        m.push(("git".to_owned(), git.to_value()));
    }
    Value::Map(m)
}

/// `-r PATH`: defaults.yml (parameters, user, host, basic meta, version, `_hooks`) and a
/// script.sh that execs `program --execute "$1"`.
///
/// `program` is the experiment script; when it is not executable, `interpreter` runs it. Without
/// a program only defaults.yml is written (`to_defaults`).
#[pyfunction]
#[pyo3(signature = (path, params, version, program = None, interpreter = None, hooks = None))]
pub fn to_root(
    path: PathBuf,
    params: &Bound<'_, PyList>,
    version: &Bound<'_, PyAny>,
    program: Option<PathBuf>,
    interpreter: Option<PathBuf>,
    hooks: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let cfg = GlobalConfig::load(&xmen_record::config_dir()).map_err(err)?;
    std::fs::create_dir_all(&path).map_err(|e| err(RecordError::io("create the folder", &path, e)))?;
    let mut defaults = record_of(params, hooks)?;
    defaults.user = Some(cfg.local_user.clone());
    defaults.host = Some(cfg.local_host.clone());
    defaults.version = Some(to_value(version)?);
    defaults.meta = Some(xmen_record::meta::basic());
    let text = defaults.to_defaults_yaml().map_err(err)?;
    locked_write(&path.join("defaults.yml"), text.as_bytes(), WriteOpts::default(), None).map_err(err)?;
    let Some(program) = program else { return Ok(()) };
    let program = std::path::absolute(&program).unwrap_or(program);
    let text = match interpreter {
        None => xmen_record::shell::experiment_script(&program),
        Some(python) => format!(
            "#!/bin/bash\nexec {} {} --execute \"$1\"\n",
            xmen_record::shell::quote(&python.display().to_string()),
            xmen_record::shell::quote(&program.display().to_string())
        ),
    };
    write_script(&path.join("script.sh"), &text, WriteOpts::default()).map_err(err)?;
    Ok(())
}

/// Register the experiment in `directory` (suffixed `_0`, `_1`, ... when taken, unless
/// `restart`); returns the folder.
#[pyfunction]
#[pyo3(signature = (directory, params, version, purpose = String::new(), restart = false, link = true, hooks = None, force = true, same_names = 100))]
#[allow(clippy::too_many_arguments)]
pub fn register_record(
    directory: PathBuf,
    params: &Bound<'_, PyList>,
    version: &Bound<'_, PyAny>,
    purpose: String,
    restart: bool,
    link: bool,
    hooks: Option<&Bound<'_, PyAny>>,
    force: bool,
    same_names: usize,
) -> PyResult<String> {
    let mut rec = record_of(params, hooks)?;
    rec.version = Some(to_value(version)?);
    let opts = RegisterOpts {
        purpose,
        restart,
        link,
        force,
        same_names,
        config_dir: Some(xmen_record::config_dir()),
        ..RegisterOpts::default()
    };
    let done = register(&directory, rec, &opts).map_err(err)?;
    Ok(done.root.display().to_string())
}

/// Read a params.yml or defaults.yml: a dict of parameters and specials.
#[pyfunction]
pub fn load_record<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    record_dict(py, &RecordFile::load(&path).map_err(err)?)
}

/// Check a params.yml against the declared parameters before it runs (an empty or cut file is
/// refused, naming the keys); returns its parameter values and whether it may run.
#[pyfunction]
pub fn check_params<'py>(
    py: Python<'py>,
    path: PathBuf,
    declared: &Bound<'py, PyList>,
    by: &str,
    restart: bool,
) -> PyResult<(Bound<'py, PyList>, String, bool)> {
    let rec = RecordFile::load(&path).map_err(err)?;
    let declared = params_of(declared)?;
    let checked = xmen_record::validate::check(&rec, &path, &declared, by, true).map_err(err)?;
    for w in checked.warnings {
        eprintln!("WARNING: {w}");
    }
    let values = PyList::empty(py);
    for p in &rec.params {
        values.append((p.name.as_str(), to_py(py, (&p.value).into())?))?;
    }
    Ok((values, rec.status.to_string(), rec.status.can_run(restart)))
}

/// Apply overrides with the record's rules (unknown names and specials refused, values cast to
/// the default's kind and checked against a declared Rust type); returns the new values of the
/// overridden names and the `_hooks` given, if any.
#[pyfunction]
pub fn apply_update<'py>(
    py: Python<'py>,
    params: &Bound<'py, PyList>,
    overrides: &Bound<'py, PyDict>,
    origin: &str,
) -> PyResult<(Bound<'py, PyList>, Option<Bound<'py, PyAny>>)> {
    let mut rec = Record::new(params_of(params)?);
    let pairs = dict_to_pairs(overrides)?;
    rec.update(&pairs).map_err(|e| PyValueError::new_err(format!("{origin}: {e}")))?;
    let out = PyList::empty(py);
    for (name, _) in &pairs {
        if let Some(v) = rec.get(name) {
            out.append((name.as_str(), to_py(py, v.into())?))?;
        }
    }
    let hooks = match &rec.hooks {
        Some(h) => Some(to_py(py, h.into())?),
        None => None,
    };
    Ok((out, hooks))
}

/// Parse YAML with the record crate's reader (the one YAML reader).
#[pyfunction]
pub fn parse_yaml<'py>(py: Python<'py>, text: &str, origin: &str) -> PyResult<Bound<'py, PyAny>> {
    let v = xmen_record::yaml::parse(text, Path::new(origin)).map_err(|e| PyValueError::new_err(e.to_string()))?;
    to_py(py, (&v).into())
}

/// The help line of a parameter: `{name}[: {type}][={default}][ ~ {help}]`.
#[pyfunction]
#[pyo3(signature = (name, ty = None, default = None, help = None))]
pub fn help_line(name: &str, ty: Option<&str>, default: Option<&str>, help: Option<&str>) -> String {
    xmen_record::help_line(name, ty, default, help)
}

/// Python's `str()` and `repr()` of a value as xmen renders them (folder names, logs).
#[pyfunction]
pub fn py_str(v: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(xmen_core::pyfmt::str_of(&to_value(v)?))
}

/// Run `body(root)` with the SDK's runner: `running`, signals, `_hooks`, `out.txt`, then
/// `finished`/`error`/`stopped`/`timeout`. A Python exception is recorded as `error` with its
/// text and raised again; returns the exit code.
#[pyfunction]
#[pyo3(signature = (root, body, restart = false, txt = None))]
pub fn run(
    py: Python<'_>,
    root: &Bound<'_, PyRoot>,
    body: Bound<'_, PyAny>,
    restart: bool,
    txt: Option<bool>,
) -> PyResult<u8> {
    let r = root.get().root.clone();
    let mut raised: Option<PyErr> = None;
    let code = run_body(&r, restart, txt, |_| match body.call1((root,)) {
        Ok(_) => Ok(()),
        Err(e) => {
            let text = e.value(py).str().map(|s| s.to_string()).unwrap_or_default();
            let kind = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "Exception".into());
            let msg = if text.is_empty() { kind } else { format!("{kind}: {text}") };
            raised = Some(e);
            Err(msg.into())
        }
    })
    .map_err(err)?;
    match raised {
        // An interrupt raised by the signal's stop (KeyboardInterrupt) ends the run quietly:
        // its status is already recorded.
        Some(e) if code < 128 => Err(e),
        _ => Ok(code),
    }
}

/// Write the pending messages of every live record of the process (registered with `atexit`,
/// so messages left just before the interpreter exits are on disk); reports every failure.
#[pyfunction]
pub fn flush_messages() -> PyResult<()> {
    use xmen_core::monitor::Experiments as _;
    xmen::LiveRoots.flush().map_err(PyRuntimeError::new_err)
}

/// Status names, for checks on the Python side.
#[pyfunction]
pub fn status_can_run(status: &str, restart: bool) -> PyResult<bool> {
    let s: Status = status.parse().map_err(|e: RecordError| PyValueError::new_err(e.to_string()))?;
    Ok(s.can_run(restart))
}

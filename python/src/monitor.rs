//! The Monitor for Python over the Rust Monitor and the same hook libraries, loaded
//! by the same loader (so `_hooks` of a run's record work exactly as for a Rust experiment).
//!
//! Variables are captured as the original captures them, from the locals of the frame running
//! the loop, and only when a hook is about to fire: the core's [`LoopCursor`] calls
//! back just before firing, and a step where nothing fires never touches the frame. Only the
//! locals whose names some hook's regex matches are converted.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList, PyTuple};
use xmen::{Firing, Hook, HookError, HookResult, Outcome, Spec, Trigger, Value, ValueRef};
use xmen_core::monitor::LoopCursor;

use crate::convert::{to_py, to_value};

/// A Python callable as a value transform (`log_fn`, `sca_fn`, ...): `f(value)`.
fn transform(f: Py<PyAny>) -> impl Fn(&str, ValueRef<'_>) -> Value + Send + Sync + 'static {
    move |_name, v| {
        Python::with_gil(|py| {
            let out = to_py(py, v).and_then(|o| f.call1(py, (o,))).and_then(|r| to_value(r.bind(py)));
            out.unwrap_or_else(|e| Value::Str(format!("<error in transform: {e}>")))
        })
    }
}

/// A Python hook object (`hooks=[...]`): `obj.call(var_dict, monitor)` (or `obj(var_dict,
/// monitor)`), as in the original. An exception is the hook's error: reported, then handled as any
/// hook error is.
struct PyHook {
    obj: Py<PyAny>,
    monitor: Arc<Mutex<Option<Py<PyAny>>>>,
}

impl Hook for PyHook {
    fn call(&mut self, f: &Firing<'_>) -> HookResult {
        Python::with_gil(|py| {
            let run = || -> PyResult<()> {
                let vars = PyDict::new(py);
                for (k, v) in f.vars() {
                    vars.set_item(k, to_py(py, v)?)?;
                }
                let monitor = match &*self.monitor.lock().unwrap_or_else(PoisonError::into_inner) {
                    // A weak reference: hooks do not keep their Monitor alive.
                    Some(w) => w.call0(py)?,
                    None => py.None(),
                };
                let o = self.obj.bind(py);
                if o.hasattr("call")? {
                    o.call_method1("call", (vars, monitor))?;
                } else {
                    o.call1((vars, monitor))?;
                }
                Ok(())
            };
            run().map(|()| Outcome::Continue).map_err(|e| {
                let tb = e.traceback(py).and_then(|t| t.format().ok()).unwrap_or_default();
                HookError::new(format!("{tb}{e}"))
            })
        })
    }
}

fn strings(v: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    match v {
        None => Ok(Vec::new()),
        Some(o) if o.is_none() => Ok(Vec::new()),
        Some(o) => match o.extract::<String>() {
            Ok(s) => Ok(vec![s]),
            Err(_) => o.extract::<Vec<String>>(),
        },
    }
}

fn items<'py>(v: Option<&Bound<'py, PyAny>>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    match v {
        None => Ok(Vec::new()),
        Some(o) if o.is_none() => Ok(Vec::new()),
        Some(o) if o.is_instance_of::<PyList>() || o.is_instance_of::<PyTuple>() => o.try_iter()?.collect(),
        Some(o) => Ok(vec![o.clone()]),
    }
}

/// The Monitor (`xmen.monitor.Monitor` subclasses it).
#[pyclass(name = "_Monitor", module = "xmen._xmen", unsendable, subclass)]
pub struct PyMonitor {
    s: Rc<Shared>,
    /// Where Python hooks find their Monitor (a weak reference, set by `_bind`).
    weak_self: Arc<Mutex<Option<Py<PyAny>>>>,
}

/// What the Monitor object and its loops share: a loop holds it directly, so a step borrows
/// no Python object but the loop itself.
struct Shared {
    m: xmen::Monitor,
    /// Every hook's spec, for choosing which locals to convert.
    specs: Vec<Spec>,
    /// Per local name: whether some hook wants it (decided once per name).
    wanted: RefCell<HashMap<String, bool>>,
    getframe: Py<PyAny>,
}

impl Shared {
    fn wants(&self, name: &str) -> bool {
        if let Some(w) = self.wanted.borrow().get(name) {
            return *w;
        }
        let w = self.specs.iter().any(|s| s.regex().is_none_or(|_| s.matches(name)));
        self.wanted.borrow_mut().insert(name.to_owned(), w);
        w
    }

    /// Publish the wanted locals of the frame running Python code now (the loop's, or the
    /// caller of `inc`).
    fn capture(&self, py: Python<'_>) -> PyResult<()> {
        let frame = self.getframe.call1(py, (0,))?;
        let locals = frame.bind(py).getattr(pyo3::intern!(py, "f_locals"))?;
        for kv in locals.call_method0(pyo3::intern!(py, "items"))?.try_iter()? {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = kv?.extract()?;
            let Ok(k) = k.downcast::<pyo3::types::PyString>() else { continue };
            let k = k.to_cow()?;
            if self.wants(&k) {
                self.m.set(&k, to_value(&v)?);
            }
        }
        Ok(())
    }
}

fn trigger(name: &str) -> PyResult<Trigger> {
    name.parse::<Trigger>().map_err(|_| {
        PyValueError::new_err(format!(
            "{name} is not in ['step', 'epoch', 'era', 'eon', 'supereon'] (or s, e, er, eo, se)"
        ))
    })
}

#[pymethods]
impl PyMonitor {
    /// Build from keyword arguments (see `xmen.monitor.Monitor`).
    #[new]
    #[pyo3(signature = (**kw))]
    fn new(py: Python<'_>, kw: Option<&Bound<'_, PyDict>>) -> PyResult<PyMonitor> {
        let empty = PyDict::new(py);
        let kw = kw.unwrap_or(&empty);
        let get = |k: &str| kw.get_item(k).ok().flatten();
        let mut b = xmen::Monitor::builder();
        for s in strings(get("log").as_ref())? {
            b = b.log(&s);
        }
        for f in items(get("log_fn").as_ref())? {
            b = b.log_fn(transform(f.unbind()));
        }
        for f in strings(get("log_format").as_ref())? {
            b = b.log_format(&f);
        }
        for s in strings(get("time").as_ref())? {
            b = b.time(&s);
        }
        for s in strings(get("msg").as_ref())? {
            b = b.msg(&s);
        }
        for k in strings(get("msg_keep").as_ref())? {
            b = b.msg_keep(&k);
        }
        for l in strings(get("msg_leader").as_ref())? {
            b = b.msg_leader(&l);
        }
        for e in items(get("msg_expand").as_ref())? {
            b = b.msg_expand(e.is_truthy()?);
        }
        for p in items(get("msg_prep").as_ref())? {
            b = b.msg_prep(!p.is_none() && p.is_truthy()?);
        }
        for s in strings(get("probe").as_ref())? {
            b = b.probe(&s);
        }
        if let Some(l) = strings(get("limit").as_ref())?.first() {
            b = b.limit(l);
        }
        macro_rules! tb {
            ($spec:ident, $f:ident, $pref:ident, $prep:ident) => {
                for s in strings(get(stringify!($spec)).as_ref())? {
                    b = b.$spec(&s);
                }
                for f in items(get(stringify!($f)).as_ref())? {
                    b = b.$f(transform(f.unbind()));
                }
                for p in strings(get(stringify!($pref)).as_ref())? {
                    b = b.$pref(&p);
                }
                for p in items(get(stringify!($prep)).as_ref())? {
                    b = b.$prep(p.is_truthy()?);
                }
            };
        }
        tb!(sca, sca_fn, sca_pref, sca_prep);
        tb!(img, img_fn, img_pref, img_prep);
        tb!(hist, hist_fn, hist_pref, hist_prep);
        tb!(fig, fig_fn, fig_pref, fig_prep);
        tb!(txt, txt_fn, txt_pref, txt_prep);
        tb!(vid, vid_fn, vid_pref, vid_prep);
        if let Some(o) = get("img_options").filter(|o| !o.is_none()) {
            if let Ok(d) = o.downcast::<PyDict>() {
                b = b.img_options(crate::convert::dict_to_pairs(d)?);
            }
        }
        for s in strings(get("ckpt").as_ref())? {
            b = b.ckpt(&s);
        }
        for k in items(get("ckpt_keep").as_ref())? {
            b = b.ckpt_keep(if k.is_none() { None } else { Some(k.extract::<usize>()?) });
        }
        if let Some(d) = get("directory").filter(|d| !d.is_none()) {
            b = b.directory(d.str()?.to_string());
        }
        if let Some(l) = get("lenient") {
            b = b.lenient(l.is_truthy()?);
        }
        if let Some(r) = get("record_hooks") {
            b = b.record_hooks(r.is_truthy()?);
        }
        let weak_self = Arc::new(Mutex::new(None));
        for h in items(get("hooks").as_ref())? {
            let spec: String = h.getattr("spec").and_then(|s| s.str().map(|s| s.to_string())).map_err(|_| {
                PyValueError::new_err(format!(
                    "hook {} has no `spec` attribute (e.g. 'loss@10s')",
                    h.repr().map(|r| r.to_string()).unwrap_or_default()
                ))
            })?;
            b = b.hook_at(&spec, PyHook { obj: h.unbind(), monitor: Arc::clone(&weak_self) });
        }
        let m = b.build().map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        let specs = m.hook_calls().iter().filter_map(|(_, spec, _, _)| Spec::parse(spec).ok()).collect();
        let getframe = py.import("sys")?.getattr("_getframe")?.unbind();
        let s = Shared { m, specs, wanted: RefCell::new(HashMap::new()), getframe };
        Ok(PyMonitor { s: Rc::new(s), weak_self })
    }

    /// Give Python hooks their Monitor (a weak reference to the Python object).
    fn _bind(&self, weak: Py<PyAny>) {
        *self.weak_self.lock().unwrap_or_else(PoisonError::into_inner) = Some(weak);
    }

    /// Wrap an iterable: `for x in m(data): ...`.
    #[pyo3(signature = (iterable, length = None))]
    fn __call__(slf: &Bound<'_, Self>, iterable: &Bound<'_, PyAny>, length: Option<u64>) -> PyResult<PyLoop> {
        let len = length.or_else(|| iterable.len().ok().map(|n| n as u64));
        let it = iterable.try_iter()?;
        let s = Rc::clone(&slf.borrow().s);
        let cursor = LoopCursor::open(&s.m, len);
        Ok(PyLoop { s, it: it.unbind(), cursor })
    }

    /// Increase a counter by hand and fire its hooks with the caller's locals.
    fn inc(&self, py: Python<'_>, trigger_name: &str) -> PyResult<()> {
        let t = trigger(trigger_name)?;
        if self.s.m.fires_next(t) {
            self.s.capture(py)?;
        }
        self.s.m.inc(t);
        Ok(())
    }

    /// Pass keyword arguments to the manual hooks (specs without `@`).
    #[pyo3(signature = (**kw))]
    fn to_hooks(&self, kw: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        let pairs = match kw {
            Some(d) => crate::convert::dict_to_pairs(d)?,
            None => Vec::new(),
        };
        let refs: Vec<(&str, Value)> = pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        self.s.m.to_hooks(&refs);
        Ok(())
    }

    /// Print `[{last} {levels}]: {format(x)}` (the format applies to the raw value).
    #[pyo3(signature = (x, format = "", process_func = None))]
    fn log(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        format: &str,
        process_func: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let x = match process_func {
            Some(f) if !f.is_none() => f.call1((x,))?,
            _ => x.clone(),
        };
        let _ = py;
        self.s.m.log_value(&to_value(&x)?, format).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// The ordered summary: `last`, the level entries, `wall`, `end`, and with `verbose` the
    /// step and load times.
    #[pyo3(signature = (verbose = false))]
    fn summary<'py>(&self, py: Python<'py>, verbose: bool) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.s.m.summary(verbose) {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// Stop: loops end at their next item; logs `msg`.
    #[pyo3(signature = (msg = "---- Stopped ----"))]
    fn stop(&self, msg: &str) {
        self.s.m.stop(msg);
    }

    /// Publish a variable by hand (persists until overwritten).
    fn set(&self, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.s.m.set(name, to_value(value)?);
        Ok(())
    }

    #[getter]
    fn step(&self) -> u64 {
        self.s.m.step()
    }
    #[getter]
    fn epoch(&self) -> u64 {
        self.s.m.epoch()
    }
    #[getter]
    fn era(&self) -> u64 {
        self.s.m.era()
    }
    #[getter]
    fn eon(&self) -> u64 {
        self.s.m.eon()
    }
    #[getter]
    fn supereon(&self) -> u64 {
        self.s.m.supereon()
    }
    /// The counters by name.
    #[getter]
    fn triggers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for t in Trigger::ALL {
            d.set_item(t.name(), self.s.m.counter(t))?;
        }
        Ok(d)
    }
    /// Restore counters (step, epoch, era, eon, supereon).
    fn set_counters(&self, counters: [u64; 5]) {
        self.s.m.set_counters(counters);
    }
    /// `counter % modulo == 0` (and `counter > 0` with `exclude_1st`).
    #[pyo3(signature = (trigger_name, modulo, exclude_1st = false))]
    fn modulo(&self, trigger_name: &str, modulo: u64, exclude_1st: bool) -> PyResult<bool> {
        Ok(self.s.m.modulo(trigger(trigger_name)?, modulo, exclude_1st))
    }
    #[getter]
    fn stopped(&self) -> bool {
        self.s.m.is_stopped()
    }
    #[getter]
    fn directory(&self) -> Option<String> {
        self.s.m.directory().map(|d| d.display().to_string())
    }
    /// `(name, spec, calls, disabled)` per hook, in firing order.
    fn hook_calls(&self) -> Vec<(String, String, u64, bool)> {
        self.s.m.hook_calls()
    }
    /// Checkpoint objects now (their state dicts, or maps of arrays) into
    /// `{directory}/checkpoints/{name}/{step}.safetensors`, keeping every file.
    #[pyo3(signature = (**objs))]
    fn checkpoint(&self, objs: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<String>> {
        let pairs = match objs {
            Some(d) => crate::convert::dict_to_pairs(d)?,
            None => Vec::new(),
        };
        let paths = self.s.m.checkpoint(pairs).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(paths.iter().map(|p| p.display().to_string()).collect())
    }

    /// Restore objects from their newest checkpoints (or those of `step`) in `directory`
    /// (default `{monitor directory}/checkpoints`), and with `update_triggers` the counters;
    /// returns `(names loaded, counters)`.
    #[pyo3(signature = (directory = None, step = None, attempt = true, update_triggers = true, **objs))]
    fn load<'py>(
        &self,
        py: Python<'py>,
        directory: Option<std::path::PathBuf>,
        step: Option<u64>,
        attempt: bool,
        update_triggers: bool,
        objs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<(Vec<String>, Bound<'py, PyDict>)> {
        let pairs = match objs {
            Some(d) => crate::convert::dict_to_pairs(d)?,
            None => Vec::new(),
        };
        let opts = xmen::checkpoint::LoadOptions { directory, step, attempt, update_counters: update_triggers };
        let loaded = self.s.m.load_with(&opts, pairs).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        let counters = PyDict::new(py);
        if let Some(c) = loaded.counters {
            for (t, n) in Trigger::ALL.iter().zip(c) {
                counters.set_item(t.name(), n)?;
            }
        }
        Ok((loaded.objects.iter().map(|o| o.name.clone()).collect(), counters))
    }

    /// Close every hook (flush files); safe to call twice.
    fn close(&self) {
        self.s.m.close();
    }
}

/// A wrapped loop (`m(iterable)`).
#[pyclass(module = "xmen._xmen", unsendable)]
pub struct PyLoop {
    s: Rc<Shared>,
    it: Py<PyIterator>,
    cursor: LoopCursor,
}

#[pymethods]
impl PyLoop {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(mut slf: PyRefMut<'_, Self>, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let this = &mut *slf;
        let s = &*this.s;
        let mut it = this.it.bind(py).clone();
        let mut error: Option<PyErr> = None;
        let mut capture_error: Option<PyErr> = None;
        let item = this.cursor.next(
            &s.m,
            || match it.next() {
                Some(Ok(x)) => Some(x),
                Some(Err(e)) => {
                    error = Some(e);
                    None
                }
                None => None,
            },
            || {
                if let Err(e) = s.capture(py) {
                    capture_error = Some(e);
                }
            },
        );
        if let Some(e) = capture_error.or(error) {
            this.cursor.close(&s.m);
            return Err(e);
        }
        Ok(item.map(Bound::unbind))
    }
}

impl Drop for PyLoop {
    fn drop(&mut self) {
        self.cursor.close(&self.s.m);
    }
}

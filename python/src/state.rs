//! Python objects with `state_dict()` / `load_state_dict()` (torch modules and optimizers, or
//! any object following that protocol) as checkpointable state: the Monitor's
//! scope holds a handle, and the state is copied out only when a Checkpointer fires.
//!
//! A nested state dict (an optimizer's) is flattened with `/` between levels (module state
//! dicts already use `.` in their names); tensors become safetensors entries and every other
//! value is kept as text metadata, restored as Python literals.

use std::cell::RefCell;
use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use xmen::checkpoint::{State, StateError, Tracked};
use xmen_core::value::{StateDict, Value};

use crate::convert::{array_value, to_py, to_value};

/// A Python object's state, behind the SDK's registry of live objects.
pub struct PyState(Py<PyAny>);

thread_local! {
    /// Each object tracked once, by identity (the entry keeps the object alive, so its id is
    /// never reused while it is here).
    static TRACKED: RefCell<HashMap<usize, Tracked<PyState>>> = RefCell::new(HashMap::new());
}

/// Whether `o` follows the state-dict protocol.
pub fn is_stateful(o: &Bound<'_, PyAny>) -> bool {
    let py = o.py();
    o.hasattr(pyo3::intern!(py, "state_dict")).unwrap_or(false)
        && o.hasattr(pyo3::intern!(py, "load_state_dict")).unwrap_or(false)
        && !o.is_instance_of::<pyo3::types::PyType>()
}

/// The Monitor value of a stateful object: its handle.
pub fn value_of(o: &Bound<'_, PyAny>) -> Value {
    let id = o.as_ptr() as usize;
    TRACKED.with(|t| {
        let mut t = t.borrow_mut();
        let tracked = t.entry(id).or_insert_with(|| Tracked::new(PyState(o.clone().unbind())));
        Value::from(&*tracked)
    })
}

fn flatten(prefix: &str, d: &Bound<'_, PyDict>, out: &mut StateDict) -> PyResult<()> {
    for (k, v) in d.iter() {
        let name = format!("{prefix}{}", k.str()?);
        if let Ok(inner) = v.downcast::<PyDict>() {
            flatten(&format!("{name}/"), inner, out)?;
            continue;
        }
        if let Some(t) = array_value(&v)? {
            out.tensors.push((name, t));
        } else if let Value::Tensor(t) = to_value(&v)? {
            out.tensors.push((name, t));
        } else {
            out.metadata.push((name, v.repr()?.to_string()));
        }
    }
    Ok(())
}

fn py_err(e: PyErr) -> StateError {
    StateError::new(e.to_string())
}

impl State for PyState {
    fn state_dict(&self) -> Result<StateDict, StateError> {
        Python::with_gil(|py| {
            let sd = self.0.bind(py).call_method0("state_dict").map_err(py_err)?;
            let d = sd.downcast::<PyDict>().map_err(|_| StateError::new("state_dict() did not return a dict"))?;
            let mut out = StateDict { tensors: Vec::new(), metadata: Vec::new() };
            flatten("", d, &mut out).map_err(py_err)?;
            Ok(out)
        })
    }

    fn load_state_dict(&mut self, state: &StateDict) -> Result<(), StateError> {
        Python::with_gil(|py| {
            let run = || -> PyResult<()> {
                let obj = self.0.bind(py);
                let torch = py.import("sys")?.getattr("modules")?.get_item("torch").ok();
                // Torch objects take torch tensors; anything else gets numpy arrays.
                let as_torch = torch.as_ref().filter(|_| {
                    obj.get_type().getattr("__module__").map(|m| m.to_string().starts_with("torch")).unwrap_or(false)
                });
                let root = PyDict::new(py);
                let literal = py.import("ast")?.getattr("literal_eval")?;
                let put = |name: &str, value: Bound<'_, PyAny>| -> PyResult<()> {
                    let mut d = root.clone();
                    let parts: Vec<&str> = name.split('/').collect();
                    for part in &parts[..parts.len() - 1] {
                        let key: Bound<'_, PyAny> = match part.parse::<i64>() {
                            Ok(i) => i.into_pyobject(py)?.into_any(),
                            Err(_) => part.into_pyobject(py)?.into_any(),
                        };
                        let next = match d.get_item(&key)? {
                            Some(x) => x.downcast_into::<PyDict>()?,
                            None => {
                                let n = PyDict::new(py);
                                d.set_item(&key, &n)?;
                                n
                            }
                        };
                        d = next;
                    }
                    let last = parts[parts.len() - 1];
                    match last.parse::<i64>() {
                        Ok(i) => d.set_item(i, value),
                        Err(_) => d.set_item(last, value),
                    }
                };
                for (name, t) in &state.tensors {
                    let mut a = to_py(py, (&Value::Tensor(t.clone())).into())?;
                    if let Some(torch) = as_torch {
                        a = torch.call_method1("from_numpy", (a.call_method0("copy")?,))?;
                    }
                    put(name, a)?;
                }
                for (name, text) in &state.metadata {
                    let v = literal.call1((text,)).unwrap_or_else(|_| pyo3::types::PyString::new(py, text).into_any());
                    put(name, v)?;
                }
                obj.call_method1("load_state_dict", (root,))?;
                Ok(())
            };
            run().map_err(py_err)
        })
    }

    fn type_name(&self) -> String {
        Python::with_gil(|py| {
            let t = self.0.bind(py).get_type();
            let module = t.getattr("__module__").map(|m| m.to_string()).unwrap_or_default();
            let name = t.qualname().map(|n| n.to_string()).unwrap_or_default();
            format!("{module}.{name}")
        })
    }
}

//! Python values <-> xmen values (numbers, strings, lists, dicts, numpy arrays,
//! torch tensors through numpy, experiments, checkpointable objects).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use xmen_core::value::{DType, Tensor};
use xmen_core::valueref::ValueRef;
use xmen_core::Value;

/// The numpy dtype names we carry, and ours.
fn dtype_of(name: &str) -> Option<DType> {
    Some(match name {
        "bool" => DType::Bool,
        "uint8" => DType::U8,
        "int8" => DType::I8,
        "int16" => DType::I16,
        "int32" => DType::I32,
        "int64" => DType::I64,
        "float16" => DType::F16,
        "float32" => DType::F32,
        "float64" => DType::F64,
        _ => return None,
    })
}

fn numpy_name(d: DType) -> &'static str {
    match d {
        DType::Bool => "bool",
        DType::U8 => "uint8",
        DType::I8 => "int8",
        DType::I16 => "int16",
        DType::I32 => "int32",
        DType::I64 => "int64",
        DType::F16 => "float16",
        DType::BF16 => "float32",
        DType::F32 => "float32",
        DType::F64 => "float64",
        _ => "float64",
    }
}

/// A numpy array (or anything with `__array_interface__`, `dtype`, `shape`) as a tensor: one
/// copy of its bytes, little-endian, C order.
fn array_to_tensor(a: &Bound<'_, PyAny>) -> PyResult<Option<Tensor>> {
    let dtype: String = a.getattr("dtype")?.getattr("name")?.extract()?;
    let Some(d) = dtype_of(&dtype) else { return Ok(None) };
    let shape: Vec<u64> = a.getattr("shape")?.extract()?;
    // `tobytes` is C order whatever the strides; `<` makes it little-endian.
    let code: String = a.getattr("dtype")?.getattr("str")?.extract()?;
    // No copy when the array already is little-endian (numpy's `copy=False`).
    let kwargs = pyo3::types::PyDict::new(a.py());
    kwargs.set_item("copy", false)?;
    let le =
        a.call_method("astype", (format!("<{}", code.trim_start_matches(['<', '>', '=', '|'])),), Some(&kwargs))?;
    let bytes = le.call_method1("tobytes", ("C",))?;
    let data = bytes.downcast::<PyBytes>()?.as_bytes().to_vec();
    Ok(Some(Tensor { dtype: d, shape, data }))
}

/// Whether `o` is a torch tensor (it has `detach` and `numpy`).
fn is_torch_tensor(o: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = o.py();
    Ok(o.hasattr(pyo3::intern!(py, "detach"))? && o.hasattr(pyo3::intern!(py, "numpy"))?)
}

/// A torch tensor or a numpy array of any shape, 0-d included, as a tensor (state dicts keep
/// 0-d tensors such as an optimizer's `step` as tensors); `None` for anything else, numpy
/// scalars included.
pub fn array_value(o: &Bound<'_, PyAny>) -> PyResult<Option<Tensor>> {
    if is_torch_tensor(o)? {
        let a = o.call_method0("detach")?.call_method0("cpu")?.call_method0("numpy")?;
        return array_to_tensor(&a);
    }
    if o.get_type().name()?.to_cow()? == "ndarray" && o.hasattr(pyo3::intern!(o.py(), "__array_interface__"))? {
        return array_to_tensor(o);
    }
    Ok(None)
}

/// Convert a Python object into a value hooks can read. `Err` only for a Python error raised
/// while reading it; an object of no known kind becomes its `str()`.
pub fn to_value(o: &Bound<'_, PyAny>) -> PyResult<Value> {
    if o.is_none() {
        return Ok(Value::None);
    }
    if let Ok(b) = o.downcast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if o.is_instance_of::<PyInt>() {
        return Ok(match o.extract::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(o.extract::<f64>()?),
        });
    }
    if let Ok(f) = o.downcast::<PyFloat>() {
        return Ok(Value::Float(f.value()));
    }
    if let Ok(s) = o.downcast::<PyString>() {
        return Ok(Value::Str(s.to_cow()?.into_owned()));
    }
    if let Ok(l) = o.downcast::<PyList>() {
        return Ok(Value::List(l.iter().map(|x| to_value(&x)).collect::<PyResult<_>>()?));
    }
    if let Ok(t) = o.downcast::<PyTuple>() {
        return Ok(Value::List(t.iter().map(|x| to_value(&x)).collect::<PyResult<_>>()?));
    }
    if let Ok(d) = o.downcast::<PyDict>() {
        let mut m = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            m.push((k.str()?.to_cow()?.into_owned(), to_value(&v)?));
        }
        return Ok(Value::Map(m));
    }
    // An experiment (class or functional API): its native root.
    if let Ok(r) = o.getattr(pyo3::intern!(o.py(), "_xmen_native_root")) {
        if let Ok(root) = r.downcast::<crate::record::PyRoot>() {
            return Ok(Value::from(&root.borrow().root));
        }
    }
    // A torch module or optimizer (anything with state_dict/load_state_dict): a handle.
    if crate::state::is_stateful(o) {
        return Ok(crate::state::value_of(o));
    }
    // A torch tensor: through numpy.
    if is_torch_tensor(o)? {
        let a = o.call_method0("detach")?.call_method0("cpu")?.call_method0("numpy")?;
        return to_value(&a);
    }
    if o.hasattr(pyo3::intern!(o.py(), "__array_interface__"))? && o.hasattr(pyo3::intern!(o.py(), "dtype"))? {
        let shape: Vec<u64> = o.getattr("shape")?.extract()?;
        if shape.is_empty() {
            // A numpy scalar or 0-d array: its Python value.
            return to_value(&o.call_method0("item")?);
        }
        if let Some(t) = array_to_tensor(o)? {
            return Ok(Value::Tensor(t));
        }
    }
    Ok(Value::Str(o.str()?.to_cow()?.into_owned()))
}

/// A value as a Python object: tensors as numpy arrays when numpy is importable, else nested
/// lists.
pub fn to_py<'py>(py: Python<'py>, v: ValueRef<'_>) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        ValueRef::None => py.None().into_bound(py),
        ValueRef::Bool(b) => PyBool::new(py, b).to_owned().into_any(),
        ValueRef::Int(i) => i.into_pyobject(py)?.into_any(),
        ValueRef::Float(f) => f.into_pyobject(py)?.into_any(),
        ValueRef::Str(s) => PyString::new(py, s).into_any(),
        ValueRef::List(l) => PyList::new(py, l.iter().map(|x| to_py(py, x)).collect::<PyResult<Vec<_>>>()?)?.into_any(),
        ValueRef::Map(m) => {
            let d = PyDict::new(py);
            for (k, x) in m.iter() {
                d.set_item(k, to_py(py, x)?)?;
            }
            d.into_any()
        }
        ValueRef::Tensor(t) if t.dtype == DType::BF16 => {
            let values = PyList::new(py, t.to_f64_vec())?;
            match py.import("numpy") {
                Ok(np) => np
                    .call_method1("array", (values, "float32"))?
                    .call_method1("reshape", (PyTuple::new(py, t.shape.iter().copied())?,))?,
                Err(_) => values.into_any(),
            }
        }
        ValueRef::Tensor(t) => {
            let t = t.to_tensor();
            match py.import("numpy") {
                Ok(np) => {
                    let bytes = PyBytes::new(py, &t.data);
                    let dtype = np.getattr("dtype")?.call1((format!("<{}", short_code(t.dtype)),))?;
                    let a = np.call_method1("frombuffer", (bytes, dtype))?;
                    let shape = PyTuple::new(py, t.shape.iter().copied())?;
                    a.call_method1("reshape", (shape,))?.call_method1("astype", (numpy_name(t.dtype),))?
                }
                Err(_) => PyList::new(py, t.to_f64_vec())?.into_any(),
            }
        }
        ValueRef::Image(b) => PyBytes::new(py, b).into_any(),
        ValueRef::Experiment(h) => format!("<experiment {}>", h.0).into_pyobject(py)?.into_any(),
        ValueRef::State(h) => format!("<state {}>", h.0).into_pyobject(py)?.into_any(),
        _ => py.None().into_bound(py),
    })
}

fn short_code(d: DType) -> &'static str {
    match d {
        DType::Bool => "b1",
        DType::U8 => "u1",
        DType::I8 => "i1",
        DType::I16 => "i2",
        DType::I32 => "i4",
        DType::I64 => "i8",
        DType::F16 => "f2",
        // bfloat16 has no numpy dtype; its bytes are widened by to_tensor's caller.
        DType::BF16 => "u2",
        DType::F32 => "f4",
        DType::F64 => "f8",
        _ => "f8",
    }
}

/// A Python mapping's items as values, in order.
pub fn dict_to_pairs(d: &Bound<'_, PyDict>) -> PyResult<Vec<(String, Value)>> {
    let mut out = Vec::with_capacity(d.len());
    for (k, v) in d.iter() {
        let k: String = k.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "keys must be str, got {}",
                k.repr().map(|r| r.to_string()).unwrap_or_default()
            ))
        })?;
        out.push((k, to_value(&v)?));
    }
    Ok(out)
}

//! Borrowed views of values: what a hook reads.
//!
//! A hook receives `ValueRef`s, never owned values, so nothing is copied when a
//! variable crosses into a hook, in-process or through the stable ABI: strings,
//! tensors and PNG bytes are borrowed from the host for the duration of the call.

use crate::value::{DType, ExperimentHandle, StateHandle, Tensor, Value};
use std::fmt;

/// A borrowed view of a [`Value`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum ValueRef<'a> {
    /// `None` / null.
    None,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A double.
    Float(f64),
    /// Text.
    Str(&'a str),
    /// A list.
    List(ListRef<'a>),
    /// A map with string keys, in insertion order.
    Map(MapRef<'a>),
    /// A dense tensor.
    Tensor(TensorRef<'a>),
    /// PNG-encoded image bytes.
    Image(&'a [u8]),
    /// An experiment record owned by the host.
    Experiment(ExperimentHandle),
    /// Checkpointable state owned by the host.
    State(StateHandle),
    /// A kind added by a newer host that this library does not know.
    Unknown,
}

/// A borrowed tensor.
#[derive(Clone, Copy, Debug)]
pub struct TensorRef<'a> {
    /// Element type.
    pub dtype: DType,
    /// Dimensions, outermost first.
    pub shape: &'a [u64],
    /// Contiguous little-endian element bytes.
    pub data: &'a [u8],
}

impl TensorRef<'_> {
    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product::<u64>() as usize
    }
    /// The elements widened to `f64`.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        crate::value::tensor_to_f64(self.dtype, self.data)
    }
    /// An owned copy.
    pub fn to_tensor(&self) -> Tensor {
        Tensor { dtype: self.dtype, shape: self.shape.to_vec(), data: self.data.to_vec() }
    }
}

/// A borrowed list: either the host's own values or their ABI form.
#[derive(Clone, Copy)]
pub struct ListRef<'a> {
    pub(crate) inner: ListInner<'a>,
}

#[derive(Clone, Copy)]
pub(crate) enum ListInner<'a> {
    Native(&'a [Value]),
    Ffi(&'a [crate::abi::FfiValueNE<'static>]),
}

impl<'a> ListRef<'a> {
    /// Number of items.
    pub fn len(&self) -> usize {
        match self.inner {
            ListInner::Native(v) => v.len(),
            ListInner::Ffi(v) => v.len(),
        }
    }
    /// True when the list has no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The item at `i`.
    pub fn get(&self, i: usize) -> Option<ValueRef<'a>> {
        match self.inner {
            ListInner::Native(v) => v.get(i).map(ValueRef::from),
            ListInner::Ffi(v) => v.get(i).map(crate::abi::value_ref_from_ffi),
        }
    }
    /// Iterate over the items.
    pub fn iter(&self) -> impl Iterator<Item = ValueRef<'a>> + 'a {
        let this = *self;
        (0..this.len()).filter_map(move |i| this.get(i))
    }
}

impl fmt::Debug for ListRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A borrowed map with string keys.
#[derive(Clone, Copy)]
pub struct MapRef<'a> {
    pub(crate) inner: MapInner<'a>,
}

#[derive(Clone, Copy)]
pub(crate) enum MapInner<'a> {
    Native(&'a [(String, Value)]),
    Ffi(&'a [crate::abi::FfiVar<'static>]),
}

impl<'a> MapRef<'a> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        match self.inner {
            MapInner::Native(v) => v.len(),
            MapInner::Ffi(v) => v.len(),
        }
    }
    /// True when the map is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The entry at position `i`.
    pub fn entry(&self, i: usize) -> Option<(&'a str, ValueRef<'a>)> {
        match self.inner {
            MapInner::Native(v) => v.get(i).map(|(k, v)| (k.as_str(), ValueRef::from(v))),
            MapInner::Ffi(v) => v.get(i).map(crate::abi::var_from_ffi),
        }
    }
    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<ValueRef<'a>> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
    /// Iterate over `(key, value)` entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, ValueRef<'a>)> + 'a {
        let this = *self;
        (0..this.len()).filter_map(move |i| this.entry(i))
    }
}

impl fmt::Debug for MapRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> ValueRef<'a> {
        match v {
            Value::None => ValueRef::None,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Str(s) => ValueRef::Str(s),
            Value::List(l) => ValueRef::List(ListRef { inner: ListInner::Native(l) }),
            Value::Map(m) => ValueRef::Map(MapRef { inner: MapInner::Native(m) }),
            Value::Tensor(t) => ValueRef::Tensor(TensorRef { dtype: t.dtype, shape: &t.shape, data: &t.data }),
            Value::Image(b) => ValueRef::Image(b),
            Value::Experiment(h) => ValueRef::Experiment(*h),
            Value::State(h) => ValueRef::State(*h),
        }
    }
}

impl<'a> ValueRef<'a> {
    /// An owned copy of the value (`Unknown` becomes `None`).
    pub fn to_value(&self) -> Value {
        match *self {
            ValueRef::None | ValueRef::Unknown => Value::None,
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Str(s) => Value::Str(s.to_owned()),
            ValueRef::List(l) => Value::List(l.iter().map(|v| v.to_value()).collect()),
            ValueRef::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.to_owned(), v.to_value())).collect()),
            ValueRef::Tensor(t) => Value::Tensor(t.to_tensor()),
            ValueRef::Image(b) => Value::Image(b.to_vec()),
            ValueRef::Experiment(h) => Value::Experiment(h),
            ValueRef::State(h) => Value::State(h),
        }
    }

    /// A short name of the kind (`"float"`, `"list"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            ValueRef::None => "none",
            ValueRef::Bool(_) => "bool",
            ValueRef::Int(_) => "int",
            ValueRef::Float(_) => "float",
            ValueRef::Str(_) => "str",
            ValueRef::List(_) => "list",
            ValueRef::Map(_) => "map",
            ValueRef::Tensor(_) => "tensor",
            ValueRef::Image(_) => "image",
            ValueRef::Experiment(_) => "experiment",
            ValueRef::State(_) => "state",
            ValueRef::Unknown => "unknown",
        }
    }

    /// The value as `f64` when it is a number or a boolean.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            ValueRef::Float(f) => Some(f),
            ValueRef::Int(i) => Some(i as f64),
            ValueRef::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }

    /// The value as `i64` when it is an integer or a boolean.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            ValueRef::Int(i) => Some(i),
            ValueRef::Bool(b) => Some(i64::from(b)),
            _ => None,
        }
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            ValueRef::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The experiment handle, when this is one.
    pub fn as_experiment(&self) -> Option<ExperimentHandle> {
        match *self {
            ValueRef::Experiment(h) => Some(h),
            _ => None,
        }
    }

    /// Python's `str()` of the value, written into `out` (no allocation for scalars).
    pub fn write_str<W: fmt::Write + ?Sized>(&self, out: &mut W) -> fmt::Result {
        match *self {
            ValueRef::None | ValueRef::Unknown => out.write_str("None"),
            ValueRef::Bool(true) => out.write_str("True"),
            ValueRef::Bool(false) => out.write_str("False"),
            ValueRef::Int(i) => write!(out, "{i}"),
            ValueRef::Float(f) => crate::pyfmt::write_float(out, f),
            ValueRef::Str(s) => out.write_str(s),
            _ => crate::pyfmt::write_str(out, &self.to_value()),
        }
    }
}

impl fmt::Display for ValueRef<'_> {
    /// Python's `str()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_str(f)
    }
}

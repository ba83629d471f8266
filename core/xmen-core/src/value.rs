//! The closed, typed set of values a training loop publishes to the Monitor.
//!
//! A [`Value`] is what `m.set("loss", 0.3)` stores and what a hook reads. It is a
//! plain Rust enum; its FFI twin lives in [`crate::abi`] and is built from a
//! `&Value` without copying strings, bytes or tensors.

use std::fmt;

/// Element type of a [`Tensor`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DType {
    /// Boolean, one byte per element.
    Bool,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 8-bit integer.
    I8,
    /// Signed 16-bit integer.
    I16,
    /// Signed 32-bit integer.
    I32,
    /// Signed 64-bit integer.
    I64,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
    /// IEEE single precision.
    F32,
    /// IEEE double precision.
    F64,
}

impl DType {
    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::U8 | DType::I8 => 1,
            DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    /// The safetensors / numpy-style short name (`F32`, `I64`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "BOOL",
            DType::U8 => "U8",
            DType::I8 => "I8",
            DType::I16 => "I16",
            DType::I32 => "I32",
            DType::I64 => "I64",
            DType::F16 => "F16",
            DType::BF16 => "BF16",
            DType::F32 => "F32",
            DType::F64 => "F64",
        }
    }

    /// Stable numeric code used across the hook ABI. Codes are never reused.
    pub fn code(self) -> u8 {
        match self {
            DType::Bool => 0,
            DType::U8 => 1,
            DType::I8 => 2,
            DType::I16 => 3,
            DType::I32 => 4,
            DType::I64 => 5,
            DType::F16 => 6,
            DType::BF16 => 7,
            DType::F32 => 8,
            DType::F64 => 9,
        }
    }

    /// Inverse of [`DType::code`].
    pub fn from_code(code: u8) -> Option<DType> {
        Some(match code {
            0 => DType::Bool,
            1 => DType::U8,
            2 => DType::I8,
            3 => DType::I16,
            4 => DType::I32,
            5 => DType::I64,
            6 => DType::F16,
            7 => DType::BF16,
            8 => DType::F32,
            9 => DType::F64,
            _ => return None,
        })
    }
}

/// A dense, contiguous, row-major tensor: element type, shape and raw little-endian bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Element type.
    pub dtype: DType,
    /// Dimensions, outermost first. An empty shape is a scalar.
    pub shape: Vec<u64>,
    /// `shape.iter().product() * dtype.size()` bytes, little-endian.
    pub data: Vec<u8>,
}

impl Tensor {
    /// A tensor of `f32` values with the given shape.
    ///
    /// # Panics
    /// When `values.len()` differs from the product of `shape`.
    pub fn from_f32(shape: &[u64], values: &[f32]) -> Tensor {
        let n: u64 = shape.iter().product();
        assert_eq!(n as usize, values.len(), "tensor shape {shape:?} needs {n} values");
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Tensor { dtype: DType::F32, shape: shape.to_vec(), data }
    }

    /// A tensor of `f64` values with the given shape.
    ///
    /// # Panics
    /// When `values.len()` differs from the product of `shape`.
    pub fn from_f64(shape: &[u64], values: &[f64]) -> Tensor {
        let n: u64 = shape.iter().product();
        assert_eq!(n as usize, values.len(), "tensor shape {shape:?} needs {n} values");
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Tensor { dtype: DType::F64, shape: shape.to_vec(), data }
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product::<u64>() as usize
    }

    /// The elements converted to `f64` (integers and floats; `F16`/`BF16` are widened).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        crate::value::tensor_to_f64(self.dtype, &self.data)
    }
}

/// Convert raw little-endian tensor bytes of `dtype` to `f64`s.
pub fn tensor_to_f64(dtype: DType, data: &[u8]) -> Vec<f64> {
    fn chunks<const N: usize>(data: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
        data.chunks_exact(N).map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            a
        })
    }
    match dtype {
        DType::Bool => data.iter().map(|&b| if b != 0 { 1.0 } else { 0.0 }).collect(),
        DType::U8 => data.iter().map(|&b| f64::from(b)).collect(),
        DType::I8 => data.iter().map(|&b| f64::from(b as i8)).collect(),
        DType::I16 => chunks::<2>(data).map(|b| f64::from(i16::from_le_bytes(b))).collect(),
        DType::I32 => chunks::<4>(data).map(|b| f64::from(i32::from_le_bytes(b))).collect(),
        DType::I64 => chunks::<8>(data).map(|b| i64::from_le_bytes(b) as f64).collect(),
        DType::F16 => chunks::<2>(data).map(|b| f16_to_f64(u16::from_le_bytes(b))).collect(),
        DType::BF16 => {
            chunks::<2>(data).map(|b| f64::from(f32::from_bits(u32::from(u16::from_le_bytes(b)) << 16))).collect()
        }
        DType::F32 => chunks::<4>(data).map(|b| f64::from(f32::from_le_bytes(b))).collect(),
        DType::F64 => chunks::<8>(data).map(f64::from_le_bytes).collect(),
    }
}

fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        _ => sign * (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
    }
}

/// An opaque handle to an experiment record owned by the host process.
///
/// Hooks cannot touch the record directly: they message it through the host
/// (the host request `Request::Message`), so the host's experiment stays the only writer of its params.yml.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExperimentHandle(pub u64);

/// An opaque handle to checkpointable state owned by the host process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateHandle(pub u64);

/// Checkpointable state: named tensors plus text metadata. It is what a
/// [`Value::State`] handle stands for when a hook asks the host for it
/// ([`Request::State`](crate::hook::Request::State)), and what a checkpoint file holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateDict {
    /// The tensors, by name, in the object's order.
    pub tensors: Vec<(String, Tensor)>,
    /// Text metadata (a serialised value, settings), by key.
    pub metadata: Vec<(String, String)>,
}

impl StateDict {
    /// The tensor called `name`.
    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find(|(k, _)| k == name).map(|(_, t)| t)
    }

    /// The metadata entry `key`.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Total bytes of tensor data.
    pub fn nbytes(&self) -> usize {
        self.tensors.iter().map(|(_, t)| t.data.len()).sum()
    }
}

/// A value published into the Monitor's scope.
///
/// The set is closed so that every hook, in-process or loaded from a library,
/// can read every value. New kinds are only ever appended.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// Python's `None`, YAML's `null`.
    None,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// A double.
    Float(f64),
    /// Text.
    Str(String),
    /// An ordered list.
    List(Vec<Value>),
    /// An ordered map with string keys.
    Map(Vec<(String, Value)>),
    /// A dense tensor.
    Tensor(Tensor),
    /// An encoded PNG image.
    Image(Vec<u8>),
    /// An experiment record owned by the host (see [`ExperimentHandle`]).
    Experiment(ExperimentHandle),
    /// Checkpointable state owned by the host (see [`StateHandle`]).
    State(StateHandle),
}

impl Value {
    /// A short name of the kind, for error messages (`"float"`, `"list"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Value::None => "none",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Tensor(_) => "tensor",
            Value::Image(_) => "image",
            Value::Experiment(_) => "experiment",
            Value::State(_) => "state",
        }
    }

    /// The value as `f64` when it is a number or a boolean.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(f) => Some(f),
            Value::Int(i) => Some(i as f64),
            Value::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }

    /// The value as `i64` when it is an integer or a boolean.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::Bool(b) => Some(i64::from(b)),
            _ => None,
        }
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Look up `key` in a map value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    /// Python's `str()` of the value: `0.001`, `1e-05`, `True`, `None`, `['a', 'b']`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::pyfmt::write_str(f, self)
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value { Value::Int(i64::from(v)) }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Value {
    /// Values beyond `i64::MAX` saturate.
    fn from(v: u64) -> Value {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<usize> for Value {
    /// Values beyond `i64::MAX` saturate.
    fn from(v: usize) -> Value {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::Float(f64::from(v))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Str(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Str(v)
    }
}
impl From<Tensor> for Value {
    fn from(v: Tensor) -> Value {
        Value::Tensor(v)
    }
}
impl From<ExperimentHandle> for Value {
    fn from(v: ExperimentHandle) -> Value {
        Value::Experiment(v)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Value {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::None, Into::into)
    }
}
impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Value {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Value {
        Value::Map(iter.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

//! Conversions between the safe types of [`crate::hook`] and their FFI form.

use super::*;
use crate::hook::{HookError, Keep, Outcome, Reply, Request, RunEnd, RunStatus, Snapshot};
use crate::value::{DType, ExperimentHandle, StateDict, StateHandle, Tensor, Value};
use crate::valueref::{ListInner, ListRef, MapInner, MapRef, TensorRef, ValueRef};
use abi_stable::nonexhaustive_enum::NonExhaustive;
use abi_stable::std_types::{ROption, RSlice, RStr, RString, RVec, Tuple2};

pub(crate) fn snapshot_to_ffi(s: Snapshot) -> FfiSnapshot {
    FfiSnapshot {
        type_name: s.type_name.into(),
        tensors: s
            .state
            .tensors
            .into_iter()
            .map(|(name, t)| FfiNamedTensor {
                name: name.into(),
                dtype: t.dtype.code(),
                shape: t.shape.into(),
                data: t.data.into(),
            })
            .collect(),
        metadata: s.state.metadata.into_iter().map(|(k, v)| Tuple2(k.into(), v.into())).collect(),
    }
}

pub(crate) fn snapshot_from_ffi(s: FfiSnapshot) -> Result<Snapshot, String> {
    let mut tensors = Vec::with_capacity(s.tensors.len());
    for t in s.tensors {
        let name = t.name.into_string();
        let dtype = DType::from_code(t.dtype)
            .ok_or_else(|| format!("tensor {name:?} has dtype code {}, which this library does not know", t.dtype))?;
        tensors.push((name, Tensor { dtype, shape: t.shape.into_vec(), data: t.data.into_vec() }));
    }
    let metadata = s.metadata.into_iter().map(|t| (t.0.into_string(), t.1.into_string())).collect();
    Ok(Snapshot { type_name: s.type_name.into_string(), state: StateDict { tensors, metadata } })
}

// ---------------------------------------------------------------------------------
// Conversions between ValueRef and the FFI form.

/// Convert a borrowed value to its ABI form (scalars, strings and bytes are not copied).
pub fn ffi_value<'a>(v: ValueRef<'a>) -> FfiValueNE<'a> {
    NonExhaustive::new(ffi_value_enum(v))
}

#[inline]
pub(crate) fn ffi_value_enum<'a>(v: ValueRef<'a>) -> FfiValue<'a> {
    match v {
        ValueRef::None | ValueRef::Unknown => FfiValue::None,
        ValueRef::Bool(b) => FfiValue::Bool(b),
        ValueRef::Int(i) => FfiValue::Int(i),
        ValueRef::Float(f) => FfiValue::Float(f),
        ValueRef::Str(s) => FfiValue::Str(RStr::from_str(s)),
        ValueRef::List(l) => FfiValue::List(l.iter().map(ffi_value).collect()),
        ValueRef::Map(m) => FfiValue::Map(m.iter().map(|(k, v)| ffi_var(k, v)).collect()),
        ValueRef::Tensor(t) => FfiValue::Tensor(FfiTensor {
            dtype: t.dtype.code(),
            shape: RSlice::from_slice(t.shape),
            data: RSlice::from_slice(t.data),
        }),
        ValueRef::Image(b) => FfiValue::Image(RSlice::from_slice(b)),
        ValueRef::Experiment(h) => FfiValue::Experiment(h.0),
        ValueRef::State(h) => FfiValue::State(h.0),
    }
}

/// Whether [`ffi_value`] of `v` owns nothing (no list or map, the only kinds it allocates for):
/// its destructor may be skipped.
pub(crate) fn ffi_value_owns_nothing(v: &ValueRef<'_>) -> bool {
    !matches!(v, ValueRef::List(_) | ValueRef::Map(_))
}

/// A named value in ABI form.
pub fn ffi_var<'a>(name: &'a str, v: ValueRef<'a>) -> FfiVar<'a> {
    FfiVar { name: RStr::from_str(name), value: ffi_value(v) }
}

/// Forget the inner lifetime of borrowed ABI values.
///
/// `FfiValueNE<'a>` is invariant in `'a`, which would make every `ValueRef` invariant
/// too. Views store the slice as `&'s [FfiVar<'static>]` and only ever hand out data
/// borrowed for `'s`; since a `&'s [FfiVar<'a>]` implies `'a: 's`, that is sound.
pub(crate) fn erase_vars<'s>(x: &'s [FfiVar<'_>]) -> &'s [FfiVar<'static>] {
    // SAFETY: `transmute` between types that differ only in a lifetime parameter has the same
    // layout. Soundness rests on the views (`VarsView::Ffi`, `ListInner::Ffi`, `MapInner::Ffi`)
    // never handing out data for longer than `'s`, the borrow of the slice, which the values'
    // own `'a` outlives (a `&'s [FfiVar<'a>]` implies `'a: 's`). Executed by the tests of
    // `abi::tests` (every firing and every host request with variables crosses it).
    unsafe { std::mem::transmute(x) }
}

/// Store a borrowed ABI name in [`LibraryHook`]'s reused buffer, whose elements outlive the
/// firing they borrow from.
///
/// SAFETY of the callers: the result is written only into that buffer, which hands it out
/// again only borrowed for a firing that overwrote it first (see `Scratch` in `host.rs`).
/// Between firings it is a dangling raw pointer inside `RStr`, which nothing reads.
pub(crate) fn forever_str(s: RStr<'_>) -> RStr<'static> {
    // SAFETY: `RStr` is a raw pointer and a length (no reference), the same layout for every
    // lifetime; see the function's documentation for why it is never read once dangling.
    unsafe { std::mem::transmute::<RStr<'_>, RStr<'static>>(s) }
}

/// [`forever_str`] for a value written into the same buffer (the same conditions apply).
pub(crate) fn forever_value(v: FfiValue<'_>) -> FfiValue<'static> {
    // SAFETY: types that differ only in a lifetime have the same layout; the borrowed variants
    // (`Str`, `Tensor`, `Image`, and the items of `List` and `Map`) hold `RStr`/`RSlice`, raw
    // pointers that are never read once dangling (dropping a value reads none of them).
    unsafe { std::mem::transmute::<FfiValue<'_>, FfiValue<'static>>(v) }
}

/// Shorten the inner lifetime of ABI values to that of the borrow.
pub(crate) fn shrink_vars<'s, 'a: 's>(x: &'s [FfiVar<'a>]) -> &'s [FfiVar<'s>] {
    // SAFETY: only shortens the inner lifetime `'a` to `'s` (`'a: 's`) behind a shared
    // reference; nothing can be written through it, so no shorter-lived value can be stored
    // where a longer one is expected (the reason `FfiVar<'a>`, being invariant, needs this).
    // Executed by every firing in `abi::tests`.
    unsafe { std::mem::transmute(x) }
}

/// View an ABI value. Kinds this build does not know read as `ValueRef::Unknown`.
#[inline]
pub fn value_ref_from_ffi<'a>(v: &'a FfiValueNE<'static>) -> ValueRef<'a> {
    match v.as_enum() {
        Ok(FfiValue::None) => ValueRef::None,
        Ok(FfiValue::Bool(b)) => ValueRef::Bool(*b),
        Ok(FfiValue::Int(i)) => ValueRef::Int(*i),
        Ok(FfiValue::Float(f)) => ValueRef::Float(*f),
        Ok(FfiValue::Str(s)) => ValueRef::Str(s.as_str()),
        Ok(FfiValue::List(l)) => ValueRef::List(ListRef { inner: ListInner::Ffi(l.as_slice()) }),
        Ok(FfiValue::Map(m)) => ValueRef::Map(MapRef { inner: MapInner::Ffi(m.as_slice()) }),
        Ok(FfiValue::Tensor(t)) => match DType::from_code(t.dtype) {
            Some(dtype) => ValueRef::Tensor(TensorRef { dtype, shape: t.shape.as_slice(), data: t.data.as_slice() }),
            None => ValueRef::Unknown,
        },
        Ok(FfiValue::Image(b)) => ValueRef::Image(b.as_slice()),
        Ok(FfiValue::Experiment(h)) => ValueRef::Experiment(ExperimentHandle(*h)),
        Ok(FfiValue::State(h)) => ValueRef::State(StateHandle(*h)),
        Err(_) => ValueRef::Unknown,
    }
}

/// View a named ABI value.
#[inline]
pub fn var_from_ffi<'a>(v: &'a FfiVar<'static>) -> (&'a str, ValueRef<'a>) {
    (v.name.as_str(), value_ref_from_ffi(&v.value))
}

pub(crate) fn keep_code(k: Keep) -> u8 {
    match k {
        Keep::Latest => 0,
        Keep::Min => 1,
        Keep::Max => 2,
    }
}

pub(crate) fn keep_from_code(c: u8) -> Keep {
    match c {
        1 => Keep::Min,
        2 => Keep::Max,
        _ => Keep::Latest,
    }
}

pub(crate) fn outcome_to_ffi(r: Result<Outcome, HookError>) -> FfiOutcome {
    let (kind, message, help) = match r {
        Ok(Outcome::Continue) => (outcome::CONTINUE, String::new(), None),
        Ok(Outcome::Warn(m)) => (outcome::WARN, m, None),
        Ok(Outcome::Stop(m)) => (outcome::STOP, m, None),
        Err(e) => (outcome::ERROR, e.message, e.help),
    };
    FfiOutcome { kind, message: message.into(), help: help.unwrap_or_default().into() }
}

/// The host's view of what a library hook returned.
pub(crate) fn outcome_from_ffi(o: FfiOutcome) -> Result<Outcome, CallFailure> {
    if o.kind == outcome::CONTINUE {
        // The common case: its two empty strings are dropped, not converted.
        return Ok(Outcome::Continue);
    }
    let message = o.message.into_string();
    let help = Some(o.help.into_string()).filter(|h| !h.is_empty());
    match o.kind {
        outcome::CONTINUE => Ok(Outcome::Continue),
        outcome::WARN => Ok(Outcome::Warn(message)),
        outcome::STOP => Ok(Outcome::Stop(message)),
        outcome::PANIC => Err(CallFailure::Panic(message)),
        _ => Err(CallFailure::Error(HookError { hook: String::new(), message, help })),
    }
}

/// How a hook call failed.
#[derive(Debug)]
pub enum CallFailure {
    /// The hook returned an error.
    Error(HookError),
    /// The hook panicked; the message (and location) of the panic.
    Panic(String),
}

fn leader_to_ffi(leader: Option<&str>) -> ROption<RStr<'_>> {
    match leader {
        Some(l) => ROption::RSome(RStr::from_str(l)),
        None => ROption::RNone,
    }
}

fn vars_to_ffi<'a>(vars: &[(&'a str, ValueRef<'a>)]) -> Vec<FfiVar<'a>> {
    vars.iter().map(|(k, v)| ffi_var(k, *v)).collect()
}

fn vars_from_ffi<'s>(vars: &'s RSlice<'_, FfiVar<'_>>) -> Vec<(&'s str, ValueRef<'s>)> {
    erase_vars(vars.as_slice()).iter().map(var_from_ffi).collect()
}

/// Send `request` through `send` in its FFI form (the library side of a host request); the
/// buffers of its variable lists live for the call.
pub(crate) fn send_request(request: Request<'_>, send: impl FnOnce(&FfiRequestNE<'_>) -> FfiReplyNE) -> Reply {
    let (a, b, strs);
    let ffi = match request {
        Request::Print(line) => FfiRequest::Print(RStr::from_str(line)),
        Request::Log(text) => FfiRequest::Log(RStr::from_str(text)),
        Request::Summary { verbose } => FfiRequest::Summary { verbose },
        Request::Stop(msg) => FfiRequest::Stop(RStr::from_str(msg)),
        Request::Message { experiment, messages, keep, leader } => {
            a = vars_to_ffi(messages);
            FfiRequest::Message {
                experiment: experiment.0,
                messages: RSlice::from_slice(shrink_vars(&a)),
                keep: keep_code(keep),
                leader: leader_to_ffi(leader),
            }
        }
        Request::ExperimentInfo(e) => FfiRequest::ExperimentInfo(e.0),
        Request::UpdateMeta { experiment, meta } => {
            let ValueRef::Map(m) = meta else {
                return Reply::Error(format!("update_meta takes a map, not a {}", meta.kind()));
            };
            a = m.iter().map(|(k, v)| ffi_var(k, v)).collect();
            FfiRequest::UpdateMeta { experiment: experiment.0, meta: RSlice::from_slice(shrink_vars(&a)) }
        }
        Request::State(s) => FfiRequest::State(s.0),
        Request::MessageWithSummary { experiment, summary, messages, keep, leader } => {
            a = vars_to_ffi(summary);
            b = vars_to_ffi(messages);
            FfiRequest::MessageWithSummary {
                experiment: experiment.0,
                summary: RSlice::from_slice(shrink_vars(&a)),
                messages: RSlice::from_slice(shrink_vars(&b)),
                keep: keep_code(keep),
                leader: leader_to_ffi(leader),
            }
        }
        Request::RunParams { directory } => FfiRequest::RunParams { directory: RStr::from_str(directory) },
        Request::SystemMeta { groups } => {
            strs = groups.iter().map(|g| RStr::from_str(g)).collect::<Vec<_>>();
            FfiRequest::SystemMeta { groups: RSlice::from_slice(&strs) }
        }
    };
    let ffi = NonExhaustive::new(ffi);
    let reply = send(&ffi);
    reply_from_ffi(reply)
}

/// Serve an FFI request with `serve` (the host side of a host request). A request this build
/// does not know (a newer library's) is answered [`FfiReply::Unsupported`] without calling `serve`.
pub(crate) fn serve_request(request: &FfiRequestNE<'_>, serve: impl FnOnce(Request<'_>) -> Reply) -> FfiReplyNE {
    let Ok(request) = request.as_enum() else { return NonExhaustive::new(FfiReply::Unsupported) };
    let (a, b);
    let reply = match request {
        FfiRequest::Print(line) => serve(Request::Print(line.as_str())),
        FfiRequest::Log(text) => serve(Request::Log(text.as_str())),
        FfiRequest::Summary { verbose } => serve(Request::Summary { verbose: *verbose }),
        FfiRequest::Stop(msg) => serve(Request::Stop(msg.as_str())),
        FfiRequest::Message { experiment, messages, keep, leader } => {
            a = vars_from_ffi(messages);
            serve(Request::Message {
                experiment: ExperimentHandle(*experiment),
                messages: &a,
                keep: keep_from_code(*keep),
                leader: leader.as_ref().into_option().map(|l| l.as_str()),
            })
        }
        FfiRequest::ExperimentInfo(e) => serve(Request::ExperimentInfo(ExperimentHandle(*e))),
        FfiRequest::UpdateMeta { experiment, meta } => serve(Request::UpdateMeta {
            experiment: ExperimentHandle(*experiment),
            meta: ValueRef::Map(MapRef { inner: MapInner::Ffi(erase_vars(meta.as_slice())) }),
        }),
        FfiRequest::State(s) => serve(Request::State(StateHandle(*s))),
        FfiRequest::MessageWithSummary { experiment, summary, messages, keep, leader } => {
            a = vars_from_ffi(summary);
            b = vars_from_ffi(messages);
            serve(Request::MessageWithSummary {
                experiment: ExperimentHandle(*experiment),
                summary: &a,
                messages: &b,
                keep: keep_from_code(*keep),
                leader: leader.as_ref().into_option().map(|l| l.as_str()),
            })
        }
        FfiRequest::RunParams { directory } => serve(Request::RunParams { directory: directory.as_str() }),
        FfiRequest::SystemMeta { groups } => {
            let groups: Vec<&str> = groups.iter().map(|g| g.as_str()).collect();
            serve(Request::SystemMeta { groups: &groups })
        }
    };
    NonExhaustive::new(reply_to_ffi(reply))
}

fn pairs_to_ffi(v: Vec<(String, String)>) -> RVec<Tuple2<RString, RString>> {
    v.into_iter().map(|(k, v)| Tuple2(k.into(), v.into())).collect()
}

fn pairs_from_ffi(v: RVec<Tuple2<RString, RString>>) -> Vec<(String, String)> {
    v.into_iter().map(|t| (t.0.into_string(), t.1.into_string())).collect()
}

pub(crate) fn reply_to_ffi(r: Reply) -> FfiReply {
    match r {
        Reply::Done => FfiReply::Done,
        Reply::Unsupported => FfiReply::Unsupported,
        Reply::Error(e) => FfiReply::Error(e.into()),
        Reply::Summary(s) => FfiReply::Summary(pairs_to_ffi(s)),
        Reply::ExperimentInfo(i) => FfiReply::ExperimentInfo(i.map(|(a, b)| Tuple2(a.into(), b.into())).into()),
        Reply::State(s) => FfiReply::State(snapshot_to_ffi(s)),
        Reply::Value(v) => {
            let mut bytes = Vec::new();
            encode_value(&v, &mut bytes);
            FfiReply::Value(bytes.into())
        }
    }
}

pub(crate) fn reply_from_ffi(r: FfiReplyNE) -> Reply {
    match r.into_enum() {
        Ok(FfiReply::Done) => Reply::Done,
        Ok(FfiReply::Unsupported) => Reply::Unsupported,
        Ok(FfiReply::Error(e)) => Reply::Error(e.into_string()),
        Ok(FfiReply::Summary(s)) => Reply::Summary(pairs_from_ffi(s)),
        Ok(FfiReply::ExperimentInfo(i)) => {
            Reply::ExperimentInfo(i.into_option().map(|t| (t.0.into_string(), t.1.into_string())))
        }
        Ok(FfiReply::State(s)) => match snapshot_from_ffi(s) {
            Ok(s) => Reply::State(s),
            Err(e) => Reply::Error(e),
        },
        Ok(FfiReply::Value(bytes)) => match decode_value(&bytes, &mut 0) {
            Ok(v) => Reply::Value(v),
            Err(e) => Reply::Error(format!("the host's value cannot be read: {e}")),
        },
        Err(_) => Reply::Error("the host answered with a reply this library does not know; rebuild the hook".into()),
    }
}

pub(crate) fn run_end_to_ffi(end: &RunEnd) -> FfiRunEnd<'_> {
    FfiRunEnd { status: RStr::from_str(end.status.name()), reason: RStr::from_str(end.reason.as_deref().unwrap_or("")) }
}

pub(crate) fn run_end_from_ffi(end: &FfiRunEnd<'_>) -> RunEnd {
    RunEnd {
        // A status this build does not know (a newer host's) reads as an error with its name.
        status: RunStatus::from_name(end.status.as_str()).unwrap_or(RunStatus::Error),
        reason: Some(end.reason.as_str().to_owned()).filter(|r| !r.is_empty()),
    }
}

/// An owned value as bytes, for replies that hand a value over (the library reads it back with
/// [`decode_value`]; both sides are this module, so the format is private): a kind byte, then
/// little-endian numbers, length-prefixed bytes and nested values.
pub(crate) fn encode_value(v: &Value, out: &mut Vec<u8>) {
    let bytes = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
        out.extend_from_slice(b);
    };
    match v {
        Value::Bool(b) => out.extend([1, u8::from(*b)]),
        Value::Int(i) => {
            out.push(2);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Float(f) => {
            out.push(3);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Str(s) => {
            out.push(4);
            bytes(out, s.as_bytes());
        }
        Value::List(l) => {
            out.push(5);
            out.extend_from_slice(&(l.len() as u64).to_le_bytes());
            l.iter().for_each(|v| encode_value(v, out));
        }
        Value::Map(m) => {
            out.push(6);
            out.extend_from_slice(&(m.len() as u64).to_le_bytes());
            for (k, v) in m {
                bytes(out, k.as_bytes());
                encode_value(v, out);
            }
        }
        Value::Tensor(t) => {
            out.extend([7, t.dtype.code()]);
            out.extend_from_slice(&(t.shape.len() as u64).to_le_bytes());
            t.shape.iter().for_each(|d| out.extend_from_slice(&d.to_le_bytes()));
            bytes(out, &t.data);
        }
        Value::Image(b) => {
            out.push(8);
            bytes(out, b);
        }
        Value::Experiment(h) => {
            out.push(9);
            out.extend_from_slice(&h.0.to_le_bytes());
        }
        Value::State(h) => {
            out.push(10);
            out.extend_from_slice(&h.0.to_le_bytes());
        }
        // `None`, and (should a newer kind appear) what this format cannot carry.
        _ => out.push(0),
    }
}

/// Read back a value [`encode_value`] wrote, from `data[*at..]`.
pub(crate) fn decode_value(data: &[u8], at: &mut usize) -> Result<Value, String> {
    fn take<'d>(data: &'d [u8], at: &mut usize, n: usize) -> Result<&'d [u8], String> {
        let end = at.checked_add(n).filter(|&e| e <= data.len()).ok_or("truncated")?;
        let b = &data[*at..end];
        *at = end;
        Ok(b)
    }
    fn u64_at(data: &[u8], at: &mut usize) -> Result<u64, String> {
        let b = take(data, at, 8)?;
        Ok(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }
    fn len_at(data: &[u8], at: &mut usize) -> Result<usize, String> {
        usize::try_from(u64_at(data, at)?).map_err(|e| e.to_string())
    }
    fn bytes_at(data: &[u8], at: &mut usize) -> Result<Vec<u8>, String> {
        let n = len_at(data, at)?;
        Ok(take(data, at, n)?.to_vec())
    }
    fn text_at(data: &[u8], at: &mut usize) -> Result<String, String> {
        String::from_utf8(bytes_at(data, at)?).map_err(|_| "text that is not UTF-8".to_owned())
    }
    let kind = take(data, at, 1)?[0];
    Ok(match kind {
        0 => Value::None,
        1 => Value::Bool(take(data, at, 1)?[0] != 0),
        2 => Value::Int(u64_at(data, at)? as i64),
        3 => Value::Float(f64::from_bits(u64_at(data, at)?)),
        4 => Value::Str(text_at(data, at)?),
        5 => {
            let n = len_at(data, at)?;
            // Every value takes at least one byte: a length beyond the data is a damaged reply.
            let mut l = Vec::with_capacity(n.min(data.len()));
            for _ in 0..n {
                l.push(decode_value(data, at)?);
            }
            Value::List(l)
        }
        6 => {
            let n = len_at(data, at)?;
            let mut m = Vec::with_capacity(n.min(data.len()));
            for _ in 0..n {
                let k = text_at(data, at)?;
                m.push((k, decode_value(data, at)?));
            }
            Value::Map(m)
        }
        7 => {
            let dtype = DType::from_code(take(data, at, 1)?[0]).ok_or("an unknown tensor dtype")?;
            let n = len_at(data, at)?;
            let shape = (0..n.min(data.len())).map(|_| u64_at(data, at)).collect::<Result<Vec<_>, _>>()?;
            Value::Tensor(Tensor { dtype, shape, data: bytes_at(data, at)? })
        }
        8 => Value::Image(bytes_at(data, at)?),
        9 => Value::Experiment(ExperimentHandle(u64_at(data, at)?)),
        10 => Value::State(StateHandle(u64_at(data, at)?)),
        other => return Err(format!("an unknown kind {other}")),
    })
}

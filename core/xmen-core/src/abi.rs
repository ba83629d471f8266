//! The stable hook ABI: every FFI type of xmen lives in this module.
//!
//! Hook libraries are `cdylib`s loaded at run time. abi_stable checks, at load,
//! that the library's view of every type below has the same layout as the host's,
//! and that both were built against compatible versions of this crate (the crate
//! that declares the root module). Three things are append-only, so that adding to
//! them later breaks no published hook:
//! - the root module [`HookLib`] and the vtables of [`FfiHost`] and [`FfiHook`]
//!   (prefix types: new fields and methods go after `last_prefix_field`);
//! - the value enum [`FfiValue`], stored as a non-exhaustive enum, so an old library
//!   sees a value kind it does not know as `ValueRef::Unknown`.
//!
//! Values are borrowed from the host for the duration of a call; nothing here
//! allocates per scalar. Panics never cross the boundary: the glue catches them on
//! the library's side and returns them as data.
//!
//! This module alone allows `unsafe_code` and `non_local_definitions`: abi_stable's
//! derive and `#[sabi_trait]` expand to unsafe blocks and non-local impls, and the
//! library header that `export_hooks!` emits is an exported `static`.
#![allow(unsafe_code, non_local_definitions, missing_docs, clippy::unwrap_used)]

use crate::hook::{Firing, Hook, HookError, Host, Keep, NewHook, OptionInfo, Options, Outcome, Snapshot, VarsView};
use crate::spec::{Spec, Trigger};
use crate::value::{DType, ExperimentHandle, StateDict, StateHandle, Tensor};
use crate::valueref::{ListInner, ListRef, MapInner, MapRef, TensorRef, ValueRef};
use abi_stable::library::{LibHeader, RootModule};
use abi_stable::nonexhaustive_enum::NonExhaustive;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::sabi_types::{RRef, VersionStrings};
use abi_stable::std_types::{RBox, ROption, RResult, RSlice, RStr, RString, RVec, Tuple2};
use abi_stable::{declare_root_module_statics, sabi_trait, StableAbi};
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use abi_stable;

/// A tensor as it crosses the ABI: borrowed shape and bytes.
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct FfiTensor<'a> {
    pub dtype: u8,
    pub shape: RSlice<'a, u64>,
    pub data: RSlice<'a, u8>,
}

/// A value as it crosses the ABI. Append-only: wrapped in [`FfiValueNE`], whose storage is
/// fixed at 48 bytes (the tensor variant's size); a future variant that needs more must
/// hold its payload behind a pointer.
#[repr(u8)]
#[derive(StableAbi)]
#[sabi(kind(WithNonExhaustive(size = [usize; 6], traits(Send, Sync))))]
#[non_exhaustive]
pub enum FfiValue<'a> {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(RStr<'a>),
    List(RVec<FfiValueNE<'a>>),
    Map(RVec<FfiVar<'a>>),
    Tensor(FfiTensor<'a>),
    Image(RSlice<'a, u8>),
    Experiment(u64),
    State(u64),
}

/// The non-exhaustive (append-only) form of [`FfiValue`] that crosses the ABI.
pub type FfiValueNE<'a> = NonExhaustive<FfiValue<'a>, FfiValue_Storage, FfiValue_Interface>;

/// A named value.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiVar<'a> {
    pub name: RStr<'a>,
    pub value: FfiValueNE<'a>,
}

/// An owned, named tensor: what [`FfiHost::state`] returns, element by element.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiNamedTensor {
    pub name: RString,
    pub dtype: u8,
    pub shape: RVec<u64>,
    pub data: RVec<u8>,
}

/// The state of a host object, owned by the receiver (see [`Snapshot`]).
///
/// Owned rather than borrowed: a hook asks for it rarely (a checkpoint), and the host
/// produces it on demand (a tch VarStore is copied out of libtorch), so there is nothing
/// to borrow from for the duration of the call.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiSnapshot {
    pub type_name: RString,
    pub tensors: RVec<FfiNamedTensor>,
    pub metadata: RVec<Tuple2<RString, RString>>,
}

#[cfg_attr(feature = "__fixture_old_host_services", allow(dead_code))]
fn snapshot_to_ffi(s: Snapshot) -> FfiSnapshot {
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

#[cfg_attr(feature = "__fixture_old_host_services", allow(dead_code))]
fn snapshot_from_ffi(s: FfiSnapshot) -> Result<Snapshot, String> {
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

/// Outcome kinds of [`FfiOutcome`].
pub mod outcome {
    pub const CONTINUE: u8 = 0;
    pub const WARN: u8 = 1;
    pub const STOP: u8 = 2;
    pub const ERROR: u8 = 3;
    pub const PANIC: u8 = 4;
}

/// What a hook call returns, as plain data.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiOutcome {
    pub kind: u8,
    pub message: RString,
    pub help: RString,
}

/// Host services offered to a firing hook.
#[cfg(not(feature = "__fixture_old_host_services"))]
#[sabi_trait]
pub trait FfiHost {
    fn print(&self, line: RStr<'_>);
    fn log(&self, text: RStr<'_>);
    fn summary(&self, verbose: bool) -> RVec<Tuple2<RString, RString>>;
    fn stop(&self, msg: RStr<'_>);
    fn message(
        &self,
        experiment: u64,
        messages: RSlice<'_, FfiVar<'_>>,
        keep: u8,
        leader: ROption<RStr<'_>>,
    ) -> RResult<(), RString>;
    #[sabi(last_prefix_field)]
    fn experiment_info(&self, experiment: u64) -> ROption<Tuple2<RString, RString>>;
    /// Appended after the first release's methods: a host without it answers with an error.
    fn update_meta(&self, experiment: u64, meta: RSlice<'_, FfiVar<'_>>) -> RResult<(), RString> {
        let _ = (experiment, meta);
        RResult::RErr(RString::from("this host is too old to update experiment meta"))
    }
    /// Appended after `update_meta`: the state of a `Value::State` handle (checkpoints).
    fn state(&self, state: u64) -> RResult<FfiSnapshot, RString> {
        let _ = state;
        RResult::RErr(RString::from("this host is too old to hand out checkpointable state"))
    }
    /// Appended after `state`: the summary and the payload of a Messenger firing in one
    /// record write. An older host answers through two `message` calls.
    fn message_with_summary(
        &self,
        experiment: u64,
        summary: RSlice<'_, FfiVar<'_>>,
        messages: RSlice<'_, FfiVar<'_>>,
        keep: u8,
        leader: ROption<RStr<'_>>,
    ) -> RResult<(), RString> {
        if let RResult::RErr(e) = self.message(experiment, summary, 0, ROption::RNone) {
            return RResult::RErr(e);
        }
        if messages.is_empty() {
            return RResult::ROk(());
        }
        self.message(experiment, messages, keep, leader)
    }
}

/// The first release's host services only (a test fixture's view).
#[cfg(feature = "__fixture_old_host_services")]
#[sabi_trait]
pub trait FfiHost {
    fn print(&self, line: RStr<'_>);
    fn log(&self, text: RStr<'_>);
    fn summary(&self, verbose: bool) -> RVec<Tuple2<RString, RString>>;
    fn stop(&self, msg: RStr<'_>);
    fn message(
        &self,
        experiment: u64,
        messages: RSlice<'_, FfiVar<'_>>,
        keep: u8,
        leader: ROption<RStr<'_>>,
    ) -> RResult<(), RString>;
    #[sabi(last_prefix_field)]
    fn experiment_info(&self, experiment: u64) -> ROption<Tuple2<RString, RString>>;
}

/// One firing, as it crosses the ABI.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiFiring<'a> {
    /// `Trigger::index()`, or 255 for a manual (`to_hooks`) call.
    pub trigger: u8,
    pub counters: [u64; 5],
    pub vars: RSlice<'a, FfiVar<'a>>,
    /// Not layout-checked at load (see [`FfiHostArg`]).
    #[sabi(unsafe_sabi_opaque_field)]
    pub host: FfiHost_TO<'a, RRef<'a, ()>>,
    /// A field that exists only in a test fixture's build, to prove that abi_stable
    /// refuses a library whose layout differs from the host's.
    #[cfg(feature = "__fixture_layout_change")]
    pub fixture_extra: u64,
}

/// A hook object living in a library.
#[sabi_trait]
pub trait FfiHook: Send {
    fn call(&mut self, firing: &FfiFiring<'_>) -> FfiOutcome;
    fn needs_timing(&self) -> bool;
    #[sabi(last_prefix_field)]
    fn close(&mut self, host: FfiHostArg<'_>) -> FfiOutcome;
}

/// The host services as an argument.
///
/// The host-services table is implemented by the host and called by libraries, the
/// opposite direction of the root module. abi_stable's load-time check requires a
/// library to know at least every method of a prefix table the host knows, which would
/// reject every hook built before a method was appended. So this field is exempt from the
/// load-time layout check, and compatibility is kept at run time instead: the table is a
/// prefix type that carries its own length, a library calls only the methods it knows,
/// and a method a library knows but an older host lacks answers with its default body
/// (an error saying the host is too old). The methods up to `experiment_info`
/// (`last_prefix_field`) never change; new ones are only ever appended, with a default.
/// `host_services_table_is_append_only` pins their order.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiHostArg<'a> {
    #[sabi(unsafe_sabi_opaque_field)]
    pub host: FfiHost_TO<'a, RRef<'a, ()>>,
}

/// An owned hook object from a library.
pub type FfiHookBox = FfiHook_TO<'static, RBox<()>>;

/// A declared option of a hook.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiOptionInfo {
    pub name: RString,
    pub kind: RString,
    pub help: RString,
    pub default: ROption<RString>,
}

/// A hook a library provides.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiHookInfo {
    pub name: RString,
    pub help: RString,
    pub options: RVec<FfiOptionInfo>,
    pub examples: RVec<RString>,
}

/// The root module every hook library exports (built by `export_hooks!`).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = HookLibRef)))]
#[sabi(missing_field(panic))]
pub struct HookLib {
    /// The library's crate name.
    pub library: RStr<'static>,
    /// The library's crate version.
    pub version: RStr<'static>,
    /// The version of xmen-core it was built against.
    pub sdk_version: RStr<'static>,
    /// Describe the hooks the library provides.
    pub describe: extern "C" fn() -> RVec<FfiHookInfo>,
    /// Construct hook `name` from a spec and options.
    #[sabi(last_prefix_field)]
    pub new_hook: extern "C" fn(RStr<'_>, RStr<'_>, RSlice<'_, FfiVar<'_>>) -> RResult<FfiHookBox, FfiOutcome>,
}

/// The version of this crate, which abi_stable compares at load.
#[cfg(not(feature = "__fixture_version_bump"))]
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");
/// A deliberately incompatible version, used only to build a test fixture. It is
/// *older* than any real release: abi_stable accepts a library built against a newer
/// minor version than the host's (the root module only grows), so "0.99.0" would load.
#[cfg(feature = "__fixture_version_bump")]
pub const SDK_VERSION: &str = "0.0.1";

impl RootModule for HookLibRef {
    declare_root_module_statics! {HookLibRef}
    const BASE_NAME: &'static str = "xmen_hook";
    const NAME: &'static str = "xmen_hook";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(SDK_VERSION);
}

// ---------------------------------------------------------------------------------
// Conversions between ValueRef and the FFI form.

/// Convert a borrowed value to its ABI form (scalars, strings and bytes are not copied).
pub fn ffi_value<'a>(v: ValueRef<'a>) -> FfiValueNE<'a> {
    NonExhaustive::new(match v {
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
    })
}

/// Whether the ABI form of `v` owns nothing (no list or map buffers).
fn is_plain(v: &ValueRef<'_>) -> bool {
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
    // SAFETY: same layout; only the lifetime parameter changes, and every accessor
    // re-borrows the data for `'s`, which the original `'a` outlives.
    unsafe { std::mem::transmute(x) }
}

/// Shorten the inner lifetime of ABI values to that of the borrow.
fn shrink_vars<'s, 'a: 's>(x: &'s [FfiVar<'a>]) -> &'s [FfiVar<'s>] {
    // SAFETY: shortening a lifetime behind a shared reference; nothing is written through it.
    unsafe { std::mem::transmute(x) }
}

/// View an ABI value. Kinds this build does not know read as `ValueRef::Unknown`.
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
pub fn var_from_ffi<'a>(v: &'a FfiVar<'static>) -> (&'a str, ValueRef<'a>) {
    (v.name.as_str(), value_ref_from_ffi(&v.value))
}

fn keep_code(k: Keep) -> u8 {
    match k {
        Keep::Latest => 0,
        Keep::Min => 1,
        Keep::Max => 2,
    }
}

fn keep_from_code(c: u8) -> Keep {
    match c {
        1 => Keep::Min,
        2 => Keep::Max,
        _ => Keep::Latest,
    }
}

fn outcome_to_ffi(r: Result<Outcome, HookError>) -> FfiOutcome {
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

// ---------------------------------------------------------------------------------
// Panics: caught where they happen, with their message, and printed once by the host.

thread_local! {
    static IN_GUARD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn install_panic_capture() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_GUARD.with(|g| g.get()) {
                let payload = info.payload();
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic with a non-string payload".to_owned());
                let msg = match info.location() {
                    Some(l) => format!("{msg} (at {}:{})", l.file(), l.line()),
                    None => msg,
                };
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(msg));
            } else {
                previous(info);
            }
        }));
    });
}

/// Run `f`, turning a panic into `Err(message)` without printing it: the caller
/// reports it once.
pub fn guard<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_panic_capture();
    let was = IN_GUARD.with(|g| g.replace(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    IN_GUARD.with(|g| g.set(was));
    r.map_err(|_| LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| "unknown panic".to_owned()))
}

// ---------------------------------------------------------------------------------
// Library side: adapters from the safe traits to the ABI (monomorphised into each hook library).

struct HostFromFfi<'b, 'x, 'y> {
    host: &'b FfiHost_TO<'x, RRef<'y, ()>>,
}

impl Host for HostFromFfi<'_, '_, '_> {
    fn print(&self, line: &str) {
        self.host.print(RStr::from_str(line))
    }
    fn log(&self, text: &str) {
        self.host.log(RStr::from_str(text))
    }
    fn summary(&self, verbose: bool) -> Vec<(String, String)> {
        self.host.summary(verbose).into_iter().map(|t| (t.0.into_string(), t.1.into_string())).collect()
    }
    fn stop(&self, msg: &str) {
        self.host.stop(RStr::from_str(msg))
    }
    fn message(
        &self,
        experiment: ExperimentHandle,
        messages: &[(&str, ValueRef<'_>)],
        keep: Keep,
        leader: Option<&str>,
    ) -> Result<(), String> {
        let vars: Vec<FfiVar<'_>> = messages.iter().map(|(k, v)| ffi_var(k, *v)).collect();
        let leader = match leader {
            Some(l) => ROption::RSome(RStr::from_str(l)),
            None => ROption::RNone,
        };
        self.host
            .message(experiment.0, RSlice::from_slice(shrink_vars(&vars)), keep_code(keep), leader)
            .into_result()
            .map_err(RString::into_string)
    }
    fn experiment_info(&self, experiment: ExperimentHandle) -> Option<(String, String)> {
        self.host.experiment_info(experiment.0).into_option().map(|t| (t.0.into_string(), t.1.into_string()))
    }
    #[cfg(not(feature = "__fixture_old_host_services"))]
    fn update_meta(&self, experiment: ExperimentHandle, meta: ValueRef<'_>) -> Result<(), String> {
        let ValueRef::Map(m) = meta else { return Err(format!("meta must be a map, not a {}", meta.kind())) };
        let vars: Vec<FfiVar<'_>> = m.iter().map(|(k, v)| ffi_var(k, v)).collect();
        self.host
            .update_meta(experiment.0, RSlice::from_slice(shrink_vars(&vars)))
            .into_result()
            .map_err(RString::into_string)
    }
    #[cfg(not(feature = "__fixture_old_host_services"))]
    fn state(&self, state: StateHandle) -> Result<Snapshot, String> {
        self.host.state(state.0).into_result().map_err(RString::into_string).and_then(snapshot_from_ffi)
    }
    #[cfg(not(feature = "__fixture_old_host_services"))]
    fn message_with_summary(
        &self,
        experiment: ExperimentHandle,
        summary: &[(&str, ValueRef<'_>)],
        messages: &[(&str, ValueRef<'_>)],
        keep: Keep,
        leader: Option<&str>,
    ) -> Result<(), String> {
        let summary: Vec<FfiVar<'_>> = summary.iter().map(|(k, v)| ffi_var(k, *v)).collect();
        let messages: Vec<FfiVar<'_>> = messages.iter().map(|(k, v)| ffi_var(k, *v)).collect();
        let leader = match leader {
            Some(l) => ROption::RSome(RStr::from_str(l)),
            None => ROption::RNone,
        };
        self.host
            .message_with_summary(
                experiment.0,
                RSlice::from_slice(shrink_vars(&summary)),
                RSlice::from_slice(shrink_vars(&messages)),
                keep_code(keep),
                leader,
            )
            .into_result()
            .map_err(RString::into_string)
    }
}

struct PluginHook {
    hook: Box<dyn Hook>,
}

impl FfiHook for PluginHook {
    fn call(&mut self, firing: &FfiFiring<'_>) -> FfiOutcome {
        let host = HostFromFfi { host: &firing.host };
        let f = Firing {
            trigger: Trigger::from_index(usize::from(firing.trigger)),
            counters: firing.counters,
            vars: VarsView::Ffi(erase_vars(firing.vars.as_slice())),
            host: &host,
        };
        match guard(|| self.hook.call(&f)) {
            Ok(r) => outcome_to_ffi(r),
            Err(panic) => FfiOutcome { kind: outcome::PANIC, message: panic.into(), help: RString::new() },
        }
    }
    fn needs_timing(&self) -> bool {
        guard(|| self.hook.needs().timing).unwrap_or(false)
    }
    fn close(&mut self, host: FfiHostArg<'_>) -> FfiOutcome {
        let host = HostFromFfi { host: &host.host };
        match guard(|| self.hook.close(&host)) {
            Ok(r) => outcome_to_ffi(r),
            Err(panic) => FfiOutcome { kind: outcome::PANIC, message: panic.into(), help: RString::new() },
        }
    }
}

/// What a hook type says about itself: name, help, options, example specs.
pub type HookDescription = (String, String, Vec<OptionInfo>, Vec<String>);
/// A constructor of boxed hooks.
pub type HookBuilder = fn(&Spec, &Options<'_>) -> Result<Box<dyn Hook>, HookError>;

/// One constructible hook of a library, as `export_hooks!` lists them.
pub struct HookEntry {
    /// Describe it.
    pub info: fn() -> HookDescription,
    /// Build it.
    pub build: HookBuilder,
}

impl HookEntry {
    /// The entry of a hook type.
    pub fn of<H: NewHook>() -> HookEntry {
        HookEntry {
            info: || (H::NAME.to_owned(), H::HELP.to_owned(), H::options(), H::examples()),
            build: |spec, opts| H::new(spec, opts).map(|h| Box::new(h) as Box<dyn Hook>),
        }
    }
}

/// The list of hooks a library exports (implemented by `export_hooks!`).
pub trait HookSet {
    /// The entries, in declaration order.
    fn entries() -> Vec<HookEntry>;
}

/// Describe the hooks of a set (the root module's `describe`).
pub extern "C" fn describe_set<S: HookSet>() -> RVec<FfiHookInfo> {
    guard(|| {
        S::entries()
            .iter()
            .map(|e| {
                let (name, help, options, examples) = (e.info)();
                FfiHookInfo {
                    name: name.into(),
                    help: help.into(),
                    options: options
                        .into_iter()
                        .map(|o| FfiOptionInfo {
                            name: o.name.into(),
                            kind: o.kind.into(),
                            help: o.help.into(),
                            default: o.default.map(RString::from).into(),
                        })
                        .collect(),
                    examples: examples.into_iter().map(RString::from).collect(),
                }
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Construct a hook of a set by name (the root module's `new_hook`).
pub extern "C" fn new_hook_in_set<S: HookSet>(
    name: RStr<'_>,
    spec: RStr<'_>,
    options: RSlice<'_, FfiVar<'_>>,
) -> RResult<FfiHookBox, FfiOutcome> {
    let built = guard(|| -> Result<FfiHookBox, HookError> {
        let entries = S::entries();
        let entry = entries.iter().find(|e| (e.info)().0 == name.as_str()).ok_or_else(|| {
            let known: Vec<String> = entries.iter().map(|e| (e.info)().0).collect();
            HookError::new(format!("this library has no hook named {:?}", name.as_str()))
                .with_help(format!("it provides: {}", known.join(", ")))
        })?;
        let spec = Spec::parse(spec.as_str()).map_err(|e| HookError::new(e.to_string()))?;
        let opts = Options { map: MapRef { inner: MapInner::Ffi(erase_vars(options.as_slice())) } };
        let hook = (entry.build)(&spec, &opts)?;
        Ok(FfiHook_TO::from_value(PluginHook { hook }, TD_Opaque))
    });
    match built {
        Ok(Ok(h)) => RResult::ROk(h),
        Ok(Err(e)) => RResult::RErr(outcome_to_ffi(Err(e))),
        Err(panic) => RResult::RErr(FfiOutcome {
            kind: outcome::PANIC,
            message: format!("the constructor panicked: {panic}").into(),
            help: RString::new(),
        }),
    }
}

/// Build the root module of a library (called by the loader through the exported header).
pub fn root_module<S: HookSet>(library: &'static str, version: &'static str) -> HookLibRef {
    HookLib {
        library: RStr::from_str(library),
        version: RStr::from_str(version),
        sdk_version: RStr::from_str(SDK_VERSION),
        describe: describe_set::<S>,
        new_hook: new_hook_in_set::<S>,
    }
    .leak_into_prefix()
}

/// The exported library header of a root-module constructor (used by `export_hooks!`).
pub const fn lib_header(ctor: extern "C" fn() -> abi_stable::library::RootModuleResult) -> LibHeader {
    // SAFETY: `ctor` is the erased constructor of a `HookLibRef` generated by `export_hooks!`.
    unsafe { LibHeader::from_constructor::<HookLibRef>(ctor, abi_stable::library::CheckTypeLayout::Yes) }
}

/// Call a root-module constructor the way abi_stable's loader expects (used by `export_hooks!`).
pub fn call_root_module_loader(f: fn() -> HookLibRef) -> abi_stable::library::RootModuleResult {
    abi_stable::library::__call_root_module_loader(f)
}

/// The manifest every hook library embeds beside its root module, so that `xmen hooks list`
/// can describe a library from the file alone, without loading it (loading runs the library's
/// constructors).
///
/// `export_hooks!` builds it at compile time, from constants only (the library's crate name and
/// version, [`SDK_VERSION`], abi_stable's ABI version, and each hook's `NAME` and `HELP`), into an
/// exported static named [`manifest::SYMBOL`] placed in its own section ([`manifest::SECTION`]
/// on ELF). A hook's options and examples come from functions, which cannot run at compile
/// time: `xmen hooks install` records them beside the library.
///
/// Layout (all integers little-endian `u32`): the 16-byte [`manifest::MAGIC`], the abi_stable
/// ABI major and minor, a string count, then each string as its length and UTF-8 bytes:
/// `library`, `version`, `sdk_version`, then `name`, `help` for each hook. Append-only: a later
/// format may add strings after the hooks only behind a new magic.
pub mod manifest {
    /// The first 16 bytes of every manifest (format 1).
    pub const MAGIC: &[u8; 16] = b"xmen-hook-mf-v1\0";
    /// The exported symbol holding the manifest.
    pub const SYMBOL: &str = "xmen_hook_manifest";
    /// The ELF section holding the manifest.
    pub const SECTION: &str = ".xmen_manifest";
    /// abi_stable's ABI version (major, minor), which its loader checks before anything else.
    pub const ABI: (u32, u32) = {
        let h = abi_stable::library::AbiHeader::VALUE;
        (h.abi_major, h.abi_minor)
    };

    /// The encoded size of a manifest holding `parts`.
    pub const fn encoded_len(parts: &[&str]) -> usize {
        let mut n = MAGIC.len() + 12;
        let mut i = 0;
        while i < parts.len() {
            n += 4 + parts[i].len();
            i += 1;
        }
        n
    }

    const fn put(out: &mut [u8], at: usize, bytes: &[u8]) -> usize {
        let mut i = 0;
        while i < bytes.len() {
            out[at + i] = bytes[i];
            i += 1;
        }
        at + bytes.len()
    }

    /// Encode `parts` (`library`, `version`, `sdk_version`, then `name`, `help` per hook);
    /// `N` must be [`encoded_len`]`(parts)` (a wrong `N` fails to compile in a `static`).
    pub const fn encode<const N: usize>(parts: &[&str]) -> [u8; N] {
        let mut out = [0u8; N];
        let mut at = put(&mut out, 0, MAGIC);
        at = put(&mut out, at, &ABI.0.to_le_bytes());
        at = put(&mut out, at, &ABI.1.to_le_bytes());
        at = put(&mut out, at, &(parts.len() as u32).to_le_bytes());
        let mut i = 0;
        while i < parts.len() {
            at = put(&mut out, at, &(parts[i].len() as u32).to_le_bytes());
            at = put(&mut out, at, parts[i].as_bytes());
            i += 1;
        }
        assert!(at == N, "manifest size mismatch");
        out
    }
}

/// Export the hooks of a library crate (a `cdylib`): the abi_stable root module and the
/// [`manifest`] that describes the library without loading it.
///
/// ```ignore
/// xmen::export_hooks!(Logger, Timer);
/// ```
#[macro_export]
macro_rules! export_hooks {
    // The embedded manifest (see `xmen_core::abi::manifest`). `#[doc(hidden)]`: an arm for the
    // macro itself and for test fixtures that need a manifest disagreeing with their library.
    (@manifest [$($part:expr),+ $(,)?]) => {
        #[doc(hidden)]
        const __XMEN_MANIFEST_PARTS: &[&str] = &[$($part),+];
        /// The library's manifest, read from the file by `xmen hooks list` without loading it.
        #[no_mangle]
        #[used]
        #[cfg_attr(all(unix, not(target_vendor = "apple")), link_section = ".xmen_manifest")]
        #[allow(unsafe_code, non_upper_case_globals)]
        pub static xmen_hook_manifest: [u8; $crate::abi::manifest::encoded_len(__XMEN_MANIFEST_PARTS)] =
            $crate::abi::manifest::encode(__XMEN_MANIFEST_PARTS);
    };
    ($($hook:ty),+ $(,)?) => {
        $crate::export_hooks!(@manifest [
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            $crate::abi::SDK_VERSION,
            $(<$hook as $crate::hook::NewHook>::NAME, <$hook as $crate::hook::NewHook>::HELP),+
        ]);
        #[doc(hidden)]
        pub struct __XmenHookSet;
        impl $crate::abi::HookSet for __XmenHookSet {
            fn entries() -> ::std::vec::Vec<$crate::abi::HookEntry> {
                ::std::vec![$($crate::abi::HookEntry::of::<$hook>()),+]
            }
        }
        #[doc(hidden)]
        pub fn __xmen_root_module() -> $crate::abi::HookLibRef {
            $crate::abi::root_module::<__XmenHookSet>(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        }
        #[doc(hidden)]
        pub extern "C" fn __xmen_erased_root_module() -> $crate::abi::abi_stable::library::RootModuleResult {
            $crate::abi::call_root_module_loader(__xmen_root_module)
        }
        /// The library header abi_stable's loader looks for.
        #[no_mangle]
        #[allow(unsafe_code, non_upper_case_globals)]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::abi::abi_stable::library::LibHeader =
            $crate::abi::lib_header(__xmen_erased_root_module);
    };
}

// ---------------------------------------------------------------------------------
// Host side: a library hook seen as an ordinary `Hook`.

struct HostToFfi<'a> {
    host: &'a dyn Host,
}

impl FfiHost for HostToFfi<'_> {
    fn print(&self, line: RStr<'_>) {
        self.host.print(line.as_str())
    }
    fn log(&self, text: RStr<'_>) {
        self.host.log(text.as_str())
    }
    fn summary(&self, verbose: bool) -> RVec<Tuple2<RString, RString>> {
        self.host.summary(verbose).into_iter().map(|(k, v)| Tuple2(k.into(), v.into())).collect()
    }
    fn stop(&self, msg: RStr<'_>) {
        self.host.stop(msg.as_str())
    }
    fn message(
        &self,
        experiment: u64,
        messages: RSlice<'_, FfiVar<'_>>,
        keep: u8,
        leader: ROption<RStr<'_>>,
    ) -> RResult<(), RString> {
        let msgs: Vec<(&str, ValueRef<'_>)> = erase_vars(messages.as_slice()).iter().map(var_from_ffi).collect();
        self.host
            .message(
                ExperimentHandle(experiment),
                &msgs,
                keep_from_code(keep),
                leader.into_option().map(|l| l.as_str()),
            )
            .map_err(RString::from)
            .into()
    }
    fn experiment_info(&self, experiment: u64) -> ROption<Tuple2<RString, RString>> {
        self.host.experiment_info(ExperimentHandle(experiment)).map(|(a, b)| Tuple2(a.into(), b.into())).into()
    }
    #[cfg(not(feature = "__fixture_old_host_services"))]
    fn update_meta(&self, experiment: u64, meta: RSlice<'_, FfiVar<'_>>) -> RResult<(), RString> {
        let map = ValueRef::Map(MapRef { inner: MapInner::Ffi(erase_vars(meta.as_slice())) });
        self.host.update_meta(ExperimentHandle(experiment), map).map_err(RString::from).into()
    }
    #[cfg(not(feature = "__fixture_old_host_services"))]
    fn state(&self, state: u64) -> RResult<FfiSnapshot, RString> {
        self.host.state(StateHandle(state)).map(snapshot_to_ffi).map_err(RString::from).into()
    }
    #[cfg(not(feature = "__fixture_old_host_services"))]
    fn message_with_summary(
        &self,
        experiment: u64,
        summary: RSlice<'_, FfiVar<'_>>,
        messages: RSlice<'_, FfiVar<'_>>,
        keep: u8,
        leader: ROption<RStr<'_>>,
    ) -> RResult<(), RString> {
        let summary: Vec<(&str, ValueRef<'_>)> = erase_vars(summary.as_slice()).iter().map(var_from_ffi).collect();
        let messages: Vec<(&str, ValueRef<'_>)> = erase_vars(messages.as_slice()).iter().map(var_from_ffi).collect();
        self.host
            .message_with_summary(
                ExperimentHandle(experiment),
                &summary,
                &messages,
                keep_from_code(keep),
                leader.into_option().map(|l| l.as_str()),
            )
            .map_err(RString::from)
            .into()
    }
}

/// A hook constructed by a library, called through the ABI.
pub struct LibraryHook {
    inner: FfiHookBox,
    needs_timing: bool,
    /// Reused for each call's variables (always empty between calls).
    scratch: Vec<FfiVar<'static>>,
}

impl LibraryHook {
    /// Construct hook `name` of a loaded library.
    pub fn new(
        lib: HookLibRef,
        name: &str,
        spec: &str,
        options: &[(String, crate::Value)],
    ) -> Result<LibraryHook, CallFailure> {
        let opts: Vec<FfiVar<'_>> = options.iter().map(|(k, v)| ffi_var(k, ValueRef::from(v))).collect();
        match (lib.new_hook())(RStr::from_str(name), RStr::from_str(spec), RSlice::from_slice(&opts)) {
            RResult::ROk(inner) => {
                let needs_timing = inner.needs_timing();
                Ok(LibraryHook { inner, needs_timing, scratch: Vec::new() })
            }
            RResult::RErr(o) => {
                Err(outcome_from_ffi(o).err().unwrap_or(CallFailure::Error(HookError::new("unknown error"))))
            }
        }
    }

    /// Call the hook; panics inside it come back as `CallFailure::Panic`.
    pub fn call_ffi(&mut self, firing: &Firing<'_>) -> Result<Outcome, CallFailure> {
        let host = HostToFfi { host: firing.host };
        // SAFETY: the buffer is empty, so no value of the old lifetime is reinterpreted;
        // it holds values borrowed for this call only and is emptied before it is stored.
        let mut vars: Vec<FfiVar<'_>> = unsafe { std::mem::transmute(std::mem::take(&mut self.scratch)) };
        let mut plain = true;
        vars.extend(firing.vars().map(|(k, v)| {
            plain &= is_plain(&v);
            ffi_var(k, v)
        }));
        let ffi = FfiFiring {
            trigger: firing.trigger.map_or(255, |t| t.index() as u8),
            counters: firing.counters,
            vars: RSlice::from_slice(shrink_vars(&vars)),
            host: FfiHost_TO::from_ptr(RRef::new(&host), TD_Opaque),
            #[cfg(feature = "__fixture_layout_change")]
            fixture_extra: 0,
        };
        let outcome = outcome_from_ffi(self.inner.call(&ffi));
        drop(ffi);
        if plain {
            // SAFETY: every value is a scalar, a string or a borrowed slice: nothing owns
            // memory, so skipping their destructors (a call through the enum's vtable each)
            // leaks nothing.
            unsafe { vars.set_len(0) };
        } else {
            vars.clear();
        }
        // SAFETY: empty again; see above.
        self.scratch = unsafe { std::mem::transmute::<Vec<FfiVar<'_>>, Vec<FfiVar<'static>>>(vars) };
        outcome
    }

    /// Close the hook.
    pub fn close_ffi(&mut self, host: &dyn Host) -> Result<Outcome, CallFailure> {
        let h = HostToFfi { host };
        outcome_from_ffi(self.inner.close(FfiHostArg { host: FfiHost_TO::from_ptr(RRef::new(&h), TD_Opaque) }))
    }

    /// Whether the hook reads timings.
    pub fn needs_timing(&self) -> bool {
        self.needs_timing
    }
}

/// What a library says about itself and its hooks (read through the root module).
#[derive(Clone, Debug)]
pub struct LibraryInfo {
    /// Crate name.
    pub library: String,
    /// Crate version.
    pub version: String,
    /// xmen-core version it was built against.
    pub sdk_version: String,
    /// The hooks it provides.
    pub hooks: Vec<HookInfo>,
}

/// One hook of a library.
#[derive(Clone, Debug)]
pub struct HookInfo {
    /// Name used in configuration.
    pub name: String,
    /// One-line help.
    pub help: String,
    /// Declared options.
    pub options: Vec<OptionInfo>,
    /// Example specs.
    pub examples: Vec<String>,
}

/// Read a loaded library's description.
pub fn library_info(lib: HookLibRef) -> LibraryInfo {
    let hooks = (lib.describe())()
        .into_iter()
        .map(|h| HookInfo {
            name: h.name.into_string(),
            help: h.help.into_string(),
            options: h
                .options
                .into_iter()
                .map(|o| OptionInfo {
                    name: o.name.into_string(),
                    kind: o.kind.into_string(),
                    help: o.help.into_string(),
                    default: o.default.into_option().map(RString::into_string),
                })
                .collect(),
            examples: h.examples.into_iter().map(RString::into_string).collect(),
        })
        .collect();
    LibraryInfo {
        library: lib.library().as_str().to_owned(),
        version: lib.version().as_str().to_owned(),
        sdk_version: lib.sdk_version().as_str().to_owned(),
        hooks,
    }
}

/// Why a library could not be loaded, as plain data.
#[derive(Clone, Debug)]
pub enum LibraryLoadError {
    /// The file could not be opened as a shared library (missing, not a library, wrong architecture).
    Open { reason: String },
    /// The file is a shared library but exports no xmen root module.
    NotAHookLibrary { reason: String },
    /// The library was built against an incompatible xmen-core.
    IncompatibleVersion { expected: String, found: String },
    /// abi_stable found the library's types laid out differently from the host's.
    Layout { details: String },
    /// Anything else abi_stable reported.
    Other { details: String },
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        let t = x.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = x.source();
    }
    s
}

fn map_library_error(e: abi_stable::library::LibraryError) -> LibraryLoadError {
    use abi_stable::library::LibraryError as E;
    match e {
        E::OpenError { err, .. } => LibraryLoadError::Open { reason: chain(&*err) },
        E::GetSymbolError { err, symbol, .. } => LibraryLoadError::NotAHookLibrary {
            reason: format!("no symbol {}: {}", String::from_utf8_lossy(&symbol).trim_end_matches('\0'), chain(&*err)),
        },
        E::IncompatibleVersionNumber { expected_version, actual_version, .. } => {
            LibraryLoadError::IncompatibleVersion {
                expected: expected_version.to_string(),
                found: actual_version.to_string(),
            }
        }
        E::AbiInstability(err) => LibraryLoadError::Layout { details: err.to_string() },
        E::Many(errs) => match errs.into_iter().next() {
            Some(first) => map_library_error(first),
            None => LibraryLoadError::Other { details: "unknown load error".into() },
        },
        other => LibraryLoadError::Other { details: other.to_string() },
    }
}

/// Load a library's root module from its own path (never `load_from_file`,
/// which caches one module per type), checking layout and version. The library
/// stays loaded for the life of the process.
pub fn load_library(path: &std::path::Path) -> Result<HookLibRef, LibraryLoadError> {
    abi_stable::library::lib_header_from_path(path)
        .and_then(|h| h.init_root_module::<HookLibRef>())
        .map_err(map_library_error)
}

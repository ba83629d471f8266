//! The FFI types: values, firings, outcomes, the hook and host tables and the root module.

use super::*;
use abi_stable::library::RootModule;
use abi_stable::nonexhaustive_enum::NonExhaustive;
use abi_stable::sabi_types::{RRef, VersionStrings};
use abi_stable::std_types::{RBox, ROption, RResult, RSlice, RStr, RString, RVec, Tuple2};
use abi_stable::{declare_root_module_statics, sabi_trait, StableAbi};

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

/// An owned, named tensor: what [`FfiReply::State`] carries, element by element.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiNamedTensor {
    pub name: RString,
    pub dtype: u8,
    pub shape: RVec<u64>,
    pub data: RVec<u8>,
}

/// The state of a host object, owned by the receiver (see [`crate::hook::Snapshot`]).
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

/// A host service as it crosses the ABI: the FFI form of [`crate::hook::Request`].
///
/// Append-only and non-exhaustive: a host that does not know a variant (it is older than the
/// library) answers [`FfiReply::Unsupported`]. Storage is fixed at 12 words; a future variant
/// that needs more must hold its payload behind a pointer.
#[repr(u8)]
#[derive(StableAbi)]
#[sabi(kind(WithNonExhaustive(size = [usize; 12], traits(Send, Sync))))]
#[non_exhaustive]
pub enum FfiRequest<'a> {
    Print(RStr<'a>),
    Log(RStr<'a>),
    Summary {
        verbose: bool,
    },
    Stop(RStr<'a>),
    Message {
        experiment: u64,
        messages: RSlice<'a, FfiVar<'a>>,
        keep: u8,
        leader: ROption<RStr<'a>>,
    },
    ExperimentInfo(u64),
    UpdateMeta {
        experiment: u64,
        meta: RSlice<'a, FfiVar<'a>>,
    },
    State(u64),
    MessageWithSummary {
        experiment: u64,
        summary: RSlice<'a, FfiVar<'a>>,
        messages: RSlice<'a, FfiVar<'a>>,
        keep: u8,
        leader: ROption<RStr<'a>>,
    },
    RunParams {
        directory: RStr<'a>,
    },
    SystemMeta {
        groups: RSlice<'a, RStr<'a>>,
    },
}

/// The non-exhaustive (append-only) form of [`FfiRequest`] that crosses the ABI.
pub type FfiRequestNE<'a> = NonExhaustive<FfiRequest<'a>, FfiRequest_Storage, FfiRequest_Interface>;

/// The host's answer, as it crosses the ABI: the FFI form of [`crate::hook::Reply`].
/// Append-only and non-exhaustive like [`FfiRequest`]; storage is fixed at 16 words.
#[repr(u8)]
#[derive(StableAbi)]
#[sabi(kind(WithNonExhaustive(size = [usize; 16], traits(Send, Sync))))]
#[non_exhaustive]
pub enum FfiReply {
    Done,
    Unsupported,
    Error(RString),
    Summary(RVec<Tuple2<RString, RString>>),
    ExperimentInfo(ROption<Tuple2<RString, RString>>),
    State(FfiSnapshot),
    Value(RVec<u8>),
}

/// The non-exhaustive (append-only) form of [`FfiReply`] that crosses the ABI.
pub type FfiReplyNE = NonExhaustive<FfiReply, FfiReply_Storage, FfiReply_Interface>;

/// The host, as a library sees it: one method, which never changes. New services are new
/// [`FfiRequest`] variants, so this table never grows, and it is layout-checked at load like
/// every other type here.
#[sabi_trait]
pub trait FfiHost {
    #[sabi(last_prefix_field)]
    fn request(&self, request: &FfiRequestNE<'_>) -> FfiReplyNE;
}

/// One firing, as it crosses the ABI.
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiFiring<'a> {
    /// `Trigger::index()`, or 255 for a manual (`to_hooks`) call.
    pub trigger: u8,
    pub counters: [u64; 5],
    pub vars: RSlice<'a, FfiVar<'a>>,
    pub host: FfiHost_TO<'a, RRef<'a, ()>>,
    /// A field that exists only in a test fixture's build, to prove that abi_stable
    /// refuses a library whose layout differs from the host's.
    #[cfg(feature = "__fixture_layout_change")]
    pub fixture_extra: u64,
}

/// How the run ended, as [`FfiHook::close`] receives it: the FFI form of [`crate::hook::RunEnd`].
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiRunEnd<'a> {
    /// The status's record spelling (`finished`, `error`, ...).
    pub status: RStr<'a>,
    /// Why, or empty.
    pub reason: RStr<'a>,
}

/// A hook object living in a library.
#[sabi_trait]
pub trait FfiHook: Send {
    fn call(&mut self, firing: &FfiFiring<'_>) -> FfiOutcome;
    fn needs_timing(&self) -> bool;
    /// Close the hook and drop what it holds, reporting a panic in either.
    #[sabi(last_prefix_field)]
    fn close(&mut self, end: FfiRunEnd<'_>, host: FfiHostArg<'_>) -> FfiOutcome;
}

/// The host as an argument of [`FfiHook::close`].
#[repr(C)]
#[derive(StableAbi)]
pub struct FfiHostArg<'a> {
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
    /// The hook ABI version ([`SDK_VERSION`]) it was built for.
    pub sdk_version: RStr<'static>,
    /// Describe the hooks the library provides.
    pub describe: extern "C" fn() -> RVec<FfiHookInfo>,
    /// Construct hook `name` from a spec and options.
    #[sabi(last_prefix_field)]
    pub new_hook: extern "C" fn(RStr<'_>, RStr<'_>, RSlice<'_, FfiVar<'_>>) -> RResult<FfiHookBox, FfiOutcome>,
}

/// The version of the hook ABI, which abi_stable compares at load (for 0.x: the same minor
/// version, or a newer library minor). Independent of the crate's version: it changes only
/// when the types of this module break, and every hook library must then be rebuilt.
/// 0.2.0: host services became one request ([`FfiRequest`]) and `close` learns how the run
/// ended; libraries built for 0.1.0 are refused. 0.3.0: the `RunParams` and `SystemMeta`
/// requests and the `Value` reply (abi_stable's layout check refuses a library whose
/// non-exhaustive enums have fewer variants than the host's, so new variants are a new minor).
#[cfg(not(feature = "__fixture_version_bump"))]
pub const SDK_VERSION: &str = "0.3.0";
/// The version of the xmen crates this ABI comes with, for messages that say what to rebuild against.
pub const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");
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

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

/// An owned, named tensor: what [`FfiHost::state`] returns, element by element.
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

//! Host side: a library hook seen as an ordinary hook.

use super::*;
use crate::hook::{Firing, HookError, Host, Outcome};
use crate::value::{ExperimentHandle, StateHandle};
use crate::valueref::{MapInner, MapRef, ValueRef};
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::sabi_types::RRef;
use abi_stable::std_types::{ROption, RResult, RSlice, RStr, RString, RVec, Tuple2};

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

//! Host side: a library hook seen as an ordinary hook.

use super::*;
use crate::hook::{Firing, HookError, Host, Outcome, Reply, RunEnd, VarsView};
use crate::valueref::ValueRef;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::sabi_types::RRef;
use abi_stable::std_types::{RResult, RSlice, RStr};
use smallvec::SmallVec;

struct HostToFfi<'a> {
    host: &'a dyn Host,
}

impl FfiHost for HostToFfi<'_> {
    fn request(&self, request: &FfiRequestNE<'_>) -> FfiReplyNE {
        // This runs inside abi_stable's `extern "C"` shim: a panic in the host's service
        // (an `Experiments` implementation, a full disk in a writer) must become an answer.
        serve_request(request, |r| {
            let service = r.name();
            guard(|| self.host.request(r))
                .unwrap_or_else(|panic| Reply::Error(format!("the host panicked serving `{service}`: {panic}")))
        })
    }
}

/// A hook constructed by a library, called through the ABI.
pub struct LibraryHook {
    inner: FfiHookBox,
    needs_timing: bool,
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
                Ok(LibraryHook { inner, needs_timing })
            }
            RResult::RErr(o) => {
                Err(outcome_from_ffi(o).err().unwrap_or(CallFailure::Error(HookError::new("unknown error"))))
            }
        }
    }

    /// Call the hook; panics inside it come back as `CallFailure::Panic`.
    pub fn call_ffi(&mut self, firing: &Firing<'_>) -> Result<Outcome, CallFailure> {
        let host = HostToFfi { host: firing.host };
        // On the stack for up to 8 variables, no `unsafe`, filled in place (a `collect` would
        // move the whole inline buffer). A heap buffer reused across calls (a lifetime transmute)
        // saved too little to pay for two more unsafe blocks (see the README's ABI section).
        // Sized once: a firing with many variables (TensorBoard's 100 scalars) allocates once
        // instead of growing the buffer five times.
        let mut vars: SmallVec<[FfiVar<'_>; 8]> = SmallVec::with_capacity(firing.len());
        let plain = match firing.vars {
            // What every host hands over: a plain slice, converted in two tight loops.
            VarsView::Native(native) => fill_ffi_vars(&mut vars, native.len(), |i| native[i]),
            VarsView::Indexed { names, values, picked } => fill_ffi_vars(&mut vars, picked.len(), |i| {
                let j = picked[i];
                (names[j].as_str(), ValueRef::from(&values[j]))
            }),
            VarsView::Ffi(_) => {
                let mut plain = true;
                for (k, v) in firing.vars() {
                    plain &= ffi_value_owns_nothing(&v);
                    push_ffi_var(&mut vars, k, v);
                }
                plain
            }
        };
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
        if plain && !vars.spilled() {
            // Scalars, strings and borrowed slices own nothing, and an inline buffer has no heap
            // allocation: forgetting it leaks nothing and skips one call through the value
            // enum's vtable per variable.
            std::mem::forget(vars);
        }
        outcome
    }

    /// Close the hook and drop it inside its library (a panic in either comes back as
    /// `CallFailure::Panic`).
    pub fn close_ffi(&mut self, end: &RunEnd, host: &dyn Host) -> Result<Outcome, CallFailure> {
        let h = HostToFfi { host };
        let host = FfiHostArg { host: FfiHost_TO::from_ptr(RRef::new(&h), TD_Opaque) };
        outcome_from_ffi(self.inner.close(run_end_to_ffi(end), host))
    }

    /// Whether the hook reads timings.
    pub fn needs_timing(&self) -> bool {
        self.needs_timing
    }
}

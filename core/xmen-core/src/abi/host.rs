//! Host side: a library hook seen as an ordinary hook.

use super::*;
use crate::hook::{Firing, HookError, Host, Outcome, Reply, RunEnd, VarsView};
use crate::value::Value;
use crate::valueref::ValueRef;
use abi_stable::nonexhaustive_enum::NonExhaustive;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::sabi_types::RRef;
use abi_stable::std_types::{RResult, RSlice, RStr};

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
    /// The ABI form of the variables, kept between firings and rewritten in place: a firing of
    /// 100 scalars writes each name and value (~20 instructions a variable) instead of building
    /// 7 KB of `FfiVar`s in a fresh buffer and dropping them through their vtable (~100).
    /// Between calls its borrowed names and values dangle: see [`Scratch`].
    scratch: Scratch,
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
                Ok(LibraryHook { inner, needs_timing, scratch: Scratch::default() })
            }
            RResult::RErr(o) => {
                Err(outcome_from_ffi(o).err().unwrap_or(CallFailure::Error(HookError::new("unknown error"))))
            }
        }
    }

    /// Call the hook; panics inside it come back as `CallFailure::Panic`.
    pub fn call_ffi(&mut self, firing: &Firing<'_>) -> Result<Outcome, CallFailure> {
        let host = HostToFfi { host: firing.host };
        let vars = self.scratch.fill(firing);
        let ffi = FfiFiring {
            trigger: firing.trigger.map_or(255, |t| t.index() as u8),
            counters: firing.counters,
            vars: RSlice::from_slice(vars),
            host: FfiHost_TO::from_ptr(RRef::new(&host), TD_Opaque),
            #[cfg(feature = "__fixture_layout_change")]
            fixture_extra: 0,
        };
        let outcome = outcome_from_ffi(self.inner.call(&ffi));
        drop(ffi);
        self.scratch.release();
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

/// Write `v` into `slot`; whether it owns an allocation (a list or a map).
#[inline]
fn put(slot: &mut FfiVar<'static>, v: ValueRef<'_>) -> bool {
    let owns = !ffi_value_owns_nothing(&v);
    if slot.value.as_enum().is_err() {
        // Unreachable (every element is one this build wrote), and harmless if not.
        slot.value = const { NonExhaustive::new(FfiValue::None) };
    }
    if let Ok(e) = slot.value.as_enum_mut() {
        *e = forever_value(ffi_value_enum(v));
    }
    owns
}

/// The variables of the last firing in ABI form, reused by the next.
///
/// The buffer outlives the firing whose names and values it borrows, so its elements are
/// stored as `FfiVar<'static>`: between two calls their `RStr`/`RSlice` fields hold dangling
/// pointers. Those are raw pointers inside abi_stable's types (not references), never read
/// outside a call: [`Scratch::fill`] overwrites every element it hands out before handing the
/// slice out again, borrowed for no longer than the firing, and dropping one reads nothing
/// it points to (the only owned kinds, lists and maps, own their `RVec` and free only that).
#[derive(Default)]
struct Scratch {
    vars: Vec<FfiVar<'static>>,
    /// The last firing put a list or a map in: released after the call.
    owns: bool,
}

impl Scratch {
    /// Write `firing`'s variables in place and view them for the duration of the firing.
    fn fill<'s, 'a: 's>(&'s mut self, firing: &Firing<'a>) -> &'s [FfiVar<'s>] {
        let n = firing.len();
        if self.vars.len() < n {
            self.vars.resize_with(n, || FfiVar {
                name: RStr::from_str(""),
                value: const { NonExhaustive::new(FfiValue::None) },
            });
        }
        let mut owns = false;
        let slots = &mut self.vars[..n];
        match firing.vars {
            // What the Monitor hands over: its own names and values, numbers written directly.
            VarsView::Indexed { names, values, picked } => {
                for (slot, &j) in slots.iter_mut().zip(picked) {
                    slot.name = forever_str(RStr::from_str(&names[j]));
                    match (&values[j], slot.value.as_enum_mut()) {
                        (Value::Float(f), Ok(e)) => *e = FfiValue::Float(*f),
                        (Value::Int(i), Ok(e)) => *e = FfiValue::Int(*i),
                        (v, _) => owns |= put(slot, ValueRef::from(v)),
                    }
                }
            }
            _ => {
                for (slot, (name, v)) in slots.iter_mut().zip(firing.vars()) {
                    slot.name = forever_str(RStr::from_str(name));
                    owns |= put(slot, v);
                }
            }
        }
        self.owns = owns;
        shrink_vars(&self.vars[..n])
    }

    /// Free what the last firing's lists and maps allocated (scalars own nothing).
    fn release(&mut self) {
        if std::mem::take(&mut self.owns) {
            for var in &mut self.vars {
                if let Ok(e) = var.value.as_enum_mut() {
                    *e = FfiValue::None;
                }
            }
        }
    }
}

//! A hook that reads its variables and does nothing else: the bench `dispatch` measures
//! what one firing costs through the stable ABI (building the borrowed FFI values,
//! crossing into the library, catching panics, returning the outcome).

use xmen::{Firing, Hook, HookError, HookResult, NewHook, Options, Outcome, Spec};

/// Counts its variables.
pub struct Noop;

impl Hook for Noop {
    fn call(&mut self, f: &Firing<'_>) -> HookResult {
        std::hint::black_box(f.vars().count());
        Ok(Outcome::Continue)
    }
}

impl NewHook for Noop {
    const NAME: &'static str = "bench-noop";
    const HELP: &'static str = "Benchmark fixture: reads its variables, does nothing";
    fn new(_spec: &Spec, _o: &Options<'_>) -> Result<Noop, HookError> {
        Ok(Noop)
    }
}

xmen::export_hooks!(Noop);

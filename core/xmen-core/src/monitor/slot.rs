//! A configured hook inside the Monitor: its spec, its cached variable matches and its state.

use super::cost::CostStats;
use crate::abi::{guard, CallFailure, LibraryHook};
use crate::hook::{Firing, Hook, HookError, Host, Outcome};
use crate::spec::Spec;
use crate::value::Value;
use crate::valueref::ValueRef;
use std::collections::HashMap;

/// A value transform applied by the host before a value reaches a hook (the
/// original's `log_fn=`, `sca_fn=`, ...).
pub type Transform = Box<dyn Fn(&str, ValueRef<'_>) -> Value + Send>;

pub(crate) enum SlotHook {
    Native(Box<dyn Hook>),
    Library(LibraryHook),
}

/// One hook as the Monitor runs it.
pub struct HookSlot {
    pub(crate) name: String,
    pub(crate) spec: Spec,
    pub(crate) hook: SlotHook,
    pub(crate) transform: Option<Transform>,
    /// Indices into the variable scope of the names this hook matches.
    pub(crate) matched: Vec<usize>,
    /// How many scope names have been tested against the spec.
    pub(crate) checked: usize,
    /// Per-name match cache for manual (`to_hooks`) calls.
    pub(crate) manual_cache: HashMap<String, bool>,
    pub(crate) disabled: bool,
    pub(crate) calls: u64,
    pub(crate) needs_timing: bool,
    pub(crate) closed: bool,
    /// What its firings cost the training thread.
    pub(crate) cost: CostStats,
}

impl HookSlot {
    /// A hook compiled into the experiment.
    pub fn native(name: impl Into<String>, spec: Spec, hook: Box<dyn Hook>) -> HookSlot {
        let needs_timing = hook.needs().timing;
        HookSlot::with(name.into(), spec, SlotHook::Native(hook), needs_timing)
    }

    /// A hook constructed by a library.
    pub fn library(name: impl Into<String>, spec: Spec, hook: LibraryHook) -> HookSlot {
        let needs_timing = hook.needs_timing();
        HookSlot::with(name.into(), spec, SlotHook::Library(hook), needs_timing)
    }

    fn with(name: String, spec: Spec, hook: SlotHook, needs_timing: bool) -> HookSlot {
        HookSlot {
            name,
            spec,
            hook,
            transform: None,
            matched: Vec::new(),
            checked: 0,
            manual_cache: HashMap::new(),
            disabled: false,
            calls: 0,
            needs_timing,
            closed: false,
            cost: CostStats::default(),
        }
    }

    /// Apply `f` to each matched value before it reaches the hook.
    pub fn with_transform(mut self, f: Transform) -> HookSlot {
        self.transform = Some(f);
        self
    }

    /// The hook's configured name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The hook's spec.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// Test the scope names added since the last firing; returns how many regexes ran.
    pub(crate) fn update_matches(&mut self, names: &[String]) -> u64 {
        let mut evals = 0;
        while self.checked < names.len() {
            if self.spec.matcher().is_some() {
                evals += 1;
                if self.spec.matches(&names[self.checked]) {
                    self.matched.push(self.checked);
                }
            }
            self.checked += 1;
        }
        evals
    }

    pub(crate) fn manual_match(&mut self, name: &str, evals: &mut u64) -> bool {
        if let Some(&m) = self.manual_cache.get(name) {
            return m;
        }
        *evals += 1;
        let m = self.spec.matches(name);
        self.manual_cache.insert(name.to_owned(), m);
        m
    }

    pub(crate) fn call(&mut self, firing: &Firing<'_>) -> Result<Outcome, CallFailure> {
        self.calls += 1;
        match &mut self.hook {
            SlotHook::Native(h) => match guard(|| h.call(firing)) {
                Ok(Ok(o)) => Ok(o),
                Ok(Err(e)) => Err(CallFailure::Error(e)),
                Err(p) => Err(CallFailure::Panic(p)),
            },
            SlotHook::Library(h) => h.call_ffi(firing),
        }
    }

    pub(crate) fn close(&mut self, host: &dyn Host) -> Result<Outcome, CallFailure> {
        self.closed = true;
        match &mut self.hook {
            SlotHook::Native(h) => match guard(|| h.close(host)) {
                Ok(Ok(o)) => Ok(o),
                Ok(Err(e)) => Err(CallFailure::Error(e)),
                Err(p) => Err(CallFailure::Panic(p)),
            },
            SlotHook::Library(h) => h.close_ffi(host),
        }
    }

    pub(crate) fn describe(&self) -> String {
        format!("{} ({})", self.name, self.spec)
    }
}

pub(crate) fn error_text(e: &HookError) -> String {
    match &e.help {
        Some(h) => format!("{}; {h}", e.message),
        None => e.message.clone(),
    }
}

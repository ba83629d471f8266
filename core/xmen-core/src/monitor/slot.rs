//! A configured hook inside the Monitor: its spec, its cached variable matches and its state.

use super::cost::CostStats;
use crate::abi::{guard, CallFailure, LibraryHook};
use crate::hook::{Firing, Hook, HookError, Host, Outcome, RunEnd};
use crate::spec::Spec;
use crate::value::Value;
use crate::valueref::ValueRef;
use std::collections::HashMap;

/// A value transform applied by the host before a value reaches a hook (the
/// original's `log_fn=`, `sca_fn=`, ...).
pub type Transform = Box<dyn Fn(&str, ValueRef<'_>) -> Value + Send>;

/// What the Monitor does after a hook returns an error (`on_error` in a `_hooks` entry).
/// A panic always disables the hook; `stop` also stops the loops after one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    /// Report the first error in full, then at most one line a minute with a count; keep calling.
    #[default]
    Warn,
    /// Report the error and disable the hook for the rest of the run.
    Disable,
    /// Report the error, disable the hook and stop the Monitor's loops (like a hook's `Stop`).
    Stop,
}

impl OnError {
    /// `warn`, `disable` or `stop`.
    pub fn name(self) -> &'static str {
        match self {
            OnError::Warn => "warn",
            OnError::Disable => "disable",
            OnError::Stop => "stop",
        }
    }
}

impl std::str::FromStr for OnError {
    type Err = String;
    fn from_str(s: &str) -> Result<OnError, String> {
        match s {
            "warn" => Ok(OnError::Warn),
            "disable" => Ok(OnError::Disable),
            "stop" => Ok(OnError::Stop),
            other => Err(format!("on_error `{other}` is not a policy; use warn, disable or stop")),
        }
    }
}

/// How often a hook's repeated errors are reported under [`OnError::Warn`].
pub(crate) const ERROR_REPORT_PERIOD: std::time::Duration = std::time::Duration::from_secs(60);

/// The error reports of one hook: the first in full, then at most one line per period.
#[derive(Default)]
pub(crate) struct ErrorReports {
    /// Errors not reported yet.
    pub(crate) pending: u64,
    /// When the last line was printed (`None`: never).
    pub(crate) last: Option<std::time::Instant>,
}

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
    pub(crate) on_error: OnError,
    pub(crate) errors: ErrorReports,
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
            on_error: OnError::default(),
            errors: ErrorReports::default(),
            cost: CostStats::default(),
        }
    }

    /// What to do when the hook returns an error (default [`OnError::Warn`]).
    pub fn with_on_error(mut self, on_error: OnError) -> HookSlot {
        self.on_error = on_error;
        self
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

    pub(crate) fn close(&mut self, end: &RunEnd, host: &dyn Host) -> Result<Outcome, CallFailure> {
        self.closed = true;
        match &mut self.hook {
            SlotHook::Native(h) => match guard(|| h.close(end, host)) {
                Ok(Ok(o)) => Ok(o),
                Ok(Err(e)) => Err(CallFailure::Error(e)),
                Err(p) => Err(CallFailure::Panic(p)),
            },
            SlotHook::Library(h) => h.close_ffi(end, host),
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

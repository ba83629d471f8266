//! Library side: adapters from the safe traits to the ABI (monomorphised into each hook library).

use super::*;
use crate::hook::{Firing, Hook, HookError, Host, NewHook, OptionInfo, Options, Outcome, Reply, Request, VarsView};
use crate::spec::{Spec, Trigger};
use crate::valueref::{MapInner, MapRef};
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::sabi_types::RRef;
use abi_stable::std_types::{RResult, RSlice, RStr, RString, RVec};

struct HostFromFfi<'b, 'x, 'y> {
    host: &'b FfiHost_TO<'x, RRef<'y, ()>>,
}

impl Host for HostFromFfi<'_, '_, '_> {
    fn request(&self, request: Request<'_>) -> Reply {
        send_request(request, |r| self.host.request(r))
    }
}

/// A hook inside its library. The hook is dropped in [`FfiHook::close`] (or, for a hook that
/// was never closed, in `Drop`), inside a guard either way: a panicking `Drop` must not unwind
/// into abi_stable's `extern "C"` destructor, which aborts the process.
struct PluginHook {
    hook: Option<Box<dyn Hook>>,
}

fn panic_outcome(message: String) -> FfiOutcome {
    FfiOutcome { kind: outcome::PANIC, message: message.into(), help: RString::new() }
}

impl FfiHook for PluginHook {
    fn call(&mut self, firing: &FfiFiring<'_>) -> FfiOutcome {
        let Some(hook) = self.hook.as_mut() else {
            return outcome_to_ffi(Err(HookError::new("the hook was called after it was closed")));
        };
        let host = HostFromFfi { host: &firing.host };
        let f = Firing {
            trigger: Trigger::from_index(usize::from(firing.trigger)),
            counters: firing.counters,
            vars: VarsView::Ffi(erase_vars(firing.vars.as_slice())),
            host: &host,
        };
        match guard(|| hook.call(&f)) {
            Ok(r) => outcome_to_ffi(r),
            Err(panic) => panic_outcome(panic),
        }
    }
    fn needs_timing(&self) -> bool {
        self.hook.as_ref().is_some_and(|h| guard(|| h.needs().timing).unwrap_or(false))
    }
    fn close(&mut self, end: FfiRunEnd<'_>, host: FfiHostArg<'_>) -> FfiOutcome {
        let Some(mut hook) = self.hook.take() else { return outcome_to_ffi(Ok(Outcome::Continue)) };
        let host = HostFromFfi { host: &host.host };
        let end = run_end_from_ffi(&end);
        let closed = guard(|| hook.close(&end, &host));
        let dropped = guard(move || drop(hook));
        match (closed, dropped) {
            (Err(panic), _) => panic_outcome(panic),
            (Ok(_), Err(panic)) => panic_outcome(format!("dropping the hook panicked: {panic}")),
            (Ok(r), Ok(())) => outcome_to_ffi(r),
        }
    }
}

impl Drop for PluginHook {
    fn drop(&mut self) {
        if let Some(hook) = self.hook.take() {
            // Nobody is left to report to (the host dropped the hook without closing it, e.g.
            // after it panicked): say it on stderr rather than abort.
            if let Err(panic) = guard(move || drop(hook)) {
                eprintln!("WARNING: dropping a hook panicked: {panic}");
            }
        }
    }
}

/// What a hook type says about itself: name, help, options, example specs.
#[doc(hidden)]
pub type HookDescription = (String, String, Vec<OptionInfo>, Vec<String>);
/// A constructor of boxed hooks.
#[doc(hidden)]
pub type HookBuilder = fn(&Spec, &Options<'_>) -> Result<Box<dyn Hook>, HookError>;

/// One constructible hook of a library, as `export_hooks!` lists them.
#[doc(hidden)]
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
            info: || {
                (
                    H::NAME.to_owned(),
                    H::HELP.to_owned(),
                    H::OPTIONS.iter().map(OptionInfo::from).collect(),
                    H::EXAMPLES.iter().map(|e| (*e).to_owned()).collect(),
                )
            },
            build: |spec, opts| H::new(spec, opts).map(|h| Box::new(h) as Box<dyn Hook>),
        }
    }
}

/// The list of hooks a library exports (implemented by `export_hooks!`).
#[doc(hidden)]
pub trait HookSet {
    /// The entries, in declaration order.
    fn entries() -> Vec<HookEntry>;
}

/// Describe the hooks of a set (the root module's `describe`).
#[doc(hidden)]
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
#[doc(hidden)]
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
        Ok(FfiHook_TO::from_value(PluginHook { hook: Some(hook) }, TD_Opaque))
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

//! Library side: adapters from the safe traits to the ABI (monomorphised into each hook library).

use super::*;
use crate::hook::{Firing, Hook, HookError, Host, Keep, NewHook, OptionInfo, Options, Snapshot, VarsView};
use crate::spec::{Spec, Trigger};
use crate::value::{ExperimentHandle, StateHandle};
use crate::valueref::{MapInner, MapRef, ValueRef};
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::sabi_types::RRef;
use abi_stable::std_types::{ROption, RResult, RSlice, RStr, RString, RVec};

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
            info: || (H::NAME.to_owned(), H::HELP.to_owned(), H::options(), H::examples()),
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

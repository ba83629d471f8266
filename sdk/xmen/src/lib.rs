//! # xmen
//!
//! A fast, reproducible experiment manager for machine-learning research.
//!
//! This crate is the one dependency of experiment and hook authors:
//! - experiments wrap their training loops in a [`Monitor`], publish values with
//!   [`Monitor::set`](xmen_core::monitor::Monitor::set) or [`vars!`], and configure hooks with [`Monitor::builder`];
//! - hook authors implement [`Hook`] (one required method) and [`NewHook`], and export
//!   them from a `cdylib` with [`export_hooks!`]. They write no `unsafe` and see no FFI type.
//!   A hook crate depends on `xmen-hook` alone, which this crate re-exports.
//!
//! Semver: the names re-exported here are the stable surface. Everything under
//! `__private` exists for the macros and may change in any release.
//!
//! ```
//! use xmen::{Monitor, Firing, Hook, HookResult, Outcome};
//!
//! struct Sum(f64);
//! impl Hook for Sum {
//!     fn call(&mut self, f: &Firing<'_>) -> HookResult {
//!         self.0 += f.f64("loss")?;
//!         Ok(Outcome::Continue)
//!     }
//! }
//!
//! let m = Monitor::builder().hook_at("loss@5s", Sum(0.0)).build()?;
//! for i in m.iter(0..10) {
//!     m.set("loss", i as f64);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use xmen_core::hook::{
    Firing, Hook, HookError, HookResult, Host, Keep, Needs, NewHook, OptionDecl, OptionInfo, Options, Outcome, Reply,
    Request, RunEnd, RunStatus, Snapshot, Vars,
};
pub use xmen_core::spec::{Spec, SpecError, Trigger};
pub use xmen_core::value::{DType, ExperimentHandle, StateDict, StateHandle, Tensor, Value};
pub use xmen_core::valueref::{ListRef, MapRef, TensorRef, ValueRef};
pub use xmen_core::{export_hooks, pyfmt, vars};

/// The Monitor: wraps training loops, counts step/epoch/era/eon/supereon and fires hooks.
///
/// It dereferences to the core Monitor, which has every loop, counter, variable and
/// logging method; this type adds [`Monitor::builder`].
pub struct Monitor(xmen_core::monitor::Monitor);

impl Monitor {
    /// Start configuring a Monitor.
    #[cfg(feature = "run")]
    pub fn builder() -> MonitorBuilder {
        MonitorBuilder::default()
    }

    /// Wrap a core Monitor.
    pub fn from_core(m: xmen_core::monitor::Monitor) -> Monitor {
        Monitor(m)
    }

    /// A Monitor without hooks.
    pub fn plain() -> Monitor {
        Monitor(xmen_core::monitor::Monitor::new(Default::default()))
    }
}

/// Closing a Monitor inside an experiment's run leaves what its hooks cost for the run's
/// `_hooks_cost` (see `xmen_core::monitor::cost`).
impl Drop for Monitor {
    fn drop(&mut self) {
        self.0.close();
        #[cfg(feature = "experiment")]
        experiment::cost::deposit(self.0.hooks_cost());
    }
}

impl std::ops::Deref for Monitor {
    type Target = xmen_core::monitor::Monitor;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

mod capture;
pub use capture::Capture;

#[cfg(feature = "run")]
mod builder;
#[cfg(feature = "checkpoint")]
pub mod checkpoint;
#[cfg(feature = "run")]
pub use builder::{BuildError, MonitorBuilder};

/// Hook configuration and loading (the `_hooks` list).
#[cfg(feature = "run")]
pub mod hooks {
    pub use xmen_loader::{hook_name, library_file_name, HookConfig, LoadError, LoadErrors, Loader, SearchPath};

    /// Parse YAML holding a `_hooks:` list (or a bare list) of hook entries:
    ///
    /// ```
    /// let hooks = xmen::hooks::parse_hooks_yaml(r#"
    /// _hooks:
    ///   - {hook: logger, spec: "x@2s", options: {join: "|"}}
    ///   - {hook: timer, spec: "@1e"}
    /// "#, "example.yml")?;
    /// assert_eq!(hooks[1].hook, "timer");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse_hooks_yaml(text: &str, origin: &str) -> Result<Vec<HookConfig>, LoadError> {
        let value = xmen_record::yaml::parse(text, std::path::Path::new(origin))
            .map_err(|e| LoadError::Config(e.to_string()))?;
        let list = match &value {
            crate::Value::Map(m) => {
                m.iter().find(|(k, _)| k == "_hooks").map(|(_, v)| v.clone()).unwrap_or(crate::Value::None)
            }
            other => other.clone(),
        };
        HookConfig::list_from_value(&list)
    }
}

#[cfg(feature = "experiment")]
pub mod experiment;
#[cfg(feature = "experiment")]
pub use experiment::{
    experiment, main, main_with_args, Experiment, ExperimentError, LiveRoots, ParamError, ParamInfo, ParamValue,
    Parameters, Root, RunResult,
};
/// `#[derive(Experiment)]`: see the [`Parameters`] trait for the attributes.
#[cfg(feature = "experiment")]
pub use xmen_macros::Experiment;

#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "experiment")]
    pub use crate::experiment::private::*;
    pub use xmen_core;
}

/// The README's code blocks, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

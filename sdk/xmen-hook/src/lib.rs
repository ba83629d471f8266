//! # xmen-hook
//!
//! Everything a hook author needs, and nothing else: implement [`Hook`] (one required method)
//! and [`NewHook`] (a name, a line of help, declared options, a constructor), export the hooks
//! from a `cdylib` with [`export_hooks!`], and test them in-process with [`testing::Harness`].
//! A hook author writes no `unsafe` and sees no FFI type.
//!
//! Key design choice: this crate has no features and depends on xmen's core only, so a hook
//! library links no loader, no record crate, no command line and no signal handling, and cargo
//! builds one variant of it whatever else is in the build. What a hook needs from the run
//! (printing, the Monitor's summary, messages to a record, checkpointable state) it asks the
//! host for, through [`Host`] (one [`Request`], one [`Reply`]).
//!
//! ```
//! use xmen_hook::{Firing, Hook, HookError, HookResult, NewHook, OptionDecl, Options, Outcome, Spec};
//!
//! /// Stop the run when a matched value exceeds `max`.
//! pub struct Threshold { max: f64 }
//!
//! impl Hook for Threshold {
//!     fn call(&mut self, f: &Firing<'_>) -> HookResult {
//!         for (name, v) in f.vars() {
//!             if v.as_f64().is_some_and(|x| x > self.max) {
//!                 return Ok(Outcome::Stop(format!("---- {name} exceeded {} ----", self.max)));
//!             }
//!         }
//!         Ok(Outcome::Continue)
//!     }
//! }
//!
//! impl NewHook for Threshold {
//!     const NAME: &'static str = "threshold";
//!     const HELP: &'static str = "Stop the run when a matched value exceeds `max`";
//!     const OPTIONS: &'static [OptionDecl] = &[OptionDecl::new("max", "float", "the largest value allowed").default("1e9")];
//!     fn new(_spec: &Spec, o: &Options<'_>) -> Result<Self, HookError> {
//!         Ok(Threshold { max: o.f64("max")?.unwrap_or(1e9) })
//!     }
//! }
//!
//! xmen_hook::export_hooks!(Threshold);
//!
//! // In the crate's own tests:
//! use xmen_hook::testing::Harness;
//! let mut h = Harness::<Threshold>::new("loss@1s", &[("max", 2.0.into())])?;
//! assert_eq!(h.fire(&[("loss", 1.0.into())])?, Outcome::Continue);
//! assert!(matches!(h.fire(&[("loss", 3.0.into())])?, Outcome::Stop(_)));
//! # Ok::<(), HookError>(())
//! ```
//!
//! ## Options the host provides
//!
//! A hook that declares one of these options (in [`NewHook::OPTIONS`]) receives it for every
//! run, whatever the hook is called, unless its configuration sets it:
//!
//! | option | value |
//! |---|---|
//! | `directory` | the run's folder (the Monitor's directory, else the experiment record's folder), as a string |
//!
//! Semver: the names re-exported here are the stable surface.

pub mod testing;

pub use xmen_core::hook::{
    Firing, Hook, HookError, HookResult, Host, Keep, Needs, NewHook, OptionDecl, OptionInfo, Options, Outcome, Reply,
    Request, RunEnd, RunStatus, Snapshot, Vars,
};
pub use xmen_core::spec::{Spec, SpecError, Trigger};
pub use xmen_core::value::{DType, ExperimentHandle, StateDict, StateHandle, Tensor, Value};
pub use xmen_core::valueref::{ListRef, MapRef, TensorRef, ValueRef};
pub use xmen_core::{export_hooks, pyfmt};

/// The options every host fills in for a hook that declares them (see the crate docs).
pub const HOST_OPTIONS: &[&str] = xmen_core::hook::HOST_OPTIONS;

//! Checkpoints: checkpointable state, the checkpoint file, `load`, and resuming a run
//! (`checkpoints/VAR/STEP.safetensors`; docs/file-formats.md#outputs-of-a-run).
//!
//! **Key design choice: objects stay with the host; hooks get handles and ask for state on
//! demand.** A checkpointable object is registered once as a [`Tracked`] (a tch `VarStore`
//! through `track_var_store` with feature `tch`, any serde value through [`Json`], a map of
//! tensors as is) and published into the Monitor's scope as a `Value::State` handle. Nothing
//! is copied per step. When a Checkpointer hook fires, it asks the host for the handle's state
//! (the host request `Request::State`), which copies the object's named tensors
//! (dtype, shape, bytes) and metadata out once, across the stable ABI, so the hook library
//! needs no libtorch. Passing state as a `Value::Map` of tensors instead would copy every
//! weight into the scope at every step, whether or not a checkpoint fires; a map of tensors
//! set as a variable still works and is saved as is.
//!
//! The file format is safetensors (see [`format`](mod@format)): Python's `safetensors` and tch read it,
//! and its metadata carries the counters, `version` and `date`. Files are written to a
//! temporary file and renamed, so a run killed mid-save leaves the previous checkpoint
//! intact; rotation only deletes after the rename, never the newest file and never the one
//! the run resumed from.
//!
//! # Resuming a run
//!
//! The resume contract: when the experiment runner (`xmen::main`) starts a run on a record
//! whose status is `timeout`, `requeue` or `stopped`, or with `--restart`, it marks the
//! run's folder as resuming. A Monitor built with a directory inside that folder then, in
//! `build()`, restores each object named with [`MonitorBuilder::state`](crate::MonitorBuilder::state)
//! from its newest checkpoint under `{directory}/checkpoints` (or the first `ckpt_dir`), and
//! restores the Monitor's counters from the first object restored. Missing checkpoints are
//! logged and skipped, so the first run of an experiment and a resumed one run the same code:
//!
//! ```no_run
//! use xmen::checkpoint::{Json, Tracked};
//! use xmen::{Monitor, Root, RunResult, Value};
//!
//! fn run(root: &Root) -> RunResult {
//!     let model = Tracked::new(vec![("w".to_owned(), xmen::Tensor::from_f32(&[1], &[0.0]))]);
//!     let best = Tracked::new(Json(f64::INFINITY));
//!     let m = Monitor::builder()
//!         .directory(root.directory())
//!         .state("model", &model)
//!         .state("best", &best)
//!         .ckpt("^model$|^best$@1e")
//!         .ckpt_keep(3)
//!         .build()?;
//!     // After a resume the counters are restored: start the loop where the run stopped.
//!     for epoch in m.iter(m.epoch()..10) {
//!         for batch in m.iter(0..100) {
//!             let _ = (epoch, batch); // one training step on `model.lock()`
//!         }
//!     }
//!     Ok(())
//! }
//! ```
//!
//! Counters continue, so step numbers in logs, TensorBoard and checkpoint names continue,
//! and a `limit` compares the restored counters with `>=`. Loops start from
//! `m.epoch()` (or skip `m.step()` items) themselves; resume at the boundaries the
//! checkpoints are taken at (`@1e` for epochs) for an exact continuation. A Monitor can
//! also resume by hand: [`Monitor::load`](crate::Monitor::load) or `.resume(true)` on the builder.

pub use xmen_checkpoint_format::format;
mod load;
mod monitor;
mod resume;
mod state;
#[cfg(feature = "tch")]
mod tch;

#[cfg(feature = "run")]
mod builder;
#[cfg(feature = "run")]
pub(crate) use builder::CkptArgs;

pub use load::{load, Loaded, LoadedObject};
pub use monitor::LoadOptions;
pub use resume::{is_resuming, mark_resuming};
pub use state::{Json, LiveStates, State, Tracked, JSON_KEY};
#[cfg(feature = "tch")]
pub use tch::{tensor_from_tch, tensor_to_tch, track_var_store, VarStoreState};
pub use xmen_checkpoint_format::{
    items, no_directory_warning, no_state_warning, saved_line, CheckpointError, Item, StateError, TENSOR_MAP_TYPE,
};
pub use xmen_core::hook::Snapshot;
pub use xmen_core::value::StateDict;

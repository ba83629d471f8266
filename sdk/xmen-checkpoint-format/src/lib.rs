//! The xmen checkpoint format, shared by the host and the Checkpointer hook: the safetensors
//! file (`{folder}/{step}.safetensors`, see [`format`](mod@format)), which variables a checkpoint saves and
//! under what names ([`items()`]), and the errors of both.
//!
//! Key design choice: a format crate, not part of the SDK, so that the Checkpointer hook links
//! `xmen-hook` and this alone (no loader, record, clap or signal handling in a hook library)
//! while `xmen::checkpoint` (`load`, `Monitor::checkpoint`, resuming) writes and reads the very
//! same files.

mod error;
pub mod format;
mod items;

pub use error::{python_list, CheckpointError, StateError};
pub use items::{items, no_directory_warning, no_state_warning, saved_line, Item, TENSOR_MAP_TYPE};

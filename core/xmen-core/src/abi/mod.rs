//! The stable hook ABI: every FFI type of xmen lives in this module.
//!
//! Hook libraries are `cdylib`s loaded at run time. abi_stable checks, at load,
//! that the library's view of every type below has the same layout as the host's,
//! and that both were built against compatible versions of this crate (the crate
//! that declares the root module). Three things are append-only, so that adding to
//! them later breaks no published hook:
//! - the root module [`HookLib`] and the vtables of [`FfiHost`] and [`FfiHook`]
//!   (prefix types: new fields and methods go after `last_prefix_field`);
//! - the value enum [`FfiValue`], stored as a non-exhaustive enum, so an old library
//!   sees a value kind it does not know as `ValueRef::Unknown`.
//!
//! Values are borrowed from the host for the duration of a call; nothing here
//! allocates per scalar. Panics never cross the boundary: the glue catches them on
//! the library's side and returns them as data.
//!
//! This module alone allows `unsafe_code` and `non_local_definitions`: abi_stable's
//! derive and `#[sabi_trait]` expand to unsafe blocks and non-local impls, and the
//! library header that `export_hooks!` emits is an exported `static`.
#![allow(unsafe_code, non_local_definitions, missing_docs, clippy::unwrap_used)]

pub use abi_stable;

mod convert;
mod export;
mod guard;
mod host;
mod library;
pub mod manifest;
mod types;

pub use convert::*;
pub use export::*;
pub use guard::*;
pub use host::*;
pub use library::*;
pub use types::*;

#[cfg(test)]
mod tests;

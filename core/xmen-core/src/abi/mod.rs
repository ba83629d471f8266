//! The stable hook ABI: every FFI type of xmen lives in this module.
//!
//! Hook libraries are `cdylib`s loaded at run time (by `xmen-loader`). abi_stable checks, at
//! load, that the library's view of every type below has the same layout as the host's, and
//! that both were built for compatible versions of the hook ABI ([`SDK_VERSION`]). What grows
//! is append-only, so that adding to it later breaks no published hook:
//! - the root module [`HookLib`] (a prefix type: new fields go after `last_prefix_field`);
//! - the value enum [`FfiValue`] and the host's request and reply, [`FfiRequest`] and
//!   [`FfiReply`], stored as non-exhaustive enums: a kind a build does not know reads as
//!   `ValueRef::Unknown`, a request a host does not know is answered "unsupported".
//!
//! The host is one method ([`FfiHost::request`]), so its table never grows and is checked at
//! load like everything else. Values are borrowed from the host for the duration of a call;
//! nothing here allocates per scalar. Panics never cross the boundary: the library's glue
//! catches them in every entry point (constructor, call, close, drop, describe) and returns
//! them as data, and the host's glue catches them in its services.
//!
//! One job per file: [`types`](self) (the FFI types), `convert` (safe types to FFI and back),
//! `guard` (panic capture), `host` (a library hook seen by the host), `library` (the library's
//! adapters), `export` (the root module, header and `export_hooks!`) and [`manifest`].
//!
//! This module alone allows `unsafe_code` and `non_local_definitions`: abi_stable's derive and
//! `#[sabi_trait]` expand to unsafe blocks and non-local impls, and the library header that
//! `export_hooks!` emits is an exported `static`. The hand-written `unsafe` blocks are three:
//! two lifetime casts in `convert` and the library header in `export`, each with its
//! `SAFETY:` comment and run by the tests in `tests`.
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

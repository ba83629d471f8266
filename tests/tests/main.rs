//! xmen's integration tests: the real hook libraries and misbehaving fixture libraries
//! loaded through the loader, panicking hooks, the examples' transcripts and the
//! builder's errors. The harness (`xmen_tests`) builds every library first.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod builder_errors;
mod checkpointer;
mod docs_citations;
mod examples;
mod harness;
mod hook_deps;
mod hook_panics;
mod hook_stop;
mod hooks_cli;
mod load_failures;
mod parsers;
mod real_hooks;
mod resolution;
mod stranger;
mod walkthrough;

//! Experiment sets: the library behind `xmen init`, `register`, `run`, `note`, `reset`,
//! `unlink`, `relink`, `clean`, `rm`, `move`, `experiments` and `config` (their files: docs/file-formats.md).
//!
//! **Key design choice: every command is two steps, a pure check and then the disk work, and
//! every write goes through a lock.** The sweep grammar ([`sweep::Sweep`]) and patterns
//! ([`select::Pattern`]) parse without touching the disk, so the command line validates its
//! input before any I/O; registration casts every alternative against the defaults before the
//! first folder exists. experiment.yml is changed only by a locked read-modify-write
//! ([`setfile::SetFile::update`]) and params.yml only through the record crate's
//! ([`xmen_record::RecordFile::update`]), so commands run concurrently with each other and
//! with running experiments without losing updates. Paths are always resolved against the
//! set root, never the cwd (the original's `register` and `clean` used the cwd), and experiment.yml keeps
//! each experiment together with its overrides so the original's two parallel lists never drift.
//!
//! This crate prints nothing: each operation returns what it did (or, for destructive ones,
//! what it would do), and the `xmen` binary words it.

pub mod config;
pub mod error;
pub mod heal;
pub mod init;
pub mod launch;
pub mod list;
pub mod naming;
pub mod ops;
mod par;
pub mod reconcile;
pub mod register;
pub mod registry;
pub mod relink;
pub mod scripts;
pub mod select;
pub mod set;
pub mod setfile;
pub mod slurm;
pub mod sweep;

pub use error::{ManagerError, Result};
pub use init::{init, InitOpts, InitReport, InitSource};
pub use launch::{plan_runs, Launch, RunPlan, StatusFilter};
pub use register::{register, RegisterOpts, RegisterReport};
pub use select::Pattern;
pub use set::ExperimentSet;
pub use setfile::{Entry, SetFile};
pub use sweep::{Sweep, SweepError};

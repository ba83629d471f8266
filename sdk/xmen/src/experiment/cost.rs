//! The hooks' cost of the run in progress (issue 15): every Monitor dropped during the body
//! leaves what its hook entries cost (`xmen_core::monitor::Monitor::hooks_cost`) here, and the
//! runner stores them all as `_hooks_cost` in the same record write that ends the run, with each
//! entry's share of the body's wall time.
//!
//! Key design choice: no record write of its own. Collecting in the process and writing once at
//! the end costs the training loop nothing and keeps the end of a run one locked write, whatever
//! number of Monitors the body built.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use xmen_core::monitor::HookCost;
use xmen_record::hookscost::HookCostEntry;

struct Collected {
    started: Instant,
    costs: Vec<HookCost>,
}

static RUN: Mutex<Option<Collected>> = Mutex::new(None);

/// Start collecting for a body starting now.
pub(crate) fn begin() {
    *RUN.lock().unwrap_or_else(PoisonError::into_inner) =
        Some(Collected { started: Instant::now(), costs: Vec::new() });
}

/// A Monitor closed: keep its entries when a run is in progress.
pub(crate) fn deposit(costs: Vec<HookCost>) {
    if let Some(run) = RUN.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
        run.costs.extend(costs);
    }
}

/// Stop collecting: the entries to store, each with its share of the body's wall time.
pub(crate) fn take() -> Vec<HookCostEntry> {
    match RUN.lock().unwrap_or_else(PoisonError::into_inner).take() {
        Some(run) => HookCostEntry::from_costs(&run.costs, run.started.elapsed()),
        None => Vec::new(),
    }
}

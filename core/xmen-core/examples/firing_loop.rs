//! Monitor steps for instruction counting under callgrind (benches/callgrind.sh): wall-clock
//! benches on a loaded machine measure the neighbours; instruction counts do not.
//!
//! `firing_loop MODE STEPS` runs STEPS Monitor steps of an untimed loop. MODE:
//! `no_fire` (a hook that never fires), `fire_1` (one in-process hook fires every step with 5
//! variables), `fire_4` (four fire every step). Running it twice with different STEPS and
//! subtracting the counts gives the instructions of one step, without the set-up (only
//! `steps_of` is counted; the first steps' one-time work cancels in the difference).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::io::sink;
use xmen_core::hook::{Firing, Hook, HookResult, Outcome};
use xmen_core::monitor::{HookSlot, Monitor, MonitorConfig, Output};
use xmen_core::spec::Spec;

struct Noop;
impl Hook for Noop {
    fn call(&mut self, f: &Firing<'_>) -> HookResult {
        black_box(f.len());
        Ok(Outcome::Continue)
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "fire_1".into());
    let steps: u64 = args.next().map_or(100_000, |s| s.parse().unwrap());
    let (spec, hooks) = match mode.as_str() {
        "no_fire" => ("v@1000000000s", 1),
        "fire_1" => ("v@1s", 1),
        "fire_4" => ("v@1s", 4),
        other => panic!("unknown mode {other}: no_fire, fire_1 or fire_4"),
    };
    let m = Monitor::new(MonitorConfig {
        hooks: (0..hooks).map(|_| HookSlot::native("noop", Spec::parse(spec).unwrap(), Box::new(Noop))).collect(),
        output: Some(Output::Writer(Box::new(sink()))),
        ..Default::default()
    });
    for i in 0..5 {
        m.set(&format!("v{i}"), i as f64);
    }
    // Calibrate the TSC first: calibration runs until it converges, a varying count.
    black_box(quanta::Clock::new());
    steps_of(&m, steps);
}

/// The counted part (callgrind's `--toggle-collect=*steps_of*`).
#[inline(never)]
fn steps_of(m: &Monitor, steps: u64) {
    for s in m.iter(0..steps) {
        black_box(s);
    }
}

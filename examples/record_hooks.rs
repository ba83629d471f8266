//! An experiment whose hooks are all declared in its record: it builds a plain
//! `Monitor::builder().build()`, and whatever `_hooks` its defaults.yml or params.yml lists
//! (an `early-stop`, a third-party `jsonl` writer, ...) runs, with no rebuild.
//!
//! ```text
//! cargo run -p xmen-examples --example record_hooks -- -r /tmp/set     # writes defaults.yml
//! # add to /tmp/set/defaults.yml:
//! #   _hooks:
//! #     - {hook: early-stop, spec: "val_acc@1e", options: {condition: max, memory: 2}}
//! xmen init -r /tmp/set && xmen register -r /tmp/set -u "{plateau: 3 | 20}" && xmen run -r /tmp/set '*' bash
//! ```

use xmen::{Experiment, Monitor, Root, RunResult};

/// Trains a toy model whose validation accuracy stops improving after `plateau` epochs.
#[derive(Experiment)]
struct RecordHooks {
    /// Epochs to train
    #[param(default = 10)]
    epochs: usize,
    /// Steps per epoch
    #[param(default = 5)]
    steps: usize,
    /// The epoch after which the validation accuracy stops improving
    #[param(default = 3)]
    plateau: usize,
}

impl Experiment for RecordHooks {
    fn run(&mut self, _root: &Root) -> RunResult {
        // No hooks in code: the run's `_hooks` are added by the builder.
        let m = Monitor::builder().build()?;
        let mut epochs = 0;
        for epoch in m.iter(0..self.epochs) {
            for step in m.iter(0..self.steps) {
                m.set("loss", 1.0 / (1.0 + (epoch * self.steps + step) as f64));
            }
            let acc = if epoch < self.plateau { 0.5 + 0.1 * epoch as f64 } else { 0.5 };
            m.set("val_acc", acc);
            epochs += 1;
        }
        println!("trained {epochs} epochs");
        Ok(())
    }
}

fn main() {
    xmen::main::<RecordHooks>()
}

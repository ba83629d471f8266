//! The original's `timeout.py`: a run that messages every step and sleeps, meant to be stopped
//! by SLURM (SIGUSR1 before the time limit, SIGTERM on `scancel` or `scontrol requeue`) to
//! exercise the `timeout`, `requeue` and `stopped` statuses and resuming.
//!
//! It checkpoints its one piece of state (the seconds slept) every step with the Checkpointer
//! hook library, so a run started again on its `timeout`/`requeue`/`stopped` record continues
//! from the step it stopped at: the `step` message and the `step N` lines continue without a
//! gap or a repeat.
//!
//! ```text
//! cargo build -p xmen-hook-checkpointer && cargo build -p xmen-examples --example timeout
//! xmen experiments --add timeout ./target/debug/examples/timeout
//! xmen init -n timeout -r sleepy && cd sleepy && xmen register -u "{steps: 120}"
//! xmen run '*' sbatch --requeue --signal=USR1@30 --time=1
//! ```

use std::time::Duration;

use xmen::checkpoint::{Json, Tracked};
use xmen::{Experiment, Monitor, Root, RunResult, Value};

/// Sleep a little every step and message the step, checkpointing as it goes
#[derive(Experiment)]
struct Timeout {
    /// How many steps to run
    #[param(default = 20)]
    steps: u64,
    /// Seconds to sleep each step
    #[param(default = 1.0)]
    sleep: f64,
}

impl Experiment for Timeout {
    fn run(&mut self, root: &Root) -> RunResult {
        let seconds = Tracked::new(Json(0.0_f64));
        let m = Monitor::builder()
            .directory(root.directory())
            .state("seconds", &seconds)
            .ckpt("^seconds$@1s")
            .ckpt_keep(2)
            .output(std::io::sink())
            .build()?;
        let first = m.step();
        if first > 0 {
            println!("resumed after step {first}");
        }
        for _ in m.iter(first..self.steps) {
            let step = m.step() + 1;
            std::thread::sleep(Duration::from_secs_f64(self.sleep.max(0.0)));
            let slept = {
                let mut s = seconds.lock();
                s.0 += self.sleep;
                s.0
            };
            println!("step {step}");
            root.message([("step", Value::from(step as i64)), ("seconds", Value::from(slept))])?;
        }
        Ok(())
    }
}

fn main() {
    xmen::main::<Timeout>()
}

//! A small, real training run for the quickstart: fit `y = 3x - 1` by SGD on a
//! synthetic data set, inside a Monitor whose Logger, Timer and Messenger hooks are
//! loaded from their libraries at run time. The Messenger leaves the best loss (and the
//! step it was reached at) in the run's params.yml, so `xmen list` can compare a sweep.
//!
//! ```text
//! cargo run -p xmen-examples --example train_toy -- -u "{lr: 0.05}" -x /tmp/toy
//! ```

use xmen::{Experiment, Monitor, Root, RunResult};

/// Fit a line by stochastic gradient descent.
#[derive(Experiment)]
struct TrainToy {
    /// The learning rate
    #[param(default = 0.01)]
    lr: f64,
    /// Passes over the data
    #[param(default = 3)]
    epochs: u64,
    /// Samples in the data set
    #[param(default = 200)]
    samples: u64,
    /// Seed of the data set
    #[param(default = 7)]
    seed: u64,
}

/// A small deterministic generator (xorshift), so runs are reproducible.
fn uniform(state: &mut u64) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

impl Experiment for TrainToy {
    fn run(&mut self, root: &Root) -> RunResult {
        let mut state = self.seed.max(1);
        let data: Vec<(f64, f64)> = (0..self.samples)
            .map(|_| {
                let x = uniform(&mut state) * 2.0 - 1.0;
                (x, 3.0 * x - 1.0 + 0.1 * (uniform(&mut state) - 0.5))
            })
            .collect();
        let m = Monitor::builder()
            .log("loss@50s")
            .log_format(".5f")
            .log("w|b@1e")
            .time("@1e")
            .msg("loss|step_best->root@100s")
            .msg_keep("min")
            .msg_leader("^loss$")
            .directory(root.directory())
            .build()?;
        m.set("root", root);
        let (mut w, mut b) = (0.0f64, 0.0f64);
        for _ in m.iter(0..self.epochs) {
            for &(x, y) in m.iter(&data) {
                let err = w * x + b - y;
                w -= self.lr * 2.0 * err * x;
                b -= self.lr * 2.0 * err;
                m.set("loss", err * err);
                m.set("step_best", m.step() + 1);
            }
            m.set("w", w);
            m.set("b", b);
        }
        Ok(())
    }
}

fn main() {
    xmen::main::<TrainToy>()
}

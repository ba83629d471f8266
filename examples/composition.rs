//! The original's `inheritance.py`, with composition in place of inheritance: parts that
//! derive `Experiment` are flattened into an experiment with `#[param(flatten)]`, and the
//! outer experiment overrides a part's defaults with `defaults(...)` at the flatten site. A
//! parameter declared by two parts is a compile error naming both.
//!
//! The run leaves a message per epoch, so it also shows how a run ends: `-u "{epoch_secs:
//! 5}"` makes it long enough to stop with Ctrl-C or SIGTERM (status `stopped`), and
//! `-u "{fail_at: 1}"` makes it panic (status `error`, the panic message in `_messages.error`).
//!
//! ```text
//! cargo run -p xmen-examples --example composition -- --help
//! cargo run -p xmen-examples --example composition -- -u "{a: Bye, epochs: 2}" -x /tmp/an_experiment
//! ```

use std::time::{Duration, Instant};

use xmen::{Experiment, Monitor, Root, RunResult, Value};

/// Parameters shared by several experiments (the original's BaseExperiment).
#[derive(Experiment)]
struct Base {
    #[param(default = "cat")]
    t: String,
    /// parameter w has a help message whilst t does not
    #[param(default = 3)]
    w: i64,
    /// h declared with a type is very concise and neat
    #[param(default = 10)]
    h: i64,
    /// A parameter
    #[param(default = "h")]
    a: String,
    /// Another parameter
    #[param(default = 17)]
    b: i64,
}

/// How long a run lasts.
#[derive(Experiment)]
struct Schedule {
    /// Passes over the data
    #[param(default = 3)]
    epochs: u64,
    /// Seconds each epoch takes (raise it to try stopping a run)
    #[param(default = 0.0)]
    epoch_secs: f64,
}

/// An experiment testing the xmen experiment API. Its doc comment is the
/// description shown by --help, followed by every parameter grouped by the
/// part that declares it.
#[derive(Experiment)]
struct AnExperiment {
    /// The shared parameters, with two defaults changed for this experiment.
    #[param(flatten, defaults(w = 4, b = 18))]
    base: Base,
    #[param(flatten)]
    schedule: Schedule,
    /// Parameters can be lists
    #[param(default = vec![3.0, 2.0])]
    x: Vec<f64>,
    /// This parameter will have this
    #[param(default = 5.0)]
    y: f64,
    /// Panic at this epoch, to show how a failed run is recorded
    fail_at: Option<u64>,
    /// Not a parameter: state of the run.
    #[param(skip)]
    losses: Vec<f64>,
}

impl AnExperiment {
    /// Sleep `secs`, waking early when the run is asked to stop.
    fn wait(root: &Root, secs: f64) {
        let end = Instant::now() + Duration::from_secs_f64(secs.max(0.0));
        while Instant::now() < end && !root.interrupted() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Experiment for AnExperiment {
    fn run(&mut self, root: &Root) -> RunResult {
        println!("The experiment state inside run is {}", root.record()?.status);
        // Monitor loops end by themselves when the run receives SIGINT, SIGTERM or SIGUSR1.
        let m = Monitor::plain();
        for epoch in m.iter(0..self.schedule.epochs) {
            if self.fail_at == Some(epoch) {
                panic!("failing at epoch {epoch} as asked by fail_at");
            }
            Self::wait(root, self.schedule.epoch_secs);
            let loss = self.y / (epoch as f64 + 1.0);
            self.losses.push(loss);
            root.message([("epoch", Value::from(epoch)), ("loss", Value::from(loss))])?;
        }
        let sum: f64 = self.x.iter().sum();
        let max = self.x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = self.x.iter().copied().fold(f64::INFINITY, f64::min);
        root.message([("sum", sum), ("max", max), ("min", min)])?;
        // Each run has its own folder for snapshots and logs.
        std::fs::write(
            root.directory().join("logs.txt"),
            format!("This was written from a running experiment: t={} a={}\n", self.base.t, self.base.a),
        )?;
        Ok(())
    }

    fn debug(&mut self) {
        self.base.a = "In debug mode".into();
        self.schedule.epochs = 1;
    }
}

fn main() {
    xmen::main::<AnExperiment>()
}

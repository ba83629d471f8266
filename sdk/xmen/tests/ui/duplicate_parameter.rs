/// Optimiser settings.
#[derive(xmen::Experiment)]
struct Optimizer {
    #[param(default = 0.001)]
    lr: f64,
}

/// A schedule that also declares `lr`.
#[derive(xmen::Experiment)]
struct Schedule {
    #[param(default = 0.1)]
    lr: f64,
}

#[derive(xmen::Experiment)]
struct Train {
    #[param(flatten)]
    opt: Optimizer,
    #[param(flatten)]
    sched: Schedule,
}

fn main() {}

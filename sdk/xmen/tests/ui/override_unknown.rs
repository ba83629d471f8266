#[derive(xmen::Experiment)]
struct Optimizer {
    #[param(default = 0.001)]
    lr: f64,
    #[param(default = 0.9)]
    momentum: f64,
}

#[derive(xmen::Experiment)]
struct Train {
    #[param(flatten, defaults(eps = 1e-8))]
    opt: Optimizer,
}

fn main() {}

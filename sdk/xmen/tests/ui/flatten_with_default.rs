#[derive(xmen::Experiment)]
struct Optimizer {
    #[param(default = 0.001)]
    lr: f64,
}

#[derive(xmen::Experiment)]
struct Train {
    #[param(flatten, default = Optimizer { lr: 0.1 })]
    opt: Optimizer,
}

fn main() {}

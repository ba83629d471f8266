#[derive(Default)]
struct Settings {
    lr: f64,
}

#[derive(xmen::Experiment)]
struct Train {
    #[param(flatten)]
    settings: Settings,
    #[param(default = 3)]
    epochs: u32,
}

fn main() {}

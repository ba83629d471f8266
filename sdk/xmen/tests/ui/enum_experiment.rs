#[derive(xmen::Experiment)]
enum Mode {
    Fast,
    Slow,
}

fn main() {}

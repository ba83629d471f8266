#[derive(xmen::Experiment)]
struct Pair(f64, f64);

fn main() {}

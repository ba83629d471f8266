#[xmen::experiment]
fn train() {}

fn main() {}

#[derive(Default)]
struct Net {
    layers: usize,
}

#[derive(xmen::Experiment)]
struct Train {
    net: Net,
}

fn main() {}

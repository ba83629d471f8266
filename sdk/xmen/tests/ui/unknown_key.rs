#[derive(xmen::Experiment)]
struct Train {
    #[param(defualt = 3)]
    epochs: u32,
}

fn main() {}

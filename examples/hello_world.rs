//! The original's `hello_world.py`, class API: a struct whose fields are the parameters and
//! whose `run` greets and leaves messages and a note in the record.
//!
//! ```text
//! cargo run -p xmen-examples --example hello_world -- --help
//! cargo run -p xmen-examples --example hello_world -- -u "{a: Bye}" -x /tmp/hello
//! cargo run -p xmen-examples --example hello_world -- -r /tmp/hello_set
//! ```

use xmen::{Experiment, Root, RunResult};

/// A hello world experiment designed to demonstrate
///     defining experiments through the class experiment api
#[derive(Experiment)]
struct HelloWorld {
    /// The first argument
    #[param(default = "Hello")]
    a: String,
    /// The second argument
    #[param(default = "World")]
    b: String,
}

impl Experiment for HelloWorld {
    fn run(&mut self, root: &Root) -> RunResult {
        println!("{} {}!", self.a, self.b);
        root.message([("a", self.a.as_str()), ("b", self.b.as_str())])?;
        root.note(&format!("greeted with {} {}", self.a, self.b))?;
        Ok(())
    }
}

fn main() {
    xmen::main::<HelloWorld>()
}

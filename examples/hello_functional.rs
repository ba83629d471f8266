//! The original's functional `hello_world`: a function whose first argument is the
//! experiment's root and whose other arguments are the parameters. `#[xmen::experiment]`
//! keeps the function and generates the `HelloWorld` type with the same command line and
//! record as the class API.
//!
//! ```text
//! cargo run -p xmen-examples --example hello_functional -- --help
//! cargo run -p xmen-examples --example hello_functional -- -u "{a: Bye}" -x /tmp/hello_fn
//! ```

use xmen::{Root, RunResult};

/// A hello world experiment designed to demonstrate
///     defining experiments through the functional experiment api
#[xmen::experiment]
fn hello_world(
    root: &Root,
    #[param(default = "Hello", help = "the first argument")] a: String,
    #[param(default = "World", help = "the second argument")] b: String,
) -> RunResult {
    println!("{a}  {b}");
    // Each run has its own folder for whatever it produces.
    std::fs::write(root.directory().join("hello.txt"), format!("{a} {b}"))?;
    root.message([("a", a.as_str()), ("b", b.as_str())])?;
    root.note("written by the functional api")?;
    Ok(())
}

fn main() {
    xmen::main::<HelloWorld>()
}

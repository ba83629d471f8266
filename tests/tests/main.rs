#![allow(clippy::unwrap_used)]
use xmen_tests::*;

#[test]
fn explore() {
    let b = built();
    let e = xmen::__private::xmen_core::abi::load_library(&b.fixtures.join("libxmen_hook_layout.so")).err().unwrap();
    println!("{e:?}");
}

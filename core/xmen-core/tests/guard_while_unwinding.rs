//! A guarded call whose first use in the process happens while the thread unwinds (a Monitor
//! closing its hooks in `Drop` during a panic) must not abort: installing the panic capture
//! then would change the panic hook from a panicking thread. Its own test binary, so no other
//! test installs the capture first.
#![allow(clippy::unwrap_used)]

use std::panic::catch_unwind;

struct GuardsOnDrop;

impl Drop for GuardsOnDrop {
    fn drop(&mut self) {
        assert_eq!(xmen_core::abi::guard(|| 7), Ok(7));
        assert!(xmen_core::abi::guard(|| panic!("inside the guard")).is_err());
    }
}

#[test]
fn a_first_guard_during_unwinding_catches_and_does_not_abort() {
    let r = catch_unwind(|| {
        let _g = GuardsOnDrop;
        panic!("the run panicked");
    });
    assert!(r.is_err());
    // Afterwards the capture installs normally.
    assert!(xmen_core::abi::guard(|| panic!("later")).is_err());
}

//! Macro misuse gives one clear compile error each (trybuild UI tests; the expected errors
//! are the `.stderr` files beside the cases in `tests/ui/`).

#[test]
fn macro_misuse_is_one_clear_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}

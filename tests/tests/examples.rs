//! The examples' transcripts, with the hooks coming from the `.so` files through the
//! loader: compared byte for byte with `examples/*.expected` after masking times.

use xmen_tests::{example, is_timer_line, mask, mask_time, run_in, scratch, workspace_root};

fn expected(name: &str) -> String {
    let path = workspace_root()
        .join("examples")
        .join(format!("{name}.expected"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_logger_example_prints_the_logger_py_transcript_with_b34_fixed() {
    let program = example("logger");
    let tmp = scratch();
    let run = run_in(tmp.path(), &program, &[]);
    assert!(run.success && run.stderr.is_empty(), "{run:?}");
    assert_eq!(
        mask_time(&run.stdout),
        expected("logger"),
        "unmasked:\n{}",
        run.stdout
    );
}

#[test]
fn the_timer_example_prints_only_timer_lines() {
    let program = example("timer");
    let tmp = scratch();
    let run = run_in(tmp.path(), &program, &[]);
    assert!(run.success && run.stderr.is_empty(), "{run:?}");
    for line in run.stdout.lines() {
        assert!(is_timer_line(line), "not a Timer line: {line}");
    }
    assert_eq!(
        mask(&run.stdout),
        expected("timer"),
        "unmasked:\n{}",
        run.stdout
    );
}

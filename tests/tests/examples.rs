//! The examples' transcripts, with the hooks coming from the `.so` files through the
//! loader: compared byte for byte with `examples/*.expected` after masking times.

use xmen_tests::{example, is_timer_line, mask, mask_time, run_in, scratch, workspace_root};

fn expected(name: &str) -> String {
    let path = workspace_root().join("examples").join(format!("{name}.expected"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The original's logger.py transcript, except that values are printed whole (`cat|dog`; the
/// original cut the last character of every line with variables).
#[test]
fn the_logger_example_prints_the_logger_py_transcript_with_whole_values() {
    let program = example("logger");
    let tmp = scratch();
    let run = run_in(tmp.path(), &program, &[]);
    assert!(run.success && run.stderr.is_empty(), "{run:?}");
    assert_eq!(mask_time(&run.stdout), expected("logger"), "unmasked:\n{}", run.stdout);
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
    assert_eq!(mask(&run.stdout), expected("timer"), "unmasked:\n{}", run.stdout);
}

#[test]
fn the_full_example_fires_log_time_msg_probe_in_order_and_finishes_after_the_limit() {
    let program = example("full");
    let tmp = scratch();
    let exp_dir = tmp.path().join("X");
    let run = run_in(tmp.path(), &program, &[exp_dir.as_os_str()]);
    assert!(run.success && run.stderr.is_empty(), "{run:?}");
    // `?` when the loop reached the probe before the kernel's tick counters moved (hooks/probe/src/cpu.rs).
    let cpu = regex::Regex::new(r"cpu=(\d+(\.\d+)?|\?)%").unwrap();
    let masked = mask(&run.stdout).replace(&exp_dir.display().to_string(), "{dir}");
    let masked = cpu.replace_all(&masked, "cpu={cpu}%");
    assert_eq!(masked, expected("full"), "unmasked:\n{}", run.stdout);
    // The Messenger left `a` and the summary; the Probe filled `_meta` of the real record.
    let rec = xmen_record::Record::load(&exp_dir.join("params.yml")).unwrap();
    assert_eq!(rec.message_value("a"), Some(&xmen::Value::Int(20)));
    assert_eq!(rec.message_value("s").map(|v| v.to_string()).as_deref(), Some("20/240"));
    let meta = rec.meta.unwrap();
    assert!(meta.get("cpu").and_then(|c| c.get("mean")).is_some(), "{meta:?}");
    assert!(meta.get("virtual").is_some());
}

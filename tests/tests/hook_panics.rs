//! A hook that panics on its third call, next to the real logger library: the loop
//! completes, exactly one warning names the hook and the panic message, nothing else
//! about the panic reaches stderr, and the logger keeps firing. Each case runs in a
//! child process (`xmen-tests-scenario`) so the test sees every byte printed.

use std::ffi::OsStr;
use xmen_tests::{built, run_in, scratch};

/// Run a scenario and check what it printed; `hook` is the panicking hook's name as the
/// Monitor reports it, `message` its panic message.
fn check_panic_scenario(scenario: &str, hook: &str, message: &str) {
    let b = built();
    let tmp = scratch();
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_xmen-tests-scenario"));
    let args = [OsStr::new(scenario), b.fixtures.as_os_str(), b.hooks.as_os_str()];
    let run = run_in(tmp.path(), program, &args);
    let all = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.success, "{all}");
    assert_eq!(run.stderr, "", "nothing about the panic goes to stderr:\n{all}");

    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.last(), Some(&"after the Monitor"), "{all}");
    let warnings: Vec<&str> = lines.iter().copied().filter(|l| l.contains("WARNING")).collect();
    assert_eq!(warnings.len(), 1, "exactly one warning:\n{all}");
    let w = warnings[0];
    let spec = xmen::Spec::parse("x@1s").unwrap();
    assert!(w.starts_with(&format!("WARNING: hook {hook} ({spec}) panicked and is disabled")), "{w}");
    assert!(w.contains(message), "the warning carries the panic message: {w}");
    assert_eq!(run.stdout.matches(message).count(), 1, "{all}");
    // The loop completed and the logger kept firing after the panic.
    let logged = lines.iter().filter(|l| l.contains("]: x = ")).count();
    assert_eq!(logged, 6, "{all}");
    assert!(lines.contains(&"steps 6"), "{all}");
    assert!(lines.contains(&format!("calls {hook} 3 true").as_str()), "{all}");
    assert!(lines.contains(&"calls logger 6 false"), "{all}");
    // The warning comes right after the firing that panicked (step 3).
    let at = lines.iter().position(|l| *l == w).unwrap();
    assert!(lines[at - 1].contains(" 3/6]: x = 2"), "{all}");
}

#[test]
fn a_library_hook_that_panics_on_its_third_call_is_disabled_with_one_warning() {
    check_panic_scenario("library-panic", "panicky", "panicky fixture: deliberate panic on call 3 (at ");
}

#[test]
fn an_in_process_hook_that_panics_on_its_third_call_is_disabled_with_one_warning() {
    check_panic_scenario("in-process-panic", "Panicky", "in-process panicky: deliberate panic on call 3 (at ");
}

#[test]
fn a_library_hook_whose_drop_panics_with_a_non_string_payload_is_reported_when_closed() {
    let b = built();
    let tmp = scratch();
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_xmen-tests-scenario"));
    let args = [OsStr::new("library-drop-panic"), b.fixtures.as_os_str(), b.hooks.as_os_str()];
    let run = run_in(tmp.path(), program, &args);
    let all = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.success, "the process must not abort:\n{all}");
    assert_eq!(run.stderr, "", "{all}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.contains(&"calls drop-panic 6 false"), "{all}");
    let warnings: Vec<&str> = lines.iter().copied().filter(|l| l.contains("WARNING")).collect();
    assert_eq!(warnings.len(), 1, "{all}");
    let spec = xmen::Spec::parse("x@1s").unwrap();
    let want = format!(
        "WARNING: hook drop-panic ({spec}) panicked and is disabled for the rest of the run: dropping the hook panicked: a panic with a non-string payload (at "
    );
    assert!(warnings[0].starts_with(&want), "{all}");
    // Reported when the Monitor closed its hooks, after which the scenario went on.
    assert_eq!(lines.last(), Some(&"after the Monitor"), "{all}");
}

#[test]
fn a_disabled_library_hook_whose_drop_panics_is_dropped_without_an_abort() {
    let b = built();
    let tmp = scratch();
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_xmen-tests-scenario"));
    let args = [OsStr::new("library-call-and-drop-panic"), b.fixtures.as_os_str(), b.hooks.as_os_str()];
    let run = run_in(tmp.path(), program, &args);
    let all = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.success, "the process must not abort:\n{all}");
    assert!(
        run.stdout
            .contains("panicked and is disabled for the rest of the run: drop-panic fixture: deliberate panic on call"),
        "{all}"
    );
    assert!(run.stdout.contains("calls drop-panic 1 true"), "{all}");
    // Nobody closes a disabled hook, so its library reports the panicking drop on stderr.
    assert!(
        run.stderr.starts_with("WARNING: dropping a hook panicked: a panic with a non-string payload (at "),
        "{all}"
    );
    assert!(run.stdout.ends_with("after the Monitor\n"), "{all}");
}

//! Issue 14 item 3: a run a hook stops records which hook, at which step and why, in `_end`,
//! keeps status `finished`, and `xmen list -s` shows it in a `stopped_by` column. From an empty
//! temporary folder, with the real `xmen`, the `early-stop` library and the `record_hooks`
//! example.

use crate::hooks_cli::{bins, text, xmen};
use xmen_tests::scratch;

#[test]
fn a_run_stopped_by_a_hook_records_the_hook_the_step_and_the_reason() {
    let tmp = scratch();
    let dir = tmp.path();
    let example = bins().join("examples/record_hooks").display().to_string();
    let out = xmen(dir, &["init", "-n", &example, "-r", "set"], None, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let set = dir.join("set");
    let defaults = set.join("defaults.yml");
    let mut yml = std::fs::read_to_string(&defaults).unwrap_or_default();
    yml.push_str("_hooks:\n  - {hook: early-stop, spec: \"val_acc@1e\", options: {condition: max, memory: 2}}\n");
    std::fs::write(&defaults, yml).unwrap_or_else(|e| panic!("{e}"));
    let set_s = set.display().to_string();
    let out = xmen(dir, &["register", "-r", &set_s, "-u", "{plateau: 2 | 20}"], None, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = xmen(dir, &["run", "-r", &set_s, "*", "bash"], None, &[]);
    assert!(out.status.success(), "{}", text(&out));

    let stopped = xmen_record::Record::load(&set.join("plateau=2/params.yml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stopped.status, xmen_record::Status::Finished, "a deliberate early stop is `finished`");
    let end = xmen_record::attempts::RunEnd::of(&stopped).unwrap_or_else(|| panic!("no _end in {stopped:?}"));
    assert_eq!(end.status, "finished");
    assert_eq!(end.hook.as_deref(), Some("early-stop"));
    assert_eq!(end.step, Some(20), "{end:?}");
    assert!(end.reason.as_deref().is_some_and(|r| r.contains("EarlyStop(True, memory=2")), "{end:?}");
    assert!(end.signal.is_none());

    // the run that went to the end has an `_end` without a hook
    let full = xmen_record::Record::load(&set.join("plateau=20/params.yml")).unwrap_or_else(|e| panic!("{e}"));
    let end = xmen_record::attempts::RunEnd::of(&full).unwrap_or_else(|| panic!("no _end in {full:?}"));
    assert_eq!((end.status.as_str(), end.hook.as_deref()), ("finished", None));

    let out = xmen(dir, &["list", &set_s, "-s", "--csv"], None, &[]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    let header = String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().to_owned();
    assert!(header.contains("stopped_by"), "{shown}");
    assert!(shown.contains("early-stop at step 20: ----- EarlyStop(True"), "{shown}");
}

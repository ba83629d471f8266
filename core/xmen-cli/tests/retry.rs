//! Issue 14 item 2: retrying is one command. `xmen run --retry` resets and reruns the runs that
//! failed, a reset keeps the previous attempt under `_attempts`, `reset` takes run paths from
//! anywhere, out.txt gets a dated line per attempt, and `note -d` counts what it removed. From
//! empty temporary folders, with the real `xmen` and the Rust `hello_world` example.

mod common;

use std::path::Path;

use common::{describe, read, Env};

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn record(run: &Path) -> xmen_record::Record {
    xmen_record::Record::load(&run.join("params.yml")).unwrap_or_else(|e| panic!("{e}"))
}

/// A run that crashed, as the runner records it: status `error` and the error message.
fn crashed(run: &Path) {
    let path = run.join("params.yml");
    let mut rec = record(run);
    rec.message(
        &[("error".to_owned(), xmen_core::Value::Str("boom: out of memory".into()))],
        xmen_record::Keep::Latest,
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    rec.end_run(xmen_record::Status::Error);
    std::fs::write(&path, rec.to_yaml().unwrap_or_else(|e| panic!("{e}"))).unwrap_or_else(|e| panic!("{e}"));
}

fn separators(run: &Path) -> usize {
    read(&run.join("out.txt")).lines().filter(|l| l.starts_with("===== xmen: attempt started ")).count()
}

#[test]
fn run_retry_reruns_failed_runs_and_keeps_their_previous_attempt() {
    let Some(exe) = common::hello_world() else { return };
    let env = Env::new();
    env.ok(&["config", "--enable_stdout_to_txt"]);
    env.ok(&["experiments", "--add", "hello", &s(&exe)]);
    env.ok(&["init", "-n", "hello", "-r", "set"]);
    let set = env.path("set");
    let out = env.run_in(&set, &["register", "-u", "{a: Hello | Bye}"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let out = env.run_in(&set, &["run", "*", "bash"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let (bye, hello) = (set.join("a=Bye"), set.join("a=Hello"));
    assert_eq!((separators(&bye), separators(&hello)), (0, 0), "a first attempt's out.txt is the output alone");

    // nothing failed: nothing to retry, exit 1
    let out = env.run_in(&set, &["run", "--retry", "*", "bash"], None);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to retry"), "{}", describe(&out));

    crashed(&bye);
    let out = env.run_in(&set, &["run", "--retry", "*", "bash"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Retrying 1 experiment(s)") && stdout.contains("Bye World!"), "{stdout}");
    assert!(!stdout.contains("Hello World!"), "only the failed run runs again: {stdout}");

    let rec = record(&bye);
    assert_eq!(rec.status, xmen_record::Status::Finished);
    assert!(rec.message_value("error").is_none(), "the live record shows only this attempt: {:?}", rec.messages);
    assert_eq!(rec.attempts().len(), 1);
    assert_eq!(rec.last_attempt_text().as_deref(), Some("error: boom: out of memory"));
    let text = read(&bye.join("params.yml"));
    assert!(text.contains("_attempts:") && text.contains("status: error"), "{text}");
    assert_eq!((separators(&bye), separators(&hello)), (1, 0), "the retry's output starts with a dated line");
    assert!(record(&hello).attempts().is_empty());

    // `xmen list -A` shows the history
    let out = env.run_in(&set, &["list", "-A", "-s"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("attempts") && table.contains("error: boom: out of memory"), "{table}");
}

#[test]
fn reset_takes_run_paths_from_anywhere_and_note_delete_counts_what_it_removed() {
    let env = Env::new();
    let set = env.bash_set("sets/one");
    let out = env.run_in(&set, &["register", "-u", "{a: Hello | Bye}"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let run = set.join("a=Bye");
    assert!(run.join("params.yml").is_file(), "{}", run.display());
    crashed(&run);

    // from the temporary folder (not the set): a relative path, then an absolute glob
    let out = env.ok(&["reset", "sets/one/a=Bye"]);
    assert!(out.contains("Reset 1 experiment(s) to registered"), "{out}");
    let rec = record(&run);
    assert_eq!(rec.status, xmen_record::Status::Registered);
    assert!(rec.messages.is_empty() && rec.timestamps.stopped.is_none());
    assert_eq!(rec.attempts().len(), 1);
    let out = env.ok(&["reset", &format!("{}/a=*", s(&set))]);
    assert!(out.contains("Reset 2 experiment(s)"), "{out}");
    assert_eq!(record(&run).attempts().len(), 1, "a registered run has no attempt to keep");

    // note -d: a typo removes nothing and fails; the real note reports the count
    env.ok(&["note", &format!("{}/a=*", s(&set)), "too aggressive"]);
    let err = env.fails(&["note", "-d", &format!("{}/a=*", s(&set)), "too agressive"]);
    assert!(err.contains("removed no note") && err.contains("too agressive"), "{err}");
    let out = env.ok(&["note", "-d", &format!("{}/a=Bye*", s(&set)), "too aggressive"]);
    assert!(out.contains("Removed the note from 1 of 1"), "{out}");
    assert!(record(&run).notes.is_empty());
}

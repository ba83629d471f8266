//! Issue 13 item 6: `clean` and `rm` refuse to delete a run that is alive (its process on this
//! host, with the same start time and boot id, or a fresh heartbeat from another host),
//! naming it, unless `--force`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{describe, Env};
use xmen_record::runinfo::RunInfo;
use xmen_record::{RecordError, RecordFile, Status, WriteOpts};

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Make the record in `dir` say `running` by `info`, with a heartbeat written now.
fn mark_running(dir: &Path, info: &RunInfo) {
    RecordFile::update(&RecordFile::path_in(dir), WriteOpts::default(), |r| {
        r.status = Status::Running;
        info.store(r);
        r.timestamps.last = Some(xmen_core::pyfmt::now_stamp());
        Ok::<_, RecordError>(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn r13_clean_refuses_to_delete_an_unlinked_run_whose_process_is_alive() {
    let env = Env::new();
    let set = env.bash_set("set");
    env.ok(&["register", "-r", &s(&set), "-u", "{a: X}"]);
    let dir = set.join("a=X");
    // This test's own process plays the run: alive as long as the test runs.
    let me = RunInfo::current(Duration::from_secs(30));
    mark_running(&dir, &me);
    env.ok(&["unlink", "-r", &s(&set), "a=X"]);

    let err = env.fails(&["clean", "-r", &s(&set), "--yes"]);
    assert!(err.contains("refusing to delete 1 live run"), "{err}");
    assert!(err.contains(&format!("{} (process {} on {} is alive)", s(&dir), me.pid, me.host)), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert!(dir.join("params.yml").is_file(), "nothing was deleted");

    // A run whose process is gone is not alive: clean deletes it.
    let gone = RunInfo { pid: u32::MAX - 7, pid_start: Some(1), ..me.clone() };
    mark_running(&dir, &gone);
    let out = env.run(&["clean", "-r", &s(&set), "--yes"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(!dir.exists());
}

#[test]
fn r13_rm_refuses_a_set_with_a_fresh_heartbeat_unless_forced() {
    let env = Env::new();
    let set = env.bash_set("set");
    env.ok(&["register", "-r", &s(&set), "-u", "{a: Y}"]);
    // A run on another node: only its heartbeat can tell that it is alive.
    let remote = RunInfo { host: "another-node".into(), pid: 4242, heartbeat_secs: 30, ..RunInfo::default() };
    mark_running(&set.join("a=Y"), &remote);
    let err = env.fails(&["rm", &s(&set), "--yes"]);
    assert!(err.contains("a=Y (heartbeat ") && err.contains("from process 4242 on another-node"), "{err}");
    assert!(set.join("a=Y").join("params.yml").is_file());
    env.ok(&["rm", &s(&set), "--yes", "--force"]);
    assert!(!set.exists());
}

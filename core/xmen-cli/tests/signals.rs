//! Issue 13 item 5 and issue 12 item 7: signals sent to `xmen run` alone (not its process
//! group, as a scheduler, `timeout` or a parent script would) reach the experiment it runs in
//! the foreground; nothing more is launched; the run records its status; `xmen run` exits
//! non-zero. A run that dies by a signal it cannot catch (SIGKILL, SIGSEGV) gets the signal
//! recorded by `xmen run`, which waited for it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{read, Env};
use rustix::process::{kill_process, Pid, Signal};
use xmen_record::runinfo::RunInfo;
use xmen_record::{RecordFile, Status};

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The `timeout` example (sleeps and messages every step) and the Checkpointer it loads.
fn timeout_example() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let lib = Command::new(env!("CARGO"))
        .args(["build", "-p", "xmen-hook-checkpointer", "--lib", "--manifest-path"])
        .arg(&manifest)
        .output()
        .ok()?;
    if !lib.status.success() {
        eprintln!("skipping: the Checkpointer does not build:\n{}", String::from_utf8_lossy(&lib.stderr));
        return None;
    }
    common::example("timeout")
}

struct Running {
    env: Env,
    set: PathBuf,
    xmen: Child,
}

/// `xmen run '*' bash` over a two-run set of the timeout example, started in the background;
/// returns once the first run records `running`.
fn start() -> Option<Running> {
    let exe = timeout_example()?;
    let env = Env::new();
    env.ok(&["experiments", "--add", "timeout", &s(&exe)]);
    env.ok(&["init", "-n", "timeout", "-r", "set", "--purpose", "signals"]);
    let set = env.path("set");
    env.ok(&["register", "-r", &s(&set), "-u", "{steps: 300 | 301, sleep: 0.1}"]);
    let xmen = Command::new(env!("CARGO_BIN_EXE_xmen"))
        .args(["run", "-r", &s(&set), "*", "bash"])
        .current_dir(env.dir())
        .env("XMEN", env.cfg())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let r = Running { env, set, xmen };
    let first = r.folder("steps=300__sleep=0.1");
    wait_for(|| status(&first) == Status::Running && step(&first) >= 1, "the first run to start");
    Some(r)
}

impl Running {
    fn folder(&self, name: &str) -> PathBuf {
        self.set.join(name)
    }

    fn signal_xmen(&self, sig: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.xmen.id()).unwrap_or(0)).unwrap_or_else(|| panic!("pid"));
        kill_process(pid, sig).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Wait for `xmen run` to exit (at most 30 s); its exit code and stderr.
    fn finish(mut self) -> (Option<i32>, String, Env, PathBuf) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(st) = self.xmen.try_wait().unwrap_or_else(|e| panic!("{e}")) {
                let mut err = String::new();
                if let Some(mut e) = self.xmen.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                return (st.code(), err, self.env, self.set);
            }
            if Instant::now() > deadline {
                let _ = self.xmen.kill();
                panic!("xmen run did not exit within 30 s of the signal");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn wait_for(mut cond: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn record(dir: &Path) -> Option<xmen_record::Record> {
    RecordFile::load(&RecordFile::path_in(dir)).ok()
}

fn status(dir: &Path) -> Status {
    record(dir).map_or(Status::Default, |r| r.status)
}

fn step(dir: &Path) -> i64 {
    record(dir).and_then(|r| r.message_value("step").and_then(|v| v.as_i64())).unwrap_or(0)
}

fn experiment_pid(dir: &Path) -> u32 {
    record(dir).and_then(|r| RunInfo::of(&r)).map(|i| i.pid).unwrap_or_else(|| panic!("no _run in {}", dir.display()))
}

fn gone(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_or(true, |s| s.rsplit_once(')').is_some_and(|(_, a)| a.trim_start().starts_with('Z')))
}

fn stop_signal_reaches_the_run(sig: Signal, code: i32, want: Status) {
    let Some(r) = start() else { return };
    let first = r.folder("steps=300__sleep=0.1");
    let second = r.folder("steps=301__sleep=0.1");
    let pid = experiment_pid(&first);
    r.signal_xmen(sig);
    let (exit, err, _env, _set) = r.finish();
    assert_eq!(exit, Some(code), "xmen run exits 128 + the signal:\n{err}");
    assert_eq!(status(&first), want, "{}", read(&RecordFile::path_in(&first)));
    // how it ended, in `_end` (issue 14): the status and the signal
    let end = record(&first).and_then(|r| xmen_record::attempts::RunEnd::of(&r));
    let end = end.unwrap_or_else(|| panic!("no _end: {}", read(&RecordFile::path_in(&first))));
    assert_eq!(end.status, want.as_str());
    assert_eq!(end.signal.as_deref(), Some(format!("SIG{}", sig_name(sig)).as_str()), "{end:?}");
    assert!(gone(pid), "the experiment (pid {pid}) is not left orphaned");
    assert_eq!(status(&second), Status::Registered, "nothing more is launched:\n{err}");
    assert!(err.contains("1 of 2 experiments launched"), "{err}");
}

#[test]
fn r13_sigint_to_xmen_run_alone_stops_the_run_and_launches_nothing_more() {
    stop_signal_reaches_the_run(Signal::INT, 130, Status::Stopped);
}

#[test]
fn r13_sigterm_to_xmen_run_alone_stops_the_run() {
    stop_signal_reaches_the_run(Signal::TERM, 143, Status::Stopped);
}

#[test]
fn r13_sigusr1_to_xmen_run_alone_records_a_timeout() {
    stop_signal_reaches_the_run(Signal::USR1, 138, Status::Timeout);
}

#[test]
fn r12_a_run_killed_by_a_signal_it_cannot_catch_is_recorded_by_xmen_run() {
    // SIGABRT is what a panic while panicking ends in. (A SIGSEGV sent with kill is not a fault:
    // Rust's stack-overflow handler swallows the first one.)
    for (sig, name) in [(Signal::KILL, "SIGKILL"), (Signal::ABORT, "SIGABRT")] {
        let Some(r) = start() else { return };
        let first = r.folder("steps=300__sleep=0.1");
        let pid = Pid::from_raw(i32::try_from(experiment_pid(&first)).unwrap_or(0)).unwrap_or_else(|| panic!("pid"));
        kill_process(pid, sig).unwrap_or_else(|e| panic!("{e}"));
        // The next run starts; stop everything, then look at the first record.
        let second = r.folder("steps=301__sleep=0.1");
        wait_for(|| status(&second) == Status::Running, "the second run to start");
        r.signal_xmen(Signal::INT);
        let (exit, err, _env, _set) = r.finish();
        assert_ne!(exit, Some(0), "{err}");
        let rec = record(&first).unwrap_or_else(|| panic!("unreadable record"));
        assert_eq!(rec.status, Status::Error, "{name}: {}", read(&RecordFile::path_in(&first)));
        let msg = rec.message_value("error").map(|v| v.to_string()).unwrap_or_default();
        assert!(msg.contains(&format!("killed by signal {}", sig.as_raw())) && msg.contains(name), "{msg}");
        assert!(rec.timestamps.stopped.is_some());
        let end = xmen_record::attempts::RunEnd::of(&rec).unwrap_or_else(|| panic!("no _end"));
        assert_eq!((end.status.as_str(), end.signal.as_deref()), ("error", Some(name)), "{end:?}");
    }
}

fn sig_name(sig: Signal) -> &'static str {
    if sig == Signal::INT {
        "INT"
    } else if sig == Signal::TERM {
        "TERM"
    } else {
        "USR1"
    }
}

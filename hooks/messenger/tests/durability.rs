//! The Messenger's durability guarantee, against real processes: every message is on disk at
//! most one flush interval after its firing, and everything is on disk when the run ends by
//! any path that runs code (the Monitor's close, SIGTERM recorded by the runner, a panic, a
//! hook's stop); a SIGKILL loses at most the last interval.
//!
//! Each child is this test binary re-executed on `child_run` with `XMEN_DURABILITY_MODE` set:
//! it runs the experiment below through the SDK's real runner (`-x DIR`), whose body fires a
//! Messenger `i->ex@1s` (keep latest) every step. The parent reads params.yml as the child
//! reports its progress on stdout. Deadlines are generous (the machine is loaded); no
//! assertion depends on a fixed sleep.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use xmen::{Firing, Hook, HookResult, Keep, Monitor, Outcome, Root, RunResult, Spec, Value};
use xmen_hook_messenger::Messenger;
use xmen_record::{Record, Status};

const MODE_ENV: &str = "XMEN_DURABILITY_MODE";
const DEADLINE: Duration = Duration::from_secs(120);

/// Stops the loops at a given step, like an early-stopping hook.
struct StopAt(u64);
impl Hook for StopAt {
    fn call(&mut self, f: &Firing<'_>) -> HookResult {
        Ok(if f.step() >= self.0 { Outcome::Stop("---- early stop ----".into()) } else { Outcome::Continue })
    }
}

/// Messages `i` every step; what ends the run depends on `XMEN_DURABILITY_MODE`.
#[derive(xmen::Experiment)]
struct Durable {}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

fn wait_for_parent() {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
}

impl xmen::Experiment for Durable {
    fn run(&mut self, root: &Root) -> RunResult {
        let mode = std::env::var(MODE_ENV)?;
        let spec = "i->ex@1s";
        let messenger = Messenger::new(&Spec::parse(spec)?, Keep::Latest, None, false, false)?;
        let mut b = Monitor::builder().hook_at(spec, messenger).output(std::io::sink());
        if mode == "stop" {
            b = b.hook_at("@1s", StopAt(300));
        }
        let m = b.build()?;
        m.set("ex", root);
        let mut last = None;
        for i in m.iter(0..u64::MAX) {
            m.set("i", i as i64);
            last = Some(i);
            match mode.as_str() {
                "close" if i == 500 => break,
                "panic" if i == 500 => panic!("the body panics at step 500"),
                "interval" if i == 300 => {
                    // Fired 0..=299; the 300th body ends without firing. Wait with the Monitor
                    // open: only the writer's interval can put 299 on disk.
                    say("POSTED 299");
                    wait_for_parent();
                    return Ok(());
                }
                "signal" | "kill" if i % 100 == 0 => say(&format!("FIRED {i}")),
                _ => {}
            }
        }
        if mode == "close" {
            // The last body (500) broke out before its firing.
            say("LAST 499");
        } else {
            say(&format!("LAST {}", last.unwrap_or_default()));
        }
        if mode == "stop" {
            // Stopped, but the Monitor is still open: the stop wrote the messages.
            say("STOPPED");
            wait_for_parent();
        }
        Ok(())
    }
}

/// The child: run the experiment through the real runner.
#[test]
fn child_run() {
    let Ok(dir) = std::env::var("XMEN_DURABILITY_DIR") else { return };
    let _code = xmen::main_with_args::<Durable>(["durable", "-x", &dir]);
    std::process::exit(0);
}

struct Run {
    child: Child,
    lines: mpsc::Receiver<(String, Instant)>,
    params: PathBuf,
    _tmp: tempfile::TempDir,
}

fn spawn(mode: &str, flush_secs: f64) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ex");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_run", "--nocapture", "--test-threads=1"])
        .env(MODE_ENV, mode)
        .env("XMEN_DURABILITY_DIR", &dir)
        .env("XMEN", tmp.path().join("config"))
        .env(xmen_record::mailbox::FLUSH_ENV, flush_secs.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out: ChildStdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { return };
            if tx.send((line, Instant::now())).is_err() {
                return;
            }
        }
    });
    Run { child, lines, params: dir.join("params.yml"), _tmp: tmp }
}

impl Run {
    /// What follows `prefix` on the next line holding it, and when that line arrived.
    fn expect(&self, prefix: &str) -> (String, Instant) {
        let deadline = Instant::now() + DEADLINE;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                // libtest prints `test child_run ... ` before the first line.
                Ok((l, t)) if l.contains(prefix) => {
                    let at = l.find(prefix).unwrap_or_default() + prefix.len();
                    return (l[at..].trim().to_owned(), t);
                }
                Ok((l, _)) => seen.push(l),
                Err(e) => panic!("no line `{prefix}` from the child ({e}); it printed {seen:?}"),
            }
        }
    }

    fn record(&self) -> Record {
        Record::load(&self.params).unwrap()
    }

    fn finish(mut self) -> Record {
        let deadline = Instant::now() + DEADLINE;
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the child did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.record()
    }

    fn release(&mut self) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin).unwrap();
    }
}

fn message_i(r: &Record) -> Option<i64> {
    match r.message_value("i") {
        Some(Value::Int(i)) => Some(*i),
        other => panic!("message i is {other:?}"),
    }
}

fn poll_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(child: &Child, sig: &str) {
    assert!(Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap().success());
}

/// The flush interval for the paths that must write by themselves: an hour, so that only the
/// path under test can have written the last message.
const NEVER: f64 = 3600.0;

#[test]
fn the_writer_puts_a_message_on_disk_within_the_interval_while_the_run_goes_on() {
    let mut run = spawn("interval", 0.2);
    run.expect("POSTED");
    // The child waits with its Monitor open; the writer thread alone writes 299.
    poll_until("the last message is on disk", || run.record().message_value("i") == Some(&Value::Int(299)));
    assert!(run.child.try_wait().unwrap().is_none(), "the child must still be running");
    assert_eq!(run.record().status, Status::Running);
    run.release();
    assert_eq!(run.finish().status, Status::Finished);
}

#[test]
fn closing_the_monitor_writes_every_message() {
    let run = spawn("close", NEVER);
    let (last, _) = run.expect("LAST");
    let r = run.finish();
    assert_eq!((message_i(&r), r.status), (Some(last.parse().unwrap()), Status::Finished));
}

#[test]
fn a_panic_writes_every_message() {
    let run = spawn("panic", NEVER);
    let r = run.finish();
    assert_eq!((message_i(&r), r.status), (Some(499), Status::Error));
    assert!(r.message_value("error").is_some_and(|e| e.to_string().contains("panics at step 500")));
}

#[test]
fn sigterm_writes_every_message() {
    let run = spawn("signal", NEVER);
    run.expect("FIRED 200");
    signal(&run.child, "-TERM");
    let (last, _) = run.expect("LAST");
    let r = run.finish();
    assert_eq!((message_i(&r), r.status), (Some(last.parse().unwrap()), Status::Stopped));
}

#[test]
fn a_hooks_stop_writes_every_message_before_the_monitor_closes() {
    let mut run = spawn("stop", NEVER);
    let (last, _) = run.expect("LAST");
    run.expect("STOPPED");
    // The stop hook fired after the Messenger at step 300 (body 299). The Monitor is still
    // open: the stop itself wrote the messages.
    assert_eq!(last, "299");
    assert_eq!(message_i(&run.record()), Some(299));
    run.release();
    assert_eq!(run.finish().status, Status::Finished);
}

#[test]
fn sigkill_loses_at_most_the_last_interval() {
    let interval = Duration::from_millis(300);
    // Slack for the write itself and a loaded machine's scheduling.
    let slack = Duration::from_secs(2);
    let mut run = spawn("kill", interval.as_secs_f64());
    let mut fired: Vec<(i64, Instant)> = Vec::new();
    let (first, t0) = run.expect("FIRED");
    fired.push((first.parse().unwrap(), t0));
    while fired.last().unwrap().1 < t0 + interval + slack + Duration::from_secs(1) {
        let (i, t) = run.expect("FIRED");
        fired.push((i.parse().unwrap(), t));
    }
    signal(&run.child, "-KILL");
    let killed = Instant::now();
    let _ = run.child.wait();
    let on_disk = message_i(&run.record()).unwrap();
    let last = fired.last().unwrap().0;
    // Every firing reported more than an interval (plus slack) before the kill is on disk.
    let must = fired.iter().filter(|(_, t)| *t + interval + slack <= killed).map(|(i, _)| *i).max().unwrap();
    assert!(on_disk >= must && on_disk <= last + 100, "on disk {on_disk}, fired by then {must}, last reported {last}");
    assert_eq!(run.record().status, Status::Running, "SIGKILL leaves no status");
    drop(run);
}

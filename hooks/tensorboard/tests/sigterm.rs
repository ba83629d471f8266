//! SIGTERM in the middle of a monitored loop loses nothing silently: a child process
//! (this test binary, re-run on its ignored `child_monitored_loop`) fires 100 scalars
//! per step through the `tensorboard` cdylib until the parent sends SIGTERM; the
//! Monitor's interrupt path ends the loop and closes the hook, which flushes. The
//! events on disk then equal the firings, or the drop counter accounts for the gap.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use prost::Message;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use xmen::hooks::HookConfig;
use xmen::Monitor;
use xmen_hook_tensorboard::proto::{Event, EventWhat, ValueKind};

const VARS: usize = 100;

#[test]
#[ignore = "the child half of the SIGTERM tests; they run it"]
fn child_monitored_loop() {
    let Ok(dir) = std::env::var("XMEN_TB_CHILD_DIR") else { return };
    let on_full = std::env::var("XMEN_TB_ON_FULL").unwrap();
    let queue: i64 = std::env::var("XMEN_TB_QUEUE").unwrap().parse().unwrap();
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM]).unwrap();
    std::thread::spawn(move || {
        for _ in signals.forever() {
            xmen::__private::xmen_core::monitor::request_interrupt("SIGTERM");
        }
    });
    let m = Monitor::builder()
        .directory(&dir)
        .hooks([HookConfig::new("tensorboard", "^v@1s")
            .option("quiet", true)
            .option("on_full", on_full.as_str())
            .option("queue", queue)
            .option("hparams", false)])
        .build()
        .unwrap();
    let names: Vec<String> = (0..VARS).map(|k| format!("v{k:02}")).collect();
    for i in m.iter(0..u64::MAX) {
        for (k, n) in names.iter().enumerate() {
            m.set(n, (i * 1000 + k as u64) as f64);
        }
        if i == 2000 {
            println!("READY");
            std::io::stdout().flush().unwrap();
        }
    }
    let steps = m.step();
    drop(m);
    println!("STEPS {steps}");
}

/// Every event's (step, number of values) in the event files of `dir`, checking the
/// framing and each value against what the child set.
fn events_on_disk(dir: &Path) -> Vec<(i64, usize)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let mut at = 0;
        while at < bytes.len() {
            let len = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
            let data = &bytes[at + 12..at + 12 + len];
            let crc = u32::from_le_bytes(bytes[at + 12 + len..at + 16 + len].try_into().unwrap());
            assert_eq!(crc, xmen_hook_tensorboard::events::masked_crc32c(data));
            at += 16 + len;
            let e = Event::decode(data).unwrap();
            if let Some(EventWhat::Summary(s)) = e.what {
                for (k, v) in s.value.iter().enumerate() {
                    assert_eq!(v.tag, format!("v{k:02}"));
                    let want = ((e.step as u64 - 1) * 1000 + k as u64) as f32;
                    assert_eq!(v.value, Some(ValueKind::SimpleValue(want)));
                }
                out.push((e.step, s.value.len()));
            }
        }
    }
    out.sort();
    out
}

fn run(on_full: &str, queue: i64) -> (u64, Vec<(i64, usize)>, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_monitored_loop", "--ignored", "--nocapture", "--test-threads=1"])
        .env("XMEN_TB_CHILD_DIR", dir.path())
        .env("XMEN_TB_ON_FULL", on_full)
        .env("XMEN_TB_QUEUE", queue.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut text = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        text.push_str(&line);
        text.push('\n');
        if line.ends_with("READY") {
            break;
        }
    }
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    for line in lines {
        text.push_str(&line.unwrap());
        text.push('\n');
    }
    assert!(child.wait().unwrap().success(), "child failed:\n{text}");
    assert!(text.contains("---- Interrupted (SIGTERM) ----"), "{text}");
    let steps: u64 = text.lines().find_map(|l| l.strip_prefix("STEPS ")).unwrap().parse().unwrap();
    assert!(steps > 2000, "{text}");
    let events = events_on_disk(&dir.path().join("summaries"));
    (steps, events, text, dir)
}

#[test]
fn sigterm_mid_run_with_back_pressure_leaves_every_firing_on_disk() {
    let (steps, events, text, dir) = run("block", 4);
    assert!(!text.contains("dropped"), "{text}");
    let want: Vec<(i64, usize)> = (1..=steps as i64).map(|s| (s, VARS)).collect();
    assert_eq!(events.len(), want.len());
    assert_eq!(events, want);
    // And the real TensorBoard agrees.
    let Some(py) = common::python() else { return };
    let r = common::read(py, &dir.path().join("summaries"), None, None);
    for tag in ["v00", "v99"] {
        assert_eq!(r["scalars"][tag].as_array().unwrap().len() as u64, steps, "{tag}");
    }
}

#[test]
fn sigterm_mid_run_when_dropping_counts_every_dropped_firing() {
    let (steps, events, text, _dir) = run("drop", 1);
    let dropped_firings: u64 = text
        .split_once(" firings) because the writer's queue was full")
        .map(|(before, _)| before.rsplit('(').next().unwrap().parse().unwrap())
        .unwrap_or(0);
    assert_eq!(events.len() as u64 + dropped_firings, steps, "{text}");
    assert!(events.iter().all(|&(_, n)| n == VARS));
}

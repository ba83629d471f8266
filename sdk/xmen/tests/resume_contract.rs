//! The resume contract end to end: an experiment run by `xmen::main` times out (SIGUSR1),
//! is run again on its params.yml, restores its named objects and counters when its Monitor
//! is built, and ends exactly like a run that was never interrupted.
//!
//! The runs are child processes: this test binary re-executed with `XMEN_RESUME_TEST_ROLE`
//! set, so that only [`child_experiment`] runs (a stop signal is process-wide).
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use xmen::checkpoint::{format, Tracked};
use xmen::{Experiment, Firing, Hook, HookResult, Monitor, Outcome, Root, RunResult, Tensor};

const ROLE: &str = "XMEN_RESUME_TEST_ROLE";
const TIMEOUT_AFTER: &str = "XMEN_RESUME_TEST_TIMEOUT_AFTER";

/// Saves each matched object every time it fires, as the Checkpointer library does (that
/// library is tested on its own; this test is about the runner and the builder).
struct Save(PathBuf);

impl Hook for Save {
    fn call(&mut self, f: &Firing<'_>) -> HookResult {
        for (name, v) in f.vars() {
            if let xmen::ValueRef::State(h) = v {
                let snap = f.host().state(h).map_err(xmen::HookError::new)?;
                format::save(&self.0.join("checkpoints").join(name), &snap, f.counters(), None)
                    .map_err(|e| xmen::HookError::new(e.to_string()))?;
            }
        }
        Ok(Outcome::Continue)
    }
}

/// Counts: `w` grows by a step-dependent amount, so a repeated or skipped step changes it.
#[derive(xmen::Experiment)]
struct Count {
    /// Epochs to run
    #[param(default = 6)]
    epochs: u64,
}

impl Experiment for Count {
    fn run(&mut self, root: &Root) -> RunResult {
        let w = Tracked::new(vec![("w".to_owned(), Tensor::from_f64(&[1], &[0.0]))]);
        let m = Monitor::builder()
            .directory(root.directory())
            .state("w", &w)
            .hook_at("^w$@1e", Save(root.directory().to_path_buf()))
            .build()?;
        println!("START step={} epoch={}", m.step(), m.epoch());
        let timeout_after: Option<u64> = std::env::var(TIMEOUT_AFTER).ok().and_then(|s| s.parse().ok());
        for epoch in m.iter(m.epoch()..self.epochs) {
            for i in m.iter(0..5u64) {
                let step = m.step() + 1;
                let mut g = w.lock();
                let old = g[0].1.to_f64_vec()[0];
                g[0].1 = Tensor::from_f64(&[1], &[old * 0.5 + (step * 7 + i) as f64]);
            }
            if timeout_after == Some(epoch + 1) {
                // What SLURM does at a time limit: SIGUSR1, recorded as `timeout`.
                Command::new("kill").args(["-USR1", &std::process::id().to_string()]).status()?;
                let t = Instant::now();
                while !root.interrupted() && t.elapsed() < Duration::from_secs(10) {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        println!("END step={} epoch={} w={:?}", m.step(), m.epoch(), w.lock()[0].1.to_f64_vec()[0]);
        Ok(())
    }
}

#[test]
fn child_experiment() {
    if std::env::var(ROLE).as_deref() != Ok("run") {
        return;
    }
    let args: Vec<String> = std::env::var("XMEN_RESUME_TEST_ARGS").unwrap().split('\u{1f}').map(String::from).collect();
    let code = xmen::main_with_args::<Count>(args);
    // Pass the run's status on (ExitCode cannot be read, only compared).
    let status = (0..=255u8).find(|&c| std::process::ExitCode::from(c) == code).unwrap_or(1);
    std::process::exit(i32::from(status));
}

fn run(tmp: &Path, args: &[&str], timeout_after: Option<u64>) -> (String, std::process::ExitStatus) {
    let mut all = vec!["count"];
    all.extend_from_slice(args);
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_experiment", "--nocapture", "--test-threads=1"])
        .env(ROLE, "run")
        .env("XMEN_RESUME_TEST_ARGS", all.join("\u{1f}"))
        .env("XMEN", tmp.join("config"))
        .env_remove(TIMEOUT_AFTER);
    if let Some(n) = timeout_after {
        cmd.env(TIMEOUT_AFTER, n.to_string());
    }
    let out = cmd.output().unwrap();
    (String::from_utf8_lossy(&out.stdout).into_owned(), out.status)
}

fn line<'a>(out: &'a str, prefix: &str) -> &'a str {
    // The test harness prints `test child_experiment ... ` before the child's first line.
    out.lines().find_map(|l| l.find(prefix).map(|i| &l[i..])).unwrap_or_else(|| panic!("no {prefix} line in:\n{out}"))
}

fn params(dir: &Path) -> PathBuf {
    let p = dir.join("params.yml");
    assert!(p.is_file(), "no {}", p.display());
    p
}

#[test]
fn a_timed_out_run_started_again_resumes_from_its_checkpoint_and_ends_like_an_uninterrupted_one() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let (out, status) = run(tmp.path(), &["-x", whole.to_str().unwrap()], None);
    assert!(status.success(), "{out}");
    let reference = line(&out, "END ").to_owned();
    assert_eq!(line(&out, "START "), "START step=0 epoch=0");

    let split = tmp.path().join("split");
    let (out, status) = run(tmp.path(), &["-x", split.to_str().unwrap()], Some(3));
    assert_eq!(status.code(), Some(128 + 10), "SIGUSR1 exits 138:\n{out}");
    assert!(out.contains("Timeout encountered"), "{out}");
    let record = std::fs::read_to_string(params(&split)).unwrap();
    assert!(record.contains("_status: timeout"), "{record}");
    assert_eq!(format::steps(&split.join("checkpoints/w")).unwrap().last().map(|s| s.0), Some(15));

    let (out, status) = run(tmp.path(), &["-x", params(&split).to_str().unwrap()], None);
    assert!(status.success(), "{out}");
    assert_eq!(line(&out, "START "), "START step=15 epoch=3", "counters restored when the Monitor is built");
    assert!(out.contains("]: loaded w@15 from "), "{out}");
    assert_eq!(line(&out, "END "), reference, "the same end state as the uninterrupted run");
    let record = std::fs::read_to_string(params(&split)).unwrap();
    assert!(record.contains("_status: finished"), "{record}");
}

#[test]
fn a_fresh_run_does_not_resume_even_with_checkpoints_in_its_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fresh");
    let (out, status) = run(tmp.path(), &["-x", dir.to_str().unwrap()], None);
    assert!(status.success(), "{out}");
    // A second registration in the same place is a new run (`fresh_0`), not a resume.
    let (out, status) = run(tmp.path(), &["-x", dir.to_str().unwrap()], None);
    assert!(status.success(), "{out}");
    assert_eq!(line(&out, "START "), "START step=0 epoch=0");
}

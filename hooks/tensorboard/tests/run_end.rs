//! The HParams session status is how the run ended: a child process (this test binary, re-run
//! on its ignored `child_interrupted_loop`) runs a Monitor with the `tensorboard` cdylib and is
//! interrupted the way the experiment runner interrupts it on SIGTERM or SIGUSR1; the real
//! TensorBoard then reads the session's end status back from the event files.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use common::{python, read};
use std::process::Command;
use xmen::hooks::HookConfig;
use xmen::{Monitor, RunStatus};

#[test]
#[ignore = "the child half of the run-end tests; they run it"]
fn child_interrupted_loop() {
    let Ok(dir) = std::env::var("XMEN_TB_END_DIR") else { return };
    let status = std::env::var("XMEN_TB_END_STATUS").unwrap();
    let status = RunStatus::from_name(&status).unwrap();
    let m = Monitor::builder()
        .directory(&dir)
        .output(std::io::sink())
        .hooks([HookConfig::new("tensorboard", "loss@1s").option("metrics", vec!["loss"])])
        .build()
        .unwrap();
    for i in m.iter(0..1000u64) {
        m.set("loss", 1.0 / (i + 1) as f64);
        if i == 5 {
            xmen::__private::xmen_core::monitor::request_interrupt_as(status, "a signal");
        }
    }
    assert!(m.step() < 1000, "the interrupt ended the loop");
}

/// The session-end status TensorBoard reads after a run interrupted as `status`.
fn session_status_after(status: &str) -> Option<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("params.yml"), "_status: running\nlr: 0.1\n").unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_interrupted_loop", "--ignored", "--nocapture", "--test-threads=1"])
        .env("XMEN_TB_END_DIR", dir.path())
        .env("XMEN_TB_END_STATUS", status)
        .output()
        .unwrap();
    assert!(out.status.success(), "child failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let py = python()?;
    let r = read(py, &dir.path().join("summaries"), None, None);
    Some(r["tensors"]["_hparams_/session_end_info"]["status"].clone())
}

#[test]
fn a_stopped_run_is_a_failed_session_and_a_timed_out_one_is_still_running() {
    // tensorboard.plugins.hparams.api_pb2.Status: 1 success, 2 failure, 3 running.
    for (status, want) in [("stopped", 2), ("timeout", 3), ("requeue", 3)] {
        let Some(got) = session_status_after(status) else { return };
        assert_eq!(got, want, "{status}");
    }
}

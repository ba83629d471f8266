//! A writer killed with SIGKILL in the middle of a save (between writing its temporary file
//! and the rename) leaves the previous checkpoint intact and loadable, and never a partial
//! file under a checkpoint's name.
//!
//! The child process is this test binary itself, re-executed with `XMEN_CKPT_TEST_ROLE` set so
//! that only [`child_trainer`] runs; `XMEN_TEST_CKPT_PAUSE_BEFORE_RENAME_MS` makes each save
//! pause before its rename, where the parent kills it.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use xmen::checkpoint::{format, load, Tracked};
use xmen::{Monitor, Tensor, Value};
use xmen_hook_checkpointer::policy::Policy;
use xmen_hook_checkpointer::Checkpointer;

const ROLE: &str = "XMEN_CKPT_TEST_ROLE";
const DIR: &str = "XMEN_CKPT_TEST_DIR";
/// Elements of the checkpointed tensor: 4 MB, so a save takes a visible moment.
const N: usize = 1 << 20;

fn tensor(step: u64) -> Tensor {
    Tensor::from_f32(&[N as u64], &vec![step as f32; N])
}

/// The child: a long run that checkpoints `w` (filled with the step number) at every step,
/// keeping only the newest file, and prints the Monitor's lines to stdout.
#[test]
fn child_trainer() {
    if std::env::var(ROLE).as_deref() != Ok("trainer") {
        return;
    }
    let dir = PathBuf::from(std::env::var_os(DIR).unwrap());
    let w = Tracked::new(vec![("w".to_owned(), tensor(0))]);
    let hook = Checkpointer::with_policy(Some(dir.clone()), Policy { keep: Some(1), ..Policy::default() }, None);
    let m = Monitor::builder().directory(&dir).hook_at("^w$@1s", hook).build().unwrap();
    m.set("w", &w);
    for i in m.iter(0..1000u64) {
        w.lock()[0].1 = tensor(i + 1);
    }
}

#[test]
fn a_kill_during_a_save_leaves_the_previous_checkpoint_intact_and_loadable() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_trainer", "--nocapture", "--test-threads=1"])
        .env(ROLE, "trainer")
        .env(DIR, tmp.path())
        .env(format::PAUSE_BEFORE_RENAME_ENV, "2000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut saves = 0;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if line.contains("]: saved w at ") {
            saves += 1;
            if saves == 2 {
                break;
            }
        }
    }
    assert_eq!(saves, 2, "the child never saved twice");
    // Kill step 3's save inside its (long) pause before the rename: once its temporary file
    // is there. Polled, not timed, so a loaded machine cannot make the kill land elsewhere.
    let folder = tmp.path().join("checkpoints/w");
    let deadline = std::time::Instant::now() + Duration::from_secs(25);
    while !std::fs::read_dir(&folder)
        .map(|d| d.flatten().any(|e| format::is_temp_name(&e.file_name().to_string_lossy())))
        .unwrap_or(false)
    {
        assert!(std::time::Instant::now() < deadline, "step 3's save never wrote its temporary file");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    let _ = child.wait();

    let names: Vec<String> =
        std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(format::steps(&folder).unwrap().into_iter().map(|(s, _)| s).collect::<Vec<_>>(), [2], "{names:?}");
    assert!(names.iter().any(|n| format::is_temp_name(n)), "the kill landed before the rename: {names:?}");

    // The previous checkpoint loads, counters included.
    let w = Tracked::new(vec![("w".to_owned(), tensor(0))]);
    let loaded = load(&tmp.path().join("checkpoints"), None, false, [("w", Value::from(&w))]).unwrap();
    assert_eq!(loaded.counters, Some([2, 0, 0, 0, 0]));
    assert_eq!(w.lock()[0].1, tensor(2));

    // The next run cleans the dead writer's temporary file up when it first saves there.
    let hook = Checkpointer::with_policy(Some(tmp.path().into()), Policy { keep: Some(1), ..Policy::default() }, None);
    let m = Monitor::builder().directory(tmp.path()).hook_at("^w$@1s", hook).output(std::io::sink()).build().unwrap();
    m.set("w", &w);
    for _ in m.iter(0..1) {}
    drop(m);
    let names: Vec<String> =
        std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| format::is_temp_name(n)), "{names:?}");
}

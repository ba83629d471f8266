//! A Messenger and a second process writing the same params.yml at the same time lose
//! nothing: every write is a locked read-modify-write with an atomic rename.
#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;
use xmen::{Keep, Monitor, Root, Spec};
use xmen_hook_messenger::Messenger;
use xmen_record::{Record, RecordFile, WriteOpts};

const CHILD_ENV: &str = "XMEN_TEST_NOTES_INTO";
const NOTES: usize = 300;

/// In the child process: add NOTES notes to the record, one locked update each.
#[test]
fn child_adds_notes() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    let path = RecordFile::path_in(std::path::Path::new(&dir));
    for i in 0..NOTES {
        RecordFile::update(&path, WriteOpts::default(), |r: &mut Record| -> Result<(), xmen_record::RecordError> {
            r.note(&format!("note {i}"), false);
            Ok(())
        })
        .unwrap();
    }
}

#[test]
fn a_messenger_and_another_writer_lose_nothing() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::env::set_var("XMEN", tmp.path().join("config"));
    let ex = Root::create("ex", tmp.path().join("ex"), "").unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_adds_notes", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, ex.directory())
        .spawn()
        .unwrap();
    let spec = "loss|acc->ex@1s";
    let m = Monitor::builder()
        .hook_at(spec, Messenger::new(&Spec::parse(spec).unwrap(), Keep::Min, Some("^loss$"), false, false).unwrap())
        .output(std::io::sink())
        .build()
        .unwrap();
    m.set("ex", &ex);
    let mut steps = 0u64;
    let mut broke = false;
    for i in m.iter(0..2000u64) {
        m.set("loss", 1.0 / (i as f64 + 1.0));
        m.set("acc", i);
        steps += 1;
        if i > 200 && child.try_wait().unwrap().is_some() {
            broke = true; // this last body ends without a firing
            break;
        }
    }
    let last_fired = if broke { steps - 2 } else { steps - 1 };
    assert!(child.wait().unwrap().success());
    drop(m);
    let rec = ex.record().unwrap();
    assert_eq!(rec.notes.len(), NOTES, "every note of the other process is there");
    assert_eq!(rec.message_value("acc"), Some(&xmen::Value::Int(last_fired as i64)), "and the last message");
    assert!(steps > 200, "the two writers overlapped for {steps} steps");
}

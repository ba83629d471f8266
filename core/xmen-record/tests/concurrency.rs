//! The safety of the record under concurrent writers and killed writers (issue item 6).
//!
//! Child processes are this test binary itself, re-executed with `XMEN_RECORD_TEST_ROLE` set
//! so that only [`child_writer`] runs: it writes messages through `RecordFile::update` and
//! prints `XMEN-ACK <i>` after each successful update.

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use xmen_core::Value;
use xmen_record::store::PAUSE_BEFORE_RENAME_ENV;
use xmen_record::{Keep, Record, RecordError, RecordFile, WriteOpts};

const ROLE: &str = "XMEN_RECORD_TEST_ROLE";
const PATH: &str = "XMEN_RECORD_TEST_PATH";
const PREFIX: &str = "XMEN_RECORD_TEST_PREFIX";
const COUNT: &str = "XMEN_RECORD_TEST_COUNT";
const ACK: &str = "XMEN-ACK ";

/// The child role: write `COUNT` messages `{PREFIX}{i}: i`, acknowledging each on stdout.
/// Does nothing in a normal test run.
#[test]
fn child_writer() -> Result<(), RecordError> {
    if std::env::var(ROLE).as_deref() != Ok("writer") {
        return Ok(());
    }
    let path = PathBuf::from(std::env::var_os(PATH).unwrap_or_default());
    let prefix = std::env::var(PREFIX).unwrap_or_default();
    let count: i64 = std::env::var(COUNT).ok().and_then(|c| c.parse().ok()).unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for i in 0..count {
        RecordFile::update(&path, WriteOpts::default(), |r| {
            r.message(&[(format!("{prefix}{i}"), Value::Int(i))], Keep::Latest, None)
        })?;
        let _ = writeln!(out, "{ACK}{i}");
        let _ = out.flush();
    }
    Ok(())
}

fn spawn_writer(path: &Path, prefix: &str, count: usize, pause_ms: Option<u64>) -> Child {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => panic!("current_exe: {e}"),
    };
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env(ROLE, "writer")
        .env(PATH, path)
        .env(PREFIX, prefix)
        .env(COUNT, count.to_string())
        .env_remove(PAUSE_BEFORE_RENAME_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(ms) = pause_ms {
        cmd.env(PAUSE_BEFORE_RENAME_ENV, ms.to_string());
    }
    match cmd.spawn() {
        Ok(c) => c,
        Err(e) => panic!("spawn: {e}"),
    }
}

/// A thread forwarding each acknowledged index from the child's stdout.
fn acks(child: &mut Child) -> mpsc::Receiver<i64> {
    let (tx, rx) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(i) = line.split(ACK).nth(1).and_then(|n| n.trim().parse().ok()) {
                    if tx.send(i).is_err() {
                        break;
                    }
                }
            }
        });
    }
    rx
}

fn new_record(dir: &Path) -> Result<PathBuf, RecordError> {
    let path = RecordFile::path_in(dir);
    let rec = Record { root: Some(dir.display().to_string()), ..Record::default() };
    RecordFile::write_new(&path, &rec, WriteOpts::default())?;
    Ok(path)
}

#[test]
fn two_processes_writing_1000_messages_each_lose_none() -> Result<(), RecordError> {
    let t = tempfile::tempdir().map_err(|e| RecordError::io("create", "tempdir", e))?;
    let path = new_record(t.path())?;
    let mut children = [spawn_writer(&path, "a", 1000, None), spawn_writer(&path, "b", 1000, None)];
    for c in &mut children {
        let status = c.wait().map_err(|e| RecordError::io("wait for", "child", e))?;
        assert!(status.success(), "a writer failed: {status}");
    }
    let rec = RecordFile::load(&path)?;
    assert_eq!(rec.messages.len(), 2000);
    for prefix in ["a", "b"] {
        for i in 0..1000 {
            assert_eq!(rec.message_value(&format!("{prefix}{i}")), Some(&Value::Int(i)), "{prefix}{i}");
        }
    }
    Ok(())
}

/// xorshift64*, seeded from the clock (the seed is printed on failure).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

#[test]
fn a_writer_killed_200_times_leaves_a_parsable_file_with_every_acknowledged_message() -> Result<(), RecordError> {
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1;
    let mut rng = Rng(seed);
    let t = tempfile::tempdir().map_err(|e| RecordError::io("create", "tempdir", e))?;
    let path = new_record(t.path())?;
    let started = Instant::now();
    let mut acked: Vec<(String, i64)> = Vec::new();
    let (mut mid_pause, mut random, mut landed) = (0, 0, 0);
    for round in 0..200 {
        let prefix = format!("r{round}_");
        // Even rounds: the writer pauses 20 ms before each rename and is killed inside that
        // pause. Odd rounds: no pause, killed at a random moment.
        let at_pause = round % 2 == 0;
        let mut child = spawn_writer(&path, &prefix, 1000, at_pause.then_some(20));
        let rx = acks(&mut child);
        let want = 1 + rng.below(3) as usize;
        let mut got = Vec::new();
        while got.len() < want {
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(i) => got.push(i),
                Err(e) => panic!("seed {seed}, round {round}: no ack from the writer: {e}"),
            }
        }
        // After an ack the writer starts its next update; with a 20 ms pause, 4-12 ms later it
        // sits between writing its temporary file and the rename.
        let delay = if at_pause { 4 + rng.below(9) } else { rng.below(4) };
        std::thread::sleep(Duration::from_millis(delay));
        if at_pause {
            mid_pause += 1;
        } else {
            random += 1;
        }
        let pid = child.id();
        child.kill().map_err(|e| RecordError::io("kill", "child", e))?;
        let _ = child.wait();
        // A kill between the write of the new file and the rename leaves a temporary file
        // named by this writer's pid: evidence that this kill landed there (files of earlier
        // rounds, which later writers remove once a second old, are not counted again).
        if temporaries_of(t.path(), pid)? > 0 {
            landed += 1;
        }
        // Acks printed before the kill are still in the pipe.
        got.extend(rx.iter());
        acked.extend(got.into_iter().map(|i| (format!("{prefix}{i}"), i)));
        let rec = match RecordFile::load(&path) {
            Ok(r) => r,
            Err(e) => panic!("seed {seed}, round {round}: params.yml does not parse: {e}"),
        };
        for (k, v) in &acked {
            assert_eq!(rec.message_value(k), Some(&Value::Int(*v)), "seed {seed}, round {round}: lost {k}");
        }
    }
    assert_eq!((mid_pause, random), (100, 100));
    assert!(landed >= 40, "seed {seed}: only {landed} kills landed before a rename");
    // The next writer removes what dead writers left (once their files are a second old).
    std::thread::sleep(Duration::from_millis(1100));
    let mut last = spawn_writer(&path, "final_", 1, None);
    let _ = last.wait();
    let left = temporaries(t.path())?;
    assert_eq!(left, 0, "seed {seed}: the next writer leaves no dead writer's temporary file");
    eprintln!(
        "200 kills in {:?}, {landed} before a rename, {} acknowledged messages kept",
        started.elapsed(),
        acked.len()
    );
    Ok(())
}

/// How many temporary files of the writer with process id `pid` sit in `dir`.
fn temporaries_of(dir: &std::path::Path, pid: u32) -> Result<usize, RecordError> {
    let mine = format!(".params.yml.{pid}.");
    Ok(std::fs::read_dir(dir)
        .map_err(|e| RecordError::io("list", dir, e))?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(&mine) && name.ends_with(".tmp")
        })
        .count())
}

/// How many temporary files sit in `dir`.
fn temporaries(dir: &std::path::Path) -> Result<usize, RecordError> {
    Ok(std::fs::read_dir(dir)
        .map_err(|e| RecordError::io("list", dir, e))?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .count())
}

//! SLURM against the real single-node cluster of `scripts/slurm/start.sh` (issue 9): real
//! `sbatch`, `squeue`, `scontrol`, `scancel` and daemons, never a stub on PATH.
//!
//! These tests run when `XMEN_SLURM_TESTS=1` (the SLURM step of `scripts/test.sh` sets it after
//! starting the cluster); otherwise they say they are skipped. With `XMEN_SLURM_TESTS=1`, a
//! cluster that does not answer fails the tests under `CI=true` and skips them elsewhere. Every
//! wait is bounded, and every job a test submits is cancelled when the test ends.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{describe, read, Env};
use xmen_record::runinfo::{RunInfo, Submission};
use xmen_record::{Record, Status};

/// The cluster answers: `sinfo` shows an idle, mixed, allocated or completing node
/// (completing: another test's cancelled job is still being cleaned up), within 30 s.
fn cluster() -> bool {
    if std::env::var("XMEN_SLURM_TESTS").ok().as_deref() != Some("1") {
        eprintln!("skipping: set XMEN_SLURM_TESTS=1 with a cluster started by scripts/slurm/start.sh");
        return false;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let (up, out) = loop {
        let out = Command::new("sinfo").args(["-h", "-o", "%T"]).output();
        let states = out.as_ref().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
        let up = states.lines().any(|s| {
            let s = s.trim().trim_end_matches(['*', '~', '#', '!', '%', '$', '@', '^', '-', '+']);
            matches!(s, "idle" | "mixed" | "allocated" | "completing")
        });
        if up || Instant::now() > deadline {
            break (up, out);
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    if !up {
        let why =
            format!("no SLURM node is up (sinfo: {out:?}); start one with `eval \"$(bash scripts/slurm/start.sh)\"`");
        if std::env::var("CI").ok().as_deref() == Some("true") {
            panic!("{why}");
        }
        eprintln!("skipping: {why}");
    }
    up
}

/// The `timeout` example (messages every step, sleeps, checkpoints) and the Checkpointer
/// library it loads, built with the cargo running this test.
fn timeout_example() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    // Two builds: `--example` would also restrict what is built of the hook package.
    let lib = Command::new(env!("CARGO"))
        .args(["build", "-p", "xmen-hook-checkpointer", "--lib", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(lib.status.success(), "cannot build the Checkpointer:\n{}", String::from_utf8_lossy(&lib.stderr));
    let out = Command::new(env!("CARGO"))
        .args(["build", "-p", "xmen-examples", "--example", "timeout", "--message-format=json", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(out.status.success(), "cannot build the timeout example:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"name\":\"timeout\""))
        .find_map(|l| l.split("\"executable\":\"").nth(1).and_then(|r| r.split('"').next()))
        .map(PathBuf::from)
        .unwrap()
}

/// Cancels the jobs it holds when dropped, so a failing test leaves nothing queued.
#[derive(Default)]
struct Jobs(Vec<String>);

impl Drop for Jobs {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            let _ = Command::new("scancel").args(&self.0).stderr(Stdio::null()).status();
        }
    }
}

/// A set of the timeout experiment registered with `sweep`, and the jobs submitted for it.
struct Set {
    env: Env,
    root: PathBuf,
    jobs: Jobs,
}

impl Set {
    fn new(sweep: &str) -> Set {
        Set::at("set", sweep)
    }

    /// A set at `rel` inside a fresh temporary folder.
    fn at(rel: &str, sweep: &str) -> Set {
        let exe = timeout_example();
        let env = Env::new();
        env.ok(&["config", "--disable_prompt"]);
        env.ok(&["experiments", "--add", "timeout", &exe.display().to_string()]);
        env.ok(&["init", "-n", "timeout", "-r", rel, "--purpose", "slurm test"]);
        let root = env.path(rel);
        env.ok(&["register", "-r", &root.display().to_string(), "-u", sweep]);
        Set { env, root, jobs: Jobs::default() }
    }

    /// `xmen args...` in the set root, with a fast heartbeat that the jobs inherit.
    fn xmen(&self, args: &[&str], path: Option<&str>) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_xmen"));
        c.args(args).current_dir(&self.root).env("XMEN", self.env.cfg()).env("XMEN_HEARTBEAT_SECS", "1");
        if let Some(p) = path {
            c.env("PATH", p);
        }
        c.stdin(Stdio::null()).output().unwrap()
    }

    fn ok(&mut self, args: &[&str]) -> String {
        let out = self.xmen(args, None);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        // Hold every job id printed, even when the command failed later.
        for line in text.lines() {
            if let Some(id) =
                line.strip_prefix("Submitted batch job ").or_else(|| line.strip_prefix("Submitted array job "))
            {
                self.jobs.0.push(id.split([':', ' ']).next().unwrap_or_default().to_owned());
            }
        }
        assert!(out.status.success(), "xmen {args:?} failed:\n{}", describe(&out));
        text
    }

    fn folders(&self) -> Vec<PathBuf> {
        let mut f: Vec<PathBuf> = std::fs::read_dir(&self.root)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("params.yml").is_file())
            .collect();
        f.sort();
        f
    }
}

fn record(dir: &Path) -> Record {
    Record::load(&dir.join("params.yml")).unwrap()
}

fn int_message(rec: &Record, key: &str) -> Option<i64> {
    match rec.message_value(key) {
        Some(xmen_core::Value::Int(i)) => Some(*i),
        _ => None,
    }
}

fn squeue() -> String {
    let out = Command::new("squeue").args(["-h", "-o", "%A %i %T %j"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The job's state as `scontrol show job` says (`RUNNING`, `PENDING`, `COMPLETED`...).
fn job_state(id: &str) -> String {
    let out = Command::new("scontrol").args(["show", "job", id]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find_map(|t| t.strip_prefix("JobState="))
        .unwrap_or("UNKNOWN")
        .to_owned()
}

/// Poll `probe` every 200 ms until it gives a value; panic after `limit` saying what was
/// awaited, with the queue and each folder's status.
fn wait_for<T>(what: &str, limit: Duration, folders: &[PathBuf], mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        if start.elapsed() > limit {
            let statuses: Vec<String> = folders
                .iter()
                .map(|f| {
                    let out = std::fs::read_to_string(f.join("slurm.out")).unwrap_or_default();
                    format!("{}: {} (slurm.out: {out:?})", f.display(), record(f).status)
                })
                .collect();
            panic!("timed out after {limit:?} waiting for {what}\nsqueue:\n{}\n{}", squeue(), statuses.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `Some` once every run has ended; a run that ended otherwise than `finished` fails at once,
/// with its slurm.out.
fn all_finished(folders: &[PathBuf]) -> Option<()> {
    let mut done = true;
    for f in folders {
        match record(f).status {
            Status::Finished => {}
            Status::Error | Status::Lost => {
                let out = std::fs::read_to_string(f.join("slurm.out")).unwrap_or_default();
                panic!("{} ended as {}; slurm.out:\n{out}", f.display(), record(f).status);
            }
            _ => done = false,
        }
    }
    done.then_some(())
}

/// The `step N` lines of every run of an experiment (out.txt is appended to by each run).
fn printed_steps(dir: &Path) -> Vec<u64> {
    read(&dir.join("out.txt")).lines().filter_map(|l| l.strip_prefix("step ")?.trim().parse().ok()).collect()
}

const SWEEP: &str = "{steps: 2 | 3, sleep: 0.1 | 0.2}";

#[test]
fn a_two_by_two_sweep_submitted_with_sbatch_finishes_with_its_messages() {
    if !cluster() {
        return;
    }
    let mut set = Set::new(SWEEP);
    let out = set.ok(&["run", "*", "sbatch"]);
    assert_eq!(out.matches("Submitted batch job ").count(), 4, "{out}");
    assert!(out.contains("--job-name=steps=2__sleep=0.1") && out.contains("/slurm.out"), "{out}");
    let folders = set.folders();
    assert_eq!(folders.len(), 4);
    // The job ids are real: recorded in each params.yml and known to slurmctld.
    for f in &folders {
        let sub = Submission::of(&record(f)).unwrap_or_else(|| panic!("no _slurm in {}", f.display()));
        assert!(set.jobs.0.contains(&sub.job_id), "{} not in {:?}", sub.job_id, set.jobs.0);
        assert_ne!(job_state(&sub.job_id), "UNKNOWN", "slurmctld does not know job {}", sub.job_id);
    }
    wait_for("the four jobs to finish", Duration::from_secs(90), &folders, || all_finished(&folders));
    for f in &folders {
        let rec = record(f);
        let steps = rec.get("steps").and_then(|v| if let xmen_core::Value::Int(i) = v { Some(*i) } else { None });
        assert_eq!(int_message(&rec, "step"), steps, "{}", f.display());
        let run = RunInfo::of(&rec).unwrap();
        let job = run.slurm.unwrap();
        assert_eq!(Some(job.job_id.clone()), Submission::of(&rec).map(|s| s.job_id), "the run knows its job");
        assert_eq!(job.restart_count, 0);
        let out = read(&f.join("slurm.out"));
        assert!(out.contains("step 1\n") && out.contains(&format!("step {}\n", steps.unwrap_or(0))), "{out}");
    }
    let list = set.ok(&["list", "-s"]);
    assert_eq!(list.matches("finished").count(), 4, "{list}");
}

#[test]
fn the_same_sweep_as_one_array_job_finishes() {
    if !cluster() {
        return;
    }
    let mut set = Set::new(SWEEP);
    let out = set.ok(&["run", "--array=2", "*", "sbatch"]);
    assert_eq!(set.jobs.0.len(), 1, "one job: {out}");
    let array = set.jobs.0[0].clone();
    assert!(out.contains("--array=0-3%2") && out.contains("--job-name=set"), "{out}");
    let folders = set.folders();
    for (task, f) in folders.iter().enumerate() {
        let sub = Submission::of(&record(f)).unwrap();
        assert_eq!((sub.array_job_id.as_deref(), sub.array_task_id), (Some(array.as_str()), Some(task as u32)));
    }
    wait_for("the four array tasks to finish", Duration::from_secs(90), &folders, || all_finished(&folders));
    for (task, f) in folders.iter().enumerate() {
        let rec = record(f);
        let job = RunInfo::of(&rec).and_then(|r| r.slurm).unwrap();
        assert_eq!(job.array_job_id.as_deref(), Some(array.as_str()), "{}", f.display());
        assert_eq!(job.array_task_id, Some(task.to_string()), "task {task} ran {}", f.display());
        assert!(int_message(&rec, "step").is_some_and(|s| s >= 2), "{}", f.display());
        assert!(read(&f.join("slurm.out")).contains("step 2\n"), "each task writes its own slurm.out");
    }
}

/// r13: a set whose path holds spaces, quotes, `$`, `%` (which sbatch expands in `--output`),
/// `*`, `[`, `;`, unicode and a leading `-` runs under sbatch, one job per run and as an array,
/// each run writing its own slurm.out.
#[test]
fn awkward_set_paths_run_under_sbatch_alone_and_as_an_array() {
    if !cluster() {
        return;
    }
    let mut set = Set::at("it's \"odd\" $HOME %j *[;λ/-set one", "{steps: 2, sleep: 0.1 | 0.2}");
    set.ok(&["run", "*", "sbatch"]);
    let folders = set.folders();
    assert_eq!(folders.len(), 2);
    wait_for("the two jobs to finish", Duration::from_secs(90), &folders, || all_finished(&folders));
    for f in &folders {
        assert!(read(&f.join("slurm.out")).contains("step 2\n"), "{}", f.display());
    }
    set.ok(&["reset", "*"]);
    set.ok(&["run", "--array", "*", "sbatch"]);
    wait_for("the array's two tasks to finish", Duration::from_secs(90), &folders, || all_finished(&folders));
    for f in &folders {
        assert_eq!(read(&f.join("slurm.out")).matches("step 2\n").count(), 2, "{}", f.display());
    }
}

/// Submit one long experiment and wait until it has run `steps` steps.
fn submit_long(set: &mut Set, launcher: &[&str], steps: i64) -> (PathBuf, String) {
    let mut args = vec!["run", "*"];
    args.extend_from_slice(launcher);
    set.ok(&args);
    let dir = set.folders().remove(0);
    let job = set.jobs.0[0].clone();
    wait_for(&format!("job {job} to run {steps} steps"), Duration::from_secs(60), std::slice::from_ref(&dir), || {
        let rec = record(&dir);
        (rec.status == Status::Running && int_message(&rec, "step").is_some_and(|s| s >= steps)).then_some(())
    });
    (dir, job)
}

#[test]
fn a_job_killed_with_scancel_shows_stopped_and_a_killed_process_shows_lost_never_running() {
    if !cluster() {
        return;
    }
    let mut set = Set::new("{steps: 600 | 601, sleep: 0.1}");
    set.ok(&["run", "*", "sbatch"]);
    let folders = set.folders();
    let jobs = set.jobs.0.clone();
    for f in &folders {
        wait_for("both jobs to run", Duration::from_secs(60), &folders, || {
            (record(f).status == Status::Running).then_some(())
        });
    }
    // scancel: SLURM sends SIGTERM, the run records `stopped`.
    let cancelled = Submission::of(&record(&folders[0])).unwrap().job_id;
    assert!(jobs.contains(&cancelled));
    assert!(Command::new("scancel").arg(&cancelled).status().unwrap().success());
    // SIGKILL: the process cannot record anything; its record still says `running`.
    let killed = RunInfo::of(&record(&folders[1])).unwrap();
    assert!(Command::new("kill").args(["-KILL", &killed.pid.to_string()]).status().unwrap().success());
    wait_for("both jobs to leave the queue", Duration::from_secs(60), &folders, || {
        let q = squeue();
        (!q.lines().any(|l| jobs.iter().any(|j| l.split_whitespace().next() == Some(j)))).then_some(())
    });
    assert_eq!(record(&folders[0]).status, Status::Stopped);
    assert_eq!(record(&folders[1]).status, Status::Running, "a killed process leaves `running` behind");

    let list = set.ok(&["list", "-s"]);
    assert!(!list.contains("running"), "{list}");
    assert!(list.contains("stopped") && list.contains("lost"), "{list}");

    let out = set.ok(&["reconcile", "--dry-run"]);
    assert!(out.contains("running -> lost (dry run") && out.contains("is gone"), "{out}");
    assert_eq!(record(&folders[1]).status, Status::Running);
    let out = set.ok(&["reconcile"]);
    assert!(out.contains(&format!("{}: running -> lost", folders[1].display())), "{out}");
    assert!(out.contains("Checked 2 experiments: 1 running, 1 lost."), "{out}");
    let rec = record(&folders[1]);
    assert_eq!(rec.status, Status::Lost);
    assert!(rec.notes.iter().any(|n| n.contains(&format!("process {} on", killed.pid))), "{:?}", rec.notes);
    assert!(set.ok(&["reconcile"]).contains("0 running, 0 lost"));
}

/// Wait until a requeued job is pending, then make it eligible two seconds on (SLURM holds a
/// requeued job for about two minutes).
fn release_requeued(job: &str, dir: &Path) {
    wait_for(&format!("job {job} to be pending again"), Duration::from_secs(60), &[dir.to_path_buf()], || {
        (job_state(job) == "PENDING").then_some(())
    });
    // Not `now`: slurmd refuses a credential made in the same second as the revocation of the
    // previous incarnation's ("Killing non-startable batch job: Job credential revoked"), and
    // the job then ends for good. SLURM's own requeue delay avoids that; two seconds do here.
    let out = Command::new("scontrol").args(["update", &format!("JobId={job}"), "StartTime=now+2"]).output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
}

/// The run resumed in the same folder after a restart and numbered its steps on.
fn assert_resumed(dir: &Path, steps: u64) {
    let rec = record(dir);
    assert_eq!(rec.status, Status::Finished);
    assert_eq!(RunInfo::of(&rec).and_then(|r| r.slurm).map(|j| j.restart_count), Some(1));
    assert_eq!(int_message(&rec, "step"), Some(steps as i64));
    let printed = printed_steps(dir);
    assert_eq!(printed, (1..=steps).collect::<Vec<_>>(), "continuous step numbers across the requeue");
    let out = read(&dir.join("out.txt"));
    assert_eq!(out.matches("resumed after step ").count(), 1, "{out}");
}

#[test]
fn scontrol_requeue_on_a_running_job_resumes_it_with_continuous_step_numbers() {
    if !cluster() {
        return;
    }
    let mut set = Set::new("{steps: 30, sleep: 0.2}");
    let (dir, job) = submit_long(&mut set, &["sbatch"], 3);
    assert!(Command::new("scontrol").args(["requeue", &job]).status().unwrap().success());
    release_requeued(&job, &dir);
    assert!(record(&dir).status == Status::Stopped || job_state(&job) != "PENDING");
    wait_for("the requeued job to finish", Duration::from_secs(90), std::slice::from_ref(&dir), || {
        all_finished(std::slice::from_ref(&dir))
    });
    assert_resumed(&dir, 30);
    // slurm.out is appended to by the restart (`--open-mode=append`), so both runs are there.
    let out = read(&dir.join("slurm.out"));
    assert!(out.contains("DUE TO JOB REQUEUE") && out.contains("resumed after step"), "{out}");
}

#[test]
fn usr1_before_the_time_limit_records_requeue_and_the_job_resumes() {
    if !cluster() {
        return;
    }
    let mut set = Set::new("{steps: 30, sleep: 0.2}");
    // What SLURM does at `--signal=B:USR1@T` before the time limit, sent now.
    let (dir, job) = submit_long(&mut set, &["sbatch", "--requeue"], 3);
    assert!(Command::new("scancel").args(["--signal=USR1", "--batch", &job]).status().unwrap().success());
    // The run records `requeue` and requeues its own job with `scontrol requeue`.
    release_requeued(&job, &dir);
    let out = read(&dir.join("out.txt"));
    assert!(out.contains("Timeout encountered") && out.contains(&format!("Requeued SLURM job {job}")), "{out}");
    wait_for("the requeued job to finish", Duration::from_secs(90), std::slice::from_ref(&dir), || {
        all_finished(std::slice::from_ref(&dir))
    });
    assert_resumed(&dir, 30);
}

#[test]
fn no_sbatch_on_path_is_a_clear_error() {
    // No cluster needed: PATH holds only an empty folder.
    let set = Set::new("{steps: 1}");
    let empty = set.env.path("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    for args in [&["run", "*", "sbatch"][..], &["run", "--array", "*", "sbatch"]] {
        let out = set.xmen(args, Some(&empty.display().to_string()));
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("`sbatch` is not on PATH: SLURM is not installed here"), "{err}");
        assert!(err.contains("scripts/slurm/start.sh"), "{err}");
    }
    let out = set.xmen(&["run", "--array", "*", "bash"], None);
    assert!(String::from_utf8_lossy(&out.stderr).contains("the launcher must be sbatch"), "{}", describe(&out));
}

/// The seconds in `... in 4.1 s` of an `xmen run` summary line starting with `prefix`.
fn seconds_after(out: &str, prefix: &str) -> f64 {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(" in ").next())
        .and_then(|t| t.trim_end_matches(" s").trim().parse().ok())
        .unwrap_or_else(|| panic!("no `{prefix}... in N s` line in:\n{out}"))
}

#[test]
fn a_thousand_jobs_submit_in_seconds_and_a_thousand_task_array_in_one_call() {
    if !cluster() {
        return;
    }
    let env = Env::new();
    env.ok(&["config", "--disable_prompt"]);
    let root = env.bash_set("set");
    let tens = (0..10).map(|i| i.to_string()).collect::<Vec<_>>().join(" | ");
    let hundreds = (0..100).map(|i| i.to_string()).collect::<Vec<_>>().join(" | ");
    env.ok(&["register", "-r", "set", "-u", &format!("{{a: {tens}, b: {hundreds}}}")]);
    let mut jobs = Jobs::default();
    let run = |args: &[&str], jobs: &mut Jobs| {
        let out = Command::new(env!("CARGO_BIN_EXE_xmen"))
            .args(args)
            .current_dir(&root)
            .env("XMEN", env.cfg())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        for l in text.lines() {
            if let Some(id) = l.strip_prefix("Submitted batch job ").or_else(|| l.strip_prefix("Submitted array job "))
            {
                jobs.0.push(id.split([':', ' ']).next().unwrap_or_default().to_owned());
            }
        }
        assert!(out.status.success(), "{}", describe(&out));
        text
    };
    // --hold: the jobs are real and queued, but never run.
    let started = Instant::now();
    let out = run(&["run", "*", "sbatch", "--hold"], &mut jobs);
    let wall = started.elapsed();
    assert_eq!(jobs.0.len(), 1000, "{}", out.lines().last().unwrap_or_default());
    let submitting = seconds_after(&out, "Launched 1000 of 1000 experiments");
    eprintln!("1000 single jobs: submitted in {submitting:.1} s, `xmen run` took {:.1} s", wall.as_secs_f64());
    assert!(wall < Duration::from_secs(30), "1000 jobs took {wall:?}");
    let queued = squeue();
    assert!(jobs.0.iter().take(5).all(|j| queued.contains(&format!("{j} {j} PENDING"))), "{queued}");
    // The same selection as one array job (the single jobs' ids stay recorded until replaced).
    let out = run(&["run", "--array=100", "*", "sbatch", "--hold"], &mut jobs);
    let array = seconds_after(&out, "Submitted array job");
    eprintln!("one 1000-task array job: sbatch took {array:.3} s");
    assert!(array <= 1.0, "the array submission took {array} s");
    let id = jobs.0.last().cloned().unwrap_or_default();
    assert!(squeue().contains(&format!("{id}_[0-999%100]")), "{}", squeue());
}

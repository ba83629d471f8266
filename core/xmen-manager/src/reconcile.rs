//! Status reconciliation (issue 9): a record that says `running` while its process is gone is
//! shown, and by `xmen reconcile` written, as `lost`.
//!
//! **Key design choice: ask the most direct witness first, and the network at most once.** For
//! a `running` record with a `_run` entry (see [`xmen_record::runinfo::RunInfo`]):
//! 1. on the host that ran it (same boot, same pid namespace) the pid answers: alive (with the
//!    same start time, so a reused pid does not count) or gone;
//! 2. else, when it ran as a SLURM job and `squeue` answers, the queue does: a running job is
//!    alive, a pending one was requeued (shown `requeue`), a job no longer queued is over.
//!    `squeue` is asked once per [`Reconciler`], for every job. `sacct` is not needed: a job
//!    that left the queue has ended whatever accounting would add, and the test cluster has
//!    no accounting;
//! 3. else the heartbeat: `_timestamps.last`, refreshed every `heartbeat` seconds by the
//!    runner, older than `max(4 × heartbeat, 10 s)` means lost.
//!
//! A record without `_run` (written by an older runner or the original) is judged by its
//! `_slurm` job alone, or left `running` when nothing can be known.

use std::path::{Path, PathBuf};
use std::time::Duration;

use xmen_core::Value;
use xmen_record::runinfo::{heartbeat_age, RunInfo, Submission};
use xmen_record::{Record, RecordError, RecordFile, Status, WriteOpts};

use crate::slurm::{phase_of, JobPhase, Queue};

/// Heartbeats missed before a run counts as lost.
const MISSED_BEATS: u32 = 4;
/// The least silence that counts as lost, whatever the period.
const MIN_SILENCE: Duration = Duration::from_secs(10);

/// What a record's status really is, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The effective status (`lost` or `requeue` for a `running` record whose process is gone).
    pub status: Status,
    /// Why, in a few words (`process 123 on vm is gone`); empty when the record stands.
    pub reason: String,
}

impl Verdict {
    fn stands(status: Status) -> Verdict {
        Verdict { status, reason: String::new() }
    }

    fn lost(reason: String) -> Verdict {
        Verdict { status: Status::Lost, reason }
    }
}

/// Judges records, asking `squeue` at most once.
#[derive(Debug, Default)]
pub struct Reconciler {
    queue: Option<Result<Queue, String>>,
}

fn silence_limit(heartbeat_secs: u64) -> Duration {
    Duration::from_secs(heartbeat_secs).saturating_mul(MISSED_BEATS).max(MIN_SILENCE)
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{} h", s / 3600),
    }
}

impl Reconciler {
    /// A reconciler that has not asked SLURM anything yet.
    pub fn new() -> Reconciler {
        Reconciler::default()
    }

    fn queue(&mut self) -> Option<&Queue> {
        self.queue.get_or_insert_with(|| Queue::snapshot().map_err(|e| e.to_string())).as_ref().ok()
    }

    /// For `xmen list`: when the cell with key id `status_id` says `running`, re-read
    /// `{folder}/params.yml` and put its effective status there instead.
    pub fn status_cell(&mut self, cells: &mut [(u32, Value)], status_id: Option<usize>, folder: &str) {
        let Some(id) = status_id.and_then(|i| u32::try_from(i).ok()) else { return };
        for (cid, v) in cells.iter_mut() {
            if *cid == id && matches!(v, Value::Str(s) if s == Status::Running.as_str()) {
                if let Ok(rec) = RecordFile::load(&RecordFile::path_in(Path::new(folder))) {
                    *v = Value::Str(self.effective_status(&rec).as_str().to_owned());
                }
            }
        }
    }

    /// The effective status of a record (see the module documentation).
    pub fn effective_status(&mut self, rec: &Record) -> Status {
        self.judge(rec).status
    }

    /// The effective status of a record and the reason it differs from the recorded one.
    pub fn judge(&mut self, rec: &Record) -> Verdict {
        if rec.status != Status::Running {
            return Verdict::stands(rec.status);
        }
        let info = RunInfo::of(rec);
        let job = match &info {
            Some(i) => i.slurm.as_ref().map(|j| j.job_id.clone()),
            None => Submission::of(rec).map(|s| s.job_id),
        };
        let mut pid_gone = None;
        if let Some(i) = &info {
            match i.process_alive_here() {
                Some(true) => return Verdict::stands(Status::Running),
                Some(false) => pid_gone = Some(format!("process {} on {} is gone", i.pid, i.host)),
                None => {}
            }
        }
        if let Some(job) = &job {
            if let Some(queue) = self.queue() {
                let state = queue.state(job).map(str::to_owned);
                return match (state.as_deref().map(phase_of), pid_gone) {
                    (Some(JobPhase::Pending), _) => Verdict {
                        status: Status::Requeue,
                        reason: format!("SLURM job {job} is pending again (requeued)"),
                    },
                    (Some(_), Some(gone)) => {
                        Verdict::lost(format!("{gone} (SLURM job {job}: {})", state.unwrap_or_default()))
                    }
                    (None, Some(gone)) => Verdict::lost(format!("{gone} (SLURM job {job} has left the queue)")),
                    (Some(JobPhase::Active), None) => Verdict::stands(Status::Running),
                    (Some(JobPhase::Ended), None) => {
                        Verdict::lost(format!("SLURM job {job} ended ({})", state.unwrap_or_default()))
                    }
                    (None, None) => Verdict::lost(format!("SLURM job {job} is no longer in the queue")),
                };
            }
        }
        if let Some(gone) = pid_gone {
            return Verdict::lost(gone);
        }
        if let Some(i) = info.as_ref().filter(|i| i.heartbeat_secs > 0) {
            let limit = silence_limit(i.heartbeat_secs);
            if let Some(age) = heartbeat_age(rec).filter(|a| *a > limit) {
                return Verdict::lost(format!(
                    "no heartbeat for {} (expected every {} s from {} on {})",
                    human(age),
                    i.heartbeat_secs,
                    i.pid,
                    i.host
                ));
            }
        }
        Verdict::stands(Status::Running)
    }
}

/// The effective status of one record (a fresh [`Reconciler`]: `squeue` is asked at most once,
/// and only for a `running` record whose process cannot be checked from here).
pub fn effective_status(rec: &Record) -> Status {
    Reconciler::new().effective_status(rec)
}

/// What reconciling one experiment did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The experiment folder.
    pub folder: PathBuf,
    /// The effective status (`lost` is written; `requeue` is only reported).
    pub status: Status,
    /// Why.
    pub reason: String,
    /// Whether params.yml was changed.
    pub written: bool,
}

/// An experiment that could not be reconciled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The folder.
    pub folder: PathBuf,
    /// The error, naming the file.
    pub error: String,
}

/// What `xmen reconcile` found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Records read.
    pub checked: usize,
    /// How many said `running`.
    pub running: usize,
    /// The runs whose process is gone or requeued.
    pub changes: Vec<Change>,
    /// Records that could not be read or written.
    pub failures: Vec<Failure>,
}

/// Reconcile experiment folders: every `running` record whose process is gone becomes `lost`
/// (with a note saying why and `_timestamps.stopped`), written by a locked update that first
/// checks the record still says `running` for the same process. With `dry_run`, nothing is
/// written.
pub fn reconcile<P: AsRef<Path>>(folders: &[P], dry_run: bool) -> Report {
    let mut judge = Reconciler::new();
    let mut report = Report::default();
    for folder in folders {
        let folder = folder.as_ref();
        let path = RecordFile::path_in(folder);
        let rec = match RecordFile::load(&path) {
            Ok(r) => r,
            Err(e) => {
                report.failures.push(Failure { folder: folder.to_path_buf(), error: e.to_string() });
                continue;
            }
        };
        report.checked += 1;
        if rec.status != Status::Running {
            continue;
        }
        report.running += 1;
        let verdict = judge.judge(&rec);
        if verdict.status == Status::Running {
            continue;
        }
        let mut written = false;
        if verdict.status == Status::Lost && !dry_run {
            let seen = RunInfo::of(&rec);
            let res = RecordFile::update(&path, WriteOpts::default(), |r| {
                // Another writer may have moved on meanwhile (the run ended, or restarted).
                if r.status != Status::Running || RunInfo::of(r) != seen {
                    return Ok::<_, RecordError>(false);
                }
                r.end_run(Status::Lost);
                r.note(&format!("xmen reconcile: lost: {}", verdict.reason), false);
                Ok(true)
            });
            match res {
                Ok(w) => written = w,
                Err(e) => {
                    report.failures.push(Failure { folder: folder.to_path_buf(), error: e.to_string() });
                    continue;
                }
            }
            if !written {
                continue;
            }
        }
        report.changes.push(Change {
            folder: folder.to_path_buf(),
            status: verdict.status,
            reason: verdict.reason,
            written,
        });
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmen_record::runinfo::SlurmJob;

    fn running(info: Option<RunInfo>, last_secs_ago: i64) -> Record {
        let mut rec = Record { status: Status::Running, ..Record::default() };
        let when = chrono::Local::now() - chrono::Duration::seconds(last_secs_ago);
        rec.timestamps.last = Some(when.format(xmen_core::pyfmt::DATE_FORMAT).to_string());
        if let Some(i) = info {
            i.store(&mut rec);
        }
        rec
    }

    fn me() -> RunInfo {
        RunInfo::current(Duration::from_secs(1))
    }

    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap_or_else(|e| panic!("{e}"));
        let pid = child.id();
        let _ = child.wait();
        pid
    }

    #[test]
    fn verdicts_follow_pid_then_heartbeat() {
        let mut r = Reconciler::new();
        // not running: stands
        let rec = Record { status: Status::Finished, ..Record::default() };
        assert_eq!(r.effective_status(&rec), Status::Finished);
        // this very process: alive, however old the heartbeat
        assert_eq!(r.effective_status(&running(Some(me()), 3600)), Status::Running);
        // a dead pid on this host: lost at once
        let v = r.judge(&running(Some(RunInfo { pid: dead_pid(), ..me() }), 0));
        assert_eq!(v.status, Status::Lost);
        assert!(v.reason.contains("is gone"), "{}", v.reason);
        // another host: the heartbeat decides
        let far = RunInfo { host: "far-away-host".into(), ..me() };
        assert_eq!(r.effective_status(&running(Some(far.clone()), 2)), Status::Running);
        let v = r.judge(&running(Some(far.clone()), 60));
        assert_eq!(v.status, Status::Lost);
        assert!(v.reason.contains("no heartbeat for 60 s"), "{}", v.reason);
        // no heartbeat promised: nothing to go by
        let silent = RunInfo { heartbeat_secs: 0, ..far };
        assert_eq!(r.effective_status(&running(Some(silent), 86_400)), Status::Running);
        // no _run at all (older runners): left running
        assert_eq!(r.effective_status(&running(None, 86_400)), Status::Running);
    }

    #[test]
    fn a_known_queue_decides_for_remote_slurm_runs() {
        let far = RunInfo {
            host: "node-17".into(),
            slurm: Some(SlurmJob { job_id: "44".into(), ..SlurmJob::default() }),
            ..me()
        };
        let queue = Queue::parse("44|44|RUNNING\n45|45|PENDING\n");
        let mut r = Reconciler { queue: Some(Ok(queue)) };
        assert_eq!(r.effective_status(&running(Some(far.clone()), 3600)), Status::Running);
        let pending = RunInfo { slurm: Some(SlurmJob { job_id: "45".into(), ..SlurmJob::default() }), ..far.clone() };
        assert_eq!(r.effective_status(&running(Some(pending), 0)), Status::Requeue);
        let gone = RunInfo { slurm: Some(SlurmJob { job_id: "46".into(), ..SlurmJob::default() }), ..far.clone() };
        let v = r.judge(&running(Some(gone), 0));
        assert_eq!((v.status, v.reason.as_str()), (Status::Lost, "SLURM job 46 is no longer in the queue"));
        // the queue unavailable: back to the heartbeat
        let mut r = Reconciler { queue: Some(Err("no squeue".into())) };
        assert_eq!(r.effective_status(&running(Some(far.clone()), 0)), Status::Running);
        assert_eq!(r.effective_status(&running(Some(far), 600)), Status::Lost);
    }

    #[test]
    fn reconcile_writes_lost_once_with_a_note() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dead = t.path().join("dead");
        let alive = t.path().join("alive");
        for (dir, info) in [(&dead, RunInfo { pid: dead_pid(), ..me() }), (&alive, me())] {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
            let mut rec = running(Some(info), 0);
            rec.root = Some(dir.display().to_string());
            RecordFile::write_new(&RecordFile::path_in(dir), &rec, WriteOpts::default())
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let missing = t.path().join("missing");
        let dry = reconcile(&[&dead, &alive], true);
        assert_eq!((dry.running, dry.changes.len(), dry.changes[0].written), (2, 1, false));
        assert_eq!(RecordFile::load(&RecordFile::path_in(&dead)).map(|r| r.status).ok(), Some(Status::Running));

        let report = reconcile(&[&dead, &alive, &missing], false);
        assert_eq!(report.checked, 2);
        assert_eq!(report.failures.len(), 1);
        assert!(report.failures[0].error.contains("missing/params.yml"), "{:?}", report.failures);
        assert_eq!(report.changes.len(), 1);
        assert!(report.changes[0].written && report.changes[0].folder == dead);
        let rec = RecordFile::load(&RecordFile::path_in(&dead)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rec.status, Status::Lost);
        assert!(rec.timestamps.stopped.is_some());
        assert!(rec.notes.iter().any(|n| n.starts_with("xmen reconcile: lost: process")), "{:?}", rec.notes);
        // a second pass changes nothing
        assert!(reconcile(&[&dead, &alive], false).changes.is_empty());
    }
}

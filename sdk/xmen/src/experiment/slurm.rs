//! What the runner does for SLURM and for `xmen reconcile` (issue 9): the heartbeat, the
//! `requeue` status on SIGUSR1, `scontrol requeue`, and which records a requeued job may run
//! again.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use xmen_record::runinfo::{heartbeat_period, RunInfo, SlurmJob};
use xmen_record::{GlobalConfig, Record, Status};

use super::root::Root;

/// Whether SIGUSR1 records `requeue` (and the job is requeued) rather than `timeout`: inside a
/// SLURM job, with the global configuration's `requeue` on (docs/file-formats.md#xmenyml).
pub(crate) fn requeue_on_timeout() -> bool {
    if SlurmJob::from_env().is_none() {
        return false;
    }
    match GlobalConfig::load(&xmen_record::config_dir()) {
        Ok(c) => c.requeue,
        Err(e) => {
            eprintln!("WARNING: {e}; requeueing on SIGUSR1 as the default configuration does");
            true
        }
    }
}

/// Requeue this SLURM job (`scontrol requeue $SLURM_JOB_ID`). On failure the status becomes
/// `timeout` (nothing will restart the run) and the error says how to fix it.
pub(crate) fn requeue_job(root: &Root) {
    let Some(job) = SlurmJob::from_env() else { return };
    let out = Command::new("scontrol").args(["requeue", &job.job_id]).stdin(Stdio::null()).output();
    let failure = match out {
        Ok(o) if o.status.success() => {
            println!("Requeued SLURM job {}", job.job_id);
            return;
        }
        Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
        Err(e) => format!("cannot run scontrol: {e}"),
    };
    eprintln!(
        "ERROR: `scontrol requeue {}` failed ({failure}); the run stays `timeout`. Submit with \
         `--requeue`, or set `requeue: false` in the global configuration to stop trying.",
        job.job_id
    );
    let _ = root.update(|r| {
        r.set_status(Status::Timeout);
        Ok(())
    });
}

/// Whether this process is a restart of a requeued SLURM job (`SLURM_RESTART_COUNT` > 0).
pub(crate) fn is_requeued_restart() -> bool {
    SlurmJob::from_env().is_some_and(|j| j.restart_count > 0)
}

/// Whether a requeued job's restart may run `rec`: a record left `requeue`, `timeout` or
/// `stopped` by an earlier run, or `running`/`lost` when that run was this very job (its
/// process was killed before it could record why).
pub(crate) fn restart_may_run(rec: &Record) -> bool {
    if !is_requeued_restart() {
        return false;
    }
    match rec.status {
        Status::Requeue | Status::Timeout | Status::Stopped => true,
        Status::Running | Status::Lost => {
            let ours = SlurmJob::from_env().map(|j| j.job_id);
            RunInfo::of(rec).and_then(|i| i.slurm).map(|j| j.job_id) == ours
        }
        _ => false,
    }
}

/// Record the process running `root` (`_run`, see [`RunInfo`]).
pub(crate) fn record_run_info(rec: &mut Record) {
    RunInfo::current(heartbeat_period()).store(rec);
}

/// A thread refreshing `_timestamps.last` every heartbeat period while the run is `running`,
/// through the record's locked update; stopped when dropped.
pub(crate) struct Heartbeat {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    /// Start beating for `root` every `period` (nothing for a detached run or a zero period).
    pub(crate) fn start(root: &Root, period: Duration) -> Heartbeat {
        if root.is_detached() || period.is_zero() {
            return Heartbeat { stop: None, thread: None };
        }
        let (tx, rx) = mpsc::channel::<()>();
        let root = root.clone();
        let thread = std::thread::Builder::new()
            .name("xmen-heartbeat".into())
            .spawn(move || beat(&root, &rx, period))
            .map_err(|e| eprintln!("WARNING: no heartbeat ({e}); `xmen reconcile` relies on the pid only"))
            .ok();
        Heartbeat { stop: Some(tx), thread }
    }
}

fn beat(root: &Root, stop: &mpsc::Receiver<()>, period: Duration) {
    let mut warned = false;
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(period) {
        // `Root::update` refreshes `last` while the status is `running`.
        if let Err(e) = root.update(|_| Ok(())) {
            if !warned {
                eprintln!("WARNING: the heartbeat could not refresh _timestamps.last: {e}");
                warned = true;
            }
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmen_record::{RecordFile, WriteOpts};

    #[test]
    fn the_heartbeat_refreshes_last_while_running_and_stops_when_dropped() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let rec = Record { status: Status::Running, root: Some(t.path().display().to_string()), ..Record::default() };
        let path = RecordFile::path_in(t.path());
        RecordFile::write_new(&path, &rec, WriteOpts::default()).unwrap_or_else(|e| panic!("{e}"));
        let root = Root::open("beat", t.path()).unwrap_or_else(|e| panic!("{e}"));
        let last = || RecordFile::load(&path).ok().and_then(|r| r.timestamps.last);
        assert_eq!(last(), None);
        let beat = Heartbeat::start(&root, Duration::from_millis(50));
        std::thread::sleep(Duration::from_millis(300));
        let first = last();
        assert!(first.is_some(), "no beat in 300 ms");
        std::thread::sleep(Duration::from_millis(300));
        assert_ne!(last(), first, "the beat goes on");
        drop(beat);
        let stopped = last();
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(last(), stopped, "no beat after drop");
        // Nothing beats for a detached run or a zero period.
        let off = Heartbeat::start(&root, Duration::ZERO);
        assert!(off.thread.is_none());
    }

    #[test]
    fn run_info_is_recorded() {
        let mut rec = Record::default();
        record_run_info(&mut rec);
        let info = RunInfo::of(&rec).unwrap_or_default();
        assert_eq!(info.pid, std::process::id());
    }
}

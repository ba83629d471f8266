//! Running an experiment: the record says `running` with the full system meta
//! before the body starts, and `finished`, `error`, `stopped` or `timeout` with
//! `_timestamps.stopped` after it, every change through the record's locked update.
//!
//! Signals: a watcher thread (signal-hook's safe iterator) turns SIGINT and SIGTERM into
//! `stopped` and SIGUSR1 into `timeout` (`requeue` inside a SLURM job when the global
//! configuration's `requeue` is on: `scontrol requeue` follows once the body ended), recording
//! the status at once, then asks every
//! Monitor to stop (`request_interrupt`) so loops end and hooks flush. If the body has not
//! returned within a grace period (10 s, or `$XMEN_STOP_GRACE_SECS`), the process exits with
//! status 128 + the signal number; the record is already written. A second signal exits at
//! once.
//!
//! Resuming: a run started on a record whose status is `timeout`, `requeue` or `stopped`, or
//! with `--restart`, marks its folder as resuming before the body starts; every Monitor built
//! with a directory in that folder then restores the objects named with `.state(..)` from their
//! newest checkpoints, and its counters (see [`crate::checkpoint`], "Resuming a run"). A
//! requeued SLURM job's restart (`SLURM_RESTART_COUNT` > 0) may also run a record left
//! `requeue`, `timeout` or `stopped`, or `running`/`lost` by the same job.
//!
//! Liveness: the run records its process under `_run` (host, pid, SLURM job) and a heartbeat
//! thread refreshes `_timestamps.last`, so `xmen list` and `xmen reconcile` can tell a run
//! whose process is gone (`lost`).

use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;
use xmen_record::attempts::RunEnd;

use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
use xmen_core::Value;
use xmen_record::hookscost::HookCostEntry;
use xmen_record::meta::{self, MetaOpts};
use xmen_record::{Keep, RecordError, Status};

use super::error::ExperimentError;
use super::root::Root;
use super::slurm;
use super::tee::Tee;
use super::Experiment;

/// The message key under which a failed run records its error chain or panic message.
pub const ERROR_KEY: &str = "error";

/// How long the body may take to return after a stop signal.
const GRACE_ENV: &str = "XMEN_STOP_GRACE_SECS";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Running,
    /// A signal was received and its status recorded.
    Signalled(Status, i32),
    /// The body returned and the final status was (or is being) recorded.
    Done,
}

struct State {
    phase: Mutex<Phase>,
    changed: Condvar,
    tee: Mutex<Option<Tee>>,
}

impl State {
    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn finish_tee(&self) {
        if let Some(t) = self.tee.lock().unwrap_or_else(PoisonError::into_inner).take() {
            t.finish();
        }
    }
}

fn banner(text: &str) {
    let line = "#".repeat(24);
    println!("{line}\n{text}\n{line}");
    let _ = std::io::stdout().flush();
}

fn grace() -> Duration {
    let secs = std::env::var(GRACE_ENV).ok().and_then(|s| s.trim().parse::<f64>().ok()).unwrap_or(10.0);
    Duration::from_secs_f64(secs.max(0.0))
}

/// The watcher: one signal records its status and starts the grace period; a second one
/// (or the end of the grace period) exits the process.
fn watch(mut signals: signal_hook::iterator::Signals, root: Root, state: Arc<State>, requeue: bool) {
    for sig in signals.forever() {
        let status = match sig {
            SIGUSR1 if requeue => Status::Requeue,
            SIGUSR1 => Status::Timeout,
            _ => Status::Stopped,
        };
        {
            let mut phase = state.phase();
            match *phase {
                Phase::Running => *phase = Phase::Signalled(status, sig),
                Phase::Signalled(..) => {
                    flush_messages();
                    state.finish_tee();
                    std::process::exit(128 + sig);
                }
                Phase::Done => continue,
            }
        }
        if let Err(e) = root.update(|r| {
            r.end_run(status);
            let signal = if sig == SIGUSR1 {
                "SIGUSR1"
            } else if sig == SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            };
            let reason = if sig == SIGUSR1 { "a time limit is near (SIGUSR1)" } else { "interrupted" };
            RunEnd {
                status: status.to_string(),
                reason: Some(format!("{reason}: received {signal}")),
                signal: Some(signal.to_owned()),
                ..RunEnd::default()
            }
            .store(r);
            Ok(())
        }) {
            eprintln!("ERROR: could not record status `{status}`: {e}");
        }
        banner(if sig == SIGUSR1 { "Timeout encountered" } else { "Stopping experiment" });
        let reason = if sig == SIGUSR1 {
            "SIGUSR1 (timeout)"
        } else if sig == SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        // Hooks learn the run's end when their Monitor closes (TensorBoard's session status).
        xmen_core::monitor::request_interrupt_as(run_status(status), reason);
        let deadline = grace();
        let phase = state.phase();
        let (phase, _) = state
            .changed
            .wait_timeout_while(phase, deadline, |p| *p != Phase::Done)
            .unwrap_or_else(PoisonError::into_inner);
        if *phase != Phase::Done {
            drop(phase);
            eprintln!("ERROR: the run did not stop within {deadline:?} of {reason}; exiting");
            if status == Status::Requeue {
                slurm::requeue_job(&root);
            }
            flush_messages();
            state.finish_tee();
            std::process::exit(128 + sig);
        }
    }
}

/// The hook-facing status of a record status the signal watcher records.
fn run_status(status: Status) -> xmen_core::hook::RunStatus {
    use xmen_core::hook::RunStatus;
    match status {
        Status::Timeout => RunStatus::Timeout,
        Status::Requeue => RunStatus::Requeue,
        Status::Finished => RunStatus::Finished,
        Status::Error => RunStatus::Error,
        _ => RunStatus::Stopped,
    }
}

/// Before exiting without the body's return: write the messages the Monitors' hooks left
/// (they would be written by the Monitors' close, which will not run).
fn flush_messages() {
    if let Err(e) = super::root::flush_all() {
        eprintln!("ERROR: messages were not written: {e}");
    }
}

thread_local! {
    static PANIC_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Remember where the body panicked (the payload has the message, not the location), then
/// let the previous hook print as usual.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            PANIC_AT.with(|p| *p.borrow_mut() = at);
            previous(info);
        }));
    });
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-text payload".to_owned());
    match PANIC_AT.with(|p| p.borrow_mut().take()) {
        Some(at) => format!("panicked at {at}: {msg}"),
        None => format!("panicked: {msg}"),
    }
}

/// `outer: inner: innermost`, like anyhow's `{:#}`.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        // Many errors print their source themselves (`cannot read x: No such file`).
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// Mark the record `running` (checking that it may run), with the full meta and, when
/// configured, environment.yml.
pub(crate) fn start(root: &Root, restart: bool, save_conda: bool) -> Result<(), ExperimentError> {
    let full = meta::full(MetaOpts::run_start());
    let started = root.update(|r| {
        // A requeued SLURM job's restart may run what its previous run left (issue 9).
        let requeued = slurm::restart_may_run(r);
        if !r.status.can_run(restart) && !requeued {
            return Ok(Err(r.status));
        }
        let resuming = restart || requeued || matches!(r.status, Status::Timeout | Status::Requeue | Status::Stopped);
        if requeued {
            r.set_status(Status::Requeue);
        }
        r.start_run(restart)?;
        // What an earlier run's hooks cost is no longer this run's.
        xmen_record::hookscost::store(r, &[]);
        slurm::record_run_info(r);
        r.meta = Some(full);
        Ok(Ok(resuming))
    })?;
    let resuming = match started {
        Ok(resuming) => resuming,
        Err(status) => {
            let path = root.params_path().map(|p| p.to_path_buf()).unwrap_or_default();
            return Err(ExperimentError::not_runnable(path, status));
        }
    };
    if resuming && !root.is_detached() {
        #[cfg(feature = "checkpoint")]
        crate::checkpoint::mark_resuming(root.directory());
    }
    if !root.is_detached() {
        if let Err(e) = meta::write_conda_env(root.directory(), save_conda) {
            eprintln!("WARNING: environment.yml was not written: {e}");
        }
    }
    Ok(())
}

/// Run the body of a started experiment, with signals watched and output optionally teed,
/// and record how it ended. Returns the process exit code: 0, 1 for an error, 101 for a panic,
/// 128 + the signal number after a stop signal.
pub(crate) fn body<E: Experiment>(exp: &mut E, root: &Root, txt: bool) -> Result<u8, ExperimentError> {
    body_with(root, txt, |root| exp.run(root))
}

/// [`body`] for any run body: a Rust experiment's `run`, or a host's (the Python package's).
pub(crate) fn body_with(
    root: &Root,
    txt: bool,
    run: impl FnOnce(&Root) -> super::RunResult,
) -> Result<u8, ExperimentError> {
    let state = Arc::new(State { phase: Mutex::new(Phase::Running), changed: Condvar::new(), tee: Mutex::new(None) });
    if txt && !root.is_detached() {
        let tee = Tee::start(&root.directory().join("out.txt"))?;
        *state.tee.lock().unwrap_or_else(PoisonError::into_inner) = Some(tee);
    }
    let signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGUSR1])
        .map_err(|e| ExperimentError::Setup { action: "install the signal handlers", source: e })?;
    let handle = signals.handle();
    let requeue = slurm::requeue_on_timeout();
    let watcher = {
        let (root, state) = (root.clone(), Arc::clone(&state));
        std::thread::Builder::new()
            .name("xmen-signals".into())
            .spawn(move || watch(signals, root, state, requeue))
            .map_err(|e| ExperimentError::Setup { action: "start the signal watcher thread", source: e })?
    };

    install_panic_hook();
    let heartbeat = slurm::Heartbeat::start(root, xmen_record::runinfo::heartbeat_period());
    // Monitors built by the body use the record's `_hooks` (see `current`).
    let entered = super::current::enter(root);
    super::cost::begin();
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| run(root)));
    // Every Monitor of the body is dropped by now and left its hooks' cost.
    let costs = super::cost::take();
    drop(entered);
    drop(heartbeat);
    let _ = std::io::stdout().flush();

    let (status, failure, code) = match outcome {
        Ok(Ok(())) => (Status::Finished, None, 0),
        Ok(Err(e)) => (Status::Error, Some(error_chain(e.as_ref())), 1),
        Err(payload) => (Status::Error, Some(panic_text(payload.as_ref())), 101),
    };
    let signalled = {
        let mut phase = state.phase();
        let before = *phase;
        *phase = Phase::Done;
        state.changed.notify_all();
        before
    };
    let result = match signalled {
        // The watcher recorded `stopped`/`timeout`; an error after a stop request stays a stop
        // (a run ends `error` unless it is already `timeout` or `stopped`, as in the original).
        Phase::Signalled(signalled, sig) => {
            // Already reported on stderr by record_end.
            let _ = record_end(root, failure.as_deref().unwrap_or_default(), None, None, &costs);
            if signalled == Status::Requeue {
                // After the body (and its Monitors' checkpoints) ended, as the original does.
                slurm::requeue_job(root);
            }
            Ok(u8::try_from(128 + sig).unwrap_or(u8::MAX))
        }
        _ => {
            if let Some(f) = &failure {
                banner("An error occurred");
                eprintln!("ERROR: {f}");
            }
            // How the run ended, in `_end`: a hook's stop (which hook, at which step, why) or
            // the failure.
            let stop = xmen_core::monitor::take_hook_stop();
            let end = RunEnd {
                status: status.to_string(),
                reason: failure
                    .as_deref()
                    .map(|f| f.lines().next().unwrap_or_default().to_owned())
                    .or_else(|| stop.as_ref().map(|s| s.reason.clone())),
                hook: stop.as_ref().map(|s| s.hook.clone()),
                step: stop.as_ref().map(|s| s.step),
                signal: None,
            };
            match record_end(root, failure.as_deref().unwrap_or_default(), Some(status), Some(&end), &costs) {
                Ok(()) => Ok(code),
                Err(e) => Err(e.into()),
            }
        }
    };
    handle.close();
    let _ = watcher.join();
    state.finish_tee();
    result
}

/// Record the end of the run (`status`, when given), the failure text, if any, and what the
/// hooks cost (`_hooks_cost`), in one write.
fn record_end(
    root: &Root,
    failure: &str,
    status: Option<Status>,
    end: Option<&RunEnd>,
    costs: &[HookCostEntry],
) -> Result<(), RecordError> {
    if failure.is_empty() && status.is_none() && costs.is_empty() {
        return Ok(());
    }
    let res = root.update(|r| {
        if !failure.is_empty() {
            r.message(&[(ERROR_KEY.to_owned(), Value::Str(failure.to_owned()))], Keep::Latest, None)?;
        }
        if !costs.is_empty() {
            xmen_record::hookscost::store(r, costs);
        }
        if let Some(s) = status {
            r.end_run(s);
        }
        if let Some(e) = end {
            e.store(r);
        }
        Ok(())
    });
    if let Err(e) = &res {
        eprintln!("ERROR: could not record the end of the run: {e}");
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("cannot load the data")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn error_chains_join_every_source() {
        let e = Outer(std::io::Error::new(std::io::ErrorKind::NotFound, "data.csv: not found"));
        assert_eq!(error_chain(&e), "cannot load the data: data.csv: not found");
    }

    #[test]
    fn a_signal_status_reaches_hooks_as_the_same_run_status() {
        use xmen_core::hook::RunStatus;
        for (status, want) in [
            (Status::Stopped, RunStatus::Stopped),
            (Status::Timeout, RunStatus::Timeout),
            (Status::Requeue, RunStatus::Requeue),
        ] {
            assert_eq!(run_status(status), want);
            assert_eq!(status.to_string(), want.name(), "the record and the hooks spell it alike");
        }
    }

    #[test]
    fn panic_payloads_become_text() {
        let p: Box<dyn std::any::Any + Send> = Box::new("boom");
        assert_eq!(panic_text(p.as_ref()), "panicked: boom");
        let p: Box<dyn std::any::Any + Send> = Box::new(String::from("bang"));
        assert_eq!(panic_text(p.as_ref()), "panicked: bang");
    }
}

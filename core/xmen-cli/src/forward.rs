//! Signals sent to `xmen run` reach the runs it launched in the foreground (issue 13 item 5).
//!
//! A terminal's Ctrl-C signals the whole foreground process group, so the experiment got it
//! anyway; a scheduler, `timeout`, or a parent script signals `xmen run` alone, which used to
//! die and leave its experiment orphaned and recorded `running`. Now a watcher thread catches
//! SIGINT, SIGTERM and SIGUSR1: `xmen run` launches nothing more, passes the signal on to the
//! experiment running now, waits for it to record its status and exit, and exits with 128 + the
//! signal number.
//!
//! **Key design choice: forward only what the experiment did not get.** A signal to the whole
//! group must not arrive twice (a second signal makes an xmen experiment exit at once, without
//! its hooks flushing). So the watcher first gives the experiment [`GRACE`] to show that it got
//! the signal itself (its record leaves `running`, or it exits) and forwards only otherwise.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
use xmen_record::{RecordFile, Status};

/// How long a signalled experiment has to show it got the signal before it is forwarded.
const GRACE: Duration = Duration::from_millis(300);

/// The experiment `xmen run` waits for now.
#[derive(Clone, Debug)]
struct Current {
    pid: u32,
    folder: PathBuf,
}

/// The watcher's shared state.
#[derive(Debug, Default)]
struct Shared {
    /// The runs in the foreground now (several with `xmen run -j N`).
    current: Mutex<Vec<Current>>,
    /// The first signal received (0: none).
    signal: AtomicI32,
}

/// Forwards SIGINT, SIGTERM and SIGUSR1 to the current foreground run.
pub struct Forwarder {
    shared: Arc<Shared>,
    handle: signal_hook::iterator::Handle,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn status_of(folder: &std::path::Path) -> Option<Status> {
    RecordFile::load(&RecordFile::path_in(folder)).ok().map(|r| r.status)
}

fn alive(pid: u32) -> bool {
    // A zombie (exited, not yet waited for) counts as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, after)| after.trim_start().starts_with('Z')))
        .is_some_and(|zombie| !zombie)
}

fn forward(c: &Current, sig: i32) {
    let before = status_of(&c.folder);
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        if !alive(c.pid) {
            return;
        }
        let now = status_of(&c.folder);
        if before == Some(Status::Running) && now != before {
            return; // the experiment got the signal itself and recorded it
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (Some(pid), Some(signal)) = (
        rustix::process::Pid::from_raw(i32::try_from(c.pid).unwrap_or(0)),
        rustix::process::Signal::from_named_raw(sig),
    ) else {
        return;
    };
    if let Err(e) = rustix::process::kill_process(pid, signal) {
        eprintln!("WARNING: could not pass signal {sig} on to process {} ({}): {e}", c.pid, c.folder.display());
    }
}

impl Forwarder {
    /// Start watching (replaces the default action of the three signals in this process).
    pub fn start() -> std::io::Result<Forwarder> {
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGUSR1])?;
        let handle = signals.handle();
        let shared = Arc::new(Shared::default());
        let watcher = Arc::clone(&shared);
        let thread = std::thread::Builder::new().name("xmen-run-signals".into()).spawn(move || {
            for sig in signals.forever() {
                let _ = watcher.signal.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
                let current = watcher.current.lock().unwrap_or_else(PoisonError::into_inner).clone();
                if current.is_empty() {
                    eprintln!("xmen run: received {}; launching nothing more", signal_name(sig));
                }
                for c in &current {
                    eprintln!(
                        "xmen run: received {}; passing it on to {} and launching nothing more",
                        signal_name(sig),
                        c.folder.display()
                    );
                }
                // Each run gets its grace period at the same time.
                std::thread::scope(|scope| {
                    for c in &current {
                        scope.spawn(move || forward(c, sig));
                    }
                });
            }
        })?;
        Ok(Forwarder { shared, handle, thread: Some(thread) })
    }

    /// The experiment in `folder`, process `pid`, runs in the foreground: signals go to it too.
    pub fn running(&self, pid: u32, folder: PathBuf) {
        self.shared.current.lock().unwrap_or_else(PoisonError::into_inner).push(Current { pid, folder });
    }

    /// The experiment of process `pid` ended.
    pub fn ended(&self, pid: u32) {
        self.shared.current.lock().unwrap_or_else(PoisonError::into_inner).retain(|c| c.pid != pid);
    }

    /// The first signal received, if any.
    pub fn signal(&self) -> Option<i32> {
        match self.shared.signal.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s),
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `SIGINT`, `SIGSEGV`, ... (`signal 42` for others).
pub fn signal_name(sig: i32) -> String {
    xmen_manager::launch::signal_name(sig)
}

//! The writer thread: one per summaries folder per process, shared by every
//! TensorBoard hook writing there, fed through a bounded queue.
//!
//! The training thread only copies values and sends one job per firing; encoding
//! (PNG, GIF, protobuf) and writing happen here. A full queue blocks the sender
//! (back-pressure) unless a hook is configured to drop, in which case the hook counts
//! what it dropped. `flush` waits until everything sent before it is on disk.

use crate::encode::{self, Payload};
use crate::events::EventFile;
use crate::proto::{Event, EventWhat, Summary};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

/// One unit of work for the writer thread.
pub enum Job {
    /// Scalars of one firing: `values[i]` belongs to `tags[i]`; written as one event.
    Scalars {
        /// Global step.
        step: i64,
        /// Seconds since the epoch at the firing.
        wall: f64,
        /// The tags, shared between firings while they do not change.
        tags: Arc<Vec<String>>,
        /// The values, in tag order.
        values: Vec<f32>,
    },
    /// One summary of another kind, encoded on the writer thread.
    Item {
        /// Global step.
        step: i64,
        /// Seconds since the epoch at the firing.
        wall: f64,
        /// The tag (for meshes, the prefix of the three tags).
        tag: String,
        /// The owned value.
        payload: Payload,
    },
    /// Flush the file, then answer.
    Flush(SyncSender<()>),
}

/// Counters and the first error, shared with the hooks.
#[derive(Default)]
struct Shared {
    written: AtomicU64,
    failed: AtomicU64,
    error: Mutex<Option<String>>,
    /// The writer thread is parked, waiting for a job: a sender must wake it.
    parked: AtomicBool,
    /// Times the writer thread woke up from a sleep or a park (for tests).
    wakeups: AtomicU64,
    /// `error` holds an error not yet taken (read per firing without the lock).
    has_error: AtomicBool,
    /// Scalar buffers the writer has written, handed back to the training thread so that a
    /// firing allocates nothing (and no buffer is freed on another thread than it came from).
    spare: Mutex<Vec<Vec<f32>>>,
}

/// How many written scalar buffers the writer keeps for reuse.
const SPARE_BUFFERS: usize = 64;

/// A summaries folder's open event file and its writer thread.
pub struct Writer {
    tx: Option<SyncSender<Job>>,
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
    dir: PathBuf,
    file: PathBuf,
    hparams_written: AtomicBool,
    experiment_written: AtomicBool,
}

/// Writers open in this process, by folder.
static OPEN: Mutex<Vec<(PathBuf, Weak<Writer>)>> = Mutex::new(Vec::new());

/// Why a job was not queued.
pub enum SendError {
    /// The queue was full and the hook drops rather than waits.
    Full,
    /// The writer thread is gone (it failed to start or panicked).
    Closed,
}

impl Writer {
    /// The writer for `dir` (`{directory}/summaries`): the one already open in this
    /// process, or a new event file with a writer thread whose queue holds `capacity` jobs.
    pub fn open(dir: &Path, capacity: usize) -> std::io::Result<Arc<Writer>> {
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|(_, w)| w.strong_count() > 0);
        if let Some(w) = open.iter().find(|(d, _)| d == dir).and_then(|(_, w)| w.upgrade()) {
            return Ok(w);
        }
        let file = EventFile::create(dir)?;
        let path = file.path().to_path_buf();
        let (tx, rx) = mpsc::sync_channel(capacity.max(1));
        let shared = Arc::new(Shared::default());
        let worker_shared = Arc::clone(&shared);
        let thread =
            std::thread::Builder::new().name("xmen-tensorboard".into()).spawn(move || run(rx, file, &worker_shared))?;
        let w = Arc::new(Writer {
            tx: Some(tx),
            thread: Some(thread),
            shared,
            dir: dir.to_path_buf(),
            file: path,
            hparams_written: AtomicBool::new(false),
            experiment_written: AtomicBool::new(false),
        });
        open.push((dir.to_path_buf(), Arc::downgrade(&w)));
        Ok(w)
    }

    /// The event file's path.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The summaries folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Queue a job, waiting while the queue is full.
    pub fn send(&self, job: Job) -> Result<(), SendError> {
        match &self.tx {
            Some(tx) => tx.send(job).map_err(|_| SendError::Closed)?,
            None => return Err(SendError::Closed),
        }
        self.wake();
        Ok(())
    }

    /// Queue a job unless the queue is full.
    pub fn try_send(&self, job: Job) -> Result<(), SendError> {
        match &self.tx {
            Some(tx) => tx.try_send(job).map_err(|e| match e {
                TrySendError::Full(_) => SendError::Full,
                TrySendError::Disconnected(_) => SendError::Closed,
            })?,
            None => return Err(SendError::Closed),
        }
        self.wake();
        Ok(())
    }

    /// Wake the writer thread if it is parked. In steady state it is not (it polls for a few
    /// milliseconds after its queue empties), so a send costs no system call.
    fn wake(&self) {
        // Pairs with the writer's fence between raising the flag and looking at the queue
        // again: either it sees this job, or this sees the flag.
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.shared.parked.load(Ordering::Relaxed) {
            if let Some(t) = &self.thread {
                t.thread().unpark();
            }
        }
    }

    /// How many times the writer thread has woken up so far (from its polling sleeps or a
    /// park): an idle writer does not.
    pub fn wakeups(&self) -> u64 {
        self.shared.wakeups.load(Ordering::Relaxed)
    }

    /// Wait until every job queued before this call is written and flushed.
    pub fn flush(&self) -> Result<(), SendError> {
        let (ack, done) = mpsc::sync_channel(1);
        self.send(Job::Flush(ack))?;
        done.recv().map_err(|_| SendError::Closed)
    }

    /// Summary values written so far (by every hook sharing this file).
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::Relaxed)
    }

    /// Values that could not be encoded or written.
    pub fn failed(&self) -> u64 {
        self.shared.failed.load(Ordering::Relaxed)
    }

    /// Take the first encoding or I/O error not yet reported.
    pub fn take_error(&self) -> Option<String> {
        if !self.shared.has_error.load(Ordering::Acquire) {
            return None;
        }
        let mut slot = self.shared.error.lock().unwrap_or_else(|p| p.into_inner());
        self.shared.has_error.store(false, Ordering::Relaxed);
        slot.take()
    }

    /// An empty buffer for a firing's scalars: one the writer has finished with, or a new one
    /// with room for `capacity` values.
    pub fn scalar_buffer(&self, capacity: usize) -> Vec<f32> {
        let spare = match self.shared.spare.try_lock() {
            Ok(mut spare) => spare.pop(),
            Err(_) => None,
        };
        spare.unwrap_or_else(|| Vec::with_capacity(capacity))
    }

    /// True for the first caller only: the hparams session is written once per file.
    pub fn claim_hparams(&self) -> bool {
        !self.hparams_written.swap(true, Ordering::SeqCst)
    }

    /// True for the first caller only: the hparams experiment (chosen metrics) is
    /// written once per file.
    pub fn claim_experiment(&self) -> bool {
        !self.experiment_written.swap(true, Ordering::SeqCst)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the queue ends the thread after it has written everything queued; a
        // parked writer must be woken to see it.
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// How long the writer sleeps when its queue is empty, and how many times before it parks.
/// While jobs come at least every few milliseconds it polls, so that a send does not have to
/// wake it: waking a parked thread is a system call that costs the training thread more than
/// everything else a scalar firing does. Once idle for longer it parks (no wake-ups at all)
/// and the next send wakes it, once.
const IDLE: Duration = Duration::from_millis(2);
const IDLE_POLLS: u32 = 3;

fn run(rx: Receiver<Job>, mut file: EventFile, shared: &Shared) {
    let mut buf = Vec::with_capacity(1 << 12);
    let fail = |e: String, n: u64| {
        shared.failed.fetch_add(n, Ordering::Relaxed);
        let mut slot = shared.error.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(e);
        shared.has_error.store(true, Ordering::Release);
    };
    let mut unflushed = false;
    let mut idle_polls = 0;
    loop {
        let job = match rx.try_recv() {
            Ok(job) => job,
            Err(TryRecvError::Empty) => {
                // The queue is empty: hand what we have to the OS so a live TensorBoard sees it.
                if unflushed {
                    if let Err(e) = file.flush() {
                        fail(format!("flushing {}: {e}", file.path().display()), 0);
                    }
                    unflushed = false;
                }
                if idle_polls < IDLE_POLLS {
                    idle_polls += 1;
                    std::thread::sleep(IDLE);
                } else {
                    // Raise the flag, then look again: a send that missed the flag queued its
                    // job before this look (the fences pair up), so nothing waits unseen.
                    shared.parked.store(true, Ordering::Relaxed);
                    std::sync::atomic::fence(Ordering::SeqCst);
                    match rx.try_recv() {
                        Err(TryRecvError::Empty) => std::thread::park(),
                        Err(TryRecvError::Disconnected) => {
                            shared.parked.store(false, Ordering::Relaxed);
                            break;
                        }
                        // Handled by the next turn (the receiver cannot put it back).
                        Ok(job) => {
                            shared.parked.store(false, Ordering::Relaxed);
                            shared.wakeups.fetch_add(1, Ordering::Relaxed);
                            idle_polls = 0;
                            unflushed = true;
                            handle(job, &mut file, &mut buf, shared, &fail, &mut unflushed);
                            continue;
                        }
                    }
                    shared.parked.store(false, Ordering::Relaxed);
                }
                shared.wakeups.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            Err(TryRecvError::Disconnected) => break,
        };
        idle_polls = 0;
        unflushed = true;
        handle(job, &mut file, &mut buf, shared, &fail, &mut unflushed);
    }
    if let Err(e) = file.flush() {
        fail(format!("flushing {}: {e}", file.path().display()), 0);
    }
}

/// Write one job.
fn handle(
    job: Job,
    file: &mut EventFile,
    buf: &mut Vec<u8>,
    shared: &Shared,
    fail: &dyn Fn(String, u64),
    unflushed: &mut bool,
) {
    let fail = |e: String, n: u64| fail(e, n);
    {
        match job {
            Job::Scalars { step, wall, tags, mut values } => {
                buf.clear();
                encode_scalar_event(buf, wall, step, &tags, &values);
                match file.write_raw(buf) {
                    Ok(()) => shared.written.fetch_add(values.len() as u64, Ordering::Relaxed),
                    Err(e) => {
                        fail(format!("writing {}: {e}", file.path().display()), values.len() as u64);
                        0
                    }
                };
                // Hand the buffer back for a later firing.
                values.clear();
                let mut spare = shared.spare.lock().unwrap_or_else(|p| p.into_inner());
                if spare.len() < SPARE_BUFFERS {
                    spare.push(values);
                }
            }
            Job::Item { step, wall, tag, payload } => match encode::encode(&tag, payload) {
                Ok(values) => {
                    let n = values.len() as u64;
                    let event =
                        Event { wall_time: wall, step, what: Some(EventWhat::Summary(Summary { value: values })) };
                    match file.write(&event) {
                        Ok(()) => shared.written.fetch_add(n, Ordering::Relaxed),
                        Err(e) => {
                            fail(format!("writing {}: {e}", file.path().display()), n);
                            0
                        }
                    };
                }
                Err(e) => fail(format!("summary {tag:?} at step {step}: {e}"), 1),
            },
            Job::Flush(ack) => {
                if let Err(e) = file.flush() {
                    fail(format!("flushing {}: {e}", file.path().display()), 0);
                }
                *unflushed = false;
                let _ = ack.send(());
            }
        }
    }
}

// The scalar path is the hot one: events are encoded by hand, by the crate that owns the
// format (and reads it back for `xmen ui`).
pub use xmen_tfevents::encode_scalar_event;

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;
    use crate::proto::{SummaryValue, ValueKind};
    use prost::Message;

    #[test]
    fn an_idle_writer_parks_and_a_send_wakes_it() {
        let tmp = tempfile::tempdir().unwrap();
        let w = Writer::open(tmp.path(), 16).unwrap();
        let job = |step| Job::Scalars { step, wall: 1.0, tags: Arc::new(vec!["a".into()]), values: vec![1.0] };
        w.send(job(1)).unwrap_or_else(|_| panic!("send"));
        assert!(w.flush().is_ok());
        // Idle: after a few polls it parks and stops waking. Windows of a quarter second until
        // one shows no wake-up at all (a spurious one, which park allows, is tolerated once).
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let before = w.wakeups();
            std::thread::sleep(Duration::from_millis(250));
            let woke = w.wakeups() - before;
            if woke <= 1 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the idle writer keeps waking ({woke} in 250 ms)");
        }
        // A send wakes the parked writer.
        w.send(job(2)).unwrap_or_else(|_| panic!("send"));
        assert!(w.flush().is_ok());
        assert_eq!(w.written(), 2);
    }

    #[test]
    fn the_hand_encoded_scalar_event_decodes_as_the_message() {
        let tags = vec!["a".to_string(), "loss/train".to_string()];
        for step in [0i64, 1, 300, -1] {
            let mut buf = Vec::new();
            encode_scalar_event(&mut buf, 12.5, step, &tags, &[1.5, -2.0]);
            let e = Event::decode(buf.as_slice()).unwrap();
            let want = Event {
                wall_time: 12.5,
                step,
                what: Some(EventWhat::Summary(Summary {
                    value: vec![
                        SummaryValue { tag: "a".into(), metadata: None, value: Some(ValueKind::SimpleValue(1.5)) },
                        SummaryValue {
                            tag: "loss/train".into(),
                            metadata: None,
                            value: Some(ValueKind::SimpleValue(-2.0)),
                        },
                    ],
                })),
            };
            assert_eq!(e, want);
        }
    }
}

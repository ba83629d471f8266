//! [`Root`]: what a run body gets: the experiment's folder and its record.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use xmen_core::hook::Keep;
use xmen_core::monitor::Experiments;
use xmen_core::value::ExperimentHandle;
use xmen_core::valueref::ValueRef;
use xmen_core::Value;
use xmen_record::mailbox::{flush_interval_from_env, Batch, Mailbox};
use xmen_record::{Record, RecordError, RecordFile, Status, WriteOpts};

fn record_keep(k: Keep) -> xmen_record::Keep {
    match k {
        Keep::Latest => xmen_record::Keep::Latest,
        Keep::Min => xmen_record::Keep::Min,
        Keep::Max => xmen_record::Keep::Max,
    }
}

fn next_handle() -> ExperimentHandle {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    ExperimentHandle(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Every live [`Root`] of the process, by handle, so that a Monitor's hooks can message
/// any experiment set as a variable (`m.set("ex", &root)`) without further wiring.
static LIVE: Mutex<Vec<(ExperimentHandle, std::sync::Weak<Inner>)>> = Mutex::new(Vec::new());

fn track(inner: &std::sync::Arc<Inner>) {
    let mut live = LIVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    live.retain(|(_, w)| w.strong_count() > 0);
    live.push((inner.handle, std::sync::Arc::downgrade(inner)));
}

fn lookup(h: ExperimentHandle) -> Option<Root> {
    let live = LIVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    live.iter().find(|(k, _)| *k == h).and_then(|(_, w)| w.upgrade()).map(Root)
}

/// The experiments a Monitor's hooks may message: every live [`Root`] of the process.
/// [`Monitor::builder`](crate::Monitor::builder) uses it unless told otherwise.
#[derive(Clone, Copy, Debug, Default)]
pub struct LiveRoots;

impl Experiments for LiveRoots {
    fn message(
        &self,
        experiment: ExperimentHandle,
        messages: &[(&str, ValueRef<'_>)],
        keep: Keep,
        leader: Option<&str>,
    ) -> Result<(), String> {
        let root = lookup(experiment).ok_or_else(|| unknown(experiment))?;
        root.messenger().message(experiment, messages, keep, leader)
    }

    fn info(&self, experiment: ExperimentHandle) -> Option<(String, String)> {
        lookup(experiment).and_then(|r| r.messenger().info(experiment))
    }

    fn message_with_summary(
        &self,
        experiment: ExperimentHandle,
        summary: &[(&str, ValueRef<'_>)],
        messages: &[(&str, ValueRef<'_>)],
        keep: Keep,
        leader: Option<&str>,
    ) -> Result<(), String> {
        let root = lookup(experiment).ok_or_else(|| unknown(experiment))?;
        root.messenger().message_with_summary(experiment, summary, messages, keep, leader)
    }

    fn update_meta(&self, experiment: ExperimentHandle, meta: ValueRef<'_>) -> Result<(), String> {
        let root = lookup(experiment).ok_or_else(|| unknown(experiment))?;
        root.messenger().update_meta(experiment, meta)
    }

    fn run_params(&self, directory: &str) -> Option<Result<Value, String>> {
        Some(super::services::run_params(directory))
    }

    fn system_meta(&self, groups: &[&str]) -> Option<Result<Value, String>> {
        Some(super::services::system_meta(groups))
    }

    /// Write every live record's pending messages.
    fn flush(&self) -> Result<(), String> {
        flush_all()
    }
}

/// Write the pending messages of every live [`Root`] of the process (the Monitor's close and
/// stop, and a run's exit after a second signal, call it).
pub(crate) fn flush_all() -> Result<(), String> {
    let roots: Vec<Root> = {
        let live = LIVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        live.iter().filter_map(|(_, w)| w.upgrade()).map(Root).collect()
    };
    let failed: Vec<String> = roots.iter().filter_map(|r| r.flush().err().map(|e| e.to_string())).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// Messages in their stored form's owner: names and values copied off the firing.
fn owned(m: &[(&str, ValueRef<'_>)]) -> Vec<(String, Value)> {
    m.iter().map(|(k, v)| ((*k).to_owned(), v.to_value())).collect()
}

fn unknown(h: ExperimentHandle) -> String {
    format!("no live experiment has handle {}; keep its Root alive while the Monitor runs", h.0)
}

impl From<&Root> for Value {
    /// The experiment as a Monitor variable: hooks see its handle.
    fn from(r: &Root) -> Value {
        Value::Experiment(r.handle())
    }
}

/// Where the record lives: a params.yml (every change a locked read-modify-write) or, for a
/// detached run (nothing is saved), memory only.
#[derive(Debug)]
enum Store {
    /// params.yml, and the mailbox whose writer thread leaves the Messenger's messages there.
    File(PathBuf, Mailbox),
    Memory(Box<Mutex<Record>>),
}

#[derive(Debug)]
struct Inner {
    name: String,
    dir: PathBuf,
    store: Store,
    handle: ExperimentHandle,
    /// Keeps a detached run's scratch folder alive; removed when the root is dropped.
    _sink: Option<tempfile::TempDir>,
}

/// An experiment's folder and record, handed to [`Experiment::run`](super::Experiment::run)
/// (the functional API's `root`).
///
/// Every change to the record ([`Root::message`], [`Root::note`]) is a locked
/// read-modify-write of `{directory}/params.yml`, so it never loses a concurrent `xmen note`
/// or a Messenger hook's message. A detached run (`-x` without a folder) persists nothing:
/// its directory is a scratch folder removed when the run ends, and messages are ignored.
///
/// Clones share the same record and folder.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use xmen::{Keep, Root, Value};
///
/// let root = Root::detached("demo")?;
/// assert!(root.is_detached() && root.directory().is_dir());
/// root.message([("loss", Value::from(0.5))])?; // ignored: nothing is persisted
/// root.message_with([("acc", Value::from(0.9))], Keep::Max, None)?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Root(std::sync::Arc<Inner>);

impl Root {
    /// The root of the experiment registered in `dir` (which holds its params.yml).
    pub fn open(name: &str, dir: impl AsRef<Path>) -> Result<Root, RecordError> {
        Root::open_with(name, dir.as_ref(), WriteOpts::default())
    }

    pub(crate) fn open_with(name: &str, dir: &Path, write: WriteOpts) -> Result<Root, RecordError> {
        let dir = std::path::absolute(dir).map_err(|e| RecordError::io("resolve", dir, e))?;
        let params = RecordFile::path_in(&dir);
        // Fail now, naming the file, rather than at the first message.
        RecordFile::load(&params)?;
        let interval = flush_interval_from_env().unwrap_or_else(|e| {
            eprintln!("WARNING: {e}; messages are written every second");
            xmen_record::mailbox::DEFAULT_FLUSH
        });
        let mailbox = Mailbox::new(params.clone(), write, interval);
        let inner = std::sync::Arc::new(Inner {
            name: name.to_owned(),
            dir,
            store: Store::File(params, mailbox),
            handle: next_handle(),
            _sink: None,
        });
        track(&inner);
        Ok(Root(inner))
    }

    /// Register a new experiment without parameters in `dir` (like the original's
    /// `Experiment().register(dir)`: a suffixed folder `dir_0`, `dir_1`, ... when `dir`
    /// already holds one) and open it. Useful for scripts that message several records.
    pub fn create(name: &str, dir: impl AsRef<Path>, purpose: &str) -> Result<Root, RecordError> {
        let opts = xmen_record::RegisterOpts { purpose: purpose.to_owned(), ..Default::default() };
        let done = xmen_record::register(dir.as_ref(), Record::default(), &opts)?;
        Root::open(name, done.root)
    }

    /// A detached root: a scratch directory (removed when the root is dropped) and a record
    /// kept in memory only.
    pub fn detached(name: &str) -> Result<Root, RecordError> {
        Root::detached_with(name, Record { status: Status::Detached, ..Record::default() })
    }

    pub(crate) fn detached_with(name: &str, record: Record) -> Result<Root, RecordError> {
        let sink = tempfile::Builder::new()
            .prefix(&format!("xmen-detached-{name}-"))
            .tempdir()
            .map_err(|e| RecordError::io("create a scratch folder in", std::env::temp_dir(), e))?;
        let inner = std::sync::Arc::new(Inner {
            name: name.to_owned(),
            dir: sink.path().to_path_buf(),
            store: Store::Memory(Box::new(Mutex::new(record))),
            handle: next_handle(),
            _sink: Some(sink),
        });
        track(&inner);
        Ok(Root(inner))
    }

    /// The experiment's name (the struct's or the function's).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The experiment's own folder (`_root`); a scratch folder when detached.
    pub fn directory(&self) -> &Path {
        &self.0.dir
    }

    /// `{directory}/params.yml`, or `None` when detached.
    pub fn params_path(&self) -> Option<&Path> {
        match &self.0.store {
            Store::File(p, _) => Some(p),
            Store::Memory(_) => None,
        }
    }

    /// Whether the run is detached (nothing is persisted).
    pub fn is_detached(&self) -> bool {
        matches!(self.0.store, Store::Memory(_))
    }

    /// Whether SIGINT, SIGTERM or SIGUSR1 asked the run to stop. Monitor loops stop by
    /// themselves; a body with its own loops should check this and return.
    pub fn interrupted(&self) -> bool {
        xmen_core::monitor::interrupted()
    }

    /// This experiment's handle: pass it to a Monitor's hooks (as `Value::Experiment`) so they
    /// can message the record through [`Root::messenger`].
    pub fn handle(&self) -> ExperimentHandle {
        self.0.handle
    }

    /// The `Experiments` implementation a Monitor needs to let its hooks message this record
    /// (`Monitor::builder().experiments(root.messenger())`).
    pub fn messenger(&self) -> RootMessenger {
        RootMessenger(self.clone())
    }

    /// Apply `f` to the record: a locked read-modify-write of params.yml (refreshing
    /// `_timestamps.last` while running) that first writes the pending messages of the
    /// Messenger (see [`Root::flush`]), or an in-memory change when detached.
    pub fn update<T>(&self, f: impl FnOnce(&mut Record) -> Result<T, RecordError>) -> Result<T, RecordError> {
        match &self.0.store {
            Store::File(_, mailbox) => mailbox.update(|r| {
                let out = f(r)?;
                r.touch();
                Ok(out)
            }),
            Store::Memory(rec) => {
                let mut guard = rec.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                f(&mut guard)
            }
        }
    }

    /// The record as it is now (read from params.yml, after writing the pending messages).
    pub fn record(&self) -> Result<Record, RecordError> {
        match &self.0.store {
            Store::File(path, mailbox) => {
                mailbox.flush()?;
                RecordFile::load(path)
            }
            Store::Memory(rec) => Ok(rec.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()),
        }
    }

    /// Leave messages (docs/file-formats.md#_messages) keeping the latest value of each key. Returns the keys
    /// written. Values are stored as strings, ints, floats or bools (anything else as its
    /// Python `str()`).
    pub fn message<K: Into<String>, V: Into<Value>>(
        &self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Vec<String>, RecordError> {
        self.message_with(pairs, Keep::Latest, None)
    }

    /// Leave messages with a keep rule (`Min`, `Max`: ties win) and an optional `leader` key
    /// whose comparison decides for the whole batch.
    pub fn message_with<K: Into<String>, V: Into<Value>>(
        &self,
        pairs: impl IntoIterator<Item = (K, V)>,
        keep: Keep,
        leader: Option<&str>,
    ) -> Result<Vec<String>, RecordError> {
        let pairs: Vec<(String, Value)> = pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        self.update(|r| r.message(&pairs, record_keep(keep), leader))
    }

    /// Leave messages like [`Root::message_with`] without waiting for their write: they go to
    /// this record's writer thread, which writes them at once (not after the flush interval),
    /// coalesced with whatever else is pending, so what reaches the disk is what writing each
    /// at once leaves. A leader missing from the keys is refused here; a failed write is
    /// reported by the next post, [`Root::flush`] or [`Root::update`]. Everything is on disk
    /// when the run ends by any path that runs code (see [`Root::flush`]). Detached, it is
    /// [`Root::message_with`]. The Python package's `Experiment.message` uses it.
    pub fn post_messages(
        &self,
        pairs: Vec<(String, Value)>,
        keep: Keep,
        leader: Option<&str>,
    ) -> Result<(), RecordError> {
        let batch = Batch { messages: pairs, keep: record_keep(keep), leader: leader.map(str::to_owned) };
        match &self.0.store {
            Store::File(_, mailbox) => mailbox.post_now(vec![batch]),
            Store::Memory(_) => self.post(vec![batch]),
        }
    }

    /// Write the messages the Monitor's hooks left and that wait for the flush interval.
    ///
    /// A Messenger firing does not write params.yml on the training thread: it leaves its
    /// messages with this record's writer thread, which writes them at most once per flush
    /// interval (one second, or `$XMEN_MESSAGE_FLUSH` seconds, or [`Root::set_message_flush`]).
    /// Every message is on disk at most one interval after its firing, and everything is on
    /// disk when the run ends by any path that runs code: the Monitor's close, a hook's stop,
    /// SIGINT/SIGTERM/SIGUSR1 (recorded), a panic, and dropping the last clone of the root
    /// call this. A SIGKILL loses at most the last interval. Every [`Root::update`] and
    /// [`Root::record`] writes them first, so changes keep their order.
    pub fn flush(&self) -> Result<(), RecordError> {
        match &self.0.store {
            Store::File(_, mailbox) => mailbox.flush(),
            Store::Memory(_) => Ok(()),
        }
    }

    /// Set the flush interval of this record's messages (see [`Root::flush`]).
    pub fn set_message_flush(&self, interval: std::time::Duration) {
        if let Store::File(_, mailbox) = &self.0.store {
            mailbox.set_interval(interval);
        }
    }

    /// What this record's message writer has done so far (posts, writes, wake-ups), for tests
    /// and benches; `None` when detached.
    pub fn message_stats(&self) -> Option<xmen_record::mailbox::MailboxStats> {
        match &self.0.store {
            Store::File(_, mailbox) => Some(mailbox.stats()),
            Store::Memory(_) => None,
        }
    }

    /// Leave batches with the writer thread (or, detached, in memory).
    fn post(&self, batches: Vec<Batch>) -> Result<(), RecordError> {
        match &self.0.store {
            Store::File(_, mailbox) => mailbox.post(batches),
            Store::Memory(_) => self.update(|r| {
                for b in &batches {
                    r.message(&b.messages, b.keep, b.leader.as_deref())?;
                }
                Ok(())
            }),
        }
    }

    /// Add a note (`_notes`).
    pub fn note(&self, text: &str) -> Result<(), RecordError> {
        self.update(|r| Ok(r.note(text, false)).map(|_| ()))
    }

    /// Remove the first note equal to `text`; returns whether there was one.
    pub fn remove_note(&self, text: &str) -> Result<bool, RecordError> {
        self.update(|r| Ok(r.note(text, true)))
    }
}

impl std::fmt::Display for Root {
    /// The record as the original prints an experiment; see
    /// [`display_record`](super::display_record).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.record() {
            Ok(rec) => f.write_str(&super::display_record(&rec)),
            Err(e) => write!(f, "{}: the record cannot be read: {e}", self.name()),
        }
    }
}

/// Lets a Monitor's hooks message one experiment's record (implements the core's
/// `Experiments`); made by [`Root::messenger`].
#[derive(Debug)]
pub struct RootMessenger(Root);

impl Experiments for RootMessenger {
    fn message(
        &self,
        experiment: ExperimentHandle,
        messages: &[(&str, ValueRef<'_>)],
        keep: Keep,
        leader: Option<&str>,
    ) -> Result<(), String> {
        if experiment != self.0.handle() {
            return Err(format!(
                "unknown experiment handle {}; this Monitor messages `{}` (handle {})",
                experiment.0,
                self.0.name(),
                self.0.handle().0
            ));
        }
        let batch = Batch { messages: owned(messages), keep: record_keep(keep), leader: leader.map(str::to_owned) };
        self.0.post(vec![batch]).map_err(|e| e.to_string())
    }

    fn message_with_summary(
        &self,
        experiment: ExperimentHandle,
        summary: &[(&str, ValueRef<'_>)],
        messages: &[(&str, ValueRef<'_>)],
        keep: Keep,
        leader: Option<&str>,
    ) -> Result<(), String> {
        if experiment != self.0.handle() {
            return Err(unknown(experiment));
        }
        if let Store::File(_, mailbox) = &self.0 .0.store {
            return mailbox.post_firing(summary, messages, record_keep(keep), leader).map_err(|e| e.to_string());
        }
        let mut batches = vec![Batch { messages: owned(summary), keep: xmen_record::Keep::Latest, leader: None }];
        if !messages.is_empty() {
            batches.push(Batch {
                messages: owned(messages),
                keep: record_keep(keep),
                leader: leader.map(str::to_owned),
            });
        }
        self.0.post(batches).map_err(|e| e.to_string())
    }

    fn flush(&self) -> Result<(), String> {
        self.0.flush().map_err(|e| e.to_string())
    }

    fn info(&self, experiment: ExperimentHandle) -> Option<(String, String)> {
        (experiment == self.0.handle()).then(|| (self.0.name().to_owned(), self.0.directory().display().to_string()))
    }

    fn update_meta(&self, experiment: ExperimentHandle, meta: ValueRef<'_>) -> Result<(), String> {
        if experiment != self.0.handle() {
            return Err(unknown(experiment));
        }
        let Value::Map(patch) = meta.to_value() else {
            return Err(format!("meta must be a map, not a {}", meta.kind()));
        };
        self.0
            .update(|r| {
                let mut current = match r.meta.take() {
                    Some(Value::Map(m)) => m,
                    _ => Vec::new(),
                };
                for (k, v) in patch {
                    match current.iter_mut().find(|(ck, _)| *ck == k) {
                        Some((_, slot)) => *slot = v,
                        None => current.push((k, v)),
                    }
                }
                r.meta = Some(Value::Map(current));
                Ok(())
            })
            .map_err(|e| e.to_string())
    }

    fn run_params(&self, directory: &str) -> Option<Result<Value, String>> {
        Some(super::services::run_params(directory))
    }

    fn system_meta(&self, groups: &[&str]) -> Option<Result<Value, String>> {
        Some(super::services::system_meta(groups))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered(dir: &Path) -> Result<Root, RecordError> {
        let rec = Record { root: Some(dir.display().to_string()), status: Status::Running, ..Record::default() };
        RecordFile::write_new(&RecordFile::path_in(dir), &rec, WriteOpts::default())?;
        Root::open("t", dir)
    }

    #[test]
    fn messages_and_notes_reach_params_yml() -> Result<(), RecordError> {
        let tmp = tempfile::tempdir().map_err(|e| RecordError::io("tempdir", "/tmp", e))?;
        let root = registered(tmp.path())?;
        assert_eq!(root.message([("loss", 1.5)])?, ["loss"]);
        assert!(root.message_with([("loss", 2.0)], Keep::Min, None)?.is_empty());
        root.note("first")?;
        assert!(root.remove_note("first")?);
        root.note("kept")?;
        let rec = RecordFile::load(&tmp.path().join("params.yml"))?;
        assert_eq!(rec.message_value("loss"), Some(&Value::Float(1.5)));
        assert_eq!(rec.notes, ["kept"]);
        assert!(rec.timestamps.last.is_some());
        let shown = root.to_string();
        assert!(shown.contains("status: running\nnotes: ['kept']\n") && shown.contains("  loss: 1.5\n"), "{shown}");
        Ok(())
    }

    #[test]
    fn the_messenger_accepts_only_its_own_handle() -> Result<(), RecordError> {
        let tmp = tempfile::tempdir().map_err(|e| RecordError::io("tempdir", "/tmp", e))?;
        let root = registered(tmp.path())?;
        let m = root.messenger();
        let v = Value::Int(3);
        assert_eq!(m.message(root.handle(), &[("k", ValueRef::from(&v))], Keep::Latest, None), Ok(()));
        assert!(m.message(ExperimentHandle(u64::MAX), &[], Keep::Latest, None).is_err());
        assert_eq!(root.record()?.message_value("k"), Some(&v));
        assert_eq!(m.info(root.handle()).map(|i| i.0), Some("t".to_owned()));
        Ok(())
    }

    #[test]
    fn a_detached_root_persists_nothing_and_cleans_up() -> Result<(), RecordError> {
        let root = Root::detached("d")?;
        let dir = root.directory().to_path_buf();
        assert!(dir.is_dir() && root.params_path().is_none());
        assert!(root.message([("a", 1)])?.is_empty());
        drop(root);
        assert!(!dir.exists());
        Ok(())
    }
}

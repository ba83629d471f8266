//! Messages off the training thread (issue 15, item 2): a [`Mailbox`] per record takes the
//! messages a Messenger firing leaves, coalesces them by their keep rule, and a writer thread
//! writes them into params.yml at most once per flush interval.
//!
//! Key design choice: **the training thread only merges into memory; what reaches the disk is
//! exactly what writing each message at once would have left there.** Writing a record is a
//! locked read-modify-write whose cost grows with the record (10 ms for a 400 KB one), so a
//! firing that wrote would cost the loop whatever the record weighs. Instead a firing posts its
//! batches into the pending set (about a microsecond), and coalescing keeps that set small
//! without changing the outcome:
//!
//! - a key's `latest` message replaces whatever is pending for the key;
//! - a key's `min`/`max` message after a pending one with the same rule keeps the better of the
//!   two, when both are ints, both floats that are not NaN or both strings (for those the
//!   comparison is a total order, so comparing with the record later gives the same result);
//!   otherwise it waits behind it;
//! - a batch with a leader replaces a pending batch with the same leader and rule when its
//!   leader wins and it carries every key of the pending one, and is dropped when it loses;
//! - batches on disjoint keys commute, so the Monitor's summary (kept latest) and a payload
//!   with a leader coalesce each with its own kind.
//!
//! The guarantee, tested in `hooks/messenger/tests/durability.rs` against real processes: every
//! message is on disk at most one flush interval (plus the write itself) after its firing, and
//! everything is on disk when the run ends by any path that runs code: the Monitor's close, a
//! stop signal the run records, a panic, a hook's stop, and dropping the record's last
//! [`Mailbox`] owner. A SIGKILL loses at most the last interval. Every other write of the record
//! through [`Mailbox::update`] applies the pending messages first, so writes keep their order.
//!
//! The writer thread starts at the first post. When nothing is pending it parks without a
//! timeout (no wake-ups while idle), and a post wakes it only if it is parked, which an atomic
//! flag tells; while messages wait for their interval the writer sleeps until then and posts
//! touch no system call.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use xmen_core::valueref::ValueRef;
use xmen_core::Value;

use crate::error::{RecordError, Result};
use crate::ops::{message_value, wins, Keep};
use crate::record::Record;
use crate::store::{RecordFile, WriteOpts};

/// The environment variable that sets the flush interval in seconds (default 1).
pub const FLUSH_ENV: &str = "XMEN_MESSAGE_FLUSH";

/// The flush interval when none is configured.
pub const DEFAULT_FLUSH: Duration = Duration::from_secs(1);

/// Pending values beyond which the writer writes without waiting for its interval (bounds the
/// memory of a pathological stream that does not coalesce, e.g. NaNs kept `min`).
const PENDING_CAP: usize = 4096;

/// The flush interval: `$XMEN_MESSAGE_FLUSH` seconds when set, else one second.
///
/// A value that is not a non-negative number of seconds is an error naming it.
pub fn flush_interval_from_env() -> std::result::Result<Duration, String> {
    match std::env::var(FLUSH_ENV) {
        Err(_) => Ok(DEFAULT_FLUSH),
        Ok(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| format!("{FLUSH_ENV}={s:?} is not a number of seconds; give e.g. {FLUSH_ENV}=0.5")),
    }
}

/// One batch of messages, as [`Record::message`] takes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// The named values.
    pub messages: Vec<(String, Value)>,
    /// How the record keeps them.
    pub keep: Keep,
    /// The key whose comparison decides for the whole batch.
    pub leader: Option<String>,
}

/// The values one key waits to receive, in order (usually one).
type KeyOps = Vec<(Value, Keep)>;

#[derive(Clone, Debug, PartialEq)]
enum Unit {
    /// Messages without a leader: each key on its own, keys in first-posted order.
    Keys(Vec<(String, KeyOps)>),
    /// A batch with a leader under `min` or `max`.
    Leader { leader: String, keep: Keep, messages: Vec<(String, Value)> },
}

impl Unit {
    fn has_key(&self, key: &str) -> bool {
        match self {
            Unit::Keys(k) => k.iter().any(|(n, _)| n == key),
            Unit::Leader { messages, .. } => messages.iter().any(|(n, _)| n == key),
        }
    }
}

/// Whether comparing `a` and `b` is a total order for which the record's keep rule is
/// transitive: both ints, both floats that are not NaN, or both strings.
fn same_class(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(_), Value::Int(_)) | (Value::Str(_), Value::Str(_)) => true,
        (Value::Float(x), Value::Float(y)) => !x.is_nan() && !y.is_nan(),
        _ => false,
    }
}

/// Messages waiting to be written, coalesced (see the module docs).
#[derive(Clone, Debug, Default, PartialEq)]
struct Pending {
    units: Vec<Unit>,
    /// Values held.
    values: usize,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// The error [`Record::message`] would give for `batch`: a leader it lacks.
    fn check(batch: &Batch) -> Result<()> {
        match &batch.leader {
            Some(l) if !batch.messages.iter().any(|(k, _)| k == l) => Err(RecordError::LeaderMissing {
                leader: l.clone(),
                keys: batch.messages.iter().map(|(k, _)| k.clone()).collect(),
            }),
            _ => Ok(()),
        }
    }

    /// Add one batch (checked by [`Pending::check`]).
    fn post(&mut self, batch: Batch) {
        let Batch { messages, keep, leader } = batch;
        match leader {
            Some(l) if keep != Keep::Latest => self.post_leader(l, keep, messages),
            // Under `latest` a leader always wins: each key is simply written.
            _ => self.post_keys(messages.into_iter().map(|(k, v)| (k, vec![(v, keep)])).collect()),
        }
    }

    /// The latest Keys unit that no later unit shares a key with (`clashes` says whether a
    /// leader unit holds one of the keys being posted): the unit new keys may join.
    fn joinable_keys_unit(&self, clashes: impl Fn(&Unit) -> bool) -> Option<usize> {
        for (i, u) in self.units.iter().enumerate().rev() {
            match u {
                Unit::Keys(_) => return Some(i),
                leader if clashes(leader) => return None,
                _ => {}
            }
        }
        None
    }

    fn post_keys(&mut self, keys: Vec<(String, KeyOps)>) {
        let target = self.joinable_keys_unit(|leader| keys.iter().any(|(k, _)| leader.has_key(k)));
        let Some(Unit::Keys(into)) = target.and_then(|i| self.units.get_mut(i)) else {
            self.values += keys.iter().map(|(_, ops)| ops.len()).sum::<usize>();
            self.units.push(Unit::Keys(keys));
            return;
        };
        for (key, ops) in keys {
            let slot = match into.iter().position(|(k, _)| *k == key) {
                Some(i) => &mut into[i].1,
                None => {
                    into.push((key, Vec::new()));
                    let last = into.len() - 1;
                    &mut into[last].1
                }
            };
            for op in ops {
                let removed = merge_op(slot, op);
                self.values = self.values + 1 - removed;
            }
        }
    }

    /// [`Pending::post_keys`] of `latest` messages still borrowed from a firing: a key already
    /// pending is overwritten in place (no allocation for its name; a string reuses its buffer).
    fn post_latest_refs(&mut self, pairs: &[(&str, ValueRef<'_>)]) {
        let target = self.joinable_keys_unit(|leader| pairs.iter().any(|(k, _)| leader.has_key(k)));
        let Some(Unit::Keys(into)) = target.and_then(|i| self.units.get_mut(i)) else {
            self.post_keys(pairs.iter().map(|(k, v)| ((*k).to_owned(), vec![(v.to_value(), Keep::Latest)])).collect());
            return;
        };
        for (k, v) in pairs {
            match into.iter_mut().find(|(n, _)| n == k) {
                Some((_, ops)) if ops.len() == 1 => {
                    let slot = &mut ops[0];
                    slot.1 = Keep::Latest;
                    match (&mut slot.0, v) {
                        (Value::Str(s), ValueRef::Str(new)) => {
                            s.clear();
                            s.push_str(new);
                        }
                        (old, new) => *old = new.to_value(),
                    }
                }
                Some((_, ops)) => {
                    self.values = self.values + 1 - ops.len();
                    ops.clear();
                    ops.push((v.to_value(), Keep::Latest));
                }
                None => {
                    self.values += 1;
                    into.push(((*k).to_owned(), vec![(v.to_value(), Keep::Latest)]));
                }
            }
        }
    }

    fn post_leader(&mut self, leader: String, keep: Keep, messages: Vec<(String, Value)>) {
        enum Decision {
            Drop,
            Replace(usize, usize),
            Append,
        }
        let lead_of = |m: &[(String, Value)]| m.iter().find(|(k, _)| *k == leader).map(|(_, v)| v.clone());
        let decision = 'scan: {
            let Some(b) = lead_of(&messages) else { break 'scan Decision::Append };
            for (i, unit) in self.units.iter().enumerate().rev() {
                if let Unit::Leader { leader: l, keep: k, messages: old } = unit {
                    if *l == leader && *k == keep {
                        if let Some(a) = lead_of(old).filter(|a| same_class(a, &b)) {
                            if !wins(&b, Some(&message_value(&a)), keep) {
                                // It loses to the pending batch, and so to the record.
                                break 'scan Decision::Drop;
                            }
                            if old.iter().all(|(k, _)| messages.iter().any(|(n, _)| n == k)) {
                                break 'scan Decision::Replace(i, old.len());
                            }
                        }
                    }
                }
                if messages.iter().any(|(k, _)| unit.has_key(k)) {
                    break;
                }
            }
            Decision::Append
        };
        match decision {
            Decision::Drop => {}
            Decision::Replace(i, old) => {
                self.values = self.values + messages.len() - old;
                self.units[i] = Unit::Leader { leader, keep, messages };
            }
            Decision::Append => {
                self.values += messages.len();
                self.units.push(Unit::Leader { leader, keep, messages });
            }
        }
    }

    /// Apply everything to `r`, in order.
    fn apply(&self, r: &mut Record) -> Result<()> {
        for u in &self.units {
            match u {
                Unit::Keys(keys) => {
                    for (k, ops) in keys {
                        for (v, keep) in ops {
                            r.message(&[(k.clone(), v.clone())], *keep, None)?;
                        }
                    }
                }
                Unit::Leader { leader, keep, messages } => {
                    r.message(messages, *keep, Some(leader))?;
                }
            }
        }
        Ok(())
    }

    /// `older`, then what is pending now: to put back messages whose write failed.
    fn after(self, older: Pending) -> Pending {
        let mut out = older;
        for u in self.units {
            match u {
                Unit::Keys(keys) => out.post_keys(keys),
                Unit::Leader { leader, keep, messages } => out.post_leader(leader, keep, messages),
            }
        }
        out
    }
}

/// Merge one value into a key's pending values; returns how many values it removed (0 or 1).
fn merge_op(ops: &mut KeyOps, (v, keep): (Value, Keep)) -> usize {
    if keep == Keep::Latest {
        let removed = ops.len();
        ops.clear();
        ops.push((v, keep));
        return removed;
    }
    match ops.as_mut_slice() {
        // After a latest value the outcome no longer depends on the record.
        [(a, Keep::Latest)] => {
            if wins(&v, Some(&message_value(a)), keep) {
                *a = v;
            }
            1
        }
        [.., (a, k)] if *k == keep && same_class(a, &v) => {
            if wins(&v, Some(&message_value(a)), keep) {
                *a = v;
            }
            1
        }
        _ => {
            ops.push((v, keep));
            0
        }
    }
}

/// Counters of a mailbox's work, for tests and benches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MailboxStats {
    /// Batches posted.
    pub posts: u64,
    /// Writes of the record made with pending messages (by the writer or a flush).
    pub writes: u64,
    /// Times the writer thread woke up (from a park, timed or not).
    pub wakeups: u64,
}

struct State {
    pending: Pending,
    /// When the last write with messages ended.
    last_write: Option<Instant>,
    /// A background write's failure, reported by the next post.
    error: Option<RecordError>,
    /// Write now, without waiting for the interval (too much pending, or closing).
    urgent: bool,
    closing: bool,
    stats: MailboxStats,
}

struct Shared {
    path: PathBuf,
    opts: WriteOpts,
    /// The flush interval in nanoseconds.
    interval: AtomicU64,
    state: Mutex<State>,
    /// The writer is parked waiting for work: a post must wake it.
    parked: AtomicBool,
    /// Serialises writes of this mailbox, so that taking the pending messages and writing
    /// them happen in the order they were taken.
    writing: Mutex<()>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval.load(Ordering::Relaxed))
    }

    /// A locked read-modify-write of the record that first applies the pending messages; they
    /// are put back when the write fails.
    fn update<T>(&self, f: impl FnOnce(&mut Record) -> Result<T>) -> Result<T> {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        self.update_writing(f)
    }

    /// Write the pending messages, if any, after any write in progress has ended (so that a
    /// read that follows sees them on disk).
    fn flush(&self) -> Result<()> {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        if self.state().pending.is_empty() {
            return Ok(());
        }
        self.update_writing(|_| Ok(()))
    }

    /// [`Shared::update`] with `writing` held.
    fn update_writing<T>(&self, f: impl FnOnce(&mut Record) -> Result<T>) -> Result<T> {
        let mut taken: Option<Pending> = None;
        let res = RecordFile::update(&self.path, self.opts, |r| {
            let p = std::mem::take(&mut self.state().pending);
            let applied = p.apply(r);
            let had = !p.is_empty();
            taken = Some(p);
            applied?;
            if had {
                r.touch();
            }
            f(r)
        });
        let mut st = self.state();
        match (&res, taken) {
            (Err(_), Some(p)) => {
                let now = std::mem::take(&mut st.pending);
                st.pending = now.after(p);
            }
            (Ok(_), Some(p)) if !p.is_empty() => {
                st.stats.writes += 1;
                st.last_write = Some(Instant::now());
            }
            _ => {}
        }
        res
    }
}

/// The pending messages of one record and its writer thread (see the module docs).
pub struct Mailbox {
    shared: Arc<Shared>,
    writer: Mutex<Option<(JoinHandle<()>, Thread)>>,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailbox").field("path", &self.shared.path).field("interval", &self.shared.interval()).finish()
    }
}

impl Mailbox {
    /// The mailbox of the params.yml at `path`, writing at most every `interval`.
    pub fn new(path: PathBuf, opts: WriteOpts, interval: Duration) -> Mailbox {
        let nanos = u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX);
        Mailbox {
            shared: Arc::new(Shared {
                path,
                opts,
                interval: AtomicU64::new(nanos),
                state: Mutex::new(State {
                    pending: Pending::default(),
                    last_write: None,
                    error: None,
                    urgent: false,
                    closing: false,
                    stats: MailboxStats::default(),
                }),
                parked: AtomicBool::new(false),
                writing: Mutex::new(()),
            }),
            writer: Mutex::new(None),
        }
    }

    /// Change the flush interval (takes effect at the writer's next wake-up).
    pub fn set_interval(&self, interval: Duration) {
        self.shared.interval.store(u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The flush interval.
    pub fn interval(&self) -> Duration {
        self.shared.interval()
    }

    /// Leave batches for the writer, in order. Fails, keeping nothing of this post, when a
    /// batch names a leader it lacks; reports (once) the failure of an earlier background
    /// write, whose messages stay pending for the next one.
    pub fn post(&self, batches: Vec<Batch>) -> Result<()> {
        self.post_with(batches, false)
    }

    /// [`Mailbox::post`] for a direct `message` call: the writer writes at once, without
    /// waiting for the flush interval, so the messages are on disk one write after the call
    /// (coalesced with whatever else is pending), while the caller does not wait for it.
    pub fn post_now(&self, batches: Vec<Batch>) -> Result<()> {
        self.post_with(batches, true)
    }

    fn post_with(&self, batches: Vec<Batch>, now: bool) -> Result<()> {
        let wake = {
            let mut st = self.shared.state();
            if let Some(e) = st.error.take() {
                return Err(e);
            }
            batches.iter().try_for_each(Pending::check)?;
            st.stats.posts += batches.len() as u64;
            for b in batches {
                st.pending.post(b);
            }
            if (now || st.pending.values > PENDING_CAP) && !st.urgent {
                st.urgent = true;
                true
            } else {
                false
            }
        };
        self.wake(wake);
        Ok(())
    }

    /// A Messenger firing's post: the Monitor's `summary` (kept latest), then `messages` with
    /// `keep` and `leader` (see [`Mailbox::post`]), taken as the firing lends them so that what
    /// is already pending under `latest` is overwritten without allocating.
    pub fn post_firing(
        &self,
        summary: &[(&str, ValueRef<'_>)],
        messages: &[(&str, ValueRef<'_>)],
        keep: Keep,
        leader: Option<&str>,
    ) -> Result<()> {
        let owned = |m: &[(&str, ValueRef<'_>)]| m.iter().map(|(k, v)| ((*k).to_owned(), v.to_value())).collect();
        let payload = match leader {
            Some(l) if !messages.is_empty() && keep != Keep::Latest => {
                let b = Batch { messages: owned(messages), keep, leader: Some(l.to_owned()) };
                Pending::check(&b)?;
                Some(b)
            }
            Some(l) if !messages.is_empty() && !messages.iter().any(|(k, _)| *k == l) => {
                return Err(RecordError::LeaderMissing {
                    leader: l.to_owned(),
                    keys: messages.iter().map(|(k, _)| (*k).to_owned()).collect(),
                });
            }
            _ if keep != Keep::Latest && !messages.is_empty() => {
                Some(Batch { messages: owned(messages), keep, leader: None })
            }
            _ => None,
        };
        let wake = {
            let mut st = self.shared.state();
            if let Some(e) = st.error.take() {
                return Err(e);
            }
            st.pending.post_latest_refs(summary);
            st.stats.posts += 1;
            match payload {
                Some(b) => st.pending.post(b),
                None if !messages.is_empty() => st.pending.post_latest_refs(messages),
                None => {}
            }
            if !messages.is_empty() {
                st.stats.posts += 1;
            }
            if st.pending.values > PENDING_CAP && !st.urgent {
                st.urgent = true;
                true
            } else {
                false
            }
        };
        self.wake(wake);
        Ok(())
    }

    /// Wake the writer when it is parked waiting for work, or when `force`; start it at the first
    /// post.
    fn wake(&self, force: bool) {
        let mut w = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        match &*w {
            Some((_, thread)) => {
                if force || self.shared.parked.load(Ordering::SeqCst) {
                    thread.unpark();
                }
            }
            None => {
                let shared = Arc::clone(&self.shared);
                match std::thread::Builder::new().name("xmen-messages".into()).spawn(move || writer(&shared)) {
                    Ok(h) => {
                        let t = h.thread().clone();
                        *w = Some((h, t));
                    }
                    // No thread: the messages stay pending and are written by the next
                    // update, flush or drop, on the caller's thread.
                    Err(e) => eprintln!("WARNING: could not start the message writer thread: {e}"),
                }
            }
        }
    }

    /// Write the pending messages now, on this thread (nothing happens when none are pending);
    /// returns once they, and any write the writer thread had begun, are on disk.
    pub fn flush(&self) -> Result<()> {
        self.shared.flush()
    }

    /// A locked read-modify-write of the record (see [`RecordFile::update`]) that first applies
    /// the pending messages, so that every write of the record keeps the order of the messages
    /// and other changes.
    pub fn update<T>(&self, f: impl FnOnce(&mut Record) -> Result<T>) -> Result<T> {
        self.shared.update(f)
    }

    /// Whether messages are waiting to be written.
    pub fn has_pending(&self) -> bool {
        !self.shared.state().pending.is_empty()
    }

    /// Counters of the work done so far.
    pub fn stats(&self) -> MailboxStats {
        self.shared.state().stats
    }
}

impl Drop for Mailbox {
    /// Write what is pending and stop the writer.
    fn drop(&mut self) {
        self.shared.state().closing = true;
        let w = self.writer.get_mut().unwrap_or_else(PoisonError::into_inner).take();
        match w {
            Some((handle, thread)) => {
                thread.unpark();
                let _ = handle.join();
            }
            None => {
                if let Err(e) = self.flush() {
                    eprintln!("ERROR: messages for {} were not written: {e}", self.shared.path.display());
                }
            }
        }
    }
}

/// The writer thread: park while idle; once messages are pending, write them when the interval
/// since the last write has passed (at once when urgent or closing).
fn writer(shared: &Shared) {
    loop {
        let due = {
            let mut st = shared.state();
            if st.pending.is_empty() {
                if st.closing {
                    return;
                }
                // Tell posts to wake us, then look again: a post that saw the flag down has
                // already left its messages where this look finds them.
                drop(st);
                shared.parked.store(true, Ordering::SeqCst);
                let idle = {
                    let st = shared.state();
                    st.pending.is_empty() && !st.closing
                };
                if idle {
                    std::thread::park();
                }
                shared.parked.store(false, Ordering::SeqCst);
                shared.state().stats.wakeups += 1;
                continue;
            }
            let due = st.last_write.map(|t| t + shared.interval());
            if st.urgent || st.closing {
                st.urgent = false;
                None
            } else {
                due.filter(|d| *d > Instant::now())
            }
        };
        if let Some(due) = due {
            std::thread::park_timeout(due.saturating_duration_since(Instant::now()));
            shared.state().stats.wakeups += 1;
            continue;
        }
        if let Err(e) = shared.flush() {
            let mut st = shared.state();
            st.error = Some(e);
            // Retry after an interval, not in a tight loop.
            st.last_write = Some(Instant::now());
            if st.closing {
                eprintln!(
                    "ERROR: messages for {} were not written: {}",
                    shared.path.display(),
                    st.error.take().map_or_else(String::new, |e| e.to_string())
                );
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(pairs: &[(&str, Value)], keep: Keep, leader: Option<&str>) -> Batch {
        Batch {
            messages: pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
            keep,
            leader: leader.map(str::to_owned),
        }
    }

    fn rec() -> Record {
        Record { root: Some("/tmp/x".into()), ..Record::default() }
    }

    /// Post `batches` into a pending set and apply it to `start`; also apply them one by one,
    /// as writing each at once would; both must agree.
    fn check(start: &Record, batches: &[Batch]) -> Pending {
        let mut direct = start.clone();
        for b in batches {
            direct.message(&b.messages, b.keep, b.leader.as_deref()).unwrap();
        }
        let mut p = Pending::default();
        for b in batches {
            Pending::check(b).unwrap();
            p.post(b.clone());
        }
        let mut coalesced = start.clone();
        p.apply(&mut coalesced).unwrap();
        // Debug text: NaN equals NaN there.
        assert_eq!(format!("{:?}", coalesced.messages), format!("{:?}", direct.messages), "{batches:?}");
        p
    }

    fn starts() -> Vec<Record> {
        let mut out = vec![rec()];
        for v in [Value::Float(0.3), Value::Float(f64::NAN), Value::Str("s".into()), Value::Int(7)] {
            let mut r = rec();
            r.messages = vec![("loss".into(), v.clone()), ("acc".into(), v)];
            out.push(r);
        }
        out
    }

    #[test]
    fn a_summary_and_a_payload_per_firing_coalesce_to_two_units() {
        for keep in [Keep::Latest, Keep::Min, Keep::Max] {
            for leader in [None, Some("loss")] {
                let mut batches = Vec::new();
                for i in 0..50 {
                    let loss = ((i * 37) % 11) as f64 / 10.0;
                    batches.push(batch(
                        &[("step", Value::Int(i)), ("last", Value::Str(format!("t{i}")))],
                        Keep::Latest,
                        None,
                    ));
                    batches.push(batch(
                        &[("loss", Value::Float(loss)), ("acc", Value::Float(1.0 - loss))],
                        keep,
                        leader,
                    ));
                }
                for start in starts() {
                    let p = check(&start, &batches);
                    assert!(p.units.len() <= 2 && p.values <= 4, "{keep:?} {leader:?}: {p:?}");
                }
            }
        }
    }

    #[test]
    fn a_firings_borrowed_post_leaves_what_owned_batches_leave() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = [tmp.path().join("a"), tmp.path().join("b")];
        dirs.iter().for_each(|d| std::fs::create_dir_all(d).unwrap());
        let (a, b) = (registered(&dirs[0]), registered(&dirs[1]));
        let hour = Duration::from_secs(3600);
        let (ma, mb) =
            (Mailbox::new(a.clone(), WriteOpts::default(), hour), Mailbox::new(b.clone(), WriteOpts::default(), hour));
        for (keep, leader) in
            [(Keep::Latest, None), (Keep::Min, Some("loss")), (Keep::Max, None), (Keep::Latest, Some("loss"))]
        {
            for i in 0..20i64 {
                let last = format!("t{i}");
                let summary = [("last", ValueRef::Str(&last)), ("step", ValueRef::Int(i))];
                let loss = ((i * 7) % 5) as f64;
                let payload = [("loss", ValueRef::Float(loss)), ("acc", ValueRef::Int(i))];
                ma.post_firing(&summary, &payload, keep, leader).unwrap();
                let owned =
                    |m: &[(&str, ValueRef<'_>)]| m.iter().map(|(k, v)| ((*k).to_owned(), v.to_value())).collect();
                mb.post(vec![
                    Batch { messages: owned(&summary), keep: Keep::Latest, leader: None },
                    Batch { messages: owned(&payload), keep, leader: leader.map(str::to_owned) },
                ])
                .unwrap();
            }
        }
        let e = ma.post_firing(&[], &[("acc", ValueRef::Int(1))], Keep::Min, Some("loss")).unwrap_err();
        assert!(matches!(e, RecordError::LeaderMissing { .. }), "{e}");
        drop((ma, mb));
        let (ra, rb) = (RecordFile::load(&a).unwrap(), RecordFile::load(&b).unwrap());
        assert_eq!(ra.messages, rb.messages);
        assert_eq!(ra.message_value("step"), Some(&Value::Int(19)));
    }

    #[test]
    fn values_that_do_not_compare_wait_in_order_and_still_agree() {
        let odd = [Value::Float(f64::NAN), Value::Str("a".into()), Value::Int(3), Value::Float(2.5), Value::Bool(true)];
        for keep in [Keep::Min, Keep::Max] {
            for leader in [None, Some("k")] {
                let batches: Vec<Batch> =
                    odd.iter().chain(odd.iter().rev()).map(|v| batch(&[("k", v.clone())], keep, leader)).collect();
                for start in starts() {
                    check(&start, &batches);
                }
            }
        }
    }

    #[test]
    fn leader_batches_with_other_keys_are_not_merged_away() {
        // The second batch lacks `extra`: replacing the first would lose it if the first wins.
        let batches = [
            batch(&[("loss", Value::Float(0.5)), ("extra", Value::Int(1))], Keep::Min, Some("loss")),
            batch(&[("loss", Value::Float(0.4))], Keep::Min, Some("loss")),
            batch(&[("loss", Value::Float(0.6))], Keep::Min, Some("loss")),
            batch(&[("extra", Value::Int(9))], Keep::Latest, None),
            batch(&[("loss", Value::Float(0.1)), ("extra", Value::Int(2))], Keep::Min, Some("loss")),
        ];
        for start in starts() {
            check(&start, &batches);
        }
    }

    #[test]
    fn a_missing_leader_fails_the_post_and_keeps_nothing_of_it() {
        let tmp = tempfile::tempdir().unwrap();
        let mb = Mailbox::new(registered(tmp.path()), WriteOpts::default(), Duration::from_secs(3600));
        let good = batch(&[("acc", Value::Int(1))], Keep::Latest, None);
        let e = mb.post(vec![good, batch(&[("acc", Value::Int(1))], Keep::Min, Some("loss"))]).unwrap_err();
        assert!(matches!(e, RecordError::LeaderMissing { .. }), "{e}");
        assert!(!mb.has_pending() && mb.stats().posts == 0);
    }

    #[test]
    fn a_failed_write_puts_its_messages_back_before_newer_ones() {
        let mut older = Pending::default();
        older.post(batch(&[("loss", Value::Float(0.5))], Keep::Latest, None));
        let mut newer = Pending::default();
        newer.post(batch(&[("loss", Value::Float(0.7))], Keep::Latest, None));
        let mut r = rec();
        newer.after(older).apply(&mut r).unwrap();
        assert_eq!(r.message_value("loss"), Some(&Value::Float(0.7)));
    }

    #[test]
    fn the_interval_comes_from_the_environment_or_is_one_second() {
        // Only this test sets the variable in this binary.
        std::env::remove_var(FLUSH_ENV);
        assert_eq!(flush_interval_from_env(), Ok(DEFAULT_FLUSH));
        std::env::set_var(FLUSH_ENV, "0.25");
        assert_eq!(flush_interval_from_env(), Ok(Duration::from_millis(250)));
        std::env::set_var(FLUSH_ENV, "soon");
        let e = flush_interval_from_env().unwrap_err();
        assert!(e.contains("\"soon\"") && e.contains("XMEN_MESSAGE_FLUSH=0.5"), "{e}");
        std::env::remove_var(FLUSH_ENV);
    }

    fn registered(dir: &std::path::Path) -> PathBuf {
        let path = RecordFile::path_in(dir);
        RecordFile::write_new(&path, &Record { root: Some(dir.display().to_string()), ..rec() }, WriteOpts::default())
            .unwrap();
        path
    }

    fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ok() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn the_writer_writes_after_the_interval_and_an_idle_writer_does_not_wake() {
        let tmp = tempfile::tempdir().unwrap();
        let path = registered(tmp.path());
        let mb = Mailbox::new(path.clone(), WriteOpts::default(), Duration::from_millis(20));
        for i in 0..100 {
            mb.post(vec![batch(&[("i", Value::Int(i))], Keep::Latest, None)]).unwrap();
        }
        let on_disk = || RecordFile::load(&path).unwrap().message_value("i").cloned();
        wait_until("the last message is on disk", || on_disk() == Some(Value::Int(99)));
        wait_until("nothing is pending", || !mb.has_pending());
        // Idle: parked without a timeout. Over a quarter of a second it does not wake (a
        // spurious wake-up, which park allows, would show as one).
        let before = mb.stats();
        std::thread::sleep(Duration::from_millis(250));
        let after = mb.stats();
        assert!(after.wakeups <= before.wakeups + 1, "{before:?} -> {after:?}");
        assert!(after.writes >= 1 && after.writes <= 100, "{after:?}");
        // A post wakes it.
        mb.post(vec![batch(&[("i", Value::Int(100))], Keep::Latest, None)]).unwrap();
        wait_until("the woken writer wrote", || on_disk() == Some(Value::Int(100)));
    }

    #[test]
    fn post_now_is_written_at_once_whatever_the_interval() {
        let tmp = tempfile::tempdir().unwrap();
        let path = registered(tmp.path());
        let mb = Mailbox::new(path.clone(), WriteOpts::default(), Duration::from_secs(3600));
        let on_disk = |k: &str| RecordFile::load(&path).unwrap().message_value(k).cloned();
        mb.post(vec![batch(&[("a", Value::Int(1))], Keep::Latest, None)]).unwrap();
        wait_until("the first message is on disk", || on_disk("a") == Some(Value::Int(1)));
        // A plain post now waits an hour; a post_now after it takes it along at once.
        mb.post(vec![batch(&[("a", Value::Int(2))], Keep::Latest, None)]).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(on_disk("a"), Some(Value::Int(1)));
        for i in 0..50 {
            mb.post_now(vec![batch(&[("b", Value::Int(i))], Keep::Max, None)]).unwrap();
        }
        wait_until("the posted-now messages are on disk", || on_disk("b") == Some(Value::Int(49)));
        assert_eq!(on_disk("a"), Some(Value::Int(2)));
        wait_until("nothing is pending", || !mb.has_pending());
        // A bad batch is refused at the call, as by post.
        assert!(mb.post_now(vec![batch(&[("x", Value::Int(1))], Keep::Min, Some("y"))]).is_err());
    }

    #[test]
    fn dropping_the_mailbox_writes_what_is_pending_and_updates_apply_it_first() {
        let tmp = tempfile::tempdir().unwrap();
        let path = registered(tmp.path());
        let mb = Mailbox::new(path.clone(), WriteOpts::default(), Duration::from_secs(3600));
        mb.post(vec![batch(&[("a", Value::Int(1))], Keep::Latest, None)]).unwrap();
        // The first post writes at once (no write yet); the next ones wait an hour.
        wait_until("the first message is on disk", || RecordFile::load(&path).unwrap().message_value("a").is_some());
        mb.post(vec![batch(&[("a", Value::Int(2))], Keep::Latest, None)]).unwrap();
        // An update applies the pending message before its own change.
        mb.update(|r| {
            assert_eq!(r.message_value("a"), Some(&Value::Int(2)));
            r.message(&[("a".into(), Value::Int(3))], Keep::Latest, None).map(|_| ())
        })
        .unwrap();
        mb.post(vec![batch(&[("b", Value::Int(4))], Keep::Latest, None)]).unwrap();
        drop(mb);
        let r = RecordFile::load(&path).unwrap();
        assert_eq!((r.message_value("a"), r.message_value("b")), (Some(&Value::Int(3)), Some(&Value::Int(4))));
    }
}

//! The Monitor: wraps (nested) training loops, counts step/epoch/era/eon/supereon,
//! and fires hooks at their spec strings.
//!
//! Design choices:
//! - Rust cannot read a caller's locals, so the loop body publishes values into an
//!   ordered scope (`m.set("loss", x)` or [`vars!`](crate::vars)); values persist until
//!   overwritten.
//! - Which variables a hook receives is decided once per (hook, name) and cached;
//!   a step where nothing fires costs a counter increment and one comparison.
//! - Stopwatches run only when a hook needs timings (a Timer), so an untimed step
//!   reads no clock.
//! - A loop's level is popped when its iterator is dropped, so `break` never leaves a
//!   level behind (the original's did).
//! - Every hook entry's firings are timed with one clock read per firing boundary, shared by
//!   consecutive hooks ([`Monitor::hooks_cost`], see [`cost`]); steps where nothing fires
//!   read no clock.

pub mod cost;
mod iter;
mod slot;
mod state;

pub use cost::HookCost;
pub use iter::{LoopCursor, MonitorIter};
pub use slot::{HookSlot, OnError, Transform};

use crate::abi::CallFailure;
use crate::hook::{Firing, Host, Keep, Outcome, Reply, Request, RunEnd, RunStatus, Snapshot, VarsView};
use crate::pyfmt;
use crate::spec::{SpecError, Trigger};
use crate::value::{ExperimentHandle, StateHandle, Value};
use crate::valueref::ValueRef;
use state::State;
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

static INTERRUPT: AtomicBool = AtomicBool::new(false);
static INTERRUPT_REASON: Mutex<(RunStatus, String)> = Mutex::new((RunStatus::Stopped, String::new()));

/// Ask every Monitor in the process to stop at its next loop step, the run ending as
/// `stopped`. See [`request_interrupt_as`].
pub fn request_interrupt(reason: &str) {
    request_interrupt_as(RunStatus::Stopped, reason);
}

/// Ask every Monitor in the process to stop at its next loop step (used by the experiment
/// runner's SIGTERM/SIGINT/SIGUSR1 handling). Loops end normally, so hooks are closed and
/// flushed on the way out, and learn that the run ended with `status` because of `reason`.
pub fn request_interrupt_as(status: RunStatus, reason: &str) {
    if let Ok(mut r) = INTERRUPT_REASON.lock() {
        *r = (status, reason.to_owned());
    }
    INTERRUPT.store(true, Ordering::SeqCst);
}

/// How a run ended, as [`Monitor::close`] tells its hooks: unwinding from a panic is `error`;
/// an interrupt is the status it was requested with; otherwise `finished`, with the message
/// of the hook that stopped the loops as the reason when one did.
fn run_end(panicking: bool, interrupt: Option<(RunStatus, String)>, stopped_by_hook: Option<String>) -> RunEnd {
    if panicking {
        return RunEnd { status: RunStatus::Error, reason: Some("the run panicked".into()) };
    }
    if let Some((status, reason)) = interrupt {
        return RunEnd { status, reason: Some(reason).filter(|r| !r.is_empty()) };
    }
    RunEnd { status: RunStatus::Finished, reason: stopped_by_hook }
}

/// Whether [`request_interrupt`] was called.
pub fn interrupted() -> bool {
    INTERRUPT.load(Ordering::Relaxed)
}

/// Where the Monitor and its hooks print.
pub enum Output {
    /// Standard output (the default).
    Stdout,
    /// Any writer, e.g. a buffer in tests.
    Writer(Box<dyn Write + Send>),
}

/// Experiment records the Monitor's hooks may message (implemented by the experiment
/// runner; hooks see only [`ExperimentHandle`]s).
pub trait Experiments {
    /// Leave messages with an experiment (docs/file-formats.md#_messages).
    fn message(
        &self,
        experiment: ExperimentHandle,
        messages: &[(&str, ValueRef<'_>)],
        keep: Keep,
        leader: Option<&str>,
    ) -> Result<(), String>;
    /// The experiment's display name and folder.
    fn info(&self, experiment: ExperimentHandle) -> Option<(String, String)>;
    /// The Monitor's summary (keep latest), then `messages`, in one record write.
    fn message_with_summary(
        &self,
        experiment: ExperimentHandle,
        summary: &[(&str, ValueRef<'_>)],
        messages: &[(&str, ValueRef<'_>)],
        keep: Keep,
        leader: Option<&str>,
    ) -> Result<(), String> {
        crate::hook::summary_then_messages(summary, messages, keep, leader, |m, k, l| self.message(experiment, m, k, l))
    }
    /// Merge a map into the experiment's `_meta`.
    fn update_meta(&self, experiment: ExperimentHandle, meta: ValueRef<'_>) -> Result<(), String> {
        let _ = (experiment, meta);
        Err("these experiment records do not accept meta updates".into())
    }
    /// The parameters recorded in the run folder `directory` (a map), `Value::None` when it
    /// holds no record ([`Request::RunParams`]); `None`: not offered.
    fn run_params(&self, directory: &str) -> Option<Result<Value, String>> {
        let _ = directory;
        None
    }
    /// A snapshot of the machine as `_meta` records it, of `groups` ([`Request::SystemMeta`]);
    /// `None`: not offered.
    fn system_meta(&self, groups: &[&str]) -> Option<Result<Value, String>> {
        let _ = groups;
        None
    }
    /// Write the messages that wait for their flush interval (records that write messages off
    /// the training thread); the Monitor calls it when it closes and when its loops stop.
    fn flush(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Checkpointable objects the Monitor's hooks may read (implemented by the SDK's registry
/// of live objects; hooks see only [`StateHandle`]s).
pub trait States {
    /// The current state of the object behind `state`.
    fn state(&self, state: StateHandle) -> Result<Snapshot, String>;
}

/// Counters of the Monitor's own work, for tests and benches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonitorStats {
    /// Regex evaluations made to match variables to hooks.
    pub regex_evals: u64,
    /// Hook calls made.
    pub hook_calls: u64,
}

/// Configuration of a [`Monitor`] before it starts.
#[derive(Default)]
pub struct MonitorConfig {
    /// Hooks, in firing order.
    pub hooks: Vec<HookSlot>,
    /// `@N{trigger}`: stop when that counter reaches N.
    pub limit: Option<(u64, Trigger)>,
    /// Force the stopwatches on even when no hook needs them.
    pub timing: bool,
    /// Where output goes (stdout when `None`).
    pub output: Option<Output>,
    /// The run's folder (checkpoints, summaries), if any.
    pub directory: Option<std::path::PathBuf>,
    /// Experiment records the hooks may message.
    pub experiments: Option<Box<dyn Experiments>>,
    /// Checkpointable objects the hooks may read (`Value::State` handles).
    pub states: Option<Box<dyn States>>,
}

/// The Monitor. See the module documentation.
///
/// ```
/// use xmen_core::monitor::{Monitor, MonitorConfig};
/// let m = Monitor::new(MonitorConfig::default());
/// let mut seen = 0;
/// for _ in m.iter(0..3) {
///     for i in m.iter(0..5) {
///         m.set("i", i);
///         seen += 1;
///     }
/// }
/// assert_eq!((m.step(), m.epoch(), seen), (15, 3, 15));
/// ```
pub struct Monitor {
    state: RefCell<State>,
    hooks: RefCell<Vec<HookSlot>>,
    /// Per trigger: the slots with that trigger, in firing order.
    by_trigger: [Vec<usize>; 5],
    output: RefCell<Output>,
    pending_stop: RefCell<Option<String>>,
    clock: RefCell<state::LastClock>,
    stats: Cell<MonitorStats>,
    directory: Option<std::path::PathBuf>,
    experiments: Option<Box<dyn Experiments>>,
    states: Option<Box<dyn States>>,
    closed: Cell<bool>,
    created: std::time::Instant,
    /// The TSC clock of the cost accounting, calibrated at the first firing.
    tsc: std::cell::OnceCell<quanta::Clock>,
}

impl Monitor {
    /// A Monitor with the given hooks and options.
    pub fn new(config: MonitorConfig) -> Monitor {
        let timing = config.timing || config.hooks.iter().any(|h| h.needs_timing);
        let mut by_trigger: [Vec<usize>; 5] = Default::default();
        for (i, h) in config.hooks.iter().enumerate() {
            if let Some(t) = h.spec.trigger() {
                by_trigger[t.index()].push(i);
            }
        }
        let m = Monitor {
            state: RefCell::new(State::new(config.limit, timing)),
            hooks: RefCell::new(config.hooks),
            by_trigger,
            output: RefCell::new(config.output.unwrap_or(Output::Stdout)),
            pending_stop: RefCell::new(None),
            clock: RefCell::new(state::LastClock::default()),
            stats: Cell::new(MonitorStats::default()),
            directory: config.directory,
            experiments: config.experiments,
            states: config.states,
            closed: Cell::new(false),
            created: std::time::Instant::now(),
            tsc: std::cell::OnceCell::new(),
        };
        for t in Trigger::ALL {
            m.recompute_next_check(t);
        }
        m
    }

    /// Parse a `limit` string (`@20s`).
    pub fn parse_limit(s: &str) -> Result<(u64, Trigger), SpecError> {
        crate::spec::parse_limit(s)
    }

    // ---- loops -----------------------------------------------------------------------

    /// Wrap an iterable. Its length is known when its iterator reports an exact size.
    pub fn iter<I: IntoIterator>(&self, iterable: I) -> MonitorIter<'_, I::IntoIter> {
        let it = iterable.into_iter();
        let len = match it.size_hint() {
            (lo, Some(hi)) if lo == hi => Some(lo as u64),
            _ => None,
        };
        MonitorIter::new(self, it, len)
    }

    /// Wrap an iterable whose length the iterator cannot report.
    pub fn iter_with_len<I: IntoIterator>(&self, iterable: I, len: u64) -> MonitorIter<'_, I::IntoIter> {
        MonitorIter::new(self, iterable.into_iter(), Some(len))
    }

    /// Open a level for a new loop; `None` means the loop yields nothing (stopped) or
    /// is not counted (more than five levels).
    pub(crate) fn open_level(&self, len: Option<u64>) -> Result<u64, bool> {
        if self.is_stopped() {
            let line = {
                let st = self.state.borrow();
                let parts: Vec<String> = Trigger::ALL
                    .iter()
                    .filter(|t| st.counters[t.index()] != 0)
                    .map(|t| format!("{}={}", t.name(), st.counters[t.index()]))
                    .collect();
                format!("---- Stop Criterion @ {} ----", parts.join(", "))
            };
            self.log(&line);
            return Err(true);
        }
        let id = self.state.borrow_mut().push_level(len);
        match id {
            Some(id) => Ok(id),
            None => {
                self.log("WARNING: more than five nested Monitor loops; this loop is not counted");
                Err(false)
            }
        }
    }

    pub(crate) fn close_level(&self, id: u64) {
        self.state.borrow_mut().pop_level(id);
    }

    /// The body of loop `id`'s current item finished: count it and fire hooks, after
    /// `before_fire` when some hook is due.
    pub(crate) fn end_item(&self, id: u64, before_fire: impl FnOnce()) {
        let (fire, slot, now) = {
            let mut st = self.state.borrow_mut();
            let Some(slot) = st.slot_of(id) else { return };
            let timing = st.timing;
            let mut now = None;
            if let Some(l) = st.levels[slot].as_mut() {
                l.completed += 1;
                if timing {
                    // One clock read ends the body, starts the next load and the first hook.
                    let raw = self.ticks();
                    let t = self.tsc().scaled(raw);
                    l.step.stop(t);
                    l.load.start(t);
                    now = Some(raw);
                }
            }
            st.counters[slot] += 1;
            (st.counters[slot] >= st.next_check[slot], slot, now)
        };
        if fire {
            before_fire();
            let ended = Trigger::from_index(slot).and_then(|t| self.fire(t, now));
            if let Some(ended) = ended.filter(|_| now.is_some()) {
                // Hook time counts in neither stopwatch: the read that ended the last hook
                // restarts the load watch.
                let mut st = self.state.borrow_mut();
                if let Some(s) = st.slot_of(id) {
                    if let Some(l) = st.levels[s].as_mut() {
                        l.load.start(self.tsc().scaled(ended));
                    }
                }
            }
        }
    }

    /// Before fetching loop `id`'s first item: start its load watch.
    pub(crate) fn begin_first_load(&self, id: u64) {
        let mut st = self.state.borrow_mut();
        if st.timing {
            if let Some(slot) = st.slot_of(id) {
                if let Some(l) = st.levels[slot].as_mut() {
                    l.load.start(quanta::Instant::now());
                }
            }
        }
    }

    /// Loop `id` obtained an item: apply the limit, then start the step watch.
    /// Returns false when the loop must end instead of yielding it.
    pub(crate) fn begin_item(&self, id: u64) -> bool {
        let limit_line = {
            let mut st = self.state.borrow_mut();
            let Some(slot) = st.slot_of(id) else { return true };
            if st.stopped {
                return false;
            }
            match st.limit {
                Some((n, t)) if t.index() == slot && st.counters[slot] >= n => {
                    st.stopped = true;
                    Some(format!("---- Limit reached for {} {} ----", t.name(), n))
                }
                _ => {
                    if st.timing {
                        let now = quanta::Instant::now();
                        if let Some(l) = st.levels[slot].as_mut() {
                            l.load.stop(now);
                            l.step.start(now);
                        }
                    }
                    None
                }
            }
        };
        match limit_line {
            Some(line) => {
                self.log(&line);
                false
            }
            None => true,
        }
    }

    /// True once a limit, a `stop` or an interrupt ended the run.
    pub fn is_stopped(&self) -> bool {
        if interrupted() && !self.state.borrow().stopped {
            let reason = INTERRUPT_REASON.lock().map(|r| r.1.clone()).unwrap_or_default();
            self.stop(&format!("---- Interrupted ({reason}) ----"));
        }
        self.state.borrow().stopped
    }

    // ---- counters ------------------------------------------------------------------------

    /// A counter.
    pub fn counter(&self, t: Trigger) -> u64 {
        self.state.borrow().counters[t.index()]
    }
    /// All counters, step first.
    pub fn counters(&self) -> [u64; 5] {
        self.state.borrow().counters
    }
    /// Restore counters (after loading a checkpoint). When they are already at or past the
    /// `limit`, the Monitor stops at once, as an uninterrupted run would have.
    pub fn set_counters(&self, counters: [u64; 5]) {
        let limit_line = {
            let mut st = self.state.borrow_mut();
            st.counters = counters;
            match st.limit {
                Some((n, t)) if !st.stopped && counters[t.index()] >= n => {
                    st.stopped = true;
                    Some(format!("---- Limit reached for {} {} ----", t.name(), n))
                }
                _ => None,
            }
        };
        for t in Trigger::ALL {
            self.recompute_next_check(t);
        }
        if let Some(line) = limit_line {
            self.log(&line);
        }
    }
    /// The step counter.
    pub fn step(&self) -> u64 {
        self.counter(Trigger::Step)
    }
    /// The epoch counter.
    pub fn epoch(&self) -> u64 {
        self.counter(Trigger::Epoch)
    }
    /// The era counter.
    pub fn era(&self) -> u64 {
        self.counter(Trigger::Era)
    }
    /// The eon counter.
    pub fn eon(&self) -> u64 {
        self.counter(Trigger::Eon)
    }
    /// The supereon counter.
    pub fn supereon(&self) -> u64 {
        self.counter(Trigger::Supereon)
    }

    /// `counter % modulo == 0`, and with `exclude_1st` also `counter > 0`.
    pub fn modulo(&self, t: Trigger, modulo: u64, exclude_1st: bool) -> bool {
        let c = self.counter(t);
        modulo != 0 && c % modulo == 0 && (!exclude_1st || c > 0)
    }

    /// Whether increasing counter `t` now would fire a hook (the Python binding reads the
    /// caller's locals only then).
    pub fn fires_next(&self, t: Trigger) -> bool {
        let st = self.state.borrow();
        st.counters[t.index()].saturating_add(1) >= st.next_check[t.index()]
    }

    /// Increase a counter by hand and fire its hooks.
    pub fn inc(&self, t: Trigger) {
        let fire = {
            let mut st = self.state.borrow_mut();
            st.counters[t.index()] += 1;
            st.counters[t.index()] >= st.next_check[t.index()]
        };
        if fire {
            self.fire(t, None);
        }
    }

    /// Remember, for the runner, that hook `hook` stopped the run with `reason` at the current
    /// step (the first stop of the process wins: see [`take_hook_stop`]).
    fn note_hook_stop(&self, hook: &str, reason: &str) {
        let step = self.state.borrow().counters[Trigger::Step.index()];
        let mut slot = HOOK_STOP.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(HookStop { hook: hook.to_owned(), step, reason: reason.to_owned() });
        }
    }

    /// Stop the run: loops end at their next item; logs `msg`. The experiments' pending
    /// messages are written now.
    pub fn stop(&self, msg: &str) {
        self.state.borrow_mut().stopped = true;
        self.log(msg);
        self.flush_experiments();
    }

    /// Write the messages the experiments hold for their flush interval; a failure is printed.
    fn flush_experiments(&self) {
        if let Some(Err(e)) = self.experiments.as_ref().map(|e| e.flush()) {
            self.print(&format!("ERROR: messages were not written: {e}"));
        }
    }

    // ---- variables ----------------------------------------------------------------------

    /// Publish a variable into the scope hooks read. Values persist until overwritten
    /// and keep the order in which names were first set.
    pub fn set(&self, name: &str, value: impl Into<Value>) {
        self.state.borrow_mut().vars.set(name, value.into());
    }

    /// A copy of a variable's current value.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.state.borrow().vars.get(name).cloned()
    }

    /// Feed variables to the manual hooks (specs without `@`), each receiving those
    /// whose names match its regex.
    pub fn to_hooks(&self, vars: &[(&str, Value)]) {
        let mut hooks = self.hooks.borrow_mut();
        let mut evals = 0;
        let mut fails = Vec::new();
        let mut mark = None;
        for slot in hooks.iter_mut().filter(|s| s.spec.is_manual() && !s.disabled) {
            let start = *mark.get_or_insert_with(|| self.ticks());
            let matched: Vec<(&str, ValueRef<'_>)> = vars
                .iter()
                .filter(|(k, _)| slot.manual_match(k, &mut evals))
                .map(|(k, v)| (*k, ValueRef::from(v)))
                .collect();
            let r = self.call_slot(slot, None, &matched);
            let end = self.ticks();
            slot.cost.record(end.wrapping_sub(start));
            mark = Some(end);
            fails.extend(r);
        }
        drop(hooks);
        self.bump(evals, 0);
        self.after_firing(fails);
    }

    // ---- output --------------------------------------------------------------------------

    /// Print `[{last} {levels}]: {text}` (the original's `monitor.log`).
    pub fn log(&self, text: &str) {
        let mut line = String::with_capacity(48 + text.len());
        self.state.borrow().write_prefix(&mut line, self.clock.borrow_mut().get());
        if !text.is_empty() {
            line.push(' ');
            line.push_str(text);
        }
        self.print(&line);
    }

    /// Log a value formatted with a Python format spec applied to the raw value (the original
    /// formatted its text).
    pub fn log_value(&self, value: &Value, format: &str) -> Result<(), pyfmt::FormatError> {
        let text = pyfmt::format_value(value, format)?;
        self.log(&text);
        Ok(())
    }

    /// Print one line through the Monitor's output.
    pub fn print(&self, line: &str) {
        let mut out = self.output.borrow_mut();
        let _ = match &mut *out {
            Output::Stdout => {
                let mut o = std::io::stdout().lock();
                writeln!(o, "{line}").and_then(|_| o.flush())
            }
            Output::Writer(w) => writeln!(w, "{line}"),
        };
    }

    /// The ordered summary: `last`, the level entries, `wall`, `end` (the time left, when it can be estimated),
    /// and with `verbose` `next step m_step load m_load`.
    pub fn summary(&self, verbose: bool) -> Vec<(String, String)> {
        let last = self.clock.borrow_mut().get().to_owned();
        self.state.borrow().summary(verbose, last)
    }

    /// The run's folder, when the Monitor has one.
    pub fn directory(&self) -> Option<&std::path::Path> {
        self.directory.as_deref()
    }

    /// Work counters (regex evaluations, hook calls).
    pub fn stats(&self) -> MonitorStats {
        self.stats.get()
    }

    /// How many times each hook was called, in firing order: `(name, spec, calls, disabled)`.
    pub fn hook_calls(&self) -> Vec<(String, String, u64, bool)> {
        self.hooks.borrow().iter().map(|h| (h.name.clone(), h.spec.to_string(), h.calls, h.disabled)).collect()
    }

    /// What each hook entry's firings have cost the training thread so far, in firing order
    /// (see [`cost`]).
    ///
    /// ```
    /// use xmen_core::hook::{Firing, Hook, HookResult, Outcome};
    /// use xmen_core::monitor::{HookSlot, Monitor, MonitorConfig};
    /// use xmen_core::spec::Spec;
    ///
    /// struct Nap;
    /// impl Hook for Nap {
    ///     fn call(&mut self, _: &Firing<'_>) -> HookResult {
    ///         std::thread::sleep(std::time::Duration::from_millis(1));
    ///         Ok(Outcome::Continue)
    ///     }
    /// }
    /// let nap = HookSlot::native("nap", Spec::parse("@5s")?, Box::new(Nap));
    /// let m = Monitor::new(MonitorConfig { hooks: vec![nap], ..Default::default() });
    /// for _ in m.iter(0..20) {}
    /// let cost = &m.hooks_cost()[0];
    /// assert_eq!((cost.hook.as_str(), cost.spec.as_str(), cost.firings), ("nap", "@5s", 4));
    /// assert!(cost.total >= std::time::Duration::from_millis(4) && cost.max >= cost.p50);
    /// # Ok::<(), xmen_core::spec::SpecError>(())
    /// ```
    pub fn hooks_cost(&self) -> Vec<HookCost> {
        let to_ns = |ticks: u64| self.tsc.get().map_or(0, |c| c.delta_as_nanos(0, ticks));
        self.hooks.borrow().iter().map(|h| HookCost::of(&h.name, h.spec.to_string(), &h.cost, to_ns)).collect()
    }

    /// The accounting clock, calibrated on first use (the calibration is process-wide and
    /// shared with `quanta::Instant::now`, so scaled readings compare with the stopwatches').
    fn tsc(&self) -> &quanta::Clock {
        self.tsc.get_or_init(quanta::Clock::new)
    }

    /// A raw clock reading, in ticks.
    #[inline]
    fn ticks(&self) -> u64 {
        self.tsc().raw()
    }

    /// How long this Monitor has existed (the denominator of a hook's share when it runs
    /// outside an experiment).
    pub fn age(&self) -> std::time::Duration {
        self.created.elapsed()
    }

    /// Close every hook (flush files, join writers). Called on drop; safe to call twice.
    /// Hooks learn how the run ended: `error` while a panic unwinds, the interrupt's status
    /// (`stopped`, `timeout`, `requeue`) after [`request_interrupt_as`], else `finished` (with
    /// the stopping hook's message when a hook stopped the loops); [`Monitor::close_with`]
    /// tells them otherwise.
    pub fn close(&self) {
        let interrupt =
            interrupted().then(|| INTERRUPT_REASON.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone());
        let by_hook = self.state.borrow().stopped_by_hook.clone();
        self.close_with(&run_end(std::thread::panicking(), interrupt, by_hook));
    }

    /// Close every hook, telling them how the run ended. Only the first close counts.
    pub fn close_with(&self, end: &RunEnd) {
        if self.closed.replace(true) {
            return;
        }
        let mut fails = Vec::new();
        {
            let mut hooks = self.hooks.borrow_mut();
            let host = HostImpl { m: self };
            let mut mark = self.ticks();
            for slot in hooks.iter_mut().filter(|s| !s.disabled && !s.closed) {
                let r = slot.close(end, &host);
                let now = self.ticks();
                slot.cost.close = now.wrapping_sub(mark);
                mark = now;
                match r {
                    Ok(o) => fails.extend(outcome_notice(slot, o)),
                    Err(f) => fails.extend(failure_notice(slot, f)),
                }
            }
        }
        self.after_firing(fails);
        // After the hooks: what they left with the experiments reaches the disk now.
        self.flush_experiments();
    }

    // ---- firing --------------------------------------------------------------------------

    fn recompute_next_check(&self, t: Trigger) {
        let hooks = self.hooks.borrow();
        let mut st = self.state.borrow_mut();
        let c = st.counters[t.index()];
        let next = self.by_trigger[t.index()]
            .iter()
            .filter(|&&i| !hooks[i].disabled)
            .filter_map(|&i| hooks[i].spec.modulo())
            .map(|m| (c / m + 1).saturating_mul(m))
            .min()
            .unwrap_or(u64::MAX);
        st.next_check[t.index()] = next;
    }

    /// Fire the hooks of trigger `t` that are due. `mark` is a raw clock reading taken just
    /// before (when the stopwatches run); returns the reading that ended the last hook fired.
    fn fire(&self, t: Trigger, mut mark: Option<u64>) -> Option<u64> {
        let counter = self.counter(t);
        let mut fails = Vec::new();
        let mut evals = 0;
        let mut fired = false;
        {
            let mut hooks = self.hooks.borrow_mut();
            let st = self.state.borrow();
            for &i in &self.by_trigger[t.index()] {
                let slot = &mut hooks[i];
                if slot.disabled || !slot.spec.fires_at(t, counter) {
                    continue;
                }
                // One reading per boundary: the end of the previous hook starts this one.
                let start = *mark.get_or_insert_with(|| self.ticks());
                fired = true;
                evals += slot.update_matches(&st.vars.names);
                let r = match &slot.transform {
                    // The matches by index into the Monitor's variables: nothing is collected.
                    None => {
                        let picked = std::mem::take(&mut slot.matched);
                        let vars =
                            VarsView::Indexed { names: &st.vars.names, values: &st.vars.values, picked: &picked };
                        let r = self.call_view(slot, Some(t), vars, &st);
                        slot.matched = picked;
                        r
                    }
                    Some(f) => {
                        let owned: Vec<Value> = slot
                            .matched
                            .iter()
                            .map(|&j| f(&st.vars.names[j], ValueRef::from(&st.vars.values[j])))
                            .collect();
                        let vars: Vec<(&str, ValueRef<'_>)> = slot
                            .matched
                            .iter()
                            .zip(&owned)
                            .map(|(&j, v)| (st.vars.names[j].as_str(), ValueRef::from(v)))
                            .collect();
                        self.call_slot_borrowed(slot, Some(t), &vars, &st)
                    }
                };
                let end = self.ticks();
                slot.cost.record(end.wrapping_sub(start));
                mark = Some(end);
                fails.extend(r);
            }
        }
        self.bump(evals, 0);
        self.recompute_next_check(t);
        self.after_firing(fails);
        mark.filter(|_| fired)
    }

    fn call_slot(&self, slot: &mut HookSlot, t: Option<Trigger>, vars: &[(&str, ValueRef<'_>)]) -> Option<Notice> {
        let st = self.state.borrow();
        self.call_slot_borrowed(slot, t, vars, &st)
    }

    fn call_slot_borrowed(
        &self,
        slot: &mut HookSlot,
        t: Option<Trigger>,
        vars: &[(&str, ValueRef<'_>)],
        st: &State,
    ) -> Option<Notice> {
        self.call_view(slot, t, VarsView::Native(vars), st)
    }

    fn call_view(&self, slot: &mut HookSlot, t: Option<Trigger>, vars: VarsView<'_>, st: &State) -> Option<Notice> {
        let host = HostImpl { m: self };
        let firing = Firing { trigger: t, counters: st.counters, vars, host: &host };
        self.bump(0, 1);
        match slot.call(&firing) {
            Ok(o) => outcome_notice(slot, o),
            Err(f) => failure_notice(slot, f),
        }
    }

    fn bump(&self, evals: u64, calls: u64) {
        let mut s = self.stats.get();
        s.regex_evals += evals;
        s.hook_calls += calls;
        self.stats.set(s);
    }

    fn after_firing(&self, notices: Vec<Notice>) {
        let mut disabled_any = false;
        for n in notices {
            match n {
                Notice::Warn(text) => self.print(&text),
                Notice::Stop(hook, msg) => {
                    self.note_hook_stop(&hook, &msg);
                    self.state.borrow_mut().stopped_by_hook.get_or_insert_with(|| msg.clone());
                    self.stop(&msg)
                }
                Notice::Disabled(text) => {
                    disabled_any = true;
                    self.print(&text)
                }
                Notice::DisabledStop(text, stop) => {
                    disabled_any = true;
                    self.print(&text);
                    self.stop(&stop)
                }
            }
        }
        if let Some(msg) = self.pending_stop.borrow_mut().take() {
            let mut st = self.state.borrow_mut();
            st.stopped = true;
            st.stopped_by_hook.get_or_insert(msg);
        }
        if disabled_any {
            for t in Trigger::ALL {
                self.recompute_next_check(t);
            }
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.close();
    }
}

/// A hook that stopped the run by returning `Outcome::Stop`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookStop {
    /// The hook's name (as configured).
    pub hook: String,
    /// The Monitor's step counter when it stopped the run.
    pub step: u64,
    /// The hook's message.
    pub reason: String,
}

static HOOK_STOP: Mutex<Option<HookStop>> = Mutex::new(None);

/// The first hook stop of this process since the last call, if any: the runner records it as
/// how the run ended (`_end` in params.yml).
pub fn take_hook_stop() -> Option<HookStop> {
    HOOK_STOP.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
}

enum Notice {
    Warn(String),
    /// A hook returned `Outcome::Stop`: its name and message.
    Stop(String, String),
    Disabled(String),
    /// Disabled, then stop the loops with the second message (`on_error: stop`).
    DisabledStop(String, String),
}

fn outcome_notice(slot: &HookSlot, o: Outcome) -> Option<Notice> {
    match o {
        Outcome::Continue => None,
        Outcome::Warn(w) => Some(Notice::Warn(format!("WARNING: hook {}: {w}", slot.describe()))),
        Outcome::Stop(m) => Some(Notice::Stop(slot.name.clone(), m)),
    }
}

fn failure_notice(slot: &mut HookSlot, f: CallFailure) -> Option<Notice> {
    let policy = slot.on_error;
    let text = match f {
        CallFailure::Error(e) if policy == OnError::Warn => {
            let now = std::time::Instant::now();
            let reports = &mut slot.errors;
            return match reports.last {
                None => {
                    reports.last = Some(now);
                    Some(Notice::Warn(format!(
                        "WARNING: hook {} failed: {} (on_error: warn; further failures: at most one line a minute)",
                        slot.describe(),
                        slot::error_text(&e)
                    )))
                }
                Some(at) if now.duration_since(at) < slot::ERROR_REPORT_PERIOD => {
                    reports.pending += 1;
                    None
                }
                Some(_) => {
                    let n = std::mem::take(&mut reports.pending) + 1;
                    reports.last = Some(now);
                    Some(Notice::Warn(format!(
                        "WARNING: hook {} failed {n} more time(s) since the last report; latest: {}",
                        slot.describe(),
                        slot::error_text(&e)
                    )))
                }
            };
        }
        CallFailure::Error(e) => format!(
            "WARNING: hook {} failed and is disabled for the rest of the run (on_error: {}): {}",
            slot.describe(),
            policy.name(),
            slot::error_text(&e)
        ),
        CallFailure::Panic(p) => {
            format!("WARNING: hook {} panicked and is disabled for the rest of the run: {p}", slot.describe())
        }
    };
    slot.disabled = true;
    Some(match policy {
        OnError::Stop => {
            Notice::DisabledStop(text, format!("---- hook {} failed: stopping (on_error: stop) ----", slot.name))
        }
        OnError::Warn | OnError::Disable => Notice::Disabled(text),
    })
}

/// The host services a firing hook sees.
struct HostImpl<'m> {
    m: &'m Monitor,
}

impl Host for HostImpl<'_> {
    fn request(&self, request: Request<'_>) -> Reply {
        const NO_RECORDS: &str = "this Monitor has no experiment records; build it from an experiment run";
        let m = self.m;
        let done = |r: Result<(), String>| r.map_or_else(Reply::Error, |()| Reply::Done);
        match request {
            Request::Print(line) => {
                m.print(line);
                Reply::Done
            }
            Request::Log(text) => {
                m.log(text);
                Reply::Done
            }
            Request::Summary { verbose } => Reply::Summary(m.summary(verbose)),
            Request::Stop(msg) => {
                m.log(msg);
                *m.pending_stop.borrow_mut() = Some(msg.to_owned());
                Reply::Done
            }
            Request::Message { experiment, messages, keep, leader } => match &m.experiments {
                Some(e) => done(e.message(experiment, messages, keep, leader)),
                None => Reply::Error(NO_RECORDS.into()),
            },
            Request::ExperimentInfo(experiment) => {
                Reply::ExperimentInfo(m.experiments.as_ref().and_then(|e| e.info(experiment)))
            }
            Request::UpdateMeta { experiment, meta } => match &m.experiments {
                Some(e) => done(e.update_meta(experiment, meta)),
                None => Reply::Error(NO_RECORDS.into()),
            },
            Request::State(state) => match &m.states {
                Some(s) => s.state(state).map_or_else(Reply::Error, Reply::State),
                None => Reply::Error(
                    "this Monitor has no checkpointable objects; build it with `Monitor::builder()`".into(),
                ),
            },
            Request::MessageWithSummary { experiment, summary, messages, keep, leader } => match &m.experiments {
                Some(e) => done(e.message_with_summary(experiment, summary, messages, keep, leader)),
                None => Reply::Error(NO_RECORDS.into()),
            },
            Request::RunParams { directory } => {
                value_reply(m.experiments.as_ref().and_then(|e| e.run_params(directory)))
            }
            Request::SystemMeta { groups } => value_reply(m.experiments.as_ref().and_then(|e| e.system_meta(groups))),
        }
    }
}

/// The reply of a service answered with a value: `Unsupported` when nobody offers it.
fn value_reply(r: Option<Result<Value, String>>) -> Reply {
    match r {
        Some(Ok(v)) => Reply::Value(v),
        Some(Err(e)) => Reply::Error(e),
        None => Reply::Unsupported,
    }
}

/// Publish local variables into a Monitor's scope under their own names.
///
/// ```
/// use xmen_core::{vars, monitor::{Monitor, MonitorConfig}};
/// let m = Monitor::new(MonitorConfig::default());
/// let (loss, acc) = (0.25, 0.9);
/// vars!(m, loss, acc);
/// assert_eq!(m.get("acc"), Some(xmen_core::Value::Float(0.9)));
/// ```
#[macro_export]
macro_rules! vars {
    ($m:expr, $($name:ident),+ $(,)?) => {{
        $( $m.set(stringify!($name), ::core::clone::Clone::clone(&$name)); )+
    }};
}

#[cfg(test)]
mod tests;

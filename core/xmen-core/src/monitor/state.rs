//! The Monitor's counters, active levels and stopwatches, and the summary built from them.

use crate::pyfmt;
use crate::spec::Trigger;
use crate::value::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A running mean of intervals, like the original's `StopWatch`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Watch {
    /// Completed intervals.
    pub n: u64,
    /// Last interval.
    pub delta: Duration,
    /// Mean interval in seconds.
    pub mean: f64,
    /// Start of the running interval (a TSC-based clock: a step reads it twice).
    pub reference: Option<quanta::Instant>,
}

impl Watch {
    pub fn start(&mut self, now: quanta::Instant) {
        self.reference = Some(now);
    }
    pub fn stop(&mut self, now: quanta::Instant) {
        if let Some(r) = self.reference.take() {
            self.delta = now.saturating_duration_since(r);
            self.n += 1;
            self.mean += (self.delta.as_secs_f64() - self.mean) / self.n as f64;
        }
    }
}

/// One active level: a wrapped loop.
#[derive(Clone, Debug)]
pub(crate) struct Level {
    pub id: u64,
    pub len: Option<u64>,
    /// Items of this loop instance whose body completed.
    pub completed: u64,
    pub created: Instant,
    pub step: Watch,
    pub load: Watch,
}

/// The variable scope: insertion-ordered, values persist until overwritten.
#[derive(Default)]
pub(crate) struct Vars {
    pub names: Vec<String>,
    pub values: Vec<Value>,
    pub index: HashMap<String, usize>,
}

impl Vars {
    pub fn set(&mut self, name: &str, value: Value) {
        if let Some(&i) = self.index.get(name) {
            self.values[i] = value;
        } else {
            self.index.insert(name.to_owned(), self.names.len());
            self.names.push(name.to_owned());
            self.values.push(value);
        }
    }
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.index.get(name).map(|&i| &self.values[i])
    }
}

pub(crate) struct State {
    pub counters: [u64; 5],
    /// Active levels by trigger index (0 = step); the original's `timers` dict.
    pub levels: [Option<Level>; 5],
    pub next_id: u64,
    pub stopped: bool,
    /// The message of the first hook that asked to stop (what `close` tells the hooks).
    pub stopped_by_hook: Option<String>,
    pub limit: Option<(u64, Trigger)>,
    pub timing: bool,
    pub vars: Vars,
    /// Per trigger: the smallest counter at which some modulo hook may fire.
    pub next_check: [u64; 5],
}

impl State {
    pub fn new(limit: Option<(u64, Trigger)>, timing: bool) -> State {
        State {
            counters: [0; 5],
            levels: Default::default(),
            next_id: 1,
            stopped: false,
            stopped_by_hook: None,
            limit,
            timing,
            vars: Vars::default(),
            next_check: [0; 5],
        }
    }

    /// The slot of the level owned by loop `id`.
    pub fn slot_of(&self, id: u64) -> Option<usize> {
        self.levels.iter().position(|l| l.as_ref().is_some_and(|l| l.id == id))
    }

    /// Open a level for a new loop, as the original does: when a `step` level is
    /// active every active level is promoted one up and the new loop becomes `step`;
    /// otherwise it takes the level just below the innermost active one.
    /// Returns `None` when five levels are already in use below it.
    pub fn push_level(&mut self, len: Option<u64>) -> Option<u64> {
        let id = self.next_id;
        self.next_id += 1;
        let now = Instant::now();
        let level = Level { id, len, completed: 0, created: now, step: Watch::default(), load: Watch::default() };
        let slot = if self.levels[0].is_some() {
            if self.levels[4].is_some() {
                return None;
            }
            for i in (1..5).rev() {
                if self.levels[i - 1].is_some() {
                    self.levels[i] = self.levels[i - 1].clone();
                }
            }
            0
        } else {
            match self.levels.iter().position(Option::is_some) {
                None => 0,
                Some(lowest) => lowest - 1,
            }
        };
        self.levels[slot] = Some(level);
        Some(id)
    }

    pub fn pop_level(&mut self, id: u64) {
        if let Some(s) = self.slot_of(id) {
            self.levels[s] = None;
        }
    }

    /// Active level slots, outermost first.
    fn active(&self) -> impl Iterator<Item = (usize, &Level)> {
        (0..5).rev().filter_map(move |i| self.levels[i].as_ref().map(|l| (i, l)))
    }

    /// `n/total` per active level, outermost first; `/total` only when every length
    /// from the outermost to that level is known (the original
    /// crashed or miscounted otherwise).
    pub fn level_entries(&self, mut each: impl FnMut(Trigger, u64, Option<u64>)) {
        let mut total: Option<u64> = Some(1);
        for (i, l) in self.active() {
            total = match (total, l.len) {
                (Some(t), Some(len)) => t.checked_mul(len),
                _ => None,
            };
            let trig = Trigger::from_index(i).unwrap_or(Trigger::Step);
            each(trig, self.counters[i], total);
        }
    }

    /// Write the log prefix `[{last} {levels}]:`.
    pub fn write_prefix(&self, out: &mut String, last: &str) {
        out.push('[');
        out.push_str(last);
        self.level_entries(|_, n, total| {
            out.push(' ');
            push_counter(out, n, total);
        });
        out.push_str("]:");
    }

    /// The ordered summary: `last`, the level entries, `wall`, `end` (the time left, when it can be estimated),
    /// and with `verbose` `next step m_step load m_load`.
    pub fn summary(&self, verbose: bool, last: String) -> Vec<(String, String)> {
        let mut s = vec![("last".to_owned(), last)];
        if self.active().next().is_none() {
            return s;
        }
        self.level_entries(|t, n, total| {
            let mut v = String::with_capacity(24);
            push_counter(&mut v, n, total);
            s.push((t.brief().to_owned(), v));
        });
        let outer = self.active().next().map(|(_, l)| l.created);
        let wall = outer.map(|c| c.elapsed()).unwrap_or_default();
        s.push(("wall".into(), pyfmt::timedelta(wall)));
        // Remaining time for the whole nest: every length known and something done.
        let mut done: u128 = 0;
        let mut total: u128 = 1;
        let mut all_known = true;
        for (_, l) in self.active() {
            match l.len {
                Some(len) => {
                    done = done * u128::from(len) + u128::from(l.completed);
                    total *= u128::from(len);
                }
                None => {
                    all_known = false;
                    break;
                }
            }
        }
        if all_known && done > 0 {
            let left = wall.as_secs_f64() / done as f64 * (total.saturating_sub(done)) as f64;
            s.push(("end".into(), pyfmt::timedelta(Duration::from_secs_f64(left.max(0.0)))));
        }
        if verbose && self.timing {
            if let Some(l) = self.levels.iter().flatten().next() {
                if l.step.n > 0 {
                    if let Some(len) = l.len {
                        let next = (l.step.mean + l.load.mean) * len.saturating_sub(l.completed) as f64;
                        s.push(("next".into(), pyfmt::timedelta(Duration::from_secs_f64(next.max(0.0)))));
                    }
                    s.push(("step".into(), pyfmt::timedelta(l.step.delta)));
                    s.push(("m_step".into(), pyfmt::timedelta(Duration::from_secs_f64(l.step.mean))));
                    s.push(("load".into(), pyfmt::timedelta(l.load.delta)));
                    s.push(("m_load".into(), pyfmt::timedelta(Duration::from_secs_f64(l.load.mean))));
                }
            }
        }
        s
    }
}

/// `last`: local time as `%I:%M%p %d/%m/%y`, formatted at most once a minute.
#[derive(Default)]
pub(crate) struct LastClock {
    deadline: Option<Instant>,
    text: String,
}

impl LastClock {
    pub fn get(&mut self) -> &str {
        let now = Instant::now();
        if self.deadline.is_none_or(|d| now >= d) {
            use chrono::Timelike;
            let local = chrono::Local::now();
            self.text = local.format(pyfmt::LAST_FORMAT).to_string();
            let into_minute = Duration::from_secs(u64::from(local.second()))
                + Duration::from_nanos(u64::from(local.nanosecond() % 1_000_000_000));
            self.deadline = Some(now + Duration::from_secs(60).saturating_sub(into_minute));
        }
        &self.text
    }
}

/// `n/total`, or `n` when the total is unknown, with the digits written by hand (`write!`
/// costs hundreds of instructions, and the Messenger asks for a summary at every firing).
fn push_counter(out: &mut String, n: u64, total: Option<u64>) {
    push_decimal(out, n);
    if let Some(t) = total {
        out.push('/');
        push_decimal(out, t);
    }
}

fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // ASCII digits: one copy rather than a `char` push (with its UTF-8 encoding) per digit.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::push_counter;

    #[test]
    fn counters_print_as_display_would() {
        for (n, total) in [(0, None), (7, None), (12, Some(100)), (u64::MAX, Some(u64::MAX)), (10, Some(10))] {
            let mut got = String::new();
            push_counter(&mut got, n, total);
            let want = total.map_or_else(|| n.to_string(), |t| format!("{n}/{t}"));
            assert_eq!(got, want);
        }
    }
}

//! CPU usage between firings (issue 13 item 8), from the kernel's per-core tick counters.
//!
//! A usage is a ratio of two readings: busy ticks over all ticks of each core between them.
//! The probe takes its first reading when it is built (the Monitor starting) and one at each
//! firing, so a firing reports the usage since the previous one. The counters advance in ticks
//! (`USER_HZ`, 100 per second), so a window shorter than a few ticks holds no measurement: such
//! a firing keeps the earlier reading as its start (the next firing then covers both windows)
//! and repeats the last measurement, or says the usage is unknown (`?`) when nothing could be
//! measured yet. Reporting `0.0%` there, as the probe did, claimed an idle machine during a
//! busy loop.
//!
//! Only `std`: the counters are read from `/proc/stat`; elsewhere there is no usage.

/// Ticks per core a window needs before its usage means something (30 ms at 100 Hz).
const MIN_TICKS_PER_CORE: u64 = 3;

/// One reading of a core's counters: (busy, total) ticks since boot.
type Reading = Vec<(u64, u64)>;

/// Per-core usage since the previous measurable reading.
#[derive(Debug, Default)]
pub struct CpuUsage {
    start: Option<Reading>,
    last: Option<Vec<f64>>,
}

/// The `cpuN` lines of `/proc/stat` as (busy, total) ticks; `None` when unreadable.
fn read() -> Option<Reading> {
    parse(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// Parse the per-core lines of `/proc/stat` text: `cpuN user nice system idle iowait irq
/// softirq steal guest guest_nice` (guest time is already inside user and nice).
pub fn parse(text: &str) -> Option<Reading> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let Some(name) = f.next() else { continue };
        if !name.starts_with("cpu") || name == "cpu" {
            continue;
        }
        let v: Vec<u64> = f.take(8).map(|x| x.parse().unwrap_or(0)).collect();
        if v.len() < 4 {
            continue;
        }
        let idle = v[3] + v.get(4).copied().unwrap_or(0);
        let total: u64 = v.iter().sum();
        out.push((total - idle, total));
    }
    (!out.is_empty()).then_some(out)
}

/// Busy percentage of each core between two readings; `None` when the window is too short.
pub fn between(start: &Reading, end: &Reading) -> Option<Vec<f64>> {
    if start.len() != end.len() || end.is_empty() {
        return None; // cores came or went: start over
    }
    let deltas: Vec<(u64, u64)> =
        start.iter().zip(end).map(|(s, e)| (e.0.saturating_sub(s.0), e.1.saturating_sub(s.1))).collect();
    let ticks: u64 = deltas.iter().map(|d| d.1).sum();
    if ticks < MIN_TICKS_PER_CORE * deltas.len() as u64 {
        return None;
    }
    Some(deltas.iter().map(|(b, t)| if *t == 0 { 0.0 } else { (*b as f64 / *t as f64 * 100.0).min(100.0) }).collect())
}

impl CpuUsage {
    /// Start measuring now.
    pub fn start() -> CpuUsage {
        CpuUsage { start: read(), last: None }
    }

    /// Per-core usage in percent since the previous measurable sample (see the module docs);
    /// `None` when nothing could be measured yet.
    pub fn sample(&mut self) -> Option<Vec<f64>> {
        let Some(now) = read() else { return self.last.clone() };
        match self.start.as_ref().and_then(|s| between(s, &now)) {
            Some(usage) => {
                self.start = Some(now);
                self.last = Some(usage);
            }
            None if self.start.as_ref().is_none_or(|s| s.len() != now.len()) => self.start = Some(now),
            None => {}
        }
        self.last.clone()
    }
}

/// `12.5%`, one decimal, like the rest of `_meta`.
pub fn percent(v: f64) -> String {
    format!("{v:.1}%")
}

/// The mean of per-core usages.
pub fn mean(usage: &[f64]) -> f64 {
    if usage.is_empty() {
        0.0
    } else {
        usage.iter().sum::<f64>() / usage.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_share_of_each_core_between_readings() {
        let a =
            parse("cpu  9 0 9 9 0 0 0 0 0 0\ncpu0 100 0 50 800 50 0 0 0 0 0\ncpu1 10 0 0 990 0 0 0 0 0 0\nintr 5\n");
        let b = parse("cpu  9 0 9 9 0 0 0 0 0 0\ncpu0 180 0 60 800 60 0 0 0 0 0\ncpu1 10 0 0 1090 0 0 0 0 0 0\n");
        let (Some(a), Some(b)) = (a, b) else { panic!("unparsed") };
        assert_eq!(a, vec![(150, 1000), (10, 1000)]);
        assert_eq!(between(&a, &b), Some(vec![90.0, 0.0]));
        // a window of fewer than 3 ticks per core measures nothing
        let c = vec![(151, 1002), (10, 1002)];
        assert_eq!(between(&a, &c), None);
        assert_eq!(between(&a, &vec![(1, 1)]), None);
        assert_eq!(mean(&[90.0, 0.0]), 45.0);
        assert_eq!(percent(12.345), "12.3%");
    }
}

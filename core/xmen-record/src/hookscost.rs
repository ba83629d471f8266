//! What each hook cost the training thread (issue 15): the `_hooks_cost` key of params.yml.
//!
//! A run's Monitors time every firing of every hook entry (see `xmen_core::monitor::cost`);
//! when the run ends, the runner stores one map per entry under `_hooks_cost`, keyed by the
//! hook's name (`logger`, then `logger_2` for a second logger entry, ...), so that `xmen list
//! -f "_hooks_cost_logger_share>0.01"` and `xmen hooks cost RUN` read it back. Durations are
//! seconds; `share` is the part of the run's wall time the entry's firings took. It is a plain
//! `_` key, so any reader (the original included) keeps it verbatim.

use std::time::Duration;

use xmen_core::monitor::HookCost;
use xmen_core::Value;

use crate::record::{Extra, Record};

/// The key in params.yml.
pub const HOOKS_COST_KEY: &str = "_hooks_cost";
const HOOKS_COST_HELP: &str =
    "What each hook's firings cost the training thread (seconds; share of the run's wall time)";

/// One hook entry's cost, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct HookCostEntry {
    /// The key of the entry under `_hooks_cost` (the hook's name, made unique).
    pub key: String,
    /// The hook's name.
    pub hook: String,
    /// Its spec.
    pub spec: String,
    /// How many times it fired.
    pub firings: u64,
    /// Seconds its firings took.
    pub total: f64,
    /// `total` over the run's wall time.
    pub share: f64,
    /// The longest firing, in seconds.
    pub max: f64,
    /// The median firing, in seconds.
    pub p50: f64,
    /// The 99th-percentile firing, in seconds.
    pub p99: f64,
    /// Seconds its `close` took.
    pub close: f64,
}

impl HookCostEntry {
    /// The entries of some Monitors' [`HookCost`]s over a run of `wall` time, keyed by hook
    /// name (`logger`, `logger_2`, ...).
    pub fn from_costs<'a>(costs: impl IntoIterator<Item = &'a HookCost>, wall: Duration) -> Vec<HookCostEntry> {
        let wall = wall.as_secs_f64();
        let mut out: Vec<HookCostEntry> = Vec::new();
        for c in costs {
            let base = if c.hook.is_empty() { "hook".to_owned() } else { c.hook.clone() };
            let mut key = base.clone();
            let mut n = 1;
            while out.iter().any(|e| e.key == key) {
                n += 1;
                key = format!("{base}_{n}");
            }
            let total = c.total.as_secs_f64();
            out.push(HookCostEntry {
                key,
                hook: c.hook.clone(),
                spec: c.spec.clone(),
                firings: c.firings,
                total,
                share: if wall > 0.0 { significant(total / wall, 4) } else { 0.0 },
                max: c.max.as_secs_f64(),
                p50: c.p50.as_secs_f64(),
                p99: c.p99.as_secs_f64(),
                close: c.close.as_secs_f64(),
            });
        }
        out
    }

    fn to_value(&self) -> Value {
        let f = |k: &str, v: f64| (k.to_owned(), Value::Float(v));
        Value::Map(vec![
            ("hook".to_owned(), Value::Str(self.hook.clone())),
            ("spec".to_owned(), Value::Str(self.spec.clone())),
            ("firings".to_owned(), Value::Int(i64::try_from(self.firings).unwrap_or(i64::MAX))),
            f("total", self.total),
            f("share", self.share),
            f("max", self.max),
            f("p50", self.p50),
            f("p99", self.p99),
            f("close", self.close),
        ])
    }

    fn from_value(key: &str, v: &Value) -> Option<HookCostEntry> {
        let Value::Map(m) = v else { return None };
        let get = |k: &str| m.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        let num = |k: &str| match get(k) {
            Some(Value::Float(f)) => *f,
            Some(Value::Int(i)) => *i as f64,
            _ => 0.0,
        };
        let text = |k: &str| match get(k) {
            Some(Value::Str(s)) => s.clone(),
            _ => String::new(),
        };
        Some(HookCostEntry {
            key: key.to_owned(),
            hook: text("hook"),
            spec: text("spec"),
            firings: match get("firings") {
                Some(Value::Int(i)) => u64::try_from(*i).unwrap_or(0),
                _ => 0,
            },
            total: num("total"),
            share: num("share"),
            max: num("max"),
            p50: num("p50"),
            p99: num("p99"),
            close: num("close"),
        })
    }
}

/// `x` rounded to `digits` significant digits (a share needs no more, and reads better).
fn significant(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// Store `entries` as the record's `_hooks_cost`, replacing what an earlier run left; no
/// entries removes the key.
pub fn store(rec: &mut Record, entries: &[HookCostEntry]) {
    if entries.is_empty() {
        rec.extra.retain(|e| e.key != HOOKS_COST_KEY);
        return;
    }
    let value = Value::Map(entries.iter().map(|e| (e.key.clone(), e.to_value())).collect());
    match rec.extra.iter_mut().find(|e| e.key == HOOKS_COST_KEY) {
        Some(e) => e.value = value,
        None => rec.extra.push(Extra { key: HOOKS_COST_KEY.to_owned(), value, comment: HOOKS_COST_HELP.to_owned() }),
    }
}

/// The record's `_hooks_cost` entries, in stored order (empty when it has none).
pub fn of(rec: &Record) -> Vec<HookCostEntry> {
    match rec.extra.iter().find(|e| e.key == HOOKS_COST_KEY).map(|e| &e.value) {
        Some(Value::Map(m)) => m.iter().filter_map(|(k, v)| HookCostEntry::from_value(k, v)).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(hook: &str, ms: u64) -> HookCost {
        let d = Duration::from_millis(ms);
        HookCost {
            hook: hook.into(),
            spec: "loss@10s".into(),
            firings: 10,
            total: d,
            max: d / 5,
            p50: d / 10,
            p99: d / 6,
            close: Duration::ZERO,
        }
    }

    #[test]
    fn entries_round_trip_through_params_yml_with_unique_keys() {
        let costs = [cost("logger", 100), cost("timer", 10), cost("logger", 50)];
        let entries = HookCostEntry::from_costs(&costs, Duration::from_secs(10));
        let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["logger", "timer", "logger_2"]);
        assert!((entries[0].share - 0.01).abs() < 1e-12 && (entries[0].total - 0.1).abs() < 1e-12);
        assert_eq!([significant(0.045535449257, 4), significant(2.0e-7 / 3.0, 4)], [0.04554, 6.667e-8]);
        let mut rec = Record::default();
        store(&mut rec, &entries);
        let text = rec.to_params_yaml().unwrap_or_default();
        assert!(text.contains("_hooks_cost:") && text.contains("logger_2:"), "{text}");
        let back = Record::from_yaml_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(of(&back), entries);
        // a later run replaces the entries; none removes the key
        store(&mut rec, &entries[..1]);
        assert_eq!(of(&rec).len(), 1);
        assert_eq!(rec.extra.iter().filter(|e| e.key == HOOKS_COST_KEY).count(), 1);
        store(&mut rec, &[]);
        assert!(of(&rec).is_empty() && rec.extra.is_empty());
    }
}

//! Hot paths of the Monitor: a step where no hook fires (with and without
//! stopwatches), and a step where in-process hooks fire: one with 5 matched variables, and four
//! in a row (each firing is timed for `hooks_cost`: one clock read per boundary, so a step of
//! four firings reads the clock five times).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::io::sink;
use xmen_core::hook::{Firing, Hook, HookResult, Needs, Outcome};
use xmen_core::monitor::cost::CostStats;
use xmen_core::monitor::{HookSlot, Monitor, MonitorConfig, Output};
use xmen_core::spec::Spec;

struct Noop {
    timing: bool,
}
impl Hook for Noop {
    fn call(&mut self, f: &Firing<'_>) -> HookResult {
        black_box(f.len());
        Ok(Outcome::Continue)
    }
    fn needs(&self) -> Needs {
        Needs { timing: self.timing }
    }
}

fn monitor(spec: &str, timing: bool) -> Monitor {
    Monitor::new(MonitorConfig {
        hooks: vec![HookSlot::native("noop", Spec::parse(spec).unwrap(), Box::new(Noop { timing }))],
        output: Some(Output::Writer(Box::new(sink()))),
        ..Default::default()
    })
}

fn steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("monitor_step");
    for (name, timing) in [("no_fire_untimed", false), ("no_fire_timed", true)] {
        let m = monitor("loss@1000000000s", timing);
        g.bench_function(name, |b| {
            // One long loop; each iteration of the bench is one Monitor step.
            let mut it = m.iter(0..u64::MAX);
            b.iter(|| black_box(it.next()))
        });
    }
    let m = monitor("v@1s", false);
    for i in 0..5 {
        m.set(&format!("v{i}"), i as f64);
    }
    g.bench_function("fire_native_5_vars", |b| {
        let mut it = m.iter(0..u64::MAX);
        b.iter(|| black_box(it.next()))
    });
    let m = Monitor::new(MonitorConfig {
        hooks: (0..4)
            .map(|_| HookSlot::native("noop", Spec::parse("v@1s").unwrap(), Box::new(Noop { timing: false })))
            .collect(),
        output: Some(Output::Writer(Box::new(sink()))),
        ..Default::default()
    });
    m.set("v", 1.0);
    g.bench_function("fire_native_4_hooks", |b| {
        let mut it = m.iter(0..u64::MAX);
        b.iter(|| black_box(it.next()))
    });
    g.finish();
}

/// What the cost accounting adds to one firing: one clock reading (the boundary that ends this
/// hook and starts the next) and one record (a store into the hook's buffer; every 32nd record
/// folds the buffer into the counters and the histogram). Compare with the reading alone, measured
/// in the same minute: the difference is what the record adds.
fn accounting(c: &mut Criterion) {
    let mut g = c.benchmark_group("hooks_cost");
    let mut stats = CostStats::default();
    let clock = quanta::Clock::new();
    let mut last = clock.raw();
    g.bench_function("per_firing", |b| {
        b.iter(|| {
            let now = clock.raw();
            stats.record(now.wrapping_sub(last));
            last = now;
        })
    });
    black_box(&stats);
    g.bench_function("clock_read_alone", |b| b.iter(|| black_box(clock.raw())));
    g.finish();
}

criterion_group!(benches, steps, accounting);
criterion_main!(benches);

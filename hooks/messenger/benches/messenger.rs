//! The Messenger's cost: one firing with 5 payload variables (keep=min, a leader), on the
//! training thread (the record's writer thread writes params.yml at most once a second); and
//! the steps per second of a loop messaging
//! every 10 steps against the same loop without the Messenger (printed, and measured per step
//! under criterion).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Instant;
use xmen::{Keep, Monitor, Root, Spec};
use xmen_hook_messenger::Messenger;

fn messenger(spec: &str) -> Messenger {
    Messenger::new(&Spec::parse(spec).unwrap(), Keep::Min, Some("^loss$"), false, false).unwrap()
}

fn monitor(spec: Option<&str>) -> Monitor {
    let b = Monitor::builder().output(std::io::sink());
    match spec {
        Some(s) => b.hook_at(s, messenger(s)).build().unwrap(),
        None => b.build().unwrap(),
    }
}

fn publish(m: &Monitor, i: u64) {
    m.set("loss", 1.0 / (i as f64 + 1.0));
    m.set("acc", 0.5);
    m.set("lr", 1e-3);
    m.set("grad", 0.1);
    m.set("epoch_loss", 0.2);
}

fn firing(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    std::env::set_var("XMEN", tmp.path().join("config"));
    let ex = Root::create("ex", tmp.path().join("ex"), "").unwrap();
    let m = monitor(Some("loss|acc|lr|grad|epoch_loss->ex@1s"));
    m.set("ex", &ex);
    let mut it = m.iter(0..u64::MAX);
    let mut i = 0;
    c.bench_function("messenger_fire_5_vars_min_leader", |b| {
        b.iter(|| {
            publish(&m, i);
            i += 1;
            black_box(it.next())
        })
    });
    drop(it);

    // Steps per second, messaging every 10 steps, with and without the Messenger.
    let steps = 20_000u64;
    let rate = |spec: Option<&str>| {
        let m = monitor(spec);
        m.set("ex", &ex);
        let t = Instant::now();
        for i in m.iter(0..steps) {
            publish(&m, i);
        }
        steps as f64 / t.elapsed().as_secs_f64()
    };
    let with = rate(Some("loss|acc|lr|grad|epoch_loss->ex@10s"));
    let without = rate(None);
    println!("steps/s messaging every 10 steps: {with:.0}; without the Messenger: {without:.0}");

    // The same loop under criterion (issue 15's table): one iteration is one step publishing 5
    // values, the Messenger firing every 10th; steps/s is 1e9 over the mean in nanoseconds.
    let m = monitor(Some("loss|acc|lr|grad|epoch_loss->ex@10s"));
    m.set("ex", &ex);
    let mut it = m.iter(0..u64::MAX);
    let mut i = 0;
    c.bench_function("messenger_every_10_steps_per_step", |b| {
        b.iter(|| {
            publish(&m, i);
            i += 1;
            black_box(it.next())
        })
    });
}

criterion_group!(benches, firing);
criterion_main!(benches);

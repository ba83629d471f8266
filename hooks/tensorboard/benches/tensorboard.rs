//! Scalars through the Monitor and the TensorBoard hook: a firing carrying 100
//! scalars every step.
//!
//! - `fire_100_scalars/*`: the training thread's cost of one step (the Monitor's
//!   firing, the copy into the queue), with back-pressure, so it can never be faster
//!   than the writer sustains; and with a huge dropping queue, the pure training-thread
//!   cost.
//! - `to_disk_100_scalars/cdylib`: end to end, N firings then close (flush), in
//!   scalars per second written to disk.
//!
//! Compare with `benches/tensorboardx_scalars.py` (Python tensorboardX, same workload).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use xmen::hooks::{HookConfig, Loader, SearchPath};
use xmen::{Monitor, NewHook, Options, Spec, Value};
use xmen_hook_tensorboard::TensorBoard;

const VARS: usize = 100;

fn so_dir() -> Option<PathBuf> {
    // The bench runs from target/<profile>/deps; cargo leaves this package's cdylib beside it or one up.
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?.to_path_buf();
    let up = deps.parent()?.to_path_buf();
    [deps, up].into_iter().find(|d| d.join(xmen::hooks::library_file_name("tensorboard")).is_file())
}

fn options(dir: &Path, on_full: &str, queue: i64) -> Vec<(String, Value)> {
    vec![
        ("quiet".into(), Value::from(true)),
        ("directory".into(), Value::from(dir.to_str().unwrap())),
        ("on_full".into(), Value::from(on_full)),
        ("queue".into(), Value::from(queue)),
        ("hparams".into(), Value::from(false)),
    ]
}

fn monitor(dir: &Path, cdylib: Option<&Path>, on_full: &str, queue: i64) -> Monitor {
    let b = Monitor::builder().output(std::io::sink());
    let b = match cdylib {
        Some(so) => {
            let mut cfg = HookConfig::new("tensorboard", "^v@1s");
            cfg.options = options(dir, on_full, queue);
            b.loader(Loader::new(SearchPath::new(vec![so.to_path_buf()]))).hooks([cfg])
        }
        None => {
            let o = options(dir, on_full, queue);
            let hook = TensorBoard::new(&Spec::parse("^v@1s").unwrap(), &Options::new(&o)).unwrap();
            b.hook_at("^v@1s", hook)
        }
    };
    let m = b.build().unwrap();
    for k in 0..VARS {
        m.set(&format!("v{k:02}"), k as f64 * 0.5);
    }
    m
}

fn fire(c: &mut Criterion) {
    let so = so_dir();
    if so.is_none() {
        eprintln!("libxmen_hook_tensorboard.so not found beside the bench; measuring the in-process hook only");
    }
    let mut g = c.benchmark_group("fire_100_scalars");
    g.throughput(Throughput::Elements(VARS as u64));
    let cases: Vec<(&str, Option<&Path>, &str, i64)> = match &so {
        Some(so) => vec![
            ("cdylib_back_pressure", Some(so.as_path()), "block", 1024),
            ("cdylib_drop_huge_queue", Some(so.as_path()), "drop", 1 << 22),
            ("in_process_back_pressure", None, "block", 1024),
        ],
        None => vec![("in_process_back_pressure", None, "block", 1024)],
    };
    for (name, so, on_full, queue) in cases {
        let dir = tempfile::tempdir().unwrap();
        let m = monitor(dir.path(), so, on_full, queue);
        g.bench_function(name, |b| {
            let mut it = m.iter(0..u64::MAX);
            b.iter(|| black_box(it.next()))
        });
        drop(m);
    }
    // The Monitor alone (no hook): what the hook adds is the difference.
    let m = Monitor::builder().output(std::io::sink()).build().unwrap();
    for k in 0..VARS {
        m.set(&format!("v{k:02}"), k as f64);
    }
    g.bench_function("monitor_without_hooks", |b| {
        let mut it = m.iter(0..u64::MAX);
        b.iter(|| black_box(it.next()))
    });
    g.finish();

    let mut g = c.benchmark_group("to_disk_100_scalars");
    g.throughput(Throughput::Elements(VARS as u64));
    g.sample_size(10);
    let so = so.as_deref();
    g.bench_function(if so.is_some() { "cdylib" } else { "in_process" }, |b| {
        b.iter_custom(|iters| {
            let dir = tempfile::tempdir().unwrap();
            let m = monitor(dir.path(), so, "block", 1024);
            let start = Instant::now();
            for _ in m.iter(0..iters) {}
            drop(m); // close: flush and join
            let t = start.elapsed();
            // Sanity: everything reached the disk.
            let size: u64 = std::fs::read_dir(dir.path().join("summaries")).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
            assert!(size >= iters * VARS as u64 * 10);
            t.max(Duration::from_nanos(1))
        })
    });
    g.finish();
}

criterion_group!(benches, fire);
criterion_main!(benches);

//! Scalars through the Monitor and the TensorBoard hook: a firing carrying 100
//! scalars every step.
//!
//! - `fire_100_scalars/*`: one step (the Monitor's firing, the copy into the queue)
//!   back to back, with back-pressure, so it is never faster than the writer sustains;
//!   `*_paced`: the training thread's own cost, measured in bursts the writer keeps up with;
//!   `in_process_noop_hook`: the Monitor handing the 100 variables to a hook doing nothing.
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
        // The training thread's own cost: firings timed in bursts of 32, with an untimed
        // pause after each burst in which the writer catches up (as it does between the
        // milliseconds-long steps of real training), so no back-pressure is measured.
        g.bench_function(format!("{name}_paced"), |b| {
            let mut it = m.iter(0..u64::MAX);
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(32);
                    let start = Instant::now();
                    for _ in 0..n {
                        black_box(it.next());
                    }
                    total += start.elapsed();
                    left -= n;
                    std::thread::sleep(Duration::from_millis(3));
                }
                total
            })
        });
        drop(m);
    }
    // The Monitor handing the same 100 variables to a hook that does nothing: what the
    // TensorBoard hook adds is the difference.
    struct Noop;
    impl xmen::Hook for Noop {
        fn call(&mut self, f: &xmen::Firing<'_>) -> xmen::HookResult {
            black_box(f.vars().count());
            Ok(xmen::Outcome::Continue)
        }
    }
    let m = Monitor::builder().output(std::io::sink()).hook_at("^v@1s", Noop).build().unwrap();
    for k in 0..VARS {
        m.set(&format!("v{k:02}"), k as f64);
    }
    g.bench_function("in_process_noop_hook", |b| {
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
            let size: u64 = std::fs::read_dir(dir.path().join("summaries"))
                .unwrap()
                .map(|e| e.unwrap().metadata().unwrap().len())
                .sum();
            assert!(size >= iters * VARS as u64 * 10);
            t.max(Duration::from_nanos(1))
        })
    });
    g.finish();
}

criterion_group!(benches, fire);
criterion_main!(benches);

//! A Monitor step where a hook fires with 5 matched variables and does nothing:
//! in-process, and from its `cdylib` through the stable ABI.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::path::PathBuf;
use xmen::hooks::{HookConfig, Loader, SearchPath};
use xmen::Monitor;
use xmen_hook_bench_noop::Noop;

fn so_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?.to_path_buf();
    let up = deps.parent()?.to_path_buf();
    [deps, up].into_iter().find(|d| d.join(xmen::hooks::library_file_name("bench_noop")).is_file())
}

fn publish(m: &Monitor) {
    for i in 0..5 {
        m.set(&format!("v{i}"), i as f64);
    }
}

fn dispatch(c: &mut Criterion) {
    let mut g = c.benchmark_group("fire_5_vars");
    let m = Monitor::builder().hook_at("v@1s", Noop).output(std::io::sink()).build().unwrap();
    publish(&m);
    g.bench_function("in_process", |b| {
        let mut it = m.iter(0..u64::MAX);
        b.iter(|| black_box(it.next()))
    });
    let dir = so_dir().expect("cargo bench builds libxmen_hook_bench_noop.so beside the bench");
    let m = Monitor::builder()
        .loader(Loader::new(SearchPath::new(vec![dir])))
        .hooks([HookConfig::new("bench-noop", "v@1s")])
        .output(std::io::sink())
        .build()
        .unwrap();
    publish(&m);
    g.bench_function("cdylib", |b| {
        let mut it = m.iter(0..u64::MAX);
        b.iter(|| black_box(it.next()))
    });
    g.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);

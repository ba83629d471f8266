//! A Logger firing into a sink: in-process (rlib) and through the stable ABI (the
//! `libxmen_hook_logger.so` that `cargo bench` builds beside this bench).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::io::sink;
use std::path::PathBuf;
use xmen::hooks::{HookConfig, Loader, SearchPath};
use xmen::Monitor;
use xmen_hook_logger::Logger;

fn so_dir() -> Option<PathBuf> {
    // The bench runs from target/<profile>/deps, where cargo leaves this package's cdylib.
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?.to_path_buf();
    let up = deps.parent()?.to_path_buf();
    [deps, up].into_iter().find(|d| d.join(xmen::hooks::library_file_name("logger")).is_file())
}

fn logger(c: &mut Criterion) {
    let mut g = c.benchmark_group("logger_fire");
    let m =
        Monitor::builder().hook_at("loss|acc@1s", Logger::new(".4f", None).unwrap()).output(sink()).build().unwrap();
    m.set("loss", 0.123456);
    m.set("acc", 0.9);
    g.bench_function("in_process_2_vars", |b| {
        let mut it = m.iter(0..u64::MAX);
        b.iter(|| black_box(it.next()))
    });
    if let Some(dir) = so_dir() {
        let m = Monitor::builder()
            .loader(Loader::new(SearchPath::new(vec![dir])))
            .hooks([HookConfig::new("logger", "loss|acc@1s").option("format", ".4f")])
            .output(sink())
            .build()
            .unwrap();
        m.set("loss", 0.123456);
        m.set("acc", 0.9);
        g.bench_function("cdylib_2_vars", |b| {
            let mut it = m.iter(0..u64::MAX);
            b.iter(|| black_box(it.next()))
        });
    } else {
        eprintln!("libxmen_hook_logger.so not found beside the bench; skipping the cdylib case");
    }
    g.finish();
}

criterion_group!(benches, logger);
criterion_main!(benches);

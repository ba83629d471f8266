//! `xmen ui`'s two hot paths, timed without the HTTP layer (what a request runs after the
//! guard): the first page of the runs table over 10,000 runs (warm list index, the default
//! status and messages columns, and with a filter and a sort), and one chart of a run whose
//! event file holds 1,000,000 points (the reader warm: what every refresh after the first
//! costs; and cold: the first view after the server starts).
//!
//! `cargo bench -p xmen-ui --bench ui`. The runs are generated once into a temporary folder,
//! outside the timed region.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use xmen_ui::curves::{self, CurveOpts};
use xmen_ui::html::Query;
use xmen_ui::{table, App};

/// A params.yml as a finished run leaves it, with 20 parameters and two messages.
fn params(root: &str, i: usize) -> String {
    let mut s = String::with_capacity(1600);
    let status = ["finished", "error", "registered", "finished"][i % 4];
    let _ = write!(
        s,
        "_root: {root}\n_status: {status}\n_purpose: bench\n_notes:\n_user: tester\n_host: testhost\n\
         _timestamps:\n  created: 26-11-27-17-59-25-{i:06}\n  registered: 26-11-27-17-59-25-{i:06}\n\
         _messages:\n  loss: {}\n  step_best: {}\n_version:\n  path: /data/examples\n",
        1.0 / (i as f64 + 1.0),
        i % 100
    );
    let _ = writeln!(s, "lr: {}", [0.1, 0.01, 0.001, 0.0001][i % 4]);
    let _ = writeln!(s, "batch: {}", 16 << (i % 3));
    for p in 0..18 {
        let _ = writeln!(s, "p{p}: {}", (i * 31 + p) % 97);
    }
    s
}

/// `n` runs in sets of 1,000 and an xmen.yml linking them.
fn generate(dir: &Path, n: usize) -> PathBuf {
    let cfg = dir.join("cfg");
    let mut linked = String::from("linked:\n");
    for i in 0..n {
        let folder = dir.join(format!("set{}", i / 1000)).join(format!("lr={}__i={i}", i % 4));
        let _ = fs::create_dir_all(&folder);
        let root = folder.display().to_string();
        let _ = fs::write(folder.join("params.yml"), params(&root, i));
        let _ = writeln!(linked, "- {root}");
    }
    let _ = fs::create_dir_all(&cfg);
    let _ = fs::write(cfg.join("xmen.yml"), linked);
    cfg
}

/// A run whose event file holds `n` points of `loss` (and `n / 10` of `acc`).
fn run_with_points(dir: &Path, n: usize) -> PathBuf {
    let folder = dir.join("curves").join("big");
    let summaries = folder.join("summaries");
    let _ = fs::create_dir_all(&summaries);
    let mut bytes = Vec::with_capacity(n * 48);
    let (mut event, tags, acc) = (Vec::new(), ["loss".to_owned()], ["acc".to_owned()]);
    for i in 0..n {
        let x = i as f64;
        event.clear();
        xmen_tfevents::encode_scalar_event(
            &mut event,
            1.7e9 + x * 0.01,
            i as i64,
            &tags,
            &[(1.0 / (1.0 + x / 1e4) + (x * 0.37).sin() * 0.05) as f32],
        );
        xmen_tfevents::frame(&mut bytes, &event);
        if i % 10 == 0 {
            event.clear();
            xmen_tfevents::encode_scalar_event(&mut event, 1.7e9 + x * 0.01, i as i64, &acc, &[(x / n as f64) as f32]);
            xmen_tfevents::frame(&mut bytes, &event);
        }
    }
    let _ = fs::write(summaries.join("events.out.tfevents.1700000000.bench.1.0"), bytes);
    folder
}

fn app(cfg: &Path, token: &str) -> App {
    App::new(cfg.to_path_buf(), &[], Path::new("/"), token.to_owned(), vec!["127.0.0.1:1".into()])
}

fn bench(c: &mut Criterion) {
    let Ok(tmp) = tempfile::tempdir() else { return };
    let cfg = generate(tmp.path(), 10_000);
    let a = app(&cfg, "bench-token-0123456789");
    let first = Query::default();
    let filtered = Query::parse(Some("v=1&show=s&show=m&f=lr%3C0.01%3B+p3%3E10&sort=-loss"));
    // Warm the index (the first listing parses every params.yml and writes it), outside the timing.
    let _ = table::page(&a, &first);
    let mut g = c.benchmark_group("ui");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.bench_function("table_first_page_10000_runs", |b| b.iter(|| table::page(&a, &first).map(|p| p.len())));
    g.bench_function("table_filtered_sorted_10000_runs", |b| b.iter(|| table::page(&a, &filtered).map(|p| p.len())));

    let folder = run_with_points(tmp.path(), 1_000_000);
    let runs = vec![(folder.clone(), "big".to_owned())];
    let opts = CurveOpts::from_query(&Query::parse(Some("smooth=0.6")));
    let _ = curves::charts_html(&a, &runs, opts);
    g.bench_function("chart_1000000_points_warm", |b| b.iter(|| curves::charts_html(&a, &runs, opts).len()));
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    g.bench_function("chart_1000000_points_cold_read", |b| {
        b.iter(|| {
            let fresh = app(&cfg, "bench-token-0123456789");
            curves::charts_html(&fresh, &runs, opts).len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

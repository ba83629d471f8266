//! `xmen list` with one filter over 1,000 and 100,000 synthetic experiments: a cold run (no
//! index: every params.yml parsed, the index written) and a warm run (index present, files
//! unchanged). The timed body is what the command does after parsing its arguments: read
//! `$XMEN/xmen.yml`, select the linked folders, list through the index, render the table.
//!
//! `cargo bench -p xmen-manager --bench list`. The folders are generated once per size into a
//! temporary folder with plain writes, outside the timed region (100,000 take a while); set
//! `XMEN_LIST_BENCH_DIR` to keep and reuse them between runs.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use xmen_manager::list::{self, IndexOptions, ListSpec, RenderOptions, Selection};
use xmen_record::GlobalConfig;

/// A params.yml in the register layout with 20 parameters.
fn params(root: &str, i: usize) -> String {
    let mut s = String::with_capacity(1600);
    let _ = write!(
        s,
        "_root: {root}  # The root directory of the experiment\n_status: registered # One of ['default' | 'created' | 'running' | 'error' | 'finished']\n\
         _purpose: '' # A description of the experiment purpose\n_notes: # Notes attached to the experiment\n\
         _user: tester # The user of the experiment\n_host: testhost # The name of the default host\n\
         _timestamps: # timestamps attached to the experiment\n  created: 26-11-27-17-59-25-{i:06}\n  start:\n  stopped:\n  last:\n  registered: 26-11-27-17-59-25-{i:06}\n\
         _messages: {{}} # Messages left by the experiment\n_version: # Experiment version information. See `get_version`\n  path: /data/xrun/xmen/examples\n\
         _meta: # The global configuration for the experiment manager\n  mac: '0x2fc00000001'\n  host: localhost\n  user: root\n  home: /data/xrun/home\n"
    );
    let _ = writeln!(s, "lr: {} # lr: float=0.001 ~ The learning rate", [0.1, 0.01, 0.001, 0.0001][i % 4]);
    let _ = writeln!(s, "batch: {} # batch: int=32 ~ The batch size", 16 << (i % 3));
    let _ = writeln!(s, "name: run{i} # name: str='run' ~ A name");
    for p in 0..17 {
        let _ = writeln!(s, "p{p}: {} # p{p}: float=0.5 ~ Parameter {p}", (i * 31 + p) % 97);
    }
    s
}

/// `n` experiments in sets of 1,000 plus an xmen.yml linking them; reused when present.
fn generate(base: &Path, n: usize) -> PathBuf {
    let dir = base.join(format!("n{n}"));
    let cfg = dir.join("cfg");
    if cfg.join("xmen.yml").is_file() {
        return dir;
    }
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
    dir
}

/// What `xmen list /dir -f "lr<0.01"` does after argument parsing; returns the output size.
fn list_once(dir: &Path, spec: &ListSpec, index: &Path) -> usize {
    let cfg = GlobalConfig::load(&dir.join("cfg")).unwrap_or_default();
    let folders = list::select(&cfg.linked, &Selection::under(dir, dir));
    let listing = match list::list(&folders, &cfg.linked, spec, Some(index), IndexOptions::default()) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    list::render_text(&listing.table, &RenderOptions::default()).len()
}

fn bench(c: &mut Criterion) {
    let keep = std::env::var_os("XMEN_LIST_BENCH_DIR").map(PathBuf::from);
    let tmp = match keep {
        Some(_) => None,
        None => Some(tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))),
    };
    let base = keep.unwrap_or_else(|| tmp.as_ref().map(|t| t.path().to_path_buf()).unwrap_or_default());
    let spec = ListSpec::new(&[], &["lr<0.01".to_owned()]).unwrap_or_else(|e| panic!("{e}"));
    // `cargo bench -- --test` (CI) runs each bench once: skip generating 100,000 folders there.
    let sizes: &[usize] = if std::env::args().any(|a| a == "--test") { &[1_000] } else { &[1_000, 100_000] };
    for &n in sizes {
        let dir = generate(&base, n);
        let index = dir.join("cfg").join("cache").join(list::index::INDEX_FILE);
        let mut g = c.benchmark_group(format!("list_{n}"));
        g.sample_size(10);
        if n > 1000 {
            g.measurement_time(Duration::from_secs(20));
        }
        g.bench_function("cold", |b| {
            b.iter(|| {
                let _ = fs::remove_file(&index);
                list_once(&dir, &spec, &index)
            })
        });
        // Let the files age past the index's 2 s racy window, then prime the index.
        std::thread::sleep(Duration::from_millis(2100));
        let _ = fs::remove_file(&index);
        list_once(&dir, &spec, &index);
        g.bench_function("warm", |b| b.iter(|| list_once(&dir, &spec, &index)));
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

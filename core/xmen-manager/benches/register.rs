//! `xmen register` of a 1,000-run sweep (issue 15 target: <= 100 ms; the original took 5.4 s).
//!
//! Run with `cargo bench -p xmen-manager --bench register`. Each sample registers the sweep
//! `{lr: 10 values, epochs: 10 values, name: 10 values}` into a fresh set in a temporary folder
//! (the set's creation and a sync of it are not timed), writing the crash-consistency
//! journal, checking for configurations the set already has, then 1,000 folders with
//! params.yml and run.sh, one `syncfs` of the file system (the folders are on disk before
//! anything names them), one experiment.yml and one update of the global `linked` list. Most
//! of it is the kernel's (mkdir and file creation, mostly inode allocation, and the sync); the
//! folders are made on one thread and filled on both cores (see `write_all`). Each sample has
//! a fresh configuration folder too, so the numbers do not drift as `linked` grows (with
//! 100,000 linked folders, reading and rewriting xmen.yml adds about 0.1 s of CPU).
//!
//! On ext4 without a journal (this project's machine) every inode allocation skips the free
//! inodes of its block group deleted in the last five minutes, one by one, from the start of
//! the group (`recently_deleted` in fs/ext4/ialloc.c), so a sample can take several times as
//! long within five minutes of deleting many files there, the previous run of this bench
//! included (its temporary folder holds tens of thousands of them). Run it apart from such
//! deletions; `TMPDIR` chooses where its folder goes.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use xmen_manager::{init, register, InitOpts, InitSource, RegisterOpts, Sweep};

const DEFAULTS: &str = "_created: 8/2/2021
_version:
  path: /bin/true
_meta: {}
lr: 0.001 # lr: float=0.001 ~ The learning rate
epochs: 10 # epochs: int=10 ~ Passes over the data
name: dog # name: str='dog' ~ A name
opt: # opt: dict ~ Optimiser options
  beta: 0.9
  eps: 1.0e-08
sizes: [3, 4]
";

const SWEEP: &str = "{lr: 1e-1 | 1e-2 | 1e-3 | 1e-4 | 1e-5 | 2e-1 | 2e-2 | 2e-3 | 2e-4 | 2e-5, \
                     epochs: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10, \
                     name: a | b | c | d | e | f | g | h | i | j}";

fn new_set(base: &Path, i: usize) -> std::path::PathBuf {
    let src = base.join("src");
    let _ = std::fs::create_dir_all(&src);
    let _ = std::fs::write(src.join("defaults.yml"), DEFAULTS);
    let _ = std::fs::write(src.join("script.sh"), "#!/bin/bash\necho ${1}\n");
    let root = base.join(format!("set{i}"));
    let opts = InitOpts {
        root: root.clone(),
        source: InitSource::Files { defaults: Some(src.join("defaults.yml")), script: Some(src.join("script.sh")) },
        purpose: "bench".into(),
        kind: None,
    };
    if let Err(e) = init(&opts) {
        panic!("init: {e}");
    }
    root
}

fn bench(c: &mut Criterion) {
    let tmp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let base = tmp.path().to_path_buf();
    let sweep: Sweep = match SWEEP.parse() {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let mut i = 0;
    let mut group = c.benchmark_group("register");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("1000-run sweep", |b| {
        b.iter_batched(
            || {
                i += 1;
                let root = new_set(&base, i);
                // The set exists before the registration, as after `xmen init`: its files are
                // on disk, so the registration's one sync does not also flush them.
                if let Err(e) = xmen_manager::register::sync_file_system(&root) {
                    panic!("sync: {e}");
                }
                (root, base.join(format!("cfg{i}")))
            },
            |(root, cfg)| {
                let mut opts = RegisterOpts::new(&root, &cfg);
                opts.sweep = Some(sweep.clone());
                match register(&opts) {
                    Ok(r) => assert_eq!(r.folders.len(), 1000),
                    Err(e) => panic!("register: {e}"),
                }
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Hot paths of the record: a message write (locked read-modify-write with an atomic rename),
//! with and without fsync, and registering one experiment.

// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};
use xmen_core::Value;
use xmen_record::{register, Keep, Param, Record, RecordFile, RegisterOpts, VersionInfo, WriteOpts};

fn record(dir: &Path) -> Record {
    let mut r = Record::new(
        (0..20)
            .map(|i| {
                let v = match i % 4 {
                    0 => Value::Int(i),
                    1 => Value::Float(i as f64 * 1e-3),
                    2 => Value::Str(format!("value {i}")),
                    _ => Value::List(vec![Value::Int(i), Value::Int(i + 1)]),
                };
                Param::new(format!("param_{i}"), v, format!("param_{i}: int={i} ~ Parameter number {i}"))
            })
            .collect(),
    );
    r.root = Some(dir.display().to_string());
    r.meta = Some(xmen_record::meta::basic());
    r
}

fn messages(step: i64) -> Vec<(String, Value)> {
    (0..10).map(|k| (format!("metric_{k}"), Value::Float(step as f64 * 0.5 + k as f64))).collect()
}

fn bench_message(c: &mut Criterion, name: &str, opts: WriteOpts) {
    let Ok(t) = tempfile::tempdir() else { return };
    let path = RecordFile::path_in(t.path());
    if let Err(e) = RecordFile::write_new(&path, &record(t.path()), WriteOpts::default()) {
        eprintln!("{e}");
        return;
    }
    let mut step = 0;
    c.bench_function(name, |b| {
        b.iter(|| {
            step += 1;
            let msgs = messages(step);
            RecordFile::update(&path, opts, |r| r.message(&msgs, Keep::Latest, None))
        })
    });
}

fn message_write(c: &mut Criterion) {
    bench_message(c, "message write (keep=latest, 20 params, 10 messages)", WriteOpts::default());
    bench_message(c, "message write, durable (fsync)", WriteOpts::durable());
    big_record(c);
}

/// One message into a record of 16,000 parameters (about 400 KB of params.yml): what a
/// Messenger firing costs when the record is large, since every write rewrites the file.
fn big_record(c: &mut Criterion) {
    let Ok(t) = tempfile::tempdir() else { return };
    let path = RecordFile::path_in(t.path());
    let mut r = Record::new(
        (0..16_000)
            .map(|i| Param::new(format!("param_{i:05}"), Value::Float(i as f64 * 1e-3), format!("p{i}")))
            .collect(),
    );
    r.root = Some(t.path().display().to_string());
    if let Err(e) = RecordFile::write_new(&path, &r, WriteOpts::default()) {
        eprintln!("{e}");
        return;
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    eprintln!("the 16,000-key record is {} KB", size / 1000);
    let mut step = 0;
    let mut g = c.benchmark_group("message write, 16,000-key record");
    g.sample_size(10);
    g.bench_function("keep=latest, 10 messages", |b| {
        b.iter(|| {
            step += 1;
            let msgs = messages(step);
            RecordFile::update(&path, WriteOpts::default(), |r| r.message(&msgs, Keep::Latest, None))
        })
    });
    g.finish();
}

fn register_one(c: &mut Criterion) {
    let Ok(t) = tempfile::tempdir() else { return };
    let version = VersionInfo::current(
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
        Some(Path::new(env!("CARGO_MANIFEST_DIR"))),
    );
    let n = AtomicU64::new(0);
    let base: PathBuf = t.path().to_path_buf();
    c.bench_function("register one experiment", |b| {
        b.iter(|| {
            let i = n.fetch_add(1, Ordering::Relaxed);
            let opts = RegisterOpts {
                version: Some(version.clone()),
                // a fresh global configuration each time, so `linked` does not grow
                config_dir: Some(base.join(format!("cfg{i}"))),
                ..RegisterOpts::default()
            };
            let mut rec = record(&base);
            rec.root = None;
            register(&base.join(format!("exp{i}")), rec, &opts)
        })
    });
}

criterion_group!(benches, message_write, register_one);
criterion_main!(benches);

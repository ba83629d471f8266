//! A run stopped by `limit` and resumed from its checkpoint ends with the same weights, bit
//! for bit, as an uninterrupted run, continues its step numbering, and a later `limit` stops
//! it where an uninterrupted run would stop. Plain tensors, pure-Rust SGD (the tch version is
//! in the SDK's tests, behind feature `tch`).
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;

use xmen::checkpoint::{format, Tracked};
use xmen::{Monitor, Tensor, Value};
use xmen_hook_checkpointer::policy::Policy;
use xmen_hook_checkpointer::Checkpointer;

const EPOCHS: u64 = 6;
const BATCHES: u64 = 10;

type Model = Tracked<Vec<(String, Tensor)>>;

fn init() -> Model {
    Tracked::new(vec![
        ("w".to_owned(), Tensor::from_f32(&[3], &[0.0; 3])),
        ("b".to_owned(), Tensor::from_f32(&[], &[0.0])),
    ])
}

fn f32s(t: &Tensor) -> Vec<f32> {
    t.data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// xorshift64*: the data order of an epoch depends only on the epoch number.
fn batch(epoch: u64, i: u64) -> ([f32; 3], f32) {
    let mut s = (epoch * 1000 + i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let x = [next(), next(), next()];
    (x, 2.0 * x[0] - x[1] + 0.5 * x[2] + 0.3)
}

/// One SGD step on squared error, without momentum.
fn sgd_step(model: &Model, x: [f32; 3], y: f32) -> f32 {
    let mut m = model.lock();
    let w = f32s(&m[0].1);
    let b = f32s(&m[1].1)[0];
    let pred = w[0] * x[0] + w[1] * x[1] + w[2] * x[2] + b;
    let err = pred - y;
    let lr = 0.1;
    let w: Vec<f32> = (0..3).map(|j| w[j] - lr * 2.0 * err * x[j]).collect();
    m[0].1 = Tensor::from_f32(&[3], &w);
    m[1].1 = Tensor::from_f32(&[], &[b - lr * 2.0 * err]);
    err * err
}

/// Train under a Monitor that checkpoints `model` each epoch; `resume` restores it first.
fn train(dir: &Path, model: &Model, limit: Option<&str>, resume: bool) -> (Vec<u64>, [u64; 5]) {
    let hook = Checkpointer::with_policy(Some(dir.to_path_buf()), Policy { keep: Some(2), ..Policy::default() }, None);
    let mut b = Monitor::builder()
        .directory(dir)
        .state("model", model)
        .resume(resume)
        .hook_at("^model$@1e", hook)
        .output(std::io::sink());
    if let Some(l) = limit {
        b = b.limit(l);
    }
    let m = b.build().unwrap();
    let mut steps = Vec::new();
    for epoch in m.iter(m.epoch()..EPOCHS) {
        for i in m.iter(0..BATCHES) {
            let (x, y) = batch(epoch, i);
            let loss = sgd_step(model, x, y);
            m.set("loss", loss);
            steps.push(m.step() + 1);
        }
    }
    (steps, m.counters())
}

#[test]
fn a_resumed_run_equals_an_uninterrupted_one_bit_for_bit() {
    let whole = tempfile::tempdir().unwrap();
    let reference = init();
    let (steps, counters) = train(whole.path(), &reference, None, false);
    assert_eq!(steps, (1..=EPOCHS * BATCHES).collect::<Vec<_>>());
    assert_eq!(counters, [60, 6, 0, 0, 0]);

    let split = tempfile::tempdir().unwrap();
    let first = init();
    let (steps, counters) = train(split.path(), &first, Some("@3e"), false);
    assert_eq!((steps.len(), counters), (30, [30, 3, 0, 0, 0]));
    // A fresh process: new objects, restored from the newest checkpoint when the Monitor is built.
    let second = init();
    let (steps, counters) = train(split.path(), &second, None, true);
    assert_eq!(steps, (31..=60).collect::<Vec<_>>(), "the step numbering continues");
    assert_eq!(counters, [60, 6, 0, 0, 0]);
    assert_eq!(*second.lock(), *reference.lock(), "the same final weights, bit for bit");
    let names =
        |d: &Path| format::steps(&d.join("checkpoints/model")).unwrap().into_iter().map(|(s, _)| s).collect::<Vec<_>>();
    assert_eq!(names(split.path()), names(whole.path()));
    assert_eq!(names(split.path()), [50, 60]);
}

#[test]
fn a_limit_stops_a_resumed_run_where_an_uninterrupted_run_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, counters) = train(tmp.path(), &init(), Some("@2e"), false);
    assert_eq!(counters, [20, 2, 0, 0, 0]);
    // Resumed at epoch 2 with limit @4e: two more epochs, then the limit (>=) stops it.
    let (steps, counters) = train(tmp.path(), &init(), Some("@4e"), true);
    assert_eq!((steps.first(), steps.last(), counters), (Some(&21), Some(&40), [40, 4, 0, 0, 0]));
    // Resumed past its limit: stops at once.
    let (steps, counters) = train(tmp.path(), &init(), Some("@3e"), true);
    assert_eq!((steps.len(), counters), (0, [40, 4, 0, 0, 0]));
}

#[test]
fn a_resume_with_no_checkpoints_starts_from_scratch_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let model = init();
    let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    struct W(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for W {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let m = Monitor::builder()
        .directory(tmp.path())
        .state("model", Value::from(&model))
        .resume(true)
        .output(W(out.clone()))
        .build()
        .unwrap();
    assert_eq!(m.counters(), [0; 5]);
    assert_eq!(m.get("model"), Some(Value::State(model.handle())), "named objects become variables");
    let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
    assert!(text.contains(&format!("No checkpoints exist in {}", tmp.path().join("checkpoints").display())), "{text}");
}

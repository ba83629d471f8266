//! tch (feature `tch`): a VarStore as checkpointable state. Its checkpoint reads back in tch,
//! and a training run stopped by `limit` and resumed from its checkpoint ends with the same
//! weights, bit for bit, as an uninterrupted run (SGD without momentum, one thread, seeded
//! data order).
//!
//! Build with `LIBTORCH=$(scripts/torch-env.sh)`; run with `LD_LIBRARY_PATH=$LIBTORCH/lib`.
#![cfg(feature = "tch")]
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};

use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Tensor as TchTensor};
use xmen::checkpoint::{format, tensor_from_tch, track_var_store, State};
use xmen::{Firing, Hook, HookResult, Monitor, Outcome, ValueRef};

const EPOCHS: u64 = 5;
const BATCHES: i64 = 6;

struct Save(PathBuf);

impl Hook for Save {
    fn call(&mut self, f: &Firing<'_>) -> HookResult {
        for (name, v) in f.vars() {
            if let ValueRef::State(h) = v {
                let snap = f.host().state(h).map_err(xmen::HookError::new)?;
                format::save(&self.0.join("checkpoints").join(name), &snap, f.counters(), None)
                    .map_err(|e| xmen::HookError::new(e.to_string()))?;
            }
        }
        Ok(Outcome::Continue)
    }
}

fn mlp(p: &nn::Path) -> impl Module {
    nn::seq().add(nn::linear(p / "fc1", 2, 16, Default::default())).add_fn(|x| x.relu()).add(nn::linear(
        p / "fc2",
        16,
        3,
        Default::default(),
    ))
}

/// A batch of epoch `epoch`: the order depends only on the epoch, never on the process.
fn batch(epoch: u64, i: i64) -> (TchTensor, TchTensor) {
    let n = 16;
    let mut s = (epoch * 7919 + i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 24) as f32
    };
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for _ in 0..n {
        let c = (next() * 3.0) as i64 % 3;
        let a = c as f32 * 2.1 + next() * 0.8;
        xs.extend([a.cos() * (1.0 + next()), a.sin() * (1.0 + next())]);
        ys.push(c);
    }
    (TchTensor::from_slice(&xs).view([n, 2]), TchTensor::from_slice(&ys))
}

/// Train with a checkpoint per epoch; `seed` only sets the initial weights.
fn train(dir: &Path, seed: i64, limit: Option<&str>, resume: bool) -> (nn::VarStore, Vec<u64>) {
    tch::set_num_threads(1);
    tch::manual_seed(seed);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = mlp(&vs.root());
    let mut opt = nn::Sgd::default().build(&vs, 0.05).unwrap();
    let model = track_var_store(&vs);
    let mut b = Monitor::builder()
        .directory(dir)
        .state("model", &model)
        .resume(resume)
        .hook_at("^model$@1e", Save(dir.to_path_buf()))
        .output(std::io::sink());
    if let Some(l) = limit {
        b = b.limit(l);
    }
    let m = b.build().unwrap();
    let mut steps = Vec::new();
    for epoch in m.iter(m.epoch()..EPOCHS) {
        for i in m.iter(0..BATCHES) {
            let (x, y) = batch(epoch, i);
            let loss = net.forward(&x).cross_entropy_for_logits(&y);
            opt.backward_step(&loss);
            m.set("loss", loss.double_value(&[]));
            steps.push(m.step() + 1);
        }
    }
    (vs, steps)
}

fn weights(vs: &nn::VarStore) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> =
        vs.variables().into_iter().map(|(k, t)| (k, tensor_from_tch(&t).unwrap().data)).collect();
    v.sort();
    v
}

/// libtorch's RNG and thread settings are process-wide: tests that seed it run one at a time.
static TORCH: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn a_resumed_tch_run_ends_with_the_same_weights_bit_for_bit() {
    let _torch = TORCH.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let whole = tempfile::tempdir().unwrap();
    let (reference, steps) = train(whole.path(), 1, None, false);
    assert_eq!(steps.len() as u64, EPOCHS * BATCHES as u64);

    let split = tempfile::tempdir().unwrap();
    let (_, steps) = train(split.path(), 1, Some("@2e"), false);
    assert_eq!(steps.len(), 2 * BATCHES as usize);
    // Another initial seed: only the checkpoint can make the weights equal again.
    let (resumed, steps) = train(split.path(), 99, None, true);
    assert_eq!(steps.first(), Some(&(2 * BATCHES as u64 + 1)), "the step numbering continues");
    assert_eq!(weights(&resumed), weights(&reference));
}

#[test]
fn a_var_store_checkpoint_reads_back_in_tch_and_restores_in_place() {
    let _torch = TORCH.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let tmp = tempfile::tempdir().unwrap();
    tch::manual_seed(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let _net = mlp(&vs.root());
    let model = track_var_store(&vs);
    let m = Monitor::builder().directory(tmp.path()).output(std::io::sink()).build().unwrap();
    for _ in m.iter(0..4) {}
    let files = m.checkpoint([("model", &model)]).unwrap();
    // tch reads the file as is.
    let read = TchTensor::read_safetensors(&files[0]).unwrap();
    let mut names: Vec<String> = read.iter().map(|(k, _)| k.clone()).collect();
    names.sort();
    assert_eq!(names, ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]);
    for (name, t) in &read {
        let var = &vs.variables()[name];
        assert!(t.equal(var), "{name}");
    }
    // Restoring writes into the VarStore the network uses.
    let before = weights(&vs);
    tch::no_grad(|| {
        for (_, mut t) in vs.variables() {
            let _ = t.fill_(0.0);
        }
    });
    assert_ne!(weights(&vs), before);
    m.load([("model", &model)]).unwrap();
    assert_eq!(weights(&vs), before);
    // A checkpoint of another model is refused by name, and changes nothing.
    let other = nn::VarStore::new(Device::Cpu);
    let _ = other.root().sub("fc1").zeros("weight", &[3, 3]);
    let other_state = track_var_store(&other);
    let err =
        xmen::checkpoint::load(&tmp.path().join("checkpoints"), None, false, [("model", &other_state)]).err().unwrap();
    assert!(err.to_string().contains("variable `fc1.weight` is Float of shape [3, 3]"), "{err}");
    let sd = vs.state_dict().unwrap();
    assert_eq!(sd.tensors.len(), 4);
    assert_eq!(sd.tensor("fc2.bias").map(|t| t.shape.clone()), Some(vec![3]));
}

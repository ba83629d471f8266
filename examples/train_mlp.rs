//! A real training run with tch (CPU): a small MLP on a synthetic 3-class spiral set
//! generated here, under a Monitor with the Logger, Timer, Messenger (best validation
//! accuracy, with `val_acc` leading), TensorBoard (loss, accuracy, weight histograms) and
//! Checkpointer (top-3 by validation loss) hooks, each loaded from its library.
//!
//! The run is stopped by `limit` after `STOP` epochs, then started again as a new process
//! would be: fresh weights, a fresh optimizer, and a Monitor that resumes (`.resume(true)`;
//! under `xmen::main` a `timeout`/`requeue`/`stopped` record does this by itself). It
//! restores the newest checkpoint and the counters and continues with the same step numbers.
//!
//! ```text
//! LIBTORCH=$(scripts/torch-env.sh) cargo build -p xmen-examples --features tch --example train_mlp \
//!     -p xmen-hook-logger -p xmen-hook-timer -p xmen-hook-messenger -p xmen-hook-tensorboard -p xmen-hook-checkpointer
//! LD_LIBRARY_PATH=$LIBTORCH/lib target/debug/examples/train_mlp /tmp/mlp
//! ```

use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor as TchTensor};
use xmen::checkpoint::{tensor_from_tch, track_var_store};
use xmen::{Monitor, Root, Value};

const EPOCHS: u64 = 8;
const STOP: u64 = 4;
const BATCH: i64 = 64;

/// Three interleaved spirals with noise: `n` points per class.
struct Data {
    x: TchTensor,
    y: TchTensor,
}

fn spirals(n: i64, seed: u64) -> Data {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 24) as f32
    };
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for c in 0..3i64 {
        for i in 0..n {
            let r = i as f32 / n as f32;
            let t = c as f32 * 2.094 + r * 4.0 + (next() - 0.5) * 0.4;
            xs.extend([r * t.cos(), r * t.sin()]);
            ys.push(c);
        }
    }
    Data { x: TchTensor::from_slice(&xs).view([3 * n, 2]), y: TchTensor::from_slice(&ys) }
}

fn mlp(p: &nn::Path) -> impl Module {
    nn::seq()
        .add(nn::linear(p / "fc1", 2, 64, Default::default()))
        .add_fn(|x| x.relu())
        .add(nn::linear(p / "fc2", 64, 64, Default::default()))
        .add_fn(|x| x.relu())
        .add(nn::linear(p / "fc3", 64, 3, Default::default()))
}

/// The batches of one epoch, in an order that depends only on the epoch number.
fn batches(data: &Data, epoch: u64) -> Vec<(TchTensor, TchTensor)> {
    tch::manual_seed(1000 + epoch as i64);
    let n = data.y.size()[0];
    let perm = TchTensor::randperm(n, (Kind::Int64, Device::Cpu));
    (0..n / BATCH)
        .map(|b| {
            let idx = perm.narrow(0, b * BATCH, BATCH);
            (data.x.index_select(0, &idx), data.y.index_select(0, &idx))
        })
        .collect()
}

fn train(root: &Root, train: &Data, val: &Data, resume: bool) -> Result<(u64, f64), Box<dyn std::error::Error>> {
    tch::manual_seed(if resume { 7 } else { 1 }); // the resumed weights come from the checkpoint
    let vs = nn::VarStore::new(Device::Cpu);
    let net = mlp(&vs.root());
    let mut opt = nn::Sgd::default().build(&vs, 0.2)?;
    let model = track_var_store(&vs);
    let m = Monitor::builder()
        .directory(root.directory())
        .log("loss@25s")
        .log("val_loss|val_acc@1e")
        .log_format(".4f")
        .time("@1e")
        .msg("val_acc|val_loss->^experiment$@1e")
        .msg_keep("max")
        .msg_leader("val_acc")
        .state("model", &model)
        .ckpt("^model$@1e")
        .ckpt_top_k(3, "val_loss", "min")
        .sca("^loss$|^val_loss$|^val_acc$@1e")
        .hist("^fc\\d\\.weight$@1e")
        .resume(resume)
        .limit(&if resume { format!("@{}e", EPOCHS + 1) } else { format!("@{STOP}e") })
        .build()?;
    m.set("experiment", root);
    let first_step = m.step() + 1;
    // A resumed run starts at the restored epoch; the length keeps the log prefix `5/8`.
    for epoch in m.iter_with_len(m.epoch()..EPOCHS, EPOCHS) {
        for (x, y) in m.iter(batches(train, epoch)) {
            let loss = net.forward(&x).cross_entropy_for_logits(&y);
            opt.backward_step(&loss);
            m.set("loss", loss.double_value(&[]));
        }
        let (val_loss, val_acc) = tch::no_grad(|| {
            let logits = net.forward(&val.x);
            (
                logits.cross_entropy_for_logits(&val.y).double_value(&[]),
                logits.accuracy_for_logits(&val.y).double_value(&[]),
            )
        });
        m.set("val_loss", val_loss);
        m.set("val_acc", val_acc);
        for (name, t) in vs.variables() {
            if name.ends_with(".weight") {
                m.set(&name, Value::Tensor(tensor_from_tch(&t)?));
            }
        }
    }
    println!("steps {first_step}..={} (epoch {})", m.step(), m.epoch());
    let acc = m.get("val_acc").and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
    Ok((m.step(), acc))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tch::set_num_threads(1);
    let dir = match std::env::args().nth(1) {
        Some(d) => std::path::PathBuf::from(d),
        None => std::env::temp_dir().join(format!("xmen-train-mlp-{}", std::process::id())),
    };
    let root = Root::create("train_mlp", &dir, "the train_mlp example")?;
    let (train_set, val_set) = (spirals(512, 1), spirals(128, 2));
    println!("== run 1: stopped by limit @{STOP}e");
    let (stopped_at, _) = train(&root, &train_set, &val_set, false)?;
    println!("== run 2: resumed from {}", root.directory().join("checkpoints/model").display());
    let (end, acc) = train(&root, &train_set, &val_set, true)?;
    let per_epoch = stopped_at / STOP;
    assert_eq!(end, per_epoch * EPOCHS, "the resumed run continues the step numbering");
    println!("final validation accuracy {acc:.3}; records in {}", root.directory().display());
    Ok(())
}

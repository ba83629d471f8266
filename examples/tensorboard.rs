//! The original's `torch_monitor.py` without torch: 31 steps of synthetic
//! tensors written as TensorBoard summaries by the `tensorboard` hook library
//! (`libxmen_hook_tensorboard.so`; build it with `cargo build -p xmen-hook-tensorboard`).
//!
//! - scalars `z_x, z_y, z_i` every 10 steps (a map, prepended), `a_0, a_1` (a list) and `x` every 5;
//! - images `2mnist` (the first 2) every 10 and `5mnist` (the first 5) every 5;
//! - histogram `Z` every step; figure `fig` every 10; text `i` = `Hello at step {i}` every 5;
//! - video `mnist` (the batch as frames) every 10.
//!
//! Usage: `cargo run --example tensorboard [DIRECTORY]`, then `tensorboard --logdir DIRECTORY`.

use xmen::{Monitor, Tensor, Value, ValueRef};
use xmen_plot::{Color, Figure};

/// The first `n` items of a batch tensor (the original's `lambda x: x[:n]`).
fn first(n: u64) -> impl Fn(&str, ValueRef<'_>) -> Value + Send + Sync {
    move |_, v| match v {
        ValueRef::Tensor(t) if !t.shape.is_empty() => {
            let n = n.min(t.shape[0]);
            let item = t.numel() / t.shape[0].max(1) as usize * t.dtype.size();
            let mut shape = t.shape.to_vec();
            shape[0] = n;
            Value::Tensor(Tensor { dtype: t.dtype, shape, data: t.data[..n as usize * item].to_vec() })
        }
        other => other.to_value(),
    }
}

/// The batch as the frames of one clip: `[B,C,H,W]` viewed as `[1,B,C,H,W]`.
fn as_video(_: &str, v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Tensor(t) => {
            let shape = std::iter::once(1).chain(t.shape.iter().copied()).collect();
            Value::Tensor(Tensor { dtype: t.dtype, shape, data: t.data.to_vec() })
        }
        other => other.to_value(),
    }
}

/// A deterministic stand-in for a batch of MNIST digits: `[B, 1, 28, 28]` rings.
fn digits(batch: u64, step: u64) -> Tensor {
    let mut v = Vec::with_capacity((batch * 28 * 28) as usize);
    for b in 0..batch {
        let r = 4.0 + ((b + step) % 9) as f32;
        for y in 0..28 {
            for x in 0..28 {
                let d = ((x as f32 - 13.5).powi(2) + (y as f32 - 13.5).powi(2)).sqrt();
                v.push((-(d - r).powi(2) / 4.0).exp());
            }
        }
    }
    Tensor::from_f32(&[batch, 1, 28, 28], &v)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = std::env::args().nth(1);
    if let Some(flag) = arg.as_deref().filter(|a| a.starts_with('-')) {
        // `--help` (or any option) is not a folder to write into.
        let usage = "usage: tensorboard [DIRECTORY]   (default: $TMPDIR/tb); then `tensorboard --logdir DIRECTORY`";
        if flag == "-h" || flag == "--help" {
            println!("{usage}");
            return Ok(());
        }
        return Err(format!("unknown option `{flag}`; {usage}").into());
    }
    let dir = arg.map(std::path::PathBuf::from).unwrap_or_else(|| std::env::temp_dir().join("tb"));
    let m = Monitor::builder()
        .directory(&dir)
        .sca("^z$|^a$@10s")
        .sca("^x$@5s")
        .img("^mnist$@10s")
        .img_fn(first(2))
        .img_pref("2")
        .img("^mnist$@5s")
        .img_fn(first(5))
        .img_pref("5")
        .hist("^Z$@1s")
        .fig("^fig$@10s")
        .txt("^i$@5s")
        .txt_fn(|_, v| Value::Str(format!("Hello at step {v}")))
        .vid("^mnist$@10s")
        .vid_fn(as_video)
        .build()?;
    let mut curve = Vec::new();
    for i in m.iter(0..31u64) {
        let x = i as f64 / 10.0;
        let z = [("x", Value::from(x.sin())), ("y", Value::from(x.cos())), ("i", Value::from(i))];
        m.set("z", z.into_iter().collect::<Value>());
        m.set("a", vec![x, -x]);
        m.set("x", x * x);
        m.set("mnist", digits(8, i));
        let normal: Vec<f32> =
            (0..1000).map(|k| ((k as f32 * 0.618).fract() - 0.5) * (1.0 + i as f32 / 10.0)).collect();
        m.set("Z", Tensor::from_f32(&[1000], &normal));
        curve.push(x.sin());
        m.set(
            "fig",
            Value::Image(
                Figure::new(480, 320)
                    .line(&(0..curve.len()).map(|k| k as f64).collect::<Vec<_>>(), &curve, Color::BLUE)
                    .to_png()?,
            ),
        );
        m.set("i", i);
    }
    drop(m);
    println!("View with: tensorboard --logdir {}", dir.display());
    Ok(())
}

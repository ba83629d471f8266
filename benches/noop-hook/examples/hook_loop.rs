//! Firings through hook `cdylib`s, for instruction counting under callgrind
//! (`benches/callgrind.sh hooks`): the workloads of three criterion rows, with only the
//! training thread's firings counted.
//!
//! `hook_loop MODE STEPS SO_DIR` runs STEPS Monitor steps, each firing one library hook found
//! in SO_DIR. MODE:
//! - `dispatch`: `bench-noop` with 5 variables (the row `fire_5_vars/cdylib`);
//! - `logger`: the Logger, `loss|acc@1s`, `format: .4f`, into a sink (`logger_fire/cdylib_2_vars`);
//! - `tensorboard`: TensorBoard with 100 scalars, in bursts of 32 with a 3 ms pause after each
//!   (`fire_100_scalars/cdylib_back_pressure_paced`); its writer thread is not counted.
//!
//! Only `burst_of` is counted (`--toggle-collect=*burst_of*`, per thread); running twice with
//! different STEPS and subtracting the totals gives one step without the one-time work. The
//! program uses only the API that existed at the baseline commit, so the script builds this
//! same file there.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;
use xmen::hooks::{HookConfig, Loader, SearchPath};
use xmen::{Monitor, Value};

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "dispatch".into());
    let steps: u64 = args.next().map_or(10_000, |s| s.parse().unwrap());
    let so_dir = PathBuf::from(args.next().expect("usage: hook_loop MODE STEPS SO_DIR"));
    let out = std::env::temp_dir().join(format!("xmen-hook-loop-{}", std::process::id()));
    // The variables and values of the criterion benches.
    let (cfg, vars, pause): (_, Vec<(String, f64)>, _) = match mode.as_str() {
        "dispatch" => {
            (HookConfig::new("bench-noop", "v@1s"), (0..5).map(|i| (format!("v{i}"), i as f64)).collect(), None)
        }
        "logger" => (
            HookConfig::new("logger", "loss|acc@1s").option("format", ".4f"),
            vec![("loss".to_owned(), 0.123456), ("acc".to_owned(), 0.9)],
            None,
        ),
        "tensorboard" => {
            let mut cfg = HookConfig::new("tensorboard", "^v@1s");
            cfg.options = vec![
                ("quiet".into(), Value::from(true)),
                ("directory".into(), Value::from(out.to_str().unwrap())),
                ("on_full".into(), Value::from("block")),
                ("queue".into(), Value::from(1024_i64)),
                ("hparams".into(), Value::from(false)),
            ];
            (cfg, (0..100).map(|k| (format!("v{k:02}"), k as f64 * 0.5)).collect(), Some(Duration::from_millis(3)))
        }
        other => panic!("unknown mode {other}: dispatch, logger or tensorboard"),
    };
    let m = Monitor::builder()
        .loader(Loader::new(SearchPath::new(vec![so_dir])))
        .hooks([cfg])
        .output(std::io::sink())
        .build()
        .unwrap();
    for (name, value) in &vars {
        m.set(name, *value);
    }
    let mut it = m.iter(0..u64::MAX);
    // Uncounted warm-up: the first firings' one-time work (the Monitor's clock calibration,
    // whose count varies, the hook's first allocations) stays out of the count.
    for _ in 0..64 {
        black_box(it.next());
    }
    let mut left = steps;
    while left > 0 {
        let n = left.min(32);
        burst_of(&mut it, n);
        left -= n;
        if let Some(p) = pause {
            std::thread::sleep(p);
        }
    }
    drop(it);
    drop(m);
    let _ = std::fs::remove_dir_all(&out);
}

/// The counted part.
#[inline(never)]
fn burst_of<I: Iterator>(it: &mut I, n: u64) {
    for _ in 0..n {
        black_box(it.next());
    }
}

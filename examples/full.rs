//! The original's `full.py`: five nested loops under one Monitor with the
//! Logger, Timer, Messenger and Probe hooks (each loaded from its library), messaging
//! and probing an experiment `X`, stopped by `limit='@20s'`.
//!
//! Within one increment the hooks fire in kind order: log, time, msg, probe. After the
//! limit, each enclosing loop still completes its iteration and fires once.
//! Expected output, times and durations masked: `full.expected`.

use xmen::{Monitor, Root, Value, ValueRef};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = match std::env::args().nth(1) {
        Some(d) => std::path::PathBuf::from(d),
        None => std::env::temp_dir().join(format!("xmen-full-{}", std::process::id())),
    };
    let x = Root::create("X", &dir, "the full.py example")?;
    let mult = |_: &str, v: ValueRef<'_>| Value::Float(v.as_f64().unwrap_or(f64::NAN) * 10.0);
    let identity = |_: &str, v: ValueRef<'_>| v.to_value();
    let m = Monitor::builder()
        .log("a|b@2s")
        .log("b@1e")
        .log("c@1er")
        .log("d|e@1eo")
        .log("e@1se")
        .log_fn(mult)
        .log_fn(identity)
        .log_fn(identity)
        .log_fn(identity)
        .log_fn(identity)
        .log_format(".3f")
        .msg("a->X@1s")
        .time("@2s")
        .time("@1e")
        .probe("X@10s")
        .limit("@20s")
        .build()?;
    m.set("X", &x);
    let (mut a, mut b, mut c, mut d, mut e) = (0, 0, 0, 0, 0);
    xmen::vars!(m, a, b, c, d, e);
    for _ in m.iter(0..2) {
        for _ in m.iter(0..2) {
            for _ in m.iter(0..3) {
                for _ in m.iter(0..4) {
                    for _ in m.iter(0..5) {
                        a += 1;
                        m.set("a", a);
                    }
                    b += 1;
                    m.set("b", b);
                }
                c += 1;
                m.set("c", c);
            }
            d += 1;
            m.set("d", d);
        }
        e += 1;
        m.set("e", e);
    }
    Ok(())
}

//! The original's `logger.py`: two nested loops, `x` logged every two
//! steps with its items joined by `|`, `y` every epoch with `.5f`. The Logger hook is
//! loaded from its library (`libxmen_hook_logger.so`) through the loader.
//!
//! Expected output (times differ): see `logger.expected`.

use xmen::Monitor;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let m = Monitor::builder().log("x@2s").log_join("|").log("y@1e").log_format("").log_format(".5f").build()?;
    let x = vec!["cat", "dog"];
    let mut y = 0.0;
    m.set("x", x);
    for _ in m.iter(0..3) {
        for i in m.iter(0..5) {
            y += f64::from(i);
            m.set("y", y);
        }
    }
    Ok(())
}

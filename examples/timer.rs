//! A Timer at every epoch and every fifth step over 3 x 10 loops, loaded from
//! `libxmen_hook_timer.so`. Prints lines like
//! `[05:36PM 18/11/20 1/3]: wall=0:00:00.020121 end=0:00:00.040242 next=... step=... m_step=... load=... m_load=...`.

use std::time::Duration;
use xmen::Monitor;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let m = Monitor::builder().time("@5s").time("@1e").build()?;
    for _ in m.iter(0..3) {
        for _ in m.iter(0..10) {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    Ok(())
}

//! The seed's XmenMessenger example 2 (messenger/leader.py): `keep=min` with the leader
//! `^y$`: `i` is only written when `y` improves, so it stays 49 once `y` stops improving.

#[path = "messenger_common.rs"]
mod common;

use xmen::{Monitor, Root};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ex = Root::create("ex", common::base_dir("messenger-leader").join("ex"), "")?;
    let m = Monitor::builder().msg("^y$|^i$->^ex$@10s").msg_keep("min").msg_leader("^y$").build()?;
    m.set("ex", &ex);
    let mut x: i64 = -50;
    for i in m.iter(0..100i64) {
        x += 1;
        let y = x * x;
        xmen::vars!(m, i, y);
        if i % 10 == 1 {
            println!("[{}, {}]", common::msg(&ex, "i"), common::msg(&ex, "y"));
        }
    }
    Ok(())
}

//! The seed's XmenMessenger example 1 (`messenger/basic.py`): two experiments,
//! a Messenger `y.*->ex.*@10s`, and a 40-step loop; prints both experiments' messages
//! every ten steps and finally every message of `ex1`.

#[path = "messenger_common.rs"]
mod common;

use xmen::{Monitor, Root};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = common::base_dir("messenger-basic");
    let ex1 = Root::create("ex1", base.join("ex1"), "")?;
    let ex2 = Root::create("ex2", base.join("ex2"), "")?;
    let m = Monitor::builder().msg("y.*->ex.*@10s").build()?;
    m.set("ex1", &ex1);
    m.set("ex2", &ex2);
    let (mut y1, mut y2) = (0, 0);
    for i in m.iter(0..40) {
        y1 += 1;
        y2 += 2;
        xmen::vars!(m, y1, y2);
        if i % 10 == 1 {
            println!(
                "ex1: y1 = {}, ex1: y2 = {}, ex2: y1 = {}, ex2: y2 = {}",
                common::msg(&ex1, "y1"),
                common::msg(&ex1, "y2"),
                common::msg(&ex2, "y1"),
                common::msg(&ex2, "y2")
            );
        }
    }
    println!("\nAll Messages");
    for (k, v) in &ex1.record()?.messages {
        println!("{k} {v}");
    }
    Ok(())
}

//! The seed's XmenMessenger example 4 (messenger/prepend.py): as `messenger_expand`, with
//! the entries named `z_x`, `z_y`, `z_i` and the leader `z_y`.

#[path = "messenger_common.rs"]
mod common;

use xmen::{Monitor, Root, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ex = Root::create("ex", common::base_dir("messenger-prepend").join("ex"), "")?;
    let m = Monitor::builder()
        .msg("z->^ex$@10s")
        .msg_keep("min")
        .msg_leader("z_y")
        .msg_expand(true)
        .msg_prep(true)
        .build()?;
    m.set("ex", &ex);
    let mut x: i64 = 5;
    for i in m.iter(0..100i64) {
        x += 1;
        m.set("z", Value::Map(vec![("x".into(), x.into()), ("y".into(), (x * x).into()), ("i".into(), i.into())]));
        if i % 10 == 1 {
            println!("[{}, {}, {}]", common::msg(&ex, "z_i"), common::msg(&ex, "z_y"), common::msg(&ex, "z_x"));
        }
    }
    Ok(())
}

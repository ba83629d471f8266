//! The seed's XmenMessenger example 3 (messenger/expand.py): a map variable `z` expanded
//! into one message per entry, `keep=min` with the leader `y`.

#[path = "messenger_common.rs"]
mod common;

use xmen::{Monitor, Root, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ex = Root::create("ex", common::base_dir("messenger-expand").join("ex"), "")?;
    let keys = ["i", "y", "x"];
    let m = Monitor::builder().msg("z->^ex$@10s").msg_keep("min").msg_leader("y").msg_expand(true).build()?;
    m.set("ex", &ex);
    let mut x: i64 = 5;
    for i in m.iter(0..100i64) {
        x += 1;
        m.set("z", Value::Map(vec![("x".into(), x.into()), ("y".into(), (x * x).into()), ("i".into(), i.into())]));
        if i % 10 == 1 {
            let shown: Vec<String> = keys.iter().map(|k| common::msg(&ex, k)).collect();
            println!("[{}]", shown.join(", "));
        }
    }
    Ok(())
}

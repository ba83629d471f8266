//! Printing one record as the original printed an experiment, used by `xmen list <experiment folder>`.

use std::fmt::Write as _;

use xmen_core::pyfmt;
use xmen_core::Value;
use xmen_record::Record;

/// The specials in the order they are printed.
const ORDER: [&str; 10] =
    ["_root", "_status", "_notes", "_purpose", "_user", "_host", "_timestamps", "_messages", "_version", "_meta"];

fn write_entry(out: &mut String, indent: usize, key: &str, value: &Value) {
    match value {
        Value::None => {}
        Value::Map(entries) => {
            let _ = writeln!(out, "{:indent$}{key}:", "");
            for (k, v) in entries {
                write_entry(out, indent + 2, k, v);
            }
        }
        other => {
            let _ = writeln!(out, "{:indent$}{key}: {}", "", pyfmt::str_of(other));
        }
    }
}

/// The recursive print of a record: the specials without their leading `_` (null values
/// skipped, maps as indented blocks), then `parameters:` and every parameter as
/// `  name: str(value)`.
pub fn record_text(rec: &Record) -> String {
    let mut out = String::new();
    for name in ORDER {
        if let Some(v) = rec.special(name) {
            write_entry(&mut out, 0, &name[1..], &v);
        }
    }
    out.push_str("parameters:\n");
    for p in &rec.params {
        let _ = writeln!(out, "  {}: {}", p.name, pyfmt::str_of(&p.value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_prints_like_the_original() {
        let text = "_root: /data/xrun/reprtest\n_status: registered\n_purpose: p\n_notes:\n- n1\n\
                    _user: tester\n_host: testhost\n_timestamps:\n  created: 26-11-27-18-03-54-234737\n  start:\n\
                    \x20 stopped:\n  last:\n  registered: 26-11-27-18-03-54-234762\n_messages: {}\n\
                    _version:\n  module: xmen.examples.hello_world\n  class: HelloWorld\n  path: /data/xrun/xmen/examples\n\
                    _meta:\n  mac: '0x2fc00000001'\n  host: localhost\n  user: root\n  home: /data/xrun/home\n\
                    a: Hello\nb: World\n";
        let rec = Record::from_yaml_str(text).unwrap_or_else(|e| panic!("{e}"));
        let want = "root: /data/xrun/reprtest\nstatus: registered\nnotes: ['n1']\npurpose: p\nuser: tester\n\
                    host: testhost\ntimestamps:\n  created: 26-11-27-18-03-54-234737\n  registered: 26-11-27-18-03-54-234762\n\
                    messages:\nversion:\n  module: xmen.examples.hello_world\n  class: HelloWorld\n  path: /data/xrun/xmen/examples\n\
                    meta:\n  mac: 0x2fc00000001\n  host: localhost\n  user: root\n  home: /data/xrun/home\n\
                    parameters:\n  a: Hello\n  b: World\n";
        assert_eq!(record_text(&rec), want);
    }
}

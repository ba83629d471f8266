//! What we write is read by the original's YAML library, ruamel.yaml, to the same values.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use xmen_core::Value;
use xmen_record::yaml;
use xmen_record::{GlobalConfig, Keep, Param, Record, RecordError, Status};

/// Load each file with ruamel's round-trip loader (as the original does) and print one JSON
/// line per file; non-finite floats and dates are tagged so they cannot pass for anything else.
const LOADER: &str = r#"
import datetime, json, math, sys
from ruamel.yaml import YAML

def plain(v):
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return {"$float": repr(float(v))} if not math.isfinite(v) else float(v)
    if isinstance(v, str):
        return str(v)
    return {"$other": type(v).__name__, "repr": repr(v)}

for path in sys.argv[1:]:
    with open(path) as f:
        data = YAML().load(f)
    print(json.dumps(plain(data), ensure_ascii=True))
"#;

/// `{"$float": "inf"}` back to a float.
fn untag(v: Value) -> Value {
    match v {
        Value::Map(m) => {
            if let [(k, Value::Str(s))] = m.as_slice() {
                if k == "$float" {
                    return Value::Float(s.parse().unwrap_or(f64::NAN));
                }
            }
            Value::Map(m.into_iter().map(|(k, v)| (k, untag(v))).collect())
        }
        Value::List(l) => Value::List(l.into_iter().map(untag).collect()),
        other => other,
    }
}

/// Equality where NaN equals NaN.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        _ => a == b,
    }
}

fn ruamel_load(py: &Path, files: &[PathBuf]) -> Vec<Value> {
    let out = Command::new(py).arg("-c").arg(LOADER).args(files).output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => panic!("ruamel failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("{}: {e}", py.display()),
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| match yaml::parse(l, Path::new("<json>")) {
            Ok(v) => untag(v),
            Err(e) => panic!("{l}: {e}"),
        })
        .collect()
}

fn tricky() -> Record {
    let s = |x: &str| Value::Str(x.into());
    let mut r = Record::new(vec![
        Param::new("yes_str", "yes", "a YAML 1.1 boolean spelling"),
        Param::new("num_str", "3", ""),
        Param::new("empty", "", ""),
        Param::new("mac", "0x2fc00000001", ""),
        Param::new("duration", "0:00:00.1", "looks sexagesimal"),
        Param::new("last", "06:01PM 27/11/26", ""),
        Param::new("date", "2001-12-14", ""),
        Param::new("null_str", "null", ""),
        Param::new("colon", "a: b # c", ""),
        Param::new("quote", "it's \"quoted\"", ""),
        Param::new("multi", "two\nlines\ttab", ""),
        Param::new("unicode", "café ☕", ""),
        Param::new("lr", 1e-8, "lr: float=1e-08 ~ tiny"),
        Param::new("small", 0.001, ""),
        Param::new("one", 1.0, ""),
        Param::new("big", 1e16, ""),
        Param::new("inf", f64::INFINITY, ""),
        Param::new("ninf", f64::NEG_INFINITY, ""),
        Param::new("nan", f64::NAN, ""),
        Param::new("int", -42, ""),
        Param::new("flag", false, ""),
        Param::new("none", Value::None, ""),
        Param::new("sizes", vec![3, 4], ""),
        Param::new("empty_list", Value::List(vec![]), ""),
        Param::new(
            "opt",
            Value::Map(vec![
                ("beta".into(), Value::Float(0.5)),
                ("eps".into(), Value::Float(1e-8)),
                (
                    "nested".into(),
                    Value::List(vec![Value::Map(vec![("k".into(), s("v"))]), Value::List(vec![1.into()])]),
                ),
                ("3".into(), s("numeric key")),
            ]),
            "",
        ),
    ]);
    r.root = Some("/tmp/exp with space/a=[1, 2]".into());
    r.status = Status::Running;
    r.purpose = Some("check: the 'purpose' # here".into());
    r.notes = vec!["note one".into(), "yes".into()];
    r.user = Some("tester".into());
    r.host = Some("host".into());
    r.timestamps.created = Some("26-11-27-17-59-25-862242".into());
    r.hooks =
        Some(Value::List(vec![Value::Map(vec![("logger".into(), Value::Map(vec![("spec".into(), s("loss@1e"))]))])]));
    r
}

#[test]
fn ruamel_reads_what_we_write_to_the_same_values() -> Result<(), RecordError> {
    let Some(py) = common::python_with_ruamel() else {
        return Ok(());
    };
    let t = tempfile::tempdir().map_err(|e| RecordError::io("create", "tempdir", e))?;
    let mut rec = tricky();
    rec.message(
        &[
            ("loss".into(), 0.25.into()),
            ("acc".into(), 3.into()),
            ("list".into(), Value::List(vec![1.into(), 2.into()])),
        ],
        Keep::Latest,
        None,
    )?;
    let texts = [
        ("params.yml", rec.to_params_yaml()?),
        ("manager.yml", rec.to_manager_yaml()?),
        ("defaults.yml", rec.to_defaults_yaml()?),
        ("xmen.yml", GlobalConfig { linked: vec!["/a b".into(), "/c".into()], ..GlobalConfig::default() }.to_yaml()?),
    ];
    let mut files = Vec::new();
    for (name, text) in &texts {
        let p = t.path().join(name);
        std::fs::write(&p, text).map_err(|e| RecordError::io("write", &p, e))?;
        files.push(p);
    }
    let theirs = ruamel_load(&py, &files);
    assert_eq!(theirs.len(), texts.len());
    for ((name, text), their) in texts.iter().zip(&theirs) {
        let ours = yaml::parse(text, Path::new(name))?;
        assert!(same(&ours, their), "{name}:\n{text}\nours:   {ours:?}\ntheirs: {their:?}");
    }
    // and our reader gives back the record we wrote
    let back = Record::from_yaml_str(&texts[0].1)?;
    assert_eq!(back.params.len(), rec.params.len());
    for b in &rec.params {
        let a = back.param(&b.name);
        assert!(a.is_some_and(|a| same(&a.value, &b.value) && a.help == b.help), "{a:?} != {b:?}");
    }
    assert_eq!((back.notes, back.purpose, back.root, back.hooks), (rec.notes, rec.purpose, rec.root, rec.hooks));
    Ok(())
}

#[test]
fn the_spec_golden_files_load_in_ruamel_as_in_our_reader() -> Result<(), RecordError> {
    let Some(py) = common::python_with_ruamel() else {
        return Ok(());
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let files: Vec<PathBuf> =
        ["defaults.yml", "params_manager.yml", "params_experiment.yml"].iter().map(|n| dir.join(n)).collect();
    for (f, their) in files.iter().zip(ruamel_load(&py, &files)) {
        let text = std::fs::read_to_string(f).map_err(|e| RecordError::io("read", f, e))?;
        let ours = yaml::parse(&text, f)?;
        assert!(same(&ours, &their), "{}: {ours:?} vs {their:?}", f.display());
    }
    Ok(())
}

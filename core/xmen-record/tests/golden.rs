//! Golden files in the original's layouts (docs/file-formats.md): what we write must be byte-identical, and what the
//! original wrote must read back to the same record.

use std::path::{Path, PathBuf};

use xmen_core::Value;
use xmen_record::{register, GlobalConfig, Layout, Param, Record, RecordError, RegisterOpts, Status, Timestamps};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)
}

fn read(name: &str) -> String {
    match std::fs::read_to_string(golden(name)) {
        Ok(s) => s,
        Err(e) => panic!("{name}: {e}"),
    }
}

/// Compare with a golden file; `XMEN_BLESS=1` rewrites it instead.
fn check(name: &str, got: &str) {
    if std::env::var_os("XMEN_BLESS").is_some() {
        if let Err(e) = std::fs::write(golden(name), got) {
            panic!("{name}: {e}");
        }
        return;
    }
    let want = read(name);
    assert!(want == got, "{name} differs:\n--- want\n{want}\n--- got\n{got}");
}

fn map(pairs: &[(&str, &str)]) -> Value {
    Value::Map(pairs.iter().map(|(k, v)| ((*k).to_owned(), Value::Str((*v).to_owned()))).collect())
}

fn hello_world() -> Record {
    let mut r = Record::new(vec![
        Param::new("a", "Hello", "a: str='Hello' ~ The first argument"),
        Param::new("b", "World", "b: str='World' ~ The second argument"),
    ]);
    r.host = Some("testhost".into());
    r.user = Some("tester".into());
    r.meta =
        Some(map(&[("mac", "0x2fc00000001"), ("host", "localhost"), ("user", "root"), ("home", "/data/xrun/home")]));
    r.version = Some(map(&[
        ("module", "xmen.examples.hello_world"),
        ("class", "HelloWorld"),
        ("path", "/data/xrun/xmen/examples"),
    ]));
    r
}

fn registered() -> Record {
    let mut r = hello_world();
    r.root = Some("/data/xrun/exps2/a=Hello__b=World".into());
    r.status = Status::Registered;
    r.purpose = Some(String::new());
    r.timestamps = Timestamps {
        created: Some("26-11-27-17-59-25-862242".into()),
        registered: Some("26-11-27-17-59-25-862242".into()),
        ..Timestamps::default()
    };
    r
}

#[test]
fn defaults_yml_matches_spec_3_1() -> Result<(), RecordError> {
    check("defaults.yml", &hello_world().to_defaults_yaml()?);
    // and the original's file reads back to the same record
    let back = Record::from_yaml_str(&read("defaults.yml"))?;
    assert_eq!(back, hello_world());
    Ok(())
}

#[test]
fn manager_params_yml_matches_spec_3_2() -> Result<(), RecordError> {
    let mut r = registered();
    r.version = Some(map(&[("path", "/data/xrun/xmen/examples")]));
    r.layout = Layout::Manager;
    check("params_manager.yml", &r.to_manager_yaml()?);
    let back = Record::from_yaml_str(&read("params_manager.yml"))?;
    assert_eq!(back.layout, Layout::Manager);
    assert_eq!(back, r);
    // a record read in the manager's layout is written back in it, byte for byte
    assert_eq!(back.to_yaml()?, read("params_manager.yml"));
    Ok(())
}

#[test]
fn experiment_params_yml_is_alphabetical_with_full_help_lines() -> Result<(), RecordError> {
    let mut r = registered();
    r.status = Status::Finished;
    r.timestamps.start = Some("26-11-27-17-59-26-000001".into());
    r.timestamps.stopped = Some("26-11-27-17-59-27-000002".into());
    r.timestamps.last = Some("26-11-27-17-59-26-500000".into());
    r.messages = vec![("loss".into(), Value::Float(0.5)), ("acc".into(), Value::Int(10))];
    r.notes = vec!["a first note".into()];
    check("params_experiment.yml", &r.to_params_yaml()?);
    let back = Record::from_yaml_str(&read("params_experiment.yml"))?;
    assert_eq!(back.layout, Layout::Experiment);
    assert_eq!(back, r);
    Ok(())
}

/// Replace what varies between machines and runs with placeholders.
fn mask(text: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (from, to) in pairs {
        if !from.is_empty() {
            out = out.replace(from, to);
        }
    }
    let date = regex::Regex::new(r"\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{6}");
    match date {
        Ok(re) => re.replace_all(&out, "<DATE>").into_owned(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_registered_experiment_matches_its_golden_file() -> Result<(), RecordError> {
    let t = tempfile::tempdir().map_err(|e| RecordError::io("create", "tempdir", e))?;
    let root = t.path().join("a=Hello__b=World");
    let mut rec = Record::new(hello_world().params);
    rec.user = Some("tester".into());
    rec.host = Some("testhost".into());
    rec.version = Some(map(&[("path", "/data/xrun/xmen/examples")]));
    let opts = RegisterOpts { config_dir: Some(t.path().join("cfg")), ..RegisterOpts::default() };
    let reg = register(&root, rec, &opts)?;
    let text =
        std::fs::read_to_string(reg.root.join("params.yml")).map_err(|e| RecordError::io("read", &reg.root, e))?;
    let meta = reg.record.meta.clone().unwrap_or(Value::None);
    let field = |k: &str| meta.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let root_text = root.display().to_string();
    // Machines without a network interface have no `mac`: leave it out of the comparison.
    let text = text.replace(&format!("  mac: '{}'\n", field("mac")), "");
    let masked = mask(
        &text,
        &[
            (&root_text, "<ROOT>"),
            (&format!("host: {}\n", field("host")), "host: <HOST>\n"),
            (&format!("user: {}\n", field("user")), "user: <USER>\n"),
            (&format!("home: {}\n", field("home")), "home: <HOME>\n"),
        ],
    );
    check("registered_masked.yml", &masked);
    assert_eq!(GlobalConfig::load(&t.path().join("cfg"))?.linked, [root_text]);
    Ok(())
}

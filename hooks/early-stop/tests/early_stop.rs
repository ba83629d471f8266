//! The EarlyStop hook in-process on its own declared examples, and its stop rule.
#![allow(clippy::unwrap_used, missing_docs)]

use xmen::{Capture, Monitor, NewHook, Options, Spec, Value};
use xmen_hook_early_stop::{Condition, EarlyStop, EarlyStopper};

fn hook(spec: &str, options: &[(String, Value)]) -> Result<EarlyStopper, xmen::HookError> {
    EarlyStopper::new(&Spec::parse(spec).unwrap(), &Options::new(options))
}

#[test]
fn every_declared_example_constructs_with_default_options() {
    for example in EarlyStopper::EXAMPLES {
        assert!(hook(example, &[]).is_ok(), "{example}");
    }
}

#[test]
fn the_window_stops_after_memory_appends_without_improvement() {
    // (condition, memory, values, stops after the n-th value (1-based) or never)
    let table: [(Condition, usize, &[f64], Option<usize>); 6] = [
        (Condition::Max, 2, &[1.0, 2.0, 1.5, 1.9], Some(4)),
        (Condition::Max, 2, &[1.0, 2.0, 1.5, 2.5, 2.4], None),
        (Condition::Min, 3, &[5.0, 4.0, 4.0, 4.5, 4.1], Some(5)),
        (Condition::Min, 1, &[3.0, 2.0, 1.0, 0.5], None),
        (Condition::Min, 1, &[3.0, 3.0], Some(2)),
        (Condition::Max, 2, &[1.0, f64::NAN, f64::NAN], Some(3)),
    ];
    for (cond, memory, values, want) in table {
        let mut es = EarlyStop::new(cond, memory);
        let mut stopped = None;
        for (i, v) in values.iter().enumerate() {
            es.append(*v, Vec::new());
            if es.stop() && stopped.is_none() {
                stopped = Some(i + 1);
            }
        }
        assert_eq!(stopped, want, "{cond:?} memory={memory} {values:?}");
    }
}

#[test]
fn a_monitor_stops_with_the_originals_message() {
    let out = Capture::new();
    let opts = vec![("condition".to_owned(), Value::from("min")), ("memory".to_owned(), Value::from(2))];
    let m = Monitor::builder()
        .hook_at("val_loss@1e", hook("val_loss@1e", &opts).unwrap())
        .output(out.clone())
        .build()
        .unwrap();
    let losses = [0.9, 0.5, 0.6, 0.55, 0.4, 0.3];
    let mut epochs = 0;
    for epoch in m.iter(0..losses.len()) {
        for _ in m.iter(0..3) {}
        m.set("val_loss", losses[epoch]);
        epochs += 1;
    }
    let text = out.text();
    assert_eq!(epochs, 4, "{text}");
    let want = "----- EarlyStop(True, memory=2, condition='min', best=0.5, count=4, tags={'step': 6, 'epoch': 2}) ----";
    assert!(text.lines().any(|l| l.ends_with(want)), "{text}");
}

#[test]
fn bad_options_name_the_option_and_the_fix() {
    type Case = (&'static str, Vec<(String, Value)>, &'static str);
    let table: [Case; 4] = [
        ("x@1e", vec![("condition".into(), Value::from("up"))], "max or min"),
        ("x@1e", vec![("memory".into(), Value::from(0))], "positive integer"),
        ("x@1e", vec![("patience".into(), Value::from(3))], "unknown option \"patience\""),
        ("x", vec![], "needs a modulo spec"),
    ];
    for (spec, opts, want) in table {
        let e = hook(spec, &opts).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains(want), "{spec} {opts:?}: {e:?}");
    }
}

#[test]
fn several_matched_variables_need_the_variable_option() {
    let out = Capture::new();
    let m = Monitor::builder().hook_at("loss@1s", hook("loss@1s", &[]).unwrap()).output(out.clone()).build().unwrap();
    m.set("loss", 1.0);
    m.set("loss_val", 2.0);
    for _ in m.iter(0..1) {}
    assert!(out.text().contains("set `options: {variable: loss}`"), "{}", out.text());
}

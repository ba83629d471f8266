//! `load` with the original's defects fixed: exact step match, counters from the first object loaded, skip and
//! warn per missing object, empty folders, and nothing changed when `attempt` is off and
//! something is missing.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;

use xmen::checkpoint::{format, load, CheckpointError, Json, LoadOptions, Tracked};
use xmen::{Monitor, Snapshot, StateDict, Tensor, Value};

fn tensors(v: f32) -> Tracked<Vec<(String, Tensor)>> {
    Tracked::new(vec![("w".to_owned(), Tensor::from_f32(&[1], &[v]))])
}

/// Write `{dir}/{name}/{step}.safetensors` holding `w = step` and the given counters.
fn write(dir: &Path, name: &str, counters: [u64; 5]) {
    let snap = Snapshot {
        type_name: "test".into(),
        state: StateDict {
            tensors: vec![("w".into(), Tensor::from_f32(&[1], &[counters[0] as f32]))],
            metadata: vec![],
        },
    };
    format::save(&dir.join(name), &snap, counters, None).unwrap();
}

fn value(t: &Tracked<Vec<(String, Tensor)>>) -> f64 {
    t.lock()[0].1.to_f64_vec()[0]
}

#[test]
fn a_step_is_matched_exactly_never_as_a_substring() {
    let tmp = tempfile::tempdir().unwrap();
    for s in [20, 120, 200] {
        write(tmp.path(), "model", [s, s / 20, 0, 0, 0]);
    }
    let model = tensors(0.0);
    let loaded = load(tmp.path(), Some(20), false, [("model", Value::from(&model))]).unwrap();
    assert_eq!((value(&model), loaded.counters), (20.0, Some([20, 1, 0, 0, 0])));
    let loaded = load(tmp.path(), None, false, [("model", Value::from(&model))]).unwrap();
    assert_eq!((value(&model), loaded.objects[0].step), (200.0, 200), "the newest by step, not by name");
}

#[test]
fn counters_come_from_the_first_object_loaded_and_missing_ones_are_skipped_with_the_originals_words() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "b", [40, 2, 0, 0, 0]);
    write(tmp.path(), "c", [60, 3, 0, 0, 0]);
    std::fs::create_dir_all(tmp.path().join("empty")).unwrap();
    let (a, b, c, e) = (tensors(-1.0), tensors(-1.0), tensors(-1.0), tensors(-1.0));
    let objects = [("a", Value::from(&a)), ("empty", Value::from(&e)), ("b", Value::from(&b)), ("c", Value::from(&c))];
    let loaded = load(tmp.path(), None, true, objects.clone()).unwrap();
    assert_eq!(loaded.counters, Some([40, 2, 0, 0, 0]), "from `b`, the first object loaded");
    assert_eq!((value(&a), value(&b), value(&c), value(&e)), (-1.0, 40.0, 60.0, -1.0));
    assert_eq!(loaded.warnings, ["Keys ['a', 'empty'] were not found in the checkpoint"]);

    // A missing step is skipped per object; the others still load.
    write(tmp.path(), "b", [60, 3, 0, 0, 0]);
    let loaded = load(tmp.path(), Some(60), true, [("b", Value::from(&b)), ("c", Value::from(&c))]).unwrap();
    assert_eq!(loaded.objects.len(), 2);
    let loaded = load(tmp.path(), Some(40), true, [("c", Value::from(&c)), ("b", Value::from(&b))]).unwrap();
    assert_eq!(
        loaded.warnings,
        [format!("Could not find checkpoint at step 40 for {}", tmp.path().join("c").display())]
    );
    assert_eq!((loaded.counters, value(&b)), (Some([40, 2, 0, 0, 0]), 40.0));

    // Without attempt: every problem is reported and nothing changes.
    let before = (value(&b), value(&c));
    let err = load(tmp.path(), Some(40), false, objects).err().unwrap();
    let text = err.to_string();
    assert!(matches!(err, CheckpointError::Partial(ref v) if v.len() == 2), "{text}");
    assert!(
        text.contains("Could not find checkpoint at step 40 for") && text.contains("Keys ['a', 'empty']"),
        "{text}"
    );
    assert_eq!((value(&b), value(&c)), before);
}

#[test]
fn an_empty_or_missing_folder_has_no_checkpoints() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("model")).unwrap();
    let model = tensors(1.0);
    for dir in [tmp.path().to_path_buf(), tmp.path().join("nowhere")] {
        let loaded = load(&dir, None, true, [("model", Value::from(&model))]).unwrap();
        assert_eq!(loaded.warnings, [format!("No checkpoints exist in {}", dir.display())]);
        let err = load(&dir, None, false, [("model", Value::from(&model))]).err().unwrap();
        assert!(matches!(err, CheckpointError::NoCheckpoints { .. }), "{err}");
    }
    assert_eq!(value(&model), 1.0);
}

#[test]
fn a_value_without_state_and_a_refused_state_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "model", [5, 0, 0, 0, 0]);
    let wrong = Tracked::new(Json(String::new()));
    let loaded = load(tmp.path(), None, true, [("model", Value::from(&wrong)), ("lr", Value::Float(0.1))]).unwrap();
    assert!(loaded.objects.is_empty());
    let text = loaded.warnings.join("\n");
    assert!(text.contains("Value for key = lr does not have a state_dict (it is a float)"), "{text}");
    assert!(text.contains("cannot restore `model` from") && text.contains("no `json` metadata"), "{text}");
}

#[test]
fn monitor_load_restores_counters_and_logs_without_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path().join("checkpoints").as_path(), "model", [30, 3, 1, 0, 0]);
    let model = tensors(0.0);
    let m = Monitor::builder().directory(tmp.path()).output(std::io::sink()).build().unwrap();
    m.load([("model", Value::from(&model))]).unwrap();
    assert_eq!(m.counters(), [30, 3, 1, 0, 0]);
    let opts = LoadOptions { update_counters: false, step: Some(30), ..LoadOptions::default() };
    let m = Monitor::builder().directory(tmp.path()).output(std::io::sink()).build().unwrap();
    m.load_with(&opts, [("model", Value::from(&model))]).unwrap();
    assert_eq!(m.counters(), [0; 5]);
    let m = Monitor::plain();
    assert_eq!(m.load([("model", Value::from(&model))]).unwrap(), Default::default());
}

#[test]
fn serde_values_round_trip_through_a_checkpoint() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq, Clone)]
    struct Best {
        acc: f64,
        epoch: u32,
    }
    let tmp = tempfile::tempdir().unwrap();
    let best = Tracked::new(Json(Best { acc: 0.75, epoch: 3 }));
    let m = Monitor::builder().directory(tmp.path()).output(std::io::sink()).build().unwrap();
    m.checkpoint([("best", Value::from(&best))]).unwrap();
    best.lock().0 = Best { acc: 0.0, epoch: 0 };
    m.load([("best", Value::from(&best))]).unwrap();
    assert_eq!(best.lock().0, Best { acc: 0.75, epoch: 3 });
    let meta = format::read_metadata(&tmp.path().join("checkpoints/best/0.safetensors")).unwrap();
    assert_eq!(meta["json"], r#"{"acc":0.75,"epoch":3}"#);
}

//! Checkpoints are plain safetensors: Python's `safetensors` (the venv made by
//! scripts/python-env.sh, `XMEN_PYTHON`) reads our tensors and metadata back exactly.
#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;
use xmen::checkpoint::Tracked;
use xmen::{Monitor, Tensor};
use xmen_hook_checkpointer::policy::Policy;
use xmen_hook_checkpointer::Checkpointer;

fn python() -> Option<String> {
    let py = std::env::var("XMEN_PYTHON").ok();
    let usable = py.as_deref().is_some_and(|p| {
        Command::new(p).args(["-c", "import safetensors.numpy"]).output().is_ok_and(|o| o.status.success())
    });
    if usable {
        return py;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true: XMEN_PYTHON must name a python with safetensors (bash scripts/python-env.sh)"
    );
    eprintln!("skipped: no XMEN_PYTHON with safetensors (run bash scripts/python-env.sh)");
    None
}

#[test]
fn python_safetensors_reads_our_checkpoints() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let model = Tracked::new(vec![
        ("fc.weight".to_owned(), Tensor::from_f32(&[2, 3], &[0.5, -1.0, 2.25, 3.0, -0.125, 1e-3])),
        ("fc.bias".to_owned(), Tensor::from_f64(&[2], &[1.5, -2.5])),
    ]);
    let m = Monitor::builder()
        .directory(&dir)
        .hook_at("^model$@3s", Checkpointer::with_policy(Some(dir.clone()), Policy::default(), None))
        .output(std::io::sink())
        .build()
        .unwrap();
    m.set("model", &model);
    for _ in m.iter(0..3) {}
    drop(m);
    let file = dir.join("checkpoints/model/3.safetensors");
    let script = r#"
import json, sys
from safetensors import safe_open
from safetensors.numpy import load_file
d = load_file(sys.argv[1])
with safe_open(sys.argv[1], framework="numpy") as f:
    meta = f.metadata()
print(json.dumps({
    "tensors": {k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.ravel().tolist()} for k, v in sorted(d.items())},
    "step": meta.get("step"),
    "has_date": "date" in meta,
}))
"#;
    let out = Command::new(py).args(["-c", script]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let expected_weight = "\"fc.weight\": {\"dtype\": \"float32\", \"shape\": [2, 3], \"values\": [0.5, -1.0, 2.25, 3.0, -0.125, 0.0010000000474974513]}";
    assert!(text.contains(expected_weight), "{text}");
    assert!(text.contains("\"fc.bias\": {\"dtype\": \"float64\", \"shape\": [2], \"values\": [1.5, -2.5]}"), "{text}");
    assert!(text.contains("\"has_date\": true"), "{text}");
}

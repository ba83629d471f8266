//! Every summary kind, written through a Monitor and read back by the real
//! TensorBoard (`EventAccumulator`, the plugins' data, the HParams backend).
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use common::{python, read, Captured};
use serde_json::{json, Value as Json};
use std::path::Path;
use xmen::hooks::HookConfig;
use xmen::{DType, Monitor, NewHook, Options, Spec, Tensor, Value};
use xmen_hook_tensorboard::TensorBoard;

fn f(j: &Json) -> f64 {
    j.as_f64().unwrap()
}

fn steps(series: &Json) -> Vec<u64> {
    series.as_array().unwrap().iter().map(|p| p[0].as_u64().unwrap()).collect()
}

/// The image batch at step `s`: 3 images of 3x4x5, image k channel c = 0.1k + 0.2c + 0.01s.
fn images(s: u64) -> Tensor {
    let mut v = Vec::new();
    for k in 0..3 {
        for c in 0..3 {
            v.extend(std::iter::repeat_n(0.1 * k as f32 + 0.2 * c as f32 + 0.01 * s as f32, 20));
        }
    }
    Tensor::from_f32(&[3, 3, 4, 5], &v)
}

fn histogram_values(s: u64) -> Vec<f32> {
    (0..100).map(|k| (k as f32 - 50.0) * 0.1 * s as f32).collect()
}

fn pr_data() -> (Vec<f32>, Vec<f32>) {
    let labels: Vec<f32> = (0..40).map(|k| f32::from(k % 3 == 0)).collect();
    let preds: Vec<f32> = (0..40).map(|k| ((k * 37) % 41) as f32 / 41.0).collect();
    (labels, preds)
}

#[test]
fn every_kind_through_the_builder_and_the_cdylib_reads_back_in_tensorboard() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("params.yml"), "_root: /x\na: 1\nlr: 0.1\nname: sgd\n").unwrap();
    let out = Captured::default();
    let m = Monitor::builder()
        .directory(dir.path())
        .output(out.clone())
        .sca("^x$|^z$|^a$|^t$|^n$@5s")
        .img("^imgs$@10s")
        .img_options([
            ("normalize", Value::from(false)),
            ("padding", 1.into()),
            ("nrow", 2.into()),
            ("pad_value", 1.0.into()),
        ])
        .hist("^Z$@1s")
        .fig("^fig$@10s")
        .txt("^i$@5s")
        .vid("^mnist$@10s")
        .hooks([
            HookConfig::new("tensorboard", "^pr$@10s").option("kind", "pr_curve").option("num_thresholds", 11),
            HookConfig::new("tensorboard", "^m$@10s").option("kind", "mesh"),
        ])
        .build()
        .unwrap();
    let (labels, preds) = pr_data();
    let png = xmen_plot::Figure::new(320, 240).plot(&[1.0, 3.0, 2.0]).to_png().unwrap();
    m.set("n", Value::None);
    for i in m.iter(0..30u64) {
        let s = i + 1; // the step at which this body's values are summarised
        m.set("x", s as f64 * 0.5);
        m.set(
            "z",
            [("x", Value::from(s)), ("y", Value::from(2 * s)), ("i", Value::None)].into_iter().collect::<Value>(),
        );
        m.set("a", vec![s as f64, -(s as f64)]);
        m.set("t", Tensor::from_f32(&[2, 2], &[s as f32, s as f32 + 1.0, s as f32 + 2.0, s as f32 + 3.0]));
        m.set("Z", Tensor::from_f32(&[10, 10], &histogram_values(s)));
        m.set("imgs", images(s));
        m.set("fig", Value::Image(png.clone()));
        m.set("i", format!("Hello at step {s}"));
        m.set("mnist", Tensor::from_f32(&[2, 5, 1, 8, 8], &vec![0.5; 2 * 5 * 64]));
        m.set(
            "pr",
            [("labels", Tensor::from_f32(&[40], &labels)), ("predictions", Tensor::from_f32(&[40], &preds))]
                .into_iter()
                .collect::<Value>(),
        );
        let vertices = Tensor::from_f32(&[1, 4, 3], &[0., 0., 0., 1., 0., 0., 0., 1., 0., 0., 0., 1.]);
        let faces = Tensor {
            dtype: DType::I32,
            shape: vec![1, 2, 3],
            data: [0i32, 1, 2, 0, 2, 3].iter().flat_map(|x| x.to_le_bytes()).collect(),
        };
        let colors =
            Tensor { dtype: DType::U8, shape: vec![1, 4, 3], data: vec![255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9] };
        m.set("m", [("vertices", vertices), ("faces", faces), ("colors", colors)].into_iter().collect::<Value>());
    }
    drop(m);
    let log = out.text();
    assert!(
        log.contains(&format!("saved tb scalar summaries for ['n', 'x', 'z', 'a', 't'] at {}", dir.path().display())),
        "{log}"
    );
    assert!(!log.contains("WARNING"), "{log}");
    let Some(py) = python() else { return };
    let reference = json!({"labels": labels, "predictions": preds, "n": 11});
    let r = read(py, &dir.path().join("summaries"), None, Some(&reference));

    // Scalars: every value and step; maps, lists, tensor means; nulls skipped.
    let sc = &r["scalars"];
    let fives: Vec<u64> = (1..=6).map(|k| 5 * k).collect();
    for tag in ["x", "z_x", "z_y", "a_0", "a_1", "t"] {
        assert_eq!(steps(&sc[tag]), fives, "{tag}");
    }
    assert!(sc.get("z_i").is_none() && sc.get("n").is_none());
    for (k, s) in fives.iter().enumerate() {
        let s = *s as f64;
        let at = |tag: &str| f(&sc[tag][k][1]);
        assert_eq!(
            (at("x"), at("z_x"), at("z_y"), at("a_0"), at("a_1"), at("t")),
            (s * 0.5, s, 2.0 * s, s, -s, s + 1.5)
        );
    }

    // Histograms: TensorBoard's buckets hold exactly the values in [previous limit, limit).
    let hs = r["histograms"]["Z"].as_array().unwrap();
    assert_eq!(hs.len(), 30);
    for h in hs {
        let s = h["step"].as_u64().unwrap();
        let values: Vec<f64> = histogram_values(s).iter().map(|&v| f64::from(v)).collect();
        assert_eq!((f(&h["num"]), f(&h["min"]), f(&h["max"])), (100.0, values[0], values[99]));
        let limits: Vec<f64> = h["limits"].as_array().unwrap().iter().map(f).collect();
        let counts: Vec<f64> = h["counts"].as_array().unwrap().iter().map(f).collect();
        assert_eq!(counts[0], 0.0);
        for j in 1..limits.len() {
            let want = values.iter().filter(|&&v| v >= limits[j - 1] && v < limits[j]).count() as f64;
            assert_eq!(counts[j], want, "step {s} bucket {j}");
        }
        assert_eq!(counts.iter().sum::<f64>(), 100.0);
    }

    // Images: grid size and decoded pixels (padding 1, two per row, pad value white).
    let im = r["images"]["imgs"].as_array().unwrap();
    assert_eq!(im.iter().map(|e| e["step"].as_u64().unwrap()).collect::<Vec<_>>(), [10, 20, 30]);
    for e in im {
        let s = e["step"].as_u64().unwrap();
        assert_eq!(
            (e["width"].as_u64(), e["height"].as_u64(), e["format"].as_str()),
            (Some(13), Some(11), Some("PNG"))
        );
        let px = |x: usize, y: usize| -> Vec<u64> {
            e["pixels"][y][x].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect()
        };
        let want = |k: usize| -> Vec<u64> {
            (0..3).map(|c| (f64::from(0.1 * k as f32 + 0.2 * c as f32 + 0.01 * s as f32) * 255.0) as u64).collect()
        };
        assert_eq!(px(0, 0), [255, 255, 255]);
        assert_eq!(px(1, 1), want(0));
        assert_eq!(px(5, 4), want(0));
        assert_eq!(px(7, 1), want(1));
        assert_eq!(px(1, 6), want(2));
        assert_eq!(px(7, 6), [255, 255, 255]); // the empty fourth cell
    }

    // Figures: the PNG as it was.
    let fig = &r["images"]["fig"][0];
    assert_eq!(
        (fig["width"].as_u64(), fig["height"].as_u64(), fig["decoded_size"].clone()),
        (Some(320), Some(240), json!([320, 240]))
    );

    // Video: an animated GIF with every frame, two clips side by side.
    let vid = r["images"]["mnist"].as_array().unwrap();
    assert_eq!(vid.len(), 3);
    assert_eq!(
        (vid[0]["format"].as_str(), vid[0]["frames"].as_u64(), vid[0]["width"].as_u64(), vid[0]["height"].as_u64()),
        (Some("GIF"), Some(5), Some(16), Some(8))
    );

    // Text.
    let text = &r["tensors"]["i"];
    assert_eq!(text["plugin"], "text");
    let texts: Vec<(u64, String)> = text["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["step"].as_u64().unwrap(), e["value"][0].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(texts, fives.iter().map(|s| (*s, format!("Hello at step {s}"))).collect::<Vec<_>>());

    // PR curve: the plugin's metadata and TensorBoard's own formula.
    let pr = &r["tensors"]["pr"];
    assert_eq!((pr["plugin"].as_str(), pr["num_thresholds"].as_u64()), (Some("pr_curves"), Some(11)));
    assert_eq!(pr["events"][0]["shape"], json!([6, 11]));
    assert_eq!(pr["events"][0]["value"], r["pr_reference"]);

    // Mesh: three tensors with the mesh plugin's metadata.
    for (tag, ct, dtype) in [("m_VERTEX", 1, "float32"), ("m_FACE", 2, "int32"), ("m_COLOR", 3, "uint8")] {
        let t = &r["tensors"][tag];
        assert_eq!(t["plugin"], "mesh", "{tag}");
        assert_eq!(
            (t["mesh"]["name"].as_str(), t["mesh"]["content_type"].as_u64(), t["mesh"]["components"].as_u64()),
            (Some("m"), Some(ct), Some(14))
        );
        assert_eq!(t["events"][0]["dtype"], dtype);
    }
    assert_eq!(r["tensors"]["m_FACE"]["events"][0]["value"], json!([[[0, 1, 2], [0, 2, 3]]]));
    assert_eq!(r["tensors"]["m_COLOR"]["events"][0]["value"][0][3], json!([9, 9, 9]));

    // HParams: the session's parameters from params.yml, and its end.
    let ssi = &r["tensors"]["_hparams_/session_start_info"];
    assert_eq!(ssi["hparams"], json!({"a": 1.0, "lr": 0.1, "name": "sgd"}));
    assert_eq!(r["tensors"]["_hparams_/session_end_info"]["status"], 1);
}

fn in_process(spec: &str, options: &[(&str, Value)]) -> TensorBoard {
    let owned: Vec<(String, Value)> = options.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    TensorBoard::new(&Spec::parse(spec).unwrap(), &Options::new(&owned)).unwrap()
}

#[test]
fn an_in_process_hook_applies_prefix_and_prepend_and_reduces_tensors_by_mean() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let hook = in_process(
        "^loss|^acc@1s",
        &[("prefix", "train/".into()), ("prepend", false.into()), ("directory", d.into()), ("quiet", true.into())],
    );
    let m = Monitor::builder().hook_at("^loss|^acc@1s", hook).output(std::io::sink()).build().unwrap();
    for i in m.iter(0..100u64) {
        m.set("loss", 1.0 / (i + 1) as f64);
        m.set(
            "acc",
            [("top1", Value::from(i as f64 / 100.0)), ("top5", Value::from(i))].into_iter().collect::<Value>(),
        );
    }
    drop(m);
    let Some(py) = python() else { return };
    let r = read(py, &dir.path().join("summaries"), None, None);
    let sc = &r["scalars"];
    let mut tags: Vec<&String> = sc.as_object().unwrap().keys().collect();
    tags.sort();
    assert_eq!(tags, ["top1", "top5", "train/loss"]);
    for (k, p) in sc["train/loss"].as_array().unwrap().iter().enumerate() {
        assert_eq!(p[0].as_u64(), Some(k as u64 + 1));
        assert_eq!(f(&p[1]), f64::from((1.0 / (k + 1) as f64) as f32));
        assert_eq!(f(&sc["top5"][k][1]), k as f64);
    }
}

#[test]
fn a_monitor_without_a_directory_prints_the_originals_warning() {
    let out = Captured::default();
    let m = Monitor::builder().output(out.clone()).sca("x@2s").build().unwrap();
    for i in m.iter(0..2) {
        m.set("x", i);
    }
    drop(m);
    assert!(
        out.text().contains("WARNING: Cannot log ['x'] to tensorboard as monitor does not have a directory"),
        "{}",
        out.text()
    );
}

#[test]
fn bad_values_are_errors_naming_the_variable_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let hook = in_process("img@1s", &[("kind", "image".into()), ("directory", dir.path().to_str().unwrap().into())]);
    let out = Captured::default();
    let m = Monitor::builder().hook_at("img@1s", hook).output(out.clone()).build().unwrap();
    for _ in m.iter(0..1) {
        m.set("img", Tensor::from_f32(&[2, 3, 3], &[0.0; 18]));
    }
    drop(m);
    let text = out.text();
    assert!(text.contains("variable \"img\": an image needs 1, 3 or 4 channels"), "{text}");
    assert!(text.contains("publish a [C,H,W] or [B,C,H,W] tensor"), "{text}");
}

#[test]
fn a_sweep_appears_in_the_hparams_dashboard_with_its_parameters_and_metrics() {
    let root = tempfile::tempdir().unwrap();
    for (name, lr) in [("lr=0.1", 0.1), ("lr=0.01", 0.01)] {
        let dir = root.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("params.yml"), format!("_status: registered\nlr: {lr}\nopt: adam\n")).unwrap();
        let m = Monitor::builder()
            .directory(&dir)
            .output(std::io::sink())
            .hooks([HookConfig::new("tensorboard", "loss|acc@1s").option("metrics", vec!["loss", "acc"])])
            .build()
            .unwrap();
        for i in m.iter(0..10u64) {
            m.set("loss", lr / (i + 1) as f64);
            m.set("acc", 1.0 - lr);
        }
    }
    let Some(py) = python() else { return };
    let logdir = root.path().join("lr=0.1/summaries");
    let r = read(py, &logdir, Some(root.path()), None);
    let dash = &r["hparams_dashboard"];
    assert_eq!(dash["hparams"], json!(["lr", "opt"]));
    assert_eq!(dash["metrics"], json!(["acc", "loss"]));
    assert_eq!(dash["sessions"]["lr=0.1/summaries"], json!({"lr": 0.1, "opt": "adam"}));
    assert_eq!(dash["sessions"]["lr=0.01/summaries"], json!({"lr": 0.01, "opt": "adam"}));
    assert_eq!(r["tensors"]["_hparams_/experiment"]["metrics"], json!(["loss", "acc"]));
    let _ = Path::new("");
}

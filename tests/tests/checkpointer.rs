//! The real Checkpointer library through the builder: the original's checkpoint.py tree with
//! `ckpt_keep` given per spec (the original ignored it), top-k by a variable the builder adds to the spec, and a
//! resumed Monitor that never deletes the checkpoint it loaded.

use xmen::checkpoint::{format, Tracked};
use xmen::{Monitor, Tensor};
use xmen_tests::{built, loader, scratch, Capture};

fn object(v: f32) -> Tracked<Vec<(String, Tensor)>> {
    Tracked::new(vec![("w".to_owned(), Tensor::from_f32(&[1], &[v]))])
}

fn steps(dir: &std::path::Path) -> Vec<u64> {
    format::steps(dir).unwrap().into_iter().map(|(s, _)| s).collect()
}

#[test]
fn the_checkpoint_py_tree_through_the_builder_and_the_real_library() {
    let b = built();
    let tmp = scratch();
    let (model, model2, optimiser) = (object(1.0), object(2.0), object(3.0));
    let m = Monitor::builder()
        .loader(loader(&[&b.hooks]))
        .directory(tmp.path())
        .ckpt("^model$@5s")
        .ckpt("opt@1e")
        .ckpt("^model2$@20s")
        .ckpt_keep(5)
        .ckpt_keep(1)
        .ckpt_keep(None)
        .state("model", &model)
        .state("model2", &model2)
        .state("optimiser", &optimiser)
        .output(Capture::new())
        .build()
        .unwrap();
    for _ in m.iter(0..10) {
        for _ in m.iter(0..20) {}
    }
    let ck = tmp.path().join("checkpoints");
    assert_eq!(steps(&ck.join("model")), [180, 185, 190, 195, 200]);
    assert_eq!(steps(&ck.join("model2")), (1..=10).map(|i| i * 20).collect::<Vec<_>>());
    assert_eq!(steps(&ck.join("optimiser")), [200]);
}

#[test]
fn top_k_through_the_builder_ranks_by_a_variable_outside_the_spec() {
    let b = built();
    let tmp = scratch();
    let model = object(0.0);
    let m = Monitor::builder()
        .loader(loader(&[&b.hooks]))
        .directory(tmp.path())
        .ckpt("^model$@1e")
        .ckpt_top_k(2, "val_loss", "min")
        .state("model", &model)
        .output(Capture::new())
        .build()
        .unwrap();
    let losses = [0.9, 0.3, 0.5, 0.1, 0.8, 0.7];
    for e in m.iter(0..6) {
        for _ in m.iter(0..2) {}
        m.set("val_loss", losses[e]);
    }
    // Epoch e ends at step 2e: the best two (0.1 at step 8, 0.3 at step 4) and the newest.
    assert_eq!(steps(&tmp.path().join("checkpoints/model")), [4, 8, 12]);
}

#[test]
fn a_resumed_monitor_restores_its_objects_and_keeps_the_file_it_loaded() {
    let b = built();
    let tmp = scratch();
    let build = |model: &Tracked<Vec<(String, Tensor)>>, resume: bool, out: Capture| {
        Monitor::builder()
            .loader(loader(&[&b.hooks]))
            .directory(tmp.path())
            .ckpt("^model$@1s")
            .ckpt_keep(1)
            .state("model", model)
            .resume(resume)
            .output(out)
            .build()
            .unwrap()
    };
    let first = object(0.0);
    let m = build(&first, false, Capture::new());
    for i in m.iter(0..3) {
        first.lock()[0].1 = Tensor::from_f32(&[1], &[i as f32 + 1.0]);
    }
    drop(m);
    let second = object(-1.0);
    let out = Capture::new();
    let m = build(&second, true, out.clone());
    assert_eq!((m.step(), second.lock()[0].1.to_f64_vec()), (3, vec![3.0]));
    for _ in m.iter(0..3) {}
    drop(m);
    // keep 1, but step 3 was loaded by this run: it stays beside the newest.
    assert_eq!(steps(&tmp.path().join("checkpoints/model")), [3, 6]);
    assert!(out.text().contains("]: loaded model@3 from "), "{}", out.text());
}

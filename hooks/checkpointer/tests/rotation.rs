//! The Checkpointer in-process: the original's checkpoint.py tree, the kept file sets of
//! keep-N, top-k and keep-every after many steps, the files a resume must keep, and the
//! original's warnings.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use xmen::checkpoint::{format, Tracked};
use xmen::{Monitor, Tensor, Value};
use xmen_hook_checkpointer::policy::{Mode, Policy};
use xmen_hook_checkpointer::Checkpointer;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);
impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl Buf {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn weights(v: f32) -> Tracked<Vec<(String, Tensor)>> {
    Tracked::new(vec![("w".to_owned(), Tensor::from_f32(&[2], &[v, -v]))])
}

fn steps_in(folder: &Path) -> Vec<u64> {
    format::steps(folder).unwrap().into_iter().map(|(s, _)| s).collect()
}

fn keep(n: Option<usize>) -> Policy {
    Policy { keep: n, ..Policy::default() }
}

#[test]
fn the_checkpoint_py_tree_of_spec_5_13() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let (model, model2, optimiser) = (weights(1.0), weights(2.0), weights(3.0));
    let m = Monitor::builder()
        .directory(&dir)
        .hook_at("^model$@5s", Checkpointer::with_policy(Some(dir.clone()), keep(Some(5)), None))
        .hook_at("opt@1e", Checkpointer::with_policy(Some(dir.clone()), keep(Some(1)), None))
        .hook_at("^model2$@20s", Checkpointer::with_policy(Some(dir.clone()), keep(None), None))
        .output(std::io::sink())
        .build()
        .unwrap();
    m.set("model", &model);
    m.set("model2", &model2);
    m.set("optimiser", &optimiser);
    for _ in m.iter(0..10) {
        for _ in m.iter(0..20) {}
    }
    let ck = dir.join("checkpoints");
    let mut folders: Vec<String> =
        std::fs::read_dir(&ck).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    folders.sort();
    assert_eq!(folders, ["model", "model2", "optimiser"]);
    assert_eq!(steps_in(&ck.join("model")), [180, 185, 190, 195, 200]);
    assert_eq!(steps_in(&ck.join("model2")), (1..=10).map(|i| i * 20).collect::<Vec<_>>());
    assert_eq!(steps_in(&ck.join("optimiser")), [200]);
    // Named by the step even when epoch-triggered, with the non-zero counters in the metadata.
    let d = format::read(&ck.join("optimiser/200.safetensors")).unwrap();
    assert_eq!(d.counters, [200, 10, 0, 0, 0]);
    assert_eq!(d.state.tensor("w"), Some(&Tensor::from_f32(&[2], &[3.0, -3.0])));
    assert!(
        d.metadata["version"].contains("Vec<(alloc::string::String, xmen_core::value::Tensor)>"),
        "{:?}",
        d.metadata
    );
    assert!(regex_like_date(&d.metadata["date"]), "{}", d.metadata["date"]);
}

/// `05:59PM November 27, 2026`.
fn regex_like_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split(' ').collect();
    parts.len() == 4
        && parts[0].len() == 7
        && (parts[0].ends_with("AM") || parts[0].ends_with("PM"))
        && parts[2].ends_with(',')
        && parts[3].len() == 4
}

/// Run `steps` steps with one Checkpointer on `w` at every step; `val_loss` is set before each.
fn run(dir: &Path, policy: Policy, monitor: Option<&str>, steps: u64, score: impl Fn(u64) -> f64) -> Vec<u64> {
    let w = weights(0.0);
    let m = Monitor::builder()
        .directory(dir)
        .hook_at(
            "^w$|^val_loss$@1s",
            Checkpointer::with_policy(Some(dir.to_path_buf()), policy, monitor.map(Into::into)),
        )
        .output(std::io::sink())
        .build()
        .unwrap();
    m.set("w", &w);
    for i in m.iter(0..steps) {
        m.set("val_loss", score(i + 1));
    }
    steps_in(&dir.join("checkpoints/w"))
}

/// A deterministic, shuffled-looking score per step.
fn score(step: u64) -> f64 {
    ((step * 37 + 11) % 101) as f64 / 10.0
}

#[test]
fn keep_n_keeps_the_newest_n_after_many_steps() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(run(tmp.path(), keep(Some(3)), None, 250, score), [248, 249, 250]);
}

#[test]
fn top_k_keeps_the_k_best_and_the_newest_after_many_steps() {
    for (mode, sign) in [(Mode::Min, 1.0), (Mode::Max, -1.0)] {
        let tmp = tempfile::tempdir().unwrap();
        let policy = Policy { top_k: Some(3), mode, ..Policy::default() };
        let kept = run(tmp.path(), policy, Some("val_loss"), 250, score);
        // The expected set, by brute force: best three scores (ties: the older step), plus 250.
        let mut all: Vec<u64> = (1..=250).collect();
        all.sort_by(|&a, &b| (sign * score(a)).total_cmp(&(sign * score(b))).then(a.cmp(&b)));
        let mut want: Vec<u64> = all[..3].to_vec();
        want.push(250);
        want.sort();
        want.dedup();
        assert_eq!(kept, want, "{mode:?}");
        // The ranked value is in each file's metadata.
        let meta = format::read_metadata(&tmp.path().join(format!("checkpoints/w/{}.safetensors", want[0]))).unwrap();
        assert_eq!(meta["monitor"], "val_loss");
        assert_eq!(meta["score"].parse::<f64>().unwrap(), score(want[0]));
    }
}

#[test]
fn keep_every_keeps_multiples_besides_the_newest_n() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = Policy { keep: Some(2), keep_every: Some(25), ..Policy::default() };
    assert_eq!(run(tmp.path(), policy, None, 110, score), [25, 50, 75, 100, 109, 110]);
}

#[test]
fn top_k_ranks_the_files_a_previous_run_left_by_their_recorded_scores() {
    let tmp = tempfile::tempdir().unwrap();
    let policy = Policy { top_k: Some(2), ..Policy::default() };
    // First run: scores 5, 1, 4 at steps 1..3: the best two are steps 2 and 3.
    let first = [5.0, 1.0, 4.0];
    assert_eq!(run(tmp.path(), policy.clone(), Some("val_loss"), 3, |s| first[s as usize - 1]), [2, 3]);
    // A second Checkpointer on the same folder reads those scores back. Its step 1 (3.0)
    // replaces step 3 (4.0) in the top two, but step 3 stays as the highest step, and step 1
    // as the file just written.
    assert_eq!(run(tmp.path(), policy.clone(), Some("val_loss"), 1, |_| 3.0), [1, 2, 3]);
    // Step 1 again (3.5): the old step 1 is overwritten; 3.5 still ranks in the top two.
    assert_eq!(run(tmp.path(), policy, Some("val_loss"), 1, |_| 3.5), [1, 2, 3]);
}

#[test]
fn the_newest_file_and_the_resumed_one_are_never_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let w = weights(1.0);
    let resumed_from = dir.join("checkpoints/w/2.safetensors");
    let hook = Checkpointer::with_policy(Some(dir.clone()), keep(Some(1)), None).protect([resumed_from.clone()]);
    let m = Monitor::builder().directory(&dir).hook_at("^w$@1s", hook).output(std::io::sink()).build().unwrap();
    m.set("w", &w);
    for _ in m.iter(0..6) {}
    assert_eq!(steps_in(&dir.join("checkpoints/w")), [2, 6]);
    // With top_k only, the newest is kept even when it is the worst.
    let tmp = tempfile::tempdir().unwrap();
    let policy = Policy { top_k: Some(1), ..Policy::default() };
    assert_eq!(run(tmp.path(), policy, Some("val_loss"), 5, |s| s as f64), [1, 5]);
}

#[test]
fn maps_expand_save_dir_redirects_and_the_originals_warnings_are_logged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let save = tmp.path().join("elsewhere");
    let (g, d) = (weights(1.0), weights(2.0));
    let out = Buf::default();
    let hook = Checkpointer::with_policy(Some(dir.clone()), keep(None), None).save_dir(&save);
    let m = Monitor::builder().directory(&dir).hook_at("nets|lr|emb@2s", hook).output(out.clone()).build().unwrap();
    m.set("nets", Value::Map(vec![("g".into(), Value::from(&g)), ("d".into(), Value::from(&d))]));
    m.set("lr", 0.1);
    m.set("emb", Value::Map(vec![("table".into(), Value::Tensor(Tensor::from_f32(&[1], &[7.0])))]));
    for _ in m.iter(0..2) {}
    assert_eq!(steps_in(&save.join("nets_g")), [2]);
    assert_eq!(steps_in(&save.join("nets_d")), [2]);
    // A map of tensors is a state dict: saved as is, not expanded.
    let emb = format::read(&save.join("emb/2.safetensors")).unwrap();
    assert_eq!(emb.state.tensor("table"), Some(&Tensor::from_f32(&[1], &[7.0])));
    assert!(!dir.join("checkpoints").exists());
    let text = out.text();
    assert!(text.contains("]: Value for key = lr does not have a state_dict\n"), "{text}");
    assert!(text.contains(&format!("]: saved nets_g, nets_d, emb at {}\n", save.display())), "{text}");

    // Without a directory nothing is written.
    let out = Buf::default();
    let m = Monitor::builder()
        .hook_at("^w$@1s", Checkpointer::with_policy(None, keep(None), None))
        .output(out.clone())
        .build()
        .unwrap();
    m.set("w", &g);
    for _ in m.iter(0..1) {}
    assert!(
        out.text().ends_with("]: WARNING: Cannot checkpoint w as monitor does not have a directory\n"),
        "{}",
        out.text()
    );
}

#[test]
fn top_k_without_the_ranked_variable_fails_naming_it_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let w = weights(1.0);
    let out = Buf::default();
    let policy = Policy { top_k: Some(2), ..Policy::default() };
    let hook = Checkpointer::with_policy(Some(tmp.path().into()), policy, Some("val_acc".into()));
    let m = Monitor::builder().directory(tmp.path()).hook_at("^w$@1s", hook).output(out.clone()).build().unwrap();
    m.set("w", &w);
    for _ in m.iter(0..1) {}
    let text = out.text();
    assert!(
        text.contains("WARNING: hook Checkpointer (^w$@1s) failed: top_k ranks checkpoints by the variable `val_acc`")
            && text.contains("m.set(\"val_acc\", value)"),
        "{text}"
    );
}

#[test]
fn a_manual_checkpoint_keeps_everything_and_loads_back() {
    let tmp = tempfile::tempdir().unwrap();
    let w = weights(1.0);
    let m = Monitor::builder().directory(tmp.path()).output(std::io::sink()).build().unwrap();
    let mut written: Vec<PathBuf> = Vec::new();
    for i in m.iter(0..4) {
        w.lock()[0].1 = Tensor::from_f32(&[2], &[i as f32, 0.0]);
        written.extend(m.checkpoint([("w", Value::from(&w))]).unwrap());
    }
    assert_eq!(steps_in(&tmp.path().join("checkpoints/w")), [0, 1, 2, 3]);
    assert_eq!(written.len(), 4);
    let loaded =
        xmen::checkpoint::load(&tmp.path().join("checkpoints"), Some(2), false, [("w", Value::from(&w))]).unwrap();
    assert_eq!(loaded.counters, Some([2, 0, 0, 0, 0]));
    assert_eq!(w.lock()[0].1, Tensor::from_f32(&[2], &[2.0, 0.0]));
}

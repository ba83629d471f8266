//! The four messenger examples as real programs: the Messenger comes from its .so through
//! the loader, the records are real params.yml files. Checks the printed values against
//! the seed's expected outputs and the messages read back from disk.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use xmen_record::Record;

fn target_profile_dir() -> PathBuf {
    // .../target/<profile>/deps/<this test>
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

fn build() -> &'static PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = target_profile_dir();
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(&workspace).args(["build", "--quiet", "-p", "xmen-hook-messenger", "-p", "xmen-examples"]);
        for e in ["basic", "leader", "expand", "prepend"] {
            cmd.args(["--example", &format!("messenger_{e}")]);
        }
        if dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        cmd.env("CARGO_TARGET_DIR", dir.parent().unwrap());
        assert!(cmd.status().unwrap().success(), "building the messenger examples failed");
        dir
    })
}

fn run(example: &str) -> (String, PathBuf, tempfile::TempDir) {
    let dir = build();
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(dir.join("examples").join(example))
        .arg(tmp.path().join("exps"))
        .env("XMEN", tmp.path().join("config"))
        .env_remove("XMEN_HOOK_PATH")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{example} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let re = regex::Regex::new(r"\d\d:\d\d[AP]M \d\d/\d\d/\d\d").unwrap();
    let masked = re.replace_all(&stdout, "T").replace(&tmp.path().join("exps").display().to_string(), "EXPS");
    (masked, tmp.path().join("exps"), tmp)
}

fn messages(dir: &Path) -> Vec<(String, String)> {
    let rec = Record::load(&dir.join("params.yml")).unwrap();
    rec.messages.iter().map(|(k, v)| (k.clone(), v.to_string())).collect()
}

fn msg(dir: &Path, key: &str) -> Option<String> {
    messages(dir).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

#[test]
fn messenger_basic_prints_the_seeds_values_and_leaves_them_on_disk() {
    let (out, exps, _tmp) = run("messenger_basic");
    let values: Vec<&str> = out.lines().filter(|l| l.starts_with("ex1:")).collect();
    assert_eq!(
        values,
        [
            "ex1: y1 = None, ex1: y2 = None, ex2: y1 = None, ex2: y2 = None",
            "ex1: y1 = 10, ex1: y2 = 20, ex2: y1 = 10, ex2: y2 = 20",
            "ex1: y1 = 20, ex1: y2 = 40, ex2: y1 = 20, ex2: y2 = 40",
            "ex1: y1 = 30, ex1: y2 = 60, ex2: y1 = 30, ex2: y2 = 60",
        ]
    );
    assert!(out.contains("[T 10/40]: Left messages ['y1', 'y2'] with ex1 at EXPS/ex1\n[T 10/40]: Left messages ['y1', 'y2'] with ex2 at EXPS/ex2\n"), "{out}");
    let keys: Vec<String> = messages(&exps.join("ex1")).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["last", "s", "wall", "end", "next", "step", "m_step", "load", "m_load", "y1", "y2"]);
    for ex in ["ex1", "ex2"] {
        assert_eq!(msg(&exps.join(ex), "y1").as_deref(), Some("40"));
        assert_eq!(msg(&exps.join(ex), "y2").as_deref(), Some("80"));
        assert_eq!(msg(&exps.join(ex), "s").as_deref(), Some("40/40"));
    }
    let listed: Vec<&str> = out.split("All Messages\n").nth(1).unwrap().lines().collect();
    assert_eq!(listed.len(), 11);
    assert_eq!(listed[9..], ["y1 40", "y2 80"]);
}

#[test]
fn messenger_leader_keeps_i_at_the_best_y() {
    let (out, exps, _tmp) = run("messenger_leader");
    let values: Vec<&str> = out.lines().filter(|l| l.starts_with('[') && !l.starts_with("[T")).collect();
    assert_eq!(
        values,
        [
            "[None, None]",
            "[9, 1600]",
            "[19, 900]",
            "[29, 400]",
            "[39, 100]",
            "[49, 0]",
            "[49, 0]",
            "[49, 0]",
            "[49, 0]",
            "[49, 0]"
        ]
    );
    assert_eq!(out.lines().filter(|l| *l == "[T 100/100]: Left messages ['i', 'y'] with ex at EXPS/ex").count(), 1);
    assert_eq!(msg(&exps.join("ex"), "i").as_deref(), Some("49"));
    assert_eq!(msg(&exps.join("ex"), "y").as_deref(), Some("0"));
}

fn check_expand(example: &str, names: &str, keys: [&str; 3]) {
    let (out, exps, _tmp) = run(example);
    let values: Vec<&str> = out.lines().filter(|l| l.starts_with('[') && !l.starts_with("[T")).collect();
    assert_eq!(values.len(), 10);
    assert_eq!(values[0], "[None, None, None]");
    assert!(values[1..].iter().all(|v| *v == "[9, 225, 15]"), "{values:?}");
    assert!(out.contains(&format!("[T 10/100]: Left messages {names} with ex at EXPS/ex")), "{out}");
    let got: Vec<Option<String>> = keys.iter().map(|k| msg(&exps.join("ex"), k)).collect();
    assert_eq!(got, [Some("9".to_owned()), Some("225".to_owned()), Some("15".to_owned())]);
}

#[test]
fn messenger_expand_sends_each_entry_of_the_map() {
    check_expand("messenger_expand", "['x', 'y', 'i']", ["i", "y", "x"]);
}

#[test]
fn messenger_prepend_names_entries_after_the_map() {
    check_expand("messenger_prepend", "['z_x', 'z_y', 'z_i']", ["z_i", "z_y", "z_x"]);
}

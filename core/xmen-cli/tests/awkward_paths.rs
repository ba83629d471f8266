//! Any path and any value runs: a set whose path holds spaces, both quote kinds, `$`, `%`, `*`,
//! `[`, `;`, unicode and a leading `-`, swept over string values holding the same, goes through
//! register → run → list → note → move → relink → reset → run again with the real `xmen` and a
//! real Rust experiment (`hello_world`, which prints `{a} {b}!`).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};

use common::{describe, read, top_value, Env};

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The experiment folders of a set, from its experiment.yml's own record of them.
fn runs(set: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(set)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("params.yml").is_file())
        .collect();
    v.sort();
    v
}

const VALUES: [&str; 6] = ["two words", "it's \"quoted\"", "$HOME %j", "*[;", "λ 日本", "-lead"];

fn assert_all_finished(set: &Path, out: &str) {
    let runs = runs(set);
    assert_eq!(runs.len(), VALUES.len(), "{runs:?}");
    for run in &runs {
        assert_eq!(top_value(&run.join("params.yml"), "_status"), "finished", "{}:\n{out}", run.display());
    }
    for v in VALUES {
        assert!(out.contains(&format!("{v} x;y 'b'!")), "{v} did not run as typed:\n{out}");
    }
}

#[test]
fn r13_awkward_paths_and_values_go_through_every_command() {
    let exe = common::hello_world().expect("the hello_world example builds");
    let env = Env::new();
    let set = env.path("it's \"odd\" $HOME %j *[;λ 日本/-set one");
    env.ok(&["init", "-n", &s(&exe), "-r", &s(&set), "--purpose", "awkward"]);
    // The alternatives as one YAML string, split at `|`, each piece a single-quoted YAML
    // scalar (`''` is a quote inside it); `"` and `\` escaped for the outer double quotes.
    let pieces: Vec<String> = VALUES.iter().map(|v| format!("'{}'", v.replace('\'', "''"))).collect();
    let joined = pieces.join(" | ").replace('\\', "\\\\").replace('"', "\\\"");
    let sweep = format!("{{a: \"{joined}\", b: \"x;y 'b'\"}}");
    env.ok(&["register", "-r", &s(&set), "-u", &sweep]);
    assert_eq!(runs(&set).len(), VALUES.len());

    let out = env.ok(&["run", "-r", &s(&set), "*", "bash"]);
    assert_all_finished(&set, &out);

    // list, from inside the set and by its path
    let listed = String::from_utf8_lossy(&env.run_in(&set, &["list", "-s"], None).stdout).into_owned();
    assert_eq!(listed.matches("finished").count(), VALUES.len(), "{listed}");
    let by_path = env.run(&["list", "-s", &s(&set)]);
    assert!(by_path.status.success(), "{}", describe(&by_path));
    assert_eq!(String::from_utf8_lossy(&by_path.stdout).matches("finished").count(), VALUES.len());

    // note one run by a pattern with glob characters escaped
    env.ok(&["note", "-r", &s(&set), "a=two words*", "a note with 'quotes' and $dollars"]);
    let noted = runs(&set).into_iter().find(|r| s(r).contains("two words")).unwrap();
    assert!(read(&noted.join("params.yml")).contains("a note with 'quotes' and $dollars"));

    // move to another awkward place, then move by hand and relink
    let moved = env.path("moved %d [b] 'q'/-x;y");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    env.ok(&["move", "-r", &s(&set), &s(&moved)]);
    let by_hand = env.path("by hand $x \"dq\"/λ*");
    std::fs::create_dir_all(by_hand.parent().unwrap()).unwrap();
    std::fs::rename(&moved, &by_hand).unwrap();
    env.ok(&["relink", "-r", &s(&by_hand)]);
    for run in runs(&by_hand) {
        assert_eq!(top_value(&run.join("params.yml"), "_root"), s(&run));
    }

    // reset and run again from the new place
    env.ok(&["reset", "-r", &s(&by_hand), "*"]);
    let out = env.ok(&["run", "-r", &s(&by_hand), "*", "bash"]);
    assert_all_finished(&by_hand, &out);
}

//! Issue 14 item 6: common mistakes are answered with the fix, each driven through the real
//! `xmen` binary from an empty temporary folder.

mod common;

use std::path::Path;
use std::process::Command;

use common::{describe, Env};

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A set whose defaults hold `lr`, `sleep_ms` and a map `opt`.
fn set(env: &Env) -> std::path::PathBuf {
    let src = env.path("src");
    std::fs::create_dir_all(&src).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(src.join("defaults.yml"), "lr: 0.1\nsleep_ms: 5\nopt:\n  beta: 0.9\n")
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(src.join("script.sh"), "#!/bin/bash\ncat \"$1\" > /dev/null\n").unwrap_or_else(|e| panic!("{e}"));
    let d = s(&src.join("defaults.yml"));
    let sc = s(&src.join("script.sh"));
    env.ok(&["init", "-d", &d, "-s", &sc, "-r", "set"]);
    env.path("set")
}

/// Folder names (not hidden) under `dir`.
fn visible(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| !n.starts_with('.')).collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn r14_register_given_key_value_words_suggests_the_u_form() {
    let env = Env::new();
    let root = set(&env);
    let err = env.fails(&["register", "-r", &s(&root), "lr=0.1", "sleep_ms=3"]);
    assert!(err.contains("xmen register -u '{lr: 0.1, sleep_ms: 3}'"), "{err}");
    assert_eq!(visible(&root), ["defaults.yml", "experiment.yml", "script.sh"]);
}

#[test]
fn r14_a_list_for_a_scalar_suggests_alternatives_with_a_bar() {
    let env = Env::new();
    let root = set(&env);
    let err = env.fails(&["register", "-r", &s(&root), "-u", "{lr: [0.1, 0.01]}"]);
    assert!(err.contains("write the alternatives with `|`: `0.1 | 0.01`"), "{err}");
}

#[test]
fn r14_a_mistyped_parameter_gets_did_you_mean() {
    let env = Env::new();
    let root = set(&env);
    let err = env.fails(&["register", "-r", &s(&root), "-u", "{seed_ms: 0}"]);
    assert!(err.contains("seed_ms (did you mean `sleep_ms`?)"), "{err}");
    // A name close to nothing gets no guess.
    let err = env.fails(&["register", "-r", &s(&root), "-u", "{zzzzzz: 0}"]);
    assert!(!err.contains("did you mean"), "{err}");
}

#[test]
fn r14_registering_the_same_configuration_again_needs_force() {
    let env = Env::new();
    let root = set(&env);
    let r = s(&root);
    env.ok(&["register", "-r", &r, "-u", "{lr: 0.2 | 0.3}"]);
    env.ok(&["register", "-r", &r, "-u", "{opt: {beta: 0.5}}"]);
    let before = visible(&root);
    // The same values, written differently (0.30 is 0.3; a map gives the same merged map).
    for u in ["{lr: 0.30 | 0.4}", "{opt: {beta: 0.5, }}"] {
        let err = env.fails(&["register", "-r", &r, "-u", u]);
        assert!(err.contains("nothing registered") && err.contains("--force"), "{u}: {err}");
        assert_eq!(visible(&root), before, "{u}: nothing was created");
    }
    let err = env.fails(&["register", "-r", &r, "-u", "{lr: 0.3}"]);
    assert!(err.contains("`lr=0.3`"), "{err}");
    // A name given again with the same configuration is a copy; another name is another run.
    env.ok(&["register", "-r", &r, "-n", "base"]);
    let err = env.fails(&["register", "-r", &r, "-n", "base"]);
    assert!(err.contains("`base`"), "{err}");
    env.ok(&["register", "-r", &r, "-n", "base_seed2"]);
    // -x repeats within one registration are not duplicates; --force registers copies.
    env.ok(&["register", "-r", &r, "-u", "{lr: 0.7}", "-x", "2"]);
    let out = env.ok(&["register", "-r", &r, "-u", "{lr: 0.3}", "--force"]);
    assert!(out.contains("lr=0.3_1"), "{out}");
}

#[test]
fn r14_lock_files_are_hidden_and_old_visible_ones_are_removed() {
    let env = Env::new();
    let root = set(&env);
    let r = s(&root);
    env.ok(&["register", "-r", &r, "-u", "{lr: 0.2 | 0.3}"]);
    // An older xmen left visible lock files: the next write locks and removes them.
    std::fs::write(root.join("lr=0.2/params.yml.lock"), "").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(root.join("experiment.yml.lock"), "").unwrap_or_else(|e| panic!("{e}"));
    env.ok(&["note", "-r", &r, "lr=0.2", "checked"]);
    env.ok(&["unlink", "-r", &r, "lr=0.3"]);
    env.ok(&["relink", "-r", &r, "-e", "lr=0.3"]);
    for dir in [root.clone(), root.join("lr=0.2"), env.cfg()] {
        let locks: Vec<String> = visible(&dir).into_iter().filter(|n| n.ends_with(".lock")).collect();
        assert!(locks.is_empty(), "{}: {locks:?}", dir.display());
    }
    assert!(root.join("lr=0.2/.params.yml.lock").is_file() && root.join(".experiment.yml.lock").is_file());
    // `xmen run * bash` unquoted: the shell's `*` meets no lock file, and the message says to quote.
    let out = Command::new("bash")
        .args(["-c", &format!("cd {} && \"$0\" run * bash", xmen_record::shell::quote(&r)), env!("CARGO_BIN_EXE_xmen")])
        .env("XMEN", env.cfg())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(!err.contains(".lock") && err.contains("quote the pattern: `xmen run '*' bash`"), "{err}");
}

//! Issue 14 item 4: a table a person can read. From empty temporary folders: a set made with the
//! real `xmen init`/`register`, the runs' messages written as a run writes them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{describe, xmen_with_env, Env};

const LONG: &str = "a_rather_long_model_name_that_goes_on_and_on";

/// Six runs: `lr` × `model`, one long model name; `seed` is the same everywhere.
fn sweep(env: &Env) -> PathBuf {
    let src = env.path("src");
    std::fs::create_dir_all(&src).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(src.join("defaults.yml"), "_meta: {}\nlr: 0.1\nmodel: mlp\nseed: 7\n")
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(src.join("script.sh"), "#! /bin/bash\ncat \"$1\"\n").unwrap_or_else(|e| panic!("{e}"));
    let d = src.join("defaults.yml").display().to_string();
    let s = src.join("script.sh").display().to_string();
    env.ok(&["init", "-d", &d, "-s", &s, "-r", "sets/big"]);
    let set = env.path("sets/big");
    let out = env.run_in(&set, &["register", "-u", &format!("{{lr: 0.1 | 0.01 | 0.001, model: mlp | {LONG}}}")], None);
    assert!(out.status.success(), "{}", describe(&out));
    for run in runs(&set) {
        let path = run.join("params.yml");
        let text = common::read(&path).replace("_messages: {}", "_messages:\n  loss: 0.0372147291\n ");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    }
    set
}

fn runs(set: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(set)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("params.yml").is_file())
        .collect();
    v.sort();
    v
}

fn list(env: &Env, cwd: &Path, args: &[&str], columns: Option<&str>) -> String {
    let mut all = vec!["list"];
    all.extend_from_slice(args);
    let out: Output = match columns {
        Some(c) => xmen_with_env(env, cwd, &all, &[("COLUMNS", c)]),
        None => xmen_with_env(env, cwd, &all, &[]),
    };
    assert!(out.status.success(), "{args:?}: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn roots_are_relative_to_their_common_folder_and_long_cells_keep_both_ends() {
    let env = Env::new();
    let set = sweep(&env);
    let out = list(&env, env.dir(), &["sets/big", "-f", "lr"], None);
    assert_eq!(out.matches("Roots relative to").count(), 1, "{out}");
    assert!(out.starts_with(&format!("Roots relative to {}\n", set.display())), "{out}");
    assert!(!out.lines().skip(1).any(|l| l.contains(&set.display().to_string())), "{out}");
    // the long folder names are cut in the middle: both ends stay
    let out = list(&env, &set, &["-f", "lr", "--max-width", "30"], None);
    let long_rows: Vec<&str> = out.lines().filter(|l| l.contains("...")).collect();
    assert_eq!(long_rows.len(), 3, "{out}");
    for row in long_rows {
        assert!(row.contains("model=a_rather") || row.contains("lr=0.") && row.contains("on_and_on"), "{out}");
    }
    // the terminal's width is used: no line is wider than $COLUMNS
    let out = list(&env, &set, &["-s", "-f", "lr", "-f", "model", "-f", "loss"], Some("70"));
    assert!(out.lines().all(|l| l.chars().count() <= 70), "{out}");
    assert!(out.lines().any(|l| l.contains("..._and_on")), "the end of a cut cell stays: {out}");
    let wide = list(&env, &set, &["-s", "-f", "lr", "-f", "model", "-f", "loss"], Some("400"));
    assert!(wide.contains(LONG), "{wide}");
}

#[test]
fn floats_are_rounded_in_the_table_only_and_the_default_shows_status_and_swept_parameters() {
    let env = Env::new();
    let set = sweep(&env);
    let out = list(&env, &set, &["-f", "loss"], None);
    assert!(out.contains("0.0372147") && !out.contains("0.0372147291"), "{out}");
    let out = list(&env, &set, &["-f", "loss", "--precision", "3"], None);
    assert!(out.contains("0.0372") && !out.contains("0.03721"), "{out}");
    let out = list(&env, &set, &["-f", "loss", "--precision", "0"], None);
    assert!(out.contains("0.0372147291"), "{out}");
    let csv = list(&env, &set, &["-f", "loss", "--csv"], None);
    assert!(csv.contains("0.0372147291"), "{csv}");
    let json = list(&env, &set, &["-f", "loss", "--json"], None);
    assert!(json.contains("0.0372147291"), "{json}");

    // nothing asked for: root, status and the swept parameters, not the constant seed
    let out = list(&env, &set, &[], Some("400"));
    let header: Vec<&str> = out.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["root", "status", "lr", "model"], "{out}");
}

#[test]
fn notebook_mode_honours_max_rows_and_one_matched_run_honours_the_display_flags() {
    let env = Env::new();
    let set = sweep(&env);
    let out = list(&env, &set, &["-N", "--max-rows", "2"], None);
    let members = out.lines().filter(|l| l.starts_with("  |- ")).count();
    assert_eq!(members, 3, "two runs and a `... (4 more)` line: {out}");
    assert!(out.contains("  |- ... (4 more)"), "{out}");

    // a glob matching one run: a table with the asked columns, not the whole record
    let out = list(&env, &set, &["lr=0.001__model=mlp*", "-s"], None);
    assert!(!out.contains("Content of") && !out.contains("meta:"), "{out}");
    let header: Vec<&str> = out.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["root", "status"], "{out}");
    // so does the run's own folder given with flags
    let run = set.join("lr=0.001__model=mlp");
    let out = list(&env, &run, &["-s"], None);
    assert!(!out.contains("Content of"), "{out}");
    // and without flags it prints its record, as the original does
    let out = list(&env, &run, &[], None);
    assert!(out.starts_with("Content of"), "{out}");
}

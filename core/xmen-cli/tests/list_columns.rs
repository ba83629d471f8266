//! Issue 14 item 1: the columns a filter, sort key or display flag names are checked, and the
//! names the table shows are the names you type. From empty temporary folders: a set made with
//! the real `xmen init`/`register`, runs' messages and start times written as a run writes them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{describe, Env};

/// A set of four runs (`lr` × `seed`) of a bash experiment; returns the set root.
fn sweep(env: &Env) -> PathBuf {
    let src = env.path("src");
    std::fs::create_dir_all(&src).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(src.join("defaults.yml"), "_meta: {}\nlr: 0.1\nseed: 1\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(src.join("script.sh"), "#! /bin/bash\ncat \"$1\"\n").unwrap_or_else(|e| panic!("{e}"));
    let d = src.join("defaults.yml").display().to_string();
    let s = src.join("script.sh").display().to_string();
    env.ok(&["init", "-d", &d, "-s", &s, "-r", "set"]);
    let set = env.path("set");
    let out = env.run_in(&set, &["register", "-u", "{lr: 0.1 | 0.01, seed: 1 | 2}"], None);
    assert!(out.status.success(), "{}", describe(&out));
    set
}

/// Give a run a `loss` message and a start time, as the Messenger and the runner write them.
fn ran(run: &Path, loss: f64, start: &str) {
    let path = run.join("params.yml");
    let text = common::read(&path);
    let text = text.replace("_messages: {}", &format!("_messages:\n  loss: {loss:?}\n ")).replacen(
        "  start:\n",
        &format!("  start: {start}\n"),
        1,
    );
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
}

fn list(env: &Env, set: &Path, args: &[&str]) -> Output {
    let mut all = vec!["list"];
    all.extend_from_slice(args);
    env.run_in(set, &all, None)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The data lines of a table (after the header).
fn rows(out: &Output) -> Vec<String> {
    let text = stdout(out);
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("Roots relative to")).collect();
    lines.iter().skip(1).filter(|l| !l.trim().is_empty()).map(|l| (*l).to_owned()).collect()
}

#[test]
fn a_column_no_row_has_is_an_error_with_did_you_mean_and_exit_2() {
    let env = Env::new();
    let set = sweep(&env);
    for (args, typed, mean) in [
        (vec!["-f", "lrr<0.1"], "`lrr<0.1`", Some("`lr`")),
        (vec!["-f", "sead"], "`sead`", Some("`seed`")),
        (vec!["-d=strat"], "`strat`", Some("`start`")),
        (vec!["--sort", "nosuchcol"], "`nosuchcol`", None),
        (vec!["--sort=-sed"], "`sed`", Some("`seed`")),
    ] {
        let out = list(&env, &set, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        let err = stderr(&out);
        assert!(err.starts_with("ERROR: ") && err.contains(typed), "{args:?}: {err}");
        match mean {
            Some(m) => assert!(err.contains("did you mean") && err.contains(m), "{args:?}: {err}"),
            None => assert!(!err.contains("did you mean") && err.contains("xmen list -f '.*'"), "{args:?}: {err}"),
        }
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    // a single `=` names the fix
    let out = list(&env, &set, &["-f", "lr=0.1"]);
    assert!(!out.status.success() && stderr(&out).contains("-f \"lr==0.1\""), "{}", describe(&out));
    // a column that exists is fine, with or without a condition
    let out = list(&env, &set, &["-f", "seed==2"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(rows(&out).len(), 2, "{}", stdout(&out));
}

#[test]
fn short_names_work_in_filters_sort_and_display_flags() {
    let env = Env::new();
    let set = sweep(&env);
    let runs = ["lr=0.1__seed=1", "lr=0.1__seed=2", "lr=0.01__seed=1", "lr=0.01__seed=2"];
    for (i, r) in runs.iter().enumerate() {
        ran(&set.join(r), 0.001 * (i as f64 + 1.0), &format!("26-11-{:02}-10-00-00-000000", 27 + i));
    }
    // `loss` is how the table shows `_messages_loss`
    let out = list(&env, &set, &["-f", "loss<0.0025"]);
    assert!(out.status.success(), "{}", describe(&out));
    let got = rows(&out);
    assert_eq!(got.len(), 2, "{}", stdout(&out));
    assert!(stdout(&out).lines().any(|h| h.contains("root") && h.contains("loss")), "{}", stdout(&out));
    // --sort by the short name, descending
    let out = list(&env, &set, &["-f", "loss", "--sort=-loss", "--csv"]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = stdout(&out);
    let first = text.lines().nth(1).unwrap_or_default();
    assert!(first.contains("lr=0.01__seed=2") && first.ends_with("0.004"), "{text}");
    // -d=REGEX by the short name shows just that timestamp
    let out = list(&env, &set, &["-d=start"]);
    assert!(out.status.success(), "{}", describe(&out));
    let header = stdout(&out).lines().find(|l| l.contains("root")).unwrap_or_default().to_owned();
    assert!(header.contains("start") && !header.contains("registered"), "{}", stdout(&out));
}

#[test]
fn timestamps_compare_as_times_and_since_until_pick_a_range() {
    let env = Env::new();
    let set = sweep(&env);
    let starts = [
        ("lr=0.1__seed=1", "26-11-30-23-59-59-000000"),
        ("lr=0.1__seed=2", "26-12-01-00-00-01-000000"),
        ("lr=0.01__seed=1", "26-12-05-12-00-00-000000"),
    ];
    for (r, s) in starts {
        ran(&set.join(r), 0.5, s);
    }
    let names = |out: &Output| -> Vec<String> {
        let mut v: Vec<String> = rows(out)
            .iter()
            .filter_map(|l| l.split_whitespace().nth(1).map(|p| p.rsplit('/').next().unwrap_or(p).to_owned()))
            .collect();
        v.sort();
        v
    };
    let out = list(&env, &set, &["-f", "_timestamps_start>2026-12-01"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(names(&out), ["lr=0.01__seed=1", "lr=0.1__seed=2"], "{}", stdout(&out));
    let out = list(&env, &set, &["--since", "2026-12-01", "--until", "2026-12-02T00:00"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(names(&out), ["lr=0.1__seed=2"], "{}", stdout(&out));
    // a run never started is not "since" anything
    let out = list(&env, &set, &["--until", "2027-01-01"]);
    assert_eq!(names(&out).len(), 3, "{}", stdout(&out));
    let out = list(&env, &set, &["--since", "yesterday"]);
    assert!(!out.status.success() && stderr(&out).contains("--since `yesterday` is not a date"), "{}", describe(&out));
}

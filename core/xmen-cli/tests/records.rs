//! Issue 13 item 3: a record is validated before it is used or rewritten, and `register`
//! refuses at register time what the run would refuse. Driven through the real `xmen`
//! binary and a real Rust experiment from empty temporary folders.

mod common;

use std::path::Path;
use std::process::Command;

use common::{describe, read, Env};

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A registered bash experiment whose params.yml is then replaced by `text`.
fn damaged(env: &Env, text: impl Fn(&str) -> String) -> (std::path::PathBuf, String) {
    let set = env.bash_set("set");
    env.ok(&["register", "-r", &s(&set), "-u", "{a: X}"]);
    let params = set.join("a=X").join("params.yml");
    let new = text(&read(&params));
    std::fs::write(&params, &new).unwrap_or_else(|e| panic!("{e}"));
    (set, new)
}

fn refused_everywhere(env: &Env, set: &Path, before: &str, want: &[&str]) {
    let params = set.join("a=X").join("params.yml");
    for args in [
        vec!["note", "-r", &s(set), "a=X", "a note"],
        vec!["reset", "-r", &s(set), "a=X"],
        vec!["run", "-r", &s(set), "a=X", "bash"],
        vec!["run", "-r", &s(set), "--all", "*", "bash"],
    ] {
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(1), "xmen {args:?} must fail:\n{}", describe(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        for w in want {
            assert!(err.contains(w), "xmen {args:?}: `{w}` missing from:\n{err}");
        }
        assert_eq!(read(&params), before, "xmen {args:?} must not rewrite the record");
    }
}

#[test]
fn r13_a_params_file_cut_to_a_valid_prefix_is_refused_and_never_rewritten() {
    let env = Env::new();
    // every parameter lost, the rest still valid YAML
    let (set, before) = damaged(&env, |t| t.split("\na: ").next().unwrap_or_default().to_owned() + "\n");
    assert!(before.contains("_status: registered") && !before.contains("\na: "), "{before}");
    refused_everywhere(
        &env,
        &set,
        &before,
        &["params.yml is incomplete", "it lacks a, b", "defaults.yml", "register it again"],
    );
}

#[test]
fn r13_an_empty_params_file_is_refused_and_never_rewritten() {
    let env = Env::new();
    let (set, before) = damaged(&env, |_| String::new());
    refused_everywhere(&env, &set, &before, &["params.yml is empty", "_root, a, b"]);
}

#[test]
fn r13_extra_keys_and_changed_kinds_only_warn() {
    let env = Env::new();
    let (set, _) = damaged(&env, |t| t.replace("\nb: World", "\nb: 3\nc: extra"));
    let out = env.run(&["note", "-r", &s(&set), "a=X", "kept"]);
    assert!(out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("WARNING: ") && err.contains("`c` is not declared"), "{err}");
    assert!(err.contains("`b` is a int where"), "{err}");
    assert!(read(&set.join("a=X").join("params.yml")).contains("- kept"));
}

/// `train_toy`: `lr: f64`, `epochs: u64`.
fn toy_set(env: &Env) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let exe = common::example("train_toy")?;
    env.ok(&["experiments", "--add", "toy", &s(&exe)]);
    env.ok(&["init", "-n", "toy", "-r", "set", "--purpose", "types"]);
    Some((exe, env.path("set")))
}

#[test]
fn r13_register_refuses_values_the_declared_type_cannot_take_and_casts_whole_floats() {
    let env = Env::new();
    let Some((_, set)) = toy_set(&env) else { return };
    for (sweep, want) in [
        ("{lr: 0.1 | }", "`lr` is declared `f64` and cannot take `None`"),
        ("{epochs: -1}", "`epochs` is declared `u64` and cannot take `-1`: it is beyond the range of u64"),
        ("{epochs: 99999999999999999999999}", "beyond the range"),
        ("{epochs: 2.5}", "expects int but got float `2.5`"),
    ] {
        let err = env.fails(&["register", "-r", &s(&set), "-u", sweep]);
        assert!(err.contains(want), "{sweep}: {err}");
        assert!(!err.contains("got float 1e+23"), "{err}");
    }
    let folders = std::fs::read_dir(&set).map(|d| d.flatten().filter(|e| e.path().is_dir()).count()).unwrap_or(9);
    assert_eq!(folders, 0, "nothing was registered");
    env.ok(&["register", "-r", &s(&set), "-u", "{epochs: 7.0 | 1e3}"]);
    for (dir, value) in [("epochs=7", "epochs: 7 "), ("epochs=1000", "epochs: 1000 ")] {
        let text = read(&set.join(dir).join("params.yml"));
        assert!(text.contains(value), "{dir}:\n{text}");
    }
}

#[test]
fn r13_execute_refuses_a_missing_yml_path_and_an_incomplete_record() {
    let env = Env::new();
    let Some((exe, set)) = toy_set(&env) else { return };
    let run = |args: &[&str]| {
        Command::new(&exe)
            .args(args)
            .current_dir(env.dir())
            .env("XMEN", env.cfg())
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let out = run(&["-x", "newdir/params.yml"]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("-x newdir/params.yml: there is no such file") && err.contains("`-x newdir`"), "{err}");
    assert!(!env.path("newdir").exists(), "nothing was created");

    env.ok(&["register", "-r", &s(&set), "-u", "{epochs: 1}"]);
    let params = set.join("epochs=1").join("params.yml");
    let cut = read(&params).split("\nlr: ").next().unwrap_or_default().to_owned() + "\n";
    std::fs::write(&params, &cut).unwrap_or_else(|e| panic!("{e}"));
    let out = run(&["-x", &s(&params)]);
    assert!(!out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is incomplete") && err.contains("it lacks lr, ") && err.contains("TrainToy (see its --help)"),
        "{err}"
    );
    assert_eq!(read(&params), cut, "the record is not rewritten");

    // `-u FOLDER` names the folder and the file to give instead.
    let out = run(&["-u", &s(&set), "-x", "fresh"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("it is a folder") && err.contains("defaults.yml"), "{err}");
}

#[test]
fn r13_run_over_an_unparsable_record_exits_non_zero_naming_it() {
    let env = Env::new();
    let (set, before) = damaged(&env, |t| t.replace("\na: X", "\na: [X"));
    let out = env.run(&["run", "-r", &s(&set), "*", "bash"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing was run") && err.contains("a=X/params.yml"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Nothing to run"), "{}", describe(&out));
    assert_eq!(read(&set.join("a=X").join("params.yml")), before);
}

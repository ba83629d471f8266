//! Issue 14 item 7: one CLI grammar. From empty temporary folders with the real `xmen`.

mod common;

use common::{describe, Env};

#[test]
fn one_set_commands_take_r_and_keep_the_old_positional_forms_hidden() {
    let env = Env::new();
    let set = env.bash_set("a");
    env.bash_set("b");
    let out = env.run_in(&set, &["register", "-u", "{a: Hello | Bye}"], None);
    assert!(out.status.success(), "{}", describe(&out));

    // unlink says what it does: the folders stay
    let out = env.ok(&["unlink", "-r", "a", "a=Bye"]);
    assert!(out.contains("Unlinked 1 experiment(s) from the set (their folders are kept)"), "{out}");
    assert!(!out.contains("Removing"), "{out}");
    assert!(set.join("a=Bye/params.yml").is_file());

    // note --delete (its old short form still works, hidden), reconcile --dry-run
    env.ok(&["note", "-r", "a", "a=Hello", "good"]);
    let out = env.ok(&["note", "--delete", "-r", "a", "a=Hello", "good"]);
    assert!(out.contains("Removed the note from 1 of 1"), "{out}");
    env.ok(&["note", "-r", "a", "a=Hello", "good"]);
    env.ok(&["note", "-d", "-r", "a", "a=Hello", "good"]);
    let out = env.run(&["reconcile", "--dry-run", "a"]);
    assert!(out.status.success(), "{}", describe(&out));

    // rm: `-r DIR`, and the original's positional ROOT_DIR, hidden from the help
    let help = env.ok(&["rm", "--help"]);
    assert!(help.contains("-r, --root <DIR>") && !help.contains("ROOT_DIR"), "{help}");
    assert!(help.contains("Examples:\n  xmen rm -r sweep"), "{help}");
    env.ok(&["rm", "-r", "a", "-y"]);
    assert!(!env.path("a").exists());
    // move: `-r SET DEST`, and `SRC DEST`
    env.ok(&["move", "b", "b2"]);
    assert!(env.path("b2/experiment.yml").is_file() && !env.path("b").exists());
    env.ok(&["move", "-r", "b2", "b"]);
    assert!(env.path("b/experiment.yml").is_file());
    env.ok(&["rm", "b", "-y"]);
    assert!(!env.path("b").exists());
}

#[test]
fn the_help_has_the_flag_table_and_no_python_alias_and_written_files_use_rust_words() {
    let env = Env::new();
    let help = env.ok(&["--help"]);
    assert!(
        help.contains("Short flags mean one thing everywhere:") && help.contains("-r DIR    the set root"),
        "{help}"
    );
    assert!(!help.contains("python") && !help.contains("./target/release"), "{help}");
    assert!(help.contains("${CARGO_TARGET_DIR:-target}/release/examples/hello_world"), "{help}");
    let completions = env.ok(&["completions", "bash"]);
    assert!(!completions.contains("python"), "the alias is hidden from completions too");
    // the alias still works for those who type it
    env.ok(&["python", "--list"]);
    // booleans as xmen.yml spells them
    let config = env.ok(&["config", "--list"]);
    assert!(config.contains("save_conda: true") && !config.contains("True"), "{config}");

    let set = env.bash_set("s");
    let out = env.run_in(&set, &["register", "-u", "{a: Hello}"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let params = common::read(&set.join("a=Hello/params.yml"));
    assert!(
        params.contains(
            "# One of default, registered, running, finished, error, stopped, timeout, requeue, detached, lost, debug"
        ),
        "{params}"
    );
    assert!(!params.contains("Optional[") && !params.contains("Dict[") && !params.contains("True"), "{params}");
}

#[test]
fn list_takes_several_paths_and_globs_as_positionals() {
    let env = Env::new();
    for root in ["sets/a", "sets/b", "sets/c"] {
        let set = env.bash_set(root);
        let out = env.run_in(&set, &["register", "-u", "{a: Hello | Bye}"], None);
        assert!(out.status.success(), "{}", describe(&out));
    }
    let out = env.ok(&["list", "sets/a", "sets/b/a=H*", "sets/a/a=Bye", "--csv"]);
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "a's two runs and b's Hello, each once: {out}");
    assert!(rows.iter().all(|r| !r.contains("sets/c/")), "{out}");
    assert_eq!(rows.iter().filter(|r| r.contains("sets/a/a=Bye")).count(), 1, "{out}");
    // reconcile reads many the same way
    let out = env.ok(&["reconcile", "--dry-run", "sets/a", "sets/b/a=H*"]);
    assert!(out.contains("Checked 3 experiments"), "{out}");
}

#[test]
fn run_and_unlink_take_run_paths_from_anywhere() {
    let env = Env::new();
    let set = env.bash_set("sets/a");
    let out = env.run_in(&set, &["register", "-u", "{a: Hello | Bye}"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let out = env.ok(&["run", "sets/a/a=H*", "bash"]);
    assert!(out.contains("[1/1] Running: bash") && out.contains("sets/a/a=Hello/run.sh"), "{out}");
    let out = env.ok(&["unlink", "sets/a/a=Bye"]);
    assert!(out.contains("Unlinked 1 experiment(s)"), "{out}");
}

//! The whole life of a set, driven through the real `xmen` binary: init -> register a 2x2 sweep
//! -> run with bash -> (list) -> note -> reset -> unlink -> move + relink -> clean -> rm, once on
//! the original's generic bash experiment and once on the Rust `hello_world` example.

mod common;

use std::path::Path;

use common::{describe, read, top_value, Env};

const SWEEP: &str = "{a: Hello | Bye, b: World | Planet}";
const NAMES: [&str; 4] = ["a=Hello__b=World", "a=Hello__b=Planet", "a=Bye__b=World", "a=Bye__b=Planet"];

fn record(dir: &Path) -> xmen_record::Record {
    xmen_record::Record::load(&dir.join("params.yml")).unwrap_or_else(|e| panic!("{e}"))
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// What the experiment does when run: the generic bash experiment only prints (its status stays
/// `registered`); a Rust experiment marks itself `finished`.
struct Kind {
    status_after_run: &'static str,
    output_of: fn(&str) -> String,
}

/// `xmen list` checks, for the list work to extend: called with the set after the sweep ran.
fn list_checks(_env: &Env, _set: &Path, _kind: &Kind) {}

fn drive(env: &Env, set: &Path, kind: &Kind) {
    // register from another folder: every path is resolved against the set root
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap_or_else(|e| panic!("{e}"));
    let out = env.run_in(&elsewhere, &["register", "-r", &s(set), "-u", SWEEP], None);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        !elsewhere.join("params.yml").exists() && std::fs::read_dir(&elsewhere).map(|d| d.count()).unwrap_or(0) == 0
    );

    let yml = read(&set.join("experiment.yml"));
    let listed: Vec<&str> = yml.lines().filter_map(|l| l.strip_prefix("- ")).filter(|l| l.starts_with('/')).collect();
    let want: Vec<String> = NAMES.iter().map(|n| s(&set.join(n))).collect();
    assert_eq!(listed, want, "{yml}");
    assert!(
        yml.contains("overides:\n- a: Hello\n  b: World\n- a: Hello\n  b: Planet\n- a: Bye\n  b: World\n"),
        "{yml}"
    );
    for n in NAMES {
        let dir = set.join(n);
        assert_eq!(top_value(&dir.join("params.yml"), "_root"), s(&dir));
        assert_eq!(top_value(&dir.join("params.yml"), "_status"), "registered");
        assert_eq!(top_value(&dir.join("params.yml"), "_purpose"), "test");
        assert_eq!(
            read(&dir.join("run.sh")),
            format!(
                "#!/bin/bash\n\nexec /bin/bash {}/script.sh {}/params.yml\necho EXPERIMENT FINISHED!",
                s(set),
                s(&dir)
            )
        );
    }
    for link in &want {
        assert_eq!(env.linked().iter().filter(|l| *l == link).count(), 1, "{link} linked once");
    }

    // run with bash: in registration order (not name order), with progress, each run's own
    // output unmangled
    let out = env.ok(&["run", "-r", &s(set), "*", "bash"]);
    let mut last = 0;
    for (i, n) in NAMES.iter().enumerate() {
        let dir = set.join(n);
        let segment = format!("\n[{}/4] Running: bash {}/run.sh\n{}", i + 1, s(&dir), (kind.output_of)(&s(&dir)));
        let at = out.find(&segment).unwrap_or_else(|| panic!("got:\n{out}\nwithout:\n{segment}"));
        assert!(at >= last, "{n} ran out of order:\n{out}");
        last = at;
    }
    assert!(out.starts_with("\n[1/4] Running: "), "{out}");
    assert!(out.contains("Summary: 4 of 4 run(s) finished, 0 failed"), "{out}");
    for n in NAMES {
        assert_eq!(top_value(&set.join(n).join("params.yml"), "_status"), kind.status_after_run);
    }

    list_checks(env, set, kind);

    // note: add (trimmed) then remove; the experiment may have left notes of its own
    let notes = |n: &str| record(&set.join(n)).notes;
    let before: Vec<Vec<String>> = NAMES.iter().map(|n| notes(n)).collect();
    env.ok(&["note", "-r", &s(set), "a=Bye*", "  needs a rerun  "]);
    for (n, old) in NAMES.iter().zip(&before) {
        let mut want = old.clone();
        if n.starts_with("a=Bye") {
            want.push("needs a rerun".into());
        }
        assert_eq!(&notes(n), &want, "{n}");
    }
    env.ok(&["note", "-r", &s(set), "-d", "a=Bye__b=World", "needs a rerun"]);
    assert_eq!(notes("a=Bye__b=World"), before[2]);
    if before[2].is_empty() {
        assert_eq!(top_value(&set.join("a=Bye__b=World/params.yml"), "_notes"), "", "an empty list is written as null");
    }

    // reset: validated status, default registered
    env.ok(&["reset", "-r", &s(set), "-s", "finished", "*"]);
    env.ok(&["reset", "-r", &s(set), "a=Hello*"]);
    assert_eq!(top_value(&set.join("a=Hello__b=World/params.yml"), "_status"), "registered");
    assert_eq!(top_value(&set.join("a=Bye__b=World/params.yml"), "_status"), "finished");
    let out = env.run(&["run", "-r", &s(set), "*", "bash"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("Running: ").count(), 2, "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Skipping 2 matching experiments"));
    env.ok(&["reset", "-r", &s(set), "*"]);

    // unlink: the folder stays, the overrides leave with it
    env.ok(&["unlink", "-r", &s(set), "a=Bye__b=World"]);
    let yml = read(&set.join("experiment.yml"));
    assert!(!yml.contains("a=Bye__b=World") && set.join("a=Bye__b=World/params.yml").exists(), "{yml}");
    assert!(
        yml.contains("overides:\n- a: Hello\n  b: World\n- a: Hello\n  b: Planet\n- a: Bye\n  b: Planet\ncreated"),
        "{yml}"
    );

    // move, then a manual mv + relink: experiment.yml, _root, run.sh and linked follow
    let moved = env.path("moved");
    env.ok(&["move", "-r", &s(set), &s(&moved)]);
    assert!(!set.exists());
    let again = env.path("again");
    std::fs::rename(&moved, &again).unwrap_or_else(|e| panic!("{e}"));
    let err = env.fails(&["run", "-r", &s(&again), "*", "bash"]);
    assert!(err.contains("was moved") && err.contains("xmen relink"), "{err}");
    env.ok(&["relink", "-r", &s(&again)]);
    let yml = read(&again.join("experiment.yml"));
    assert!(
        yml.starts_with(&format!("root: {0}\ndefaults: {0}/defaults.yml\nscript: {0}/script.sh\n", s(&again))),
        "{yml}"
    );
    for n in ["a=Hello__b=World", "a=Hello__b=Planet", "a=Bye__b=Planet"] {
        let dir = again.join(n);
        assert_eq!(top_value(&dir.join("params.yml"), "_root"), s(&dir));
        assert!(read(&dir.join("run.sh")).contains(&format!(
            "exec /bin/bash {}/script.sh {}/params.yml",
            s(&again),
            s(&dir)
        )));
        assert!(env.linked().contains(&s(&dir)), "{:?}", env.linked());
    }
    assert!(!env.linked().iter().any(|l| l.starts_with(&s(set))), "{:?}", env.linked());
    let out = env.ok(&["run", "-r", &s(&again), "a=Hello__b=World", "bash"]);
    assert!(out.contains(&(kind.output_of)(&s(&again.join("a=Hello__b=World")))), "{out}");

    // clean: only the unmanaged folder; it asks first
    let out = env.run_in(env.dir(), &["clean", "-r", &s(&again)], Some("n\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Aborting!"));
    assert!(again.join("a=Bye__b=World").exists());
    let out = env.run_in(env.dir(), &["clean", "-r", &s(&again)], Some("y\n"));
    assert!(out.status.success(), "{}", describe(&out));
    assert!(!again.join("a=Bye__b=World").exists());
    for n in ["a=Hello__b=World", "a=Hello__b=Planet", "a=Bye__b=Planet"] {
        assert!(again.join(n).join("params.yml").exists(), "{n} is managed and must stay");
    }
    assert!(env.ok(&["clean", "-r", &s(&again), "--yes"]).contains("No folders found for deletion"));

    // rm: the whole set, after confirmation
    env.ok(&["rm", &s(&again), "--yes"]);
    assert!(!again.exists());
    assert!(env.linked().is_empty(), "{:?}", env.linked());
}

#[test]
fn the_generic_bash_experiment_goes_through_the_whole_flow() {
    let env = Env::new();
    let set = env.bash_set("exps/set");
    let kind = Kind {
        status_after_run: "registered",
        output_of: |dir| format!("contents of params.yml file {dir}/params.yml\n_root: {dir}  # The root directory"),
    };
    drive(&env, &set, &kind);
}

#[test]
fn the_rust_hello_world_experiment_goes_through_the_whole_flow() {
    let Some(exe) = common::hello_world() else { return };
    let env = Env::new();
    env.ok(&["experiments", "--add", "hello", &s(&exe)]);
    assert!(env
        .ok(&["experiments", "--list"])
        .contains(&format!("hello: {}", s(&exe.canonicalize().unwrap_or(exe.clone())))));
    let out = env.ok(&["init", "-n", "hello", "-r", "exps/set", "--purpose", "test"]);
    assert!(out.contains("Experiment root created at"), "{out}");
    let set = env.path("exps/set");
    assert!(read(&set.join("experiment.yml")).ends_with("type: hello\n"));
    let kind = Kind {
        status_after_run: "finished",
        output_of: |dir| {
            let name = Path::new(dir).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            // a=Hello__b=World -> "Hello World!"
            let words: Vec<&str> = name.split("__").filter_map(|kv| kv.split_once('=').map(|(_, v)| v)).collect();
            format!("{}!\n", words.join(" "))
        },
    };
    drive(&env, &set, &kind);
}

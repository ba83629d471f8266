//! Bad input gets one clear error naming what was wrong and how to fix it, and changes nothing;
//! plus the original's defects around names, globs and launchers, through the real binary.

mod common;

use std::path::Path;

use common::{describe, read, top_value, Env};

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn folders(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_folder_that_is_not_a_set_names_the_missing_file_and_suggests_init() {
    let env = Env::new();
    let plain = env.path("plain");
    std::fs::create_dir_all(&plain).unwrap_or_else(|e| panic!("{e}"));
    for args in [
        vec!["register", "-r", "plain", "-u", "{a: 1}"],
        vec!["run", "-r", "plain", "*", "bash"],
        vec!["note", "-r", "plain", "*", "hi"],
        vec!["reset", "-r", "plain", "*"],
        vec!["unlink", "-r", "plain", "*"],
        vec!["clean", "-r", "plain", "--yes"],
    ] {
        let err = env.fails(&args);
        assert!(err.contains(&format!("{} is not an experiment set", s(&plain))), "{args:?}: {err}");
        assert!(err.contains(&format!("{}/experiment.yml is missing", s(&plain))), "{args:?}: {err}");
        assert!(err.contains("xmen init"), "{args:?}: {err}");
    }
    assert!(folders(&plain).is_empty() && std::fs::read_dir(&plain).map(|d| d.count()).unwrap_or(1) == 0);
    // a missing defaults.yml for init names the file and the fix
    let err = env.fails(&["init", "-r", "plain"]);
    assert!(err.contains(&format!("the defaults file {}/defaults.yml does not exist", s(&plain))), "{err}");
    assert!(err.contains("-d/--defaults PATH"), "{err}");
    assert!(!plain.join("experiment.yml").exists());
}

#[test]
fn init_refuses_an_existing_set_before_writing_anything() {
    let env = Env::new();
    let set = env.bash_set("set");
    std::fs::write(set.join("defaults.yml"), "a: mine\n").unwrap_or_else(|e| panic!("{e}"));
    let (d, sc) = env.bash_experiment();
    let err = env.fails(&["init", "-d", &s(&d), "-s", &s(&sc), "-r", "set"]);
    assert!(err.contains("is already an experiment set") && err.contains("remove experiment.yml"), "{err}");
    assert_eq!(read(&set.join("defaults.yml")), "a: mine\n", "init checks before it writes: nothing was copied");
}

#[test]
fn a_malformed_sweep_string_gives_the_position_and_what_was_expected() {
    let env = Env::new();
    let set = env.bash_set("set");
    let table: Vec<(&str, Vec<&str>)> = vec![
        ("{a: 1 | 2", vec!["invalid sweep string at line 1, column", "{a: 1 | 2\n", "^", "a sweep is a YAML mapping"]),
        ("{a: [1, 2] | [3, 4]}", vec!["invalid sweep string at line 1", "not `|` alternatives"]),
        ("[1, 2]", vec!["expected a mapping", "found the list `[1, 2]`"]),
        ("{a: x | 'y}", vec!["alternative 2 of `a`", "`'y`"]),
    ];
    for (sweep, wants) in table {
        let err = env.fails(&["register", "-r", "set", "-u", sweep]);
        for want in wants {
            assert!(err.contains(want), "{sweep}: {err:?} lacks {want:?}");
        }
    }
    assert!(folders(&set).is_empty(), "{:?}", folders(&set));
}

#[test]
fn an_override_of_an_unknown_parameter_is_rejected_naming_it() {
    let env = Env::new();
    let set = env.bash_set("set");
    let err = env.fails(&["register", "-r", "set", "-u", "{c: 3, a: x | y, d: 1}"]);
    assert!(err.contains(&format!("keys not found in the defaults {}/defaults.yml: c, d", s(&set))), "{err}");
    assert!(err.contains("the parameters are: a, b"), "{err}");
    let err = env.fails(&["register", "-r", "set", "-u", "{a: [1, 2]}"]);
    assert!(err.contains("`a: [1, 2]`") && err.contains("expects str but got list"), "{err}");
    let err = env.fails(&["register", "-r", "set", "-u", "{_root: /x}"]);
    assert!(err.contains("special field"), "{err}");
    let err = env.fails(&["register", "-r", "set"]);
    assert!(err.contains("nothing to register"), "{err}");
    assert!(folders(&set).is_empty(), "{:?}", folders(&set));
    assert!(read(&set.join("experiment.yml")).contains("experiments: []"));
}

#[test]
fn a_launcher_that_does_not_exist_fails_before_anything_runs() {
    let env = Env::new();
    let set = env.bash_set("set");
    env.ok(&["register", "-r", "set", "-u", "{a: x | y}"]);
    let err = env.fails(&["run", "-r", "set", "*", "no-such-launcher", "-x"]);
    assert!(err.contains("cannot run `no-such-launcher`: no executable `no-such-launcher` on PATH"), "{err}");
    let err = env.fails(&["run", "-r", "set", "*", "/no/such/bash"]);
    assert!(err.contains("/no/such/bash does not exist"), "{err}");
    for n in ["a=x", "a=y"] {
        assert_eq!(top_value(&set.join(n).join("params.yml"), "_status"), "registered");
    }
    // a launcher that fails is reported with an exit code of 1, after every run was tried
    let out = env.run(&["run", "-r", "set", "*", "false"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 of 2 launches failed"), "{}", describe(&out));
}

#[test]
fn a_glob_matching_nothing_names_the_pattern_and_shows_what_exists() {
    let env = Env::new();
    env.bash_set("set");
    env.ok(&["register", "-r", "set", "-u", "{a: x | y}"]);
    for cmd in ["run", "note", "reset", "unlink"] {
        let mut args = vec![cmd, "-r", "set", "zzz*"];
        if cmd == "run" {
            args.push("bash");
        }
        if cmd == "note" {
            args.push("hello");
        }
        let err = env.fails(&args);
        assert!(err.contains("no managed experiment of the set") && err.contains("matches `zzz*`"), "{cmd}: {err}");
        assert!(err.contains("2 managed: a=x, a=y"), "{cmd}: {err}");
    }
    let err = env.fails(&["run", "-r", "set", "a=[x", "bash"]);
    assert!(err.contains("invalid pattern `a=[x`") && err.contains("\\["), "{err}");
}

#[test]
fn reset_validates_the_status_listing_valid_ones() {
    let env = Env::new();
    env.bash_set("set");
    env.ok(&["register", "-r", "set", "-n", "one"]);
    let out = env.run(&["reset", "-r", "set", "-s", "done", "*"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`done` is not a valid status") && err.contains("registered, running"), "{err}");
    assert_eq!(top_value(&env.path("set/one/params.yml"), "_status"), "registered");
}

#[test]
fn names_follow_python_rendering_casting_and_suffix_rules() {
    let env = Env::new();
    let set = env.path("set");
    std::fs::create_dir_all(&set).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        set.join("defaults.yml"),
        "_version:\n  path: /x\nlr: 0.5\nsizes: [1, 2]\nopt:\n  beta: 0.9\n  eps: 1.0e-08\nname: dog\nmaybe:\n_hooks: []\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(set.join("script.sh"), "#!/bin/bash\necho \"ran $1\"\n").unwrap_or_else(|e| panic!("{e}"));
    env.ok(&["init", "-r", "set"]);
    env.ok(&["register", "-r", "set", "-u", "{lr: 1 | 1e-5, name: 3, maybe: 2 | }"]);
    env.ok(&["register", "-r", "set", "-u", "{opt: {beta: 0.5}, sizes: [3, 4], _hooks: []}"]);
    // the same configuration again (`_hooks: []` is the default) needs --force; it gets `_1`
    env.fails(&["register", "-r", "set", "-u", "{opt: {beta: 0.5}, sizes: [3, 4]}"]);
    env.ok(&["register", "-r", "set", "-u", "{opt: {beta: 0.5}, sizes: [3, 4]}", "--force"]);
    assert_eq!(
        folders(&set),
        [
            "lr=1.0__name=3__maybe=2",
            "lr=1.0__name=3__maybe=None",
            "lr=1e-05__name=3__maybe=2",
            "lr=1e-05__name=3__maybe=None",
            "opt={'beta': 0.5}__sizes=[3, 4]",
            "opt={'beta': 0.5}__sizes=[3, 4]_1",
        ]
    );
    // the partial map merged into the default; the list kept its length
    let params = read(&set.join("opt={'beta': 0.5}__sizes=[3, 4]/params.yml"));
    assert!(params.contains("opt:\n  beta: 0.5\n  eps: 1e-08\n"), "{params}");
    assert!(params.contains("_hooks:"), "{params}");
    let err = env.fails(&["register", "-r", "set", "-u", "{sizes: [1, 2, 3]}"]);
    assert!(err.contains("expects a list of 2 elements but got 3"), "{err}");

    // names with glob characters: exact names and escapes select them, quoting keeps
    // run.sh working with spaces and quotes
    let out = env.ok(&["run", "-r", "set", "opt={'beta': 0.5}__sizes=[3, 4]", "bash"]);
    assert_eq!(out.matches("Running: ").count(), 1, "{out}");
    assert!(out.contains(&format!("ran {}/opt={{'beta': 0.5}}__sizes=[3, 4]/params.yml", s(&set))), "{out}");
    let out = env.ok(&["run", "-r", "set", "opt=\\{*", "bash"]);
    assert_eq!(out.matches("Running: ").count(), 2, "{out}");

    // -n with repeats, then the 100-name limit
    env.ok(&["register", "-r", "set", "-n", "test", "-x", "3"]);
    assert!(["test", "test_1", "test_2"].iter().all(|n| set.join(n).join("params.yml").exists()));
    env.ok(&["register", "-r", "set", "-n", "test", "-x", "97", "--force"]);
    let err = env.fails(&["register", "-r", "set", "-n", "test", "--force"]);
    assert!(err.contains("limited to 100") && err.contains("-n/--name"), "{err}");
    let err = env.fails(&["register", "-r", "set", "-n", "a/b"]);
    assert!(err.contains("contains `/`"), "{err}");
}

#[test]
fn sbatch_gets_one_job_name_and_an_output_file() {
    let env = Env::new();
    env.bash_set("set");
    env.ok(&["register", "-r", "set", "-u", "{a: x | y}"]);
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap_or_else(|e| panic!("{e}"));
    let log = env.path("sbatch.log");
    let script = format!("#!/bin/bash\necho \"$@\" >> {}\necho Submitted batch job 1\n", s(&log));
    std::fs::write(bin.join("sbatch"), script).unwrap_or_else(|e| panic!("{e}"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(bin.join("sbatch"), std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let path = format!("{}:{}", s(&bin), std::env::var("PATH").unwrap_or_default());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_xmen"))
            .args(args)
            .current_dir(env.dir())
            .env("XMEN", env.cfg())
            .env("PATH", &path)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.status.success(), "{}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = run(&["run", "-r", "set", "*", "sbatch"]);
    assert!(out.contains("Submitted batch job 1") && out.contains("Launched 2 of 2 experiments"), "{out}");
    run(&["run", "-r", "set", "a=x", "sbatch", "--job-name=mine"]);
    let set = env.path("set");
    let mut lines: Vec<String> = read(&log).lines().map(str::to_owned).collect();
    // sbatch jobs are submitted a few at a time: the first run's two lines come in any order.
    let first = 2.min(lines.len());
    lines[..first].sort();
    assert_eq!(
        lines,
        [
            format!("--parsable --open-mode=append --job-name=a=x --output={0}/a=x/slurm.out {0}/a=x/run.sh", s(&set)),
            format!("--parsable --open-mode=append --job-name=a=y --output={0}/a=y/slurm.out {0}/a=y/run.sh", s(&set)),
            format!("--parsable --open-mode=append --job-name=mine --output={0}/a=x/slurm.out {0}/a=x/run.sh", s(&set)),
        ]
    );
}

#[test]
fn the_registry_rejects_what_it_cannot_run() {
    let env = Env::new();
    let err = env.fails(&["experiments", "--add", "x", "/no/such/binary"]);
    assert!(err.contains("failed to add experiment x") && err.contains("/no/such/binary does not exist"), "{err}");
    let err = env.fails(&["experiments", "nope"]);
    assert!(
        err.contains("no experiment named `nope` is registered") && err.contains("xmen experiments --add nope PATH"),
        "{err}"
    );
    let err = env.fails(&["init", "-n", "nope", "-r", "set"]);
    assert!(err.contains("no experiment named `nope`"), "{err}");
    assert!(!env.path("set").exists());
}

#[test]
fn bare_xmen_without_a_terminal_creates_the_configuration_and_migrates_the_legacy_one() {
    let env = Env::new();
    let set = env.bash_set("old");
    env.ok(&["register", "-r", "old", "-n", "run1"]);
    std::fs::write(env.cfg().join("xmen.yml"), "").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        env.cfg().join("config.yml"),
        format!(
            "python_experiments:\n  legacy: /bin/true\nprompt_for_message: false\nexperiments:\n  {}:\n    created: x\n",
            s(&set)
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = env.ok(&[]);
    assert!(out.contains("reproducible") && out.contains("xmen.yml"), "{out}");
    assert!(out.contains("1 experiment folder(s) linked"), "{out}");
    let cfg = read(&env.cfg().join("xmen.yml"));
    assert!(cfg.contains("prompt: false") && cfg.contains("legacy: /bin/true"), "{cfg}");
    assert_eq!(env.linked(), [s(&set.join("run1"))]);
    // the options of `xmen config`, with the original's underscore spellings
    env.ok(&["config", "--enable_prompt", "--disable-save-conda", "-H", "#SBATCH -p gpu"]);
    let listed = env.ok(&["config", "--list"]);
    assert!(
        listed.contains("prompt: true\nsave_conda: false\n") && listed.contains("header: #SBATCH -p gpu"),
        "{listed}"
    );
    env.ok(&["register", "-r", "old", "-n", "run2"]);
    assert!(read(&set.join("run2/run.sh")).starts_with("#!/bin/bash\n#SBATCH -p gpu\nexec "));
}

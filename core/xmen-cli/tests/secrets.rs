//! Issue 13 item 7: secrets stay out of every file xmen writes. A real Rust experiment runs
//! with secret-looking variables set, its code in a git repository whose remote URL holds a
//! token, and a conda whose `env export` lists a secret variable; then every file under the set
//! and the configuration folder is searched for the secrets. `xmen redact` cleans records
//! written before the rule, and `xmen config --environ none` records no environment.

mod common;

use std::path::Path;
use std::process::Command;

use common::{describe, files_under, read, xmen_with_env, Env};

const SECRETS: [(&str, &str); 5] = [
    ("WANDB_API_KEY", "wandbS3cretValue1"),
    ("HF_TOKEN", "hfS3cretValue2"),
    ("AWS_SECRET_ACCESS_KEY", "awsS3cretValue3"),
    ("my_db_password", "pwS3cretValue4"),
    ("XMEN_TEST_SESSION", "sessS3cretValue5"),
];
const REMOTE_TOKEN: &str = "ghpRemoteS3cret6";
const CONDA_SECRET: &str = "condaS3cretValue7";

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn git(repo: &Path, args: &[&str]) -> bool {
    Command::new("git").arg("-C").arg(repo).args(args).output().is_ok_and(|o| o.status.success())
}

/// Files under `dir` that contain any of `needles`, with the needle.
fn leaks(dir: &Path, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for f in files_under(dir) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        for n in needles {
            if text.contains(n) {
                found.push(format!("{} holds {n}", f.display()));
            }
        }
    }
    found
}

#[test]
fn r13_secrets_in_the_environment_and_the_remote_url_reach_no_file() {
    let Some(exe) = common::example("hello_world") else { return };
    let env = Env::new();
    // The experiment's code lives in a git repository whose remote carries a token.
    let repo = env.path("repo");
    std::fs::create_dir_all(&repo).unwrap_or_else(|e| panic!("{e}"));
    let copy = repo.join("hello");
    std::fs::copy(&exe, &copy).unwrap_or_else(|e| panic!("{e}"));
    let url = format!("https://alice:{REMOTE_TOKEN}@github.com/alice/exp.git");
    if !git(&repo, &["init", "-q"]) || !git(&repo, &["remote", "add", "origin", &url]) {
        eprintln!("skipping: git is not available");
        return;
    }
    // A conda whose export lists a secret variable (outside the set: it is the source).
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap_or_else(|e| panic!("{e}"));
    let conda = bin.join("conda");
    std::fs::write(
        &conda,
        format!(
            "#!/bin/sh\nprintf 'name: base\\nvariables:\\n  HF_TOKEN: {CONDA_SECRET}\\n  OMP_NUM_THREADS: 4\\nprefix: /opt/conda\\n'\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&conda, std::fs::Permissions::from_mode(0o755)).unwrap_or_else(|e| panic!("{e}"));
    }

    let mut vars: Vec<(&str, &str)> = SECRETS.to_vec();
    let conda_s = s(&conda);
    vars.push(("CONDA_EXE", &conda_s));
    vars.push(("XMEN_TEST_VISIBLE", "plainValue8"));
    let x = |args: &[&str]| {
        let out = xmen_with_env(&env, env.dir(), args, &vars);
        assert!(out.status.success(), "xmen {args:?}:\n{}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    x(&["experiments", "--add", "hello", &s(&copy)]);
    x(&["init", "-n", "hello", "-r", "set", "--purpose", "secrets"]);
    x(&["register", "-r", "set", "-u", "{a: Hi | Bye}"]);
    x(&["run", "-r", "set", "*", "bash"]);

    let set = env.path("set");
    let params = set.join("a=Hi").join("params.yml");
    let text = read(&params);
    assert!(text.contains("_status: finished"), "{text}");
    for (name, _) in SECRETS {
        assert!(text.contains(&format!("    {name}: <redacted>")), "{name} is listed, redacted:\n{text}");
    }
    assert!(text.contains("XMEN_TEST_VISIBLE: plainValue8"), "other variables are kept:\n{text}");
    assert!(text.contains("remote: https://github.com/alice/exp.git"), "{text}");
    let conda_file = read(&set.join("a=Hi").join("environment.yml"));
    assert!(conda_file.contains("HF_TOKEN: '<redacted>'") && conda_file.contains("OMP_NUM_THREADS: 4"), "{conda_file}");

    let mut needles: Vec<&str> = SECRETS.iter().map(|(_, v)| *v).collect();
    needles.push(REMOTE_TOKEN);
    needles.push(CONDA_SECRET);
    let mut found = leaks(&set, &needles);
    found.extend(leaks(&env.cfg(), &needles));
    assert!(found.is_empty(), "secrets written to disk:\n{}", found.join("\n"));

    // `environ: none`: no environment at all in the next run.
    x(&["config", "--environ", "none"]);
    assert!(read(&env.cfg().join("xmen.yml")).contains("environ: none"));
    x(&["register", "-r", "set", "-u", "{a: Ciao}"]);
    x(&["run", "-r", "set", "a=Ciao", "bash"]);
    let ciao = read(&set.join("a=Ciao").join("params.yml"));
    assert!(ciao.contains("_status: finished") && !ciao.contains("environ:"), "{ciao}");
    assert!(!read(&set.join("a=Ciao").join("environment.yml")).contains("variables:"));
}

#[test]
fn r13_redact_cleans_records_written_before_the_rule() {
    let env = Env::new();
    let set = env.bash_set("set");
    env.ok(&["register", "-r", &s(&set), "-u", "{a: X}"]);
    let params = set.join("a=X").join("params.yml");
    // What an older xmen (or the original) wrote: the raw environment and a credentialed remote.
    let old = read(&params)
        .replacen("_version:", "_version:\n  git:\n    remote: https://bob:oldT0ken9@host/r.git", 1)
        .replacen("_meta:", "_meta:\n  environ:\n    HF_TOKEN: oldS3cret10\n    PATH: /usr/bin", 1);
    std::fs::write(&params, &old).unwrap_or_else(|e| panic!("{e}"));
    assert!(read(&params).contains("oldS3cret10"), "the fixture holds the secret:\n{old}");
    let out = env.ok(&["redact", &s(&set)]);
    assert!(out.contains("1 rewritten") || out.contains("rewritten"), "{out}");
    let now = read(&params);
    assert!(!now.contains("oldS3cret10") && !now.contains("oldT0ken9"), "{now}");
    assert!(now.contains("HF_TOKEN: <redacted>") && now.contains("PATH: /usr/bin"), "{now}");
    // Idempotent, and a path that does not exist is an error naming it.
    assert!(env.ok(&["redact", &s(&set)]).contains("0 rewritten"));
    let err = env.fails(&["redact", &s(&env.path("nowhere"))]);
    assert!(err.contains("nowhere does not exist"), "{err}");
}

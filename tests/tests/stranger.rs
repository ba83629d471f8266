//! Issue 12, done-when #1: a third party, from empty temporary folders and with no
//! XMEN_HOOK_PATH, scaffolds a hook crate, builds and installs it, builds an experiment crate
//! in another folder with another target dir, and runs a sweep whose `_hooks` name the new hook
//! and the first-party Logger. Both crates depend on this checkout by path, as a stranger's
//! would. Out-of-tree builds go to one persistent folder (`$XMEN_TEST_OUTOFTREE_TARGET`, default
//! `~/.cache/xmen/target-outoftree`) so that only the first run compiles the SDK.

use std::path::{Path, PathBuf};
use std::process::Command;

use xmen_tests::{scratch, workspace_root};

use crate::hooks_cli::{bins, cargo, text, xmen};

pub(crate) fn outoftree_target(which: &str) -> PathBuf {
    let base = std::env::var_os("XMEN_TEST_OUTOFTREE_TARGET").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join(".cache/xmen/target-outoftree")
    });
    base.join(which)
}

const EXPERIMENT_MAIN: &str = r#"use xmen::{Experiment, Monitor, Root, RunResult};

/// A stranger's experiment.
#[derive(Experiment)]
struct Stranger {
    /// The learning rate
    #[param(default = 0.1)]
    lr: f64,
}

impl Experiment for Stranger {
    fn run(&mut self, _root: &Root) -> RunResult {
        // The builder names the first-party Logger; the record's `_hooks` add the rest.
        let m = Monitor::builder().log("loss@2s").build()?;
        for i in m.iter(0..4_i64) {
            m.set("loss", self.lr * i as f64);
        }
        Ok(())
    }
}

fn main() {
    xmen::main::<Stranger>()
}
"#;

fn experiment_crate(dir: &Path) {
    let sdk = workspace_root().join("sdk/xmen");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let toml = format!(
        "[package]\nname = \"stranger-exp\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n\
         [dependencies]\nxmen = {{ path = {:?} }}\n",
        sdk.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), toml).unwrap();
    std::fs::write(dir.join("src/main.rs"), EXPERIMENT_MAIN).unwrap();
    std::fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
}

fn ok(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> String {
    let out = xmen(dir, args, None, env);
    let shown = text(&out);
    assert!(out.status.success(), "xmen {args:?}:\n{shown}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The path `hooks doctor --for` says `_hooks[i]` loads.
fn doctor_path(report: &str, index: usize, hook: &str) -> PathBuf {
    let prefix = format!(": _hooks[{index}] {hook} -> ");
    let line = report.lines().find(|l| l.contains(&prefix)).unwrap_or_else(|| panic!("no {prefix:?}:\n{report}"));
    PathBuf::from(line.split(&prefix).nth(1).unwrap_or_default())
}

#[test]
fn r12_a_stranger_writes_installs_and_runs_a_hook_from_empty_folders() {
    let tmp = scratch();
    let (hook_dir, exp_dir, work) = (tmp.path().join("hook"), tmp.path().join("exp"), tmp.path().join("work"));
    std::fs::create_dir_all(&work).unwrap();
    let (hook_target, exp_target) = (outoftree_target("hook"), outoftree_target("experiment"));

    // 1. Scaffold, test and install a hook crate with its own target dir.
    let hook_s = hook_dir.display().to_string();
    let shown = ok(&work, &["hooks", "new", "stranger", &hook_s], &[]);
    assert!(shown.contains("Created xmen-hook-stranger (hook `stranger`)"), "{shown}");
    let env = [("CARGO_TARGET_DIR", hook_target.as_path())];
    cargo(&["test", "--quiet"], &hook_dir, &env).unwrap_or_else(|e| panic!("the scaffold's own test: {e}"));
    let shown = ok(&work, &["hooks", "install", &hook_s], &env);
    let installed =
        work.join(".xmen/hooks").join(xmen_loader::search::host_abi_folder()).join("libxmen_hook_stranger.so");
    assert!(installed.is_file() && shown.contains(&installed.display().to_string()), "{shown}");
    assert!(!shown.contains("WARNING"), "package and hook names agree: {shown}");

    // 2. An experiment crate in another folder, with another target dir.
    experiment_crate(&exp_dir);
    let exp_env = [("CARGO_TARGET_DIR", exp_target.as_path())];
    cargo(&["build", "--quiet"], &exp_dir, &exp_env).unwrap_or_else(|e| panic!("the experiment crate: {e}"));
    let exe = exp_target.join("debug/stranger-exp");

    // 3. A set whose defaults.yml names the new hook and the first-party Logger.
    let exe_s = exe.display().to_string();
    ok(&work, &["init", "-n", &exe_s, "-r", "set"], &[]);
    let set = work.join("set");
    let defaults = set.join("defaults.yml");
    let mut yml = std::fs::read_to_string(&defaults).unwrap();
    yml.push_str("_hooks:\n  - {hook: stranger, spec: \"loss@2s\"}\n  - {hook: logger, spec: \"loss@4s\"}\n");
    std::fs::write(&defaults, yml).unwrap();
    let set_s = set.display().to_string();
    ok(&work, &["register", "-r", &set_s, "-u", "{lr: 0.1 | 0.2}"], &[]);
    let ran = ok(&work, &["run", "-r", &set_s, "*", "bash"], &[]);

    for (run, lr) in [("lr=0.1", 0.1), ("lr=0.2", 0.2)] {
        let params = std::fs::read_to_string(set.join(run).join("params.yml")).unwrap();
        assert!(params.contains("_status: finished"), "{run}:\n{params}\n{ran}");
        let log = std::fs::read_to_string(set.join(run).join("stranger.log"))
            .unwrap_or_else(|e| panic!("{run}: the hook wrote nothing in its run folder ({e}):\n{ran}"));
        assert_eq!(log, format!("step=2 loss={}\nstep=4 loss={}\n", lr * 1.0, lr * 3.0), "{run}");
    }
    assert!(!set.join("stranger.log").exists(), "a run wrote into the set's root");
    assert!(ran.contains("loss = 0.30000000000000004") || ran.contains("loss = 0.3"), "the Logger fired:\n{ran}");

    // 4. `hooks list --all` and `hooks doctor --for` name the libraries the runs loaded.
    let logger = bins().join("libxmen_hook_logger.so");
    let list = ok(&work, &["hooks", "list", "--all"], &[]);
    assert!(list.contains(&format!("{}  [installed]", installed.display())), "{list}");
    assert!(list.contains("- stranger: Append the counters") && list.contains("(wins)"), "{list}");
    assert!(list.contains(&format!("{}  [xmen installation]", logger.display())), "{list}");
    let report = ok(&work, &["hooks", "doctor", "--for", &set_s], &[]);
    assert_eq!(doctor_path(&report, 0, "stranger"), installed, "{report}");
    assert_eq!(doctor_path(&report, 1, "logger"), logger, "{report}");
    let report = ok(&work, &["hooks", "doctor", "--for", &set.join("lr=0.2").display().to_string()], &[]);
    assert_eq!(doctor_path(&report, 0, "stranger"), installed, "{report}");

    // 5. The experiment run directly (no `xmen run`, no XMEN_HOOK_PATH) finds the Logger.
    let out = Command::new(&exe)
        .args(["-x", &work.join("direct").display().to_string()])
        .current_dir(&work)
        .env("XMEN", work.join(".xmen"))
        .env_remove("XMEN_HOOK_PATH")
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(out.status.success() && shown.contains("loss = 0.1"), "{shown}");
    let params = std::fs::read_to_string(work.join("direct/params.yml")).unwrap();
    assert!(params.contains("_status: finished"), "{params}");
}

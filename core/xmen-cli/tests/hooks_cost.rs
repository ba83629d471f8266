//! What each hook costs a run (issue 15): the `train_toy` example, whose Monitor loads the
//! Logger, Timer and Messenger libraries, is registered and run through the real `xmen` binary;
//! its params.yml must then hold `_hooks_cost` with every entry's firings, `xmen hooks cost`
//! must print the table, and `xmen list -C` / `-f "_hooks_cost_..."` must show and filter it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{describe, Env};
use xmen_record::hookscost::{self, HookCostEntry};

/// Build `train_toy` and the three hook libraries it loads with the cargo running this test;
/// returns the example and the folder of the libraries, from cargo's own report.
fn build() -> (PathBuf, PathBuf) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    // Two builds: a target selection (`--example`) applies to every package given.
    let cargo = |args: &[&str]| {
        let out = Command::new(env!("CARGO"))
            .args(args)
            .args(["--message-format=json", "--manifest-path"])
            .arg(&manifest)
            .output()
            .unwrap_or_else(|e| panic!("cannot run cargo: {e}"));
        assert!(out.status.success(), "cargo {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let json = cargo(&["build", "-p", "xmen-examples", "--example", "train_toy"]);
    let exe = json
        .lines()
        .filter(|l| l.contains("\"name\":\"train_toy\""))
        .find_map(|l| l.split("\"executable\":\"").nth(1).and_then(|r| r.split('"').next()))
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("cargo did not report the train_toy executable"));
    let json = cargo(&["build", "-p", "xmen-hook-logger", "-p", "xmen-hook-timer", "-p", "xmen-hook-messenger"]);
    let lib = json
        .split('"')
        .find(|s| s.ends_with("libxmen_hook_logger.so"))
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("cargo did not report libxmen_hook_logger.so"));
    let hooks = lib.parent().map(Path::to_path_buf).unwrap_or_default();
    (exe, hooks)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn a_real_run_records_what_each_hook_cost_and_xmen_shows_it() {
    let (exe, hooks) = build();
    let env = Env::new();
    env.ok(&["init", "-n", &s(&exe), "-r", "set"]);
    let set = env.path("set");
    env.ok(&["register", "-r", &s(&set), "-u", "{epochs: 2 | 3, samples: 100}"]);
    let out = Command::new(env!("CARGO_BIN_EXE_xmen"))
        .args(["run", "-r", &s(&set), "*", "bash"])
        .current_dir(env.dir())
        .env("XMEN", env.cfg())
        .env("XMEN_HOOK_PATH", &hooks)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run xmen: {e}"));
    assert!(out.status.success(), "{}", describe(&out));

    for (run, epochs) in [("epochs=2__samples=100", 2u64), ("epochs=3__samples=100", 3)] {
        let params = set.join(run).join("params.yml");
        let rec = xmen_record::Record::load(&params).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rec.status.as_str(), "finished", "{}", describe(&out));
        let cost = hookscost::of(&rec);
        let entries: Vec<(&str, &str, &str, u64)> =
            cost.iter().map(|e| (e.key.as_str(), e.hook.as_str(), e.spec.as_str(), e.firings)).collect();
        // 100 samples per epoch: loss@50s fires twice an epoch, the messenger every 100 steps.
        assert_eq!(
            entries,
            [
                ("logger", "logger", "loss@50s", 2 * epochs),
                ("logger_2", "logger", "w|b@1e", epochs),
                ("timer", "timer", "@1e", epochs),
                ("messenger", "messenger", "loss|step_best->root@100s", epochs),
            ],
            "{}",
            std::fs::read_to_string(&params).unwrap_or_default()
        );
        for HookCostEntry { key, total, share, max, p50, p99, .. } in &cost {
            assert!(*total > 0.0 && *share > 0.0 && *share < 1.0, "{key}: {cost:?}");
            assert!(*max > 0.0 && p50 <= max && p99 <= max && *max <= *total + 1e-12, "{key}: {cost:?}");
        }
    }

    let table = env.ok(&["hooks", "cost", &s(&set.join("epochs=2__samples=100"))]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].ends_with("epochs=2__samples=100 (finished)"), "{table}");
    assert!(lines[1].starts_with("hook ") && lines[1].contains("firings") && lines[1].ends_with("close"), "{table}");
    assert!(lines[3].starts_with("logger_2 ") && lines[3].contains("w|b@1e"), "{table}");
    assert!(lines.last().is_some_and(|l| l.starts_with("all hooks: ") && l.contains("wall time")), "{table}");
    // a registered run that has not run has nothing to show
    env.ok(&["register", "-r", &s(&set), "-u", "{epochs: 5}"]);
    let out = env.run(&["hooks", "cost", &s(&set.join("epochs=5"))]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no `_hooks_cost`"), "{}", describe(&out));

    let listed = env.ok(&["list", &s(&set), "-C", "--csv"]);
    let header = listed.lines().next().unwrap_or_default();
    for column in ["cost_logger_total", "cost_logger_share", "cost_timer_total", "cost_messenger_share"] {
        assert!(header.split(',').any(|c| c == column), "{column} in {listed}");
    }
    assert!(!header.contains("firings"), "-C shows total and share only: {header}");
    let filtered = env.ok(&["list", &s(&set), "-f", "_hooks_cost_timer_firings==3"]);
    assert!(filtered.contains("epochs=3") && !filtered.contains("epochs=2"), "{filtered}");
}

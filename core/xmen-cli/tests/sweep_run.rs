//! Issue 14 item 5: sweeps at scale. `xmen run` prints `[i/N]`, runs in registration order,
//! ends with a summary naming the failed runs, runs `-j N` at once with one `--gpus` id each,
//! and `--dry-run` changes nothing; on a terminal a progress bar is drawn below the runs' output,
//! elsewhere only plain lines; with `-j N` each run's output lines carry its label. From empty
//! temporary folders with the real `xmen` and bash experiments.

mod common;

use std::path::{Path, PathBuf};

use common::{describe, read, Env};

/// A set of a bash experiment with parameter `x` whose script is `script`.
fn set_with(env: &Env, script: &str, sweep: &str) -> PathBuf {
    let src = env.path("src");
    std::fs::create_dir_all(&src).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(src.join("defaults.yml"), "_meta: {}\nx: 1\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(src.join("script.sh"), script).unwrap_or_else(|e| panic!("{e}"));
    let d = src.join("defaults.yml").display().to_string();
    let s = src.join("script.sh").display().to_string();
    env.ok(&["init", "-d", &d, "-s", &s, "-r", "set"]);
    let set = env.path("set");
    let out = env.run_in(&set, &["register", "-u", sweep], None);
    assert!(out.status.success(), "{}", describe(&out));
    set
}

const X: &str = "x=$(sed -n 's/^x: \\([0-9]*\\).*/\\1/p' \"$1\")\n";

fn status(run: &Path) -> String {
    common::top_value(&run.join("params.yml"), "_status")
}

#[test]
fn runs_go_in_registration_order_with_progress_and_a_summary_and_dry_run_changes_nothing() {
    let env = Env::new();
    let script = format!("#! /bin/bash\n{X}if [ \"$x\" = 2 ]; then echo failing x=$x; exit 3; fi\necho ran x=$x\n");
    let set = set_with(&env, &script, "{x: 3 | 1 | 2}");

    let out = env.run_in(&set, &["run", "--dry-run", "*", "bash"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let order: Vec<usize> = ["x=3/run.sh", "x=1/run.sh", "x=2/run.sh"]
        .iter()
        .map(|n| text.find(n).unwrap_or_else(|| panic!("{n} missing: {text}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "registration order: {text}");
    assert!(text.contains("[1/3] bash ") && text.contains("Dry run: 3 experiment(s) would run"), "{text}");
    assert!(!text.contains("ran x="), "nothing runs: {text}");
    for x in ["1", "2", "3"] {
        assert_eq!(status(&set.join(format!("x={x}"))), "registered");
    }

    let out = env.run_in(&set, &["run", "*", "bash"], None);
    assert_eq!(out.status.code(), Some(1), "one run failed: {}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let order: Vec<usize> =
        ["[1/3] Running: bash", "ran x=3", "[2/3] Running:", "ran x=1", "[3/3] Running:", "failing x=2"]
            .iter()
            .map(|n| text.find(n).unwrap_or_else(|| panic!("{n} missing: {text}")))
            .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(text.contains("Summary: 2 of 3 run(s) finished, 1 failed; wall time 0:00:"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}", set.join("x=2").display())) && err.contains("exit status: 3"), "{err}");
    // not a terminal: no bar, no escape sequence, and one run at a time needs no labels
    assert!(!text.contains('\x1b') && !err.contains('\x1b') && !err.contains(" done, "), "{text}\n{err}");
    assert!(text.contains("\nran x=3\n") && !text.contains("] ran x="), "{text}");
}

/// `(run number, x)` of each `[i/N] Running: ... x=K/run.sh` line.
fn numbers(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .filter_map(|l| {
            let (head, rest) = l.strip_prefix('[')?.split_once("] Running: ")?;
            let i = head.split_once('/')?.0.parse().ok()?;
            let x = rest.rsplit_once("/x=")?.1.split_once('/')?.0.to_owned();
            Some((i, x))
        })
        .collect()
}

#[test]
fn with_jobs_each_output_line_carries_its_runs_label() {
    let env = Env::new();
    // Both runs are alive at once (each waits for the other), and write to stdout and stderr,
    // the last line without a newline.
    let script = format!(
        "#! /bin/bash\n{X}set_dir=$(dirname \"$(dirname \"$1\")\")\ntouch \"$set_dir/started-$x\"\n\
         for i in $(seq 1 1200); do [ $(ls \"$set_dir\" | grep -c '^started-') -ge 2 ] && break; sleep 0.05; done\n\
         echo out of x=$x\necho err of x=$x >&2\nprintf 'tail of x=%s' $x\n"
    );
    let set = set_with(&env, &script, "{x: 1 | 2}");
    let out = env.run_in(&set, &["run", "-j", "2", "*", "bash"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let runs = numbers(&text);
    assert_eq!(runs.len(), 2, "{text}");
    for (i, x) in runs {
        for (stream, line) in [(&text, format!("[{i}] out of x={x}")), (&err, format!("[{i}] err of x={x}"))] {
            assert!(stream.lines().any(|l| l == line), "`{line}` missing:\n{stream}");
        }
        assert!(text.lines().any(|l| l == format!("[{i}] tail of x={x}")), "the unfinished last line: {text}");
    }
    assert!(!text.contains('\x1b') && !err.contains('\x1b'), "no terminal, no escape sequence: {err}");
    assert!(text.contains("Summary: 2 of 2 run(s) finished, 0 failed"), "{text}");
}

#[test]
fn on_a_terminal_a_bar_is_drawn_below_the_output_and_cleared_before_more() {
    let env = Env::new();
    let script = format!("#! /bin/bash\n{X}if [ \"$x\" = 2 ]; then echo failing x=$x; exit 3; fi\necho ran x=$x\n");
    let set = set_with(&env, &script, "{x: 3 | 1 | 2}");
    // `script` (util-linux) gives the command a terminal and copies what it shows.
    let line = format!("{} run '*' bash", env!("CARGO_BIN_EXE_xmen"));
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(&set)
        .env("XMEN", env.cfg())
        .env("COLUMNS", "100")
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::null())
        .output();
    let Ok(out) = out else {
        eprintln!("skipped: util-linux `script` is not installed, so no terminal can be given to xmen");
        return;
    };
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(shown.contains("[3/3] Running: ") && shown.contains("failing x=2"), "{shown:?}");
    assert!(shown.contains("Summary: 2 of 3 run(s) finished, 1 failed"), "{shown:?}");
    // The bar is drawn after each clear: `[###...] i/3 done, f failed, M:SS elapsed, ETA ...`,
    // alone on its line (only a carriage return follows it before the next clear).
    let bars: Vec<&str> = shown.split("\x1b[2K").filter(|s| s.contains(" done, ")).collect();
    assert!(bars.len() >= 3, "a bar per run at least: {shown:?}");
    for b in &bars {
        assert!(is_bar(b.trim_end_matches('\r')), "the bar shares its line with other output: {b:?}");
        assert!(b.len() < 100, "wider than the terminal: {b:?}");
    }
    assert!(bars.iter().any(|b| b.contains("3/3 done, 1 failed")), "{bars:?}");
    // the last thing on the screen is not a bar: it was cleared before the summary
    let summary = shown.rfind("Summary:").unwrap_or_default();
    assert!(!shown[summary..].contains(" done, "), "{shown:?}");

    // --plain: the same lines, no bar
    let line = format!("{} run --plain --all '*' bash", env!("CARGO_BIN_EXE_xmen"));
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(&set)
        .env("XMEN", env.cfg())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(shown.contains("[3/3] Running: ") && shown.contains("Summary: 2 of 3 run(s) finished"), "{shown:?}");
    assert!(!shown.contains('\x1b') && !shown.contains(" done, "), "{shown:?}");
}

/// Whether `s` is exactly a bar line: `[#..] i/N done, f failed, M:SS elapsed, ETA M:SS|-`.
fn is_bar(s: &str) -> bool {
    {
        let Some((bar, text)) = s.strip_prefix('[').and_then(|s| s.split_once("] ")) else { return false };
        let words: Vec<&str> = text.split(' ').collect();
        bar.chars().all(|c| c == '#' || c == '.')
            && words.len() == 8
            && words[0].split_once('/').is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b == "3")
            && words[1] == "done,"
            && words[2].trim_end_matches(',').parse::<u32>().is_ok()
            && words[3] == "failed,"
            && words[5] == "elapsed,"
            && words[6] == "ETA"
            && (words[7] == "-" || words[7].contains(':'))
    }
}

#[test]
fn jobs_run_at_once_each_with_its_own_gpu() {
    let env = Env::new();
    // Each run waits (up to 60 s) until both have started: it only ends if they run together.
    let script = format!(
        "#! /bin/bash\n{X}set_dir=$(dirname \"$(dirname \"$1\")\")\ntouch \"$set_dir/started-$x\"\n\
         echo \"$CUDA_VISIBLE_DEVICES\" > \"$(dirname \"$1\")/gpu.txt\"\n\
         for i in $(seq 1 1200); do [ $(ls \"$set_dir\" | grep -c '^started-') -ge 2 ] && exit 0; sleep 0.05; done\n\
         echo never together; exit 1\n"
    );
    let set = set_with(&env, &script, "{x: 1 | 2}");
    let out = env.run_in(&set, &["run", "--gpus", "3,5", "*", "bash"], None);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("(CUDA_VISIBLE_DEVICES=3)") && text.contains("(CUDA_VISIBLE_DEVICES=5)"), "{text}");
    assert!(text.contains("Summary: 2 of 2 run(s) finished, 0 failed"), "{text}");
    let mut gpus: Vec<String> =
        ["x=1", "x=2"].iter().map(|r| read(&set.join(r).join("gpu.txt")).trim().to_owned()).collect();
    gpus.sort();
    assert_eq!(gpus, ["3", "5"]);

    // more jobs than GPUs is refused before anything runs
    let out = env.run_in(&set, &["run", "-j", "3", "--gpus", "0,1", "--all", "*", "bash"], None);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("each concurrent run needs its own")
    );
}

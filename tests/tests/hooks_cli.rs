//! `xmen hooks list/info/doctor/install`, run as the real binary, and hooks declared in a
//! record's `_hooks`: the first-party `early-stop` and the third-party `examples/custom-hook`
//! (built, installed, listed and used from defaults.yml and from `xmen register -u`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use xmen_tests::{built, scratch, workspace_root};

/// `xmen`, the `early-stop` hook and the `record_hooks` example, built once per process in the
/// profile and target folder of the running tests.
pub(crate) fn bins() -> &'static PathBuf {
    static BINS: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let b = built();
    let r = BINS.get_or_init(|| {
        let target = b.target.to_string_lossy().into_owned();
        let args = [
            "build",
            "--profile",
            &b.profile,
            "--target-dir",
            &target,
            "-p",
            "xmen-cli",
            "-p",
            "xmen-hook-early-stop",
            "-p",
            "xmen-examples",
            "--example",
            "record_hooks",
            // With `--example` alone cargo builds no binary and no library of the packages named
            // (only what the example links), so a stale `xmen` or early-stop library would be used.
            "--bins",
            "--lib",
        ];
        cargo(&args, &workspace_root(), &[])?;
        Ok(b.hooks.clone())
    });
    match r {
        Ok(p) => p,
        Err(e) => panic!("cannot build xmen and the hooks: {e}"),
    }
}

pub(crate) fn cargo(args: &[&str], dir: &Path, env: &[(&str, &Path)]) -> Result<(), String> {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("cargo {args:?}: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// Run `xmen ARGS` in `dir` with `$XMEN` = `dir/.xmen`, the given hook path and extra env.
pub(crate) fn xmen(dir: &Path, args: &[&str], hook_path: Option<&Path>, env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(bins().join("xmen"));
    cmd.current_dir(dir).args(args).env("XMEN", dir.join(".xmen")).env_remove("XMEN_HOOK_PATH");
    if let Some(p) = hook_path {
        cmd.env("XMEN_HOOK_PATH", p);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("cannot run xmen: {e}"))
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub(crate) fn fixture(name: &str) -> PathBuf {
    built().fixtures.join(xmen::hooks::library_file_name(name))
}

#[test]
fn list_describes_libraries_without_running_their_code() {
    let tmp = scratch();
    let marker = tmp.path().join("marker");
    let fixtures = &built().fixtures;
    let env = [("XMEN_TEST_MARKER", marker.as_path())];
    let out = xmen(tmp.path(), &["hooks", "list"], Some(fixtures), &env);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains(&format!("{}  [XMEN_HOOK_PATH]\n  fixture-marker 0.1.0 (SDK", fixture("marker").display())),
        "{shown}"
    );
    assert!(shown.contains("  - marker: test fixture: writes $XMEN_TEST_MARKER when loaded"), "{shown}");
    // Described from the file alone: the incompatible one is flagged without loading it.
    assert!(
        shown.contains("fixture-version 0.1.0 (SDK 0.0.1") && shown.contains("INCOMPATIBLE: built for hook ABI 0.0.1"),
        "{shown}"
    );
    // The options are declared as data, in the compiled-in manifest: listed without loading.
    assert!(
        shown.contains(
            "  - marker: test fixture: writes $XMEN_TEST_MARKER when loaded\n      options:\n        unused (int): "
        ),
        "{shown}"
    );
    assert!(!marker.exists(), "`xmen hooks list` ran the marker library's load-time constructor");

    let out = xmen(tmp.path(), &["hooks", "info", "marker"], Some(fixtures), &env);
    let shown = text(&out);
    assert!(out.status.success() && shown.contains("unused (int): "), "{shown}");
    assert!(shown.contains("- {hook: marker, spec: \"x@1s\"}"), "{shown}");
    // `doctor` loads the library in a child process, which runs the constructor: this proves
    // the fixture can write its marker, so the checks above prove something.
    let out = xmen(tmp.path(), &["hooks", "doctor", &fixture("marker").display().to_string()], Some(fixtures), &env);
    assert!(out.status.success(), "{}", text(&out));
    assert!(marker.exists(), "the marker fixture's constructor never ran when loaded: the test above proves nothing");
}

#[test]
fn doctor_gives_one_clear_message_per_broken_library_and_fails() {
    let tmp = scratch();
    let table: [(&str, &str); 7] = [
        ("version", "incompatible: built for hook ABI 0.0.1, but this program uses hook ABI"),
        ("layout", "its types do not match this program's (abi_stable layout check)"),
        ("ctor-error", "hook ctor-error on spec \"@1s\" (it declares no examples; add some in `NewHook::examples`): the constructor failed: the ctor-error fixture refuses spec \"@1s\""),
        ("ctor-panic", "the constructor panicked: ctor-panic fixture: boom while constructing"),
        ("panicky", "it panicked when fired (call 3 of 3)"),
        ("not-hook", "not an xmen hook library"),
        ("liar", "its manifest disagrees with its root module (the manifest lists hooks [claimed], the library provides [liar])"),
    ];
    let mut args = vec!["hooks".to_owned(), "doctor".to_owned()];
    args.extend(table.iter().map(|(n, _)| fixture(n).display().to_string()));
    args.push("no-such-hook".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = xmen(tmp.path(), &args, Some(&built().fixtures), &[]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    for (name, want) in table {
        let path = fixture(name).display().to_string();
        let at = stdout.find(&format!("{path}\n")).unwrap_or_else(|| panic!("{name} not reported:\n{shown}"));
        let head = &stdout[..at];
        assert!(head.rsplit('\n').next().is_some_and(|l| l.starts_with("FAIL")), "{name}:\n{shown}");
        let block: Vec<&str> = stdout[at..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .filter(|l| l.starts_with("  problem:"))
            .collect();
        assert_eq!(block.len(), 1, "{name} must give one message:\n{shown}");
        assert!(block[0].contains(want), "{name}: {:?} lacks {want:?}", block[0]);
    }
    assert!(stdout.contains("MISSING hook \"no-such-hook\": no library on the search path provides it"), "{shown}");
    assert!(stdout.contains("8 checked, 8 with problems."), "{shown}");

    let good = bins().join(xmen::hooks::library_file_name("early-stop"));
    let out = xmen(tmp.path(), &["hooks", "doctor", &good.display().to_string()], None, &[]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("ok     xmen-hook-early-stop 0.1.0") && shown.contains("1 checked, all usable."), "{shown}");
}

/// The params.yml folder of a registered experiment and its metrics file.
fn metrics(set: &Path, name: &str) -> Vec<String> {
    let path = set.join(name).join("metrics.jsonl");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_third_party_hook_builds_installs_lists_and_runs_from_the_record() {
    let tmp = scratch();
    let dir = tmp.path();
    let crate_dir = workspace_root().join("examples/custom-hook");
    let target = built().target.join("custom-hook");
    let manifest = crate_dir.join("Cargo.toml").display().to_string();
    let target_s = target.display().to_string();
    cargo(&["build", "--release", "--manifest-path", &manifest, "--target-dir", &target_s], dir, &[])
        .unwrap_or_else(|e| panic!("{e}"));

    // Install from the crate folder (cargo builds it again: nothing to do) ...
    let env = [("CARGO_TARGET_DIR", target.as_path())];
    let out = xmen(dir, &["hooks", "install", &crate_dir.display().to_string()], None, &env);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    // Into the folder of the ABI generation it was built for.
    let abi_dir = dir.join(".xmen/hooks").join(xmen_loader::search::host_abi_folder());
    let installed = abi_dir.join("libxmen_hook_jsonl.so");
    // The library alone: its compiled-in manifest describes it (no file beside it).
    let beside: Vec<_> = std::fs::read_dir(&abi_dir).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(installed.is_file(), "{shown}");
    assert!(!beside.iter().any(|f| f.to_string_lossy().ends_with(".json")), "{beside:?}");
    // ... and from a built library, elsewhere.
    let built_lib = target.join("release/libxmen_hook_jsonl.so").display().to_string();
    let out = xmen(dir, &["hooks", "install", &built_lib, "--dest", "elsewhere"], None, &[]);
    assert!(out.status.success() && dir.join("elsewhere/libxmen_hook_jsonl.so").is_file(), "{}", text(&out));

    let out = xmen(dir, &["hooks", "list"], None, &[]);
    let shown = text(&out);
    assert!(shown.contains(&format!("{}  [installed]\n  xmen-hook-jsonl 0.1.0 (SDK", installed.display())), "{shown}");
    assert!(shown.contains("        path (str, default metrics.jsonl): the file to append to"), "{shown}");

    // An experiment whose code names no hook: its defaults.yml does.
    let example = bins().join("examples/record_hooks").display().to_string();
    let out = xmen(dir, &["init", "-n", &example, "-r", "set"], None, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let set = dir.join("set");
    let defaults = set.join("defaults.yml");
    let mut yml = std::fs::read_to_string(&defaults).unwrap_or_default();
    yml.push_str(
        "_hooks:\n  - {hook: early-stop, spec: \"val_acc@1e\", options: {condition: max, memory: 2}}\n  - {hook: jsonl, spec: \"loss|val_acc@1e\"}\n",
    );
    std::fs::write(&defaults, yml).unwrap_or_else(|e| panic!("{e}"));
    let set_s = set.display().to_string();
    let out = xmen(dir, &["register", "-r", &set_s, "-u", "{plateau: 2}"], None, &[]);
    assert!(out.status.success(), "{}", text(&out));
    // `_hooks` swept as one whole value: this experiment runs the jsonl writer alone.
    let only_jsonl = "{_hooks: [{hook: jsonl, spec: \"val_acc@1e\", options: {path: acc.jsonl}}], plateau: 1}";
    let out = xmen(dir, &["register", "-r", &set_s, "-u", only_jsonl], None, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = xmen(dir, &["run", "-r", &set_s, "*", "bash"], None, &[]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");

    assert!(
        shown.contains(
            "----- EarlyStop(True, memory=2, condition='max', best=0.6, count=4, tags={'step': 10, 'epoch': 2}) ----"
        ),
        "{shown}"
    );
    assert_eq!(
        metrics(&set, "plateau=2"),
        [
            r#"{"step": 5, "epoch": 1, "loss": 0.2, "val_acc": 0.5}"#,
            r#"{"step": 10, "epoch": 2, "loss": 0.1, "val_acc": 0.6}"#,
            r#"{"step": 15, "epoch": 3, "loss": 0.06666666666666667, "val_acc": 0.5}"#,
            r#"{"step": 20, "epoch": 4, "loss": 0.05, "val_acc": 0.5}"#,
        ]
    );
    let acc = set.join("plateau=1/acc.jsonl");
    let lines = std::fs::read_to_string(&acc).unwrap_or_else(|e| panic!("{}: {e}\n{shown}", acc.display()));
    assert_eq!(lines.lines().count(), 10, "no early stop without it in _hooks:\n{lines}");
    assert!(lines.lines().all(|l| l.contains("\"val_acc\"") && !l.contains("loss")), "{lines}");
    assert!(!set.join("plateau=1/metrics.jsonl").exists());
}

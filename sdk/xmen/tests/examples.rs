//! The real example binaries (`examples/hello_world.rs`, `hello_functional.rs`,
//! `composition.rs`), built once and run from fresh temporary folders with `$XMEN` isolated:
//! registration, runs, the record they leave, and one test per kind of bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use xmen_record::{Record, RecordFile, Status};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Build the examples once per test run and return the folder holding them
/// (`$XMEN_TEST_EXAMPLES_DIR` names a folder of already built examples instead).
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os("XMEN_TEST_EXAMPLES_DIR") {
            return PathBuf::from(dir);
        }
        let exe = std::env::current_exe().unwrap_or_default();
        // target/<profile>/deps/<test binary> -> target/<profile>
        let profile_dir = exe.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
        let mut cargo = Command::new(env!("CARGO"));
        cargo.args(["build", "--quiet", "-p", "xmen-examples", "--examples"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cargo.arg("--release");
        }
        let status = cargo.current_dir(env!("CARGO_MANIFEST_DIR")).status();
        assert!(matches!(status, Ok(s) if s.success()), "building the examples failed: {status:?}");
        profile_dir.join("examples")
    })
}

/// A fresh folder with its own `$XMEN`, running examples from inside it.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        Sandbox { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn command(&self, example: &str, args: &[&str]) -> Command {
        let mut c = Command::new(examples_dir().join(example));
        c.args(args)
            .current_dir(self.dir.path())
            .env("XMEN", self.path("xmen-config"))
            .env_remove("RUST_BACKTRACE")
            .env_remove("CONDA_EXE")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, example: &str, args: &[&str]) -> Output {
        self.command(example, args).output().unwrap_or_else(|e| panic!("running {example}: {e}"))
    }

    fn record(&self, rel: &str) -> Record {
        RecordFile::load(&self.path(rel).join("params.yml")).unwrap_or_else(|e| panic!("{e}"))
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Assert success and return stdout.
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Assert failure with a non-zero exit and return stderr.
fn failed(out: &Output) -> String {
    assert!(!out.status.success(), "unexpected success\nstdout:\n{}", text(&out.stdout));
    text(&out.stderr)
}

fn assert_ran(rec: &Record, root: &Path) {
    assert_eq!(rec.status, Status::Finished);
    assert_eq!(rec.root.as_deref(), root.to_str());
    for t in [&rec.timestamps.created, &rec.timestamps.registered, &rec.timestamps.start, &rec.timestamps.stopped] {
        assert!(t.is_some(), "{:?}", rec.timestamps);
    }
    assert!(rec.user.is_some() && rec.host.is_some());
    let version = rec.version.clone().unwrap_or(xmen::Value::None);
    assert_eq!(version.get("crate").and_then(|v| v.as_str()), Some("xmen-examples"));
    assert!(version.get("path").is_some());
    let meta = rec.meta.clone().unwrap_or(xmen::Value::None);
    for group in ["host", "system", "cpu", "environ"] {
        assert!(meta.get(group).is_some(), "_meta lacks {group}");
    }
}

#[test]
fn hello_world_registers_runs_and_records_its_messages_notes_and_version() -> TestResult {
    let sb = Sandbox::new();
    let out = ok(&sb.run("hello_world", &["-u", "{a: Bye}", "-p", "a", "first", "run", "-x", "exp"]));
    assert_eq!(out, "Updating parameters {'a': 'Bye'}\nBye World!\n");
    let rec = sb.record("exp");
    assert_ran(&rec, &sb.path("exp"));
    assert_eq!(rec.purpose.as_deref(), Some("a first run"), "the purpose is recorded");
    assert_eq!(rec.message_value("a"), Some(&"Bye".into()));
    assert_eq!(rec.message_value("b"), Some(&"World".into()));
    assert_eq!(rec.notes, ["greeted with Bye World"]);
    assert_eq!(rec.version.as_ref().and_then(|v| v.get("class")), Some(&"HelloWorld".into()));
    assert_eq!(rec.param("a").map(|p| p.help.as_str()), Some("a: String='Hello' ~ The first argument"));
    // redirect_stdout defaults to on (the original's `--txt` defaulted to off), so out.txt holds the output.
    assert_eq!(std::fs::read_to_string(sb.path("exp/out.txt"))?, "Bye World!\n");
    // the registration is linked once into the isolated global configuration (not again at every save)
    let cfg = xmen_record::GlobalConfig::load(&sb.path("xmen-config"))?;
    assert_eq!(cfg.linked, [sb.path("exp").display().to_string()]);
    // a second run of the same folder registers exp_0
    ok(&sb.run("hello_world", &["-x", "exp"]));
    assert_eq!(sb.record("exp_0").get("a"), Some(&"Hello".into()));
    Ok(())
}

#[test]
fn the_functional_example_yields_the_same_cli_and_record() -> TestResult {
    let sb = Sandbox::new();
    let out = ok(&sb.run("hello_functional", &["-u", "{a: Bye}", "-x", "exp", "--no-txt"]));
    assert_eq!(out, "Updating parameters {'a': 'Bye'}\nBye  World\n");
    let rec = sb.record("exp");
    assert_ran(&rec, &sb.path("exp"));
    assert_eq!(rec.message_value("a"), Some(&"Bye".into()));
    assert_eq!(rec.notes, ["written by the functional api"]);
    assert_eq!(rec.version.as_ref().and_then(|v| v.get("function")), Some(&"hello_world".into()));
    assert_eq!(std::fs::read_to_string(sb.path("exp/hello.txt"))?, "Bye World");
    assert!(!sb.path("exp/out.txt").exists(), "--no-txt");
    Ok(())
}

#[test]
fn help_lists_every_parameter_with_type_default_and_help() {
    let sb = Sandbox::new();
    let help = ok(&sb.run("composition", &["--help"]));
    for line in [
        "-u, --update <YML>...",
        "-x, --execute [<PATH>]",
        "-r, --to-root <PATH>",
        "  Base\n  ----\n     t: String='cat'\n     w: i64=4 ~ parameter w has a help message whilst t does not",
        "     b: i64=18 ~ Another parameter",
        "     epochs: u64=3 ~ Passes over the data",
        "     x: Vec<f64>=[3.0, 2.0] ~ Parameters can be lists",
        "     fail_at: Option<u64>=None ~ Panic at this epoch, to show how a\n       failed run is recorded",
    ] {
        assert!(help.contains(line), "--help lacks {line:?}:\n{help}");
    }
    let bare = ok(&sb.run("hello_world", &[]));
    assert!(bare.ends_with("     b: String='World' ~ The second argument\n\nFor more help use --help.\n"), "{bare}");
}

#[test]
fn to_root_writes_defaults_and_an_executable_script_that_runs_a_params_file() -> TestResult {
    let sb = Sandbox::new();
    let out = ok(&sb.run("hello_world", &["-u", "{b: There}", "--to_root", "set"]));
    assert!(out.contains("Generating experiment root at set"), "{out}");
    let defaults = Record::load(&sb.path("set/defaults.yml"))?;
    assert_eq!(defaults.get("b"), Some(&"There".into()));
    assert!(defaults.version.is_some() && defaults.user.is_some());
    let script = std::fs::read_to_string(sb.path("set/script.sh"))?;
    let exe = examples_dir().join("hello_world");
    assert_eq!(script, format!("#!/bin/bash\nexec {} --execute \"$1\"\n", exe.display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(sb.path("set/script.sh"))?.permissions().mode() & 0o111, 0o111);
    }
    // What a set manager does: register a run from defaults.yml, then call script.sh with it.
    let run_dir = sb.path("set/b=There");
    std::fs::create_dir_all(&run_dir)?;
    let mut rec = defaults;
    rec.status = Status::Registered;
    rec.root = Some(run_dir.display().to_string());
    RecordFile::write_new(&RecordFile::path_in(&run_dir), &rec, Default::default())?;
    let params = run_dir.join("params.yml");
    let out = Command::new(sb.path("set/script.sh"))
        .arg(&params)
        .env("XMEN", sb.path("xmen-config"))
        .current_dir(sb.dir.path())
        .output()?;
    assert_eq!(ok(&out), "Hello There!\n");
    assert_eq!(RecordFile::load(&params)?.status, Status::Finished);
    Ok(())
}

#[test]
fn updates_from_a_params_file_apply_in_order() -> TestResult {
    let sb = Sandbox::new();
    ok(&sb.run("composition", &["-u", "{a: first, epochs: 1}", "-x", "one"]));
    let out = ok(&sb.run("composition", &["-u", "one/params.yml", "{epochs: 2}", "-x", "two"]));
    assert!(out.contains("Updating parameters {'epochs': 2}"), "{out}");
    let rec = sb.record("two");
    assert_eq!(rec.get("a"), Some(&"first".into()));
    assert_eq!(rec.get("epochs"), Some(&2.into()));
    assert_eq!(rec.message_value("epoch"), Some(&1.into()));
    Ok(())
}

#[test]
fn a_detached_run_persists_nothing() {
    let sb = Sandbox::new();
    let out = ok(&sb.run("hello_world", &["-x"]));
    assert_eq!(out, "Hello World!\n");
    let left: Vec<_> =
        std::fs::read_dir(sb.dir.path()).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn debug_runs_the_debug_hook_and_restart_reuses_the_folder() -> TestResult {
    let sb = Sandbox::new();
    let out = ok(&sb.run("composition", &["-d", "-x", "dbg"]));
    assert!(out.starts_with("Running as debug\n"), "{out}");
    let rec = sb.record("dbg");
    assert_eq!(rec.get("a"), Some(&"In debug mode".into()));
    assert_eq!(rec.get("epochs"), Some(&1.into()));
    let cfg = xmen_record::GlobalConfig::load(&sb.path("xmen-config"))?;
    assert!(cfg.linked.is_empty(), "debug runs are not linked");
    ok(&sb.run("composition", &["-f", "-x", "dbg"]));
    assert!(!sb.path("dbg_0").exists(), "--restart reuses the folder");
    assert_eq!(sb.record("dbg").status, Status::Finished);
    Ok(())
}

#[test]
fn txt_tees_stdout_and_stderr_at_the_descriptor_level() -> TestResult {
    let sb = Sandbox::new();
    let out = sb.run("composition", &["-t", "-u", "{fail_at: 0}", "-x", "exp"]);
    let stderr = failed(&out);
    assert!(stderr.contains("failing at epoch 0"), "{stderr}");
    let log = std::fs::read_to_string(sb.path("exp/out.txt"))?;
    assert!(log.contains("The experiment state inside run is running\n"), "{log}");
    assert!(log.contains("panicked at examples/composition.rs"), "stderr is teed too: {log}");
    assert!(log.contains("ERROR: panicked at"), "{log}");
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Bad input: one test each.

#[test]
fn an_unknown_parameter_is_rejected_naming_it_and_the_known_ones() {
    let sb = Sandbox::new();
    let err = failed(&sb.run("hello_world", &["-u", "{c: 3}", "-x", "exp"]));
    assert!(err.contains("-u argument 1: unknown parameter `c`; the parameters are: a, b"), "{err}");
    assert!(!sb.path("exp").exists(), "nothing is registered");
}

#[test]
fn a_wrong_type_is_rejected_naming_the_key_and_both_types() {
    let sb = Sandbox::new();
    let err = failed(&sb.run("composition", &["-u", "{epochs: ten}", "-x", "exp"]));
    assert!(err.contains("-u argument 1: parameter `epochs` expects int but got str `ten`"), "{err}");
    let err = failed(&sb.run("composition", &["-u", "{epochs: -2}", "-x", "exp"]));
    assert!(err.contains("parameter `epochs` expects u64 but got int `-2` (out of range for u64)"), "{err}");
    assert!(!sb.path("exp").exists());
}

#[test]
fn malformed_yaml_names_the_source_line_and_column() -> TestResult {
    let sb = Sandbox::new();
    let err = failed(&sb.run("hello_world", &["-u", "{a: [1, 2}", "-x", "exp"]));
    assert!(err.contains("<-u argument 1>:1:"), "{err}");
    assert!(err.contains("invalid YAML"), "{err}");
    std::fs::write(sb.path("bad.yml"), "a: Hello\nb: [World\n")?;
    let err = failed(&sb.run("hello_world", &["-u", "bad.yml", "-x", "exp"]));
    let line_col = regex_like_line_col(&err, "bad.yml");
    assert!(line_col.is_some(), "the error names bad.yml:LINE:COLUMN: {err}");
    Ok(())
}

/// `(line, column)` from `...{file}:{line}:{column}: ...`.
fn regex_like_line_col(text: &str, file: &str) -> Option<(u64, u64)> {
    let rest = &text[text.find(file)? + file.len()..];
    let mut parts = rest.strip_prefix(':')?.splitn(3, ':');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

#[test]
fn executing_a_params_file_that_is_not_runnable_says_why_and_what_to_do() {
    let sb = Sandbox::new();
    ok(&sb.run("hello_world", &["-x", "exp"]));
    let err = failed(&sb.run("hello_world", &["-x", "exp/params.yml"]));
    let params = sb.path("exp/params.yml");
    assert!(
        err.contains(&format!(
            "cannot execute {}: its status is `finished`, and only registered, detached, timeout or requeue experiments can run",
            params.display()
        )),
        "{err}"
    );
    assert!(err.contains("xmen reset"), "{err}");
    assert_eq!(sb.record("exp").status, Status::Finished, "the record is untouched");
}

#[test]
fn a_params_file_with_legacy_keys_is_read_not_rejected() -> TestResult {
    let sb = Sandbox::new();
    let dir = sb.path("old");
    std::fs::create_dir_all(&dir)?;
    let legacy = format!(
        "_root: {}\n_name: old\n_created: 06:58PM September 16, 2019\n_status: registered\n_purpose: ''\n\
         _messages: {{}}\n_version:\n  path: '/x/script.sh'\n_meta: {{}}\na: Hi # a: str='Hello' ~ The first argument\nb: There\n",
        sb.dir.path().display()
    );
    std::fs::write(dir.join("params.yml"), &legacy)?;
    // as an update source
    ok(&sb.run("hello_world", &["-u", "old/params.yml", "-x", "new"]));
    assert_eq!(sb.record("new").message_value("a"), Some(&"Hi".into()));
    // and executed in place
    let out = ok(&sb.run("hello_world", &["-x", "old/params.yml"]));
    assert_eq!(out, "Hi There!\n");
    let rec = sb.record("old");
    assert_eq!(rec.status, Status::Finished);
    assert_eq!(rec.timestamps.created.as_deref(), Some("06:58PM September 16, 2019"));
    assert_eq!(rec.root.as_deref(), dir.to_str());
    Ok(())
}

#[test]
fn a_folder_under_a_regular_file_is_a_clear_error() -> TestResult {
    let sb = Sandbox::new();
    std::fs::write(sb.path("plain"), "not a folder")?;
    let err = failed(&sb.run("hello_world", &["-x", "plain/exp"]));
    assert!(err.contains(&sb.path("plain/exp").display().to_string()), "{err}");
    assert!(err.contains("a parent of this path is a regular file"), "{err}");
    let err = failed(&sb.run("hello_world", &["-r", "plain/set"]));
    assert!(err.contains("plain/set") && err.contains("regular file"), "{err}");
    Ok(())
}

#[test]
fn a_panicking_run_is_recorded_as_error_with_the_panic_message() {
    let sb = Sandbox::new();
    let out = sb.run("composition", &["-u", "{fail_at: 1}", "-x", "exp"]);
    let err = failed(&out);
    assert_eq!(out.status.code(), Some(101));
    assert!(err.contains("failing at epoch 1 as asked by fail_at"), "{err}");
    let rec = sb.record("exp");
    assert_eq!(rec.status, Status::Error);
    assert!(rec.timestamps.stopped.is_some());
    let msg = rec.message_value("error").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    assert!(msg.starts_with("panicked at examples/composition.rs:"), "{msg}");
    assert!(msg.ends_with("failing at epoch 1 as asked by fail_at"), "{msg}");
    assert_eq!(rec.message_value("epoch"), Some(&0.into()), "messages before the panic are kept");
}

#[cfg(unix)]
#[test]
fn sigterm_during_a_run_records_stopped() -> TestResult {
    let sb = Sandbox::new();
    let mut child = sb
        .command("composition", &["-u", "{epoch_secs: 30}", "-x", "exp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    // Wait until the run has started (status `running`).
    let params = sb.path("exp/params.yml");
    let start = Instant::now();
    while RecordFile::load(&params).map(|r| r.status).ok() != Some(Status::Running) {
        assert!(start.elapsed() < Duration::from_secs(30), "the run never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status()?;
    assert!(kill.success());
    let status = child.wait()?;
    assert_eq!(status.code(), Some(128 + 15));
    assert!(start.elapsed() < Duration::from_secs(20), "the Monitor loop ended without waiting for the epoch");
    let rec = sb.record("exp");
    assert_eq!(rec.status, Status::Stopped);
    assert!(rec.timestamps.stopped.is_some());
    Ok(())
}

#[test]
fn r14_updates_without_execute_say_nothing_ran_and_what_to_add() -> TestResult {
    let sb = Sandbox::new();
    let out = sb.run("hello_world", &["-u", "{a: Bye}"]);
    assert_eq!(out.status.code(), Some(2), "stdout:\n{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("nothing was run or written") && err.contains("`-x DIR`"), "{err}");
    assert!(text(&out.stdout).contains("Updating parameters {'a': 'Bye'}"), "{}", text(&out.stdout));
    // Nothing appeared in the folder.
    let entries: Vec<_> = std::fs::read_dir(sb.path("."))?.flatten().map(|e| e.file_name()).collect();
    assert!(entries.iter().all(|n| n == "xmen-config"), "{entries:?}");
    Ok(())
}

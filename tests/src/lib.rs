//! The integration-test harness: builds what the tests load, then gets out of the way.
//!
//! Key design choice: `cargo test` builds neither other members' `cdylib`s nor the
//! fixture libraries, so the first test that needs a library runs `cargo build` itself,
//! once per test process (a [`OnceLock`]), with the profile and target folder of the
//! running test binary (read from its own path, which already reflects `--release`,
//! `--profile` and `CARGO_TARGET_DIR`). The fixtures are a separate cargo workspace
//! (`tests/fixtures`) with their own target folder, `<target>/fixtures`: two of them turn
//! on test-only features of xmen-core, and cargo unifies features over everything built
//! together. For the same reason the fixtures are built in three cargo invocations, one
//! per xmen-core feature set, sharing that target folder so everything but xmen-core and
//! the SDK is compiled once; they run beside the hook build, which locks another folder.
//! When nothing changed, the builds take well under a second.

use regex::Regex;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use xmen::hooks::{Loader, SearchPath};

/// The masked form of a Monitor time (`05:36PM 18/11/20`) in expected transcripts.
pub const TIME: &str = "{time}";
/// The masked form of a duration (`0:00:00.050627`) in expected transcripts.
pub const DURATION: &str = "{duration}";

/// The folders the tests load libraries from, after building them.
#[derive(Debug)]
pub struct Built {
    /// `<target>/<profile>`: the real hook libraries (`libxmen_hook_logger.so`) and examples.
    pub hooks: PathBuf,
    /// `<target>/fixtures/debug`: the fixture libraries.
    pub fixtures: PathBuf,
    /// The cargo profile of the running test binary (`dev`, `release`, ...).
    pub profile: String,
    /// The target folder of the running test binary.
    pub target: PathBuf,
}

/// The workspace root (the folder of the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
    tests.parent().unwrap_or(tests).to_path_buf()
}

/// The target folder and profile of the running test binary. An integration test runs
/// from `<target>/<profile-dir>/deps/`, where the profile dir is `debug` for `dev`.
fn target_and_profile() -> (PathBuf, String, PathBuf) {
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        let deps = exe.parent()?;
        if deps.file_name()? != "deps" {
            return None;
        }
        let profile_dir = deps.parent()?;
        let target = profile_dir.parent()?;
        Some((target.to_path_buf(), profile_dir.file_name()?.to_str()?.to_owned()))
    });
    let (target, dir) = from_exe.unwrap_or_else(|| {
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
        (target, if cfg!(debug_assertions) { "debug" } else { "release" }.to_owned())
    });
    let profile = if dir == "debug" { "dev".to_owned() } else { dir.clone() };
    let profile_dir = target.join(&dir);
    (target, profile, profile_dir)
}

/// Run cargo from the workspace root; the error carries the command and cargo's output.
fn cargo(args: &[&str]) -> Result<(), String> {
    let out = Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args(args)
        .output()
        .map_err(|e| format!("could not run {}: {e}", env!("CARGO")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({}):\n{}", args.join(" "), out.status, String::from_utf8_lossy(&out.stderr)))
    }
}

/// Fixture crates grouped by the xmen-core features they need (see the module docs).
const FIXTURE_GROUPS: [&[&str]; 3] = [
    &[
        "fixture-ctor-error",
        "fixture-ctor-panic",
        "fixture-panic",
        "fixture-not-hook",
        "fixture-marker",
        "fixture-liar",
        "xmen-hook-mylog",
        "fixture-drop-panic",
        "fixture-where",
    ],
    &["fixture-layout"],
    &["fixture-version"],
];

fn build_all() -> Result<Built, String> {
    let (target, profile, hooks) = target_and_profile();
    let fixtures_target = target.join("fixtures");
    // The two builds lock different target folders, so they run side by side.
    let (real, fixtures) = std::thread::scope(|s| {
        let fixtures = s.spawn(|| build_fixtures(&fixtures_target));
        let real = build_hooks(&target, &profile);
        (real, fixtures.join())
    });
    real?;
    fixtures.map_err(|_| "the fixture build thread panicked".to_owned())??;
    Ok(Built { hooks, fixtures: fixtures_target.join("debug"), profile, target })
}

/// The real hook libraries, in the profile of the running tests.
fn build_hooks(target: &Path, profile: &str) -> Result<(), String> {
    let target = target.to_string_lossy();
    cargo(&[
        "build",
        "--profile",
        profile,
        "--target-dir",
        &target,
        "-p",
        "xmen-hook-logger",
        "-p",
        "xmen-hook-timer",
        "-p",
        "xmen-hook-messenger",
        "-p",
        "xmen-hook-probe",
        "-p",
        "xmen-hook-checkpointer",
    ])
}

/// The fixture libraries (always `dev`: layouts do not depend on the profile, and the
/// fixtures never run long).
fn build_fixtures(fixtures_target: &Path) -> Result<(), String> {
    let manifest = workspace_root().join("tests/fixtures/Cargo.toml");
    let manifest = manifest.to_string_lossy();
    let fixtures_target = fixtures_target.to_string_lossy();
    for group in FIXTURE_GROUPS {
        let mut args = vec!["build", "--manifest-path", &manifest, "--target-dir", &fixtures_target];
        for package in group {
            args.extend(["-p", package]);
        }
        cargo(&args)?;
    }
    Ok(())
}

/// Build the real hook libraries and the fixtures (once per process) and say where they are.
///
/// # Panics
/// When a build fails, with cargo's output: no test can run without the libraries.
pub fn built() -> &'static Built {
    static BUILT: OnceLock<Result<Built, String>> = OnceLock::new();
    match BUILT.get_or_init(build_all) {
        Ok(b) => b,
        Err(e) => panic!("the test harness could not build the hook libraries:\n{e}"),
    }
}

/// The examples whose transcripts the tests check; built together, once per process.
pub const CHECKED_EXAMPLES: [&str; 3] = ["logger", "timer", "full"];

/// The path of one of [`CHECKED_EXAMPLES`], built in the profile of the running tests.
///
/// # Panics
/// When the build fails, with cargo's output.
pub fn example(name: &str) -> PathBuf {
    static EXAMPLES: OnceLock<Result<(), String>> = OnceLock::new();
    let b = built();
    let r = EXAMPLES.get_or_init(|| {
        let target = b.target.to_string_lossy();
        let mut args = vec!["build", "--profile", &b.profile, "--target-dir", &target];
        args.extend(["-p", "xmen-examples"]);
        for e in CHECKED_EXAMPLES {
            args.extend(["--example", e]);
        }
        cargo(&args)
    });
    if let Err(e) = r {
        panic!("the test harness could not build the examples:\n{e}");
    }
    assert!(CHECKED_EXAMPLES.contains(&name), "add {name:?} to CHECKED_EXAMPLES");
    b.hooks.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// A loader that searches exactly `dirs`, in order.
pub fn loader(dirs: &[&Path]) -> Loader {
    Loader::new(SearchPath::new(dirs.iter().map(|d| d.to_path_buf()).collect()))
}

/// A fresh temporary folder for one test.
///
/// # Panics
/// When the system has no usable temporary folder.
pub fn scratch() -> tempfile::TempDir {
    match tempfile::Builder::new().prefix("xmen-test-").tempdir() {
        Ok(d) => d,
        Err(e) => panic!("cannot create a temporary folder: {e}"),
    }
}

/// A writer that keeps what a Monitor prints, for the test to read.
pub use xmen::Capture;

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| match Regex::new(pattern) {
        Ok(r) => r,
        Err(e) => panic!("bad harness regex {pattern:?}: {e}"),
    })
}

/// The Monitor time (`%I:%M%p %d/%m/%y`), masked in expected outputs.
pub const TIME_PATTERN: &str = r"\d\d:\d\d[AP]M \d\d/\d\d/\d\d";
/// A duration as Python's `str(timedelta)` writes it.
pub const DURATION_PATTERN: &str = r"(?:\d+ days?, )?\d+:\d\d:\d\d(?:\.\d{6})?";

/// Replace every Monitor time with [`TIME`].
pub fn mask_time(text: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    regex(&RE, TIME_PATTERN).replace_all(text, TIME).into_owned()
}

/// Replace every Monitor time with [`TIME`] and every `key=duration` value with [`DURATION`].
pub fn mask(text: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = regex(&RE, &format!("=({DURATION_PATTERN})"));
    re.replace_all(&mask_time(text), format!("={DURATION}")).into_owned()
}

/// Whether `line` is a Timer line: the log prefix, then `wall`, the optional
/// `end`, and the verbose entries (`next` only when the loop's length is known).
pub fn is_timer_line(line: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let d = DURATION_PATTERN;
    let pattern = format!(
        r"^\[{TIME_PATTERN}(?: \d+(?:/\d+)?)*\]: wall={d}(?: end={d})?(?:(?: next={d})? step={d} m_step={d} load={d} m_load={d})?$"
    );
    regex(&RE, &pattern).is_match(line)
}

/// What a finished child process printed.
#[derive(Debug)]
pub struct Run {
    /// Whether it exited with status 0.
    pub success: bool,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Run a program in `dir` with a clean hook environment: no `XMEN_HOOK_PATH`, and
/// `$XMEN` inside `dir`, so only the folders next to the program are searched.
///
/// # Panics
/// When the program cannot be started.
pub fn run_in(dir: &Path, program: &Path, args: &[&std::ffi::OsStr]) -> Run {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_remove("XMEN_HOOK_PATH")
        .env("XMEN", dir.join(".xmen"))
        .output();
    match out {
        Ok(out) => Run {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
        Err(e) => panic!("cannot run {}: {e}", program.display()),
    }
}

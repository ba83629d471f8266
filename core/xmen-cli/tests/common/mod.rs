//! Running the real `xmen` binary in a fresh temporary folder with its own `$XMEN`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The generic bash experiment of the original (`xmen/examples/bash`): it only prints.
pub const BASH_DEFAULTS: &str = "_created: 8/2/2021  # _created: str=now_time ~ The date the experiment was created
_version:
  path: '/somewhere/xmen/examples/bash/script.sh'
_meta: {}     # meta information can also be stored
a: Hello
b: World!
";

/// The bash experiment's script.sh.
pub const BASH_SCRIPT: &str = "#! /bin/bash\necho \"contents of params.yml file ${1}\"\ncat ${1}\n";

/// A temporary folder holding the configuration folder (`cfg`) and whatever a test creates.
pub struct Env {
    tmp: tempfile::TempDir,
}

impl Env {
    /// A fresh environment.
    pub fn new() -> Env {
        Env { tmp: tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}")) }
    }

    /// The temporary folder (the cwd of every command).
    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// `$XMEN`.
    pub fn cfg(&self) -> PathBuf {
        self.dir().join("cfg")
    }

    /// A path inside the temporary folder.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir().join(rel)
    }

    /// Run `xmen args...` in `cwd` with `stdin` as input.
    pub fn run_in(&self, cwd: &Path, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xmen"));
        cmd.args(args).current_dir(cwd).env("XMEN", self.cfg()).stdout(Stdio::piped()).stderr(Stdio::piped());
        match stdin {
            Some(text) => {
                let path = self.dir().join(".stdin");
                std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
                cmd.stdin(std::fs::File::open(&path).unwrap_or_else(|e| panic!("{e}")));
            }
            None => {
                cmd.stdin(Stdio::null());
            }
        }
        cmd.output().unwrap_or_else(|e| panic!("cannot run xmen: {e}"))
    }

    /// Run `xmen args...` in the temporary folder.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_in(self.dir(), args, None)
    }

    /// Run `xmen args...`, which must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "xmen {args:?} failed:\n{}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run `xmen args...`, which must fail with exit code 1 and an `ERROR: ` line; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(1), "xmen {args:?} should fail:\n{}", describe(&out));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(err.starts_with("ERROR: "), "{err}");
        assert_eq!(err.matches("ERROR: ").count(), 1, "the error is printed once: {err}");
        err
    }

    /// Write the generic bash experiment into `src/` and return (defaults.yml, script.sh).
    pub fn bash_experiment(&self) -> (PathBuf, PathBuf) {
        let src = self.path("src");
        std::fs::create_dir_all(&src).unwrap_or_else(|e| panic!("{e}"));
        let d = src.join("defaults.yml");
        let s = src.join("script.sh");
        std::fs::write(&d, BASH_DEFAULTS).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&s, BASH_SCRIPT).unwrap_or_else(|e| panic!("{e}"));
        (d, s)
    }

    /// Initialise a set at `root` (relative to the temporary folder) from the bash experiment.
    pub fn bash_set(&self, root: &str) -> PathBuf {
        let (d, s) = self.bash_experiment();
        self.ok(&[
            "init",
            "-d",
            &d.display().to_string(),
            "-s",
            &s.display().to_string(),
            "-r",
            root,
            "--purpose",
            "test",
        ]);
        self.path(root)
    }

    /// The global configuration's `linked` list.
    pub fn linked(&self) -> Vec<String> {
        let text = read(&self.cfg().join("xmen.yml"));
        let after = text.split("linked:").nth(1).unwrap_or_default();
        after.lines().filter_map(|l| l.strip_prefix("- ")).map(|l| unquote(l.trim())).collect()
    }
}

fn unquote(s: &str) -> String {
    if s.len() >= 2 && ((s.starts_with('\'') && s.ends_with('\'')) || (s.starts_with('"') && s.ends_with('"'))) {
        s[1..s.len() - 1].replace("''", "'")
    } else {
        s.to_owned()
    }
}

/// A command's exit status, stdout and stderr, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A file's text (panics naming the file).
pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// The value of a top-level key in a YAML file, as written (`_status: finished # ...` -> `finished`).
pub fn top_value(p: &Path, key: &str) -> String {
    read(p)
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.split(" #").next().unwrap_or_default().trim().to_owned())
        .unwrap_or_else(|| panic!("{key} not in {}", p.display()))
}

/// Build an example of `xmen-examples` with the cargo running this test; its path comes from
/// cargo's own report, so any target folder works. `None` (the test is skipped, saying why)
/// when the example does not build.
pub fn example(name: &str) -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let out = Command::new(env!("CARGO"))
        .args(["build", "-p", "xmen-examples", "--example", name, "--message-format=json", "--manifest-path"])
        .arg(&manifest)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("skipping: the {name} example does not build:\n{}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let json = String::from_utf8_lossy(&out.stdout);
    let exe = json
        .lines()
        .filter(|l| l.contains(&format!("\"name\":\"{name}\"")))
        .find_map(|l| l.split("\"executable\":\"").nth(1).and_then(|r| r.split('"').next()))
        .map(PathBuf::from);
    if exe.is_none() {
        eprintln!("skipping: cargo did not report the {name} executable");
    }
    exe
}

/// `xmen args...` in `cwd` with extra environment variables; returns the output.
pub fn xmen_with_env(env: &Env, cwd: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xmen"));
    cmd.args(args).current_dir(cwd).env("XMEN", env.cfg()).stdin(Stdio::null());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("cannot run xmen: {e}"))
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => out.push(p),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// The `hello_world` example (see [`example`]).
pub fn hello_world() -> Option<PathBuf> {
    example("hello_world")
}

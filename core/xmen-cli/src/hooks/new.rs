//! `xmen hooks new NAME [DIR]`: scaffold a hook crate outside any workspace: Cargo.toml on the
//! SDK (a path to a checkout, or a published version), a working hook that writes into the
//! run's folder, a test that fires it in-process, and a README saying how to build, install
//! and use it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The SDK dependency of a scaffolded hook crate; `{sdk}` becomes `path = "..."` or
/// `version = "..."`: the hook author's crate alone (no loader, no experiment runner); its
/// test harness fires the hook in-process in the crate's own tests.
const SDK_DEPENDENCY: &str = "xmen-hook = { {sdk} }";

/// Where the scaffold takes the SDK from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sdk {
    /// A checkout: the folder holding `sdk/xmen-hook`.
    Checkout(PathBuf),
    /// A published version.
    Version(String),
}

/// A validated `xmen hooks new`.
#[derive(Debug)]
pub struct Plan {
    /// The package suffix (`mylog` for `xmen-hook-mylog`).
    pub name: String,
    /// The hook's configuration name.
    pub hook: String,
    /// The folder to create.
    pub dir: PathBuf,
    /// The SDK to depend on (`None`: the checkout this `xmen` was built from, found at run time).
    pub sdk: Option<Sdk>,
}

/// Whether `s` is a valid hook or package-suffix name: lowercase ASCII letters, digits and
/// `-`, starting with a letter.
fn check_name(what: &str, s: &str) -> anyhow::Result<()> {
    let ok = s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.ends_with('-');
    anyhow::ensure!(
        ok,
        "{what} {s:?}: use lowercase letters, digits and `-`, starting with a letter (e.g. `mylog`, `val-metrics`)"
    );
    Ok(())
}

impl Plan {
    /// Check the arguments (no disk I/O).
    pub fn validate(
        name: String,
        dir: Option<PathBuf>,
        hook: Option<String>,
        xmen_path: Option<PathBuf>,
        xmen_version: Option<String>,
    ) -> anyhow::Result<Plan> {
        let name = name.strip_prefix("xmen-hook-").map(str::to_owned).unwrap_or(name);
        check_name("NAME", &name)?;
        let hook = hook.unwrap_or_else(|| name.clone());
        check_name("--hook", &hook)?;
        let dir = dir.unwrap_or_else(|| PathBuf::from(format!("xmen-hook-{name}")));
        let sdk = match (xmen_path, xmen_version) {
            (Some(p), _) => Some(Sdk::Checkout(p)),
            (None, Some(v)) => Some(Sdk::Version(v)),
            (None, None) => None,
        };
        Ok(Plan { name, hook, dir, sdk })
    }
}

/// The checkout this binary was built from, if it is still there.
fn own_checkout() -> Option<PathBuf> {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = cli.parent()?.parent()?;
    root.join("sdk/xmen-hook/Cargo.toml").is_file().then(|| root.to_path_buf())
}

/// `CamelCase` of `val-metrics`: `ValMetrics`.
fn type_name(hook: &str) -> String {
    hook.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The files of the crate: (relative path, contents).
fn files(plan: &Plan, sdk: &Sdk) -> Vec<(&'static str, String)> {
    let (name, hook, ty) = (&plan.name, &plan.hook, type_name(&plan.hook));
    let sdk_spec = match sdk {
        Sdk::Checkout(root) => format!("path = {}", toml_str(&root.join("sdk/xmen-hook").display().to_string())),
        Sdk::Version(v) => format!("version = {}", toml_str(v)),
    };
    let dep = SDK_DEPENDENCY.replace("{sdk}", &sdk_spec);
    let cargo = format!(
        r#"[package]
name = "xmen-hook-{name}"
description = "An xmen hook: {hook}"
version = "0.1.0"
edition = "2021"
publish = false

# Its own workspace: this crate is not part of another one.
[workspace]

[lib]
# `cdylib` is the library xmen loads; `rlib` lets the crate's own tests use it in-process.
crate-type = ["cdylib", "rlib"]

[dependencies]
{dep}
"#
    );
    let lib = format!(
        r#"//! `{hook}`: an xmen hook that appends the counters and the variables its spec matches to a
//! file in the run's folder, one line per firing: `step=20 loss=0.25`.
//!
//! Use it from an experiment's defaults.yml (or `xmen register -u "{{_hooks: [...]}}"`):
//!
//! ```yaml
//! _hooks:
//!   - {{hook: {hook}, spec: "loss@1e"}}
//! ```

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use xmen_hook::{{Firing, Hook, HookError, HookResult, NewHook, OptionDecl, Options, Outcome, Spec, Trigger}};

/// Appends one line per firing to `path`.
pub struct {ty} {{
    path: PathBuf,
}}

impl {ty} {{
    /// A hook appending to `path`.
    pub fn to_file(path: impl Into<PathBuf>) -> {ty} {{
        {ty} {{ path: path.into() }}
    }}
}}

impl Hook for {ty} {{
    fn call(&mut self, firing: &Firing<'_>) -> HookResult {{
        let mut line = Vec::new();
        let counters = firing.counters();
        for t in Trigger::ALL {{
            if counters[t.index()] > 0 {{
                line.push(format!("{{}}={{}}", t.name(), counters[t.index()]));
            }}
        }}
        for (name, value) in firing.vars() {{
            line.push(format!("{{name}}={{value}}"));
        }}
        let mut file = OpenOptions::new().create(true).append(true).open(&self.path).map_err(|e| {{
            HookError::new(format!("cannot open {{}}: {{e}}", self.path.display()))
                .with_help("check option `file` and that its folder exists")
        }})?;
        writeln!(file, "{{}}", line.join(" "))
            .map_err(|e| HookError::new(format!("cannot write {{}}: {{e}}", self.path.display())))?;
        Ok(Outcome::Continue)
    }}
}}

impl NewHook for {ty} {{
    const NAME: &'static str = "{hook}";
    const HELP: &'static str = "Append the counters and the matched variables to {hook}.log in the run's folder";

    const OPTIONS: &'static [OptionDecl] = &[
        OptionDecl::new("file", "str", "the file to append to; a relative path is taken in `directory`")
            .default("{hook}.log"),
        OptionDecl::new("directory", "str", "the run's folder (xmen fills it in)"),
    ];
    const EXAMPLES: &'static [&'static str] = &["loss@1e", "@10s"];

    fn new(_spec: &Spec, options: &Options<'_>) -> Result<{ty}, HookError> {{
        options.expect_only(&["file", "directory"])?;
        let file = PathBuf::from(options.str("file")?.unwrap_or("{hook}.log"));
        let path = match options.str("directory")? {{
            Some(dir) if file.is_relative() => PathBuf::from(dir).join(file),
            _ => file,
        }};
        Ok({ty}::to_file(path))
    }}
}}

xmen_hook::export_hooks!({ty});
"#
    );
    let snake = name.replace('-', "_");
    let test = format!(
        r#"//! The hook fired in-process through xmen-hook's test harness, as a run fires it from its
//! library.

use xmen_hook::testing::Harness;
use xmen_hook::Value;
use xmen_hook_{snake}::{ty};

#[test]
fn each_firing_appends_the_counters_and_the_matched_variables() {{
    let dir = std::env::temp_dir().join(format!("xmen-hook-{name}-test-{{}}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let path = dir.join("{hook}.log");
    let _ = std::fs::remove_file(&path);
    let directory = Value::from(dir.display().to_string());
    let mut h = Harness::<{ty}>::new("x@2s", &[("directory", directory)]).expect("the hook builds");
    h.counters([2, 0, 0, 0, 0]).fire(&[("x", Value::from(1_i64))]).expect("the first firing");
    h.counters([4, 0, 0, 0, 0]).fire(&[("x", Value::from(3_i64))]).expect("the second firing");
    let text = std::fs::read_to_string(&path).expect("the hook wrote its file");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(text, "step=2 x=1\nstep=4 x=3\n");
}}
"#
    );
    let readme = format!(
        r#"# xmen-hook-{name}

An [xmen](https://github.com/) hook: `{hook}` appends the counters and the variables its spec
matches to `{hook}.log` in each run's folder.

```sh
cargo test                       # fires the hook in-process (tests/harness.rs)
xmen hooks install .             # builds it (cargo build --release), checks it, installs it
xmen hooks info {hook}           # its options and ready-to-paste _hooks entries
```

Then name it in an experiment's `defaults.yml`, with no rebuild of the experiment:

```yaml
_hooks:
  - {{hook: {hook}, spec: "loss@1e"}}
```

Configuration uses the hook's `NAME` (`{hook}`), not the package name. Change `call` in
`src/lib.rs` to do what you need; declare an option `directory` to get the run's folder.
"#
    );
    vec![
        ("Cargo.toml", cargo),
        ("src/lib.rs", lib),
        ("tests/harness.rs", test),
        ("README.md", readme),
        (".gitignore", "/target\n".to_owned()),
    ]
}

/// Create the crate.
pub fn run(plan: &Plan) -> anyhow::Result<ExitCode> {
    let sdk = match &plan.sdk {
        Some(s) => s.clone(),
        None => match own_checkout() {
            Some(root) => Sdk::Checkout(root),
            None => anyhow::bail!(
                "this xmen was not built from a checkout that still exists; give the SDK with --xmen-path CHECKOUT \
                 or --xmen-version {}",
                env!("CARGO_PKG_VERSION")
            ),
        },
    };
    if let Sdk::Checkout(root) = &sdk {
        anyhow::ensure!(
            root.join("sdk/xmen-hook/Cargo.toml").is_file(),
            "--xmen-path {}: no sdk/xmen-hook/Cargo.toml there; give the folder of an xmen checkout",
            root.display()
        );
    }
    let sdk = match sdk {
        Sdk::Checkout(root) => Sdk::Checkout(std::path::absolute(&root).unwrap_or(root)),
        v => v,
    };
    if plan.dir.exists() {
        let empty = std::fs::read_dir(&plan.dir).map(|mut d| d.next().is_none()).unwrap_or(false);
        anyhow::ensure!(empty, "{} already exists and is not empty; give another DIR", plan.dir.display());
    }
    // Built against a checkout: start from the versions that checkout is tested with.
    if let Sdk::Checkout(root) = &sdk {
        let lock = root.join("Cargo.lock");
        if lock.is_file() {
            std::fs::create_dir_all(&plan.dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", plan.dir.display()))?;
            std::fs::copy(&lock, plan.dir.join("Cargo.lock"))
                .map_err(|e| anyhow::anyhow!("cannot copy {}: {e}", lock.display()))?;
        }
    }
    for (rel, text) in files(plan, &sdk) {
        let path = plan.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    println!("Created xmen-hook-{} (hook `{}`) in {}", plan.name, plan.hook, plan.dir.display());
    println!("  cd {} && cargo test && xmen hooks install .", plan.dir.display());
    println!("  then in defaults.yml: _hooks: [{{hook: {}, spec: \"loss@1e\"}}]", plan.hook);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_the_hook_defaults_to_the_package_suffix() {
        let plan = |n: &str, h: Option<&str>| Plan::validate(n.into(), None, h.map(Into::into), None, None);
        let p = plan("xmen-hook-val-metrics", None).map(|p| (p.name, p.hook, p.dir));
        assert_eq!(p.ok(), Some(("val-metrics".into(), "val-metrics".into(), PathBuf::from("xmen-hook-val-metrics"))));
        assert_eq!(plan("mylog", Some("jsonl")).map(|p| p.hook).ok(), Some("jsonl".into()));
        for bad in ["MyLog", "my_log", "1log", "log-", ""] {
            assert!(plan(bad, None).is_err(), "{bad}");
        }
        assert_eq!(type_name("val-metrics"), "ValMetrics");
    }

    #[test]
    fn the_sdk_dependency_is_one_line_in_either_form() {
        let plan = Plan { name: "x".into(), hook: "x".into(), dir: PathBuf::from("d"), sdk: None };
        let by_path = files(&plan, &Sdk::Checkout(PathBuf::from("/src/xmen")));
        assert!(by_path[0].1.contains("xmen-hook = { path = \"/src/xmen/sdk/xmen-hook\" }"));
        let by_version = files(&plan, &Sdk::Version("0.1".into()));
        assert!(by_version[0].1.contains("xmen-hook = { version = \"0.1\" }"));
    }
}

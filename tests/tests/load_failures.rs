//! Hook libraries that cannot be used: missing, not a library, not an xmen hook, built
//! against another layout or SDK version, or whose constructor fails or panics. Every
//! failure is reported at once, each saying what, where and how to fix it; `lenient`
//! starts without them.

use std::path::{Path, PathBuf};
use xmen::hooks::{library_file_name, HookConfig, LoadError};
use xmen::{BuildError, Monitor};
use xmen_tests::{built, loader, scratch, Capture};

const SDK_VERSION: &str = xmen::__private::xmen_core::abi::SDK_VERSION;

/// The version the `fixture-version` library declares (xmen-core's `__fixture_version_bump`).
const FIXTURE_SDK_VERSION: &str = "0.0.1";

/// Every broken hook, in configuration order.
const BROKEN: [&str; 7] = ["layout", "version", "ctor-error", "ctor-panic", "not-hook", "text", "missing"];

/// A folder with a text file named like a hook library, and the search path over it,
/// the fixtures and the real hooks.
fn search_dirs(tmp: &Path) -> Vec<PathBuf> {
    std::fs::write(tmp.join(library_file_name("text")), "this is a text file, not a library\n").unwrap();
    let b = built();
    vec![tmp.to_path_buf(), b.fixtures.clone(), b.hooks.clone()]
}

fn broken_configs() -> Vec<HookConfig> {
    BROKEN.iter().map(|h| HookConfig::new(h, "x@1s")).collect()
}

fn file_of(dirs: &[PathBuf], dir: usize, hook: &str) -> PathBuf {
    dirs[dir].join(library_file_name(hook))
}

/// Check one failure: its kind, its data, and that its message names the hook or its
/// library and says how to fix it.
fn check(error: &LoadError, hook: &str, dirs: &[PathBuf]) {
    let text = error.to_string();
    match (hook, error) {
        ("layout", LoadError::Layout { path, details }) => {
            assert_eq!(*path, file_of(dirs, 1, hook));
            // abi_stable's own words, not ours: its `Error:` lines, the sizes it compared
            // and the type it found the extra field in.
            assert!(details.contains("Error:incompatible type size"), "{details}");
            assert!(details.contains("Error:too many fields"), "{details}");
            assert!(details.contains("expected 4, found 5"), "{details}");
            assert!(details.contains("FfiFiring"), "{details}");
            assert!(text.contains("abi_stable layout check"), "{text}");
            assert!(text.contains(&format!("(hook ABI {SDK_VERSION}). abi_stable reports")), "{text}");
        }
        ("version", LoadError::Incompatible { path, reason }) => {
            // Known from the manifest, before anything is loaded.
            assert_eq!(*path, file_of(dirs, 1, hook));
            // Both versions, and the commands that rebuild it.
            assert!(
                reason.contains(&format!(
                    "built for hook ABI {FIXTURE_SDK_VERSION}, but this program uses hook ABI {SDK_VERSION}; rebuild the hook against xmen-hook "
                )),
                "{text}"
            );
            assert!(
                text.contains("`cargo build --release` in its crate (or `xmen hooks install <its crate folder>`)"),
                "{text}"
            );
        }
        ("ctor-error", LoadError::Constructor { hook: h, spec, path, message }) => {
            assert_eq!((h.as_str(), spec.as_str()), (hook, "x@1s"));
            assert_eq!(*path, file_of(dirs, 1, hook));
            assert!(message.contains("the ctor-error fixture refuses spec \"x@1s\""), "{message}");
            assert!(message.contains("remove it from _hooks"), "the library's help is kept: {message}");
        }
        ("ctor-panic", LoadError::Constructor { hook: h, path, message, .. }) => {
            assert_eq!(h, hook);
            assert_eq!(*path, file_of(dirs, 1, hook));
            assert!(
                message.contains("the constructor panicked: ctor-panic fixture: boom while constructing (at "),
                "{message}"
            );
            assert!(message.ends_with("a panic is a bug in the hook library: report it to its authors, or remove the hook from the configuration"), "{message}");
        }
        // A file without a manifest provides no hook name: the search skips it and says so.
        ("not-hook", LoadError::NotFound { hook: h, skipped, .. }) => {
            assert_eq!(h, hook);
            let file = file_of(dirs, 1, hook).display().to_string();
            assert!(skipped.iter().any(|s| s.contains(&file) && s.contains("not an xmen hook library")), "{text}");
            assert!(text.contains("xmen::export_hooks!"), "{text}");
        }
        ("text", LoadError::NotFound { hook: h, skipped, .. }) => {
            assert_eq!(h, hook);
            let file = file_of(dirs, 0, hook).display().to_string();
            assert!(skipped.iter().any(|s| s.contains(&file) && s.contains("not a shared library")), "{text}");
        }
        ("missing", LoadError::NotFound { hook: h, searched, suggestions, .. }) => {
            assert_eq!(h, hook);
            assert_eq!(searched, dirs);
            assert!(suggestions.is_empty(), "{suggestions:?}");
            for d in dirs {
                assert!(text.contains(&d.display().to_string()), "{text}");
            }
            assert!(text.contains("xmen hooks install"), "{text}");
            assert!(text.contains("XMEN_HOOK_PATH"), "{text}");
        }
        (hook, e) => panic!("hook {hook}: unexpected error {e:?}"),
    }
    let named = text.contains(&format!("\"{hook}\"")) || text.contains(&library_file_name(hook));
    assert!(named, "the message names the hook or its library: {text}");
}

#[test]
fn every_load_failure_is_reported_at_once() {
    let tmp = scratch();
    let dirs = search_dirs(tmp.path());
    let dir_refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    // A working hook among the broken ones is not reported.
    let mut configs = broken_configs();
    configs.insert(3, HookConfig::new("logger", "x@1s"));
    let err = Monitor::builder().loader(loader(&dir_refs)).hooks(configs).build().err().unwrap();
    let text = err.to_string();
    let BuildError::Load(errors) = err else { panic!("expected load errors, got {text}") };
    assert_eq!(errors.0.len(), BROKEN.len(), "{text}");
    for (e, hook) in errors.0.iter().zip(BROKEN) {
        check(e, hook, &dirs);
    }
    assert!(text.starts_with("7 hook(s) failed to load:\n  1. hook library "), "{text}");
    assert!(text.ends_with("(set the Monitor's `lenient` option to run without them)"), "{text}");
}

#[test]
fn an_entry_marked_lenient_only_warns_while_the_others_must_load() {
    let tmp = scratch();
    let dirs = search_dirs(tmp.path());
    let dir_refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    let lenient = HookConfig::new("missing", "x@1s").lenient(true);
    let out = Capture::new();
    let m = Monitor::builder()
        .loader(loader(&dir_refs))
        .hooks([lenient.clone(), HookConfig::new("logger", "x@2s")])
        .output(out.clone())
        .build()
        .unwrap();
    for i in m.iter(0..2) {
        m.set("x", i);
    }
    drop(m);
    let text = out.text();
    assert!(text.starts_with("WARNING: starting without 1 hook(s) (lenient):\n  - hook \"missing\""), "{text}");
    assert!(text.contains("]: x = 1"), "the logger fired:\n{text}");
    // Without the mark the same entry refuses the build.
    let strict = HookConfig { lenient: false, ..lenient };
    let e = Monitor::builder().loader(loader(&dir_refs)).hooks([strict]).build().err().map(|e| e.to_string());
    assert!(e.is_some_and(|e| e.starts_with("1 hook(s) failed to load:")));
}

#[test]
fn a_lenient_monitor_starts_without_the_broken_hooks_and_says_which() {
    let tmp = scratch();
    let dirs = search_dirs(tmp.path());
    let dir_refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    let mut configs = broken_configs();
    configs.push(HookConfig::new("logger", "x@2s"));
    let out = Capture::new();
    let m =
        Monitor::builder().loader(loader(&dir_refs)).hooks(configs).lenient(true).output(out.clone()).build().unwrap();
    for i in m.iter(0..4) {
        m.set("x", i);
    }
    let calls: Vec<(String, u64)> = m.hook_calls().into_iter().map(|(name, _, calls, _)| (name, calls)).collect();
    assert_eq!(calls, [("logger".to_owned(), 2)]);
    drop(m);

    let text = out.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.iter().filter(|l| l.contains("WARNING")).count(), 1, "one warning:\n{text}");
    assert_eq!(lines[0], "WARNING: starting without 7 hook(s) (lenient):", "{text}");
    // One entry per missing hook, naming it or its library, in configuration order (the
    // layout entry continues with abi_stable's `Error:` lines).
    let entries: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with("  - ")).collect();
    assert_eq!(entries.len(), BROKEN.len(), "{text}");
    for (line, hook) in entries.iter().zip(BROKEN) {
        let named = line.contains(&format!("\"{hook}\"")) || line.contains(&library_file_name(hook));
        assert!(named, "{hook}: {line}");
    }
    // The loop ran, and the working hook fired.
    let logged: Vec<String> =
        lines.iter().filter(|l| l.contains("]: x = ")).map(|l| xmen_tests::mask_time(l)).collect();
    assert_eq!(logged, ["[{time} 2/4]: x = 1", "[{time} 4/4]: x = 3"], "{text}");
}

#[test]
fn the_loader_finds_real_hooks_by_name_or_path_and_describes_them() {
    let b = built();
    let tmp = scratch();
    let l = loader(&[tmp.path(), &b.hooks]);
    let logger = l.resolve("logger").unwrap();
    assert_eq!(logger, b.hooks.join(library_file_name("logger")));
    let info = xmen_loader::describe(&logger).unwrap();
    assert_eq!(info.library, "xmen-hook-logger");
    assert_eq!(info.sdk_version, SDK_VERSION);
    let names: Vec<&str> = info.hooks.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["logger"]);
    let options: Vec<&str> = info.hooks[0].options.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(options, ["format", "join"]);

    // A configuration may name the library file itself.
    let by_path = HookConfig::new(&b.hooks.join(library_file_name("timer")).to_string_lossy(), "@1e");
    let slot = l.load(&by_path).unwrap();
    assert_eq!((slot.name(), slot.spec()), ("timer", &xmen::Spec::parse("@1e").unwrap()));
}

//! Issue 12: one resolution by the names in the libraries' manifests, files checked before
//! `dlopen`, and `_hooks` validated before anything is written.

use std::path::{Path, PathBuf};

use xmen::hooks::{library_file_name, HookConfig, LoadError};
use xmen::Monitor;
use xmen_tests::{built, loader, scratch, Capture};

const SDK_VERSION: &str = xmen::__private::xmen_core::abi::SDK_VERSION;

use crate::hooks_cli::{bins, fixture, text, xmen};

fn copy(from: &Path, to: &Path) {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("{} -> {}: {e}", from.display(), to.display()));
}

/// A well-formed 32-bit x86 ELF shared object (the wrong class for this 64-bit program): the
/// ELF header, a `PT_LOAD` and a `PT_DYNAMIC` program header, a `.dynamic` section (`DT_STRTAB`,
/// `DT_STRSZ`, `DT_NULL`) over its `.dynstr`, and the section headers with their string table.
/// `readelf -h -l -S -d` reads it without a warning.
fn elf32_shared_object() -> Vec<u8> {
    const EHSIZE: u32 = 52;
    const PHENTSIZE: u32 = 32;
    const SHENTSIZE: u32 = 40;
    let shstrtab: &[u8] = b"\0.dynamic\0.dynstr\0.shstrtab\0";
    let dyn_off = EHSIZE + 2 * PHENTSIZE; // 116, 4-aligned
    let dyn_size = 3 * 8; // three Elf32_Dyn
    let dynstr_off = dyn_off + dyn_size;
    let load_end = dynstr_off + 1; // .dynstr holds the empty string
    let str_off = load_end;
    let sh_off = (str_off + shstrtab.len() as u32).next_multiple_of(4);
    let mut out = Vec::new();
    let u16 = |out: &mut Vec<u8>, v: u16| out.extend_from_slice(&v.to_le_bytes());
    let u32 = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_le_bytes());
    // e_ident: magic, ELFCLASS32, little-endian, version 1, System V ABI, padding.
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    u16(&mut out, 3); // e_type: ET_DYN
    u16(&mut out, 3); // e_machine: EM_386
    u32(&mut out, 1); // e_version
    u32(&mut out, 0); // e_entry
    u32(&mut out, EHSIZE); // e_phoff
    u32(&mut out, sh_off); // e_shoff
    u32(&mut out, 0); // e_flags
    for v in [EHSIZE, PHENTSIZE, 2, SHENTSIZE, 4, 3] {
        u16(&mut out, v as u16); // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
    }
    // Program headers: p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align.
    for v in [1, 0, 0, 0, load_end, load_end, 6, 0x1000] {
        u32(&mut out, v); // PT_LOAD, read-write: the headers, .dynamic and .dynstr
    }
    for v in [2, dyn_off, dyn_off, dyn_off, dyn_size, dyn_size, 6, 4] {
        u32(&mut out, v); // PT_DYNAMIC
    }
    for v in [5, dynstr_off, 10, 1, 0, 0] {
        u32(&mut out, v); // .dynamic: DT_STRTAB, DT_STRSZ, DT_NULL
    }
    out.push(0); // .dynstr
    out.extend_from_slice(shstrtab);
    out.resize(sh_off as usize, 0);
    // Section headers: name, type, flags, addr, offset, size, link, info, addralign, entsize.
    out.extend_from_slice(&[0; SHENTSIZE as usize]); // SHN_UNDEF
    for v in [1, 6, 3, dyn_off, dyn_off, dyn_size, 2, 0, 4, 8] {
        u32(&mut out, v); // .dynamic: SHT_DYNAMIC, SHF_WRITE | SHF_ALLOC, linked to .dynstr
    }
    for v in [10, 3, 2, dynstr_off, dynstr_off, 1, 0, 0, 1, 0] {
        u32(&mut out, v); // .dynstr: SHT_STRTAB, SHF_ALLOC
    }
    for v in [18, 3, 0, 0, str_off, shstrtab.len() as u32, 0, 0, 1, 0] {
        u32(&mut out, v); // .shstrtab: SHT_STRTAB
    }
    out
}

/// The well-formed 32-bit library of [`elf32_shared_object`] at `to`.
fn wrong_class(to: &Path) {
    std::fs::write(to, elf32_shared_object()).unwrap();
}

#[test]
fn r12_the_32_bit_library_is_a_well_formed_elf_file() {
    let tmp = scratch();
    let file = tmp.path().join("lib32.so");
    wrong_class(&file);
    // readelf (binutils) is the judge when it is installed.
    let Ok(out) = std::process::Command::new("readelf").args(["-W", "-h", "-l", "-S", "-d"]).arg(&file).output() else {
        return;
    };
    let shown = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && !shown.contains("Warning") && !shown.contains("Error"), "{shown}");
    for want in ["ELF32", "DYN (Shared object file)", "Intel 80386", "LOAD", "DYNAMIC", ".dynstr", "(STRSZ)"] {
        assert!(shown.contains(want), "readelf lacks {want:?}:\n{shown}");
    }
}

/// A copy of `from` at `to` cut to half its length.
fn truncated(from: &Path, to: &Path) {
    let bytes = std::fs::read(from).unwrap();
    std::fs::write(to, &bytes[..bytes.len() / 2]).unwrap();
}

#[test]
fn r12_a_hook_is_found_by_its_manifest_name_never_by_its_file_name() {
    let tmp = scratch();
    let mylog = fixture("mylog");
    let here = tmp.path().join("a");
    copy(&mylog, &here.join("libxmen_hook_mylog.so"));
    let l = loader(&[&here, &built().fixtures]);
    // Package xmen-hook-mylog, file libxmen_hook_mylog.so, hook `jsonl`: found as `jsonl`.
    let found = l.find("jsonl", None).unwrap();
    assert_eq!((found.hook.as_str(), found.path.clone()), ("jsonl", here.join("libxmen_hook_mylog.so")));
    assert_eq!(found.shadowed, std::slice::from_ref(&mylog), "the fixture's own copy is further down the path");
    let err = l.find("mylog", None).unwrap_err();
    assert!(matches!(err, LoadError::NotFound { .. }), "{err}");

    // The run loads it under that name and it writes into the folder it was given.
    let out_dir = tmp.path().join("run");
    std::fs::create_dir_all(&out_dir).unwrap();
    let cfg = HookConfig::new("jsonl", "x@2s").option("directory", out_dir.display().to_string());
    let m = Monitor::builder().loader(l.clone()).hooks([cfg]).output(Capture::new()).build().unwrap();
    for i in m.iter(0..4) {
        m.set("x", i);
    }
    drop(m);
    assert_eq!(std::fs::read_to_string(out_dir.join("jsonl.log")).unwrap(), "step=2 x=1\nstep=4 x=3\n");

    // An identical copy in the same folder counts once.
    copy(&mylog, &here.join("libcopy.so"));
    let found = loader(&[&here]).find("jsonl", None).unwrap();
    assert_eq!(found.identical.len(), 1, "{found:?}");

    // A different library claiming the name in the same folder is an error naming both files.
    let mut other = std::fs::read(&mylog).unwrap();
    other.extend_from_slice(b"another build");
    std::fs::write(here.join("libxmen_hook_zzz.so"), other).unwrap();
    let err = loader(&[&here]).find("jsonl", None).unwrap_err().to_string();
    assert!(err.contains("two different libraries in one folder provide it"), "{err}");
    assert!(err.contains("libxmen_hook_zzz.so") && err.contains("libcopy.so"), "{err}");
    // One folder further down, the same two are a winner and a shadowed copy, not an error.
    let first = tmp.path().join("first");
    copy(&mylog, &first.join("libxmen_hook_mylog.so"));
    assert!(loader(&[&first, &here]).find("jsonl", None).is_ok());
}

#[test]
fn r12_a_library_for_another_platform_or_damaged_is_skipped_with_a_note() {
    let tmp = scratch();
    let real = built().hooks.join(library_file_name("logger"));
    let odd = tmp.path().join("odd");
    std::fs::create_dir_all(&odd).unwrap();
    wrong_class(&odd.join(library_file_name("logger")));
    truncated(&real, &odd.join("libxmen_hook_cut.so"));
    let l = loader(&[&odd, &built().hooks]);
    let found = l.find("logger", None).unwrap();
    assert_eq!(found.path, real);
    let notes = found.notes.join("\n");
    assert!(notes.contains("ELFCLASS32") && notes.contains("built for another platform"), "{notes}");
    assert!(notes.contains("libxmen_hook_cut.so") && notes.contains("damaged or truncated"), "{notes}");

    // Named explicitly, each is refused with its reason, and nothing is loaded.
    for (file, why) in [(library_file_name("logger"), "ELFCLASS32"), ("libxmen_hook_cut.so".into(), "truncated")] {
        let cfg = HookConfig { path: Some(odd.join(&file)), ..HookConfig::new("logger", "x@1s") };
        let err = Monitor::builder().loader(l.clone()).hooks([cfg]).build().err().unwrap().to_string();
        assert!(err.contains(why) && err.contains(&file), "{err}");
    }
}

/// `xmen` in `dir` with `$XMEN` = `dir/.xmen` and no XMEN_HOOK_PATH.
fn xmen_ok(dir: &Path, args: &[&str]) -> String {
    let out = xmen(dir, args, None, &[]);
    let shown = text(&out);
    assert!(out.status.success(), "xmen {args:?}:\n{shown}");
    shown
}

/// The `record_hooks` example (names no hook in code) initialised as a set in `dir/set`.
fn set_of_record_hooks(dir: &Path) -> PathBuf {
    let example = bins().join("examples/record_hooks").display().to_string();
    xmen_ok(dir, &["init", "-n", &example, "-r", "set"]);
    dir.join("set")
}

fn folders(set: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(set)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn r12_a_truncated_or_foreign_library_ends_the_run_as_error_with_its_reason() {
    let tmp = scratch();
    let dir = tmp.path();
    let set = set_of_record_hooks(dir);
    let real = bins().join(library_file_name("logger"));
    let (cut, foreign) = (dir.join("libs/cut.so"), dir.join("libs/foreign.so"));
    copy(&real, &cut);
    copy(&real, &foreign);
    let set_s = set.display().to_string();
    for (name, lib) in [("cut", &cut), ("foreign", &foreign)] {
        let u = format!("{{_hooks: [{{hook: logger, spec: 'loss@1e', path: {}}}]}}", lib.display());
        xmen_ok(dir, &["register", "-r", &set_s, "-n", name, "-u", &u]);
    }
    // Valid when registered; damaged before the runs start.
    truncated(&real, &cut);
    wrong_class(&foreign);
    let out = xmen(dir, &["run", "-r", &set_s, "*", "bash"], None, &[]);
    let shown = text(&out);
    for (name, why) in [("cut", "the file is damaged or truncated"), ("foreign", "built for another platform")] {
        let params = std::fs::read_to_string(set.join(name).join("params.yml")).unwrap();
        assert!(params.contains("_status: error"), "{name}:\n{params}\n{shown}");
        assert!(params.contains(why), "{name} lacks {why:?}:\n{params}");
        assert!(shown.contains(why), "{name}: the run's output says why:\n{shown}");
    }
    let params = std::fs::read_to_string(set.join("foreign/params.yml")).unwrap();
    assert!(params.contains("ELFCLASS32"), "the reason names the class:\n{params}");
}

#[test]
fn r12_a_panic_while_panicking_aborts_the_run_and_xmen_run_records_the_signal() {
    let tmp = scratch();
    let dir = tmp.path();
    let set = set_of_record_hooks(dir);
    let set_s = set.display().to_string();
    let lib = fixture("drop-panic").display().to_string();
    let u =
        format!("{{_hooks: [{{hook: drop-panic, spec: 'loss@1e', path: {lib}, options: {{double_panic: true}}}}]}}");
    xmen_ok(dir, &["register", "-r", &set_s, "-n", "abort", "-u", &u]);
    let out = xmen(dir, &["run", "-r", &set_s, "abort", "bash"], None, &[]);
    let shown = text(&out);
    assert!(!out.status.success(), "xmen run says the run failed:\n{shown}");
    let params = std::fs::read_to_string(set.join("abort/params.yml")).unwrap();
    assert!(params.contains("_status: error") && !params.contains("_status: running"), "{params}\n{shown}");
    assert!(params.contains("SIGABRT") && params.contains("a panic while panicking"), "{params}\n{shown}");
    assert!(shown.contains("SIGABRT"), "xmen run names the signal:\n{shown}");
}

#[test]
fn r12_lenient_hooks_in_xmen_yml_starts_runs_without_a_broken_hook_unless_the_entry_says_otherwise() {
    let tmp = scratch();
    let dir = tmp.path();
    let set = set_of_record_hooks(dir);
    let real = bins().join(library_file_name("logger"));
    let cut = dir.join("libs/cut.so");
    copy(&real, &cut);
    let set_s = set.display().to_string();
    for (name, extra) in [("global", ""), ("strict", ", lenient: false")] {
        let u = format!("{{_hooks: [{{hook: logger, spec: 'loss@1e', path: {}{extra}}}]}}", cut.display());
        xmen_ok(dir, &["register", "-r", &set_s, "-n", name, "-u", &u]);
    }
    truncated(&real, &cut);
    let config = dir.join(".xmen/xmen.yml");
    let mut yml = std::fs::read_to_string(&config).unwrap();
    yml.push_str("lenient_hooks: true\n");
    std::fs::write(&config, yml).unwrap();
    let out = xmen(dir, &["run", "-r", &set_s, "*", "bash"], None, &[]);
    let shown = text(&out);
    let params = |name: &str| std::fs::read_to_string(set.join(name).join("params.yml")).unwrap();
    assert!(params("global").contains("_status: finished"), "{}\n{shown}", params("global"));
    let out_txt = std::fs::read_to_string(set.join("global/out.txt")).unwrap_or_default();
    assert!(
        format!("{shown}{out_txt}").contains("WARNING: starting without 1 hook(s) (lenient)"),
        "{shown}\n{out_txt}"
    );
    let strict = params("strict");
    assert!(strict.contains("_status: error") && strict.contains("damaged or truncated"), "{strict}\n{shown}");
}

#[test]
fn r12_register_refuses_malformed_hooks_before_writing_anything() {
    let tmp = scratch();
    let dir = tmp.path();
    let set = set_of_record_hooks(dir);
    // Options are declared in the manifests `install` records.
    xmen_ok(dir, &["hooks", "install", "--first-party"]);
    let timer = bins().join(library_file_name("timer")).display().to_string();
    let logger = bins().join(library_file_name("logger")).display().to_string();
    let cases: Vec<(String, &str, &str)> = vec![
        ("[{hook: loger, spec: 'x@1s'}]".into(), "_hooks[0].hook", "did you mean \"logger\""),
        ("[{hook: logger, spec: 'x@1s', options: {formt: '.3f'}}]".into(), "_hooks[0].options.formt", "did you mean \"format\""),
        ("[{hook: logger, spec: 'x@@1s'}]".into(), "_hooks[0].spec", "x@@1s"),
        ("[{hook: logger, spec: 'x@1s', options: {format: 3}}]".into(), "_hooks[0].options.format", "an int where hook \"logger\" expects a str"),
        ("{hook: logger, spec: 'x@1s'}".into(), "_hooks", "a map where a list of hook entries is expected"),
        ("[logger]".into(), "_hooks[0]", "a str where a hook entry (a map) is expected"),
        ("[{hook: timer, spec: '@1e'}, {hook: logger}]".into(), "_hooks[1].spec", "missing"),
        ("[{hook: logger, spec: 'x@1s', opts: {}}]".into(), "_hooks[0].opts", "did you mean \"options\""),
        ("[{hook: logger, spec: 'x@1s', options: [format]}]".into(), "_hooks[0].options", "a list where a map is expected"),
        ("[{hook: logger, spec: 'x@1s', lenient: yes}]".into(), "_hooks[0].lenient", "a str where a bool is expected"),
        ("[{hook: logger, spec: 'x@1s', on_error: halt}]".into(), "_hooks[0].on_error", "use warn, disable or stop"),
        (format!("[{{hook: timer, spec: '@1e', path: {logger}}}]"), "_hooks[0].path", "does not provide it"),
        (format!("[{{hook: timer, spec: '@1e', path: {timer}}}, {{hook: early-stop, spec: 'x@1e', options: {{memory: two}}}}]"),
         "_hooks[1].options.memory", "a str where hook \"early-stop\" expects an int"),
    ];
    assert!(cases.len() >= 8);
    let set_s = set.display().to_string();
    for (hooks, at, want) in &cases {
        let u = format!("{{_hooks: {hooks}, plateau: 7}}");
        let out = xmen(dir, &["register", "-r", &set_s, "-u", &u], None, &[]);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(1), "{hooks}:\n{shown}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("{at}: ")) && stderr.contains(want), "{hooks}: wants {at}: {want}\n{shown}");
        assert!(stderr.contains("nothing registered"), "{shown}");
        assert_eq!(folders(&set), Vec::<String>::new(), "{hooks}: a folder was written");
    }
    // Without -r, in the set's folder (`XMEN` stays the one with the installed hooks).
    let out = std::process::Command::new(bins().join("xmen"))
        .current_dir(&set)
        .args(["register", "-u", "{_hooks: [{hook: logger, spec: 'x@1s', options: {formt: '.3f'}}], plateau: 7}"])
        .env("XMEN", dir.join(".xmen"))
        .env_remove("XMEN_HOOK_PATH")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success() && stderr.contains("_hooks[0].options.formt: "), "{}", text(&out));
    assert_eq!(folders(&set), Vec::<String>::new());
    // The same from defaults.yml, and `hooks doctor -c` says the same.
    let defaults = set.join("defaults.yml");
    let mut yml = std::fs::read_to_string(&defaults).unwrap();
    yml.push_str("_hooks:\n  - {hook: logger, spec: \"x@1s\", options: {formt: \".3f\"}}\n");
    std::fs::write(&defaults, yml).unwrap();
    let out = xmen(dir, &["register", "-r", &set_s, "-u", "{plateau: 7}"], None, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success() && stderr.contains("_hooks[0].options.formt: "), "{}", text(&out));
    assert!(stderr.contains(&defaults.display().to_string()), "the message names the file: {stderr}");
    assert_eq!(folders(&set), Vec::<String>::new());
    let out = xmen(dir, &["hooks", "doctor", "-c", &defaults.display().to_string()], None, &[]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("INVALID")
            && shown.contains("_hooks[0].options.formt: ")
            && shown.contains("did you mean \"format\""),
        "{shown}"
    );
}

#[test]
fn r12_an_experiments_own_u_checks_hooks_before_writing_anything() {
    let tmp = scratch();
    let dir = tmp.path();
    let example = bins().join("examples/record_hooks");
    let run = dir.join("run");
    let out = std::process::Command::new(&example)
        .args(["-u", "{_hooks: [{hook: timer, spec: '@1e'}, {hook: loger, spec: 'x@1s'}]}", "-x"])
        .arg(&run)
        .env("XMEN", dir.join(".xmen"))
        .env_remove("XMEN_HOOK_PATH")
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(shown.contains("_hooks[1].hook: ") && shown.contains("did you mean \"logger\""), "{shown}");
    assert!(!run.exists(), "the run's folder was created:\n{shown}");
}

#[test]
fn r12_install_warns_when_package_and_hook_names_differ_and_tools_use_the_hook_name() {
    let tmp = scratch();
    let dir = tmp.path();
    let lib = fixture("mylog").display().to_string();
    let out = xmen(dir, &["hooks", "install", &lib], None, &[]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("WARNING: package xmen-hook-mylog provides hook \"jsonl\", not \"mylog\""), "{shown}");
    let out = xmen(dir, &["hooks", "info", "jsonl"], None, &[]);
    let shown = text(&out);
    assert!(out.status.success() && shown.contains("library: xmen-hook-mylog 0.1.0"), "{shown}");
    let out = xmen(dir, &["hooks", "info", "mylog"], None, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // `register` validates it by the same name a run resolves.
    let set = set_of_record_hooks(dir);
    let set_s = set.display().to_string();
    xmen_ok(dir, &["register", "-r", &set_s, "-u", "{_hooks: [{hook: jsonl, spec: 'loss@1e'}], plateau: 2}"]);
    let out = xmen(dir, &["run", "-r", &set_s, "*", "bash"], None, &[]);
    let shown = text(&out);
    let log = std::fs::read_to_string(set.join("plateau=2/jsonl.log")).unwrap_or_else(|e| panic!("{e}:\n{shown}"));
    assert_eq!(log.lines().count(), 10, "{log}");
}

#[test]
fn r12_every_fixture_under_xmen_run_ends_with_a_status_and_a_reason_never_running() {
    let tmp = scratch();
    let dir = tmp.path();
    let set = set_of_record_hooks(dir);
    let set_s = set.display().to_string();
    let real = bins().join(library_file_name("logger"));
    let (old, hp) = (dir.join("libs/old.so"), dir.join("hp"));
    copy(&real, &old);
    copy(&real, &hp.join(library_file_name("logger")));
    let entry = |hook: &str, path: Option<&Path>| match path {
        Some(p) => format!("{{_hooks: [{{hook: {hook}, spec: 'loss@1e', path: {}}}]}}", p.display()),
        None => format!("{{_hooks: [{{hook: {hook}, spec: 'loss@1e'}}]}}"),
    };
    let runs = [
        ("drop", entry("drop-panic", Some(&fixture("drop-panic")))),
        ("renamed", entry("jsonl", Some(&fixture("mylog")))),
        ("old", entry("logger", Some(&old))),
        ("two", entry("logger", None)),
    ];
    for (name, u) in &runs {
        let out = xmen(dir, &["register", "-r", &set_s, "-n", name, "-u", u], Some(&hp), &[]);
        assert!(out.status.success(), "{name}: {}", text(&out));
    }
    // Valid when registered; then an old-ABI library replaces one, and a second, different
    // library claiming `logger` joins the hook path's folder.
    copy(&fixture("version"), &old);
    let mut other = std::fs::read(&real).unwrap();
    other.extend_from_slice(b"another build");
    std::fs::write(hp.join("libxmen_hook_zzz.so"), other).unwrap();
    let out = xmen(dir, &["run", "-r", &set_s, "*", "bash"], Some(&hp), &[]);
    let shown = text(&out);
    let params = |name: &str| std::fs::read_to_string(set.join(name).join("params.yml")).unwrap();
    let out_txt = |name: &str| std::fs::read_to_string(set.join(name).join("out.txt")).unwrap_or_default();
    for (name, _) in &runs {
        assert!(!params(name).contains("_status: running"), "{name}:\n{}\n{shown}", params(name));
    }
    // A Drop that panics: reported once, the run finishes.
    assert!(params("drop").contains("_status: finished"), "{}\n{shown}", params("drop"));
    let said = format!("{shown}{}", out_txt("drop"));
    assert!(said.contains("dropping the hook panicked"), "{said}");
    // NAME differs from the package name: found by its hook name, runs, writes in its folder.
    assert!(params("renamed").contains("_status: finished"), "{}\n{shown}", params("renamed"));
    assert!(set.join("renamed/jsonl.log").is_file(), "{shown}");
    // An old ABI: refused naming both versions.
    let old_params = params("old");
    assert!(old_params.contains("_status: error"), "{old_params}\n{shown}");
    assert!(old_params.contains("hook ABI 0.0.1") && old_params.contains(SDK_VERSION), "{old_params}");
    // Two different libraries claiming one name in one folder: refused naming both files.
    let two = params("two");
    assert!(two.contains("_status: error") && two.contains("two different libraries"), "{two}\n{shown}");
    assert!(two.contains("libxmen_hook_zzz.so") && two.contains("libxmen_hook_logger.so"), "{two}");
}

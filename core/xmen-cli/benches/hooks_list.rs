//! `xmen hooks list` as a whole process (issue 12: ≤ 50 ms over 10 libraries, page cache warm).
//!
//! Run with `cargo bench --workspace --bench hooks_list` (or build the hook libraries first:
//! `cargo build --release -p xmen-hook-logger ...`; the bench lists what sits beside the `xmen`
//! it runs). The setup gives the process a fresh `$XMEN` and `$HOME` and runs
//! `xmen hooks install --first-party` into it, so the listing reads every first-party library
//! twice: the installed copies in `$XMEN/hooks/<abi>` and the originals beside the binary (the
//! installation every `xmen` command registers). Each sample spawns `xmen hooks list` and waits
//! for it: process start, the search, one manifest read per file (no library is loaded), and the
//! table.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use criterion::{criterion_group, criterion_main, Criterion};

fn xmen(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xmen"));
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("XMEN", home.join("xmen-home"))
        .stdin(Stdio::null());
    cmd
}

/// The hook libraries beside the `xmen` binary the bench runs.
fn libraries_beside_xmen() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_BIN_EXE_xmen")).parent().map(Path::to_path_buf).unwrap_or_default();
    let mut libs: Vec<PathBuf> =
        std::fs::read_dir(&dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    libs.retain(|p| {
        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("libxmen_hook_") && n.ends_with(".so"))
    });
    libs
}

fn hooks_list(c: &mut Criterion) {
    let beside = libraries_beside_xmen();
    assert!(
        beside.len() >= 5,
        "found {} hook libraries beside {}; build them first: cargo build --release --workspace",
        beside.len(),
        env!("CARGO_BIN_EXE_xmen")
    );
    let home = tempfile::tempdir().expect("a temporary folder");
    let out = xmen(home.path()).args(["hooks", "install", "--first-party"]).output().expect("xmen runs");
    assert!(out.status.success(), "xmen hooks install --first-party: {}", String::from_utf8_lossy(&out.stderr));
    let installed = walk(&home.path().join("xmen-home/hooks"));
    let files = beside.len() + installed;
    // Once outside the timing: the listing works and names every hook.
    let out = xmen(home.path()).args(["hooks", "list"]).output().expect("xmen runs");
    assert!(out.status.success(), "xmen hooks list: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("logger"), "{}", String::from_utf8_lossy(&out.stdout));

    c.bench_function(&format!("hooks_list/{files} library files"), |b| {
        b.iter(|| {
            let status = xmen(home.path()).args(["hooks", "list"]).stdout(Stdio::null()).status().expect("xmen runs");
            assert!(status.success());
        })
    });
}

fn walk(dir: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else { return 0 };
    rd.filter_map(|e| e.ok())
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                walk(&p)
            } else {
                usize::from(p.extension().is_some_and(|x| x == "so"))
            }
        })
        .sum()
}

criterion_group!(benches, hooks_list);
criterion_main!(benches);

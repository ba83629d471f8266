//! Issue 14 item 9: the documentation, executed. Every ```` ```sh ```` block of the README and of
//! `docs/` runs verbatim, page after page in reading order, from empty temporary folders with a
//! fresh `$XMEN` and none of the variables a developer of xmen has set: install xmen and its hooks,
//! build an experiment crate outside this repository, make a set, register, run, list, note,
//! reset, write and install a hook and use it in a sweep.
//!
//! The pages' conventions (docs/README.md) name the variables the blocks use: `XMEN_CHECKOUT`
//! (this checkout), `WORK` (an empty folder of one's own) and `XMEN`. The test sets those, plus
//! `CARGO_TARGET_DIR` (one persistent folder outside the workspace, so that only the first run
//! compiles; the pages honour it) and `CARGO_INSTALL_ROOT` (so `cargo install` stays in the
//! temporary folder). A block right after `<!-- walkthrough: skip ... -->` is not run (the
//! README's two set-up commands, which are CI itself).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use xmen_tests::{scratch, workspace_root};

use crate::stranger::outoftree_target;

/// The pages, in the order a newcomer reads them.
const PAGES: &[&str] = &["docs/install.md", "docs/first-experiment.md", "docs/writing-a-hook.md", "README.md"];

/// One runnable block: its page, the line its fence opens on, and its text.
#[derive(Debug)]
struct Block {
    page: &'static str,
    line: usize,
    text: String,
}

/// The `sh` blocks of a markdown page, minus those right after a skip marker.
fn sh_blocks(page: &'static str, markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().enumerate();
    let mut skip_next = false;
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("<!-- walkthrough: skip") {
            skip_next = true;
            continue;
        }
        let Some(info) = trimmed.strip_prefix("```") else {
            if !trimmed.is_empty() {
                skip_next = false;
            }
            continue;
        };
        let mut text = String::new();
        for (_, l) in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                break;
            }
            text.push_str(l);
            text.push('\n');
        }
        if info.trim() == "sh" && !std::mem::take(&mut skip_next) {
            blocks.push(Block { page, line: i + 1, text });
        }
        skip_next = false;
    }
    blocks
}

#[test]
fn sh_blocks_are_found_and_skip_markers_honoured() {
    let md = "# t\n```sh\necho a\n```\n<!-- walkthrough: skip (CI) -->\n```sh\necho b\n```\n```text\nc\n```\n```sh\necho d\n```\n";
    let blocks = sh_blocks("t.md", md);
    let texts: Vec<&str> = blocks.iter().map(|b| b.text.as_str()).collect();
    assert_eq!(texts, ["echo a\n", "echo d\n"]);
    assert_eq!(blocks[1].line, 12);
}

/// The environment of a newcomer's shell: the system's and cargo's programs, a home, and the
/// pages' own variables; nothing of this workspace's build.
fn newcomer(cmd: &mut Command, tmp: &Path, work: &Path) {
    cmd.env_clear();
    let cargo_bin = Path::new(&std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let install_root = tmp.join("cargo-root");
    let path = format!("{}:{}:/usr/local/bin:/usr/bin:/bin", install_root.join("bin").display(), cargo_bin.display());
    cmd.env("PATH", path);
    for keep in ["HOME", "RUSTUP_HOME", "CARGO_HOME", "RUSTUP_TOOLCHAIN", "LANG", "TERM", "USER"] {
        if let Some(v) = std::env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    cmd.env("XMEN_CHECKOUT", workspace_root())
        .env("WORK", work)
        .env("XMEN", tmp.join("xmen-home"))
        .env("CARGO_TARGET_DIR", outoftree_target("walkthrough"))
        .env("CARGO_INSTALL_ROOT", install_root)
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_TERM_PROGRESS_WHEN", "never");
}

/// Run one page's blocks in one shell, stopping at the first failing command; the transcript
/// goes to `log`. Returns the seconds the page took.
fn run_page(page: &'static str, blocks: &[Block], tmp: &Path, work: &Path, log: &Path) -> f64 {
    let mut script = String::from("set -euo pipefail\n");
    for b in blocks {
        script.push_str(&format!("echo \"== {}:{}\"\n", b.page, b.line));
        // Each block starts where the reader's shell is; a block that needs a folder `cd`s.
        script.push_str(&b.text);
    }
    let script_path = tmp.join(format!("{}.sh", page.replace('/', "_")));
    std::fs::write(&script_path, &script).unwrap();
    let out = std::fs::File::create(log).unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(&script_path).current_dir(tmp).stdout(out.try_clone().unwrap()).stderr(out);
    newcomer(&mut cmd, tmp, work);
    let start = Instant::now();
    let status = cmd.status().unwrap();
    let secs = start.elapsed().as_secs_f64();
    if !status.success() {
        let transcript = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = transcript.lines().rev().take(60).collect::<Vec<_>>().into_iter().rev().collect();
        panic!(
            "{page}: a block failed ({status}); the last block started is the last `== page:line` below\n{}",
            tail.join("\n")
        );
    }
    secs
}

fn status_of(run: &Path) -> String {
    let text = std::fs::read_to_string(run.join("params.yml")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("_status: "))
        .and_then(|s| s.split_whitespace().next())
        .map(|s| s.trim_matches(['\'', '"']).to_owned())
        .unwrap_or_default()
}

fn runs(set: &Path) -> Vec<PathBuf> {
    let mut runs: Vec<PathBuf> =
        std::fs::read_dir(set).unwrap().map(|e| e.unwrap().path()).filter(|p| p.join("params.yml").is_file()).collect();
    runs.sort();
    runs
}

#[test]
fn the_readme_and_docs_run_verbatim_from_empty_folders() {
    let root = workspace_root();
    let tmp = scratch();
    let work = tmp.path().join("work");
    let mut times = Vec::new();
    for page in PAGES {
        let markdown = std::fs::read_to_string(root.join(page)).unwrap();
        let blocks = sh_blocks(page, &markdown);
        assert!(!blocks.is_empty() || *page == "README.md", "{page} has no sh block");
        let log = tmp.path().join(format!("{}.log", page.replace('/', "_")));
        times.push((page, run_page(page, &blocks, tmp.path(), &work, &log)));
        let transcript = std::fs::read_to_string(&log).unwrap();

        // What each page promises, checked beyond the shell's exit status.
        match *page {
            "docs/install.md" => {
                assert!(tmp.path().join("cargo-root/bin/xmen").is_file(), "{transcript}");
                let hooks = tmp.path().join("xmen-home/hooks");
                let installed = walk_files(&hooks);
                for name in ["logger", "timer", "messenger", "probe", "tensorboard", "checkpointer", "early_stop"] {
                    assert!(
                        installed.iter().any(|f| f.ends_with(format!("libxmen_hook_{name}.so"))),
                        "{name} not installed under {}: {installed:?}",
                        hooks.display()
                    );
                }
            }
            "docs/first-experiment.md" => {
                let set = work.join("sweep");
                let runs = runs(&set);
                assert_eq!(runs.len(), 4, "{runs:?}");
                for r in &runs {
                    assert_eq!(status_of(r), "finished", "{}\n{transcript}", r.display());
                    let params = std::fs::read_to_string(r.join("params.yml")).unwrap();
                    assert!(params.contains("loss:"), "the messenger left no loss in {}", r.display());
                }
                let noted = std::fs::read_to_string(set.join("lr=0.01__epochs=2/params.yml")).unwrap();
                assert!(noted.contains("too slow: the loss is still high"), "{noted}");
                assert!(transcript.contains("w = "), "{transcript}");
            }
            "docs/writing-a-hook.md" => {
                let set = work.join("sweep");
                let with_hook: Vec<PathBuf> =
                    runs(&set).into_iter().filter(|r| r.join("mylog.log").is_file()).collect();
                assert_eq!(with_hook.len(), 2, "each run of the new sweep writes mylog.log in its own folder");
                for r in &with_hook {
                    assert_eq!(status_of(r), "finished", "{}", r.display());
                    let log = std::fs::read_to_string(r.join("mylog.log")).unwrap();
                    assert!(log.lines().count() >= 3 && log.contains("loss="), "{log}");
                }
                assert!(!set.join("mylog.log").exists(), "the hook wrote into the set's root");
            }
            _ => {}
        }
    }
    let summary: Vec<String> = times.iter().map(|(p, s)| format!("{p}: {s:.1} s")).collect();
    // The number the issue asks for: from an empty folder to a listed sweep.
    eprintln!("walkthrough times (install, first experiment, hook, README): {}", summary.join(", "));
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

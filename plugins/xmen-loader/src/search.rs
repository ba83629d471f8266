//! Where hook libraries are looked for, in which order, and the installations that registered
//! their first-party hooks.
//!
//! The search path, highest precedence first (docs: README, "Where hooks are found"):
//! 1. an explicit `path:` in a `_hooks` entry (or a `hook:` that is a file path);
//! 2. each folder of `XMEN_HOOK_PATH` (`:`-separated), in order;
//! 3. `$XMEN/hooks/<abi>` (where `xmen hooks install` puts libraries built against ABI
//!    `<abi>`), then `$XMEN/hooks` itself; `$XMEN` defaults to `~/.xmen`;
//! 4. the hook folders of the `xmen` installations that registered themselves for this ABI,
//!    newest first (any `xmen` command registers the folder beside its binary when it holds
//!    the first-party hooks);
//! 5. the running program's folder, then the folder above it (`target/debug/examples/x` finds
//!    the workspace's `target/debug`).
//!
//! Each folder is its own level: the first level holding a usable library that provides a
//! hook wins, and two *different* libraries providing it in one folder are an error.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use xmen_core::abi::{manifest as embedded, SDK_VERSION};

/// Why a folder is on the search path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A folder given explicitly (`SearchPath::new`).
    Given,
    /// A folder of `XMEN_HOOK_PATH`.
    HookPath,
    /// `$XMEN/hooks/<abi>` or `$XMEN/hooks`.
    Installed,
    /// The first-party hooks of a registered `xmen` installation.
    Registered,
    /// The running program's folder or the one above it.
    Program,
}

impl Source {
    /// A short label for listings: `XMEN_HOOK_PATH`, `installed`, ...
    pub fn label(self) -> &'static str {
        match self {
            Source::Given => "given",
            Source::HookPath => "XMEN_HOOK_PATH",
            Source::Installed => "installed",
            Source::Registered => "xmen installation",
            Source::Program => "beside the program",
        }
    }
}

/// One folder of the search path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchDir {
    /// The folder (or, for a given entry, possibly one library file).
    pub dir: PathBuf,
    /// Why it is searched.
    pub source: Source,
}

/// The ordered folders searched for hook libraries (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct SearchPath {
    entries: Vec<SearchDir>,
    dirs: Vec<PathBuf>,
}

/// The file name `cargo` gives hook package `xmen-hook-<name>`'s library on this platform:
/// `libxmen_hook_logger.so`. Only a default for installing; hooks are resolved by the names
/// in manifests, never by file names.
pub fn library_file_name(name: &str) -> String {
    format!("{}xmen_hook_{}{}", std::env::consts::DLL_PREFIX, name.replace('-', "_"), std::env::consts::DLL_SUFFIX)
}

/// The folder name of an ABI generation: libraries built against SDKs that one host can load
/// share it (`xmen-core` 0.1.x with abi_stable 0.11: `sdk-0.1-abi-0.11`). Installed libraries
/// and registered installations are kept per generation, so an experiment built against an
/// older SDK keeps finding libraries it can load.
pub fn abi_folder(sdk_version: &str, abi: (u32, u32)) -> String {
    let mut parts = sdk_version.split(['-', '+']).next().unwrap_or(sdk_version).split('.');
    let major = parts.next().unwrap_or("0");
    let sdk = if major == "0" { format!("0.{}", parts.next().unwrap_or("0")) } else { major.to_owned() };
    format!("sdk-{sdk}-abi-{}.{}", abi.0, abi.1)
}

/// This program's ABI generation (see [`abi_folder`]).
pub fn host_abi_folder() -> String {
    abi_folder(SDK_VERSION, embedded::ABI)
}

impl SearchPath {
    /// The default search path of this program, from the environment.
    pub fn from_env() -> SearchPath {
        SearchPath::for_program(std::env::current_exe().ok().as_deref())
    }

    /// The search path a program at `program` would use, in this environment (`xmen hooks
    /// doctor --for` asks for an experiment's).
    pub fn for_program(program: Option<&Path>) -> SearchPath {
        let mut entries = Vec::new();
        let mut push = |dir: PathBuf, source: Source| {
            if !entries.iter().any(|e: &SearchDir| e.dir == dir) {
                entries.push(SearchDir { dir, source });
            }
        };
        if let Some(p) = std::env::var_os("XMEN_HOOK_PATH") {
            for d in std::env::split_paths(&p).filter(|p| !p.as_os_str().is_empty()) {
                push(d, Source::HookPath);
            }
        }
        let home = xmen_home();
        push(home.join("hooks").join(host_abi_folder()), Source::Installed);
        push(home.join("hooks"), Source::Installed);
        for d in registered_installations(&home) {
            push(d, Source::Registered);
        }
        if let Some(dir) = program.and_then(Path::parent) {
            push(dir.to_path_buf(), Source::Program);
            if let Some(parent) = dir.parent() {
                push(parent.to_path_buf(), Source::Program);
            }
        }
        SearchPath::from_entries(entries)
    }

    /// An explicit list of folders (a library file stands for itself), each its own level.
    pub fn new(dirs: Vec<PathBuf>) -> SearchPath {
        SearchPath::from_entries(dirs.into_iter().map(|dir| SearchDir { dir, source: Source::Given }).collect())
    }

    fn from_entries(entries: Vec<SearchDir>) -> SearchPath {
        let dirs = entries.iter().map(|e| e.dir.clone()).collect();
        SearchPath { entries, dirs }
    }

    /// The folders, in search order.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The folders with why each is searched, in search order.
    pub fn entries(&self) -> &[SearchDir] {
        &self.entries
    }

    /// Every file in the search path that may be a library (the platform's library suffix),
    /// with the index of its level, in search order; files in one folder sorted by name.
    pub fn candidate_files(&self) -> Vec<(usize, PathBuf)> {
        let mut out = Vec::new();
        for (level, e) in self.entries.iter().enumerate() {
            if e.dir.is_file() {
                out.push((level, e.dir.clone()));
                continue;
            }
            let Ok(rd) = std::fs::read_dir(&e.dir) else { continue };
            let mut files: Vec<PathBuf> = rd
                .filter_map(|f| f.ok())
                .filter(|f| {
                    let name = f.file_name();
                    let name = name.to_string_lossy();
                    // Dot files are `install`'s staging copies.
                    !name.starts_with('.') && name.ends_with(std::env::consts::DLL_SUFFIX)
                })
                .filter(|f| f.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
                .map(|f| f.path())
                .collect();
            files.sort();
            out.extend(files.into_iter().map(|f| (level, f)));
        }
        out
    }
}

/// `$XMEN` (when set and not empty), or `~/.xmen`: the same folder as the record crate's
/// `config_dir`.
pub fn xmen_home() -> PathBuf {
    if let Some(x) = std::env::var_os("XMEN").filter(|x| !x.is_empty()) {
        return PathBuf::from(x);
    }
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".xmen")
}

/// The folder of installation records for one ABI generation: one file per installation,
/// holding the folder of its first-party hooks; its modification time is when an `xmen`
/// command of that installation last ran.
fn installations_dir(home: &Path, abi: &str) -> PathBuf {
    home.join("installations").join(abi)
}

/// The hook folders of the registered installations of this ABI generation, newest first;
/// folders that no longer exist are left out.
pub fn registered_installations(home: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(installations_dir(home, &host_abi_folder())) else { return Vec::new() };
    let mut found: Vec<(SystemTime, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".path"))
        .filter_map(|e| {
            let when = e.metadata().ok()?.modified().ok()?;
            let text = std::fs::read_to_string(e.path()).ok()?;
            let dir = PathBuf::from(text.trim_end_matches('\n'));
            dir.is_dir().then_some((when, dir))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    found.into_iter().map(|(_, d)| d).collect()
}

/// Record `hooks_dir` (the folder beside an `xmen` binary that holds the first-party hooks)
/// as an installation of this ABI generation, so every experiment on the machine finds those
/// hooks with no environment variable. Refreshes the record's time when it exists; writes
/// nothing when it was refreshed in the last minute. Returns whether it wrote.
pub fn register_installation(home: &Path, hooks_dir: &Path) -> std::io::Result<bool> {
    let dir = installations_dir(home, &host_abi_folder());
    let hooks_dir = hooks_dir.canonicalize()?;
    let text = format!("{}\n", hooks_dir.display());
    let file = dir.join(format!("{:016x}.path", fnv(text.as_bytes())));
    let fresh = std::fs::metadata(&file)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() < 60);
    if fresh {
        return Ok(false);
    }
    std::fs::create_dir_all(&dir)?;
    let staged = dir.join(format!(".{:016x}.{}", fnv(text.as_bytes()), std::process::id()));
    std::fs::write(&staged, text)?;
    std::fs::rename(&staged, &file)?;
    Ok(true)
}

/// 64-bit FNV-1a.
pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_folders_group_the_versions_one_host_loads() {
        let table = [
            ("0.1.0", (0, 11), "sdk-0.1-abi-0.11"),
            ("0.1.7", (0, 11), "sdk-0.1-abi-0.11"),
            ("0.2.0-beta.1", (0, 11), "sdk-0.2-abi-0.11"),
            ("1.4.2", (0, 12), "sdk-1-abi-0.12"),
        ];
        for (sdk, abi, want) in table {
            assert_eq!(abi_folder(sdk, abi), want, "{sdk}");
        }
    }

    #[test]
    fn installations_are_listed_newest_first_and_gone_ones_are_left_out() {
        let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (a, b, gone) = (home.path().join("a"), home.path().join("b"), home.path().join("gone"));
        for d in [&a, &b, &gone] {
            std::fs::create_dir(d).unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(register_installation(home.path(), &gone).unwrap_or(false));
        assert!(register_installation(home.path(), &a).unwrap_or(false));
        // Within a minute a second registration writes nothing.
        assert!(!register_installation(home.path(), &a).unwrap_or(true));
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(register_installation(home.path(), &b).unwrap_or(false));
        std::fs::remove_dir(&gone).unwrap_or_else(|e| panic!("{e}"));
        let canon = |p: &Path| p.canonicalize().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(registered_installations(home.path()), [canon(&b), canon(&a)]);
    }
}

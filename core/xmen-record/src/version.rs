//! `_version` provenance (docs/file-formats.md#_version): the binary, its crate, and the git state of its source.
//!
//! Git facts are read from the repository's files (HEAD, refs, packed-refs, config, and the
//! `.git` file of a worktree); only the dirty flag spawns `git status` once. Each repository is
//! looked up once per process and cached, so registering many experiments stays cheap. A
//! missing remote, a detached HEAD or an absent `git` leave the field out instead of failing
//! (the original failed).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

use xmen_core::Value;

/// Git facts about a work tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GitInfo {
    /// The work tree's top-level folder.
    pub local: PathBuf,
    /// The checked-out branch; `None` on a detached HEAD.
    pub branch: Option<String>,
    /// The `origin` remote's URL without credentials; `None` without one.
    pub remote: Option<String>,
    /// The commit of HEAD; `None` in a repository without commits.
    pub commit: Option<String>,
    /// Whether tracked files have uncommitted changes; `None` when `git` cannot be run.
    pub dirty: Option<bool>,
}

impl GitInfo {
    /// The `git` map of `_version`, without the fields that are unknown.
    pub fn to_value(&self) -> Value {
        let mut m = vec![("local".to_owned(), Value::Str(self.local.display().to_string()))];
        if let Some(b) = &self.branch {
            m.push(("branch".into(), Value::Str(b.clone())));
        }
        if let Some(r) = &self.remote {
            m.push(("remote".into(), Value::Str(r.clone())));
        }
        if let Some(c) = &self.commit {
            m.push(("commit".into(), Value::Str(c.clone())));
        }
        if let Some(d) = self.dirty {
            m.push(("dirty".into(), Value::Bool(d)));
        }
        Value::Map(m)
    }
}

/// Where an experiment's code comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionInfo {
    /// The executable's path.
    pub path: PathBuf,
    /// The crate that defines the experiment (`env!("CARGO_PKG_NAME")`).
    pub crate_name: String,
    /// Its version (`env!("CARGO_PKG_VERSION")`).
    pub crate_version: String,
    /// Where to start looking for the git repository (e.g. `env!("CARGO_MANIFEST_DIR")`);
    /// the executable's folder when `None`.
    pub source_dir: Option<PathBuf>,
}

impl VersionInfo {
    /// Version information of the running executable.
    pub fn current(crate_name: &str, crate_version: &str, source_dir: Option<&Path>) -> VersionInfo {
        VersionInfo {
            path: std::env::current_exe().unwrap_or_default(),
            crate_name: crate_name.to_owned(),
            crate_version: crate_version.to_owned(),
            source_dir: source_dir.map(Path::to_path_buf),
        }
    }

    /// The `_version` map: `{path, crate, version, git?}`.
    pub fn to_value(&self) -> Value {
        let mut m = vec![
            ("path".to_owned(), Value::Str(self.path.display().to_string())),
            ("crate".to_owned(), Value::Str(self.crate_name.clone())),
            ("version".to_owned(), Value::Str(self.crate_version.clone())),
        ];
        let start = self.source_dir.clone().or_else(|| self.path.parent().map(Path::to_path_buf));
        if let Some(git) = start.as_deref().and_then(git_info) {
            m.push(("git".into(), git.to_value()));
        }
        Value::Map(m)
    }
}

/// The git facts of the work tree containing `start`, looked up once per repository per
/// process; `None` outside a repository.
pub fn git_info(start: &Path) -> Option<GitInfo> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Option<GitInfo>>>> = OnceLock::new();
    let (top, dot_git) = find_repo(start)?;
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&top).cloned()) {
        return hit;
    }
    let info = read_repo(&top, &dot_git);
    if let Ok(mut c) = cache.lock() {
        c.insert(top, info.clone());
    }
    info
}

/// The first ancestor of `start` (itself included) holding `.git`: (work tree, `.git` path).
fn find_repo(start: &Path) -> Option<(PathBuf, PathBuf)> {
    let start = std::path::absolute(start).ok()?;
    start.ancestors().find_map(|dir| {
        let g = dir.join(".git");
        g.exists().then(|| (dir.to_path_buf(), g))
    })
}

/// The git folder of a work tree and its common folder (they differ for a linked worktree).
fn git_dirs(dot_git: &Path) -> Option<(PathBuf, PathBuf)> {
    let git_dir = if dot_git.is_file() {
        let text = fs::read_to_string(dot_git).ok()?;
        let target = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
        let p = Path::new(target);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            dot_git.parent()?.join(p)
        }
    } else {
        dot_git.to_path_buf()
    };
    let common = match fs::read_to_string(git_dir.join("commondir")) {
        Ok(c) => {
            let p = Path::new(c.trim());
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                git_dir.join(p)
            }
        }
        Err(_) => git_dir.clone(),
    };
    Some((git_dir, common))
}

fn read_repo(top: &Path, dot_git: &Path) -> Option<GitInfo> {
    let (git_dir, common) = git_dirs(dot_git)?;
    let head = fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    let (branch, commit) = match head.strip_prefix("ref:") {
        Some(r) => {
            let r = r.trim();
            let branch = r.strip_prefix("refs/heads/").unwrap_or(r).to_owned();
            (Some(branch), resolve_ref(&git_dir, &common, r))
        }
        None if is_sha(head) => (None, Some(head.to_owned())),
        None => (None, None),
    };
    // A token in the remote URL (`https://user:token@host/...`) is a secret, not provenance.
    let remote = fs::read_to_string(common.join("config"))
        .ok()
        .and_then(|c| origin_url(&c))
        .map(|u| xmen_core::redact::strip_url_credentials(&u));
    Some(GitInfo { local: top.to_path_buf(), branch, remote, commit, dirty: dirty(top) })
}

fn is_sha(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn resolve_ref(git_dir: &Path, common: &Path, r: &str) -> Option<String> {
    for dir in [git_dir, common] {
        if let Ok(s) = fs::read_to_string(dir.join(r)) {
            let s = s.trim();
            if is_sha(s) {
                return Some(s.to_owned());
            }
        }
    }
    let packed = fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|l| {
        let (sha, name) = l.split_once(' ')?;
        (name.trim() == r && is_sha(sha)).then(|| sha.to_owned())
    })
}

/// The `url` of `[remote "origin"]` in a git config file.
fn origin_url(config: &str) -> Option<String> {
    let mut in_origin = false;
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            let section: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            in_origin = section == "[remote\"origin\"]";
        } else if in_origin {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == "url" {
                    return Some(v.trim().trim_matches('"').to_owned());
                }
            }
        }
    }
    None
}

/// `git status --porcelain --untracked-files=no` is non-empty; `None` when git cannot run.
fn dirty(top: &Path) -> Option<bool> {
    let out = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["status", "--porcelain", "--untracked-files=no"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then_some(!out.stdout.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn write(p: &Path, text: &str) {
        if let Some(d) = p.parent() {
            let _ = fs::create_dir_all(d);
        }
        if let Err(e) = fs::write(p, text) {
            panic!("{}: {e}", p.display());
        }
    }

    #[test]
    fn a_branch_with_a_loose_ref_and_origin_is_read() {
        let Ok(t) = tempfile::tempdir() else { return };
        let g = t.path().join(".git");
        write(&g.join("HEAD"), "ref: refs/heads/main\n");
        write(&g.join("refs/heads/main"), &format!("{SHA}\n"));
        write(
            &g.join("config"),
            "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = no\n[remote \"origin\"]\n\turl = git@host:me/xmen.git\n",
        );
        let sub = t.path().join("a/b");
        let _ = fs::create_dir_all(&sub);
        let info = read_repo(t.path(), &g);
        let info = info.unwrap_or_default();
        assert_eq!(info.branch.as_deref(), Some("main"));
        assert_eq!(info.commit.as_deref(), Some(SHA));
        assert_eq!(info.remote.as_deref(), Some("git@host:me/xmen.git"));
        assert_eq!(find_repo(&sub).map(|(top, _)| top), Some(t.path().to_path_buf()));
    }

    #[test]
    fn a_detached_head_without_remote_omits_those_fields() {
        let Ok(t) = tempfile::tempdir() else { return };
        let g = t.path().join(".git");
        write(&g.join("HEAD"), &format!("{SHA}\n"));
        write(&g.join("config"), "[core]\n");
        let info = read_repo(t.path(), &g).unwrap_or_default();
        assert_eq!(info.branch, None);
        assert_eq!(info.remote, None);
        assert_eq!(info.commit.as_deref(), Some(SHA));
        let v = info.to_value();
        assert!(v.get("branch").is_none() && v.get("remote").is_none());
        assert_eq!(v.get("commit"), Some(&Value::Str(SHA.into())));
    }

    #[test]
    fn packed_refs_and_worktree_files_are_followed() {
        let Ok(t) = tempfile::tempdir() else { return };
        let main = t.path().join("main/.git");
        write(&main.join("packed-refs"), &format!("# pack-refs with: peeled\n{SHA} refs/heads/feature\n"));
        write(&main.join("config"), "[remote \"origin\"]\n  url = https://example.org/x.git\n");
        let wt = main.join("worktrees/wt");
        write(&wt.join("HEAD"), "ref: refs/heads/feature\n");
        write(&wt.join("commondir"), "../..\n");
        let tree = t.path().join("wt");
        write(&tree.join(".git"), &format!("gitdir: {}\n", wt.display()));
        let info = read_repo(&tree, &tree.join(".git")).unwrap_or_default();
        assert_eq!(info.branch.as_deref(), Some("feature"));
        assert_eq!(info.commit.as_deref(), Some(SHA));
        assert_eq!(info.remote.as_deref(), Some("https://example.org/x.git"));
    }

    #[test]
    fn an_empty_repository_has_no_commit() {
        let Ok(t) = tempfile::tempdir() else { return };
        let g = t.path().join(".git");
        write(&g.join("HEAD"), "ref: refs/heads/main\n");
        let info = read_repo(t.path(), &g).unwrap_or_default();
        assert_eq!(info.branch.as_deref(), Some("main"));
        assert_eq!(info.commit, None);
    }

    #[test]
    fn version_value_names_the_binary_and_crate() {
        let v = VersionInfo {
            path: PathBuf::from("/nonexistent/bin/exp"),
            crate_name: "hello".into(),
            crate_version: "0.1.0".into(),
            source_dir: None,
        }
        .to_value();
        assert_eq!(v.get("path"), Some(&Value::Str("/nonexistent/bin/exp".into())));
        assert_eq!(v.get("crate"), Some(&Value::Str("hello".into())));
        assert_eq!(v.get("version"), Some(&Value::Str("0.1.0".into())));
        assert!(v.get("git").is_none());
    }
}

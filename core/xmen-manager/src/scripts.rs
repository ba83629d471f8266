//! run.sh (docs/file-formats.md#runsh) and the rewriting of scripts after a set moves.
//!
//! run.sh keeps the original's four lines, joined by `\n` without a trailing newline:
//! shebang, header, `exec {shell} {root}/script.sh {experiment}/params.yml`, and the harmless
//! `echo EXPERIMENT FINISHED!` (kept as the original's, though it never runs). Every word is
//! shell-quoted when it needs it: folder names made from overrides contain spaces, quotes and
//! brackets (`opt={'beta': 0.5}`), which the original wrote unquoted and bash then split. When a
//! set moves, scripts are regenerated from their parts, never edited as text.

use std::path::Path;

pub use xmen_record::shell::quote as shell_quote;
use xmen_record::shell::{experiment_script, parse_experiment_script, split};

/// The default interpreter of script.sh in run.sh.
pub const DEFAULT_SHELL: &str = "/bin/bash";

/// The text of an experiment's run.sh.
pub fn run_sh(header: &str, shell: &str, script: &Path, params: &Path) -> String {
    RunSh::new(header, shell, script).text(params)
}

/// The run.sh of every experiment of a set that share a header, shell and script.sh: the text
/// up to the params.yml path is made once.
pub struct RunSh {
    /// Shebang, header and `exec {shell} {script} `.
    head: String,
}

impl RunSh {
    /// The run.sh of experiments whose script.sh is `script`.
    pub fn new(header: &str, shell: &str, script: &Path) -> RunSh {
        let header = header.trim_end_matches(['\n', '\r']);
        let head = format!(
            "#!/bin/bash\n{header}\nexec {} {} ",
            shell_quote(shell),
            shell_quote(&script.display().to_string())
        );
        RunSh { head }
    }

    /// The run.sh of the experiment whose params.yml is at `params`.
    pub fn text(&self, params: &Path) -> String {
        let params = shell_quote(&params.display().to_string());
        let mut out = String::with_capacity(self.head.len() + params.len() + 1 + RUN_SH_LAST_LINE.len());
        out.push_str(&self.head);
        out.push_str(&params);
        out.push('\n');
        out.push_str(RUN_SH_LAST_LINE);
        out
    }
}

/// The last line of every run.sh xmen writes.
pub const RUN_SH_LAST_LINE: &str = "echo EXPERIMENT FINISHED!";

/// Whether the run.sh at `path` is whole: it ends with [`RUN_SH_LAST_LINE`], which
/// `register` writes last (see [`crate::heal`]).
pub fn run_sh_whole(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.trim_ascii_end().ends_with(RUN_SH_LAST_LINE.as_bytes()))
}

/// run.sh regenerated for a new script.sh and params.yml from the parts of the old one: its
/// header (the lines between the shebang and the `exec` line) and its shell (the word after
/// `exec`, read back as bash reads it). A file without a readable `exec` line is regenerated
/// with `header` and the default shell. Nothing of the old text is substituted, so any path
/// the set moves to is quoted afresh.
pub fn rewrite_run_sh(old: &str, header: &str, script: &Path, params: &Path) -> String {
    let lines: Vec<&str> = old.split('\n').collect();
    let exec = lines.iter().position(|l| l.starts_with("exec "));
    let shell = exec.and_then(|i| split(lines[i]).ok()).and_then(|w| w.get(1).cloned());
    match (exec, shell) {
        (Some(i), Some(shell)) => {
            let old_header = if i > 1 { lines[1..i].join("\n") } else { String::new() };
            run_sh(&old_header, &shell, script, params)
        }
        _ => run_sh(header, DEFAULT_SHELL, script, params),
    }
}

/// What becomes of a set's script.sh when the set moves from `old_root` to `new_root`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptRewrite {
    /// Nothing to change.
    Unchanged,
    /// A script.sh written by an experiment binary whose binary lived inside the set:
    /// regenerated for the binary's new place.
    Regenerated(String),
    /// A script of the user's own that names the old root: xmen does not edit it.
    Foreign,
}

/// Decide how script.sh follows a move. A script an experiment binary wrote
/// (`exec BINARY --execute "$1"`) is regenerated when its binary lived under the old root;
/// any other script is the user's and is never edited, but reported ([`ScriptRewrite::Foreign`])
/// when it mentions the old root.
pub fn rewrite_script(old: &str, old_root: &Path, new_root: &Path) -> ScriptRewrite {
    if old_root == new_root {
        return ScriptRewrite::Unchanged;
    }
    match parse_experiment_script(old) {
        Some(binary) => match binary.strip_prefix(old_root) {
            Ok(rel) => {
                let text = experiment_script(&new_root.join(rel));
                if text == old {
                    ScriptRewrite::Unchanged
                } else {
                    ScriptRewrite::Regenerated(text)
                }
            }
            // Still the form xmen writes now? An old `${1}` script is upgraded in place.
            Err(_) => {
                let text = experiment_script(&binary);
                if text == old {
                    ScriptRewrite::Unchanged
                } else {
                    ScriptRewrite::Regenerated(text)
                }
            }
        },
        None if old.contains(&*old_root.display().to_string()) => ScriptRewrite::Foreign,
        None => ScriptRewrite::Unchanged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_sh_matches_the_original_layout() {
        let text = run_sh(
            "",
            DEFAULT_SHELL,
            Path::new("/data/set/script.sh"),
            Path::new("/data/set/a=Hello__b=World/params.yml"),
        );
        assert_eq!(
            text,
            "#!/bin/bash\n\nexec /bin/bash /data/set/script.sh /data/set/a=Hello__b=World/params.yml\necho EXPERIMENT FINISHED!"
        );
        let text = run_sh(
            "#SBATCH -p gpu\n#SBATCH --signal=SIGUSR1@90\n",
            "/bin/sh",
            Path::new("/s/script.sh"),
            Path::new("/s/x/params.yml"),
        );
        assert!(
            text.starts_with("#!/bin/bash\n#SBATCH -p gpu\n#SBATCH --signal=SIGUSR1@90\nexec /bin/sh /s/script.sh"),
            "{text}"
        );
    }

    #[test]
    fn run_sh_is_rewritten_keeping_header_and_shell() {
        let old =
            "#!/bin/bash\n#SBATCH -p gpu\nexec /bin/zsh /old/script.sh /old/a=1/params.yml\necho EXPERIMENT FINISHED!";
        let new = rewrite_run_sh(old, "", Path::new("/new/script.sh"), Path::new("/new/a=1/params.yml"));
        assert_eq!(
            new,
            "#!/bin/bash\n#SBATCH -p gpu\nexec /bin/zsh /new/script.sh /new/a=1/params.yml\necho EXPERIMENT FINISHED!"
        );
        let regenerated = rewrite_run_sh("garbage", "#H", Path::new("/n/script.sh"), Path::new("/n/p/params.yml"));
        assert!(regenerated.starts_with("#!/bin/bash\n#H\nexec /bin/bash /n/script.sh"), "{regenerated}");
    }

    #[test]
    fn run_sh_follows_awkward_paths_and_shells() {
        let script = Path::new("/my set/it's/script.sh");
        let params = Path::new("/my set/it's/opt={'beta': 0.5}/params.yml");
        let text = run_sh("#SBATCH -p gpu", "/opt/my shell/bash", script, params);
        let exec = text.lines().find(|l| l.starts_with("exec ")).unwrap();
        assert_eq!(
            split(exec).unwrap(),
            ["exec", "/opt/my shell/bash", "/my set/it's/script.sh", &*params.display().to_string()]
        );
        let moved = rewrite_run_sh(&text, "", Path::new("/b/script.sh"), Path::new("/b/x/params.yml"));
        assert_eq!(moved, "#!/bin/bash\n#SBATCH -p gpu\nexec '/opt/my shell/bash' /b/script.sh /b/x/params.yml\necho EXPERIMENT FINISHED!");
    }

    #[test]
    fn experiment_scripts_are_regenerated_and_foreign_ones_left_alone() {
        let old = "#!/bin/bash\nexec /a/set/launcher --execute ${1}";
        assert_eq!(
            rewrite_script(old, Path::new("/a/set"), Path::new("/b/my new")),
            ScriptRewrite::Regenerated("#!/bin/bash\nexec '/b/my new/launcher' --execute \"$1\"\n".into())
        );
        // A binary outside the set keeps its path; an old unquoted script is upgraded.
        assert_eq!(
            rewrite_script(old, Path::new("/a/set-2"), Path::new("/b")),
            ScriptRewrite::Regenerated("#!/bin/bash\nexec /a/set/launcher --execute \"$1\"\n".into())
        );
        let current = experiment_script(Path::new("/opt/bin/train"));
        assert_eq!(rewrite_script(&current, Path::new("/a"), Path::new("/b")), ScriptRewrite::Unchanged);
        assert_eq!(rewrite_script("cat /a/set/x $1", Path::new("/a/set"), Path::new("/b")), ScriptRewrite::Foreign);
        assert_eq!(rewrite_script("cat $1", Path::new("/a/set"), Path::new("/b")), ScriptRewrite::Unchanged);
    }
}

//! run.sh (spec §3.5) and the rewriting of scripts after a set moves (defect B18).
//!
//! run.sh keeps the original's four lines, joined by `\n` without a trailing newline:
//! shebang, header, `exec {shell} {root}/script.sh {experiment}/params.yml`, and the harmless
//! `echo EXPERIMENT FINISHED!` (B49, kept). Paths are shell-quoted when they need it: folder
//! names made from overrides contain spaces, quotes and brackets (`opt={'beta': 0.5}`), which
//! the original wrote unquoted and bash then split.

use std::path::Path;

/// The default interpreter of script.sh in run.sh.
pub const DEFAULT_SHELL: &str = "/bin/bash";

/// Quote `s` for bash when it holds anything but plain path characters.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '=' | '+' | ',' | ':' | '@' | '%')
        });
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn exec_line(shell: &str, script: &Path, params: &Path) -> String {
    format!(
        "exec {} {} {}",
        shell,
        shell_quote(&script.display().to_string()),
        shell_quote(&params.display().to_string())
    )
}

/// The text of an experiment's run.sh.
pub fn run_sh(header: &str, shell: &str, script: &Path, params: &Path) -> String {
    let header = header.trim_end_matches(['\n', '\r']);
    [
        "#!/bin/bash".to_owned(),
        header.to_owned(),
        exec_line(shell, script, params),
        "echo EXPERIMENT FINISHED!".to_owned(),
    ]
    .join("\n")
}

/// run.sh with its `exec` line pointed at a new script.sh and params.yml, keeping the shebang,
/// the header and the shell. A file without an `exec` line is regenerated with `header`.
pub fn rewrite_run_sh(old: &str, header: &str, script: &Path, params: &Path) -> String {
    let lines: Vec<&str> = old.split('\n').collect();
    match lines.iter().position(|l| l.starts_with("exec ")) {
        Some(i) => {
            let shell = lines[i].split_whitespace().nth(1).unwrap_or(DEFAULT_SHELL);
            let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
            out[i] = exec_line(shell, script, params);
            out.join("\n")
        }
        None => run_sh(header, DEFAULT_SHELL, script, params),
    }
}

/// script.sh with every mention of the old set root replaced by the new one (the generated
/// script execs a launcher by its absolute path, which may live in the set root).
/// `None` when nothing changes.
pub fn rewrite_script(old: &str, old_root: &Path, new_root: &Path) -> Option<String> {
    let from = old_root.display().to_string();
    let to = new_root.display().to_string();
    if from.is_empty() || from == to || !old.contains(&from) {
        return None;
    }
    // Replace only whole path prefixes: the old root followed by a separator, a quote, white
    // space or the end, so `/a/set` does not rewrite `/a/set-2`.
    let mut out = String::with_capacity(old.len());
    let mut rest = old;
    while let Some(i) = rest.find(&from) {
        let after = &rest[i + from.len()..];
        let boundary = after.chars().next().is_none_or(|c| matches!(c, '/' | '\'' | '"' | '\n' | ' ' | '\t'));
        out.push_str(&rest[..i]);
        out.push_str(if boundary { &to } else { &from });
        rest = after;
    }
    out.push_str(rest);
    (out != old).then_some(out)
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
    fn paths_with_spaces_and_quotes_are_quoted() {
        let table = [
            ("/s/a=1", "/s/a=1"),
            ("/s/opt={'beta': 0.5}", r"'/s/opt={'\''beta'\'': 0.5}'"),
            ("/s/sizes=[3, 4]", "'/s/sizes=[3, 4]'"),
            ("", "''"),
        ];
        for (raw, want) in table {
            assert_eq!(shell_quote(raw), want);
        }
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
    fn scripts_have_whole_root_prefixes_replaced() {
        let table: Vec<(&str, Option<&str>)> = vec![
            (
                "#!/bin/bash\nexec /a/set/launcher --execute ${1}",
                Some("#!/bin/bash\nexec /b/new/launcher --execute ${1}"),
            ),
            ("exec /a/set-2/x ${1}", None),
            ("cat ${1}", None),
            ("x '/a/set' /a/set", Some("x '/b/new' /b/new")),
        ];
        for (old, want) in table {
            assert_eq!(rewrite_script(old, Path::new("/a/set"), Path::new("/b/new")).as_deref(), want, "{old}");
        }
    }
}

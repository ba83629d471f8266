//! The shell text xmen generates: quoting words for bash, reading them back, and the one
//! form of a set's `script.sh` that an experiment binary writes (`exec BINARY --execute "$1"`).
//!
//! Every path and value that reaches a generated script goes through [`quote`], so a set under
//! `my set/`, a folder named `opt={'beta': 0.5}` or a value holding `$`, `;`, `*` or a quote
//! runs exactly as typed. Scripts are regenerated from their parts ([`experiment_script`],
//! [`parse_experiment_script`]) rather than edited as text when a set moves.

use std::path::{Path, PathBuf};

/// Quote `s` as one bash word. Plain path-like words are left alone (so generated scripts
/// stay readable); anything else is single-quoted, with `'` written as `'\''`.
///
/// ```
/// use xmen_record::shell::quote;
/// assert_eq!(quote("/data/set/a=1"), "/data/set/a=1");
/// assert_eq!(quote("/my set/it's"), r"'/my set/it'\''s'");
/// assert_eq!(quote(""), "''");
/// ```
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '=' | '+' | ',' | ':' | '@'));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Why a line of shell could not be split into words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitError {
    /// The character offset (0-based) of the quote that is never closed.
    pub position: usize,
    /// `'` or `"`.
    pub quote: char,
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the {} quote at character {} is never closed", self.quote, self.position + 1)
    }
}

impl std::error::Error for SplitError {}

/// Split one line into words as bash would, for the quoting forms xmen writes and people
/// type: blanks separate words, `'...'` is literal, `"..."` is literal but for `\"`, `\\`,
/// `\$` and `` \` ``, and a backslash outside quotes escapes the next character. Expansions
/// (`$x`, globs) are kept as text, not expanded.
///
/// ```
/// use xmen_record::shell::split;
/// assert_eq!(split(r#"exec /bin/bash '/my set/script.sh' "a \"b\"" c\ d"#).unwrap(),
///            ["exec", "/bin/bash", "/my set/script.sh", r#"a "b""#, "c d"]);
/// assert!(split("echo 'open").is_err());
/// ```
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '\'')) => break,
                        Some((_, ch)) => word.push(ch),
                        None => return Err(SplitError { position: i, quote: '\'' }),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.peek() {
                            Some(&(_, n @ ('"' | '\\' | '$' | '`'))) => {
                                word.push(n);
                                chars.next();
                            }
                            _ => word.push('\\'),
                        },
                        Some((_, ch)) => word.push(ch),
                        None => return Err(SplitError { position: i, quote: '"' }),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    // A backslash before a newline continues the line.
                    Some((_, '\n')) => {}
                    Some((_, ch)) => word.push(ch),
                    None => word.push('\\'),
                }
            }
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The `script.sh` an experiment binary writes into a set (`-r PATH`): it execs `binary` on the
/// params.yml given as its first argument, quoted so any folder runs.
///
/// ```
/// use std::path::Path;
/// use xmen_record::shell::{experiment_script, parse_experiment_script};
/// let text = experiment_script(Path::new("/opt/my exps/train"));
/// assert_eq!(text, "#!/bin/bash\nexec '/opt/my exps/train' --execute \"$1\"\n");
/// assert_eq!(parse_experiment_script(&text).unwrap(), Path::new("/opt/my exps/train"));
/// ```
pub fn experiment_script(binary: &Path) -> String {
    format!("#!/bin/bash\nexec {} --execute \"$1\"\n", quote(&binary.display().to_string()))
}

/// The binary of a `script.sh` written by [`experiment_script`] (or by earlier versions, which
/// passed `${1}` unquoted); `None` for any other script, which xmen then never rewrites.
pub fn parse_experiment_script(text: &str) -> Option<PathBuf> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    if !lines.next()?.starts_with("#!") {
        return None;
    }
    let exec = lines.next()?;
    if lines.next().is_some() {
        return None;
    }
    match split(exec).ok()?.as_slice() {
        [e, binary, flag, arg] if e == "exec" && flag == "--execute" && matches!(arg.as_str(), "$1" | "${1}") => {
            Some(PathBuf::from(binary))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWKWARD: &[&str] = &[
        "/plain/a=1",
        "/my set/it's \"quoted\"",
        "/s/opt={'beta': 0.5}",
        "/s/$HOME %j *[;λ 日本",
        "-leading",
        "",
        "back\\slash",
        "'",
        "\"",
        "tab\there",
    ];

    #[test]
    fn quoted_words_split_back_to_themselves() {
        for raw in AWKWARD {
            let line = format!("exec {} {}", quote(raw), quote(raw));
            assert_eq!(split(&line).unwrap(), ["exec", raw, raw], "{line}");
        }
    }

    #[test]
    fn quoting_agrees_with_bash() {
        let Ok(out) = std::process::Command::new("bash")
            .arg("-c")
            .arg(AWKWARD.iter().map(|w| format!("printf '%s\\0' {}", quote(w))).collect::<Vec<_>>().join("; "))
            .output()
        else {
            panic!("bash is needed by xmen's generated scripts and by this test");
        };
        let got: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().split_terminator('\0').collect();
        assert_eq!(got, AWKWARD);
    }

    #[test]
    fn unclosed_quotes_are_reported_where_they_open() {
        assert_eq!(split("a 'b").unwrap_err(), SplitError { position: 2, quote: '\'' });
        assert_eq!(split("λλ \"b").unwrap_err(), SplitError { position: 3, quote: '"' });
    }

    #[test]
    fn experiment_scripts_round_trip_and_old_forms_are_read() {
        for raw in AWKWARD.iter().filter(|s| !s.is_empty()) {
            let p = Path::new(raw);
            assert_eq!(parse_experiment_script(&experiment_script(p)).as_deref(), Some(p), "{raw}");
        }
        let old = "#!/bin/bash\nexec /a/set/launcher --execute ${1}";
        assert_eq!(parse_experiment_script(old).as_deref(), Some(Path::new("/a/set/launcher")));
        for other in ["#!/bin/bash\necho $1\n", "exec /x --execute $1", "#!/bin/bash\nexec /x --execute $1\nrm -rf /\n"]
        {
            assert_eq!(parse_experiment_script(other), None, "{other}");
        }
    }
}

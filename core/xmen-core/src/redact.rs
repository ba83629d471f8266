//! The one rule for keeping secrets out of records (issue 13 item 7).
//!
//! **Key design choice: one dependency-free function per question, here in the core.** Every
//! place that writes the environment (`_meta.environ` at run start, the probe hook's `environ`
//! group, conda's `environment.yml`, `xmen redact`) and every place that writes a git remote
//! (`_version.git.remote`) asks these functions, so the rule cannot drift between them. The
//! module needs nothing but `std`, so a hook library can call it without linking the record
//! crate.
//!
//! A variable *name* looks secret when it contains, in any case, one of [`SECRET_WORDS`]; its
//! value is then written as [`REDACTED`] (the name stays, so a reader still sees that it was
//! set). A remote URL keeps its scheme, host and path but loses `user:password@`.
//!
//! ```
//! use xmen_core::redact::{environ_value, is_secret_name, strip_url_credentials, REDACTED};
//!
//! assert!(is_secret_name("WANDB_API_KEY") && is_secret_name("hf_token") && !is_secret_name("PATH"));
//! assert_eq!(environ_value("AWS_SECRET_ACCESS_KEY", "abc"), REDACTED);
//! assert_eq!(environ_value("HOME", "/root"), "/root");
//! assert_eq!(strip_url_credentials("https://me:ghp_x@github.com/a/b.git"), "https://github.com/a/b.git");
//! ```

use std::fmt;
use std::str::FromStr;

/// What a secret value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Parts of a variable name that make it secret (matched case-insensitively).
pub const SECRET_WORDS: [&str; 9] =
    ["TOKEN", "KEY", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH", "COOKIE", "SESSION"];

/// Whether an environment variable's name looks like it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| upper.contains(w))
}

/// The value to write for the variable `name`: [`REDACTED`] when the name looks secret.
pub fn environ_value<'a>(name: &str, value: &'a str) -> &'a str {
    if is_secret_name(name) {
        REDACTED
    } else {
        value
    }
}

/// A URL without the `user[:password]@` part of its authority (`https://u:t@host/p` ->
/// `https://host/p`). Text that is not a `scheme://` URL (`git@github.com:a/b.git`, a path) is
/// returned unchanged: scp-like remotes name a login user, never a password.
pub fn strip_url_credentials(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_owned() };
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    match authority.rfind('@') {
        Some(at) => format!("{}{}", &url[..authority_start], &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// Whether a URL carries credentials that [`strip_url_credentials`] would remove.
pub fn has_url_credentials(url: &str) -> bool {
    strip_url_credentials(url) != url
}

/// How much of the environment a record keeps (`environ:` in `$XMEN/xmen.yml`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EnvironMode {
    /// Every variable with its value, as the original wrote it.
    All,
    /// Every variable, with the values of secret-looking names replaced (the default).
    #[default]
    Redacted,
    /// No `environ` at all.
    None,
}

impl EnvironMode {
    /// The three spellings, for help texts and errors.
    pub const NAMES: [&'static str; 3] = ["all", "redacted", "none"];

    /// The name written in xmen.yml.
    pub fn as_str(self) -> &'static str {
        match self {
            EnvironMode::All => "all",
            EnvironMode::Redacted => "redacted",
            EnvironMode::None => "none",
        }
    }

    /// The environment to record under this mode: `None` for [`EnvironMode::None`], else the
    /// pairs (sorted by name), secret values replaced under [`EnvironMode::Redacted`].
    pub fn apply(self, vars: impl IntoIterator<Item = (String, String)>) -> Option<Vec<(String, String)>> {
        if self == EnvironMode::None {
            return None;
        }
        let mut out: Vec<(String, String)> = vars
            .into_iter()
            .map(|(k, v)| {
                let v = if self == EnvironMode::Redacted && is_secret_name(&k) { REDACTED.to_owned() } else { v };
                (k, v)
            })
            .collect();
        out.sort();
        Some(out)
    }
}

impl fmt::Display for EnvironMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `environ` setting that is none of `all`, `redacted`, `none`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvironModeError(pub String);

impl fmt::Display for EnvironModeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown environ setting {:?}: use one of all, redacted, none", self.0)
    }
}

impl std::error::Error for EnvironModeError {}

impl FromStr for EnvironMode {
    type Err = EnvironModeError;

    fn from_str(s: &str) -> Result<EnvironMode, EnvironModeError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(EnvironMode::All),
            "redacted" => Ok(EnvironMode::Redacted),
            "none" => Ok(EnvironMode::None),
            _ => Err(EnvironModeError(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_recognised_in_any_case() {
        for (name, secret) in [
            ("WANDB_API_KEY", true),
            ("HF_TOKEN", true),
            ("AWS_SECRET_ACCESS_KEY", true),
            ("my_password", true),
            ("DB_PASSWD", true),
            ("GOOGLE_APPLICATION_CREDENTIALS", true),
            ("GH_AUTH", true),
            ("cookie_jar", true),
            ("SSH_AUTH_SOCK", true),
            ("XDG_SESSION_ID", true),
            ("PATH", false),
            ("HOME", false),
            ("CUDA_VISIBLE_DEVICES", false),
            ("", false),
        ] {
            assert_eq!(is_secret_name(name), secret, "{name}");
        }
    }

    #[test]
    fn credentials_are_stripped_from_urls_only() {
        for (url, want) in [
            ("https://user:tok@github.com/a/b.git", "https://github.com/a/b.git"),
            ("https://tok@gitlab.com:8443/a/b", "https://gitlab.com:8443/a/b"),
            ("ssh://git@host/a.git", "ssh://host/a.git"),
            ("https://github.com/a/b.git", "https://github.com/a/b.git"),
            ("https://host/p@q", "https://host/p@q"),
            ("https://u:p@ss@host/x", "https://host/x"),
            ("git@github.com:a/b.git", "git@github.com:a/b.git"),
            ("/srv/repo.git", "/srv/repo.git"),
            ("https://", "https://"),
        ] {
            assert_eq!(strip_url_credentials(url), want, "{url}");
        }
        assert!(has_url_credentials("https://a:b@h/x") && !has_url_credentials("https://h/x"));
    }

    #[test]
    fn modes_round_trip_and_apply() {
        for name in EnvironMode::NAMES {
            assert_eq!(name.parse::<EnvironMode>().map(|m| m.to_string()).as_deref(), Ok(name));
        }
        assert!("some".parse::<EnvironMode>().is_err());
        let vars = || vec![("B_TOKEN".to_owned(), "t".to_owned()), ("A".to_owned(), "a".to_owned())];
        assert_eq!(
            EnvironMode::Redacted.apply(vars()),
            Some(vec![("A".into(), "a".into()), ("B_TOKEN".into(), REDACTED.into())])
        );
        assert_eq!(
            EnvironMode::All.apply(vars()),
            Some(vec![("A".into(), "a".into()), ("B_TOKEN".into(), "t".into())])
        );
        assert_eq!(EnvironMode::None.apply(vars()), None);
    }
}

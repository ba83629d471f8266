//! Secrets stay out of records (issue 13 item 7): the record-side uses of the one rule in
//! [`xmen_core::redact`].
//!
//! * [`environ`]: `_meta.environ` as the configuration's `environ:` setting says (`redacted`
//!   by default: secret-looking names keep their name, their value becomes `<redacted>`);
//! * [`conda_variables`]: the `variables:` block of conda's `environment.yml`;
//! * [`record`]: what `xmen redact` applies to records written before: `_meta.environ` (also
//!   the probe hook's copy, which lands in the same key) and the credentials of
//!   `_version.git.remote`.
//!
//! Git remotes are stripped at the source ([`crate::version`]) whatever the setting: a
//! password in a URL is never provenance.

use std::sync::OnceLock;

use xmen_core::redact::{is_secret_name, strip_url_credentials, EnvironMode, REDACTED};
use xmen_core::Value;

use crate::config::{config_dir, GlobalConfig};
use crate::record::Record;

/// The `environ:` setting of `$XMEN/xmen.yml`, read once per process (`redacted` when the file
/// is missing or unreadable: the safe side).
pub fn environ_mode() -> EnvironMode {
    static MODE: OnceLock<EnvironMode> = OnceLock::new();
    *MODE.get_or_init(|| GlobalConfig::load(&config_dir()).map(|c| c.environ).unwrap_or_default())
}

/// This process's environment as `_meta.environ` under `mode` (`None`: leave the key out).
pub fn environ(mode: EnvironMode) -> Option<Value> {
    let vars = std::env::vars_os().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()));
    mode.apply(vars).map(|pairs| Value::Map(pairs.into_iter().map(|(k, v)| (k, Value::Str(v))).collect()))
}

/// conda's `environment.yml` with the values of its `variables:` block redacted under `mode`
/// (`none` drops the block; `all` keeps the text as it is). Line-based: conda writes the block
/// as `variables:` followed by indented `NAME: value` lines.
pub fn conda_variables(text: &str, mode: EnvironMode) -> String {
    if mode == EnvironMode::All {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        if !body.starts_with([' ', '\t']) && !body.is_empty() {
            inside = body.trim_end() == "variables:";
            if inside && mode == EnvironMode::None {
                continue;
            }
            out.push_str(line);
            continue;
        }
        if inside {
            if mode == EnvironMode::None {
                continue;
            }
            if let Some((name, _)) = body.split_once(':') {
                if is_secret_name(name.trim()) {
                    let indent = &body[..body.len() - body.trim_start().len()];
                    out.push_str(&format!("{indent}{}: '{REDACTED}'", name.trim()));
                    out.push_str(&line[body.len()..]);
                    continue;
                }
            }
        }
        out.push_str(line);
    }
    out
}

/// Apply the rule to a record written before it existed: the values of secret-looking names
/// in `_meta.environ` become `<redacted>` (under `mode` `none` the key goes), and
/// `_version.git.remote` loses its credentials. Returns how many values changed.
pub fn record(rec: &mut Record, mode: EnvironMode) -> usize {
    let mut changed = 0;
    if let Some(Value::Map(meta)) = &mut rec.meta {
        if mode == EnvironMode::None {
            let before = meta.len();
            meta.retain(|(k, _)| k != "environ");
            changed += before - meta.len();
        } else if mode == EnvironMode::Redacted {
            for (k, v) in meta.iter_mut() {
                if k == "environ" {
                    changed += redact_map(v);
                }
            }
        }
    }
    if let Some(Value::Map(version)) = &mut rec.version {
        for (k, v) in version.iter_mut() {
            if k != "git" {
                continue;
            }
            if let Value::Map(git) = v {
                for (gk, gv) in git.iter_mut() {
                    if let (true, Value::Str(url)) = (gk == "remote", &mut *gv) {
                        let clean = strip_url_credentials(url);
                        if clean != *url {
                            *url = clean;
                            changed += 1;
                        }
                    }
                }
            }
        }
    }
    changed
}

fn redact_map(v: &mut Value) -> usize {
    let Value::Map(m) = v else { return 0 };
    let mut n = 0;
    for (k, val) in m.iter_mut() {
        if is_secret_name(k) && !matches!(val, Value::Str(s) if s == REDACTED) {
            *val = Value::Str(REDACTED.to_owned());
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONDA: &str = "name: base\nchannels:\n  - defaults\ndependencies:\n  - python=3.11\n\
                         variables:\n  HF_TOKEN: hf_abc\n  OMP_NUM_THREADS: '4'\nprefix: /opt/conda\n";

    #[test]
    fn conda_variables_are_redacted_dropped_or_kept() {
        let red = conda_variables(CONDA, EnvironMode::Redacted);
        assert!(!red.contains("hf_abc") && red.contains("  HF_TOKEN: '<redacted>'\n"), "{red}");
        assert!(red.contains("  OMP_NUM_THREADS: '4'\nprefix: /opt/conda\n") && red.contains("  - python=3.11\n"));
        let none = conda_variables(CONDA, EnvironMode::None);
        assert!(!none.contains("variables") && !none.contains("hf_abc") && none.contains("prefix:"), "{none}");
        assert_eq!(conda_variables(CONDA, EnvironMode::All), CONDA);
    }

    #[test]
    fn old_records_lose_their_secrets() {
        let mut rec = Record {
            meta: Some(Value::Map(vec![(
                "environ".into(),
                Value::Map(vec![("HF_TOKEN".into(), Value::from("hf_abc")), ("PATH".into(), Value::from("/bin"))]),
            )])),
            version: Some(Value::Map(vec![(
                "git".into(),
                Value::Map(vec![("remote".into(), Value::from("https://me:pw@host/r.git"))]),
            )])),
            ..Record::default()
        };
        assert_eq!(record(&mut rec, EnvironMode::Redacted), 2);
        let text = rec.to_yaml().unwrap_or_default();
        assert!(!text.contains("hf_abc") && !text.contains("me:pw") && text.contains("/bin"), "{text}");
        assert_eq!(record(&mut rec, EnvironMode::Redacted), 0, "idempotent");
        assert_eq!(record(&mut rec, EnvironMode::None), 1);
        assert!(rec.meta.as_ref().and_then(|m| m.get("environ")).is_none());
    }
}

//! A record is validated before it is used or rewritten (issue 13 item 3).
//!
//! A params.yml cut short (a full disk, a bad copy, an editor crash) can still be valid YAML:
//! every parameter gone, or nothing at all. Read as it is, such a file looked like a record in
//! status `default` with default parameters; `xmen note` rewrote it (making the loss
//! permanent) and a run ran with defaults and recorded `finished`. [`check`] refuses a record
//! that lacks `_root` or any parameter its experiment declares, naming the keys and the
//! repair, so nothing runs or rewrites it. Parameters the declaration does not know, and values
//! whose kind differs from the declared default's, are only reported ([`Checked::warnings`]):
//! an older record of an experiment that changed still runs.

use std::path::Path;

use crate::error::{RecordError, Result};
use crate::record::{Param, Record};

/// What [`check`] found in a usable record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// One line per extra key or changed value kind.
    pub warnings: Vec<String>,
}

/// Check the record read from `path` against the parameters its experiment declares
/// (`declared`, e.g. the set's defaults.yml read from `source`). `managed`: the record belongs
/// to a set or was registered, so it must carry `_root`.
pub fn check(rec: &Record, path: &Path, declared: &[Param], source: &str, managed: bool) -> Result<Checked> {
    let mut missing: Vec<String> = Vec::new();
    if managed && rec.root.is_none() {
        missing.push("_root".to_owned());
    }
    missing.extend(declared.iter().filter(|d| rec.params.iter().all(|p| p.name != d.name)).map(|d| d.name.clone()));
    if !missing.is_empty() {
        let empty = rec.params.is_empty() && rec.root.is_none();
        return Err(RecordError::Incomplete {
            path: path.to_path_buf(),
            missing,
            empty,
            declared_by: source.to_owned(),
        });
    }
    let mut warnings = Vec::new();
    for p in &rec.params {
        match declared.iter().find(|d| d.name == p.name) {
            None if !declared.is_empty() => warnings.push(format!(
                "{}: parameter `{}` is not declared by {source}; it is kept but the experiment may not read it",
                path.display(),
                p.name
            )),
            Some(d) if !same_kind(&d.value, &p.value) => warnings.push(format!(
                "{}: parameter `{}` is a {} where {source} declares a {}",
                path.display(),
                p.name,
                p.value.kind(),
                d.value.kind()
            )),
            _ => {}
        }
    }
    Ok(Checked { warnings })
}

fn same_kind(a: &xmen_core::Value, b: &xmen_core::Value) -> bool {
    use xmen_core::Value as V;
    matches!((a, b), (V::None, _) | (_, V::None) | (V::Float(_), V::Int(_)) | (V::Int(_), V::Float(_)))
        || a.kind() == b.kind()
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmen_core::Value;

    fn declared() -> Vec<Param> {
        vec![Param::new("lr", 0.1, ""), Param::new("epochs", 3, "")]
    }

    #[test]
    fn a_record_missing_declared_keys_is_refused_naming_them() {
        let path = Path::new("/s/a/params.yml");
        let empty = Record::default();
        let msg = check(&empty, path, &declared(), "/s/defaults.yml", true).err().map(|e| e.to_string());
        let msg = msg.unwrap_or_default();
        assert!(msg.contains("/s/a/params.yml is empty") && msg.contains("_root, lr, epochs"), "{msg}");
        assert!(msg.contains("/s/defaults.yml"), "names where the declaration is: {msg}");
        let mut cut = Record::new(vec![Param::new("lr", 0.1, "")]);
        cut.root = Some("/s/a".into());
        let msg = check(&cut, path, &declared(), "/s/defaults.yml", true).err().map(|e| e.to_string());
        assert!(msg.as_deref().is_some_and(|m| m.contains("lacks epochs")), "{msg:?}");
    }

    #[test]
    fn extra_keys_and_changed_kinds_only_warn() -> Result<()> {
        let mut rec =
            Record::new(vec![Param::new("lr", 1, ""), Param::new("epochs", "three", ""), Param::new("old", 1, "")]);
        rec.root = Some("/s/a".into());
        let got = check(&rec, Path::new("p"), &declared(), "d", true)?;
        assert_eq!(got.warnings.len(), 2, "{:?}", got.warnings);
        assert!(got.warnings[0].contains("`epochs` is a str where d declares a int"), "{:?}", got.warnings);
        assert!(got.warnings[1].contains("`old` is not declared"), "{:?}", got.warnings);
        rec.params[1].value = Value::None;
        assert_eq!(check(&rec, Path::new("p"), &declared(), "d", true)?.warnings.len(), 1);
        Ok(())
    }
}

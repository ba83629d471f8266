//! From a record to named, ordered columns: flattening,
//! column order and renaming.

use xmen_core::Value;
use xmen_record::attempts::{RunEnd, ATTEMPTS_KEY, END_KEY};
use xmen_record::{Record, HOOKS_KEY};

/// The flattened key of the `stopped_by` column: the hook, step and reason of `_end` for a
/// run a hook stopped.
pub const STOPPED_BY: &str = "_stopped_by";

/// The specials in the order the manager writes them; flattened rows list them first.
const SPECIALS: [&str; 10] =
    ["_root", "_status", "_purpose", "_notes", "_user", "_host", "_timestamps", "_messages", "_version", "_meta"];

/// The slurm fields kept as `sX` columns (the original's list, `NumCPUSs` spelling included).
const SLURM_KEPT: [&str; 13] = [
    "JobId",
    "UserId",
    "GroupId",
    "Priority",
    "Account",
    "TimeLimit",
    "StartTime",
    "EndTime",
    "NodeList",
    "NumNodes",
    "NumCPUSs",
    "MailUser",
    "MailType",
];

/// The renaming table, applied in order with the last match winning, as the original's.
const RENAMES: [(&str, &str); 15] = [
    ("_stopped_by", "stopped_by"),
    ("_attempts", "attempts"),
    ("_end_", "end_"),
    ("_root", "root"),
    ("_name", "name"),
    ("_status", "status"),
    ("_purpose", "purpose"),
    ("_host", "host"),
    ("_user", "user"),
    ("_created", "created"),
    ("_messages_", ""),
    ("_version_", ""),
    ("_meta_", ""),
    ("_timestamps_", ""),
    ("_hooks_cost_", "cost_"),
];

/// A record as flattened `(key, value)` cells: nested maps are joined with `_`
/// (`_version.git.commit` becomes `_version_git_commit`), lists and scalars are kept whole.
///
/// Order: the specials in the manager's order, `_hooks`, other `_` keys, then the parameters.
/// An empty map contributes no cell, as with pandas. `_root` falls back to `folder` when the
/// file has none.
pub fn flatten_record(rec: &Record, folder: &str) -> Vec<(String, Value)> {
    let mut out = Vec::with_capacity(rec.params.len() + 24);
    for name in SPECIALS {
        let value = rec.special(name).unwrap_or(Value::None);
        let value = match (name, value) {
            ("_root", Value::None) => Value::Str(folder.to_owned()),
            (_, v) => v,
        };
        flatten_into(name.to_owned(), value, &mut out);
    }
    if let Some(h) = &rec.hooks {
        flatten_into(HOOKS_KEY.to_owned(), h.clone(), &mut out);
    }
    for e in &rec.extra {
        match e.key.as_str() {
            // The history as two cells: how many earlier attempts, and how the last one ended.
            ATTEMPTS_KEY => {
                out.push((ATTEMPTS_KEY.to_owned(), Value::Int(i64::try_from(rec.attempts().len()).unwrap_or(0))));
                if let Some(last) = rec.last_attempt_text() {
                    out.push((format!("{ATTEMPTS_KEY}_last"), Value::Str(last)));
                }
            }
            END_KEY => {
                flatten_into(e.key.clone(), e.value.clone(), &mut out);
                if let Some(by) = RunEnd::of(rec).and_then(|end| end.stopped_by()) {
                    out.push((STOPPED_BY.to_owned(), Value::Str(by)));
                }
            }
            _ => flatten_into(e.key.clone(), e.value.clone(), &mut out),
        }
    }
    for p in &rec.params {
        flatten_into(p.name.clone(), p.value.clone(), &mut out);
    }
    out
}

fn flatten_into(key: String, value: Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Map(entries) => {
            for (k, v) in entries {
                flatten_into(format!("{key}_{k}"), v, out);
            }
        }
        other => out.push((key, other)),
    }
}

/// The displayed name of a flattened key, or `None` for a slurm field the table leaves out.
///
/// `_root` becomes `root` (likewise `_name _status _purpose _host _user _created`); the
/// prefixes `_messages_ _version_ _meta_ _timestamps_` are removed, `_hooks_cost_` becomes
/// `cost_`; `_meta_slurm_X` becomes `sX`.
pub fn display_name(key: &str) -> Option<String> {
    if key == super::ERROR_KEY {
        return Some("error".to_owned());
    }
    if let Some(field) = key.strip_prefix("_meta_slurm_") {
        return SLURM_KEPT.contains(&field).then(|| format!("s{field}"));
    }
    let mut name = None;
    for (prefix, with) in RENAMES {
        if key.starts_with(prefix) {
            // Python's str.replace replaces every occurrence; the last matching rule wins.
            name = Some(key.replace(prefix, with));
        }
    }
    Some(name.unwrap_or_else(|| key.to_owned()))
}

/// The rank of a key in the column order (`_root _status _stopped_by _user _host _purpose`,
/// parameters, `_timestamps*`, `_messages*`, `_meta*`, then the rest, as the original); keys of
/// equal rank keep their first-seen order.
pub fn column_rank(key: &str) -> (u8, usize) {
    const FIRST: [&str; 6] = ["_root", "_status", STOPPED_BY, "_user", "_host", "_purpose"];
    if let Some(i) = FIRST.iter().position(|k| *k == key) {
        return (0, i);
    }
    let g = if !key.starts_with('_') {
        1
    } else if key.starts_with("_timestamps") {
        2
    } else if key.starts_with("_messages") {
        3
    } else if key.starts_with("_meta") {
        4
    } else {
        5
    };
    (g, 0)
}

/// Put keys (given in first-seen order) in the table's column order: `_root _status _user
/// _host _purpose`, the parameters, `_timestamps*`, `_messages*`, `_meta*`, then the rest,
/// each group in first-seen order.
pub fn order_columns<S: AsRef<str>>(keys: &mut [S]) {
    // A stable sort keeps first-seen order inside each group.
    keys.sort_by_key(|k| column_rank(k.as_ref()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_flatten_with_underscores() {
        let text = "_root: /s/a\n_status: registered\n_timestamps:\n  created: c1\n  last:\n\
                    _messages:\n  loss: 0.5\n_version:\n  module: m\n  git:\n    commit: abc\n\
                    _meta:\n  slurm:\n    JobId: 7\nlr: 0.01\nmodel:\n  depth: 3\nempty: {}\ns: [3, 4]\n";
        let rec = match Record::from_yaml_str(text) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        let flat = flatten_record(&rec, "/folder");
        let keys: Vec<&str> = flat.iter().map(|(k, _)| k.as_str()).collect();
        for want in [
            "_root",
            "_status",
            "_timestamps_created",
            "_timestamps_last",
            "_messages_loss",
            "_version_module",
            "_version_git_commit",
            "_meta_slurm_JobId",
            "lr",
            "model_depth",
            "s",
        ] {
            assert!(keys.contains(&want), "{want} missing from {keys:?}");
        }
        assert!(!keys.iter().any(|k| k.starts_with("empty")), "{keys:?}");
        assert_eq!(flat[0], ("_root".to_owned(), Value::Str("/s/a".into())));
        // no _root in the file: the folder stands in
        let bare = Record::from_yaml_str("a: 1\n").unwrap_or_default();
        assert_eq!(flatten_record(&bare, "/folder")[0].1, Value::Str("/folder".into()));
    }

    #[test]
    fn keys_are_renamed_in_order_with_the_last_match_winning() {
        let table: [(&str, Option<&str>); 14] = [
            ("_root", Some("root")),
            ("_status", Some("status")),
            ("_purpose", Some("purpose")),
            ("_host", Some("host")),
            ("_user", Some("user")),
            ("_created", Some("created")),
            ("_timestamps_created", Some("created")),
            ("_messages_loss", Some("loss")),
            ("_version_git_commit", Some("git_commit")),
            ("_meta_host", Some("host")),
            ("_meta_slurm_JobId", Some("sJobId")),
            ("_meta_slurm_NumCPUSs", Some("sNumCPUSs")),
            ("_meta_slurm_Partition", None),
            ("lr", Some("lr")),
        ];
        for (key, want) in table {
            assert_eq!(display_name(key).as_deref(), want, "{key}");
        }
    }

    #[test]
    fn columns_are_grouped_and_keep_first_seen_order_inside_groups() {
        let mut keys = vec![
            "_version_module",
            "b",
            "_meta_host",
            "_messages_loss",
            "_timestamps_created",
            "_purpose",
            "a",
            "_notes",
            "_status",
            "_root",
            "_host",
            "_user",
        ];
        order_columns(&mut keys);
        assert_eq!(
            keys,
            [
                "_root",
                "_status",
                "_user",
                "_host",
                "_purpose",
                "b",
                "a",
                "_timestamps_created",
                "_messages_loss",
                "_meta_host",
                "_version_module",
                "_notes"
            ]
        );
    }
}

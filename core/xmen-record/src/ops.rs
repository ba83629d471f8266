//! What happens to a record over its life: messages, notes and status transitions with their
//! timestamps (docs/file-formats.md#the-special-keys).

use std::cmp::Ordering;

use xmen_core::pyfmt;
use xmen_core::Value;

use crate::error::{RecordError, Result};
use crate::record::Record;
use crate::status::Status;

/// Which of an old and a new message value is kept; shared with the hook ABI.
pub use xmen_core::hook::Keep;

/// A number for comparisons: numbers, bools and one-element numeric lists.
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::List(l) if l.len() == 1 => l[0].as_f64(),
        Value::Tensor(t) if t.numel() == 1 => t.to_f64_vec().first().copied(),
        other => other.as_f64(),
    }
}

/// `a < b` as Python would decide it for these values; `None` when they cannot be compared.
pub(crate) fn less(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x < y),
        (Value::Str(x), Value::Str(y)) => Some(x < y),
        _ => {
            let (x, y) = (as_number(a)?, as_number(b)?);
            // NaN compares false both ways, as in Python.
            Some(x.partial_cmp(&y) == Some(Ordering::Less))
        }
    }
}

/// Whether `new` replaces `current` under `keep`: Python's `min(new, cur) == new`, i.e. new wins
/// unless the current value is strictly better. Values that cannot be compared let new win.
pub(crate) fn wins(new: &Value, current: Option<&Value>, keep: Keep) -> bool {
    match (keep, current) {
        (Keep::Latest, _) | (_, None) => true,
        (Keep::Min, Some(cur)) => !less(cur, new).unwrap_or(false),
        (Keep::Max, Some(cur)) => !less(new, cur).unwrap_or(false),
    }
}

/// The stored form of a message value: strings, ints, floats and bools are kept, a
/// one-element number becomes a float, anything else becomes its Python `str()`.
pub fn message_value(v: &Value) -> Value {
    match v {
        Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => v.clone(),
        Value::List(l) if l.len() == 1 && l[0].as_f64().is_some() => Value::Float(l[0].as_f64().unwrap_or(f64::NAN)),
        Value::Tensor(t) if t.numel() == 1 => Value::Float(t.to_f64_vec().first().copied().unwrap_or(f64::NAN)),
        other => Value::Str(pyfmt::str_of(other)),
    }
}

impl Record {
    /// Store messages (docs/file-formats.md#_messages) and return the keys written.
    ///
    /// Without a `leader` each key is written when it wins under `keep`; with one, the
    /// leader's comparison decides for the whole batch. A leader missing from the batch is
    /// [`RecordError::LeaderMissing`]. A record without a root stores nothing.
    pub fn message(&mut self, messages: &[(String, Value)], keep: Keep, leader: Option<&str>) -> Result<Vec<String>> {
        if self.root.is_none() {
            return Ok(Vec::new());
        }
        let batch_wins = match leader {
            None => None,
            Some(l) => {
                let Some((_, v)) = messages.iter().find(|(k, _)| k == l) else {
                    return Err(RecordError::LeaderMissing {
                        leader: l.to_owned(),
                        keys: messages.iter().map(|(k, _)| k.clone()).collect(),
                    });
                };
                Some(wins(v, self.message_value(l), keep))
            }
        };
        let mut written = Vec::with_capacity(messages.len());
        for (k, v) in messages {
            let win = batch_wins.unwrap_or_else(|| wins(v, self.message_value(k), keep));
            if !win {
                continue;
            }
            let stored = message_value(v);
            match self.messages.iter_mut().find(|(mk, _)| mk == k) {
                Some((_, slot)) => *slot = stored,
                None => self.messages.push((k.clone(), stored)),
            }
            written.push(k.clone());
        }
        Ok(written)
    }

    /// Add a note, or with `remove` delete its first exact occurrence (a missing note is
    /// ignored). Returns whether the notes changed.
    pub fn note(&mut self, text: &str, remove: bool) -> bool {
        if remove {
            match self.notes.iter().position(|n| n == text) {
                Some(i) => {
                    self.notes.remove(i);
                    true
                }
                None => false,
            }
        } else {
            self.notes.push(text.to_owned());
            true
        }
    }

    /// Set the status as is (e.g. `xmen reset`).
    pub fn set_status(&mut self, status: Status) {
        self.status = status;
    }

    /// Begin a run: the status must allow running ([`Status::can_run`]); it
    /// becomes `running` and `start` and `last` are stamped.
    pub fn start_run(&mut self, restart: bool) -> Result<()> {
        if !self.status.can_run(restart) {
            return Err(RecordError::NotRunnable { status: self.status });
        }
        let now = pyfmt::now_stamp();
        self.status = Status::Running;
        self.timestamps.start = Some(now.clone());
        self.timestamps.last = Some(now);
        Ok(())
    }

    /// End a run with `status` (`finished`, `stopped`, `timeout`, `requeue`, `error`),
    /// stamping `stopped`.
    pub fn end_run(&mut self, status: Status) {
        self.timestamps.stopped = Some(pyfmt::now_stamp());
        self.status = status;
    }

    /// Refresh `last` when running (done before each save of a running experiment).
    pub fn touch(&mut self) {
        if self.status == Status::Running {
            self.timestamps.last = Some(pyfmt::now_stamp());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> Record {
        Record { root: Some("/tmp/x".into()), ..Record::default() }
    }

    fn m(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    fn msg(r: &mut Record, pairs: &[(&str, Value)], keep: Keep, leader: Option<&str>) -> Vec<String> {
        match r.message(&m(pairs), keep, leader) {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_spec_examples_hold() {
        let mut r = rec();
        msg(&mut r, &[("loss", 1.5.into()), ("acc", 3.into())], Keep::Latest, None);
        msg(&mut r, &[("loss", 2.0.into())], Keep::Min, None);
        assert_eq!(r.messages, m(&[("loss", 1.5.into()), ("acc", 3.into())]));
        msg(&mut r, &[("loss", 0.5.into()), ("acc", 10.into())], Keep::Min, Some("loss"));
        assert_eq!(r.messages, m(&[("loss", 0.5.into()), ("acc", 10.into())]));
    }

    #[test]
    fn keep_rules_compare_each_key_and_ties_win() {
        // (stored, new, keep, new wins)
        let table: Vec<(Option<Value>, Value, Keep, bool)> = vec![
            (None, 5.into(), Keep::Min, true),
            (None, 5.into(), Keep::Max, true),
            (Some(1.into()), 5.into(), Keep::Latest, true),
            (Some(1.into()), 5.into(), Keep::Min, false),
            (Some(1.into()), 5.into(), Keep::Max, true),
            (Some(5.into()), 1.into(), Keep::Min, true),
            (Some(5.into()), 1.into(), Keep::Max, false),
            (Some(2.into()), 2.0.into(), Keep::Min, true),
            (Some(2.into()), 2.0.into(), Keep::Max, true),
            (Some(0.5.into()), Value::List(vec![0.25.into()]), Keep::Min, true),
            (Some("b".into()), "a".into(), Keep::Min, true),
            (Some("b".into()), "c".into(), Keep::Min, false),
            (Some("b".into()), 1.into(), Keep::Min, true),
            (Some(1.0.into()), f64::NAN.into(), Keep::Min, true),
        ];
        for (stored, new, keep, want) in table {
            let mut r = rec();
            if let Some(s) = &stored {
                r.messages.push(("k".into(), s.clone()));
            }
            let written = msg(&mut r, &[("k", new.clone())], keep, None);
            assert_eq!(!written.is_empty(), want, "{stored:?} then {new:?} under {keep}");
        }
    }

    #[test]
    fn a_leader_gates_the_whole_batch() {
        let mut r = rec();
        msg(&mut r, &[("loss", 1.0.into()), ("acc", 0.5.into())], Keep::Latest, None);
        // the leader loses: nothing is written, even acc, which would win alone
        let w = msg(&mut r, &[("loss", 2.0.into()), ("acc", 0.1.into())], Keep::Min, Some("loss"));
        assert!(w.is_empty());
        assert_eq!(r.messages, m(&[("loss", 1.0.into()), ("acc", 0.5.into())]));
        // the leader wins: everything is written, even acc, which would lose alone
        let w = msg(&mut r, &[("loss", 1.0.into()), ("acc", 0.9.into()), ("step", 3.into())], Keep::Min, Some("loss"));
        assert_eq!(w, ["loss", "acc", "step"]);
        assert_eq!(r.message_value("acc"), Some(&Value::Float(0.9)));
    }

    #[test]
    fn a_missing_leader_is_an_error_not_a_panic() {
        let mut r = rec();
        let err = r.message(&m(&[("acc", 1.into())]), Keep::Min, Some("loss"));
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("leader `loss`") && msg.contains("acc"), "{msg}");
        assert!(r.messages.is_empty());
    }

    #[test]
    fn stored_values_are_converted_like_python() {
        let table: Vec<(Value, Value)> = vec![
            ("s".into(), "s".into()),
            (3.into(), 3.into()),
            (0.5.into(), 0.5.into()),
            (true.into(), true.into()),
            (Value::List(vec![1.into(), 2.into()]), "[1, 2]".into()),
            (Value::None, "None".into()),
            (Value::List(vec![1.0.into()]), 1.0.into()),
            (Value::List(vec![2.into()]), 2.0.into()),
            (Value::Map(vec![("a".into(), 1.into())]), "{'a': 1}".into()),
        ];
        for (given, want) in table {
            assert_eq!(message_value(&given), want, "{given:?}");
        }
    }

    #[test]
    fn without_a_root_messages_are_ignored() {
        let mut r = Record::default();
        assert!(msg(&mut r, &[("a", 1.into())], Keep::Latest, None).is_empty());
        assert!(r.messages.is_empty());
    }

    #[test]
    fn notes_are_added_and_removed_and_missing_removals_ignored() {
        let mut r = rec();
        assert!(r.note("first", false));
        assert!(r.note("second", false));
        assert!(r.note("first", false));
        assert!(r.note("first", true));
        assert_eq!(r.notes, ["second", "first"]);
        assert!(!r.note("absent", true));
        assert!(r.note("second", true) && r.note("first", true));
        assert_eq!(r.special("_notes"), Some(Value::None));
    }

    #[test]
    fn runs_start_only_from_runnable_statuses_and_stamp_times() {
        let mut r = rec();
        assert!(matches!(r.start_run(false), Err(RecordError::NotRunnable { status: Status::Default })));
        r.status = Status::Stopped;
        assert!(r.start_run(false).is_err());
        assert!(r.start_run(true).is_ok());
        assert_eq!(r.status, Status::Running);
        assert!(r.timestamps.start.is_some() && r.timestamps.last.is_some());
        assert!(r.timestamps.stopped.is_none());
        r.end_run(Status::Finished);
        assert_eq!(r.status, Status::Finished);
        assert!(r.timestamps.stopped.is_some());
    }

    #[test]
    fn keep_parses_its_names() {
        for k in [Keep::Latest, Keep::Min, Keep::Max] {
            assert_eq!(k.to_string().parse::<Keep>(), Ok(k));
        }
        assert!("mean".parse::<Keep>().is_err());
    }
}

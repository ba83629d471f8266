//! How a run ended (`_end`) and the history of earlier attempts (`_attempts`): see
//! docs/file-formats.md.
//!
//! `_end` is the one place that says how the current attempt ended: its `status`, a `reason`
//! in words, and when a hook stopped it, the `hook` and the `step`; when a signal ended it, the
//! `signal`. `xmen reset` (and `xmen run --retry`) move the current attempt (status,
//! timestamps, messages with the error, `_end`) to the end of the `_attempts` list, so the live
//! record shows only the attempt in progress. Both are plain `_` keys, which every reader,
//! the original Python xmen included, keeps verbatim.

use xmen_core::Value;

use crate::record::{Extra, Record};
use crate::runinfo::RUN_KEY;
use crate::status::Status;

/// The key of [`RunEnd`] in params.yml.
pub const END_KEY: &str = "_end";
/// The key of the attempt history in params.yml.
pub const ATTEMPTS_KEY: &str = "_attempts";

const END_HELP: &str = "How the run ended: status, reason, and the hook and step, or the signal, that ended it";
const ATTEMPTS_HELP: &str = "Earlier attempts (status, timestamps, messages, end), oldest first";

/// How a run ended, recorded under `_end`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunEnd {
    /// The status the run ended with (`finished`, `error`, `stopped`, `timeout`, ...).
    pub status: String,
    /// Why, in words (`loss exceeded 0.1`, `killed by SIGTERM`).
    pub reason: Option<String>,
    /// The hook that stopped the run, when one did.
    pub hook: Option<String>,
    /// The step (the Monitor's step counter) at which the hook stopped it.
    pub step: Option<u64>,
    /// The signal that ended it (`SIGTERM`), when one did.
    pub signal: Option<String>,
}

fn field<'a>(m: &'a [(String, Value)], k: &str) -> Option<&'a Value> {
    m.iter().find(|(key, _)| key == k).map(|(_, v)| v)
}

fn text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::Str(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Int(i)) => Some(i.to_string()),
        _ => None,
    }
}

impl RunEnd {
    /// The `_end` map (absent fields left out).
    pub fn to_value(&self) -> Value {
        let mut m = vec![("status".to_owned(), Value::Str(self.status.clone()))];
        let mut opt = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.push((k.to_owned(), v));
            }
        };
        opt("reason", self.reason.clone().map(Value::Str));
        opt("hook", self.hook.clone().map(Value::Str));
        opt("step", self.step.and_then(|s| i64::try_from(s).ok()).map(Value::Int));
        opt("signal", self.signal.clone().map(Value::Str));
        Value::Map(m)
    }

    /// Read `_end` from a record.
    pub fn of(rec: &Record) -> Option<RunEnd> {
        let m = match &rec.extra.iter().find(|e| e.key == END_KEY)?.value {
            Value::Map(m) => m,
            _ => return None,
        };
        Some(RunEnd {
            status: text(field(m, "status")).unwrap_or_default(),
            reason: text(field(m, "reason")),
            hook: text(field(m, "hook")),
            step: match field(m, "step") {
                Some(Value::Int(i)) => u64::try_from(*i).ok(),
                _ => None,
            },
            signal: text(field(m, "signal")),
        })
    }

    /// Write this as the record's `_end`, replacing any previous one.
    pub fn store(&self, rec: &mut Record) {
        set_extra(rec, END_KEY, self.to_value(), END_HELP);
    }

    /// `hook at step N: reason` for a run a hook stopped (the `stopped_by` column of
    /// `xmen list`), `None` otherwise.
    pub fn stopped_by(&self) -> Option<String> {
        let hook = self.hook.as_deref()?;
        let mut s = hook.to_owned();
        if let Some(step) = self.step {
            s.push_str(&format!(" at step {step}"));
        }
        if let Some(r) = &self.reason {
            s.push_str(": ");
            s.push_str(r);
        }
        Some(s)
    }
}

fn set_extra(rec: &mut Record, key: &str, value: Value, help: &str) {
    match rec.extra.iter_mut().find(|e| e.key == key) {
        Some(e) => e.value = value,
        None => rec.extra.push(Extra { key: key.to_owned(), value, comment: help.to_owned() }),
    }
}

fn take_extra(rec: &mut Record, key: &str) -> Option<Value> {
    let i = rec.extra.iter().position(|e| e.key == key)?;
    Some(rec.extra.remove(i).value)
}

impl Record {
    /// Whether the record holds an attempt to run it: it started, ended, left messages or is
    /// in a status only a run sets.
    pub fn has_attempt(&self) -> bool {
        self.timestamps.start.is_some()
            || self.timestamps.stopped.is_some()
            || !self.messages.is_empty()
            || !matches!(self.status, Status::Default | Status::Registered | Status::Detached)
    }

    /// The earlier attempts under `_attempts`, oldest first.
    pub fn attempts(&self) -> &[Value] {
        match self.extra.iter().find(|e| e.key == ATTEMPTS_KEY).map(|e| &e.value) {
            Some(Value::List(l)) => l,
            _ => &[],
        }
    }

    /// Move the current attempt (status, start/stopped/last, messages, `_end`; `_run` is
    /// dropped) to the end of `_attempts` and clear it from the live record. Returns whether
    /// there was one. The status is left for the caller to set.
    pub fn archive_attempt(&mut self) -> bool {
        if !self.has_attempt() {
            return false;
        }
        let mut m: Vec<(String, Value)> = vec![
            ("attempt".to_owned(), Value::Int(i64::try_from(self.attempts().len() + 1).unwrap_or(i64::MAX))),
            ("status".to_owned(), Value::Str(self.status.to_string())),
        ];
        for (k, v) in [
            ("start", self.timestamps.start.take()),
            ("stopped", self.timestamps.stopped.take()),
            ("last", self.timestamps.last.take()),
        ] {
            if let Some(v) = v {
                m.push((k.to_owned(), Value::Str(v)));
            }
        }
        let messages = std::mem::take(&mut self.messages);
        if !messages.is_empty() {
            m.push(("messages".to_owned(), Value::Map(messages)));
        }
        if let Some(end) = take_extra(self, END_KEY) {
            m.push(("end".to_owned(), end));
        }
        take_extra(self, RUN_KEY);
        let mut list = match take_extra(self, ATTEMPTS_KEY) {
            Some(Value::List(l)) => l,
            _ => Vec::new(),
        };
        list.push(Value::Map(m));
        self.extra.push(Extra {
            key: ATTEMPTS_KEY.to_owned(),
            value: Value::List(list),
            comment: ATTEMPTS_HELP.into(),
        });
        true
    }

    /// One line about the latest earlier attempt (`error: ValueError ...`, `stopped: killed by
    /// SIGTERM`), for `xmen list -A`.
    pub fn last_attempt_text(&self) -> Option<String> {
        let Value::Map(m) = self.attempts().last()? else { return None };
        let status = text(field(m, "status")).unwrap_or_default();
        let why = match field(m, "end") {
            Some(Value::Map(end)) => text(field(end, "reason")),
            _ => None,
        }
        .or_else(|| match field(m, "messages") {
            Some(Value::Map(msgs)) => text(field(msgs, "error")),
            _ => None,
        });
        Some(match why {
            Some(w) => format!("{status}: {}", w.lines().next().unwrap_or_default()),
            None => status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_moves_the_attempt_into_the_history_and_the_file_reads_back() {
        let text = "_root: /s/a\n_status: error\n_purpose:\n_notes:\n- kept\n_user:\n_host:\n_timestamps:\n  created: c\n  start: s1\n  stopped: e1\n  last: l1\n  registered: r\n\
                    _messages:\n  loss: 0.5\n  error: boom\n_version:\n_meta:\n_run:\n  host: h\n  pid: 1\n_end:\n  status: error\n  reason: boom\nlr: 0.1\n";
        let mut r = Record::from_yaml_str(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(RunEnd::of(&r).map(|e| e.status), Some("error".to_owned()));
        assert!(r.archive_attempt());
        r.set_status(Status::Registered);
        assert!(r.messages.is_empty() && r.timestamps.start.is_none() && r.timestamps.stopped.is_none());
        assert!(RunEnd::of(&r).is_none() && crate::runinfo::RunInfo::of(&r).is_none());
        assert_eq!(r.notes, ["kept"]);
        assert_eq!(r.timestamps.registered.as_deref(), Some("r"));
        assert_eq!(r.last_attempt_text().as_deref(), Some("error: boom"));
        // a second attempt stops by a hook and is archived after the first
        r.timestamps.start = Some("s2".into());
        r.set_status(Status::Finished);
        RunEnd {
            status: "finished".into(),
            reason: Some("loss exceeded 0.1".into()),
            hook: Some("early-stop".into()),
            step: Some(42),
            signal: None,
        }
        .store(&mut r);
        let end = RunEnd::of(&r).and_then(|e| e.stopped_by());
        assert_eq!(end.as_deref(), Some("early-stop at step 42: loss exceeded 0.1"));
        assert!(r.archive_attempt());
        assert_eq!(r.attempts().len(), 2);
        assert_eq!(r.last_attempt_text().as_deref(), Some("finished: loss exceeded 0.1"));
        // the written file reads back the same
        let yaml = r.to_yaml().unwrap_or_else(|e| panic!("{e}"));
        let again = Record::from_yaml_str(&yaml).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.attempts(), r.attempts());
        // nothing to archive on a registered record
        let mut fresh =
            Record::from_yaml_str("_root: /s/b\n_status: registered\nlr: 1\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(!fresh.archive_attempt());
        assert!(fresh.attempts().is_empty());
    }
}

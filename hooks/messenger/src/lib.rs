//! The Messenger hook: leaves the training loop's values as messages in
//! experiment records, so `xmen list` can compare runs while they train.
//!
//! Spec `LOG->EXP@N{t}`: of the matched variables, those whose names match `LOG` are the
//! payload and the experiment handles among the rest are the targets. Each target gets
//! the Monitor's summary (keep `latest`), then the payload (with `keep` and `leader`),
//! and the hook logs `Left messages [...] with {target} at {folder}`. The form without
//! `->` sends only the summary (the original's sent nothing). The hook never touches a record itself: it
//! messages through the host, which stays the only writer of each params.yml.

use regex::Regex;
use std::borrow::Cow;
use xmen_hook::pyfmt;
use xmen_hook::{
    Firing, Hook, HookError, HookResult, Keep, Needs, NewHook, OptionDecl, Options, Outcome, Spec, Value, ValueRef,
};

/// Leaves messages with experiments.
pub struct Messenger {
    log: Option<Regex>,
    keep: Keep,
    leader: Option<Regex>,
    expand: bool,
    prepend: bool,
    warned_leader: bool,
    /// The payload's names as last logged, and their Python repr (most firings repeat them).
    names: (Vec<String>, String),
    /// Per target (its variable and handle): the line logged after messaging it, for `names`.
    lines: Vec<(String, u64, String)>,
}

impl Messenger {
    /// A messenger for a parsed spec.
    pub fn new(spec: &Spec, keep: Keep, leader: Option<&str>, expand: bool, prepend: bool) -> Result<Self, HookError> {
        let leader = leader
            .map(|l| {
                Regex::new(&format!("^(?:{l})")).map_err(|e| {
                    HookError::new(format!("option \"leader\": invalid regex {l:?}: {e}"))
                        .with_help("give a regex matching one payload variable, e.g. \"^loss$\"")
                })
            })
            .transpose()?;
        Ok(Messenger {
            log: spec.log_matcher().cloned(),
            keep,
            leader,
            expand,
            prepend,
            warned_leader: false,
            names: (Vec::new(), String::new()),
            lines: Vec::new(),
        })
    }

    /// The payload, with maps expanded when asked (names borrowed unless prepended).
    fn payload<'a>(&self, vars: &[(&'a str, ValueRef<'a>)]) -> Vec<(Cow<'a, str>, ValueRef<'a>)> {
        let mut out = Vec::with_capacity(vars.len());
        for (name, v) in vars {
            match v {
                ValueRef::Map(m) if self.expand => {
                    for (k, v) in m.iter() {
                        let key = if self.prepend { Cow::Owned(format!("{name}_{k}")) } else { Cow::Borrowed(k) };
                        out.push((key, v));
                    }
                }
                _ => out.push((Cow::Borrowed(*name), *v)),
            }
        }
        out
    }
}

impl Hook for Messenger {
    fn call(&mut self, f: &Firing<'_>) -> HookResult {
        let mut payload_vars = Vec::new();
        let mut targets = Vec::new();
        for (name, v) in f.vars() {
            if self.log.as_ref().is_some_and(|r| r.is_match(name)) {
                payload_vars.push((name, v));
            } else if let ValueRef::Experiment(h) = v {
                targets.push((name, h));
            }
        }
        if targets.is_empty() {
            return Ok(Outcome::Continue);
        }
        let payload = self.payload(&payload_vars);
        let mut outcome = Outcome::Continue;
        let leader = match &self.leader {
            None => None,
            Some(re) => match payload.iter().find(|(k, _)| re.is_match(k)) {
                Some((k, _)) => Some(k.to_string()),
                None => {
                    if !self.warned_leader {
                        self.warned_leader = true;
                        let names: Vec<&str> = payload.iter().map(|(k, _)| k.as_ref()).collect();
                        outcome = Outcome::Warn(format!(
                            "the leader regex {:?} matches none of the messages {names:?}; sending them without a leader",
                            re.as_str().trim_start_matches("^(?:").trim_end_matches(')')
                        ));
                    }
                    None
                }
            },
        };
        let summary = f.host().summary(true);
        let summary_refs: Vec<(&str, ValueRef<'_>)> =
            summary.iter().map(|(k, v)| (k.as_str(), ValueRef::Str(v.as_str()))).collect();
        let payload_refs: Vec<(&str, ValueRef<'_>)> = payload.iter().map(|(k, v)| (k.as_ref(), *v)).collect();
        // The names' repr and the logged lines are remade only when the names change.
        if !payload.iter().map(|(k, _)| k.as_ref()).eq(self.names.0.iter().map(String::as_str)) {
            let list = Value::List(payload.iter().map(|(k, _)| Value::Str(k.to_string())).collect());
            let repr = if payload.is_empty() { String::new() } else { pyfmt::repr_of(&list) };
            self.names = (payload.iter().map(|(k, _)| k.to_string()).collect(), repr);
            self.lines.clear();
        }
        for (target, handle) in targets {
            let fail = |e: String| HookError::new(format!("messaging {target}: {e}"));
            f.host()
                .message_with_summary(handle, &summary_refs, &payload_refs, self.keep, leader.as_deref())
                .map_err(fail)?;
            match self.lines.iter().find(|(t, h, _)| t == target && *h == handle.0) {
                Some((_, _, line)) => f.log(line),
                None => {
                    let line = match f.host().experiment_info(handle) {
                        Some((_, dir)) => {
                            let line = format!("Left messages {} with {target} at {dir}", self.names.1);
                            self.lines.push((target.to_owned(), handle.0, line.clone()));
                            line
                        }
                        None => format!("Left messages {} with {target} at ?", self.names.1),
                    };
                    f.log(&line);
                }
            }
        }
        Ok(outcome)
    }

    /// The summary it leaves includes the step and load timings.
    fn needs(&self) -> Needs {
        Needs { timing: true }
    }
}

impl NewHook for Messenger {
    const NAME: &'static str = "messenger";
    const HELP: &'static str = "Leave matched variables as messages in experiment records (LOG->EXP@N)";

    const OPTIONS: &'static [OptionDecl] = &[
        OptionDecl::new("keep", "str", "latest, min or max: which value a message keeps").default("latest"),
        OptionDecl::new("leader", "str", "a regex naming the payload variable that decides for the batch"),
        OptionDecl::new("expand", "bool", "send each entry of a map variable as its own message").default("false"),
        OptionDecl::new("prepend", "bool", "with expand: name entries {var}_{key}").default("false"),
    ];

    const EXAMPLES: &'static [&'static str] = &["loss|acc->ex@10s", "ex@1e"];

    fn new(spec: &Spec, o: &Options<'_>) -> Result<Messenger, HookError> {
        o.expect_only(&["keep", "leader", "expand", "prepend"])?;
        let keep = match o.str("keep")? {
            Some(k) => k.parse::<Keep>().map_err(HookError::new)?,
            None => Keep::Latest,
        };
        Messenger::new(
            spec,
            keep,
            o.str("leader")?,
            o.bool("expand")?.unwrap_or(false),
            o.bool("prepend")?.unwrap_or(false),
        )
    }
}

xmen_hook::export_hooks!(Messenger);

#[cfg(test)]
mod tests {
    use super::*;
    use xmen_hook::testing::Harness;
    use xmen_hook::{ExperimentHandle, Reply};

    fn summary() -> Reply {
        Reply::Summary(vec![("last".into(), "noon".into()), ("step".into(), "3".into())])
    }

    #[test]
    fn the_payload_and_the_summary_go_to_each_target_in_one_request() -> Result<(), HookError> {
        let mut h = Harness::<Messenger>::new("loss|acc->ex@1s", &[("keep", Value::from("min"))])?;
        h.reply("summary", summary())
            .reply("experiment_info", Reply::ExperimentInfo(Some(("ex".into(), "/runs/a".into()))));
        let ex = Value::Experiment(ExperimentHandle(4));
        let out = h.fire_ok(&[("loss", Value::Float(0.5)), ("other", Value::Int(1)), ("ex", ex)])?;
        assert_eq!(out, ["Left messages ['loss'] with ex at /runs/a"]);
        assert_eq!(
            h.requests(),
            [
                "summary true",
                "message_with_summary 4 [last=noon, step=3] [loss=0.5] min None",
                "experiment_info 4",
                "log \"Left messages ['loss'] with ex at /runs/a\"",
            ]
        );
        Ok(())
    }

    #[test]
    fn a_host_error_names_the_target_and_no_target_means_no_request() -> Result<(), HookError> {
        let mut h = Harness::<Messenger>::new("loss->ex@1s", &[])?;
        h.fire_ok(&[("loss", Value::Float(0.5))])?;
        assert!(h.requests().is_empty(), "no experiment handle matched: nothing to do");
        h.reply("message_with_summary", Reply::Error("the record is locked".into()));
        let e = h.fire(&[("loss", Value::Float(0.5)), ("ex", Value::Experiment(ExperimentHandle(1)))]).err();
        assert_eq!(e.map(|e| e.message), Some("messaging ex: the record is locked".to_owned()));
        Ok(())
    }

    #[test]
    fn an_older_host_gets_two_messages_instead() -> Result<(), HookError> {
        let mut h = Harness::<Messenger>::new("loss->ex@1s", &[])?;
        h.reply("summary", summary()).reply("message_with_summary", Reply::Unsupported);
        h.fire_ok(&[("loss", Value::Float(0.5)), ("ex", Value::Experiment(ExperimentHandle(2)))])?;
        let requests = h.requests();
        assert_eq!(requests[2], "message 2 [last=noon, step=3] latest None");
        assert_eq!(requests[3], "message 2 [loss=0.5] latest None");
        Ok(())
    }
}

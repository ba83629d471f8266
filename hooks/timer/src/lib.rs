//! The Timer hook: logs the Monitor's timing statistics,
//! `wall=... end=... next=... step=... m_step=... load=... m_load=...`.

#[cfg(test)]
use xmen_hook::Value;
use xmen_hook::{Firing, Hook, HookError, HookResult, Needs, NewHook, Options, Outcome, Spec, Trigger};

/// Logs timings.
pub struct Timer;

impl Hook for Timer {
    fn call(&mut self, firing: &Firing<'_>) -> HookResult {
        let summary = firing.host().summary(true);
        let mut line = String::new();
        for (k, v) in &summary {
            if k == "last" || Trigger::ALL.iter().any(|t| t.brief() == k) {
                continue;
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(k);
            line.push('=');
            line.push_str(v);
        }
        firing.log(&line);
        Ok(Outcome::Continue)
    }

    fn needs(&self) -> Needs {
        Needs { timing: true }
    }
}

impl NewHook for Timer {
    const NAME: &'static str = "timer";
    const HELP: &'static str = "Log timing statistics: wall end next step m_step load m_load";

    const EXAMPLES: &'static [&'static str] = &["@1e", "@100s"];

    fn new(_spec: &Spec, options: &Options<'_>) -> Result<Timer, HookError> {
        options.expect_only(&[])?;
        Ok(Timer)
    }
}

xmen_hook::export_hooks!(Timer);

#[cfg(test)]
mod tests {
    use super::*;
    use xmen_hook::testing::Harness;
    use xmen_hook::Reply;

    #[test]
    fn the_timing_entries_of_the_summary_are_logged_without_last_and_levels() -> Result<(), HookError> {
        let mut h = Harness::<Timer>::new("@1e", &[])?;
        let summary = [("last", "noon"), ("s", "2/4"), ("e", "1/2"), ("wall", "0:00:01"), ("step", "0:00:00.1")];
        h.reply("summary", Reply::Summary(summary.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()));
        assert_eq!(h.fire_ok(&[])?, ["wall=0:00:01 step=0:00:00.1"]);
        assert_eq!(h.requests()[0], "summary true", "the timings are asked for");
        assert!(h.hook().needs().timing);
        let e = Harness::<Timer>::new("@1e", &[("x", Value::Int(1))]).err().map(|e| e.message);
        assert_eq!(e.as_deref(), Some("unknown option \"x\""));
        Ok(())
    }
}

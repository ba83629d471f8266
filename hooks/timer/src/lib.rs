//! The Timer hook (spec §5.9): logs the Monitor's timing statistics,
//! `wall=... end=... next=... step=... m_step=... load=... m_load=...`.

use xmen::{Firing, Hook, HookError, HookResult, Needs, NewHook, Options, Outcome, Spec, Trigger};

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

    fn examples() -> Vec<String> {
        vec!["@1e".into(), "@100s".into()]
    }

    fn new(_spec: &Spec, options: &Options<'_>) -> Result<Timer, HookError> {
        options.expect_only(&[])?;
        Ok(Timer)
    }
}

xmen::export_hooks!(Timer);

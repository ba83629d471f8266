#![allow(clippy::unwrap_used)]

use super::*;
use crate::hook::{Firing, Hook, HookResult, Outcome};
use crate::spec::Spec;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);
impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl Buf {
    fn lines(&self) -> Vec<String> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().map(mask).collect()
    }
}

/// Replace the `%I:%M%p %d/%m/%y` time with `TIME`.
fn mask(line: &str) -> String {
    let re = regex::Regex::new(r"\d\d:\d\d[AP]M \d\d/\d\d/\d\d").unwrap();
    re.replace_all(line, "TIME").into_owned()
}

/// Logs `name = value` for its variables, like the Logger hook, with a float format.
struct Echo;
impl Hook for Echo {
    fn call(&mut self, f: &Firing<'_>) -> HookResult {
        let parts: Vec<String> = f.vars().map(|(k, v)| format!("{k} = {v}")).collect();
        f.log(&parts.join(" "));
        Ok(Outcome::Continue)
    }
}

/// Records the counters it fired at.
struct Record(Arc<Mutex<Vec<[u64; 5]>>>);
impl Hook for Record {
    fn call(&mut self, f: &Firing<'_>) -> HookResult {
        self.0.lock().unwrap().push(f.counters());
        Ok(Outcome::Continue)
    }
}

fn slot(spec: &str, h: impl Hook + 'static) -> HookSlot {
    HookSlot::native("test", Spec::parse(spec).unwrap(), Box::new(h))
}

fn monitor(hooks: Vec<HookSlot>, limit: Option<&str>) -> (Monitor, Buf) {
    let buf = Buf::default();
    let m = Monitor::new(MonitorConfig {
        hooks,
        limit: limit.map(|l| crate::spec::parse_limit(l).unwrap()),
        output: Some(Output::Writer(Box::new(buf.clone()))),
        ..Default::default()
    });
    (m, buf)
}

#[test]
fn nested_loops_count_cumulatively_and_hooks_never_see_zero() {
    let fired = Arc::new(Mutex::new(Vec::new()));
    let (m, _) = monitor(vec![slot("@1s", Record(fired.clone())), slot("@1e", Record(fired.clone()))], None);
    for _ in m.iter(0..3) {
        for _ in m.iter(0..5) {}
    }
    assert_eq!((m.step(), m.epoch()), (15, 3));
    let fired = fired.lock().unwrap();
    assert_eq!(fired.len(), 18);
    assert!(fired.iter().all(|c| c[0] > 0));
    assert_eq!(fired[5], [5, 1, 0, 0, 0], "epoch 1 fires right after step 5");
}

/// The original's logger.py transcript, except that values are printed whole (`cat|dog`; the
/// original cut the last character of every line with variables).
#[test]
fn logger_transcript_matches_the_original_but_values_are_whole() {
    let (m, buf) = monitor(vec![slot("x@2s", Echo), slot("y@1e", Echo)], None);
    m.set("x", "cat|dog");
    let mut y = 0.0;
    for _ in m.iter(0..3) {
        for i in m.iter(0..5) {
            y += f64::from(i);
            m.set("y", y);
        }
    }
    assert_eq!(
        buf.lines(),
        [
            "[TIME 0/3 2/15]: x = cat|dog",
            "[TIME 0/3 4/15]: x = cat|dog",
            "[TIME 1/3]: y = 10.0",
            "[TIME 1/3 6/15]: x = cat|dog",
            "[TIME 1/3 8/15]: x = cat|dog",
            "[TIME 1/3 10/15]: x = cat|dog",
            "[TIME 2/3]: y = 20.0",
            "[TIME 2/3 12/15]: x = cat|dog",
            "[TIME 2/3 14/15]: x = cat|dog",
            "[TIME 3/3]: y = 30.0",
        ]
    );
}

#[test]
fn break_inside_nested_loop_pops_the_level() {
    let (m, buf) = monitor(vec![slot("i@1e", Echo)], None);
    for _ in m.iter(0..2) {
        for i in m.iter(0..5) {
            m.set("i", i);
            if i == 1 {
                break;
            }
        }
    }
    // A single loop afterwards is `step` again: nothing left behind.
    for _ in m.iter(0..1) {}
    assert_eq!(m.epoch(), 2);
    assert_eq!(m.summary(false).len(), 1, "no level stays active: {:?}", m.summary(false));
    assert_eq!(buf.lines(), ["[TIME 1/2]: i = 1", "[TIME 2/2]: i = 1"]);
}

#[test]
fn a_reentered_inner_loop_keeps_the_outer_levels() {
    let (m, _) = monitor(vec![], None);
    for _ in m.iter(0..2) {
        for _ in m.iter(0..3) {
            for _ in m.iter(0..4) {}
        }
    }
    assert_eq!(m.counters(), [24, 6, 2, 0, 0]);
}

#[test]
fn limit_stops_with_ge_and_enclosing_levels_finish_their_iteration() {
    let (m, buf) = monitor(vec![slot("s@1e", Echo)], Some("@7s"));
    let mut bodies = 0;
    for _ in m.iter(0..3) {
        for i in m.iter(0..5) {
            m.set("s", i);
            bodies += 1;
        }
    }
    assert_eq!(bodies, 7);
    assert_eq!(m.counters()[..2], [7, 2]);
    let lines = buf.lines();
    assert_eq!(lines[1], "[TIME 1/3 7/15]: ---- Limit reached for step 7 ----");
    assert_eq!(lines[2], "[TIME 2/3]: s = 1", "the epoch still completes and fires");
    // Any later loop yields nothing and says why.
    assert_eq!(m.iter(0..3).count(), 0);
    assert_eq!(buf.lines().last().unwrap(), "[TIME]: ---- Stop Criterion @ step=7, epoch=2 ----");
}

#[test]
fn a_resumed_run_past_the_limit_stops_at_once() {
    let (m, buf) = monitor(vec![], Some("@10s"));
    m.set_counters([12, 0, 0, 0, 0]);
    assert_eq!(m.iter(0..5).count(), 0, "a limit compares with >=, so a run resumed past it stops");
    assert!(buf.lines()[0].ends_with("---- Limit reached for step 10 ----"));
}

#[test]
fn unknown_lengths_never_crash_and_totals_need_every_outer_length() {
    let (m, _) = monitor(vec![], None);
    let mut s = Vec::new();
    for _ in m.iter((0..2).filter(|_| true)) {
        for _ in m.iter(0..3) {
            s = m.summary(true);
        }
    }
    let get = |k: &str| s.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
    assert_eq!(get("e").as_deref(), Some("1"));
    assert_eq!(get("s").as_deref(), Some("5"), "no /total below an unknown length");
    assert!(get("end").is_none());
    assert!(get("wall").is_some());
}

#[test]
fn iter_with_len_gives_totals_for_unsized_iterators() {
    let (m, buf) = monitor(vec![slot("@2s", Echo)], None);
    for _ in m.iter_with_len((0..4).filter(|_| true), 4) {}
    assert_eq!(buf.lines(), ["[TIME 2/4]:", "[TIME 4/4]:"]);
}

#[test]
fn summary_has_the_original_order_and_formats() {
    let m = Monitor::new(MonitorConfig {
        timing: true,
        output: Some(Output::Writer(Box::new(Buf::default()))),
        ..Default::default()
    });
    let mut keys = Vec::new();
    for _ in m.iter(0..2) {
        for _ in m.iter(0..3) {
            keys = m.summary(true).into_iter().map(|(k, _)| k).collect();
        }
    }
    assert_eq!(keys, ["last", "e", "s", "wall", "end", "next", "step", "m_step", "load", "m_load"]);
}

#[test]
fn variables_are_matched_once_per_hook_and_name() {
    let (m, _) = monitor(vec![slot("loss|acc@1s", Echo), slot("lr@1s", Echo), slot("@2s", Echo)], None);
    for i in m.iter(0..1000) {
        m.set("loss", 1.0 / f64::from(i + 1));
        m.set("acc", 0.5);
        m.set("lr", 0.1);
        m.set("other", i);
    }
    // 2 hooks with a regex x 4 distinct names, whatever the number of steps.
    assert_eq!(m.stats().regex_evals, 8);
    assert_eq!(m.stats().hook_calls, 2500);
}

#[test]
fn manual_inc_modulo_and_to_hooks() {
    let (m, buf) = monitor(vec![slot("val", Echo), slot("x@2e", Echo)], None);
    m.inc(Trigger::Epoch);
    assert!(!m.modulo(Trigger::Epoch, 2, false));
    m.set("x", 1);
    m.inc(Trigger::Epoch);
    assert!(m.modulo(Trigger::Epoch, 2, true));
    assert!(m.modulo(Trigger::Step, 3, false) && !m.modulo(Trigger::Step, 3, true));
    m.to_hooks(&[("val_loss", Value::Float(0.5)), ("train", Value::Int(1))]);
    assert_eq!(buf.lines(), ["[TIME]: x = 1", "[TIME]: val_loss = 0.5"]);
}

#[test]
fn a_panicking_hook_is_disabled_with_one_warning_and_others_keep_firing() {
    struct Boom(u32);
    impl Hook for Boom {
        fn call(&mut self, _: &Firing<'_>) -> HookResult {
            self.0 += 1;
            if self.0 == 3 {
                panic!("boom at call three");
            }
            Ok(Outcome::Continue)
        }
    }
    let fired = Arc::new(Mutex::new(Vec::new()));
    let (m, buf) = monitor(vec![slot("@1s", Boom(0)), slot("@1s", Record(fired.clone()))], None);
    for _ in m.iter(0..10) {}
    let warnings: Vec<String> = buf.lines().into_iter().filter(|l| l.contains("WARNING")).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("boom at call three") && warnings[0].contains("test (@1s)"));
    assert_eq!(fired.lock().unwrap().len(), 10);
    assert_eq!(m.hook_calls()[0].2, 3);
}

#[test]
fn a_hook_can_stop_the_run() {
    struct StopAt(u64);
    impl Hook for StopAt {
        fn call(&mut self, f: &Firing<'_>) -> HookResult {
            Ok(if f.step() >= self.0 { Outcome::Stop("---- enough ----".into()) } else { Outcome::Continue })
        }
    }
    let (m, buf) = monitor(vec![slot("@1s", StopAt(4))], None);
    assert_eq!(m.iter(0..100).count(), 4);
    assert_eq!(buf.lines(), ["[TIME 4/100]: ---- enough ----"]);
}

#[test]
fn log_formats_the_raw_value() {
    let (m, buf) = monitor(vec![], None);
    m.log_value(&Value::Float(std::f64::consts::PI), ".2f").unwrap();
    m.log("outside loop");
    assert_eq!(buf.lines(), ["[TIME]: 3.14", "[TIME]: outside loop"]);
}

/// Fails on every call with its call number.
struct Failing(u64);
impl Hook for Failing {
    fn call(&mut self, _: &Firing<'_>) -> HookResult {
        self.0 += 1;
        Err(crate::hook::HookError::new(format!("failure {}", self.0)).with_help("fix it"))
    }
}

/// Sleeps a fixed time per firing and per close.
struct Sleeper(std::time::Duration);
impl Hook for Sleeper {
    fn call(&mut self, _: &Firing<'_>) -> HookResult {
        std::thread::sleep(self.0);
        Ok(Outcome::Continue)
    }
    fn close(&mut self, _: &RunEnd, _: &dyn crate::hook::Host) -> HookResult {
        std::thread::sleep(self.0);
        Ok(Outcome::Continue)
    }
}

#[test]
fn a_failing_hook_is_reported_in_full_once_then_once_a_minute_with_a_count() {
    let (m, buf) = monitor(vec![slot("@1s", Failing(0))], None);
    for _ in m.iter(0..5) {}
    assert_eq!(
        buf.lines(),
        ["WARNING: hook test (@1s) failed: failure 1; fix it (on_error: warn; further failures: at most one line a minute)"]
    );
    // A minute later, the next failure reports how many were not shown.
    m.hooks.borrow_mut()[0].errors.last = std::time::Instant::now().checked_sub(slot::ERROR_REPORT_PERIOD);
    for _ in m.iter(0..1) {}
    assert_eq!(
        buf.lines()[1],
        "WARNING: hook test (@1s) failed 5 more time(s) since the last report; latest: failure 6; fix it"
    );
    for _ in m.iter(0..3) {}
    assert_eq!(buf.lines().len(), 2, "quiet again for a minute");
    assert_eq!(m.hook_calls()[0].2, 9, "warn keeps calling the hook");
}

#[test]
fn on_error_disable_and_stop_disable_the_hook_and_stop_ends_the_loops() {
    let (m, buf) = monitor(vec![slot("@1s", Failing(0)).with_on_error(OnError::Disable)], None);
    assert_eq!(m.iter(0..5).count(), 5);
    assert_eq!(
        buf.lines(),
        ["WARNING: hook test (@1s) failed and is disabled for the rest of the run (on_error: disable): failure 1; fix it"]
    );
    assert_eq!(m.hook_calls()[0].2, 1);

    let (m, buf) = monitor(vec![slot("@2s", Failing(0)).with_on_error(OnError::Stop)], None);
    assert_eq!(m.iter(0..100).count(), 2);
    assert_eq!(
        buf.lines(),
        [
            "WARNING: hook test (@2s) failed and is disabled for the rest of the run (on_error: stop): failure 1; fix it",
            "[TIME 2/100]: ---- hook test failed: stopping (on_error: stop) ----"
        ]
    );
    for (text, want) in [("warn", Ok(OnError::Warn)), ("disable", Ok(OnError::Disable)), ("stop", Ok(OnError::Stop))] {
        assert_eq!(text.parse::<OnError>(), want);
    }
    assert_eq!("halt".parse::<OnError>(), Err("on_error `halt` is not a policy; use warn, disable or stop".into()));
}

#[test]
fn each_hook_is_charged_its_own_firings_and_steps_without_firings_count_nothing() {
    use std::time::Duration;
    let ms = Duration::from_millis;
    let (m, _) = monitor(
        vec![
            HookSlot::native("slow", Spec::parse("@5s").unwrap(), Box::new(Sleeper(ms(4)))),
            HookSlot::native("fast", Spec::parse("@5s").unwrap(), Box::new(Sleeper(ms(1)))),
            HookSlot::native("never", Spec::parse("@1000s").unwrap(), Box::new(Sleeper(ms(50)))),
            HookSlot::native("manual", Spec::parse("x").unwrap(), Box::new(Sleeper(ms(2)))),
        ],
        None,
    );
    for _ in m.iter(0..20) {}
    m.to_hooks(&[("x", Value::Int(1))]);
    m.close();
    let cost = m.hooks_cost();
    let names: Vec<(&str, &str, u64)> = cost.iter().map(|c| (c.hook.as_str(), c.spec.as_str(), c.firings)).collect();
    assert_eq!(names, [("slow", "@5s", 4), ("fast", "@5s", 4), ("never", "@1000s", 0), ("manual", "x", 1)]);
    let (slow, fast, never, manual) = (&cost[0], &cost[1], &cost[2], &cost[3]);
    // each firing's boundaries bracket exactly its own sleep (plus scheduling noise)
    assert!(slow.total >= ms(16) && slow.total < ms(16 + 40), "{slow:?}");
    assert!(fast.total >= ms(4) && fast.total < ms(4 + 40), "{fast:?}");
    assert!(slow.p50 >= ms(3) && slow.p50 <= slow.max && slow.p99 <= slow.max && slow.max >= ms(4), "{slow:?}");
    // medians, not the maximum: one 1 ms sleep can take several ms on a loaded machine
    assert!(fast.p50 < slow.p50, "{fast:?} {slow:?}");
    assert_eq!(
        (never.total, never.max, never.p50, never.p99),
        (Duration::ZERO, Duration::ZERO, Duration::ZERO, Duration::ZERO)
    );
    assert!(manual.total >= ms(2), "{manual:?}");
    // close is measured apart from the firings
    assert!(slow.close >= ms(4) && never.close >= ms(50), "{slow:?} {never:?}");
    assert!(m.age() >= slow.total + fast.total);
}

#[test]
fn close_tells_hooks_how_the_run_ended() {
    let end = |status, reason: Option<&str>| RunEnd { status, reason: reason.map(str::to_owned) };
    let interrupt = |s, r: &str| Some((s, r.to_owned()));
    let table = [
        (run_end(false, None, None), end(RunStatus::Finished, None)),
        (run_end(false, None, Some("plateau".into())), end(RunStatus::Finished, Some("plateau"))),
        (run_end(true, interrupt(RunStatus::Stopped, "SIGINT"), None), end(RunStatus::Error, Some("the run panicked"))),
        (run_end(false, interrupt(RunStatus::Stopped, "SIGTERM"), None), end(RunStatus::Stopped, Some("SIGTERM"))),
        (
            run_end(false, interrupt(RunStatus::Timeout, "SIGUSR1 (timeout)"), Some("x".into())),
            end(RunStatus::Timeout, Some("SIGUSR1 (timeout)")),
        ),
        (run_end(false, interrupt(RunStatus::Requeue, ""), None), end(RunStatus::Requeue, None)),
    ];
    for (got, want) in table {
        assert_eq!(got, want);
    }
}

/// Records the end its `close` learned.
struct Ends(Arc<Mutex<Vec<RunEnd>>>);

impl Hook for Ends {
    fn call(&mut self, _: &Firing<'_>) -> HookResult {
        Ok(Outcome::Stop("enough".into()))
    }
    fn close(&mut self, end: &RunEnd, _: &dyn Host) -> HookResult {
        self.0.lock().unwrap().push(end.clone());
        Ok(Outcome::Continue)
    }
}

#[test]
fn a_hook_that_stops_the_loops_is_the_reason_close_gives() {
    let ends = Arc::new(Mutex::new(Vec::new()));
    let m = Monitor::new(MonitorConfig {
        hooks: vec![HookSlot::native("ends", Spec::parse("@2s").unwrap(), Box::new(Ends(Arc::clone(&ends))))],
        output: Some(Output::Writer(Box::new(std::io::sink()))),
        ..MonitorConfig::default()
    });
    for _ in m.iter(0..10) {}
    drop(m);
    assert_eq!(*ends.lock().unwrap(), [RunEnd { status: RunStatus::Finished, reason: Some("enough".into()) }]);
}

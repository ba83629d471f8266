//! The probe on this machine (no GPU, no SLURM): what exists is recorded with real
//! values, the rest is left out, and the log line has the spec's format.
#![allow(clippy::unwrap_used, missing_docs)]

use std::cell::RefCell;
use std::rc::Rc;
use xmen::{Capture, ExperimentHandle, Keep, Monitor, Spec, Value, ValueRef};
use xmen_core::monitor::Experiments;
use xmen_hook_probe::{Probe, DEFAULT_GROUPS};

#[derive(Clone, Default)]
struct Metas(Rc<RefCell<Vec<Value>>>);

impl Experiments for Metas {
    fn message(&self, _: ExperimentHandle, _: &[(&str, ValueRef<'_>)], _: Keep, _: Option<&str>) -> Result<(), String> {
        Ok(())
    }
    fn info(&self, _: ExperimentHandle) -> Option<(String, String)> {
        Some(("ex".into(), "/tmp/ex".into()))
    }
    fn update_meta(&self, _: ExperimentHandle, meta: ValueRef<'_>) -> Result<(), String> {
        self.0.borrow_mut().push(meta.to_value());
        Ok(())
    }
    // The snapshot itself comes from the SDK's host service, as in a run.
    fn system_meta(&self, groups: &[&str]) -> Option<Result<Value, String>> {
        xmen::LiveRoots.system_meta(groups)
    }
}

fn meminfo_total_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap();
    let line = text.lines().find(|l| l.starts_with("MemTotal:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

fn nproc() -> usize {
    let out = std::process::Command::new("nproc").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().parse().unwrap()
}

#[test]
fn probe_records_real_values_and_logs_the_spec_line() {
    let metas = Metas::default();
    let out = Capture::new();
    let probe = Probe::new(&DEFAULT_GROUPS).unwrap();
    let m = Monitor::builder().hook_at("ex@5s", probe).experiments(metas.clone()).output(out.clone()).build().unwrap();
    m.set("ex", ExperimentHandle(0));
    for _ in m.iter(0..10) {
        std::thread::sleep(std::time::Duration::from_millis(60));
    }
    let snaps = metas.0.borrow();
    assert_eq!(snaps.len(), 2);
    let snap = &snaps[1];
    let total = snap.get("virtual").and_then(|v| v.get("total")).and_then(Value::as_str).unwrap();
    assert_eq!(total, xmen::pyfmt::human_bytes(meminfo_total_bytes()), "MemTotal of /proc/meminfo");
    assert_eq!(snap.get("cpu").and_then(|c| c.get("total")), Some(&Value::Int(nproc() as i64)));
    let usage = snap.get("cpu").and_then(|c| c.get("usage")).unwrap();
    assert!(matches!(usage, Value::Map(m) if m.len() == nproc()));
    if std::env::var_os("SLURM_JOB_ID").is_none() {
        assert!(snap.get("slurm").is_none(), "no SLURM job: no slurm group");
    }
    assert!(snap.get("environ").is_none(), "the environment only on request");
    let text = out.text();
    let re = regex::Regex::new(r"^\[\d\d:\d\d[AP]M \d\d/\d\d/\d\d \d+/10\]: cpu=\d+(\.\d+)?%(   .*   )?$").unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for l in lines {
        assert!(re.is_match(l), "{l:?}");
    }
}

#[test]
fn the_line_lists_gpus_in_the_original_format() {
    let snap: Value = [
        (
            "cpu",
            Value::Map(vec![(
                "usage".into(),
                Value::Map(vec![("0".into(), "3.0%".into()), ("1".into(), "4.0%".into())]),
            )]),
        ),
        (
            "gpu",
            Value::Map(vec![(
                "0".into(),
                Value::Map(vec![
                    ("name".into(), "TITAN X (Pascal)".into()),
                    ("stats".into(), "85°C, 88%, 2116/12288MB".into()),
                ]),
            )]),
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(xmen_hook_probe::line(&snap), "cpu=3.5%   0 = TITAN X (Pascal) 88% 2116MB 85°C   ");
}

#[test]
fn unknown_groups_are_refused_with_the_list_of_known_ones() {
    let e = Probe::new(&["cpu", "gpus"]).err().unwrap();
    assert!(e.to_string().contains("\"gpus\"") && e.to_string().contains("network"), "{e}");
    let _ = Spec::parse("ex@1s").unwrap();
}

/// The mean of a snapshot's per-core usage, in percent.
fn mean_usage(snap: &Value) -> f64 {
    let Some(Value::Map(usage)) = snap.get("cpu").and_then(|c| c.get("usage")) else {
        panic!("no cpu.usage: {snap:?}")
    };
    let vals: Vec<f64> =
        usage.iter().filter_map(|(_, v)| v.as_str().and_then(|s| s.trim_end_matches('%').parse().ok())).collect();
    assert_eq!(vals.len(), usage.len(), "every core has a percentage: {usage:?}");
    vals.iter().sum::<f64>() / vals.len() as f64
}

#[test]
fn r13_cpu_usage_is_measured_since_the_previous_firing() {
    // A training loop that keeps one core busy: the loop itself spins between firings.
    let metas = Metas::default();
    let out = Capture::new();
    let probe = Probe::new(&["cpu"]).unwrap();
    let m = Monitor::builder().hook_at("ex@1s", probe).experiments(metas.clone()).output(out.clone()).build().unwrap();
    m.set("ex", ExperimentHandle(0));
    for _ in m.iter(0..3) {
        let until = std::time::Instant::now() + std::time::Duration::from_millis(400);
        let mut x = 0u64;
        while std::time::Instant::now() < until {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
    }
    let snaps = metas.0.borrow();
    assert_eq!(snaps.len(), 3, "one snapshot per firing");
    let floor = 100.0 / nproc() as f64 * 0.5;
    for (i, snap) in snaps.iter().enumerate() {
        let mean = mean_usage(snap);
        assert!(mean >= floor, "firing {i}: mean cpu {mean:.1}% < {floor:.1}% with one core busy: {snap:?}");
        let recorded = snap.get("cpu").and_then(|c| c.get("mean")).and_then(Value::as_str).unwrap_or_default();
        assert!(recorded.ends_with('%'), "the mean is recorded too: {snap:?}");
    }
    for l in out.text().lines() {
        let pct: f64 = l.split("cpu=").nth(1).and_then(|r| r.split('%').next()).and_then(|v| v.parse().ok()).unwrap();
        assert!(pct >= floor, "{l}");
    }
}

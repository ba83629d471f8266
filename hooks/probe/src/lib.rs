//! The Probe hook: for each matched experiment, refresh its `_meta`
//! with a system snapshot and log `cpu={mean usage}%   {gpu} = {name} {load}% {used}MB {temp}°C   ...`.
//!
//! The snapshot comes from the host ([`xmen_hook::Request::SystemMeta`]), which owns the one
//! meta collector (the same that fills `_meta` at registration and run start), so every place
//! reports the same fields and this library links nothing but `xmen-hook`. It fixes the
//! original's crash: CPU usage is measured between firings (see [`cpu`]: since the previous
//! firing, or since the Monitor started), per core and as a mean, and the GPU fields are the
//! ones the collector stores.

pub mod cpu;

use xmen_hook::pyfmt;
use xmen_hook::{
    Firing, Hook, HookError, HookResult, Host, NewHook, OptionDecl, Options, Outcome, Spec, Value, ValueRef,
};

/// The groups a probe collects unless told otherwise.
pub const DEFAULT_GROUPS: [&str; 7] = ["cpu", "memory", "disks", "network", "gpu", "slurm", "system"];

/// Every group the host's collector knows.
pub const GROUPS: [&str; 10] =
    ["system", "cpu", "memory", "virtual", "swap", "disks", "network", "gpu", "slurm", "environ"];

/// Records resource use.
pub struct Probe {
    groups: Vec<String>,
    cpu: cpu::CpuUsage,
}

impl Probe {
    /// A probe collecting `groups` (of [`GROUPS`]: `system cpu memory disks network gpu slurm
    /// environ`).
    pub fn new(groups: &[&str]) -> Result<Probe, HookError> {
        if let Some(other) = groups.iter().find(|g| !GROUPS.contains(g)) {
            return Err(HookError::new(format!("option \"groups\": unknown group {other:?}"))
                .with_help("use any of system, cpu, memory, disks, network, gpu, slurm, environ"));
        }
        Ok(Probe { groups: groups.iter().map(|g| (*g).to_owned()).collect(), cpu: cpu::CpuUsage::start() })
    }

    /// One snapshot from `host`: the selected groups, with this probe's CPU usage since its
    /// previous firing.
    pub fn snapshot(&mut self, host: &dyn Host) -> Result<Value, HookError> {
        let groups: Vec<&str> = self.groups.iter().map(String::as_str).collect();
        let mut snap =
            host.system_meta(&groups).map_err(|e| HookError::new(format!("could not take a system snapshot: {e}")))?;
        self.put_cpu_usage(&mut snap);
        Ok(snap)
    }

    /// `cpu.usage` (per core) and `cpu.mean` since the previous firing; `?` when the window
    /// was too short to measure anything yet.
    fn put_cpu_usage(&mut self, snap: &mut Value) {
        let Value::Map(m) = snap else { return };
        let (usage, mean) = match self.cpu.sample() {
            Some(u) => (
                Some(Value::Map(
                    u.iter().enumerate().map(|(i, v)| (i.to_string(), Value::from(cpu::percent(*v)))).collect(),
                )),
                cpu::percent(cpu::mean(&u)),
            ),
            None => (None, "?".to_owned()),
        };
        let group = match m.iter_mut().find(|(k, _)| k == "cpu") {
            Some((_, Value::Map(g))) => g,
            _ => {
                m.push(("cpu".into(), Value::Map(Vec::new())));
                match m.last_mut() {
                    Some((_, Value::Map(g))) => g,
                    _ => return,
                }
            }
        };
        group.retain(|(k, _)| k != "usage" && k != "mean");
        if let Some(u) = usage {
            group.push(("usage".into(), u));
        }
        group.push(("mean".into(), Value::from(mean)));
    }
}

/// The log line (`cpu=...%   gpu0 = ...`) from a snapshot.
pub fn line(snap: &Value) -> String {
    let mut out = String::new();
    if let Some(mean) = snap.get("cpu").and_then(|c| c.get("mean")).and_then(Value::as_str) {
        let shown = mean.trim_end_matches('%').parse::<f64>().map_or_else(|_| "?".to_owned(), pyfmt::float_repr);
        out.push_str(&format!("cpu={shown}%"));
    } else if let Some(Value::Map(usage)) = snap.get("cpu").and_then(|c| c.get("usage")) {
        let vals: Vec<f64> =
            usage.iter().filter_map(|(_, v)| v.as_str().and_then(|s| s.trim_end_matches('%').parse().ok())).collect();
        if !vals.is_empty() {
            let mean = (vals.iter().sum::<f64>() / vals.len() as f64 * 10.0).round() / 10.0;
            out.push_str(&format!("cpu={}%", pyfmt::float_repr(mean)));
        }
    }
    if let Some(Value::Map(gpus)) = snap.get("gpu") {
        out.push_str("   ");
        let parts: Vec<String> = gpus
            .iter()
            .map(|(idx, g)| {
                let name = g.get("name").and_then(Value::as_str).unwrap_or("?");
                // stats: "{temp}°C, {load}%, {used}/{total}MB"
                let stats = g.get("stats").and_then(Value::as_str).unwrap_or("");
                let mut it = stats.split(", ");
                let temp = it.next().unwrap_or("?°C");
                let load = it.next().unwrap_or("?%");
                let used = it.next().and_then(|m| m.split('/').next()).unwrap_or("?");
                format!("{idx} = {name} {load} {used}MB {temp}")
            })
            .collect();
        out.push_str(&parts.join("   "));
        out.push_str("   ");
    }
    out
}

impl Hook for Probe {
    fn call(&mut self, f: &Firing<'_>) -> HookResult {
        let targets: Vec<_> = f.vars().filter_map(|(_, v)| v.as_experiment()).collect();
        if targets.is_empty() {
            return Ok(Outcome::Continue);
        }
        let snap = self.snapshot(f.host())?;
        for h in targets {
            f.host()
                .update_meta(h, ValueRef::from(&snap))
                .map_err(|e| HookError::new(format!("could not record the snapshot: {e}")))?;
            f.log(&line(&snap));
        }
        Ok(Outcome::Continue)
    }
}

impl NewHook for Probe {
    const NAME: &'static str = "probe";
    const HELP: &'static str = "Record cpu, memory, disk, network, gpu and slurm use in matched experiments' _meta";

    const OPTIONS: &'static [OptionDecl] =
        &[OptionDecl::new("groups", "list", "groups to collect: system cpu memory disks network gpu slurm environ")
            .default("[cpu, memory, disks, network, gpu, slurm, system]")];

    const EXAMPLES: &'static [&'static str] = &["ex@100s"];

    fn new(_spec: &Spec, o: &Options<'_>) -> Result<Probe, HookError> {
        o.expect_only(&["groups"])?;
        match o.get("groups") {
            None | Some(ValueRef::None) => Probe::new(&DEFAULT_GROUPS),
            Some(ValueRef::List(l)) => {
                let names: Vec<&str> = l.iter().filter_map(|v| v.as_str()).collect();
                if names.len() != l.len() {
                    return Err(HookError::new("option \"groups\" must be a list of group names"));
                }
                Probe::new(&names)
            }
            Some(other) => Err(HookError::new(format!("option \"groups\" must be a list, not a {}", other.kind()))),
        }
    }
}

xmen_hook::export_hooks!(Probe);

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use xmen_hook::testing::Harness;
    use xmen_hook::{ExperimentHandle, Reply};

    fn snapshot() -> Value {
        let cpu = Value::Map(vec![("total".into(), Value::Int(2))]);
        let gpu = Value::Map(vec![(
            "0".into(),
            Value::Map(vec![("name".into(), "T4".into()), ("stats".into(), "40°C, 7%, 100/15000MB".into())]),
        )]);
        Value::Map(vec![("cpu".into(), cpu), ("gpu".into(), gpu)])
    }

    #[test]
    fn a_firing_asks_the_host_for_a_snapshot_and_records_it_in_each_experiment() {
        let mut h =
            Harness::<Probe>::new("ex|other@1s", &[("groups", Value::List(vec!["cpu".into(), "gpu".into()]))]).unwrap();
        h.reply("system_meta", Reply::Value(snapshot()));
        let vars = [("ex", Value::Experiment(ExperimentHandle(3))), ("other", Value::Experiment(ExperimentHandle(4)))];
        h.fire(&vars).unwrap();
        let requests = h.requests();
        assert_eq!(requests[0], "system_meta [\"cpu\", \"gpu\"]", "{requests:?}");
        let metas: Vec<&String> = requests.iter().filter(|r| r.starts_with("update_meta")).collect();
        assert_eq!(metas.len(), 2, "{requests:?}");
        assert!(metas[0].starts_with("update_meta 3 {'cpu': {'total': 2, ") && metas[1].starts_with("update_meta 4 "));
        assert!(metas[0].contains("'mean': "), "this probe's own cpu mean: {}", metas[0]);
        let logged = h.logged();
        assert_eq!(logged.len(), 2, "{logged:?}");
        assert!(logged[0].starts_with("cpu=") && logged[0].ends_with("0 = T4 7% 100MB 40°C   "), "{logged:?}");
    }

    #[test]
    fn nothing_is_asked_without_an_experiment_and_a_host_without_the_service_is_an_error() {
        let mut h = Harness::<Probe>::new("ex@1s", &[]).unwrap();
        h.fire(&[("ex", Value::Float(1.0))]).unwrap();
        assert!(h.requests().is_empty(), "{:?}", h.requests());
        h.reply("system_meta", Reply::Unsupported);
        let e = h.fire(&[("ex", Value::Experiment(ExperimentHandle(1)))]).unwrap_err();
        assert!(e.message.contains("could not take a system snapshot") && e.message.contains("system_meta"), "{e}");
    }

    #[test]
    fn unknown_groups_are_refused_when_the_hook_is_built() {
        let e = Harness::<Probe>::new("ex@1s", &[("groups", Value::List(vec!["cpus".into()]))]).err().unwrap();
        assert!(e.message.contains("unknown group \"cpus\""), "{e}");
    }
}

//! The Probe hook (spec §5.10-§5.11): for each matched experiment, refresh its `_meta`
//! with a system snapshot and log `cpu={mean usage}%   {gpu} = {name} {load}% {used}MB {temp}°C   ...`.
//!
//! The snapshot comes from the record crate's one meta collector (the same that fills
//! `_meta` at registration and run start), so every place reports the same fields. It
//! fixes the original's crash (B42): CPU usage is measured between firings (see [`cpu`]: since
//! the previous firing, or since the Monitor started), per core and as a mean, and the GPU
//! fields are the ones the collector stores.

pub mod cpu;

use xmen_hook::pyfmt;
use xmen_hook::{Firing, Hook, HookError, HookResult, NewHook, OptionDecl, Options, Outcome, Spec, Value, ValueRef};
use xmen_record::meta::{self, MetaOpts};

/// The groups a probe collects unless told otherwise.
pub const DEFAULT_GROUPS: [&str; 7] = ["cpu", "memory", "disks", "network", "gpu", "slurm", "system"];

/// Records resource use.
pub struct Probe {
    opts: MetaOpts,
    live: meta::Probe,
    cpu: cpu::CpuUsage,
}

impl Probe {
    /// A probe collecting `groups` (names of [`MetaOpts`] fields: `system cpu memory disks
    /// network gpu slurm environ`).
    pub fn new(groups: &[&str]) -> Result<Probe, HookError> {
        let mut opts = MetaOpts::default();
        for g in groups {
            match *g {
                "system" => opts.system = true,
                "cpu" => opts.cpu = true,
                "memory" | "virtual" | "swap" => opts.memory = true,
                "disks" => opts.disks = true,
                "network" => opts.network = true,
                "gpu" => opts.gpu = true,
                "slurm" => opts.slurm = true,
                "environ" => opts.environ = true,
                other => {
                    return Err(HookError::new(format!("option \"groups\": unknown group {other:?}"))
                        .with_help("use any of system, cpu, memory, disks, network, gpu, slurm, environ"))
                }
            }
        }
        Ok(Probe { opts, live: meta::Probe::new(), cpu: cpu::CpuUsage::start() })
    }

    /// One snapshot: the selected groups, with live CPU usage and GPU load merged in.
    pub fn snapshot(&mut self) -> Value {
        let mut snap = meta::full(self.opts);
        let live = self.live.sample();
        if let (Value::Map(m), Value::Map(live)) = (&mut snap, live) {
            for (k, v) in live {
                match (m.iter_mut().find(|(mk, _)| *mk == k), v) {
                    (Some((_, Value::Map(existing))), Value::Map(extra)) => {
                        for (ek, ev) in extra {
                            match existing.iter_mut().find(|(x, _)| *x == ek) {
                                Some((_, slot)) => *slot = ev,
                                None => existing.push((ek, ev)),
                            }
                        }
                    }
                    (Some((_, slot)), v) => *slot = v,
                    (None, v) => m.push((k, v)),
                }
            }
        }
        self.put_cpu_usage(&mut snap);
        snap
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

/// The log line of spec §5.10 from a snapshot.
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
        let snap = self.snapshot();
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

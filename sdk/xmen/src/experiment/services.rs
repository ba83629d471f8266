//! Host services that read what only the record crate knows, for hooks that link nothing but
//! `xmen-hook`: a run's parameters (TensorBoard's HParams) and a system snapshot as `_meta`
//! records it (the Probe hook). Both `Experiments` of this SDK answer them.

use std::sync::Mutex;

use xmen_core::Value;
use xmen_record::meta::{self, MetaOpts};
use xmen_record::{Record, RecordError};

/// The parameters of `{directory}/params.yml` as a map (legacy layouts included);
/// `Value::None` when there is no such file.
pub(crate) fn run_params(directory: &str) -> Result<Value, String> {
    let path = std::path::Path::new(directory).join("params.yml");
    match Record::load(&path) {
        Ok(rec) => Ok(Value::Map(rec.params.into_iter().map(|p| (p.name, p.value)).collect())),
        Err(RecordError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(Value::None),
        Err(e) => Err(e.to_string()),
    }
}

/// The collector options of group names (`system cpu memory disks network gpu slurm environ`).
fn meta_opts(groups: &[&str]) -> Result<MetaOpts, String> {
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
                return Err(format!(
                    "unknown group {other:?}; use any of system, cpu, memory, disks, network, gpu, slurm, environ"
                ))
            }
        }
    }
    Ok(opts)
}

/// One snapshot of `groups`, with the live readings (CPU usage since the previous snapshot of
/// this process, GPU load) merged in.
pub(crate) fn system_meta(groups: &[&str]) -> Result<Value, String> {
    static LIVE: Mutex<Option<meta::Probe>> = Mutex::new(None);
    let mut snap = meta::full(meta_opts(groups)?);
    let live =
        LIVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_or_insert_with(meta::Probe::new).sample();
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
    Ok(snap)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn run_params_read_a_record_and_say_none_without_one() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        assert_eq!(run_params(&d), Ok(Value::None));
        std::fs::write(dir.path().join("params.yml"), "_status: running\nlr: 0.1\nopt: adam\n").unwrap();
        assert_eq!(
            run_params(&d),
            Ok(Value::Map(vec![("lr".into(), Value::Float(0.1)), ("opt".into(), Value::Str("adam".into()))]))
        );
        // Special keys are not parameters; values keep their types and the file's order.
        std::fs::write(
            dir.path().join("params.yml"),
            "_root: /x  # The root\n_meta:\n  host: h\na: Hello # a: str='Hello'\nlr: 0.001\nn: 3\nflag: true\n",
        )
        .unwrap();
        let Ok(Value::Map(p)) = run_params(&d) else { panic!("no map") };
        let names: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["a", "lr", "n", "flag"], "file order");
        assert_eq!((&p[1].1, &p[2].1), (&Value::Float(0.001), &Value::Int(3)));
        std::fs::write(dir.path().join("params.yml"), "lr: [\n").unwrap();
        assert!(run_params(&d).is_err_and(|e| e.contains("params.yml")));
    }

    #[test]
    fn a_system_snapshot_has_the_groups_asked_for() {
        let snap = system_meta(&["cpu", "memory"]).unwrap();
        assert!(snap.get("cpu").is_some() && snap.get("virtual").is_some(), "{snap:?}");
        assert!(snap.get("disks").is_none(), "{snap:?}");
        assert!(system_meta(&["cpus"]).is_err_and(|e| e.contains("unknown group \"cpus\"")));
    }
}

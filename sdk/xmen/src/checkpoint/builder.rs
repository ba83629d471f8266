//! The builder's checkpoint arguments (the TorchMonitor's `ckpt=`, `ckpt_keep=`, plus
//! `top_k`, `keep_every`, the named objects and resuming).

use std::path::{Path, PathBuf};

use xmen_core::spec::Spec;
use xmen_core::value::Value;
use xmen_loader::{hook_name, HookConfig};

use super::load::{load, Loaded};
use super::monitor::CHECKPOINTS;
use super::resume::is_resuming;
use crate::builder::{broadcast, check_spec, BuildError};
use crate::{Monitor, MonitorBuilder};

/// The name of the Checkpointer hook library.
pub(crate) const HOOK: &str = "checkpointer";

/// `ckpt_top_k`: how many, by which variable, `min` or `max`.
#[derive(Clone, Debug)]
struct TopK {
    k: usize,
    monitor: String,
    mode: String,
}

/// The checkpoint arguments collected by the builder.
#[derive(Default)]
pub(crate) struct CkptArgs {
    specs: Vec<String>,
    keep: Vec<Option<usize>>,
    top_k: Vec<Option<TopK>>,
    every: Vec<Option<u64>>,
    expand: Vec<bool>,
    dirs: Vec<PathBuf>,
    states: Vec<(String, Value)>,
    resume: Option<bool>,
}

impl MonitorBuilder {
    /// Checkpoint the variables matching a spec (`^model$@5s`) with the Checkpointer hook: each
    /// to `{directory}/checkpoints/{var}/{step}.safetensors`. Fires after the hooks given with
    /// `.hook()` and before the TensorBoard kinds.
    pub fn ckpt(mut self, spec: &str) -> Self {
        self.ckpt.specs.push(spec.into());
        self
    }
    /// Keep the newest N checkpoints of each variable (`None`: all): once for all `ckpt`
    /// specs or once per spec (the original's `ckpt_keep=[5, 1, None]`).
    pub fn ckpt_keep(mut self, keep: impl Into<Option<usize>>) -> Self {
        self.ckpt.keep.push(keep.into());
        self
    }
    /// Keep the `k` best checkpoints of each variable ranked by the variable `monitor`
    /// (`mode` `min` or `max`, like Lightning's `save_top_k`), besides the newest: once or
    /// once per spec. The builder adds `monitor` to the spec's regex so the hook sees it.
    pub fn ckpt_top_k(mut self, k: usize, monitor: &str, mode: &str) -> Self {
        self.ckpt.top_k.push(Some(TopK { k, monitor: monitor.into(), mode: mode.into() }));
        self
    }
    /// Never delete a checkpoint whose step is a multiple of `n` (orbax's `keep_period`),
    /// whatever `ckpt_keep` and `ckpt_top_k` say: once or once per spec.
    pub fn ckpt_every(mut self, n: u64) -> Self {
        self.ckpt.every.push(Some(n));
        self
    }
    /// Whether map variables are saved as one checkpoint per entry, `{var}_{key}` (true, the
    /// default): once or once per spec.
    pub fn ckpt_expand(mut self, expand: bool) -> Self {
        self.ckpt.expand.push(expand);
        self
    }
    /// Save to `{dir}/{var}` instead of `{directory}/checkpoints/{var}` (the original's
    /// `save_dir`): once or once per spec. The first one is also where a resumed run loads from.
    pub fn ckpt_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.ckpt.dirs.push(dir.into());
        self
    }
    /// Name a checkpointable object (a [`Tracked`](super::Tracked) as a [`Value`]): it is set as
    /// a Monitor variable, and a resumed run restores it from its newest checkpoint when the
    /// Monitor is built (see [the resume contract](crate::checkpoint#resuming-a-run)).
    pub fn state(mut self, name: &str, object: impl Into<Value>) -> Self {
        self.ckpt.states.push((name.into(), object.into()));
        self
    }
    /// Force resuming on or off. By default a Monitor resumes when its directory lies in the
    /// folder of a run the experiment runner started again (status `timeout`, `requeue`,
    /// `stopped`, or `--restart`).
    pub fn resume(mut self, resume: bool) -> Self {
        self.ckpt.resume = Some(resume);
        self
    }
}

/// Escape `name` for use in a regex.
fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `regex@10s` -> `(?:regex)|monitor$@10s`, so the hook also receives the ranked variable.
fn with_monitor(spec: &str, monitor: &str) -> Result<String, BuildError> {
    let parsed = Spec::parse(spec).map_err(|error| BuildError::Spec { argument: "ckpt", error })?;
    let text = parsed.to_string();
    let (regex, schedule) = text.split_once('@').unwrap_or((text.as_str(), ""));
    let m = escape(monitor);
    Ok(if regex.is_empty() { format!("{m}$@{schedule}") } else { format!("(?:{regex})|{m}$@{schedule}") })
}

/// What the checkpoint arguments add to a Monitor.
pub(crate) struct CkptPlan {
    /// The Checkpointer hooks, in `ckpt` order.
    pub(crate) configs: Vec<HookConfig>,
    states: Vec<(String, Value)>,
    resumed: Option<(PathBuf, Loaded)>,
    no_directory: bool,
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

impl CkptArgs {
    /// Resume (when asked to) and plan the hooks.
    pub(crate) fn plan(&self, directory: Option<&Path>) -> Result<CkptPlan, BuildError> {
        let keep = broadcast("ckpt_keep", &self.keep, &self.specs)?;
        let top_k = broadcast("ckpt_top_k", &self.top_k, &self.specs)?;
        let every = broadcast("ckpt_every", &self.every, &self.specs)?;
        let expand = broadcast("ckpt_expand", &self.expand, &self.specs)?;
        let dirs = broadcast("ckpt_dir", &self.dirs, &self.specs)?;
        let load_dir = self.dirs.first().cloned().or_else(|| directory.map(|d| d.join(CHECKPOINTS)));
        let resume = self.resume.unwrap_or_else(|| directory.is_some_and(is_resuming));
        let mut no_directory = false;
        let resumed = match (resume && !self.states.is_empty(), load_dir) {
            (false, _) => None,
            (true, None) => {
                no_directory = true;
                None
            }
            (true, Some(dir)) => {
                let loaded = load(&dir, None, true, self.states.iter().map(|(k, v)| (k.as_str(), v.clone())))
                    .map_err(BuildError::Checkpoint)?;
                Some((dir, loaded))
            }
        };
        let protect: Vec<Value> = resumed
            .iter()
            .flat_map(|(_, l)| l.objects.iter().map(|o| Value::from(absolute(&o.path).to_string_lossy().into_owned())))
            .collect();
        let mut configs = Vec::new();
        for (i, spec) in self.specs.iter().enumerate() {
            check_spec("ckpt", spec)?;
            let spec = match top_k.get(i) {
                Some(Some(t)) => with_monitor(spec, &t.monitor)?,
                _ => spec.clone(),
            };
            let mut cfg = HookConfig::new(HOOK, &spec);
            if let Some(d) = directory {
                cfg = cfg.option("directory", absolute(d).to_string_lossy().into_owned());
            }
            if let Some(d) = dirs.get(i) {
                cfg = cfg.option("save_dir", absolute(d).to_string_lossy().into_owned());
            }
            if let Some(Some(k)) = keep.get(i) {
                cfg = cfg.option("keep", Value::from(*k));
            }
            if let Some(Some(t)) = top_k.get(i) {
                cfg = cfg
                    .option("top_k", Value::from(t.k))
                    .option("monitor", t.monitor.as_str())
                    .option("mode", t.mode.as_str());
            }
            if let Some(Some(n)) = every.get(i) {
                cfg = cfg.option("keep_every", Value::from(*n));
            }
            if let Some(e) = expand.get(i) {
                cfg = cfg.option("expand", *e);
            }
            if !protect.is_empty() {
                cfg = cfg.option("protect", Value::List(protect.clone()));
            }
            configs.push(cfg);
        }
        Ok(CkptPlan { configs, states: self.states.clone(), resumed, no_directory })
    }
}

impl CkptPlan {
    /// Give `_hooks` entries of the Checkpointer the files a resumed run must never delete.
    pub(crate) fn patch(&self, configs: &mut [HookConfig]) {
        let Some((_, loaded)) = &self.resumed else { return };
        let protect: Vec<Value> =
            loaded.objects.iter().map(|o| Value::from(absolute(&o.path).to_string_lossy().into_owned())).collect();
        for cfg in configs.iter_mut() {
            if hook_name(&cfg.hook) == HOOK && !cfg.options.iter().any(|(k, _)| k == "protect") {
                cfg.options.push(("protect".into(), Value::List(protect.clone())));
            }
        }
    }

    /// Set the named objects as variables, restore the counters of a resumed run, and log
    /// what was loaded.
    pub(crate) fn apply(self, m: &Monitor) {
        for (name, value) in self.states {
            m.set(&name, value);
        }
        if self.no_directory {
            m.log("WARNING: Cannot load as monitor does not have a directory");
        }
        if let Some((dir, loaded)) = self.resumed {
            m.report_load(&loaded, &dir, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ranked_variable_joins_the_spec_regex() -> Result<(), BuildError> {
        assert_eq!(with_monitor("^model$@5s", "val_loss")?, "(?:^model$)|val_loss$@5s");
        assert_eq!(with_monitor("@1e", "acc.top-1")?, "acc\\.top\\-1$@1e");
        Ok(())
    }
}

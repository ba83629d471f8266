//! The Checkpointer hook: saves each matched checkpointable variable as
//! `{directory}/checkpoints/{var}/{step}.safetensors` (or `{save_dir}/{var}/...`) and rotates
//! the files of each variable.
//!
//! **Key design choice: write first, rotate after, and never touch what a resume needs.** A
//! checkpoint is written to a temporary file, flushed and renamed before any old file is
//! deleted (the original deleted the oldest file before saving, so a crash mid-save could
//! leave nothing); the newest file and the files a resumed run loaded (option `protect`) are
//! never deleted. Rotation keeps the newest `keep` files (given once or per spec;
//! the original ignored it per spec), the `top_k` best by
//! the variable `monitor` (`mode` `min` or `max`, Lightning's ModelCheckpoint), and every
//! file whose step is a multiple of `keep_every`; with neither `keep` nor `top_k` it keeps
//! everything.
//!
//! The hook never sees the objects: a `Value::State` handle's tensors come from the host
//! (the host request `Request::State`), so this library needs no libtorch. The file format, the expansion of map
//! variables (`{var}_{key}`; a map of tensors is saved as is) and the messages are shared
//! with `Monitor::checkpoint` through `xmen::checkpoint`.

pub mod policy;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use policy::{Kept, Mode, Policy};
use xmen_checkpoint_format::{
    format, items, no_directory_warning, no_state_warning, saved_line, Item, TENSOR_MAP_TYPE,
};
use xmen_hook::{Firing, Hook, HookError, HookResult, NewHook, OptionDecl, Options, Outcome, Snapshot, Spec, ValueRef};

/// Saves and rotates checkpoints. Build it with [`NewHook::new`] (options) or
/// [`Checkpointer::with_policy`].
pub struct Checkpointer {
    policy: Policy,
    monitor: Option<String>,
    expand: bool,
    directory: Option<PathBuf>,
    save_dir: Option<PathBuf>,
    protect: Vec<PathBuf>,
    /// The known files of each variable, oldest first; read from disk at the first save.
    folders: HashMap<String, Vec<Kept>>,
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

impl Checkpointer {
    /// A Checkpointer writing under `{directory}/checkpoints` with a rotation policy.
    /// `monitor` names the variable `top_k` ranks by.
    pub fn with_policy(directory: Option<PathBuf>, policy: Policy, monitor: Option<String>) -> Checkpointer {
        Checkpointer {
            policy,
            monitor,
            expand: true,
            directory: directory.map(|d| absolute(&d)),
            save_dir: None,
            protect: Vec::new(),
            folders: HashMap::new(),
        }
    }

    /// Save to `{dir}/{var}` instead of `{directory}/checkpoints/{var}`.
    pub fn save_dir(mut self, dir: impl Into<PathBuf>) -> Checkpointer {
        self.save_dir = Some(absolute(&dir.into()));
        self
    }

    /// Save map variables whole instead of one file per entry.
    pub fn expand(mut self, expand: bool) -> Checkpointer {
        self.expand = expand;
        self
    }

    /// Never delete these files (a resumed run's checkpoints).
    pub fn protect(mut self, files: impl IntoIterator<Item = PathBuf>) -> Checkpointer {
        self.protect.extend(files.into_iter().map(|f| absolute(&f)));
        self
    }

    /// Where the variable folders are, if anywhere.
    fn base(&self) -> Option<PathBuf> {
        self.save_dir.clone().or_else(|| self.directory.as_ref().map(|d| d.join("checkpoints")))
    }

    /// The known files of `var`, read from its folder (with their scores) on first use.
    fn folder(&mut self, var: &str, folder: &Path) -> Result<&mut Vec<Kept>, HookError> {
        if !self.folders.contains_key(var) {
            format::remove_stale_temps(folder);
            let found = format::steps(folder).map_err(|e| HookError::new(e.to_string()))?;
            let files = found
                .into_iter()
                .map(|(step, path)| {
                    let score = match (&self.monitor, self.policy.top_k) {
                        (Some(m), Some(_)) => format::read_metadata(&path)
                            .ok()
                            .filter(|meta| meta.get("monitor") == Some(m))
                            .and_then(|meta| meta.get("score").and_then(|s| s.parse().ok())),
                        _ => None,
                    };
                    Kept { step, path: absolute(&path), score }
                })
                .collect();
            self.folders.insert(var.to_owned(), files);
        }
        self.folders.get_mut(var).ok_or_else(|| HookError::new("internal: folder list vanished"))
    }

    /// Record a new file of `var` and delete what the policy no longer keeps. Returns the
    /// files that could not be deleted, as warnings.
    fn rotate(&mut self, var: &str, folder: &Path, new: Kept) -> Result<Vec<String>, HookError> {
        let policy = self.policy.clone();
        let protect = self.protect.clone();
        let files = self.folder(var, folder)?;
        let just_written = new.path.clone();
        files.retain(|k| k.step != new.step);
        files.push(new);
        files.sort_by_key(|k| k.step);
        // The file just written is kept too: a run started afresh in a folder with higher
        // steps must not delete what it has just saved.
        let delete = policy.to_delete(files, &|p| p == just_written || protect.iter().any(|q| q == p));
        let mut warnings = Vec::new();
        for &i in delete.iter().rev() {
            let k = files.remove(i);
            match std::fs::remove_file(&k.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => warnings.push(format!("could not delete the old checkpoint {}: {e}", k.path.display())),
            }
        }
        Ok(warnings)
    }

    /// The monitored value of this firing, for `top_k`.
    fn score(&self, f: &Firing<'_>) -> Result<Option<(String, f64)>, HookError> {
        let (Some(name), Some(_)) = (&self.monitor, self.policy.top_k) else { return Ok(None) };
        let v = f.get(name).ok_or_else(|| {
            HookError::new(format!("top_k ranks checkpoints by the variable `{name}`, which this hook did not receive"))
                .with_help(format!(
                    "set it before the checkpoint fires (`m.set(\"{name}\", value)`), and in a `_hooks` entry add \
                     `|{name}$` to the spec's regex"
                ))
        })?;
        let s = v.as_f64().ok_or_else(|| {
            HookError::new(format!("top_k ranks by `{name}`, but it is a {} ({v}), not a number", v.kind()))
        })?;
        Ok(Some((name.clone(), s)))
    }
}

impl Hook for Checkpointer {
    fn call(&mut self, f: &Firing<'_>) -> HookResult {
        let vars: Vec<(&str, ValueRef<'_>)> =
            f.vars().filter(|(k, _)| self.monitor.as_deref() != Some(*k) || self.policy.top_k.is_none()).collect();
        if vars.is_empty() {
            return Ok(Outcome::Continue);
        }
        let Some(base) = self.base() else {
            let names: Vec<String> = vars.iter().map(|(k, _)| (*k).to_owned()).collect();
            f.log(&no_directory_warning(&names));
            return Ok(Outcome::Continue);
        };
        let score = self.score(f)?;
        let counters = f.counters();
        let (mut saved, mut warnings, mut errors) = (Vec::new(), Vec::new(), Vec::new());
        for (name, value) in vars {
            for (var, item) in items(name, value, self.expand) {
                let snapshot = match item {
                    Item::State(h) => match f.host().state(h) {
                        Ok(s) => s,
                        Err(e) => {
                            errors.push(format!("cannot read the state of `{var}`: {e}"));
                            continue;
                        }
                    },
                    Item::Tensors(state) => Snapshot { type_name: TENSOR_MAP_TYPE.into(), state },
                    Item::NoState(_) => {
                        f.log(&no_state_warning(&var));
                        continue;
                    }
                };
                let folder = base.join(&var);
                let score_ref = score.as_ref().map(|(n, s)| (n.as_str(), *s));
                match format::save(&folder, &snapshot, counters, score_ref) {
                    Ok(path) => {
                        let new = Kept { step: f.step(), path: absolute(&path), score: score.as_ref().map(|s| s.1) };
                        warnings.extend(self.rotate(&var, &folder, new)?);
                        saved.push(var);
                    }
                    Err(e) => errors.push(e.to_string()),
                }
            }
        }
        if !saved.is_empty() {
            f.log(&saved_line(&saved, &base));
        }
        if !errors.is_empty() {
            return Err(HookError::new(errors.join("; "))
                .with_help("check that the checkpoint folder is writable and has free space"));
        }
        if warnings.is_empty() {
            Ok(Outcome::Continue)
        } else {
            Ok(Outcome::Warn(warnings.join("; ")))
        }
    }
}

fn positive(o: &Options<'_>, name: &str) -> Result<Option<u64>, HookError> {
    match o.i64(name)? {
        None => Ok(None),
        Some(n) if n >= 1 => Ok(Some(n as u64)),
        Some(n) => Err(HookError::new(format!("option \"{name}\" must be at least 1, not {n}"))
            .with_help(format!("leave \"{name}\" out to keep every checkpoint (the newest is never deleted)"))),
    }
}

impl NewHook for Checkpointer {
    const NAME: &'static str = "checkpointer";
    const HELP: &'static str =
        "Save matched checkpointable state to {directory}/checkpoints/{var}/{step}.safetensors and keep the newest, the best and every Nth";

    const OPTIONS: &'static [OptionDecl] = &[
        OptionDecl::new("directory", "str", "the Monitor's folder; files go to {directory}/checkpoints/{var}"),
        OptionDecl::new("save_dir", "str", "save to {save_dir}/{var} instead"),
        OptionDecl::new("keep", "int", "keep the newest N files of each variable").default("all"),
        OptionDecl::new("top_k", "int", "keep the K best files by `monitor`"),
        OptionDecl::new("monitor", "str", "the variable top_k ranks by"),
        OptionDecl::new("mode", "str", "min or max: which values of `monitor` are best").default("min"),
        OptionDecl::new("keep_every", "int", "never delete files whose step is a multiple of N"),
        OptionDecl::new("expand", "bool", "save map variables as {var}_{key}").default("true"),
        OptionDecl::new("protect", "list", "files never to delete (set by a resumed run)"),
    ];

    const EXAMPLES: &'static [&'static str] = &["^model$@5s", "opt@1e"];

    fn new(_spec: &Spec, o: &Options<'_>) -> Result<Checkpointer, HookError> {
        o.expect_only(&[
            "directory",
            "save_dir",
            "keep",
            "top_k",
            "monitor",
            "mode",
            "keep_every",
            "expand",
            "protect",
        ])?;
        let mode: Mode = o.str("mode")?.unwrap_or("min").parse().map_err(HookError::new)?;
        let policy = Policy {
            keep: positive(o, "keep")?.map(|n| n as usize),
            top_k: positive(o, "top_k")?.map(|n| n as usize),
            mode,
            keep_every: positive(o, "keep_every")?,
        };
        let monitor = o.str("monitor")?.map(str::to_owned);
        if policy.top_k.is_some() && monitor.is_none() {
            return Err(HookError::new(
                "option \"top_k\" needs option \"monitor\": the variable to rank checkpoints by",
            )
            .with_help("e.g. `options: {top_k: 3, monitor: val_loss, mode: min}`"));
        }
        let mut hook = Checkpointer::with_policy(o.str("directory")?.map(PathBuf::from), policy, monitor)
            .expand(o.bool("expand")?.unwrap_or(true));
        if let Some(d) = o.str("save_dir")? {
            hook = hook.save_dir(d);
        }
        match o.get("protect") {
            None | Some(ValueRef::None) => {}
            Some(ValueRef::List(l)) => {
                let files: Vec<PathBuf> = l.iter().filter_map(|v| v.as_str().map(PathBuf::from)).collect();
                if files.len() != l.len() {
                    return Err(HookError::new("option \"protect\" must be a list of file paths"));
                }
                hook = hook.protect(files);
            }
            Some(other) => {
                return Err(HookError::new(format!("option \"protect\" must be a list, not a {}", other.kind())))
            }
        }
        Ok(hook)
    }
}

xmen_hook::export_hooks!(Checkpointer);

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use xmen_hook::testing::Harness;
    use xmen_hook::{DType, Reply, StateDict, StateHandle, Tensor, Value};

    fn weights(x: f32) -> Tensor {
        Tensor::from_f32(&[2], &[x, x + 1.0])
    }

    #[test]
    fn a_tracked_object_is_asked_of_the_host_saved_and_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let options = [("directory", Value::from(dir.path().display().to_string().as_str())), ("keep", Value::Int(2))];
        let mut h = Harness::<Checkpointer>::new("model@1s", &options).unwrap();
        let snapshot = Snapshot {
            type_name: "Model".into(),
            state: StateDict { tensors: vec![("w".into(), weights(1.0))], metadata: vec![("lr".into(), "0.1".into())] },
        };
        h.reply("state", Reply::State(snapshot.clone()));
        for step in 1..=3 {
            h.counters([step, 0, 0, 0, 0]);
            h.fire(&[("model", Value::State(StateHandle(7)))]).unwrap();
        }
        assert!(h.requests().iter().any(|r| r == "state 7"), "{:?}", h.requests());
        let folder = dir.path().join("checkpoints/model");
        let kept: Vec<u64> = format::steps(&folder).unwrap().into_iter().map(|(s, _)| s).collect();
        assert_eq!(kept, [2, 3], "keep 2: the newest two");
        let read = format::read(&format::file_path(&folder, 3)).unwrap();
        assert_eq!(read.state.tensor("w"), Some(&weights(1.0)));
        assert_eq!(read.counters[0], 3);
        assert!(h.lines().iter().any(|l| l.contains("model")), "{:?}", h.lines());
    }

    #[test]
    fn a_map_of_tensors_is_saved_as_is_and_a_host_without_state_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let options = [("directory", Value::from(dir.path().display().to_string().as_str()))];
        let mut h = Harness::<Checkpointer>::new("opt|model@1s", &options).unwrap();
        let map = Value::Map(vec![("m".into(), Value::Tensor(weights(5.0)))]);
        h.fire(&[("opt", map)]).unwrap();
        let saved = format::steps(&dir.path().join("checkpoints/opt")).unwrap();
        assert_eq!(saved.len(), 1, "{saved:?}");
        assert_eq!(format::read(&saved[0].1).unwrap().state.tensor("m").map(|t| t.dtype), Some(DType::F32));
        // The harness's host has no checkpointable objects.
        let e = h.fire(&[("model", Value::State(StateHandle(1)))]).unwrap_err();
        assert!(e.to_string().contains("state"), "{e}");
    }

    #[test]
    fn top_k_without_monitor_is_refused_with_the_fix() {
        let e = Harness::<Checkpointer>::new("model@1s", &[("top_k", Value::Int(3))]).err().unwrap();
        assert!(e.message.contains("needs option \"monitor\"") && e.help.is_some_and(|h| h.contains("val_loss")));
    }
}

//! `Monitor::checkpoint` and `Monitor::load`: the TorchMonitor's manual checkpoint and load.

use std::path::PathBuf;

use xmen_core::hook::Snapshot;
use xmen_core::value::Value;
use xmen_core::valueref::ValueRef;

use super::load::{load, Loaded};
use super::{format, state};
use crate::Monitor;
use xmen_checkpoint_format::{items, no_directory_warning, no_state_warning, saved_line, Item, TENSOR_MAP_TYPE};
use xmen_checkpoint_format::{CheckpointError, StateError};

/// Options of [`Monitor::load_with`]; the default restores the newest checkpoints from
/// `{directory}/checkpoints`, skips what is missing with a warning, and restores the counters.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Where the object folders are; `None` means `{monitor directory}/checkpoints`.
    pub directory: Option<PathBuf>,
    /// The step to load (exact match); `None` loads each object's newest checkpoint.
    pub step: Option<u64>,
    /// Skip what is missing with a logged warning instead of failing.
    pub attempt: bool,
    /// Restore the Monitor's counters from the first object loaded.
    pub update_counters: bool,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions { directory: None, step: None, attempt: true, update_counters: true }
    }
}

/// The checkpoint folder of one object under the Monitor's directory.
pub(crate) const CHECKPOINTS: &str = "checkpoints";

impl Monitor {
    /// Save `objects` now (the original's `monitor.checkpoint(**objs)`): each as
    /// `{directory}/checkpoints/{name}/{step}.safetensors`, keeping every file. Maps are expanded
    /// to `{name}_{key}` (a map of tensors is saved as is). Values with no state are logged as
    /// `Value for key = {k} does not have a state_dict`; without a directory nothing is saved
    /// and a warning is logged. Returns the files written.
    ///
    /// ```
    /// use xmen::checkpoint::Tracked;
    /// use xmen::{Monitor, Tensor, Value};
    /// let dir = tempfile::tempdir()?;
    /// let m = Monitor::builder().directory(dir.path()).output(std::io::sink()).build()?;
    /// let w = Tracked::new(vec![("w".to_owned(), Tensor::from_f32(&[1], &[2.0]))]);
    /// for _ in m.iter(0..3) {}
    /// let files = m.checkpoint([("w", Value::from(&w))])?;
    /// assert_eq!(files, [dir.path().join("checkpoints/w/3.safetensors")]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn checkpoint<K: AsRef<str>, V: Into<Value>>(
        &self,
        objects: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Vec<PathBuf>, CheckpointError> {
        let objects: Vec<(String, Value)> =
            objects.into_iter().map(|(k, v)| (k.as_ref().to_owned(), v.into())).collect();
        let Some(dir) = self.directory() else {
            let names: Vec<String> = objects.iter().map(|(k, _)| k.clone()).collect();
            self.log(&no_directory_warning(&names));
            return Ok(Vec::new());
        };
        let base = dir.join(CHECKPOINTS);
        let counters = self.counters();
        let (mut saved, mut paths, mut errors) = (Vec::new(), Vec::new(), Vec::new());
        for (name, value) in &objects {
            for (item_name, item) in items(name, ValueRef::from(value), true) {
                let snapshot = match item {
                    Item::State(h) => state::snapshot_of(h).map_err(|e| CheckpointError::State {
                        name: item_name.clone(),
                        path: None,
                        source: StateError::new(e),
                    }),
                    Item::Tensors(sd) => Ok(Snapshot { type_name: TENSOR_MAP_TYPE.into(), state: sd }),
                    Item::NoState(_) => {
                        self.log(&no_state_warning(&item_name));
                        continue;
                    }
                };
                match snapshot.and_then(|s| format::save(&base.join(&item_name), &s, counters, None)) {
                    Ok(p) => {
                        saved.push(item_name);
                        paths.push(p);
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
        if !saved.is_empty() {
            self.log(&saved_line(&saved, &base));
        }
        CheckpointError::collect(errors)?;
        Ok(paths)
    }

    /// Restore `objects` from their newest checkpoints under `{directory}/checkpoints` and the
    /// Monitor's counters from the first one restored, logging what was skipped (see
    /// [`Monitor::load_with`] for the options and [`load`](super::load()) for the rules).
    pub fn load<K: AsRef<str>, V: Into<Value>>(
        &self,
        objects: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Loaded, CheckpointError> {
        self.load_with(&LoadOptions::default(), objects)
    }

    /// [`Monitor::load`] with options (the original's `load(directory, step, attempt,
    /// update_triggers, **objs)`). After it, the Monitor's loops continue the restored step
    /// numbering, and a `limit` compares against the restored counters (`>=`), so a resumed
    /// run stops where an uninterrupted one would.
    ///
    /// ```
    /// use xmen::checkpoint::{LoadOptions, Tracked};
    /// use xmen::{Monitor, Tensor, Value};
    /// let dir = tempfile::tempdir()?;
    /// let w = Tracked::new(vec![("w".to_owned(), Tensor::from_f32(&[1], &[2.0]))]);
    /// {
    ///     let m = Monitor::builder().directory(dir.path()).output(std::io::sink()).build()?;
    ///     for _ in m.iter(0..5) {}
    ///     m.checkpoint([("w", Value::from(&w))])?;
    /// }
    /// w.lock()[0].1 = Tensor::from_f32(&[1], &[0.0]);
    /// let m = Monitor::builder().directory(dir.path()).output(std::io::sink()).build()?;
    /// let loaded = m.load_with(&LoadOptions { step: Some(5), ..LoadOptions::default() }, [("w", Value::from(&w))])?;
    /// assert_eq!((m.step(), loaded.objects.len()), (5, 1));
    /// assert_eq!(w.lock()[0].1.to_f64_vec(), [2.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_with<K: AsRef<str>, V: Into<Value>>(
        &self,
        options: &LoadOptions,
        objects: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Loaded, CheckpointError> {
        let dir = match (&options.directory, self.directory()) {
            (Some(d), _) => d.clone(),
            (None, Some(d)) => d.join(CHECKPOINTS),
            (None, None) => {
                self.log("WARNING: Cannot load as monitor does not have a directory");
                return Ok(Loaded::default());
            }
        };
        let loaded = load(&dir, options.step, options.attempt, objects)?;
        self.report_load(&loaded, &dir, options.update_counters);
        Ok(loaded)
    }

    /// Log what a load did and restore the counters.
    pub(crate) fn report_load(&self, loaded: &Loaded, dir: &std::path::Path, update_counters: bool) {
        for w in &loaded.warnings {
            self.log(w);
        }
        if loaded.objects.is_empty() {
            return;
        }
        let names: Vec<String> = loaded.objects.iter().map(|o| format!("{}@{}", o.name, o.step)).collect();
        self.log(&format!("loaded {} from {}", names.join(", "), dir.display()));
        if let (true, Some(c)) = (update_counters, loaded.counters) {
            self.set_counters(c);
        }
    }
}

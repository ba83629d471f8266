//! `Monitor::builder()`: the Rust form of the original's `Monitor(log=..., log_format=...,
//! time=..., limit=..., hooks=[...])`.
//!
//! Firing order: builder hooks in the original's kind order (`log`, `time`, `msg`,
//! `probe`, then hooks given with `.hook()`, then the TorchMonitor's Checkpointer (`ckpt`) and
//! TensorBoard kinds `sca`, `img`, `hist`, `fig`, `txt`, `vid`), then the entries of a `_hooks`
//! list in list order: first those given with [`MonitorBuilder::hooks`], then the `_hooks` of the
//! run in progress (its record; see [`MonitorBuilder::record_hooks`]). The checkpoint methods
//! (`ckpt`, `ckpt_keep`, `state`, `resume`, ...) live in [`crate::checkpoint`].
//!
//! The Monitor's directory reaches library hooks as an option: every hook that declares option
//! `directory` gets it unless its configuration sets it (the record's `_hooks` get the run's
//! folder when the Monitor has none), whatever the hook is called.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use xmen_core::hook::Hook;
use xmen_core::monitor::{Experiments, HookSlot, MonitorConfig, Output};
use xmen_core::spec::{Spec, SpecError, Trigger};
use xmen_core::value::Value;
use xmen_core::valueref::ValueRef;
use xmen_loader::{HookConfig, LoadErrors, Loader};

use crate::Monitor;

type SharedTransform = Arc<dyn Fn(&str, ValueRef<'_>) -> Value + Send + Sync>;

/// The TorchMonitor's TensorBoard kinds, in firing order: (builder name, hook `kind`).
const TB_KINDS: [(&str, &str); 6] =
    [("sca", "scalar"), ("img", "image"), ("hist", "histogram"), ("fig", "figure"), ("txt", "text"), ("vid", "video")];

/// The arguments of one TensorBoard kind (`sca`, `sca_fn`, `sca_pref`, `sca_prep`).
#[derive(Default)]
struct TbArgs {
    specs: Vec<String>,
    fns: Vec<SharedTransform>,
    prefs: Vec<String>,
    preps: Vec<bool>,
}

/// Builder methods for one TensorBoard kind.
macro_rules! tb_kind {
    ($i:literal, $kind:literal, $spec:ident, $f:ident, $pref:ident, $prep:ident) => {
        #[doc = concat!("Write TensorBoard ", $kind, " summaries of the variables matching a spec (the original's `", stringify!($spec), "=`),")]
        #[doc = "with the `tensorboard` hook library, to `{directory}/summaries`."]
        pub fn $spec(mut self, spec: &str) -> Self {
            self.tb[$i].specs.push(spec.into());
            self
        }
        #[doc = concat!("A transform applied to each value before its ", $kind, " summary: once for all `", stringify!($spec), "` specs or once per spec.")]
        pub fn $f(mut self, f: impl Fn(&str, ValueRef<'_>) -> Value + Send + Sync + 'static) -> Self {
            self.tb[$i].fns.push(Arc::new(f));
            self
        }
        #[doc = concat!("A prefix for the tags of `", stringify!($spec), "` summaries: once or once per spec.")]
        pub fn $pref(mut self, prefix: &str) -> Self {
            self.tb[$i].prefs.push(prefix.into());
            self
        }
        #[doc = concat!("Whether map entries of `", stringify!($spec), "` are tagged `{name}_{key}` (true, the default) or `{key}`: once or once per spec.")]
        pub fn $prep(mut self, prepend: bool) -> Self {
            self.tb[$i].preps.push(prepend);
            self
        }
    };
}

/// Why a Monitor could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// A spec or limit string is malformed.
    Spec {
        /// Which builder argument (`log`, `time`, `limit`, ...).
        argument: &'static str,
        /// The parse error.
        error: SpecError,
    },
    /// Per-spec options given neither once nor once per spec.
    Count {
        /// The option (`log_format`).
        option: &'static str,
        /// How many values were given.
        given: usize,
        /// The specs of that kind.
        specs: Vec<String>,
    },
    /// An in-process hook given with `.hook()` that declares no spec.
    NoSpec {
        /// The hook's type name.
        hook: String,
    },
    /// Hook libraries that failed to load (all of them).
    Load(LoadErrors),
    /// A resumed run could not read its checkpoints.
    Checkpoint(crate::checkpoint::CheckpointError),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Spec { argument, error } => write!(f, "Monitor argument `{argument}`: {error}"),
            BuildError::Count { option, given, specs } => write!(
                f,
                "Either one {option} or one for each of the {} specs {specs:?} must be set: {given} given",
                specs.len()
            ),
            BuildError::NoSpec { hook } => {
                write!(f, "hook {hook} declares no spec; give it one with `.hook_at(\"name@10s\", hook)`")
            }
            BuildError::Load(e) => write!(f, "{e}"),
            BuildError::Checkpoint(e) => write!(f, "resuming from checkpoints: {e}"),
        }
    }
}

impl std::error::Error for BuildError {}

/// Builds a [`Monitor`]. See the module documentation for the firing order.
#[derive(Default)]
pub struct MonitorBuilder {
    log: Vec<String>,
    log_format: Vec<String>,
    log_fn: Vec<SharedTransform>,
    log_join: Vec<String>,
    time: Vec<String>,
    msg: Vec<String>,
    msg_keep: Vec<String>,
    msg_leader: Vec<Option<String>>,
    msg_expand: Vec<bool>,
    msg_prep: Vec<bool>,
    probe: Vec<String>,
    user: Vec<(Option<String>, String, Box<dyn Hook>)>,
    configs: Vec<HookConfig>,
    limit: Option<String>,
    lenient: bool,
    timing: bool,
    output: Option<Output>,
    directory: Option<PathBuf>,
    experiments: Option<Box<dyn Experiments>>,
    loader: Option<Loader>,
    tb: [TbArgs; 6],
    img_options: Vec<Vec<(String, Value)>>,
    pub(crate) ckpt: crate::checkpoint::CkptArgs,
    record_hooks: crate::experiment::current::RecordHooks,
}

impl MonitorBuilder {
    tb_kind!(0, "scalar", sca, sca_fn, sca_pref, sca_prep);
    tb_kind!(1, "image", img, img_fn, img_pref, img_prep);
    tb_kind!(2, "histogram", hist, hist_fn, hist_pref, hist_prep);
    tb_kind!(3, "figure", fig, fig_fn, fig_pref, fig_prep);
    tb_kind!(4, "text", txt, txt_fn, txt_pref, txt_prep);
    tb_kind!(5, "video", vid, vid_fn, vid_pref, vid_prep);

    /// `make_grid` options for `img` summaries (`nrow`, `padding`, `normalize`, `range`,
    /// `scale_each`, `pad_value`): once for all `img` specs or once per spec.
    ///
    /// ```no_run
    /// use xmen::{Monitor, Value};
    /// let m = Monitor::builder()
    ///     .directory("/tmp/run")
    ///     .img("x@10s")
    ///     .img_options([("nrow", Value::from(4)), ("normalize", Value::from(false))])
    ///     .build()?;
    /// # Ok::<(), xmen::BuildError>(())
    /// ```
    pub fn img_options<K: Into<String>>(mut self, options: impl IntoIterator<Item = (K, Value)>) -> Self {
        self.img_options.push(options.into_iter().map(|(k, v)| (k.into(), v)).collect());
        self
    }

    /// Log variables matching a spec (`loss|acc@100s`) with the Logger hook.
    pub fn log(mut self, spec: &str) -> Self {
        self.log.push(spec.into());
        self
    }
    /// A Python format spec for logged values (`.4f`): once for all `log` specs or once per spec.
    pub fn log_format(mut self, format: &str) -> Self {
        self.log_format.push(format.into());
        self
    }
    /// A transform applied to each logged value before formatting (the original's `log_fn`):
    /// once for all `log` specs or once per spec.
    pub fn log_fn(mut self, f: impl Fn(&str, ValueRef<'_>) -> Value + Send + Sync + 'static) -> Self {
        self.log_fn.push(Arc::new(f));
        self
    }
    /// Join list values with this separator before formatting: once or once per spec.
    pub fn log_join(mut self, sep: &str) -> Self {
        self.log_join.push(sep.into());
        self
    }
    /// Log timing statistics at a spec (`@1e`) with the Timer hook.
    pub fn time(mut self, spec: &str) -> Self {
        self.time.push(spec.into());
        self
    }
    /// Leave matched variables as messages in experiment records with the Messenger hook:
    /// `loss|acc->ex@10s` (payload `loss|acc`, targets matching `ex`), or `ex@10s` for the
    /// Monitor's summary only.
    pub fn msg(mut self, spec: &str) -> Self {
        self.msg.push(spec.into());
        self
    }
    /// `latest`, `min` or `max`: once for all `msg` specs or once per spec.
    pub fn msg_keep(mut self, keep: &str) -> Self {
        self.msg_keep.push(keep.into());
        self
    }
    /// A regex naming the payload variable that decides for the whole batch:
    /// once for all `msg` specs or once per spec.
    pub fn msg_leader(mut self, leader: &str) -> Self {
        self.msg_leader.push(Some(leader.into()));
        self
    }
    /// Send each entry of a map variable as its own message: once or once per spec.
    pub fn msg_expand(mut self, expand: bool) -> Self {
        self.msg_expand.push(expand);
        self
    }
    /// With `msg_expand`, name entries `{var}_{key}`: once or once per spec.
    pub fn msg_prep(mut self, prepend: bool) -> Self {
        self.msg_prep.push(prepend);
        self
    }
    /// Record resource use in the matched experiments' `_meta` with the Probe hook (`ex@100s`).
    pub fn probe(mut self, spec: &str) -> Self {
        self.probe.push(spec.into());
        self
    }
    /// Stop the loops when a counter reaches a value (`@20s`).
    pub fn limit(mut self, limit: &str) -> Self {
        self.limit = Some(limit.into());
        self
    }
    /// An in-process hook that declares its own spec ([`Hook::spec`]).
    pub fn hook(mut self, hook: impl Hook + 'static) -> Self {
        let name = short_type_name::<_>(&hook);
        self.user.push((None, name, Box::new(hook)));
        self
    }
    /// An in-process hook at a spec.
    pub fn hook_at(mut self, spec: &str, hook: impl Hook + 'static) -> Self {
        let name = short_type_name::<_>(&hook);
        self.user.push((Some(spec.into()), name, Box::new(hook)));
        self
    }
    /// Hooks from a `_hooks` configuration list; they fire after the builder's own.
    pub fn hooks(mut self, configs: impl IntoIterator<Item = HookConfig>) -> Self {
        self.configs.extend(configs);
        self
    }
    /// Whether the `_hooks` of the run in progress (its params.yml, from defaults.yml and
    /// `xmen register -u "{_hooks: [...]}"`) join this Monitor, after every other hook.
    /// On by default; turn it off for a second Monitor in the same run.
    pub fn record_hooks(mut self, on: bool) -> Self {
        use crate::experiment::current::RecordHooks;
        self.record_hooks = if on { RecordHooks::Current } else { RecordHooks::Off };
        self
    }
    /// Use the `_hooks` of this experiment's record (instead of the run in progress), and its
    /// folder for hooks that write files when the Monitor has no directory.
    pub fn root(mut self, root: &crate::Root) -> Self {
        self.record_hooks = crate::experiment::current::RecordHooks::Of(root.clone());
        self
    }
    /// Start even when hook libraries fail to load, saying which are missing.
    pub fn lenient(mut self, lenient: bool) -> Self {
        self.lenient = lenient;
        self
    }
    /// Run the stopwatches even when no hook needs timings.
    pub fn timing(mut self, on: bool) -> Self {
        self.timing = on;
        self
    }
    /// Send everything the Monitor and its hooks print to a writer instead of stdout.
    pub fn output(mut self, w: impl Write + Send + 'static) -> Self {
        self.output = Some(Output::Writer(Box::new(w)));
        self
    }
    /// The run's folder (checkpoints, TensorBoard summaries).
    pub fn directory(mut self, dir: impl Into<PathBuf>) -> Self {
        self.directory = Some(dir.into());
        self
    }
    /// Experiment records the hooks may message.
    pub fn experiments(mut self, e: impl Experiments + 'static) -> Self {
        self.experiments = Some(Box::new(e));
        self
    }
    /// Use a specific loader (search path) instead of the default.
    pub fn loader(mut self, loader: Loader) -> Self {
        self.loader = Some(loader);
        self
    }

    /// Load the hooks and build the Monitor.
    pub fn build(self) -> Result<Monitor, BuildError> {
        let limit = match &self.limit {
            Some(l) => Some(parse_limit(l)?),
            None => None,
        };
        // A resumed run loads its objects here, before its Checkpointers may rotate anything.
        let ckpt = self.ckpt.plan(self.directory.as_deref())?;
        let formats = broadcast("log_format", &self.log_format, &self.log)?;
        let joins = broadcast("log_join", &self.log_join, &self.log)?;
        let fns = broadcast("log_fn", &self.log_fn, &self.log)?;
        // Library hooks of the builder, in kind order, with their host-side transforms.
        let mut planned: Vec<(HookConfig, Option<SharedTransform>)> = Vec::new();
        for (i, spec) in self.log.iter().enumerate() {
            check_spec("log", spec)?;
            let mut cfg = HookConfig::new("logger", spec);
            if let Some(f) = formats.get(i).filter(|f| !f.is_empty()) {
                cfg = cfg.option("format", f.as_str());
            }
            if let Some(j) = joins.get(i) {
                cfg = cfg.option("join", j.as_str());
            }
            planned.push((cfg, fns.get(i).cloned()));
        }
        for spec in &self.time {
            check_spec("time", spec)?;
            planned.push((HookConfig::new("timer", spec), None));
        }
        let keeps = broadcast("msg_keep", &self.msg_keep, &self.msg)?;
        let leaders = broadcast("msg_leader", &self.msg_leader, &self.msg)?;
        let expands = broadcast("msg_expand", &self.msg_expand, &self.msg)?;
        let preps = broadcast("msg_prep", &self.msg_prep, &self.msg)?;
        for (i, spec) in self.msg.iter().enumerate() {
            check_spec("msg", spec)?;
            let mut cfg = HookConfig::new("messenger", spec);
            if let Some(k) = keeps.get(i) {
                cfg = cfg.option("keep", k.as_str());
            }
            if let Some(Some(l)) = leaders.get(i) {
                cfg = cfg.option("leader", l.as_str());
            }
            if let Some(e) = expands.get(i) {
                cfg = cfg.option("expand", *e);
            }
            if let Some(p) = preps.get(i) {
                cfg = cfg.option("prepend", *p);
            }
            planned.push((cfg, None));
        }
        for spec in &self.probe {
            check_spec("probe", spec)?;
            planned.push((HookConfig::new("probe", spec), None));
        }
        // The TorchMonitor's TensorBoard kinds fire after the user's hooks.
        let mut tb_planned: Vec<(HookConfig, Option<SharedTransform>)> = Vec::new();
        for (i, ((name, kind), args)) in TB_KINDS.iter().zip(&self.tb).enumerate() {
            let (fn_opt, pref_opt, prep_opt) = TB_OPTION_NAMES[i];
            let fns = broadcast(fn_opt, &args.fns, &args.specs)?;
            let prefs = broadcast(pref_opt, &args.prefs, &args.specs)?;
            let preps = broadcast(prep_opt, &args.preps, &args.specs)?;
            let img_options =
                if *kind == "image" { broadcast("img_options", &self.img_options, &args.specs)? } else { Vec::new() };
            for (j, spec) in args.specs.iter().enumerate() {
                check_spec(name, spec)?;
                let mut cfg = HookConfig::new("tensorboard", spec).option("kind", *kind);
                if let Some(p) = prefs.get(j) {
                    cfg = cfg.option("prefix", p.as_str());
                }
                if let Some(p) = preps.get(j) {
                    cfg = cfg.option("prepend", *p);
                }
                for (k, v) in img_options.get(j).into_iter().flatten() {
                    cfg = cfg.option(k, v.clone());
                }
                tb_planned.push((cfg, fns.get(j).cloned()));
            }
        }
        // Every hook that declares option `directory` gets the Monitor's folder (the host-provided
        // options: `xmen_hook::HOST_OPTIONS`), whatever its name.
        let loader = self.loader.unwrap_or_default();
        let loader = match &self.directory {
            Some(d) => loader.provide("directory", d.to_string_lossy().into_owned()),
            None => loader,
        };
        let mut slots = Vec::new();
        let mut errors = Vec::new();
        for (cfg, f) in planned {
            match loader.load(&cfg) {
                Ok(slot) => slots.push(match f {
                    Some(f) => slot.with_transform(Box::new(move |k, v| f(k, v))),
                    None => slot,
                }),
                Err(e) => errors.push(e),
            }
        }
        for (spec, name, hook) in self.user {
            let spec = match spec {
                Some(s) => Spec::parse(&s).map_err(|error| BuildError::Spec { argument: "hooks", error })?,
                None => hook.spec().ok_or(BuildError::NoSpec { hook: name.clone() })?,
            };
            slots.push(HookSlot::native(name, spec, hook));
        }
        for cfg in &ckpt.configs {
            match loader.load(cfg) {
                Ok(slot) => slots.push(slot),
                Err(e) => errors.push(e),
            }
        }
        for (cfg, f) in tb_planned {
            match loader.load(&cfg) {
                Ok(slot) => slots.push(match f {
                    Some(f) => slot.with_transform(Box::new(move |k, v| f(k, v))),
                    None => slot,
                }),
                Err(e) => errors.push(e),
            }
        }
        let mut configs = self.configs;
        ckpt.patch(&mut configs);
        // Then the `_hooks` of the run's record, in list order; their hooks get the run's folder
        // when the Monitor has none.
        let (mut from_record, record_dir) =
            match crate::experiment::current::record_hooks(&self.record_hooks, self.directory.as_deref()) {
                Ok(r) => r,
                Err(e) => {
                    errors.push(e);
                    (Vec::new(), None)
                }
            };
        ckpt.patch(&mut from_record);
        let record_loader = match record_dir {
            Some(d) => loader.clone().provide("directory", d.to_string_lossy().into_owned()),
            None => loader.clone(),
        };
        let configs =
            configs.into_iter().map(|c| (c, &loader)).chain(from_record.into_iter().map(|c| (c, &record_loader)));
        // An entry with `lenient: true` only warns when it fails to load.
        let mut skipped = Vec::new();
        for (cfg, loader) in configs {
            match loader.load(&cfg) {
                Ok(slot) => slots.push(slot),
                Err(e) if cfg.lenient => skipped.push(e),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            if !self.lenient {
                return Err(BuildError::Load(LoadErrors(errors)));
            }
            skipped.extend(errors);
        }
        let warning = (!skipped.is_empty()).then(|| {
            format!(
                "WARNING: starting without {} hook(s) (lenient):\n{}",
                skipped.len(),
                skipped.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n")
            )
        });
        let monitor = Monitor::from_core(xmen_core::monitor::Monitor::new(MonitorConfig {
            hooks: slots,
            limit,
            timing: self.timing,
            output: self.output,
            directory: self.directory,
            experiments: self.experiments.or_else(default_experiments),
            states: Some(Box::new(crate::checkpoint::LiveStates)),
        }));
        if let Some(w) = warning {
            monitor.print(&w);
        }
        ckpt.apply(&monitor);
        Ok(monitor)
    }
}

/// The broadcast options of each TensorBoard kind, for error messages.
const TB_OPTION_NAMES: [(&str, &str, &str); 6] = [
    ("sca_fn", "sca_pref", "sca_prep"),
    ("img_fn", "img_pref", "img_prep"),
    ("hist_fn", "hist_pref", "hist_prep"),
    ("fig_fn", "fig_pref", "fig_prep"),
    ("txt_fn", "txt_pref", "txt_prep"),
    ("vid_fn", "vid_pref", "vid_prep"),
];

pub(crate) fn check_spec(argument: &'static str, spec: &str) -> Result<(), BuildError> {
    Spec::parse(spec).map(|_| ()).map_err(|error| BuildError::Spec { argument, error })
}

fn parse_limit(s: &str) -> Result<(u64, Trigger), BuildError> {
    xmen_core::spec::parse_limit(s).map_err(|error| BuildError::Spec { argument: "limit", error })
}

/// Apply the broadcast rule: zero values (none), one (for every spec) or one per spec.
pub(crate) fn broadcast<T: Clone>(option: &'static str, values: &[T], specs: &[String]) -> Result<Vec<T>, BuildError> {
    match values.len() {
        0 => Ok(Vec::new()),
        1 => Ok(vec![values[0].clone(); specs.len()]),
        n if n == specs.len() => Ok(values.to_vec()),
        n => Err(BuildError::Count { option, given: n, specs: specs.to_vec() }),
    }
}

fn short_type_name<T>(_: &T) -> String {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base).to_owned()
}

#[cfg(feature = "experiment")]
fn default_experiments() -> Option<Box<dyn Experiments>> {
    Some(Box::new(crate::experiment::LiveRoots))
}

#[cfg(not(feature = "experiment"))]
fn default_experiments() -> Option<Box<dyn Experiments>> {
    None
}

//! The hook protocol: what a hook is, what it receives when it fires, and what it
//! may ask of the host.
//!
//! Shaped like tracing's `Layer`: one required method ([`Hook::call`]), everything
//! else defaulted. The same trait serves hooks compiled into the experiment and
//! hooks loaded from a library through [`crate::abi`]; a hook cannot tell which.

use crate::spec::{Spec, Trigger};
use crate::value::{ExperimentHandle, StateDict, StateHandle, Value};
use crate::valueref::{MapRef, ValueRef};
use std::fmt;

/// What a hook returns when it fires successfully.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Nothing to report.
    #[default]
    Continue,
    /// A warning the host prints once, prefixed with the hook's name.
    Warn(String),
    /// Ask the Monitor to stop, logging the message (like `monitor.stop(msg)`).
    Stop(String),
}

/// The result of a hook call.
pub type HookResult = Result<Outcome, HookError>;

/// A hook's failure, as plain data (it crosses the ABI unchanged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookError {
    /// The hook's name (`logger`, or the type name of an in-process hook). Filled in by the host when empty.
    pub hook: String,
    /// What went wrong.
    pub message: String,
    /// How to fix it, when known.
    pub help: Option<String>,
}

impl HookError {
    /// An error with a message; the host fills in the hook's name.
    pub fn new(message: impl Into<String>) -> HookError {
        HookError { hook: String::new(), message: message.into(), help: None }
    }
    /// Attach a hint on how to fix it.
    pub fn with_help(mut self, help: impl Into<String>) -> HookError {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for HookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.hook.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "hook {}: {}", self.hook, self.message)?;
        }
        if let Some(help) = &self.help {
            write!(f, "; {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for HookError {}

/// What a hook needs from the Monitor beyond its variables; lets the Monitor skip
/// work (stopwatches) nobody reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// The hook reads step/load timings (`summary(true)`): the Monitor runs its stopwatches.
    pub timing: bool,
}

/// How the Monitor keeps a message: `latest`, `min` or `max` (docs/file-formats.md#_messages).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Keep {
    /// The newest value always wins.
    #[default]
    Latest,
    /// The smallest value wins; ties win.
    Min,
    /// The largest value wins; ties win.
    Max,
}

impl Keep {
    /// `latest`, `min` or `max`.
    pub fn name(self) -> &'static str {
        match self {
            Keep::Latest => "latest",
            Keep::Min => "min",
            Keep::Max => "max",
        }
    }
}

impl fmt::Display for Keep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Keep {
    type Err = String;
    /// `latest`, `min` or `max`.
    fn from_str(s: &str) -> Result<Keep, String> {
        match s {
            "latest" => Ok(Keep::Latest),
            "min" => Ok(Keep::Min),
            "max" => Ok(Keep::Max),
            other => Err(format!("`{other}` is not a keep rule; use latest, min or max")),
        }
    }
}

/// Leave `summary` (keep latest), then `messages` (with `keep`/`leader`), through `send`:
/// the fallback of a host or record store that cannot write both at once.
pub fn summary_then_messages(
    summary: &[(&str, ValueRef<'_>)],
    messages: &[(&str, ValueRef<'_>)],
    keep: Keep,
    leader: Option<&str>,
    send: impl Fn(&[(&str, ValueRef<'_>)], Keep, Option<&str>) -> Result<(), String>,
) -> Result<(), String> {
    send(summary, Keep::Latest, None)?;
    if messages.is_empty() {
        return Ok(());
    }
    send(messages, keep, leader)
}

/// One service a hook asks of the host ([`Host::request`]), modelled on nushell's `EngineCall`.
///
/// Append-only and non-exhaustive: a new service is one new variant here and one match arm in
/// each host. A host older than a variant answers [`Reply::Unsupported`], and the hook decides
/// what to do (the convenience methods on `dyn Host` document their fallback).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Request<'a> {
    /// Print one line, as is.
    Print(&'a str),
    /// Print `[{last} {levels}]: {text}`, like the original's `monitor.log(text)`.
    Log(&'a str),
    /// The Monitor's ordered summary: `last`, the level entries, `wall`, `end`,
    /// and with `verbose` `next step m_step load m_load`. Replied with [`Reply::Summary`].
    Summary {
        /// Include the timing entries.
        verbose: bool,
    },
    /// Ask the Monitor to stop after this firing, logging the message.
    Stop(&'a str),
    /// Leave messages with an experiment record (`_messages`) through the host, which stays the
    /// only writer of that record.
    Message {
        /// The experiment.
        experiment: ExperimentHandle,
        /// The named values.
        messages: &'a [(&'a str, ValueRef<'a>)],
        /// How the record keeps them.
        keep: Keep,
        /// A regex naming the variable that decides for the batch.
        leader: Option<&'a str>,
    },
    /// The display name and folder of an experiment handle: [`Reply::ExperimentInfo`].
    ExperimentInfo(ExperimentHandle),
    /// Merge a map into the experiment record's `_meta` (the Probe hook's system snapshot).
    UpdateMeta {
        /// The experiment.
        experiment: ExperimentHandle,
        /// A map value.
        meta: ValueRef<'a>,
    },
    /// The current state of a checkpointable object the host owns: [`Reply::State`].
    State(StateHandle),
    /// Leave `summary` (keep latest) and then `messages` (with `keep` and `leader`) with an
    /// experiment in one write of its record (the Messenger's firing).
    MessageWithSummary {
        /// The experiment.
        experiment: ExperimentHandle,
        /// The Monitor's summary, kept latest.
        summary: &'a [(&'a str, ValueRef<'a>)],
        /// The payload.
        messages: &'a [(&'a str, ValueRef<'a>)],
        /// How the record keeps the payload.
        keep: Keep,
        /// A regex naming the payload variable that decides for the batch.
        leader: Option<&'a str>,
    },
    /// The parameters of the run recorded in `directory` (its `params.yml`, read by the host,
    /// which owns the record format): [`Reply::Value`] with a map, or `None` when the folder
    /// holds no record (TensorBoard's HParams session).
    RunParams {
        /// The run's folder.
        directory: &'a str,
    },
    /// A snapshot of the machine as the host records it in `_meta` (the Probe hook), limited
    /// to `groups` (`system cpu memory disks network gpu slurm environ`): [`Reply::Value`]
    /// with a map. CPU usage in it is measured since the host's previous snapshot.
    SystemMeta {
        /// The groups to collect.
        groups: &'a [&'a str],
    },
}

impl Request<'_> {
    /// The service's name, for messages (`message`, `update_meta`).
    pub fn name(&self) -> &'static str {
        match self {
            Request::Print(_) => "print",
            Request::Log(_) => "log",
            Request::Summary { .. } => "summary",
            Request::Stop(_) => "stop",
            Request::Message { .. } => "message",
            Request::ExperimentInfo(_) => "experiment_info",
            Request::UpdateMeta { .. } => "update_meta",
            Request::State(_) => "state",
            Request::MessageWithSummary { .. } => "message_with_summary",
            Request::RunParams { .. } => "run_params",
            Request::SystemMeta { .. } => "system_meta",
        }
    }
}

/// The host's answer to a [`Request`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Reply {
    /// Done; nothing to return.
    Done,
    /// This host does not offer the service (it is older than the request).
    Unsupported,
    /// The service failed: what went wrong and how to fix it.
    Error(String),
    /// The Monitor's summary, in order.
    Summary(Vec<(String, String)>),
    /// An experiment's display name and folder, when the host knows the handle.
    ExperimentInfo(Option<(String, String)>),
    /// A checkpointable object's state.
    State(Snapshot),
    /// A value the host owns and hands over (run parameters, a system snapshot).
    Value(Value),
}

impl Reply {
    /// `Ok(())` for [`Reply::Done`]; the error text otherwise, naming the service.
    pub fn done(self, service: &str) -> Result<(), String> {
        match self {
            Reply::Done => Ok(()),
            other => Err(other.failure(service)),
        }
    }

    /// The error text of a reply that is not the one expected.
    fn failure(self, service: &str) -> String {
        match self {
            Reply::Error(e) => e,
            Reply::Unsupported => format!(
                "this host does not offer the `{service}` service (it is older than this hook); run the hook with a newer xmen"
            ),
            other => format!("the host answered `{service}` with an unexpected {other:?}"),
        }
    }
}

/// Services the host offers a hook: one call taking a [`Request`] and returning a [`Reply`].
/// Everything a hook prints goes through `print` or `log`, so output stays in order and is
/// captured by `--txt`.
///
/// Hooks call the typed methods on `dyn Host` (`host.log(..)`, `host.summary(true)`), which
/// build the request and read the reply.
pub trait Host {
    /// Serve one request.
    fn request(&self, request: Request<'_>) -> Reply;
}

impl dyn Host + '_ {
    /// Print one line, as is.
    pub fn print(&self, line: &str) {
        self.request(Request::Print(line));
    }
    /// Print `[{last} {levels}]: {text}`, like the original's `monitor.log(text)`.
    pub fn log(&self, text: &str) {
        self.request(Request::Log(text));
    }
    /// The Monitor's ordered summary: `last`, the level entries, `wall`,
    /// `end`, and with `verbose` `next step m_step load m_load`; empty if the host has none.
    pub fn summary(&self, verbose: bool) -> Vec<(String, String)> {
        match self.request(Request::Summary { verbose }) {
            Reply::Summary(s) => s,
            _ => Vec::new(),
        }
    }
    /// Ask the Monitor to stop after this firing, logging `msg`.
    pub fn stop(&self, msg: &str) {
        self.request(Request::Stop(msg));
    }
    /// Leave messages with an experiment record (docs/file-formats.md#_messages).
    pub fn message(
        &self,
        experiment: ExperimentHandle,
        messages: &[(&str, ValueRef<'_>)],
        keep: Keep,
        leader: Option<&str>,
    ) -> Result<(), String> {
        self.request(Request::Message { experiment, messages, keep, leader }).done("message")
    }
    /// The display name and folder of an experiment handle, when the host knows it.
    pub fn experiment_info(&self, experiment: ExperimentHandle) -> Option<(String, String)> {
        match self.request(Request::ExperimentInfo(experiment)) {
            Reply::ExperimentInfo(i) => i,
            _ => None,
        }
    }
    /// Leave the summary and then the messages with an experiment in one record write; a host
    /// without the service gets two `message` requests instead.
    pub fn message_with_summary(
        &self,
        experiment: ExperimentHandle,
        summary: &[(&str, ValueRef<'_>)],
        messages: &[(&str, ValueRef<'_>)],
        keep: Keep,
        leader: Option<&str>,
    ) -> Result<(), String> {
        match self.request(Request::MessageWithSummary { experiment, summary, messages, keep, leader }) {
            Reply::Unsupported => {
                summary_then_messages(summary, messages, keep, leader, |m, k, l| self.message(experiment, m, k, l))
            }
            other => other.done("message_with_summary"),
        }
    }
    /// Merge `meta` (a map) into the experiment record's `_meta`.
    pub fn update_meta(&self, experiment: ExperimentHandle, meta: ValueRef<'_>) -> Result<(), String> {
        self.request(Request::UpdateMeta { experiment, meta }).done("update_meta")
    }
    /// The parameters recorded in the run folder `directory`, in order; `None` when it holds
    /// no record.
    pub fn run_params(&self, directory: &str) -> Result<Option<Vec<(String, Value)>>, String> {
        match self.request(Request::RunParams { directory }) {
            Reply::Value(Value::Map(m)) => Ok(Some(m)),
            Reply::Value(Value::None) => Ok(None),
            other => Err(other.failure("run_params")),
        }
    }
    /// A snapshot of the machine, as the host records it in `_meta`, of the given groups.
    pub fn system_meta(&self, groups: &[&str]) -> Result<Value, String> {
        match self.request(Request::SystemMeta { groups }) {
            Reply::Value(v) => Ok(v),
            other => Err(other.failure("system_meta")),
        }
    }
    /// The current state of a checkpointable object the host owns (a `Value::State` handle).
    pub fn state(&self, state: StateHandle) -> Result<Snapshot, String> {
        match self.request(Request::State(state)) {
            Reply::State(s) => Ok(s),
            other => Err(other.failure("state")),
        }
    }
}

/// How a run ended, as a hook's [`Hook::close`] learns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunEnd {
    /// The run's status.
    pub status: RunStatus,
    /// Why, when known (an error's message, the signal).
    pub reason: Option<String>,
}

impl RunEnd {
    /// A run that finished normally.
    pub fn finished() -> RunEnd {
        RunEnd { status: RunStatus::Finished, reason: None }
    }
}

/// The status a run ended with (the `_status` of its record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunStatus {
    /// The body returned normally.
    Finished,
    /// The body returned an error or panicked.
    Error,
    /// Stopped by SIGINT/SIGTERM.
    Stopped,
    /// Out of time (SIGUSR1).
    Timeout,
    /// Out of time under SLURM, requeued.
    Requeue,
}

impl RunStatus {
    /// The record's spelling: `finished`, `error`, `stopped`, `timeout`, `requeue`.
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Finished => "finished",
            RunStatus::Error => "error",
            RunStatus::Stopped => "stopped",
            RunStatus::Timeout => "timeout",
            RunStatus::Requeue => "requeue",
        }
    }
    /// The status of a record spelling; `None` for anything else.
    pub fn from_name(s: &str) -> Option<RunStatus> {
        [RunStatus::Finished, RunStatus::Error, RunStatus::Stopped, RunStatus::Timeout, RunStatus::Requeue]
            .into_iter()
            .find(|x| x.name() == s)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the host hands a hook for a `Value::State` handle ([`Request::State`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// The object's Rust type (`tch::nn::VarStore`), recorded as the checkpoint's `version`.
    pub type_name: String,
    /// Its named tensors and metadata.
    pub state: StateDict,
}

/// One firing of a hook: its trigger and counters, its matched variables, and the host.
pub struct Firing<'a> {
    pub(crate) trigger: Option<Trigger>,
    pub(crate) counters: [u64; 5],
    pub(crate) vars: VarsView<'a>,
    pub(crate) host: &'a dyn Host,
}

#[derive(Clone, Copy)]
pub(crate) enum VarsView<'a> {
    Native(&'a [(&'a str, ValueRef<'a>)]),
    /// The Monitor's own variables, picked by index: a firing hands over its matches without
    /// collecting them into a buffer first (100 TensorBoard scalars would fill 4 KB per firing).
    Indexed {
        names: &'a [String],
        values: &'a [crate::value::Value],
        picked: &'a [usize],
    },
    Ffi(&'a [crate::abi::FfiVar<'static>]),
}

impl<'a> VarsView<'a> {
    /// The `i`-th variable (`i < len`). Always inlined: returned through memory from a call,
    /// the 40-byte pair stalled the caller's wide loads on store forwarding (42% of the
    /// TensorBoard hook's own time sat on one load after this call).
    #[inline(always)]
    pub(crate) fn at(self, i: usize) -> (&'a str, ValueRef<'a>) {
        match self {
            VarsView::Native(v) => v[i],
            VarsView::Indexed { names, values, picked } => {
                let j = picked[i];
                (names[j].as_str(), ValueRef::from(&values[j]))
            }
            VarsView::Ffi(v) => crate::abi::var_from_ffi(&v[i]),
        }
    }
    #[inline]
    pub(crate) fn len(self) -> usize {
        match self {
            VarsView::Native(v) => v.len(),
            VarsView::Indexed { picked, .. } => picked.len(),
            VarsView::Ffi(v) => v.len(),
        }
    }
}

/// The matched variables of a [`Firing`], in order: `(name, value)` pairs
/// ([`Firing::vars`]).
///
/// Internal iteration (`for_each`, `fold`, `sum`, ...) runs one tight loop per kind of
/// firing (native, the Monitor's own variables, or across the ABI) instead of telling
/// them apart at every variable.
#[derive(Clone)]
pub struct Vars<'a> {
    view: VarsView<'a>,
    pos: usize,
    end: usize,
}

impl<'a> Iterator for Vars<'a> {
    type Item = (&'a str, ValueRef<'a>);

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos < self.end {
            let i = self.pos;
            self.pos += 1;
            Some(self.view.at(i))
        } else {
            None
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.pos;
        (n, Some(n))
    }

    #[inline]
    fn fold<B, F: FnMut(B, Self::Item) -> B>(self, init: B, mut f: F) -> B {
        let (pos, end) = (self.pos, self.end);
        match self.view {
            VarsView::Native(v) => v[pos..end].iter().fold(init, |acc, x| f(acc, *x)),
            VarsView::Indexed { names, values, picked } => {
                picked[pos..end].iter().fold(init, |acc, &j| f(acc, (names[j].as_str(), ValueRef::from(&values[j]))))
            }
            VarsView::Ffi(v) => v[pos..end].iter().fold(init, |acc, x| f(acc, crate::abi::var_from_ffi(x))),
        }
    }
}

impl ExactSizeIterator for Vars<'_> {}

impl std::iter::FusedIterator for Vars<'_> {}

impl<'a> Firing<'a> {
    /// A firing with native variables: what a host (the Monitor, a test harness) hands a hook.
    pub fn new(
        trigger: Option<Trigger>,
        counters: [u64; 5],
        vars: &'a [(&'a str, ValueRef<'a>)],
        host: &'a dyn Host,
    ) -> Firing<'a> {
        Firing { trigger, counters, vars: VarsView::Native(vars), host }
    }
    /// The trigger that fired, or `None` for a manual hook fed through `to_hooks`.
    pub fn trigger(&self) -> Option<Trigger> {
        self.trigger
    }
    /// The cumulative counter of a trigger.
    pub fn counter(&self, t: Trigger) -> u64 {
        self.counters[t.index()]
    }
    /// All counters, innermost (step) first.
    pub fn counters(&self) -> [u64; 5] {
        self.counters
    }
    /// The step counter (`global_step` for TensorBoard).
    pub fn step(&self) -> u64 {
        self.counters[0]
    }
    /// Number of matched variables.
    pub fn len(&self) -> usize {
        self.vars.len()
    }
    /// True when no variable matched.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The matched variables, in the order they were first set.
    pub fn vars(&self) -> Vars<'a> {
        Vars { view: self.vars, pos: 0, end: self.vars.len() }
    }
    /// The matched variable called `name`.
    pub fn get(&self, name: &str) -> Option<ValueRef<'a>> {
        self.vars().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
    /// The matched variable `name` as a float, or an error naming it.
    pub fn f64(&self, name: &str) -> Result<f64, HookError> {
        let v = self.get(name).ok_or_else(|| HookError::new(format!("no variable {name:?} matched")))?;
        v.as_f64().ok_or_else(|| HookError::new(format!("variable {name:?} is a {}, not a number", v.kind())))
    }
    /// The host's services.
    pub fn host(&self) -> &'a dyn Host {
        self.host
    }
    /// Shorthand for `self.host().log(text)`.
    pub fn log(&self, text: &str) {
        self.host.log(text)
    }
    /// Shorthand for `self.host().print(line)`.
    pub fn print(&self, line: &str) {
        self.host.print(line)
    }
}

/// A hook: called by the Monitor when its spec fires.
///
/// ```
/// use xmen_core::hook::{Firing, Hook, HookResult, Outcome};
/// struct Count(u64);
/// impl Hook for Count {
///     fn call(&mut self, firing: &Firing<'_>) -> HookResult {
///         self.0 += 1;
///         firing.log(&format!("fired {} times", self.0));
///         Ok(Outcome::Continue)
///     }
/// }
/// ```
pub trait Hook: Send {
    /// Run the hook on one firing.
    fn call(&mut self, firing: &Firing<'_>) -> HookResult;

    /// Called once when the run ends (normal exit, error or a stop signal), with how it ended:
    /// flush here.
    fn close(&mut self, _end: &RunEnd, _host: &dyn Host) -> HookResult {
        Ok(Outcome::Continue)
    }

    /// What the hook needs from the Monitor.
    fn needs(&self) -> Needs {
        Needs::default()
    }

    /// The spec of an in-process hook handed to the builder with `.hook(h)`.
    /// Library hooks get their spec from the configuration and need not implement this.
    fn spec(&self) -> Option<Spec> {
        None
    }
}

/// The options a host fills in for every hook that declares them (in [`NewHook::OPTIONS`]),
/// unless the hook's configuration sets them: `directory`, the run's folder.
pub const HOST_OPTIONS: &[&str] = &["directory"];

/// The declared type of a hook option, for `xmen hooks list` and validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionInfo {
    /// Option name.
    pub name: String,
    /// Type text (`str`, `int`, `float`, `bool`, `list`, `map`, `any`).
    pub kind: String,
    /// One-line help.
    pub help: String,
    /// The default, rendered, if any.
    pub default: Option<String>,
}

impl OptionInfo {
    /// Describe an option.
    pub fn new(name: &str, kind: &str, help: &str) -> OptionInfo {
        OptionInfo { name: name.into(), kind: kind.into(), help: help.into(), default: None }
    }
    /// With a default value's text.
    pub fn default(mut self, text: &str) -> OptionInfo {
        self.default = Some(text.into());
        self
    }
}

/// A declared option of a hook, as constant data: `export_hooks!` writes it into the library's
/// compiled-in manifest, so `xmen hooks list` and `_hooks` validation know a hook's options
/// without running its code.
///
/// ```
/// use xmen_core::hook::OptionDecl;
/// const FORMAT: OptionDecl = OptionDecl::new("format", "str", "a Python format spec").default("''");
/// assert_eq!(FORMAT.default, Some("''"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionDecl {
    /// Option name.
    pub name: &'static str,
    /// Type text (`str`, `int`, `float`, `bool`, `list`, `map`, `any`).
    pub kind: &'static str,
    /// One-line help.
    pub help: &'static str,
    /// The default, rendered, if any.
    pub default: Option<&'static str>,
}

impl OptionDecl {
    /// Declare an option.
    pub const fn new(name: &'static str, kind: &'static str, help: &'static str) -> OptionDecl {
        OptionDecl { name, kind, help, default: None }
    }
    /// With a default value's text.
    pub const fn default(mut self, text: &'static str) -> OptionDecl {
        self.default = Some(text);
        self
    }
}

impl From<&OptionDecl> for OptionInfo {
    fn from(d: &OptionDecl) -> OptionInfo {
        OptionInfo { name: d.name.into(), kind: d.kind.into(), help: d.help.into(), default: d.default.map(Into::into) }
    }
}

/// A hook a library can construct from a spec and options: what `export_hooks!` exports.
pub trait NewHook: Hook + Sized + 'static {
    /// The name configuration uses (`logger`).
    const NAME: &'static str;
    /// One line of help.
    const HELP: &'static str;
    /// The options the constructor reads, as data (they go into the library's manifest).
    /// Declaring an option the host provides ([`HOST_OPTIONS`]) gets it filled in every run.
    const OPTIONS: &'static [OptionDecl] = &[];
    /// Example specs (`loss@10s`), as data (they go into the library's manifest): `xmen hooks
    /// info` shows them as ready-to-paste `_hooks` entries and `xmen hooks doctor` constructs
    /// and fires the hook on them.
    const EXAMPLES: &'static [&'static str] = &[];
    /// Build the hook. Report bad options as an error naming the option and the fix.
    fn new(spec: &Spec, options: &Options<'_>) -> Result<Self, HookError>;
}

/// Typed access to a hook's options (the `options:` map of a `_hooks` entry).
#[derive(Clone, Copy)]
pub struct Options<'a> {
    pub(crate) map: MapRef<'a>,
}

impl<'a> Options<'a> {
    /// Options over a list of owned pairs.
    pub fn new(pairs: &'a [(String, Value)]) -> Options<'a> {
        Options { map: MapRef { inner: crate::valueref::MapInner::Native(pairs) } }
    }
    /// The raw option.
    pub fn get(&self, name: &str) -> Option<ValueRef<'a>> {
        self.map.get(name)
    }
    /// Every option, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, ValueRef<'a>)> + 'a {
        self.map.iter()
    }
    fn typed<T>(&self, name: &str, what: &str, f: impl Fn(ValueRef<'a>) -> Option<T>) -> Result<Option<T>, HookError> {
        match self.get(name) {
            None | Some(ValueRef::None) => Ok(None),
            Some(v) => f(v).map(Some).ok_or_else(|| {
                HookError::new(format!("option {name:?} must be {what}, not the {} {v}", v.kind()))
                    .with_help(format!("write e.g. `options: {{{name}: ...}}` with {what}"))
            }),
        }
    }
    /// A string option.
    pub fn str(&self, name: &str) -> Result<Option<&'a str>, HookError> {
        self.typed(name, "a string", |v| v.as_str())
    }
    /// A float option (integers are accepted).
    pub fn f64(&self, name: &str) -> Result<Option<f64>, HookError> {
        self.typed(name, "a number", |v| v.as_f64())
    }
    /// An integer option.
    pub fn i64(&self, name: &str) -> Result<Option<i64>, HookError> {
        self.typed(name, "an integer", |v| match v {
            ValueRef::Int(i) => Some(i),
            _ => None,
        })
    }
    /// A boolean option.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, HookError> {
        self.typed(name, "true or false", |v| match v {
            ValueRef::Bool(b) => Some(b),
            _ => None,
        })
    }
    /// Fail on options not in `known`, naming the unknown one and listing the known.
    pub fn expect_only(&self, known: &[&str]) -> Result<(), HookError> {
        for (k, _) in self.iter() {
            if !known.contains(&k) {
                return Err(HookError::new(format!("unknown option {k:?}"))
                    .with_help(format!("known options: {}", known.join(", "))));
            }
        }
        Ok(())
    }
}

//! The TensorBoard hook (the original's `TensorboardLogger`): writes
//! scalars, images, histograms, figures, text, videos, PR curves and meshes for the
//! variables its spec matches, plus an HParams session, into
//! `{directory}/summaries/events.out.tfevents.*`.
//!
//! Key design choice: the training thread only copies. A firing's values are copied
//! (scalars into one small vector, tensors as raw bytes) and sent as one job through a
//! bounded queue to a writer thread, which encodes (protobuf, PNG, GIF) and writes.
//! The queue applies back-pressure when full, or, with `on_full: drop`, drops and
//! counts; [`Hook::close`] waits until everything queued is on disk, so a normal exit,
//! an error or a SIGTERM (which ends the Monitor's loops) loses nothing silently. Every
//! hook writing to the same folder in a process shares one event file and one thread.
//!
//! The event file is our own: prost-derived messages with TFRecord's masked CRC32C
//! framing ([`events`]), checked against the real TensorBoard's readers in the tests.
//!
//! ```
//! use xmen_hook::{NewHook, Options, Spec, Value};
//! use xmen_hook_tensorboard::TensorBoard;
//! let dir = tempfile::tempdir()?;
//! let options = vec![
//!     ("kind".to_string(), Value::from("scalar")),
//!     ("directory".to_string(), Value::from(dir.path().to_str().unwrap())),
//! ];
//! let hook = TensorBoard::new(&Spec::parse("loss@10s")?, &Options::new(&options))?;
//! assert!(hook.event_file().unwrap().starts_with(dir.path().join("summaries")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod encode;
pub mod events;
pub mod hparams;
pub mod options;
pub mod proto;
pub mod tags;
pub mod writer;

use encode::Payload;
use options::{Config, HParams, Kind, OnFull};
use std::path::Path;
use std::sync::Arc;
use tags::{Sub, TagCache};
use writer::{Job, SendError, Writer};
use xmen_hook::{
    DType, Firing, Hook, HookError, HookResult, Host, NewHook, OptionDecl, Options, Outcome, RunEnd, Spec, Tensor,
    Value, ValueRef,
};

/// Counts of one hook's work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Firings that reached the writer's queue.
    pub firings: u64,
    /// Summary values queued (a mesh counts once per part it writes).
    pub queued: u64,
    /// Firings dropped because the queue was full (`on_full: drop`).
    pub dropped_firings: u64,
    /// Summary values in the dropped firings.
    pub dropped: u64,
}

/// The TensorBoard hook. See the crate documentation.
pub struct TensorBoard {
    cfg: Config,
    writer: Option<Arc<Writer>>,
    tags: TagCache,
    names: Vec<String>,
    names_line: String,
    values_capacity: usize,
    stats: Stats,
    session_owner: bool,
    /// The HParams session is still to be started (at the first firing, or at close): the
    /// parameters come from the host, which a constructor cannot reach.
    session_pending: bool,
}

impl TensorBoard {
    /// A hook from checked options; opens (or joins) the writer of `{directory}/summaries`.
    pub fn with_config(cfg: Config) -> Result<TensorBoard, HookError> {
        let mut hook = TensorBoard {
            cfg,
            writer: None,
            tags: TagCache::default(),
            names: Vec::new(),
            names_line: String::new(),
            values_capacity: 0,
            stats: Stats::default(),
            session_owner: false,
            session_pending: false,
        };
        let Some(dir) = hook.cfg.directory.clone() else { return Ok(hook) };
        let summaries = dir.join("summaries");
        let writer = Writer::open(&summaries, hook.cfg.queue).map_err(|e| {
            HookError::new(format!("cannot open a TensorBoard event file in {}: {e}", summaries.display()))
                .with_help("check that the Monitor's directory is writable")
        })?;
        hook.session_pending = !matches!(hook.cfg.hparams, HParams::Off);
        hook.writer = Some(writer);
        Ok(hook)
    }

    /// Start the HParams session once: the run's parameters (from `hparams`, or the record in
    /// the directory, read by the host), the experiment's metrics, written at step 0.
    fn start_session(&mut self, host: &dyn Host, writer: &Writer) -> Result<(), HookError> {
        if !std::mem::take(&mut self.session_pending) {
            return Ok(());
        }
        let params = match &self.cfg.hparams {
            HParams::Off => None,
            HParams::Given(p) => Some(p.clone()),
            HParams::FromParams => {
                let dir = self.cfg.directory.clone().unwrap_or_default();
                hparams::read_params(host, &dir).map_err(|e| {
                    HookError::new(format!("option \"hparams\": {e}"))
                        .with_help("fix params.yml, give the parameters as `hparams: {...}`, or set `hparams: false`")
                })?
            }
        };
        let Some(params) = params else { return Ok(()) };
        let now = events::now_secs();
        let mut summaries = Vec::new();
        if !self.cfg.metrics.is_empty() && writer.claim_experiment() {
            summaries.extend(hparams::experiment(&params, &self.cfg.metrics, now));
        }
        if writer.claim_hparams() {
            summaries.extend(hparams::session_start(&params, now));
            self.session_owner = true;
        }
        if !summaries.is_empty() {
            let job = Job::Item { step: 0, wall: now, tag: "_hparams_".into(), payload: Payload::Ready(summaries) };
            writer.send(job).map_err(|_| closed_error(writer.dir()))?;
        }
        Ok(())
    }

    /// The event file this hook writes to (`None` without a directory or after close).
    pub fn event_file(&self) -> Option<&Path> {
        self.writer.as_deref().map(Writer::file)
    }

    /// What this hook has queued and dropped so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The `['a', 'b']` list of this firing's variable names, rebuilt only when they change.
    fn names_line(&mut self, firing: &Firing<'_>) -> &str {
        let same = self.names.len() == firing.len() && firing.vars().zip(&self.names).all(|((n, _), m)| n == m);
        if !same {
            self.names = firing.vars().map(|(n, _)| n.to_owned()).collect();
            let list = Value::List(self.names.iter().map(|n| Value::from(n.as_str())).collect());
            self.names_line = xmen_hook::pyfmt::repr_of(&list);
        }
        &self.names_line
    }

    fn enqueue(&mut self, writer: &Writer, job: Job, values: u64) -> Result<(), HookError> {
        let sent = match self.cfg.on_full {
            OnFull::Block => writer.send(job),
            OnFull::Drop => writer.try_send(job),
        };
        match sent {
            Ok(()) => {
                self.stats.firings += 1;
                self.stats.queued += values;
                Ok(())
            }
            Err(SendError::Full) => {
                self.stats.dropped_firings += 1;
                self.stats.dropped += values;
                Ok(())
            }
            Err(SendError::Closed) => Err(closed_error(writer.dir())),
        }
    }

    fn call_scalars(&mut self, firing: &Firing<'_>, writer: &Writer) -> Result<(), HookError> {
        // The training thread's whole share of a scalar firing: one pass copying the numbers
        // into a buffer recycled by the writer thread (no allocation in steady state), the tags
        // checked against the previous firing's, and one handoff; the writer encodes.
        let mut values = writer.scalar_buffer(self.values_capacity);
        let mut first_error = None;
        let (cache, cfg) = (&mut self.tags, &self.cfg);
        cache.begin();
        // The common case (a plain number is its own single part) inline, the rest out of line;
        // `fold` (internal iteration) runs one loop for this kind of firing.
        firing.vars().fold(
            (),
            #[inline(always)]
            |(), (name, v)| match v.as_f64() {
                Some(x) => {
                    cache.visit_whole(cfg, name);
                    values.push(x as f32);
                }
                None => scalar_parts(cache, cfg, name, v, &mut values, &mut first_error),
            },
        );
        let tags = self.tags.finish();
        if !values.is_empty() {
            self.values_capacity = values.len();
            let n = values.len() as u64;
            let job = Job::Scalars { step: firing.step() as i64, wall: events::now_secs(), tags, values };
            self.enqueue(writer, job, n)?;
        }
        first_error.map_or(Ok(()), Err)
    }

    fn call_items(&mut self, firing: &Firing<'_>, writer: &Writer) -> Result<(), HookError> {
        let kind = self.cfg.kind;
        let whole = |v: ValueRef<'_>| match (kind, v) {
            (Kind::PrCurve, ValueRef::Map(m)) => m.get("labels").is_some() && m.get("predictions").is_some(),
            (Kind::Mesh, ValueRef::Map(m)) => m.get("vertices").is_some(),
            _ => false,
        };
        let mut items = Vec::new();
        let mut first_error = None;
        for (name, v) in firing.vars() {
            tags::expand(v, whole, |sub, item| match payload_of(&self.cfg, item) {
                Ok((p, n)) => items.push((tags::tag(&self.cfg, name, sub), p, n)),
                Err(e) => {
                    first_error.get_or_insert_with(|| value_error(&self.cfg, name, sub, &e));
                }
            });
        }
        let (step, wall) = (firing.step() as i64, events::now_secs());
        for (tag, payload, n) in items {
            self.enqueue(writer, Job::Item { step, wall, tag, payload }, n)?;
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The scalars of a variable that is not a plain number: a tensor's mean, a map's or a list's
/// numeric parts (with their own tags), or an error for anything else.
#[inline(never)]
fn scalar_parts(
    cache: &mut TagCache,
    cfg: &Config,
    name: &str,
    v: ValueRef<'_>,
    values: &mut Vec<f32>,
    first_error: &mut Option<HookError>,
) {
    tags::expand(
        v,
        |_| false,
        |sub, item| match scalar_of(item) {
            Ok(x) => {
                cache.visit(cfg, name, sub);
                values.push(x as f32);
            }
            Err(e) => {
                first_error.get_or_insert_with(|| value_error(cfg, name, sub, &e));
            }
        },
    );
}

fn closed_error(dir: &Path) -> HookError {
    HookError::new(format!("the TensorBoard writer for {} has stopped; summaries are not being written", dir.display()))
        .with_help("an earlier error says why; this is a bug if none did")
}

fn value_error(cfg: &Config, name: &str, sub: Sub<'_>, e: &str) -> HookError {
    let part = match sub {
        Sub::Whole => String::new(),
        Sub::Key(k) => format!(" (entry {k:?})"),
        Sub::Index(i) => format!(" (item {i})"),
    };
    HookError::new(format!("variable {name:?}{part}: {e}; TensorBoard {} summary skipped", cfg.kind.name())).with_help(
        match cfg.kind {
            Kind::Scalar => "publish a number or a tensor (tensors are reduced by their mean)",
            Kind::Image => "publish a [C,H,W] or [B,C,H,W] tensor with 1, 3 or 4 channels, or PNG bytes",
            Kind::Figure => "publish PNG bytes, e.g. from xmen_plot::Figure::to_png",
            Kind::Histogram => "publish a tensor or a number",
            Kind::Text => "publish a string",
            Kind::Video => "publish a [B,T,C,H,W] tensor with values in [0, 1] (or u8)",
            Kind::PrCurve => {
                "publish {labels: tensor, predictions: tensor} or a [2,N] tensor of labels and predictions"
            }
            Kind::Mesh => "publish {vertices: [B,N,3], faces: [B,F,3], colors: [B,N,3]} or a vertices tensor",
        },
    )
}

/// A scalar summary's value: numbers as they are, tensors by their mean.
fn scalar_of(v: ValueRef<'_>) -> Result<f64, String> {
    if let Some(x) = v.as_f64() {
        return Ok(x);
    }
    match v {
        ValueRef::Tensor(t) if t.dtype == DType::F32 && t.shape.is_empty() && t.data.len() == 4 => {
            Ok(f64::from(f32::from_le_bytes([t.data[0], t.data[1], t.data[2], t.data[3]])))
        }
        ValueRef::Tensor(t) => {
            let v = t.to_f64_vec();
            Ok(if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 })
        }
        other => Err(format!("a scalar summary needs a number or a tensor, not a {}", other.kind())),
    }
}

/// A tensor from a tensor, a number or a list of numbers.
fn tensor_of(v: ValueRef<'_>) -> Option<Tensor> {
    match v {
        ValueRef::Tensor(t) => Some(t.to_tensor()),
        ValueRef::List(l) => {
            let xs: Option<Vec<f64>> = l.iter().map(|x| x.as_f64()).collect();
            xs.map(|xs| Tensor::from_f64(&[xs.len() as u64], &xs))
        }
        other => other.as_f64().map(|x| Tensor::from_f64(&[1], &[x])),
    }
}

/// Copy and check one value for a non-scalar kind; returns the payload and how many
/// summary values it will write.
fn payload_of(cfg: &Config, v: ValueRef<'_>) -> Result<(Payload, u64), String> {
    let not = |what: &str| Err(format!("a {} summary needs {what}, not a {}", cfg.kind.name(), v.kind()));
    Ok(match (cfg.kind, v) {
        (Kind::Image | Kind::Figure, ValueRef::Image(png)) => (Payload::Png(png.to_vec()), 1),
        (Kind::Image | Kind::Figure, ValueRef::Tensor(t)) => {
            encode::grid::image_dims(t.shape)?;
            (Payload::Image(t.to_tensor(), cfg.grid), 1)
        }
        (Kind::Image, _) => return not("a [C,H,W] or [B,C,H,W] tensor or PNG bytes"),
        (Kind::Figure, _) => return not("PNG bytes (a rendered figure)"),
        (Kind::Histogram, _) => match tensor_of(v) {
            Some(t) if t.numel() > 0 => (Payload::Histogram(t), 1),
            Some(_) => return Err("a histogram needs at least one value, the tensor is empty".into()),
            None => return not("a tensor or a number"),
        },
        (Kind::Text, ValueRef::Str(s)) => (Payload::Text(s.to_owned()), 1),
        (Kind::Text, ValueRef::Tensor(_) | ValueRef::Image(_) | ValueRef::Experiment(_) | ValueRef::State(_)) => {
            return not("a string")
        }
        (Kind::Text, other) => (Payload::Text(other.to_string()), 1),
        (Kind::Video, ValueRef::Tensor(t)) => {
            encode::video::video_dims(t.shape)?;
            (Payload::Video(t.to_tensor(), cfg.fps), 1)
        }
        (Kind::Video, _) => return not("a [B,T,C,H,W] tensor"),
        (Kind::PrCurve, ValueRef::Map(m)) => {
            let get = |k: &str| m.get(k).and_then(tensor_of);
            let (Some(labels), Some(predictions)) = (get("labels"), get("predictions")) else {
                return Err("a PR curve map needs tensors `labels` and `predictions`".into());
            };
            (Payload::PrCurve { labels, predictions, weights: get("weights"), num_thresholds: cfg.num_thresholds }, 1)
        }
        (Kind::PrCurve, ValueRef::Tensor(t)) if t.shape.len() == 2 && (t.shape[0] == 2 || t.shape[0] == 3) => {
            let n = t.shape[1] as usize;
            let all = t.to_f64_vec();
            let row = |r: usize| Tensor::from_f64(&[n as u64], &all[r * n..(r + 1) * n]);
            let weights = (t.shape[0] == 3).then(|| row(2));
            (Payload::PrCurve { labels: row(0), predictions: row(1), weights, num_thresholds: cfg.num_thresholds }, 1)
        }
        (Kind::PrCurve, _) => return not("{labels, predictions} or a [2,N] tensor"),
        (Kind::Mesh, ValueRef::Map(m)) => {
            let part = |k: &str| -> Result<Option<Tensor>, String> {
                match m.get(k) {
                    None | Some(ValueRef::None) => Ok(None),
                    Some(ValueRef::Tensor(t)) => {
                        encode::plugins::mesh_dims(k, t.shape)?;
                        Ok(Some(t.to_tensor()))
                    }
                    Some(o) => Err(format!("mesh {k} must be a tensor, not a {}", o.kind())),
                }
            };
            let vertices = part("vertices")?.ok_or("a mesh needs `vertices`")?;
            let (faces, colors) = (part("faces")?, part("colors")?);
            let n = 1 + u64::from(faces.is_some()) + u64::from(colors.is_some());
            (Payload::Mesh { vertices, faces, colors }, n)
        }
        (Kind::Mesh, ValueRef::Tensor(t)) => {
            encode::plugins::mesh_dims("vertices", t.shape)?;
            (Payload::Mesh { vertices: t.to_tensor(), faces: None, colors: None }, 1)
        }
        (Kind::Mesh, _) => return not("{vertices, faces, colors} or a vertices tensor"),
        (Kind::Scalar, _) => return Err("internal: scalars take the fast path".into()),
    })
}

impl Hook for TensorBoard {
    fn call(&mut self, firing: &Firing<'_>) -> HookResult {
        if self.session_pending {
            if let Some(writer) = self.writer.clone() {
                self.start_session(firing.host(), &writer)?;
            }
        }
        if firing.is_empty() {
            return Ok(Outcome::Continue);
        }
        // Taken out for the call and put back (no reference count touched per firing).
        let Some(writer) = self.writer.take() else {
            let names = self.names_line(firing).to_owned();
            firing.log(&format!("WARNING: Cannot log {names} to tensorboard as monitor does not have a directory"));
            return Ok(Outcome::Continue);
        };
        let r = self.call_with(firing, &writer);
        self.writer = Some(writer);
        r
    }

    fn close(&mut self, end: &RunEnd, host: &dyn Host) -> HookResult {
        self.close_writer(end, host)
    }
}

impl TensorBoard {
    fn call_with(&mut self, firing: &Firing<'_>, writer: &Writer) -> HookResult {
        if !self.cfg.quiet {
            let names = self.names_line(firing).to_owned();
            let dir = self.cfg.directory.as_deref().map(|d| d.display().to_string()).unwrap_or_default();
            let line = format!("saved tb {} summaries for {names} at {dir}", self.cfg.kind.name());
            firing.log(&line);
        }
        if let Some(e) = writer.take_error() {
            return Err(HookError::new(format!("TensorBoard writer: {e}")));
        }
        match self.cfg.kind {
            Kind::Scalar => self.call_scalars(firing, writer)?,
            _ => self.call_items(firing, writer)?,
        }
        Ok(Outcome::Continue)
    }

    fn close_writer(&mut self, end: &RunEnd, host: &dyn Host) -> HookResult {
        let Some(writer) = self.writer.take() else { return Ok(Outcome::Continue) };
        // A run that never fired still has its session (and its end).
        self.start_session(host, &writer)?;
        if self.session_owner {
            let now = events::now_secs();
            let job = Job::Item {
                step: 0,
                wall: now,
                tag: "_hparams_".into(),
                payload: Payload::Ready(hparams::session_end(end.status, now)),
            };
            writer.send(job).map_err(|_| closed_error(writer.dir()))?;
        }
        writer.flush().map_err(|_| closed_error(writer.dir()))?;
        if let Some(e) = writer.take_error() {
            return Err(HookError::new(format!(
                "TensorBoard writer: {e} ({} summary values could not be written)",
                writer.failed()
            )));
        }
        let s = self.stats;
        if s.dropped > 0 {
            return Ok(Outcome::Warn(format!(
                "dropped {} of {} {} summaries ({} firings) because the writer's queue was full; \
                 raise option `queue` or use `on_full: block`",
                s.dropped,
                s.dropped + s.queued,
                self.cfg.kind.name(),
                s.dropped_firings
            )));
        }
        Ok(Outcome::Continue)
    }
}

impl NewHook for TensorBoard {
    const NAME: &'static str = "tensorboard";
    const HELP: &'static str = "Write TensorBoard summaries (scalar, image, histogram, figure, text, video, pr_curve, mesh) of matched variables to {directory}/summaries";

    const OPTIONS: &'static [OptionDecl] = Config::OPTIONS;

    const EXAMPLES: &'static [&'static str] = &["loss|acc@10s", "x@1e"];

    fn new(_spec: &Spec, options: &Options<'_>) -> Result<TensorBoard, HookError> {
        TensorBoard::with_config(Config::from_options(options)?)
    }
}

xmen_hook::export_hooks!(TensorBoard);

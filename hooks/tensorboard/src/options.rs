//! The hook's options, read and checked once at construction.

use crate::encode::grid::GridOptions;
use std::path::PathBuf;
use xmen_hook::{HookError, OptionDecl, Options, Value, ValueRef};

/// The summary kind a hook writes (the original's `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `add_scalar`; tensors are reduced by their mean.
    Scalar,
    /// `add_image`; tensors are tiled with `make_grid`.
    Image,
    /// `add_histogram`.
    Histogram,
    /// `add_figure`: an encoded PNG.
    Figure,
    /// `add_text`.
    Text,
    /// `add_video`: `[B,T,C,H,W]` as an animated GIF.
    Video,
    /// `add_pr_curve`.
    PrCurve,
    /// `add_mesh`.
    Mesh,
}

impl Kind {
    /// Every kind, in the original's order.
    pub const ALL: [Kind; 8] =
        [Kind::Image, Kind::Scalar, Kind::Histogram, Kind::Figure, Kind::Video, Kind::Text, Kind::PrCurve, Kind::Mesh];

    /// The configuration name (`scalar`, `pr_curve`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Scalar => "scalar",
            Kind::Image => "image",
            Kind::Histogram => "histogram",
            Kind::Figure => "figure",
            Kind::Text => "text",
            Kind::Video => "video",
            Kind::PrCurve => "pr_curve",
            Kind::Mesh => "mesh",
        }
    }

    /// Parse a configuration name.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// What to do when the writer's queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFull {
    /// Wait for the writer (back-pressure); nothing is lost.
    Block,
    /// Drop the firing's summaries and count them.
    Drop,
}

/// Where the hparams session's parameters come from.
#[derive(Clone, Debug, PartialEq)]
pub enum HParams {
    /// Write no hparams session.
    Off,
    /// Read `{directory}/params.yml` when it exists (the default).
    FromParams,
    /// These parameters.
    Given(Vec<(String, Value)>),
}

/// The checked options.
#[derive(Clone, Debug)]
pub struct Config {
    /// The summary kind.
    pub kind: Kind,
    /// Prepended to every tag.
    pub prefix: String,
    /// Map entries become `{tag}_{key}` (true) or `{key}` (false).
    pub prepend: bool,
    /// The Monitor's folder; summaries go to `{directory}/summaries`.
    pub directory: Option<PathBuf>,
    /// `make_grid` options for images.
    pub grid: GridOptions,
    /// Frames per second of videos.
    pub fps: f64,
    /// Points on a PR curve.
    pub num_thresholds: u32,
    /// Jobs (firings) the writer's queue holds.
    pub queue: usize,
    /// Back-pressure or drop when the queue is full.
    pub on_full: OnFull,
    /// Do not log the original's `saved tb ...` line at each firing.
    pub quiet: bool,
    /// The hparams session.
    pub hparams: HParams,
    /// Scalar tags the HParams dashboard shows as metrics.
    pub metrics: Vec<String>,
}

const GRID: [&str; 6] = ["nrow", "padding", "normalize", "range", "scale_each", "pad_value"];
const KNOWN: [&str; 17] = [
    "kind",
    "prefix",
    "prepend",
    "directory",
    "nrow",
    "padding",
    "normalize",
    "range",
    "scale_each",
    "pad_value",
    "fps",
    "num_thresholds",
    "queue",
    "on_full",
    "quiet",
    "hparams",
    "metrics",
];

fn bad(option: &str, message: String, help: &str) -> HookError {
    HookError::new(format!("option {option:?}: {message}")).with_help(help.to_owned())
}

fn non_negative(o: &Options<'_>, name: &str) -> Result<Option<usize>, HookError> {
    match o.i64(name)? {
        Some(n) if n < 0 => Err(bad(name, format!("must not be negative, got {n}"), "give a count such as 8")),
        Some(n) => Ok(Some(n as usize)),
        None => Ok(None),
    }
}

impl Config {
    /// Read and check the options, naming any bad one with the fix.
    pub fn from_options(o: &Options<'_>) -> Result<Config, HookError> {
        o.expect_only(&KNOWN)?;
        let kind = match o.str("kind")? {
            None => Kind::Scalar,
            Some(s) => Kind::parse(s).ok_or_else(|| {
                bad(
                    "kind",
                    format!("unknown summary kind {s:?}"),
                    "use one of image, scalar, histogram, figure, video, text, pr_curve, mesh",
                )
            })?,
        };
        if kind != Kind::Image {
            if let Some(g) = GRID.iter().find(|g| o.get(g).is_some()) {
                return Err(bad(
                    g,
                    format!("make_grid options apply to kind image only, not {}", kind.name()),
                    "remove it, or set `kind: image`",
                ));
            }
        }
        let mut grid = GridOptions::default();
        if let Some(n) = non_negative(o, "nrow")? {
            grid.nrow = n.max(1);
        }
        if let Some(n) = non_negative(o, "padding")? {
            grid.padding = n;
        }
        grid.normalize = o.bool("normalize")?.unwrap_or(grid.normalize);
        grid.scale_each = o.bool("scale_each")?.unwrap_or(grid.scale_each);
        grid.pad_value = o.f64("pad_value")?.unwrap_or(grid.pad_value);
        grid.range = match o.get("range") {
            None | Some(ValueRef::None) => None,
            Some(ValueRef::List(l)) if l.len() == 2 => {
                match (l.get(0).and_then(|v| v.as_f64()), l.get(1).and_then(|v| v.as_f64())) {
                    (Some(lo), Some(hi)) => Some((lo, hi)),
                    _ => return Err(bad("range", "must hold two numbers".into(), "write e.g. `range: [0, 1]`")),
                }
            }
            Some(v) => {
                return Err(bad(
                    "range",
                    format!("must be a list [low, high], not the {} {v}", v.kind()),
                    "write e.g. `range: [0, 1]`",
                ))
            }
        };
        let on_full = match o.str("on_full")? {
            None | Some("block") => OnFull::Block,
            Some("drop") => OnFull::Drop,
            Some(s) => {
                return Err(bad(
                    "on_full",
                    format!("unknown policy {s:?}"),
                    "use `block` (wait) or `drop` (drop and count)",
                ))
            }
        };
        let hparams = match o.get("hparams") {
            None | Some(ValueRef::None) | Some(ValueRef::Bool(true)) => HParams::FromParams,
            Some(ValueRef::Bool(false)) => HParams::Off,
            Some(ValueRef::Map(m)) => HParams::Given(m.iter().map(|(k, v)| (k.to_owned(), v.to_value())).collect()),
            Some(v) => {
                return Err(bad(
                    "hparams",
                    format!("must be true, false or a map of parameters, not the {} {v}", v.kind()),
                    "write `hparams: false` to disable, or `hparams: {lr: 0.1}`",
                ))
            }
        };
        let metrics = match o.get("metrics") {
            None | Some(ValueRef::None) => Vec::new(),
            Some(ValueRef::Str(s)) => vec![s.to_owned()],
            Some(ValueRef::List(l)) if l.iter().all(|v| v.as_str().is_some()) => {
                l.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
            }
            Some(v) => {
                return Err(bad(
                    "metrics",
                    format!("must be a list of scalar tags, not the {} {v}", v.kind()),
                    "write e.g. `metrics: [loss, acc]`",
                ))
            }
        };
        let fps = o.f64("fps")?.unwrap_or(4.0);
        if fps.is_nan() || fps <= 0.0 {
            return Err(bad("fps", format!("must be positive, got {fps}"), "write e.g. `fps: 4`"));
        }
        Ok(Config {
            kind,
            prefix: o.str("prefix")?.unwrap_or("").to_owned(),
            prepend: o.bool("prepend")?.unwrap_or(true),
            directory: o.str("directory")?.filter(|d| !d.is_empty()).map(PathBuf::from),
            grid,
            fps,
            num_thresholds: non_negative(o, "num_thresholds")?.unwrap_or(127).clamp(2, 1 << 20) as u32,
            queue: non_negative(o, "queue")?.unwrap_or(1024).max(1),
            on_full,
            quiet: o.bool("quiet")?.unwrap_or(false),
            hparams,
            metrics,
        })
    }

    /// The options, as data (they go into the library's manifest).
    pub const OPTIONS: &'static [OptionDecl] = &[
        OptionDecl::new("kind", "str", "image, scalar, histogram, figure, video, text, pr_curve or mesh")
            .default("'scalar'"),
        OptionDecl::new("prefix", "str", "prepended to every tag").default("''"),
        OptionDecl::new("prepend", "bool", "map entries are tagged {tag}_{key} (true) or {key} (false)")
            .default("true"),
        OptionDecl::new(
            "directory",
            "str",
            "the Monitor's folder (set by the builder); summaries go to {directory}/summaries",
        ),
        OptionDecl::new("nrow", "int", "image: images per grid row").default("8"),
        OptionDecl::new("padding", "int", "image: pixels between grid cells").default("2"),
        OptionDecl::new("normalize", "bool", "image: scale values to [0, 1] by range or min/max").default("true"),
        OptionDecl::new("range", "list", "image: [low, high] to normalise by"),
        OptionDecl::new("scale_each", "bool", "image: normalise each image separately").default("true"),
        OptionDecl::new("pad_value", "float", "image: value of padding pixels").default("0"),
        OptionDecl::new("fps", "float", "video: frames per second").default("4"),
        OptionDecl::new("num_thresholds", "int", "pr_curve: points on the curve").default("127"),
        OptionDecl::new("queue", "int", "firings the writer's queue holds").default("1024"),
        OptionDecl::new("on_full", "str", "block (back-pressure) or drop (and count) when the queue is full")
            .default("'block'"),
        OptionDecl::new("quiet", "bool", "do not log `saved tb ...` at each firing").default("false"),
        OptionDecl::new(
            "hparams",
            "any",
            "true: the session's hparams from {directory}/params.yml; a map: these; false: none",
        )
        .default("true"),
        OptionDecl::new(
            "metrics",
            "list",
            "scalar tags the HParams dashboard shows as metrics (default: every scalar)",
        ),
    ];
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, Value)]) -> Result<Config, HookError> {
        let owned: Vec<(String, Value)> = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        Config::from_options(&Options::new(&owned))
    }

    #[test]
    fn defaults_are_the_originals() {
        let c = cfg(&[]).unwrap();
        assert_eq!((c.kind, c.prepend, c.grid, c.on_full), (Kind::Scalar, true, GridOptions::default(), OnFull::Block));
    }

    #[test]
    fn errors_name_the_option_and_the_fix() {
        let e = cfg(&[("kind", "audio".into())]).unwrap_err();
        assert!(e.message.contains("\"kind\"") && e.help.unwrap().contains("pr_curve"));
        let e = cfg(&[("nrow", 2.into())]).unwrap_err();
        assert!(e.message.contains("kind image only"));
        let e = cfg(&[("kind", "image".into()), ("range", 1.into())]).unwrap_err();
        assert!(e.message.contains("\"range\""));
        let e = cfg(&[("on_full", "wait".into())]).unwrap_err();
        assert!(e.help.unwrap().contains("drop"));
    }

    #[test]
    fn image_options_are_read() {
        let c = cfg(&[
            ("kind", "image".into()),
            ("nrow", 2.into()),
            ("range", Value::List(vec![0.into(), 1.0.into()])),
            ("normalize", false.into()),
        ])
        .unwrap();
        assert_eq!((c.grid.nrow, c.grid.range, c.grid.normalize), (2, Some((0.0, 1.0)), false));
    }
}

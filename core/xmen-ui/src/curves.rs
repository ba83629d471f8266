//! A run's curves: the scalars of its TensorBoard event files (read by `xmen-tfevents`,
//! incrementally, so a file being appended to is followed), one chart per tag.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use xmen_tfevents::Point;

use crate::chart::{self, Line};
use crate::html::{esc, Query};
use crate::state::{lock, App};

/// The x axis of a curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    /// The global step.
    Step,
    /// Seconds since the run's first point.
    Relative,
    /// Wall-clock time.
    Wall,
}

impl Axis {
    /// From the query's `axis=` (`step` when absent or unknown).
    pub fn from_query(q: &Query) -> Axis {
        match q.get("axis") {
            Some("relative") => Axis::Relative,
            Some("wall") => Axis::Wall,
            _ => Axis::Step,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Axis::Step => "step",
            Axis::Relative => "relative time (s)",
            Axis::Wall => "wall time (UTC)",
        }
    }
}

/// How curves are drawn.
#[derive(Clone, Copy, Debug)]
pub struct CurveOpts {
    /// The x axis.
    pub axis: Axis,
    /// The smoothing weight in [0, 0.999].
    pub smooth: f64,
}

impl CurveOpts {
    /// From the query's `axis=` and `smooth=`.
    pub fn from_query(q: &Query) -> CurveOpts {
        let smooth = q.get("smooth").and_then(|s| s.parse::<f64>().ok()).filter(|s| s.is_finite()).unwrap_or(0.0);
        CurveOpts { axis: Axis::from_query(q), smooth: smooth.clamp(0.0, 0.999) }
    }
}

/// The event files of a run folder (up to three levels down: `summaries/`, TensorBoard's
/// `train/` and `eval/` subfolders), in name order (their names start with a timestamp).
pub fn event_files(folder: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let Ok(ty) = e.file_type() else { continue };
            let name = e.file_name();
            if ty.is_file() && xmen_tfevents::is_event_file(&name.to_string_lossy()) {
                out.push(e.path());
            } else if ty.is_dir() && depth > 0 && name != "checkpoints" {
                walk(&e.path(), depth - 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(folder, 3, &mut out);
    out.sort();
    out
}

/// A run's series by tag: (x, y) points sorted by x.
pub type Tags = BTreeMap<String, Vec<(f64, f64)>>;

/// The scalars of one run by tag as (x, y) on `axis`, each sorted by x; and the reading errors.
pub fn run_series(app: &App, folder: &Path, axis: Axis) -> (Tags, Vec<String>) {
    let mut errors = Vec::new();
    let files: Vec<_> = event_files(folder).iter().map(|p| app.event_file(p)).collect();
    let mut guards = Vec::with_capacity(files.len());
    for f in &files {
        let mut g = lock(f);
        if let Err(e) = g.refresh() {
            errors.push(e.to_string());
        }
        guards.push(g);
    }
    let first_wall = guards
        .iter()
        .flat_map(|g| g.series().values().filter_map(|p| p.first().map(|p| p.wall)))
        .fold(f64::INFINITY, f64::min);
    let x = |p: &Point| match axis {
        Axis::Step => p.step as f64,
        Axis::Relative => p.wall - first_wall,
        Axis::Wall => p.wall,
    };
    let mut out: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for g in &guards {
        for (tag, points) in g.series() {
            let v = out.entry(tag.clone()).or_default();
            v.reserve(points.len());
            v.extend(points.iter().map(|p| (x(p), p.value)));
        }
    }
    for v in out.values_mut() {
        if !v.windows(2).all(|w| w[0].0 <= w[1].0) {
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
    }
    (out, errors)
}

/// The last value of each tag of a run (for scatter views).
pub fn final_scalars(app: &App, folder: &Path) -> BTreeMap<String, f64> {
    let (series, _) = run_series(app, folder, Axis::Step);
    series.into_iter().filter_map(|(t, v)| v.last().map(|p| (t, p.1))).collect()
}

/// Smooth and downsample one series for a chart.
pub fn prepare(mut points: Vec<(f64, f64)>, smooth: f64) -> Vec<(f64, f64)> {
    chart::smooth(&mut points, smooth);
    chart::lttb(&points, chart::budget())
}

/// One chart per tag over `runs` (folder, label), each run in its colour; the HTML of the
/// charts and of any reading errors.
pub fn charts_html(app: &App, runs: &[(PathBuf, String)], opts: CurveOpts) -> String {
    let mut by_tag: BTreeMap<String, Vec<Line>> = BTreeMap::new();
    let mut errors = Vec::new();
    for (i, (folder, label)) in runs.iter().enumerate() {
        let (series, errs) = run_series(app, folder, opts.axis);
        errors.extend(errs);
        for (tag, points) in series {
            let points = prepare(points, opts.smooth);
            by_tag.entry(tag).or_default().push(Line { label: label.clone(), colour: chart::colour(i), points });
        }
    }
    let mut s = String::new();
    for e in &errors {
        let _ = write!(s, "<div class=\"err\">{}</div>", esc(e));
    }
    if by_tag.is_empty() {
        let _ = write!(
            s,
            "<p class=\"muted\" id=\"no-curves\">No scalars yet: curves come from TensorBoard event files \
             (<code>events.out.tfevents.*</code>) in the run folder, e.g. written by the tensorboard hook.</p>"
        );
        return s;
    }
    s.push_str("<div class=\"charts\">");
    for (tag, lines) in &by_tag {
        let _ = write!(
            s,
            "<div class=\"chart-box\" data-tag=\"{}\">{}</div>",
            esc(tag),
            chart::line_chart(tag, opts.axis.name(), lines, opts.axis == Axis::Wall)
        );
    }
    s.push_str("</div>");
    s
}

/// The axis and smoothing controls (a GET form keeping the other query parameters).
pub fn controls(action: &str, q: &Query, opts: CurveOpts) -> String {
    let mut s = format!("<form method=\"get\" action=\"{action}\" class=\"curve-controls\">");
    for (k, v) in &q.0 {
        if k != "axis" && k != "smooth" {
            let _ = write!(s, "<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(k), esc(v));
        }
    }
    s.push_str("x axis: <select name=\"axis\" onchange=\"this.form.submit()\">");
    for (v, l) in [("step", "step"), ("relative", "relative time"), ("wall", "wall time")] {
        let on = Axis::from_query(&Query(vec![("axis".into(), v.into())])) == opts.axis;
        let _ = write!(s, "<option value=\"{v}\"{}>{l}</option>", if on { " selected" } else { "" });
    }
    let _ = write!(
        s,
        "</select> smoothing: <input type=\"range\" name=\"smooth\" min=\"0\" max=\"0.99\" step=\"0.01\" value=\"{}\" onchange=\"this.form.submit()\"> {}</form>",
        opts.smooth,
        opts.smooth
    );
    s
}

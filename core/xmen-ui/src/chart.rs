//! Charts drawn on the server as SVG: no script library, nothing to pin or license. A series is
//! smoothed (TensorBoard's debiased exponential moving average) on all its points, then cut to
//! what the chart can show with largest-triangle-three-buckets, so a million points become a
//! thousand that keep the curve's shape, peaks included.

use std::fmt::Write as _;

use crate::html::esc;

/// Colours of the runs, in order (matplotlib's tab10).
pub const PALETTE: [&str; 10] =
    ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/// The colour of the `i`-th run.
pub fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// A chart's size in pixels.
pub const WIDTH: f64 = 560.0;
/// A chart's height.
pub const HEIGHT: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 26.0;
const BOTTOM: f64 = 40.0;

/// How many points a series keeps: two per horizontal pixel of the plot.
pub fn budget() -> usize {
    ((WIDTH - LEFT - RIGHT) * 2.0) as usize
}

/// TensorBoard's smoothing: an exponential moving average with weight `w` in [0, 1), debiased
/// so that the first points are not pulled towards zero. Non-finite values pass through.
pub fn smooth(points: &mut [(f64, f64)], w: f64) {
    if w <= 0.0 {
        return;
    }
    // `decay` is w^n, kept as a running product (powi per point costs more than the rest).
    let (mut last, mut decay) = (0.0, 1.0);
    for p in points.iter_mut() {
        if !p.1.is_finite() {
            continue;
        }
        last = last * w + (1.0 - w) * p.1;
        decay *= w;
        p.1 = last / (1.0 - decay);
    }
}

/// Largest-triangle-three-buckets: keep `threshold` points of `data` (sorted by x) that best
/// keep its visual shape; the first and last points are always kept.
pub fn lttb(data: &[(f64, f64)], threshold: usize) -> Vec<(f64, f64)> {
    let n = data.len();
    if threshold >= n || threshold < 3 {
        return data.to_vec();
    }
    let mut out = Vec::with_capacity(threshold);
    out.push(data[0]);
    let every = (n - 2) as f64 / (threshold - 2) as f64;
    let mut a = 0usize;
    for i in 0..threshold - 2 {
        // The next bucket's average is the third corner of the triangle.
        let next_start = ((i + 1) as f64 * every) as usize + 1;
        let next_end = (((i + 2) as f64 * every) as usize + 1).min(n);
        let (mut ax, mut ay) = (0.0, 0.0);
        let span = next_end.saturating_sub(next_start).max(1);
        for p in &data[next_start.min(n - 1)..next_end.max(next_start.min(n - 1) + 1).min(n)] {
            ax += p.0;
            ay += p.1;
        }
        ax /= span as f64;
        ay /= span as f64;
        let start = (i as f64 * every) as usize + 1;
        let end = (((i + 1) as f64 * every) as usize + 1).min(n - 1);
        let (px, py) = data[a];
        let (mut best, mut best_area) = (start, -1.0);
        for (j, p) in data.iter().enumerate().take(end).skip(start) {
            let area = ((px - ax) * (p.1 - py) - (px - p.0) * (ay - py)).abs();
            if area > best_area {
                best_area = area;
                best = j;
            }
        }
        out.push(data[best]);
        a = best;
    }
    out.push(data[n - 1]);
    out
}

/// One line of a chart.
#[derive(Debug)]
pub struct Line {
    /// Shown in the tooltip.
    pub label: String,
    /// CSS colour.
    pub colour: &'static str,
    /// The points, already smoothed and downsampled.
    pub points: Vec<(f64, f64)>,
}

/// Round numbers for ticks: about `n` between `lo` and `hi`.
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = hi - lo;
    if span.is_nan() || span <= 0.0 || !span.is_finite() {
        return vec![lo];
    }
    let raw = span / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| span / s <= n as f64).unwrap_or(10.0 * mag);
    let mut out = Vec::new();
    let mut t = (lo / step).ceil() * step;
    while t <= hi + step * 1e-9 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

/// A tick label: short, without float noise.
pub fn label(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&a) {
        format!("{v:.2e}")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_owned()
    }
}

/// A wall-clock tick: `HH:MM:SS` (UTC).
fn clock_label(secs: f64) -> String {
    let s = secs.rem_euclid(86_400.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn bounds(lines: &[Line], pick: impl Fn(&(f64, f64)) -> f64) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in lines.iter().flat_map(|l| &l.points) {
        let v = pick(p);
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if lo == hi {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.05 };
        return (lo - d, hi + d);
    }
    (lo, hi)
}

/// The frame of a chart: background, title, axes, grid and tick labels; returns the SVG so far
/// and the mapping from data to pixels.
fn frame(
    title: &str,
    xlabel: &str,
    ylabel: &str,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    clock: bool,
) -> (String, impl Fn(f64, f64) -> (f64, f64)) {
    let (pw, ph) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let map = move |x: f64, y: f64| (LEFT + (x - x0) / (x1 - x0) * pw, TOP + ph - (y - y0) / (y1 - y0) * ph);
    let mut s = String::with_capacity(24 * 1024);
    let _ = write!(
        s,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" data-title=\"{}\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"11\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\
         <text x=\"{LEFT}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{}</text>\
         <rect class=\"plot-area\" x=\"{LEFT}\" y=\"{TOP}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#999\"/>",
        esc(title),
        esc(title)
    );
    for t in ticks(x0, x1, 6) {
        let (px, _) = map(t, y0);
        let _ = write!(
            s,
            "<line x1=\"{px:.1}\" y1=\"{TOP}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/><text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            TOP + ph,
            TOP + ph + 14.0,
            if clock { clock_label(t) } else { label(t) }
        );
    }
    for t in ticks(y0, y1, 5) {
        let (_, py) = map(x0, t);
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" stroke=\"#eee\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT + pw,
            LEFT - 4.0,
            py + 4.0,
            label(t)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>\
         <text transform=\"translate(12 {:.1}) rotate(-90)\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
        LEFT + pw / 2.0,
        HEIGHT - 6.0,
        esc(xlabel),
        TOP + ph / 2.0,
        esc(ylabel)
    );
    (s, map)
}

/// A line chart of `lines`; `clock` labels the x axis as wall-clock times (UTC).
pub fn line_chart(title: &str, xlabel: &str, lines: &[Line], clock: bool) -> String {
    let xb = bounds(lines, |p| p.0);
    let yb = bounds(lines, |p| p.1);
    let (mut s, map) = frame(title, xlabel, "", xb, yb, clock);
    for (i, l) in lines.iter().enumerate() {
        let _ = write!(
            s,
            "<polyline class=\"series\" data-run=\"{i}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\" points=\"",
            l.colour
        );
        for &(x, y) in &l.points {
            if x.is_finite() && y.is_finite() {
                let (px, py) = map(x, y);
                let _ = write!(s, "{px:.1},{py:.1} ");
            }
        }
        let _ = write!(s, "\"><title>{}</title></polyline>", esc(&l.label));
        if l.points.len() == 1 {
            let (px, py) = map(l.points[0].0, l.points[0].1);
            let _ = write!(s, "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"3\" fill=\"{}\"/>", l.colour);
        }
    }
    s.push_str("</svg>");
    s
}

/// One point of a scatter chart.
#[derive(Debug)]
pub struct Dot {
    /// Position on the x axis.
    pub x: f64,
    /// Position on the y axis.
    pub y: f64,
    /// CSS colour.
    pub colour: &'static str,
    /// Tooltip.
    pub label: String,
}

/// A scatter chart; `categories` names the x positions 0, 1, 2... when x is not numeric.
pub fn scatter(title: &str, xlabel: &str, ylabel: &str, dots: &[Dot], categories: Option<&[String]>) -> String {
    let pts: Vec<(f64, f64)> = dots.iter().map(|d| (d.x, d.y)).collect();
    let line = [Line { label: String::new(), colour: "#000", points: pts }];
    let (mut x0, mut x1) = bounds(&line, |p| p.0);
    if categories.is_some() {
        x0 -= 0.5;
        x1 += 0.5;
    } else {
        let pad = (x1 - x0) * 0.05;
        x0 -= pad;
        x1 += pad;
    }
    let (y0, y1) = bounds(&line, |p| p.1);
    let pad = (y1 - y0) * 0.08;
    let (mut s, map) = frame(title, xlabel, ylabel, (x0, x1), (y0 - pad, y1 + pad), false);
    if let Some(cats) = categories {
        for (i, c) in cats.iter().enumerate() {
            let (px, _) = map(i as f64, y0);
            let _ = write!(
                s,
                "<text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
                TOP + 12.0,
                esc(c)
            );
        }
    }
    for d in dots {
        if d.x.is_finite() && d.y.is_finite() {
            let (px, py) = map(d.x, d.y);
            let _ = write!(
                s,
                "<circle class=\"dot\" cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"5\" fill=\"{}\"><title>{}</title></circle>",
                d.colour,
                esc(&d.label)
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lttb_keeps_ends_and_the_peak() {
        let mut data: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, (i as f64 / 500.0).sin())).collect();
        data[4321].1 = 50.0;
        let out = lttb(&data, 200);
        assert_eq!(out.len(), 200);
        assert_eq!(out[0], data[0]);
        assert_eq!(out[199], data[9999]);
        assert!(out.contains(&(4321.0, 50.0)));
        assert!(out.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(lttb(&data[..10], 200).len(), 10);
    }

    #[test]
    fn smoothing_is_debiased_and_zero_weight_changes_nothing() {
        let mut p = vec![(0.0, 1.0), (1.0, 1.0), (2.0, 1.0)];
        smooth(&mut p, 0.9);
        assert!(p.iter().all(|q| (q.1 - 1.0).abs() < 1e-12));
        let mut q = vec![(0.0, 0.0), (1.0, 10.0)];
        smooth(&mut q, 0.5);
        assert!((q[1].1 - 10.0 * 0.5 / 0.75).abs() < 1e-12);
        let mut r = vec![(0.0, 3.0)];
        smooth(&mut r, 0.0);
        assert_eq!(r[0].1, 3.0);
    }

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert!(ticks(0.013, 0.027, 5).iter().all(|t| (0.013..=0.027).contains(t)));
        assert_eq!(label(0.1 + 0.2), "0.3");
    }

    #[test]
    fn a_chart_has_one_polyline_per_line() {
        let lines: Vec<Line> = (0..3)
            .map(|i| Line { label: format!("r{i}"), colour: colour(i), points: vec![(0.0, i as f64), (1.0, 2.0)] })
            .collect();
        let svg = line_chart("loss", "step", &lines, false);
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert!(svg.starts_with("<svg class=\"chart\""));
    }
}

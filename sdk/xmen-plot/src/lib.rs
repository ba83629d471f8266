//! Small line plots rendered to PNG: the Rust user's `plt.figure()` for xmen's
//! TensorBoard `figure` summaries.
//!
//! Key design choice: no text and no font. A figure is axes, optional tick marks,
//! a grid and coloured polylines drawn into an RGBA buffer with anti-aliasing-free
//! Bresenham lines, then encoded with the `png` crate. That keeps the crate tiny and
//! pure Rust; TensorBoard shows the tag and step beside the image anyway.
//!
//! ```
//! use xmen_plot::{Color, Figure};
//! let xs: Vec<f64> = (0..50).map(|i| i as f64 / 10.0).collect();
//! let png = Figure::new(320, 240)
//!     .line(&xs, &xs.iter().map(|x| x.sin()).collect::<Vec<_>>(), Color::BLUE)
//!     .line(&xs, &xs.iter().map(|x| x.cos()).collect::<Vec<_>>(), Color::ORANGE)
//!     .to_png()?;
//! assert_eq!(&png[1..4], b"PNG");
//! # Ok::<(), xmen_plot::PlotError>(())
//! ```

use std::fmt;

/// An RGBA colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Color(pub [u8; 4]);

impl Color {
    /// matplotlib's first default colour (`tab:blue`).
    pub const BLUE: Color = Color([31, 119, 180, 255]);
    /// `tab:orange`.
    pub const ORANGE: Color = Color([255, 127, 14, 255]);
    /// `tab:green`.
    pub const GREEN: Color = Color([44, 160, 44, 255]);
    /// `tab:red`.
    pub const RED: Color = Color([214, 39, 40, 255]);
    /// `tab:purple`.
    pub const PURPLE: Color = Color([148, 103, 189, 255]);
    /// Black (axes).
    pub const BLACK: Color = Color([0, 0, 0, 255]);
    /// White (background).
    pub const WHITE: Color = Color([255, 255, 255, 255]);
    /// Light grey (grid lines).
    pub const GREY: Color = Color([220, 220, 220, 255]);

    /// The default colour cycle, as matplotlib's.
    pub const CYCLE: [Color; 5] = [Color::BLUE, Color::ORANGE, Color::GREEN, Color::RED, Color::PURPLE];
}

/// Why a figure could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlotError {
    /// A line's x and y have different lengths.
    Lengths {
        /// Index of the line.
        line: usize,
        /// Length of x.
        x: usize,
        /// Length of y.
        y: usize,
    },
    /// The canvas is too small to hold the axes.
    Size {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
    },
    /// The PNG encoder failed.
    Encode(String),
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlotError::Lengths { line, x, y } => {
                write!(f, "line {line} has {x} x values but {y} y values; give both the same length")
            }
            PlotError::Size { width, height } => {
                write!(f, "a {width}x{height} figure is too small; use at least 32x32 pixels")
            }
            PlotError::Encode(e) => write!(f, "PNG encoding failed: {e}"),
        }
    }
}

impl std::error::Error for PlotError {}

struct Line {
    x: Vec<f64>,
    y: Vec<f64>,
    color: Color,
}

/// A figure with one set of axes: add lines, then render it.
pub struct Figure {
    width: u32,
    height: u32,
    lines: Vec<Line>,
    ticks: usize,
    grid: bool,
    xlim: Option<(f64, f64)>,
    ylim: Option<(f64, f64)>,
}

/// An RGBA canvas.
struct Canvas {
    w: i64,
    h: i64,
    px: Vec<u8>,
}

impl Canvas {
    fn put(&mut self, x: i64, y: i64, c: Color) {
        if (0..self.w).contains(&x) && (0..self.h).contains(&y) {
            let i = ((y * self.w + x) * 4) as usize;
            self.px[i..i + 4].copy_from_slice(&c.0);
        }
    }

    /// Bresenham's line, `thick` pixels wide.
    fn line(&mut self, (mut x0, mut y0): (i64, i64), (x1, y1): (i64, i64), c: Color, thick: i64) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let mut err = dx + dy;
        loop {
            for ox in 0..thick {
                for oy in 0..thick {
                    self.put(x0 + ox - thick / 2, y0 + oy - thick / 2, c);
                }
            }
            if x0 == x1 && y0 == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x0 += sx;
            }
            if e2 <= dx {
                err += dx;
                y0 += sy;
            }
        }
    }
}

fn bounds<'a>(values: impl Iterator<Item = &'a f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        let pad = (hi - lo) * 0.05;
        (lo - pad, hi + pad)
    }
}

impl Figure {
    /// An empty figure of `width` x `height` pixels, with 5 ticks per axis and a grid.
    pub fn new(width: u32, height: u32) -> Figure {
        Figure { width, height, lines: Vec::new(), ticks: 5, grid: true, xlim: None, ylim: None }
    }

    /// Add a line through `(x[i], y[i])`. Non-finite points break the line.
    pub fn line(mut self, x: &[f64], y: &[f64], color: Color) -> Figure {
        self.lines.push(Line { x: x.to_vec(), y: y.to_vec(), color });
        self
    }

    /// Add a line of `y` against `0, 1, 2, ...`, coloured by the default cycle.
    pub fn plot(self, y: &[f64]) -> Figure {
        let color = Color::CYCLE[self.lines.len() % Color::CYCLE.len()];
        let x: Vec<f64> = (0..y.len()).map(|i| i as f64).collect();
        self.line(&x, y, color)
    }

    /// Tick marks per axis (0 for none).
    pub fn ticks(mut self, n: usize) -> Figure {
        self.ticks = n;
        self
    }

    /// Draw light grid lines at the ticks.
    pub fn grid(mut self, on: bool) -> Figure {
        self.grid = on;
        self
    }

    /// Fix the x range instead of fitting the data.
    pub fn xlim(mut self, lo: f64, hi: f64) -> Figure {
        self.xlim = Some((lo, hi));
        self
    }

    /// Fix the y range instead of fitting the data.
    pub fn ylim(mut self, lo: f64, hi: f64) -> Figure {
        self.ylim = Some((lo, hi));
        self
    }

    /// Render to RGBA pixels, rows top to bottom.
    pub fn to_rgba(&self) -> Result<Vec<u8>, PlotError> {
        if self.width < 32 || self.height < 32 {
            return Err(PlotError::Size { width: self.width, height: self.height });
        }
        if let Some((i, l)) = self.lines.iter().enumerate().find(|(_, l)| l.x.len() != l.y.len()) {
            return Err(PlotError::Lengths { line: i, x: l.x.len(), y: l.y.len() });
        }
        let (w, h) = (i64::from(self.width), i64::from(self.height));
        let mut c = Canvas { w, h, px: Color::WHITE.0.repeat((w * h) as usize) };
        let (left, right, top, bottom) = (w / 10, w - w / 20, h / 20, h - h / 10);
        let (x0, x1) = self.xlim.unwrap_or_else(|| bounds(self.lines.iter().flat_map(|l| l.x.iter())));
        let (y0, y1) = self.ylim.unwrap_or_else(|| bounds(self.lines.iter().flat_map(|l| l.y.iter())));
        let sx = |x: f64| left + ((x - x0) / (x1 - x0) * (right - left) as f64).round() as i64;
        let sy = |y: f64| bottom - ((y - y0) / (y1 - y0) * (bottom - top) as f64).round() as i64;
        if self.ticks > 0 {
            for i in 0..=self.ticks {
                let fx = left + (right - left) * i as i64 / self.ticks as i64;
                let fy = bottom - (bottom - top) * i as i64 / self.ticks as i64;
                if self.grid {
                    c.line((fx, top), (fx, bottom), Color::GREY, 1);
                    c.line((left, fy), (right, fy), Color::GREY, 1);
                }
                c.line((fx, bottom), (fx, bottom + 4), Color::BLACK, 1);
                c.line((left - 4, fy), (left, fy), Color::BLACK, 1);
            }
        }
        c.line((left, bottom), (right, bottom), Color::BLACK, 1);
        c.line((left, top), (left, bottom), Color::BLACK, 1);
        for l in &self.lines {
            let mut prev: Option<(i64, i64)> = None;
            for (&x, &y) in l.x.iter().zip(&l.y) {
                if !(x.is_finite() && y.is_finite()) {
                    prev = None;
                    continue;
                }
                // Clamp far-away points so the integer maths cannot overflow.
                let p = (sx(x).clamp(-w, 2 * w), sy(y).clamp(-h, 2 * h));
                c.line(prev.unwrap_or(p), p, l.color, 2);
                prev = Some(p);
            }
        }
        Ok(c.px)
    }

    /// Render and encode as PNG (for `m.set("fig", Value::Image(png))`).
    pub fn to_png(&self) -> Result<Vec<u8>, PlotError> {
        let px = self.to_rgba()?;
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width, self.height);
            enc.set_color(png::ColorType::Rgba);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().map_err(|e| PlotError::Encode(e.to_string()))?;
            w.write_image_data(&px).map_err(|e| PlotError::Encode(e.to_string()))?;
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    fn at(px: &[u8], w: u32, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * w + x) * 4) as usize;
        [px[i], px[i + 1], px[i + 2], px[i + 3]]
    }

    #[test]
    fn a_rising_line_goes_from_bottom_left_to_top_right() {
        let f = Figure::new(100, 100).ticks(0).line(&[0.0, 1.0], &[0.0, 1.0], Color::RED).xlim(0.0, 1.0).ylim(0.0, 1.0);
        let px = f.to_rgba().unwrap();
        // The plot area is x 10..95, y 5..90.
        assert_eq!(at(&px, 100, 52, 48), Color::RED.0);
        assert_eq!(at(&px, 100, 90, 90), Color::BLACK.0); // the x axis
        assert_eq!(at(&px, 100, 80, 80), Color::WHITE.0);
    }

    #[test]
    fn mismatched_lengths_and_tiny_canvases_are_errors() {
        let e = Figure::new(100, 100).line(&[0.0], &[], Color::RED).to_png().unwrap_err();
        assert!(e.to_string().contains("same length"));
        assert!(matches!(Figure::new(8, 8).to_png(), Err(PlotError::Size { .. })));
    }

    #[test]
    fn constant_and_empty_data_still_render() {
        assert!(Figure::new(64, 48).plot(&[1.0, 1.0, 1.0]).to_png().is_ok());
        assert!(Figure::new(64, 48).to_png().is_ok());
    }
}

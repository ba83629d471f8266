//! Turning owned copies of values into TensorBoard summary values. Everything here runs
//! on the writer thread, never on the training thread.

pub mod grid;
pub mod histogram;
pub mod plugins;
pub mod video;

use crate::proto::{Image, SummaryValue, ValueKind};
use grid::GridOptions;
use xmen_hook::Tensor;

/// What the training thread hands the writer for one tag: an owned copy, not yet encoded.
pub enum Payload {
    /// A `[C,H,W]`/`[B,C,H,W]` tensor to tile and PNG-encode.
    Image(Tensor, GridOptions),
    /// An already encoded PNG (an image value or a figure).
    Png(Vec<u8>),
    /// Values to bucket.
    Histogram(Tensor),
    /// Text for the text plugin.
    Text(String),
    /// A `[B,T,C,H,W]` tensor to encode as an animated GIF at `fps`.
    Video(Tensor, f64),
    /// Labels, predictions and optional weights for the PR-curve plugin.
    PrCurve {
        /// Ground truth, 0 or 1.
        labels: Tensor,
        /// Predicted probabilities in `[0, 1]`.
        predictions: Tensor,
        /// Per-example weights.
        weights: Option<Tensor>,
        /// Points on the curve.
        num_thresholds: u32,
    },
    /// Vertices with optional faces and colours, for the mesh plugin.
    Mesh {
        /// `[B,N,3]` positions.
        vertices: Tensor,
        /// `[B,F,3]` vertex indices.
        faces: Option<Tensor>,
        /// `[B,N,3]` RGB colours.
        colors: Option<Tensor>,
    },
    /// Summary values built on the training thread (hparams).
    Ready(Vec<SummaryValue>),
}

fn image_value(tag: &str, width: usize, height: usize, colorspace: i32, bytes: Vec<u8>) -> SummaryValue {
    SummaryValue {
        tag: tag.into(),
        metadata: None,
        value: Some(ValueKind::Image(Image {
            height: height as i32,
            width: width as i32,
            colorspace,
            encoded_image_string: bytes,
        })),
    }
}

/// Encode one payload under `tag`.
pub fn encode(tag: &str, payload: Payload) -> Result<Vec<SummaryValue>, String> {
    Ok(match payload {
        Payload::Image(t, o) => {
            let px = grid::make_grid(&t, &o)?;
            let png = grid::encode_png(&px)?;
            vec![image_value(tag, px.width, px.height, px.channels as i32, png)]
        }
        Payload::Png(bytes) => {
            let (w, h, cs) = grid::png_info(&bytes)?;
            vec![image_value(tag, w as usize, h as usize, cs, bytes)]
        }
        Payload::Histogram(t) => match histogram::histogram(&t.to_f64_vec()) {
            Some(h) => vec![SummaryValue { tag: tag.into(), metadata: None, value: Some(ValueKind::Histo(h)) }],
            None => return Err("a histogram needs at least one finite value".into()),
        },
        Payload::Text(s) => vec![plugins::text(tag, &s)],
        Payload::Video(t, fps) => {
            let g = video::encode_gif(&t, fps)?;
            vec![image_value(tag, g.width, g.height, g.channels as i32, g.bytes)]
        }
        Payload::PrCurve { labels, predictions, weights, num_thresholds } => {
            let w = weights.as_ref().map(|w| w.to_f64_vec());
            vec![plugins::pr_curve(tag, &labels.to_f64_vec(), &predictions.to_f64_vec(), w.as_deref(), num_thresholds)?]
        }
        Payload::Mesh { vertices, faces, colors } => {
            plugins::mesh(tag, &plugins::Mesh { vertices: &vertices, faces: faces.as_ref(), colors: colors.as_ref() })?
        }
        Payload::Ready(v) => v,
    })
}

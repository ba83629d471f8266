//! Video: `[B,T,C,H,W]` tiled like torch's `_prepare_video` (the batch padded to a
//! power of two and laid out in a near-square grid) and encoded as an animated GIF,
//! which TensorBoard shows as an image summary.

use xmen_hook::{DType, Tensor};

/// Check a video tensor's shape; returns `[B, T, C, H, W]`.
pub fn video_dims(shape: &[u64]) -> Result<[usize; 5], String> {
    let d: Vec<usize> = shape.iter().map(|&x| x as usize).collect();
    let dims = match *d.as_slice() {
        [b, t, c, h, w] => [b, t, c, h, w],
        [t, c, h, w] => [1, t, c, h, w],
        _ => return Err(format!("a video must be [B,T,C,H,W] (or [T,C,H,W]), not shape {shape:?}")),
    };
    if ![1, 3, 4].contains(&dims[2]) {
        return Err(format!("a video needs 1, 3 or 4 channels (dimension C of [B,T,C,H,W]), not {}", dims[2]));
    }
    if dims.contains(&0) {
        return Err(format!("a video tensor cannot be empty (shape {shape:?})"));
    }
    if dims[3] > usize::from(u16::MAX) || dims[4] > usize::from(u16::MAX) {
        return Err(format!("a GIF frame is at most 65535 pixels wide and high, not shape {shape:?}"));
    }
    Ok(dims)
}

/// The encoded GIF with its tiled width, height and channel count.
pub struct Gif {
    /// The GIF file.
    pub bytes: Vec<u8>,
    /// Tiled width.
    pub width: usize,
    /// Tiled height.
    pub height: usize,
    /// Channels of the source (TensorBoard's colour space).
    pub channels: usize,
}

/// Tile and encode a video tensor (values in `[0, 1]`, or `[0, 255]` for `u8`).
pub fn encode_gif(t: &Tensor, fps: f64) -> Result<Gif, String> {
    let [b, frames, c, h, w] = video_dims(&t.shape)?;
    let scale = if t.dtype == DType::U8 { 1.0 } else { 255.0 };
    let v = t.to_f64_vec();
    // torch pads the batch up to a power of two with black clips.
    let padded = if b.is_power_of_two() { b } else { b.next_power_of_two() };
    let n_rows = 1usize << ((usize::BITS - b.leading_zeros() - 1) / 2);
    let n_cols = padded / n_rows;
    let (gw, gh) = (n_cols * w, n_rows * h);
    let delay = (100.0 / fps.max(0.01)).round().clamp(1.0, 65535.0) as u16;
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, gw as u16, gh as u16, &[]).map_err(|e| format!("GIF: {e}"))?;
        enc.set_repeat(gif::Repeat::Infinite).map_err(|e| format!("GIF: {e}"))?;
        let mut rgba = vec![0u8; gw * gh * 4];
        for f in 0..frames {
            rgba.fill(0);
            for k in 0..b {
                let (row, col) = (k / n_cols, k % n_cols);
                for y in 0..h {
                    for x in 0..w {
                        let dst = ((row * h + y) * gw + col * w + x) * 4;
                        for ch in 0..4 {
                            let sc = match (c, ch) {
                                (_, 3) if c < 4 => None,
                                (1, _) => Some(0),
                                _ => Some(ch),
                            };
                            rgba[dst + ch] = match sc {
                                Some(sc) => {
                                    let i = (((k * frames + f) * c + sc) * h + y) * w + x;
                                    (v[i] * scale).clamp(0.0, 255.0) as u8
                                }
                                None => 255,
                            };
                        }
                    }
                }
            }
            let mut frame = gif::Frame::from_rgba_speed(gw as u16, gh as u16, &mut rgba, 10);
            frame.delay = delay;
            enc.write_frame(&frame).map_err(|e| format!("GIF: {e}"))?;
        }
    }
    Ok(Gif { bytes: out, width: gw, height: gh, channels: c })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    #[test]
    fn three_clips_pad_to_four_in_a_one_by_four_strip() {
        // b=3: bit_length 2, n_rows = 2^((2-1)/2) = 1, padded to 4 columns.
        let t = Tensor::from_f32(&[3, 2, 1, 2, 3], &[0.5; 36]);
        let g = encode_gif(&t, 4.0).unwrap();
        assert_eq!((g.width, g.height), (12, 2));
        assert_eq!(&g.bytes[..6], b"GIF89a");
    }

    #[test]
    fn four_clips_make_a_two_by_two_grid() {
        let t = Tensor::from_f32(&[4, 1, 3, 2, 2], &[0.0; 48]);
        let g = encode_gif(&t, 4.0).unwrap();
        assert_eq!((g.width, g.height), (4, 4));
    }
}

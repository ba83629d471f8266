//! Images: torchvision's `make_grid` (tile `[B,C,H,W]` into one `[C,H',W']` image)
//! followed by torch's `add_image` conversion to 8-bit pixels, then PNG.

use xmen_hook::{DType, Tensor};

/// `make_grid`'s options (the original's defaults: `normalize` and `scale_each` on).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridOptions {
    /// Images per row.
    pub nrow: usize,
    /// Pixels between and around images.
    pub padding: usize,
    /// Scale values into `[0, 1]` by the `range` (or by each image's min and max).
    pub normalize: bool,
    /// The `(low, high)` to normalise by instead of the data's min and max.
    pub range: Option<(f64, f64)>,
    /// Normalise each image of a batch separately.
    pub scale_each: bool,
    /// The value of padding pixels, in the images' own units.
    pub pad_value: f64,
}

impl Default for GridOptions {
    fn default() -> GridOptions {
        GridOptions { nrow: 8, padding: 2, normalize: true, range: None, scale_each: true, pad_value: 0.0 }
    }
}

/// An 8-bit image, rows top to bottom, channels interleaved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pixels {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// 3 (RGB) or 4 (RGBA).
    pub channels: usize,
    /// `width * height * channels` bytes.
    pub data: Vec<u8>,
}

/// Check an image tensor's shape; returns `[B, C, H, W]` with `C` as given.
pub fn image_dims(shape: &[u64]) -> Result<[usize; 4], String> {
    let d: Vec<usize> = shape.iter().map(|&x| x as usize).collect();
    let dims = match *d.as_slice() {
        [h, w] => [1, 1, h, w],
        [c, h, w] => [1, c, h, w],
        [b, c, h, w] => [b, c, h, w],
        _ => return Err(format!("an image must be [C,H,W] or [B,C,H,W] (or [H,W]), not shape {shape:?}")),
    };
    if ![1, 3, 4].contains(&dims[1]) {
        return Err(format!(
            "an image needs 1, 3 or 4 channels (dimension C of [B,C,H,W]), not {} in shape {shape:?}",
            dims[1]
        ));
    }
    if dims.contains(&0) {
        return Err(format!("an image tensor cannot be empty (shape {shape:?})"));
    }
    Ok(dims)
}

/// Tile a `[B,C,H,W]` (or `[C,H,W]`, `[H,W]`) tensor into a grid and convert it to 8-bit
/// pixels exactly as torch's `make_grid` + `add_image` would.
pub fn make_grid(t: &Tensor, o: &GridOptions) -> Result<Pixels, String> {
    let [b, c, h, w] = image_dims(&t.shape)?;
    let mut v = t.to_f64_vec();
    let img = c * h * w;
    if o.normalize {
        let norm = |s: &mut [f64]| {
            let (lo, hi) = match o.range {
                Some(r) => r,
                None => s.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x))),
            };
            let span = (hi - lo).max(1e-5);
            for x in s.iter_mut() {
                *x = (x.clamp(lo, hi) - lo) / span;
            }
        };
        if o.scale_each {
            v.chunks_mut(img).for_each(norm);
        } else {
            norm(&mut v);
        }
    }
    // torch's add_image: uint8 data is already in [0, 255]; anything else is scaled by 255.
    let scale = if t.dtype == DType::U8 && !o.normalize { 1.0 } else { 255.0 };
    let out_c = if c == 1 { 3 } else { c };
    let (gw, gh, xmaps, cell_h, cell_w) = if b == 1 {
        (w, h, 1, h, w)
    } else {
        let xmaps = o.nrow.max(1).min(b);
        let ymaps = b.div_ceil(xmaps);
        let (cell_h, cell_w) = (h + o.padding, w + o.padding);
        (cell_w * xmaps + o.padding, cell_h * ymaps + o.padding, xmaps, cell_h, cell_w)
    };
    let to_u8 = |x: f64| (x * scale).clamp(0.0, 255.0) as u8;
    let pad = to_u8(o.pad_value);
    let mut data = vec![pad; gw * gh * out_c];
    let origin = if b == 1 { 0 } else { o.padding };
    for k in 0..b {
        let (gx, gy) = (k % xmaps, k / xmaps);
        let (x0, y0) = (gx * cell_w + origin, gy * cell_h + origin);
        let src = &v[k * img..(k + 1) * img];
        for y in 0..h {
            for x in 0..w {
                let dst = ((y0 + y) * gw + x0 + x) * out_c;
                for ch in 0..out_c {
                    let sc = if c == 1 { 0 } else { ch };
                    data[dst + ch] = to_u8(src[(sc * h + y) * w + x]);
                }
            }
        }
    }
    Ok(Pixels { width: gw, height: gh, channels: out_c, data })
}

/// Encode pixels as PNG.
pub fn encode_png(p: &Pixels) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, p.width as u32, p.height as u32);
        enc.set_color(if p.channels == 4 { png::ColorType::Rgba } else { png::ColorType::Rgb });
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut w = enc.write_header().map_err(|e| format!("PNG encoding failed: {e}"))?;
        w.write_image_data(&p.data).map_err(|e| format!("PNG encoding failed: {e}"))?;
    }
    Ok(out)
}

/// Width, height and TensorBoard colour space of an encoded PNG, read from its header.
pub fn png_info(bytes: &[u8]) -> Result<(u32, u32, i32), String> {
    let dec = png::Decoder::new(std::io::Cursor::new(bytes));
    let reader = dec.read_info().map_err(|e| format!("not a valid PNG: {e}"))?;
    let info = reader.info();
    let colorspace = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb | png::ColorType::Indexed => 3,
    };
    Ok((info.width, info.height, colorspace))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    fn t(shape: &[u64], v: &[f32]) -> Tensor {
        Tensor::from_f32(shape, v)
    }

    #[test]
    fn one_image_is_not_padded_and_grey_becomes_rgb() {
        let p = make_grid(&t(&[1, 1, 2], &[0.0, 1.0]), &GridOptions::default()).unwrap();
        assert_eq!((p.width, p.height, p.channels), (2, 1, 3));
        assert_eq!(p.data, vec![0, 0, 0, 255, 255, 255]);
    }

    #[test]
    fn a_batch_of_three_tiles_into_rows_of_nrow_with_padding() {
        let o = GridOptions { nrow: 2, padding: 1, normalize: false, pad_value: 1.0, ..GridOptions::default() };
        let p = make_grid(&t(&[3, 1, 1, 1], &[0.0, 0.0, 0.0]), &o).unwrap();
        // two columns of 1+1, plus 1: 5 wide; two rows: 5 high.
        assert_eq!((p.width, p.height), (5, 5));
        let px = |x: usize, y: usize| p.data[(y * p.width + x) * 3];
        assert_eq!((px(0, 0), px(1, 1), px(3, 1), px(1, 3), px(3, 3)), (255, 0, 0, 0, 255));
    }

    #[test]
    fn range_clamps_before_scaling() {
        let o = GridOptions { range: Some((0.0, 2.0)), ..GridOptions::default() };
        let p = make_grid(&t(&[1, 1, 3], &[-1.0, 1.0, 5.0]), &o).unwrap();
        assert_eq!(p.data.iter().step_by(3).copied().collect::<Vec<_>>(), vec![0, 127, 255]);
    }

    #[test]
    fn bad_shapes_say_what_is_expected() {
        assert!(image_dims(&[2, 5, 5]).unwrap_err().contains("1, 3 or 4 channels"));
        assert!(image_dims(&[5]).unwrap_err().contains("[C,H,W]"));
    }
}

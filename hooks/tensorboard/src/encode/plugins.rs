//! Tensor summaries for TensorBoard's plugins: text, PR curves, meshes and hparams.
//! Each carries the plugin's `SummaryMetadata` (plugin name + its `plugin_data.proto`
//! content), which is how TensorBoard routes a summary to its dashboard.

use crate::proto::{
    self, dtype, plugin_metadata, HParamsData, HParamsPluginData, MeshPluginData, PrCurvePluginData, SummaryValue,
    TensorProto, TensorShape, TextPluginData, ValueKind,
};
use xmen_hook::Tensor;

/// A text summary: a scalar string tensor for the text plugin (rendered as Markdown).
pub fn text(tag: &str, text: &str) -> SummaryValue {
    SummaryValue {
        tag: tag.into(),
        metadata: Some(plugin_metadata("text", proto::to_bytes(&TextPluginData { version: 0 }))),
        value: Some(ValueKind::Tensor(TensorProto {
            dtype: dtype::STRING,
            tensor_shape: Some(TensorShape::of(&[1])),
            string_val: vec![text.as_bytes().to_vec()],
            ..Default::default()
        })),
    }
}

/// Float32 tensor of a given shape from `f64`s.
fn f32_tensor(shape: &[i64], values: impl Iterator<Item = f64>) -> TensorProto {
    TensorProto {
        dtype: dtype::FLOAT,
        tensor_shape: Some(TensorShape::of(shape)),
        tensor_content: values.flat_map(|v| (v as f32).to_le_bytes()).collect(),
        ..Default::default()
    }
}

/// A precision-recall curve exactly as TensorBoard's `pr_curve.summary.pb` computes it:
/// a `[6, num_thresholds]` tensor of TP, FP, TN, FN, precision and recall.
pub fn pr_curve(
    tag: &str,
    labels: &[f64],
    predictions: &[f64],
    weights: Option<&[f64]>,
    num_thresholds: u32,
) -> Result<SummaryValue, String> {
    if labels.len() != predictions.len() {
        return Err(format!("labels ({}) and predictions ({}) differ in length", labels.len(), predictions.len()));
    }
    if let Some(w) = weights.filter(|w| w.len() != labels.len()) {
        return Err(format!("weights ({}) and labels ({}) differ in length", w.len(), labels.len()));
    }
    let n = num_thresholds.max(2) as usize;
    let (mut tp_b, mut fp_b) = (vec![0f64; n], vec![0f64; n]);
    for (i, (&l, &p)) in labels.iter().zip(predictions).enumerate() {
        let b = (p * (n - 1) as f64).floor();
        if !(0.0..=(n - 1) as f64).contains(&b) {
            continue;
        }
        let w = weights.map_or(1.0, |w| w[i]);
        tp_b[b as usize] += l * w;
        fp_b[b as usize] += (1.0 - l) * w;
    }
    let rev_cumsum = |v: &[f64]| {
        let mut out = v.to_vec();
        for i in (0..n - 1).rev() {
            out[i] += out[i + 1];
        }
        out
    };
    let (tp, fp) = (rev_cumsum(&tp_b), rev_cumsum(&fp_b));
    let tn: Vec<f64> = fp.iter().map(|x| fp[0] - x).collect();
    let fn_: Vec<f64> = tp.iter().map(|x| tp[0] - x).collect();
    let precision: Vec<f64> = (0..n).map(|i| tp[i] / (tp[i] + fp[i]).max(1e-7)).collect();
    let recall: Vec<f64> = (0..n).map(|i| tp[i] / (tp[i] + fn_[i]).max(1e-7)).collect();
    let rows = [tp, fp, tn, fn_, precision, recall];
    let content = proto::to_bytes(&PrCurvePluginData { version: 0, num_thresholds: n as u32 });
    Ok(SummaryValue {
        tag: tag.into(),
        metadata: Some(plugin_metadata("pr_curves", content)),
        value: Some(ValueKind::Tensor(f32_tensor(&[6, n as i64], rows.iter().flatten().copied()))),
    })
}

/// The parts of a mesh, each `[B, N, 3]`.
pub struct Mesh<'a> {
    /// Vertex positions (float).
    pub vertices: &'a Tensor,
    /// Triangles as vertex indices (integers).
    pub faces: Option<&'a Tensor>,
    /// Per-vertex RGB colours in `0..=255`.
    pub colors: Option<&'a Tensor>,
}

/// Check a mesh part's shape (`[N,3]` or `[B,N,3]`); returns it as `[B, N, 3]`.
pub fn mesh_dims(what: &str, shape: &[u64]) -> Result<[i64; 3], String> {
    let d: Vec<i64> = shape.iter().map(|&x| x as i64).collect();
    match *d.as_slice() {
        [n, 3] => Ok([1, n, 3]),
        [b, n, 3] => Ok([b, n, 3]),
        _ => Err(format!("mesh {what} must be [B,N,3] (or [N,3]), not shape {shape:?}")),
    }
}

/// The mesh plugin's summaries: `{tag}_VERTEX`, `{tag}_FACE`, `{tag}_COLOR`, as
/// TensorBoard's `mesh.summary.mesh_pb` writes them.
pub fn mesh(tag: &str, m: &Mesh<'_>) -> Result<Vec<SummaryValue>, String> {
    const VERTEX: i32 = 1;
    const FACE: i32 = 2;
    const COLOR: i32 = 3;
    let mut parts = vec![(VERTEX, "VERTEX", m.vertices)];
    parts.extend(m.faces.map(|f| (FACE, "FACE", f)));
    parts.extend(m.colors.map(|c| (COLOR, "COLOR", c)));
    let components = parts.iter().fold(0u32, |acc, (ct, _, _)| acc | (1 << ct));
    let mut out = Vec::new();
    for (ct, name, t) in parts {
        let shape = mesh_dims(&name.to_lowercase(), &t.shape)?;
        let values = t.to_f64_vec();
        let tensor = match ct {
            VERTEX => f32_tensor(&shape, values.into_iter()),
            FACE => TensorProto {
                dtype: dtype::INT32,
                tensor_shape: Some(TensorShape::of(&shape)),
                tensor_content: values.iter().flat_map(|&v| (v as i32).to_le_bytes()).collect(),
                ..Default::default()
            },
            _ => TensorProto {
                dtype: dtype::UINT8,
                tensor_shape: Some(TensorShape::of(&shape)),
                tensor_content: values.iter().map(|&v| v.clamp(0.0, 255.0) as u8).collect(),
                ..Default::default()
            },
        };
        let data = MeshPluginData {
            version: 0,
            name: tag.into(),
            content_type: ct,
            json_config: "{}".into(),
            shape: shape.iter().map(|&x| x as i32).collect(),
            components,
        };
        let mut md = plugin_metadata("mesh", proto::to_bytes(&data));
        md.display_name = tag.into();
        out.push(SummaryValue {
            tag: format!("{tag}_{name}"),
            metadata: Some(md),
            value: Some(ValueKind::Tensor(tensor)),
        });
    }
    Ok(out)
}

/// One hparams plugin summary (`_hparams_/experiment`, `_hparams_/session_start_info`
/// or `_hparams_/session_end_info`) with the plugin's empty float tensor.
pub fn hparams(tag: &str, data: HParamsData) -> SummaryValue {
    let content = proto::to_bytes(&HParamsPluginData { version: 0, data: Some(data) });
    SummaryValue {
        tag: tag.into(),
        metadata: Some(plugin_metadata("hparams", content)),
        value: Some(ValueKind::Tensor(TensorProto {
            dtype: dtype::FLOAT,
            tensor_shape: Some(TensorShape::of(&[0])),
            ..Default::default()
        })),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    #[test]
    fn pr_curve_of_a_perfect_classifier_has_full_precision_and_recall_at_zero() {
        let v = pr_curve("pr", &[1.0, 0.0], &[0.9, 0.1], None, 11).unwrap();
        let Some(ValueKind::Tensor(t)) = v.value else { panic!("no tensor") };
        let f: Vec<f32> = t.tensor_content.chunks(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        assert_eq!(f.len(), 66);
        // TP at threshold 0 counts every positive; FP every negative.
        assert_eq!((f[0], f[11]), (1.0, 1.0));
        // Recall at threshold 0 is 1.
        assert_eq!(f[55], 1.0);
    }

    #[test]
    fn mesh_writes_one_summary_per_part_with_the_component_mask() {
        let v = Tensor::from_f32(&[3, 3], &[0.0; 9]);
        let f = Tensor::from_f32(&[1, 3], &[0.0, 1.0, 2.0]);
        let out = mesh("m", &Mesh { vertices: &v, faces: Some(&f), colors: None }).unwrap();
        assert_eq!(out.iter().map(|s| s.tag.as_str()).collect::<Vec<_>>(), ["m_VERTEX", "m_FACE"]);
    }
}

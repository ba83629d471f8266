//! Histograms in TensorBoard's bucket layout, as torch's `add_histogram(bins="tensorflow")`
//! writes them: bucket edges `±1e-12 · 1.1^k` up to `1e20` plus `0`, counted like
//! `numpy.histogram`, trimmed to the non-empty range with one empty bucket on the left
//! (TensorBoard's buckets carry only their right limit).

use crate::proto::Histogram;
use std::sync::OnceLock;

/// The default bucket edges, ascending: `-1e20.. -1e-12, 0, 1e-12 .. 1e20`.
pub fn default_edges() -> &'static [f64] {
    static EDGES: OnceLock<Vec<f64>> = OnceLock::new();
    EDGES.get_or_init(|| {
        let mut pos = Vec::new();
        let mut v = 1e-12;
        while v < 1e20 {
            pos.push(v);
            v *= 1.1;
        }
        let mut edges: Vec<f64> = pos.iter().rev().map(|x| -x).collect();
        edges.push(0.0);
        edges.extend(pos);
        edges
    })
}

/// The histogram of `values`; `None` when no finite value is left to count.
pub fn histogram(values: &[f64]) -> Option<Histogram> {
    let edges = default_edges();
    let nb = edges.len() - 1;
    let mut counts = vec![0f64; nb];
    let (mut min, mut max, mut sum, mut sum_sq, mut num) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0.0, 0usize);
    for &x in values.iter().filter(|x| x.is_finite()) {
        min = min.min(x);
        max = max.max(x);
        sum += x;
        sum_sq += x * x;
        num += 1;
        // numpy: bins are [e_i, e_{i+1}), the last one closed; values outside are dropped.
        if x < edges[0] || x > edges[nb] {
            continue;
        }
        let i = edges.partition_point(|&e| e <= x).saturating_sub(1).min(nb - 1);
        counts[i] += 1.0;
    }
    if num == 0 {
        return None;
    }
    let first = counts.iter().position(|&c| c > 0.0);
    let last = counts.iter().rposition(|&c| c > 0.0);
    let (bucket_limit, bucket) = match (first, last) {
        (Some(start), Some(end)) => {
            let mut bucket = Vec::with_capacity(end - start + 2);
            if start == 0 {
                bucket.push(0.0);
                bucket.extend_from_slice(&counts[..=end]);
            } else {
                bucket.extend_from_slice(&counts[start - 1..=end]);
            }
            (edges[start..=end + 1].to_vec(), bucket)
        }
        // Every value was beyond ±1e20: one bucket spanning them.
        _ => (vec![max], vec![num as f64]),
    };
    Some(Histogram { min, max, num: num as f64, sum, sum_squares: sum_sq, bucket_limit, bucket })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    #[test]
    fn edges_are_symmetric_around_zero() {
        let e = default_edges();
        let mid = e.len() / 2;
        assert_eq!(e[mid], 0.0);
        assert_eq!(e[mid + 1], 1e-12);
        assert_eq!(e[mid - 1], -1e-12);
        assert!(e.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn counts_sum_to_num_and_limits_bracket_the_values() {
        let h = histogram(&[0.5, 1.0, 1.0, 2.0, -3.0]).unwrap();
        assert_eq!(h.num, 5.0);
        assert_eq!(h.bucket.iter().sum::<f64>(), 5.0);
        assert_eq!(h.bucket.len(), h.bucket_limit.len());
        assert_eq!(h.bucket[0], 0.0);
        assert!(*h.bucket_limit.last().unwrap() > 2.0);
        assert_eq!((h.min, h.max, h.sum, h.sum_squares), (-3.0, 2.0, 1.5, 15.25));
    }

    #[test]
    fn non_finite_values_are_left_out() {
        assert!(histogram(&[f64::NAN]).is_none());
        assert_eq!(histogram(&[1.0, f64::INFINITY]).unwrap().num, 1.0);
    }
}

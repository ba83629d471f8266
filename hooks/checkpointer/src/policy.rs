//! Which checkpoint files to keep: the newest N (`keep`), the best K by a monitored value
//! (`top_k`, `mode`, Lightning's `save_top_k`), every Nth step (`keep_every`, orbax's
//! `keep_period`), always the newest one and the files a resumed run loaded.

use std::path::{Path, PathBuf};

/// A checkpoint file of one variable.
#[derive(Clone, Debug, PartialEq)]
pub struct Kept {
    /// The step it was saved at (its file name).
    pub step: u64,
    /// The file.
    pub path: PathBuf,
    /// The monitored value at the save, when `top_k` ranks files.
    pub score: Option<f64>,
}

/// Whether a smaller or a larger monitored value is better.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Smaller is better (a loss).
    #[default]
    Min,
    /// Larger is better (an accuracy).
    Max,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        match s {
            "min" => Ok(Mode::Min),
            "max" => Ok(Mode::Max),
            other => Err(format!("mode must be `min` or `max`, not `{other}`")),
        }
    }
}

/// The rotation rules of one Checkpointer. With neither `keep` nor `top_k`, every file is kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policy {
    /// Keep the newest N files.
    pub keep: Option<usize>,
    /// Keep the K best files by score.
    pub top_k: Option<usize>,
    /// How scores rank.
    pub mode: Mode,
    /// Keep every file whose step is a multiple of this.
    pub keep_every: Option<u64>,
}

impl Policy {
    /// Whether no file is ever deleted.
    pub fn keeps_all(&self) -> bool {
        self.keep.is_none() && self.top_k.is_none()
    }

    /// A score as a rank key: lower ranks better; a missing or NaN score ranks last (as
    /// Lightning treats NaN).
    fn rank_key(&self, score: Option<f64>) -> f64 {
        match (score, self.mode) {
            (Some(s), Mode::Min) if !s.is_nan() => s,
            (Some(s), Mode::Max) if !s.is_nan() => -s,
            _ => f64::INFINITY,
        }
    }

    /// The positions in `files` (sorted by step, oldest first) to delete. Never the newest
    /// file, never a protected one.
    ///
    /// ```
    /// use xmen_hook_checkpointer::policy::{Kept, Policy};
    /// let files: Vec<Kept> = (1..=6).map(|s| Kept { step: s * 10, path: format!("{}.safetensors", s * 10).into(), score: None }).collect();
    /// let p = Policy { keep: Some(2), keep_every: Some(30), ..Policy::default() };
    /// assert_eq!(p.to_delete(&files, &|_| false), [0, 1, 3]); // keeps 30 (every), 50, 60
    /// ```
    pub fn to_delete(&self, files: &[Kept], protected: &dyn Fn(&Path) -> bool) -> Vec<usize> {
        if self.keeps_all() || files.is_empty() {
            return Vec::new();
        }
        let mut kept = vec![false; files.len()];
        let newest = files.iter().enumerate().max_by_key(|(_, f)| f.step).map_or(0, |(i, _)| i);
        kept[newest] = true;
        for (i, f) in files.iter().enumerate() {
            if protected(&f.path) || self.keep_every.is_some_and(|n| n > 0 && f.step % n == 0) {
                kept[i] = true;
            }
        }
        if let Some(n) = self.keep {
            let mut by_step: Vec<usize> = (0..files.len()).collect();
            by_step.sort_by_key(|&i| std::cmp::Reverse(files[i].step));
            for &i in by_step.iter().take(n) {
                kept[i] = true;
            }
        }
        if let Some(k) = self.top_k {
            let mut ranked: Vec<usize> = (0..files.len()).collect();
            // Ties keep the older file, as Lightning only replaces on a strict improvement.
            ranked.sort_by(|&a, &b| {
                self.rank_key(files[a].score)
                    .total_cmp(&self.rank_key(files[b].score))
                    .then(files[a].step.cmp(&files[b].step))
            });
            for &i in ranked.iter().take(k) {
                kept[i] = true;
            }
        }
        (0..files.len()).filter(|&i| !kept[i]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(scores: &[(u64, f64)]) -> Vec<Kept> {
        scores.iter().map(|&(step, s)| Kept { step, path: PathBuf::from(format!("{step}")), score: Some(s) }).collect()
    }

    fn kept_steps(p: &Policy, f: &[Kept], protect: &[u64]) -> Vec<u64> {
        let del = p.to_delete(f, &|path| protect.iter().any(|s| path == Path::new(&s.to_string())));
        f.iter().enumerate().filter(|(i, _)| !del.contains(i)).map(|(_, k)| k.step).collect()
    }

    #[test]
    fn rotation_rules_table() {
        let f = files(&[(1, 0.5), (2, 0.2), (3, 0.9), (4, 0.1), (5, f64::NAN), (6, 0.7)]);
        let cases: Vec<(Policy, &[u64], Vec<u64>)> = vec![
            (Policy::default(), &[], vec![1, 2, 3, 4, 5, 6]),
            (Policy { keep: Some(2), ..Policy::default() }, &[], vec![5, 6]),
            (Policy { keep: Some(1), ..Policy::default() }, &[2], vec![2, 6]),
            (Policy { top_k: Some(2), ..Policy::default() }, &[], vec![2, 4, 6]),
            (Policy { top_k: Some(2), mode: Mode::Max, ..Policy::default() }, &[], vec![3, 6]),
            (Policy { top_k: Some(1), keep: Some(1), ..Policy::default() }, &[], vec![4, 6]),
            (Policy { keep: Some(1), keep_every: Some(2), ..Policy::default() }, &[], vec![2, 4, 6]),
        ];
        for (p, protect, want) in cases {
            assert_eq!(kept_steps(&p, &f, protect), want, "{p:?} protect {protect:?}");
        }
    }

    #[test]
    fn ties_keep_the_older_file_and_nan_ranks_last() {
        let f = files(&[(1, f64::NAN), (2, 0.3), (3, 0.3), (4, 0.9)]);
        let p = Policy { top_k: Some(1), ..Policy::default() };
        assert_eq!(kept_steps(&p, &f, &[]), [2, 4]);
        let p = Policy { top_k: Some(1), mode: Mode::Max, ..Policy::default() };
        assert_eq!(kept_steps(&p, &f, &[]), [4]);
    }
}

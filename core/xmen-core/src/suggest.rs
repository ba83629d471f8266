//! "Did you mean": the one helper every error about a mistyped name uses (hook names, hook
//! options, `xmen list` columns, parameters).

/// Up to three of `known` close to `typed` (edit distance at most a third of its length, at
/// least 1; one a prefix of the other; or an abbreviation), closest first.
pub fn did_you_mean(typed: &str, known: &[String]) -> Vec<String> {
    let limit = (typed.chars().count() / 3).max(1);
    let mut close: Vec<(usize, &String)> = known
        .iter()
        .filter(|k| k.as_str() != typed)
        .filter_map(|k| {
            let d = edit_distance(typed, k);
            let prefix = !typed.is_empty() && (k.starts_with(typed) || typed.starts_with(k.as_str()));
            (d <= limit || prefix || abbreviates(typed, k)).then_some((d, k))
        })
        .collect();
    close.sort();
    close.into_iter().take(3).map(|(_, k)| k.clone()).collect()
}

/// Whether `typed` (3 characters or more) is `known` with letters left out: `opts` for
/// `options`, `fmt` for `format`.
fn abbreviates(typed: &str, known: &str) -> bool {
    let mut rest = known.chars();
    typed.chars().count() >= 3 && typed.chars().all(|c| rest.any(|k| k == c))
}

/// Levenshtein distance over characters, with transpositions counting one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_and_far_ones_are_not() {
        let known: Vec<String> =
            ["logger", "timer", "messenger", "early-stop", "jsonl"].iter().map(|s| s.to_string()).collect();
        let table: [(&str, &[&str]); 7] = [
            ("loger", &["logger"]),
            ("lgoger", &["logger"]),
            ("timr", &["timer"]),
            ("early_stop", &["early-stop"]),
            ("early", &["early-stop"]),
            ("tensorboard", &[]),
            ("msgr", &["messenger"]),
        ];
        for (typed, want) in table {
            assert_eq!(did_you_mean(typed, &known), want, "{typed}");
        }
    }
}

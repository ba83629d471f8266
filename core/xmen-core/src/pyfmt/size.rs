//! Human-readable byte counts, as the original's `get_size` prints them.

/// `n` bytes in 1024-based units with two decimals: `1.20MB`, `0.00B`, `1023.00B`.
///
/// Follows the original's loop: divide by 1024 until the value is below 1024, through
/// `B KB MB GB TB PB`. Sizes of 1024 PB or more stay in PB (the original returned `None`).
///
/// ```
/// use xmen_core::pyfmt::human_bytes;
/// assert_eq!(human_bytes(1_253_656), "1.20MB");
/// assert_eq!(human_bytes(1_253_656_678), "1.17GB");
/// ```
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.2}{}", UNITS[unit])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    #[test]
    fn sizes_match_the_originals_get_size() {
        // Checked with the original's get_size under CPython 3.11.
        let cases: &[(u64, &str)] = &[
            (0, "0.00B"),
            (1, "1.00B"),
            (1023, "1023.00B"),
            (1024, "1.00KB"),
            (1536, "1.50KB"),
            (1_048_575, "1024.00KB"),
            (1_253_656, "1.20MB"),
            (1_253_656_678, "1.17GB"),
            (1 << 40, "1.00TB"),
            (5 << 50, "5.00PB"),
            // The original returns None here; we stay in PB.
            (u64::MAX, "16384.00PB"),
        ];
        for &(n, want) in cases {
            assert_eq!(human_bytes(n), want, "{n}");
        }
    }
}

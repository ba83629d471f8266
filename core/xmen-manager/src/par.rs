//! The crate's one way to spread work over the machine's cores: contiguous chunks on scoped
//! threads, results in order (used by `xmen list` to stat, parse and decode, and by
//! `xmen register` to write folders).

/// Run `f` over contiguous chunks of `items` on up to `threads` scoped threads (0: the
/// machine's parallelism), concatenating the chunks' results in order. Fewer than `min`
/// items run on the calling thread (a thread costs tens of microseconds).
pub(crate) fn par_chunks<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    min: usize,
    f: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    let threads = if threads == 0 { std::thread::available_parallelism().map_or(1, usize::from) } else { threads };
    if threads <= 1 || items.len() < min.max(2) {
        return f(items);
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let mut parts = items.chunks(chunk);
        // The calling thread takes the first chunk itself.
        let first = parts.next().unwrap_or_default();
        let handles: Vec<_> = parts.map(|part| s.spawn(|| f(part))).collect();
        let mut out = f(first);
        for h in handles {
            match h.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::par_chunks;

    #[test]
    fn chunks_keep_order_on_any_number_of_threads() {
        let items: Vec<u32> = (0..1000).collect();
        for threads in [1, 2, 3, 7] {
            let out = par_chunks(&items, threads, 10, |c| c.iter().map(|x| x * 2).collect());
            assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>(), "{threads} threads");
        }
        let few = par_chunks(&items[..5], 2, 64, |c| vec![c.len()]);
        assert_eq!(few, vec![5], "below the minimum one call does it all");
    }
}

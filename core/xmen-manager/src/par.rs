//! The crate's one way to spread work over the machine's cores: chunks of a slice on scoped
//! threads, results in order. [`par_chunks`] splits the slice once, one chunk per thread (used
//! by `xmen list` to parse, decode and render, and by `xmen register` to write folders);
//! [`par_chunks_beside`] lets workers claim small chunks while the calling thread does other
//! work first (`xmen list` stats the params.yml files while it reads the index).

/// `threads`, or the machine's parallelism for 0.
fn threads_or_cores(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        threads
    }
}

/// Run `f` over contiguous chunks of `items` on up to `threads` scoped threads (0: the
/// machine's parallelism), concatenating the chunks' results in order. Fewer than `min`
/// items run on the calling thread (a thread costs tens of microseconds).
pub(crate) fn par_chunks<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    min: usize,
    f: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    let threads = threads_or_cores(threads);
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

/// Run `f` over chunks of `chunk` items on `threads` scoped worker threads (0: the machine's
/// parallelism) while the calling thread runs `beside`; then the calling thread works through
/// the chunks left. Chunks are claimed one at a time, so whichever threads have a core do the
/// work (the calling thread busy with `beside`, or a worker the scheduler put aside, holds up
/// at most one chunk). The chunks' results are concatenated in order. Fewer than `min` items,
/// or one thread, run after `beside` on the calling thread.
pub(crate) fn par_chunks_beside<T: Sync, R: Send, S>(
    items: &[T],
    threads: usize,
    chunk: usize,
    min: usize,
    f: impl Fn(&[T]) -> Vec<R> + Sync,
    beside: impl FnOnce() -> S,
) -> (Vec<R>, S) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = threads_or_cores(threads);
    if threads <= 1 || items.len() < min.max(2) {
        let side = beside();
        return (f(items), side);
    }
    let chunk = chunk.max(1);
    let next = AtomicUsize::new(0);
    // Claim chunks until none is left; each result is tagged with its chunk's position.
    let work = || {
        let mut done: Vec<(usize, Vec<R>)> = Vec::new();
        loop {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let start = at.saturating_mul(chunk);
            if start >= items.len() {
                break;
            }
            done.push((at, f(&items[start..items.len().min(start + chunk)])));
        }
        done
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
        let side = beside();
        let mut parts = work();
        for h in handles {
            match h.join() {
                Ok(done) => parts.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        parts.sort_unstable_by_key(|(at, _)| *at);
        let mut out = Vec::with_capacity(items.len());
        for (_, part) in parts {
            out.extend(part);
        }
        (out, side)
    })
}

#[cfg(test)]
mod tests {
    use super::{par_chunks, par_chunks_beside};

    #[test]
    fn claimed_chunks_keep_order_while_the_caller_works_beside() {
        let items: Vec<u32> = (0..1000).collect();
        let want: Vec<u32> = items.iter().map(|x| x * 3).collect();
        for (threads, chunk) in [(1, 7), (2, 7), (3, 64), (2, 1), (4, 5000)] {
            let (out, side) = par_chunks_beside(
                &items,
                threads,
                chunk,
                10,
                |c| c.iter().map(|x| x * 3).collect(),
                || {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    threads
                },
            );
            assert_eq!((out, side), (want.clone(), threads), "{threads} threads, chunks of {chunk}");
        }
        let (few, side) = par_chunks_beside(&items[..5], 2, 1, 64, |c| vec![c.len()], || "beside");
        assert_eq!((few, side), (vec![5], "beside"), "below the minimum one call does it all");
    }

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

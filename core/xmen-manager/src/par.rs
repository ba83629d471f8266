//! The crate's one way to spread work over the machine's cores: scoped threads, results in
//! order. [`par_chunks`] splits a slice once, one chunk per thread (used by `xmen list` to
//! parse, decode and render); [`par_chunks_beside`] lets workers claim small chunks while the
//! calling thread does other work first (`xmen list` stats the params.yml files while it reads
//! the index); [`par_serial_then`] runs a first stage on one thread and a second on all of
//! them (`xmen register` makes the folders of a set on one thread and fills them on every
//! core).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// `threads`, or the machine's parallelism for 0.
pub(crate) fn threads_or_cores(threads: usize) -> usize {
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

/// What [`par_serial_then`] did.
pub(crate) struct Staged<T, E> {
    /// `first` succeeded for the indices `0..first_done`.
    pub first_done: usize,
    /// Where `first` failed, and why.
    pub first_failure: Option<(usize, E)>,
    /// `then`'s result for each index, `None` where it did not run.
    pub then: Vec<Option<Result<T, E>>>,
}

/// Run `first(i)` for `i` in `0..n` in order on one thread, and `then(i)` on every thread
/// (the first one too, once its stage is done) as soon as `first(i)` has succeeded, each
/// index claimed once, in order: for work whose first stage must not run on two threads at
/// once (making folders in one parent, whose lock the kernel holds through each `mkdir`).
/// A failure of `first` ends the first stage, and `then` still runs for every index before
/// it; a failure of `then` stops new work of both stages (work under way finishes). Fewer
/// than `min` items, or one core, run on the calling thread, each index's second stage right
/// after its first.
pub(crate) fn par_serial_then<T: Send + Sync, E: Send + Sync>(
    n: usize,
    min: usize,
    first: impl Fn(usize) -> Result<(), E> + Sync,
    then: impl Fn(usize) -> Result<T, E> + Sync,
) -> Staged<T, E> {
    // `first` succeeded for 0..done; `running` until it stops; `next` is the next index a
    // thread claims for `then`.
    let done = AtomicUsize::new(0);
    let running = AtomicBool::new(true);
    let next = AtomicUsize::new(0);
    let then_failed = AtomicBool::new(false);
    let first_failure = Mutex::new(None);
    let results: Vec<OnceLock<Result<T, E>>> = (0..n).map(|_| OnceLock::new()).collect();
    let run_first = || {
        for i in 0..n {
            if then_failed.load(Ordering::Relaxed) {
                break;
            }
            if let Err(e) = first(i) {
                if let Ok(mut f) = first_failure.lock() {
                    *f = Some((i, e));
                }
                break;
            }
            done.store(i + 1, Ordering::Release);
        }
        running.store(false, Ordering::Release);
    };
    let run_then = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= n || then_failed.load(Ordering::Relaxed) {
            return;
        }
        while done.load(Ordering::Acquire) <= i {
            // Once `first` has stopped, `done` is final.
            if !running.load(Ordering::Acquire) && done.load(Ordering::Acquire) <= i {
                return;
            }
            std::thread::yield_now();
        }
        let r = then(i);
        if r.is_err() {
            then_failed.store(true, Ordering::Relaxed);
        }
        let _ = results[i].set(r);
    };
    if threads_or_cores(0) > 1 && n >= min.max(2) {
        std::thread::scope(|s| {
            s.spawn(|| {
                run_first();
                run_then();
            });
            run_then();
        });
    } else {
        // One thread: each index's second stage right after its first.
        for (i, slot) in results.iter().enumerate() {
            match first(i) {
                Ok(()) => done.store(i + 1, Ordering::Relaxed),
                Err(e) => {
                    if let Ok(mut f) = first_failure.lock() {
                        *f = Some((i, e));
                    }
                    break;
                }
            }
            let r = then(i);
            let failed = r.is_err();
            let _ = slot.set(r);
            if failed {
                break;
            }
        }
    }
    Staged {
        first_done: done.into_inner(),
        first_failure: first_failure.into_inner().ok().flatten(),
        then: results.into_iter().map(OnceLock::into_inner).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::{par_chunks, par_chunks_beside, par_serial_then};

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

    #[test]
    fn the_second_stage_of_an_index_runs_after_its_first_and_failures_stop_what_they_should() {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let n = 2_000;
        // `min` 2: on every core; above `n`: on the calling thread, interleaved.
        let cases = [(None, None), (Some(700), None), (None, Some(300)), (Some(10), Some(5))];
        for (min, (fail_first, fail_then)) in [2, n + 1].into_iter().flat_map(|m| cases.map(|c| (m, c))) {
            let firsts: Vec<AtomicBool> = (0..n).map(|_| AtomicBool::new(false)).collect();
            let order = AtomicUsize::new(0);
            let staged = par_serial_then(
                n,
                min,
                |i| {
                    // The first stage runs in order, on one thread at a time.
                    assert_eq!(order.fetch_add(1, Ordering::SeqCst), i);
                    if Some(i) == fail_first {
                        return Err(format!("first {i}"));
                    }
                    firsts[i].store(true, Ordering::SeqCst);
                    Ok(())
                },
                |i| {
                    assert!(firsts[i].load(Ordering::SeqCst), "then({i}) before first({i})");
                    if Some(i) == fail_then {
                        return Err(format!("then {i}"));
                    }
                    Ok(i * 2)
                },
            );
            let ran: Vec<usize> = staged.then.iter().enumerate().filter(|(_, r)| r.is_some()).map(|(i, _)| i).collect();
            match (fail_first, fail_then) {
                (None, None) => {
                    assert_eq!(staged.first_done, n);
                    assert!(staged.first_failure.is_none());
                    assert!(staged.then.iter().enumerate().all(|(i, r)| matches!(r, Some(Ok(v)) if *v == i * 2)));
                }
                (Some(k), None) => {
                    // The second stage still finishes every index the first one did.
                    assert_eq!(staged.first_done, k);
                    assert_eq!(staged.first_failure, Some((k, format!("first {k}"))));
                    assert_eq!(ran, (0..k).collect::<Vec<_>>());
                }
                (_, Some(j)) => {
                    assert!(matches!(&staged.then[j], Some(Err(e)) if *e == format!("then {j}")));
                    // New work stops, but how far the other thread got is up to the scheduler.
                    assert!(ran.iter().all(|i| *i < staged.first_done));
                }
            }
        }
    }
}

//! The iterator adapter behind `m.iter(...)`, and the loop state it drives ([`LoopCursor`]),
//! which a host with its own iterator protocol (the Python binding) drives directly.

use super::Monitor;

/// A wrapped loop. Counting happens in `next()`: when the next item is requested,
/// the previous item's body is complete, so its counter moves and hooks fire; the
/// level is released when the adapter is dropped, even after `break` (the original left
/// it active).
pub struct MonitorIter<'m, I> {
    m: &'m Monitor,
    inner: I,
    cursor: LoopCursor,
}

impl<'m, I: Iterator> MonitorIter<'m, I> {
    pub(crate) fn new(m: &'m Monitor, inner: I, len: Option<u64>) -> MonitorIter<'m, I> {
        MonitorIter { m, inner, cursor: LoopCursor::open(m, len) }
    }
}

impl<I: Iterator> Iterator for MonitorIter<'_, I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let inner = &mut self.inner;
        self.cursor.next(self.m, || inner.next(), || {})
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.cursor.done {
            (0, Some(0))
        } else {
            (0, self.inner.size_hint().1)
        }
    }
}

impl<I> Drop for MonitorIter<'_, I> {
    fn drop(&mut self) {
        self.cursor.close(self.m);
    }
}

/// One wrapped loop's state without a borrow of its Monitor, for a host that keeps the loop in
/// an object of its own (a Python iterator) and passes the Monitor at each call. Its owner
/// calls [`LoopCursor::close`] when the loop object goes away (the level is popped then).
///
/// ```
/// use xmen_core::monitor::{LoopCursor, Monitor, MonitorConfig};
/// let m = Monitor::new(MonitorConfig::default());
/// let mut items = 0..4;
/// let mut cursor = LoopCursor::open(&m, Some(4));
/// let mut fired = 0;
/// while let Some(_) = cursor.next(&m, || items.next(), || fired += 1) {}
/// cursor.close(&m);
/// assert_eq!((m.step(), fired), (4, 0)); // no hooks: nothing ever fires
/// ```
#[derive(Debug)]
pub struct LoopCursor {
    /// The level this loop owns; `None` when the loop is not counted.
    id: Option<u64>,
    yielded: bool,
    done: bool,
}

impl LoopCursor {
    /// Open a level for a loop of `len` items (when known). A stopped Monitor gives a loop
    /// that yields nothing.
    pub fn open(m: &Monitor, len: Option<u64>) -> LoopCursor {
        match m.open_level(len) {
            Ok(id) => {
                m.begin_first_load(id);
                LoopCursor { id: Some(id), yielded: false, done: false }
            }
            // Stopped: yield nothing.
            Err(true) => LoopCursor { id: None, yielded: false, done: true },
            // Not counted: pass items through.
            Err(false) => LoopCursor { id: None, yielded: false, done: false },
        }
    }

    /// The loop's next item: the previous item's body is complete, so its counter moves and
    /// hooks fire; `before_fire` runs just before they do, and only when some hook fires (the
    /// Python binding reads the caller's locals there). `fetch` takes the item from the
    /// host's iterator. `None` ends the loop.
    pub fn next<T>(&mut self, m: &Monitor, fetch: impl FnOnce() -> Option<T>, before_fire: impl FnOnce()) -> Option<T> {
        if self.done {
            return None;
        }
        let Some(id) = self.id else {
            return fetch();
        };
        if self.yielded {
            m.end_item(id, before_fire);
            if m.is_stopped() {
                self.close(m);
                return None;
            }
        }
        match fetch() {
            None => {
                self.close(m);
                None
            }
            Some(x) if m.begin_item(id) => {
                self.yielded = true;
                Some(x)
            }
            Some(_) => {
                self.close(m);
                None
            }
        }
    }

    /// Whether the loop has ended.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// End the loop and pop its level; safe to call twice.
    pub fn close(&mut self, m: &Monitor) {
        self.done = true;
        if let Some(id) = self.id.take() {
            m.close_level(id);
        }
    }
}

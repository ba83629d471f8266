//! The iterator adapter behind `m.iter(...)`.

use super::Monitor;

/// A wrapped loop. Counting happens in `next()`: when the next item is requested,
/// the previous item's body is complete, so its counter moves and hooks fire; the
/// level is released when the adapter is dropped, even after `break` (B37).
pub struct MonitorIter<'m, I> {
    m: &'m Monitor,
    inner: I,
    /// The level this loop owns; `None` when the loop is not counted.
    id: Option<u64>,
    yielded: bool,
    done: bool,
}

impl<'m, I: Iterator> MonitorIter<'m, I> {
    pub(crate) fn new(m: &'m Monitor, inner: I, len: Option<u64>) -> MonitorIter<'m, I> {
        match m.open_level(len) {
            Ok(id) => {
                m.begin_first_load(id);
                MonitorIter { m, inner, id: Some(id), yielded: false, done: false }
            }
            // Stopped: yield nothing.
            Err(true) => MonitorIter { m, inner, id: None, yielded: false, done: true },
            // Not counted: pass items through.
            Err(false) => MonitorIter { m, inner, id: None, yielded: false, done: false },
        }
    }

    fn finish(&mut self) {
        self.done = true;
        if let Some(id) = self.id.take() {
            self.m.close_level(id);
        }
    }
}

impl<I: Iterator> Iterator for MonitorIter<'_, I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        if self.done {
            return None;
        }
        let Some(id) = self.id else {
            return self.inner.next();
        };
        if self.yielded {
            self.m.end_item(id);
            if self.m.is_stopped() {
                self.finish();
                return None;
            }
        }
        match self.inner.next() {
            None => {
                self.finish();
                None
            }
            Some(x) if self.m.begin_item(id) => {
                self.yielded = true;
                Some(x)
            }
            Some(_) => {
                self.finish();
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            (0, self.inner.size_hint().1)
        }
    }
}

impl<I> Drop for MonitorIter<'_, I> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.m.close_level(id);
        }
    }
}

//! A small byte buffer for rendered numbers: on the stack while short, on the heap when long.
//!
//! Logger output formats one or two floats per line; keeping their text on the stack means the
//! common case allocates nothing. Only ASCII is ever pushed, so the contents are always UTF-8.

use std::fmt;

/// Bytes kept inline before spilling to the heap: enough for any shortest float repr
/// (`-2.2250738585072014e-308` is 24 bytes) and for everyday precisions.
const INLINE: usize = 48;

/// A growable ASCII buffer that lives on the stack until it outgrows [`INLINE`] bytes.
pub(crate) struct NumBuf {
    inline: [u8; INLINE],
    len: usize,
    /// Holds every byte once the buffer has spilled; empty (and unallocated) before.
    heap: Vec<u8>,
    spilled: bool,
}

impl NumBuf {
    /// An empty buffer.
    pub(crate) fn new() -> NumBuf {
        NumBuf { inline: [0; INLINE], len: 0, heap: Vec::new(), spilled: false }
    }

    /// The bytes written so far.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        if self.spilled {
            &self.heap
        } else {
            &self.inline[..self.len]
        }
    }

    /// The bytes written so far, mutably.
    pub(crate) fn as_mut_bytes(&mut self) -> &mut [u8] {
        if self.spilled {
            &mut self.heap
        } else {
            &mut self.inline[..self.len]
        }
    }

    /// The text written so far.
    pub(crate) fn as_str(&self) -> Result<&str, fmt::Error> {
        // Only `&str` and ASCII bytes are pushed and truncation happens at ASCII positions,
        // so this never fails; the check costs a pass over a few bytes.
        std::str::from_utf8(self.as_bytes()).map_err(|_| fmt::Error)
    }

    /// Drop everything after the first `n` bytes.
    pub(crate) fn truncate(&mut self, n: usize) {
        if self.spilled {
            self.heap.truncate(n);
        } else {
            self.len = self.len.min(n);
        }
    }

    /// Append raw bytes (callers push ASCII only).
    pub(crate) fn push_bytes(&mut self, bytes: &[u8]) {
        if !self.spilled {
            let end = self.len + bytes.len();
            if let Some(dst) = self.inline.get_mut(self.len..end) {
                dst.copy_from_slice(bytes);
                self.len = end;
                return;
            }
            self.heap.reserve(end.max(2 * INLINE));
            self.heap.extend_from_slice(&self.inline[..self.len]);
            self.spilled = true;
        }
        self.heap.extend_from_slice(bytes);
    }

    /// Append one ASCII byte.
    pub(crate) fn push(&mut self, b: u8) {
        self.push_bytes(&[b]);
    }
}

impl fmt::Write for NumBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_bytes(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;
    use std::fmt::Write;

    #[test]
    fn short_text_stays_inline_and_long_text_spills_intact() {
        let mut b = NumBuf::new();
        b.push_bytes(b"12.5");
        assert!(!b.spilled);
        assert_eq!(b.as_str(), Ok("12.5"));
        for _ in 0..30 {
            b.push(b'7');
        }
        write!(b, "{}", "x".repeat(100)).unwrap();
        assert!(b.spilled);
        assert_eq!(b.as_bytes().len(), 134);
        assert!(b.as_str().unwrap().starts_with("12.5777"));
        b.truncate(2);
        assert_eq!(b.as_str(), Ok("12"));
    }
}

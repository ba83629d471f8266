//! [`Capture`]: keep what a Monitor and its hooks print, for tests and notebooks.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// An in-memory output for [`MonitorBuilder::output`](crate::MonitorBuilder::output):
/// clones share one buffer, so keep a clone to read what was printed.
///
/// ```
/// let out = xmen::Capture::new();
/// let m = xmen::Monitor::builder().log("x@2s").output(out.clone());
/// # let _ = m;
/// assert_eq!(out.text(), "");
/// ```
#[derive(Clone, Debug, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// An empty capture.
    pub fn new() -> Capture {
        Capture::default()
    }

    /// Everything written so far (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The lines written so far.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

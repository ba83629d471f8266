//! The event file: TFRecord framing (length, masked CRC32C of the length, data,
//! masked CRC32C of the data) around protobuf `Event`s, in a file named the way
//! TensorBoard and tensorboardX name theirs.

use crate::proto::{Event, EventWhat};
use prost::Message;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Distinguishes the files one process opens within the same second.
static FILE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// TFRecord's CRC mask: rotate right by 15 and add a constant, so that a CRC of
/// data that itself contains CRCs is not degenerate.
pub fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    (crc.rotate_right(15)).wrapping_add(0xa282_ead8)
}

/// Append one TFRecord holding `data` to `out`.
pub fn frame(out: &mut Vec<u8>, data: &[u8]) {
    let len = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc32c(data).to_le_bytes());
}

/// Seconds since the Unix epoch, as TensorBoard's `wall_time`.
pub fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// An open event file.
pub struct EventFile {
    out: BufWriter<File>,
    path: PathBuf,
    record: Vec<u8>,
    framed: Vec<u8>,
}

impl EventFile {
    /// Create `{dir}/events.out.tfevents.{time}.{host}.{pid}.{n}` (creating `dir`) and
    /// write the `brain.Event:2` header record.
    pub fn create(dir: &Path) -> io::Result<EventFile> {
        std::fs::create_dir_all(dir)?;
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        let n = FILE_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("events.out.tfevents.{secs:010}.{host}.{}.{n}", std::process::id()));
        let file = File::options().create_new(true).write(true).open(&path)?;
        let mut f =
            EventFile { out: BufWriter::with_capacity(1 << 16, file), path, record: Vec::new(), framed: Vec::new() };
        f.write(&Event { wall_time: now_secs(), step: 0, what: Some(EventWhat::FileVersion("brain.Event:2".into())) })?;
        f.flush()?;
        Ok(f)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one event (buffered).
    pub fn write(&mut self, event: &Event) -> io::Result<()> {
        let mut record = std::mem::take(&mut self.record);
        record.clear();
        event.encode(&mut record).map_err(io::Error::other)?;
        let r = self.write_raw(&record);
        self.record = record;
        r
    }

    /// Append one already encoded event (buffered).
    pub fn write_raw(&mut self, encoded: &[u8]) -> io::Result<()> {
        self.framed.clear();
        frame(&mut self.framed, encoded);
        self.out.write_all(&self.framed)
    }

    /// Push buffered records to the operating system.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    #[test]
    fn masked_crc_of_empty_and_known_input_matches_tensorflow() {
        // crc32c("") = 0, so the masked value is the bare constant.
        assert_eq!(masked_crc32c(b""), 0xa282_ead8);
        // crc32c("123456789") = 0xe3069283 (the standard check value).
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(masked_crc32c(b"123456789"), 0xe306_9283u32.rotate_right(15).wrapping_add(0xa282_ead8));
    }

    #[test]
    fn a_frame_is_length_crc_data_crc() {
        let mut out = Vec::new();
        frame(&mut out, b"abc");
        assert_eq!(out.len(), 8 + 4 + 3 + 4);
        assert_eq!(&out[..8], &3u64.to_le_bytes());
        assert_eq!(&out[12..15], b"abc");
    }
}

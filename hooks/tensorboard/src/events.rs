//! The event file: TFRecord framing (length, masked CRC32C of the length, data,
//! masked CRC32C of the data) around protobuf `Event`s, in a file named the way
//! TensorBoard and tensorboardX name theirs. The framing itself lives in `xmen-tfevents`.

use crate::proto::{Event, EventWhat};
use prost::Message;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Distinguishes the files one process opens within the same second.
static FILE_COUNTER: AtomicU64 = AtomicU64::new(0);

// The framing is shared with the reader of `xmen ui`: one crate owns the format both ways.
pub use xmen_tfevents::{frame, masked_crc32c};

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

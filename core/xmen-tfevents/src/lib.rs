//! TensorBoard event files as xmen writes them and reads them back: the TFRecord framing
//! (length, masked CRC32C of the length, data, masked CRC32C of the data) and a reader of the
//! scalars inside.
//!
//! **Key design choice: one crate owns the format, both ways.** The TensorBoard hook frames its
//! records with [`frame`], and `xmen ui` reads them with [`ScalarFile`], so the writer and the
//! reader cannot drift apart. The reader is incremental and tolerant of a file being appended
//! to while it reads: it keeps the offset of the last complete record and, on the next
//! [`ScalarFile::refresh`], reads only what was appended; a record whose bytes are not all
//! there yet is left for later rather than reported as damage. Events are decoded by hand
//! (only the fields a scalar needs), which keeps the reader free of a protobuf runtime and
//! fast enough for a million points.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

/// TFRecord's CRC mask: rotate right by 15 and add a constant, so that a CRC of data that
/// itself contains CRCs is not degenerate.
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

/// Encode `Event { wall_time, step, summary { value { tag, simple_value } ... } }` by hand (the
/// writer's hot path: no message is built per value).
pub fn encode_scalar_event(out: &mut Vec<u8>, wall: f64, step: i64, tags: &[String], values: &[f32]) {
    let value_len = |tag: &str| 1 + varint_len(tag.len() as u64) + tag.len() + 5;
    let summary_len: usize = tags
        .iter()
        .zip(values)
        .map(|(t, _)| {
            let l = value_len(t);
            1 + varint_len(l as u64) + l
        })
        .sum();
    out.push(0x09); // 1: wall_time, fixed64
    out.extend_from_slice(&wall.to_le_bytes());
    if step != 0 {
        out.push(0x10); // 2: step, varint (int64: two's complement)
        put_varint(step as u64, out);
    }
    out.push(0x2a); // 5: summary, length-delimited
    put_varint(summary_len as u64, out);
    for (tag, v) in tags.iter().zip(values) {
        out.push(0x0a); // Summary.1: value
        put_varint(value_len(tag) as u64, out);
        out.push(0x0a); // Value.1: tag
        put_varint(tag.len() as u64, out);
        out.extend_from_slice(tag.as_bytes());
        out.push(0x15); // Value.2: simple_value, fixed32
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Whether a file name is an event file's (`events.out.tfevents.*`, as TensorBoard and
/// tensorboardX name them).
pub fn is_event_file(name: &str) -> bool {
    name.contains("tfevents")
}

/// One scalar point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// The global step.
    pub step: i64,
    /// Seconds since the Unix epoch when it was logged.
    pub wall: f64,
    /// The value.
    pub value: f64,
}

/// An event file that cannot be read past some point.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be opened or read.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A record's checksum or content is wrong: the file is damaged at `offset`; the points
    /// before it are kept.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The byte offset of the bad record.
        offset: u64,
        /// What is wrong.
        what: &'static str,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io { path, source } => write!(f, "cannot read the event file {}: {source}", path.display()),
            ReadError::Corrupt { path, offset, what } => write!(
                f,
                "the event file {} is damaged at byte {offset} ({what}); the points before it are shown, \
                 the rest is skipped until the file is rewritten",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io { source, .. } => Some(source),
            ReadError::Corrupt { .. } => None,
        }
    }
}

/// The scalars of one event file, read incrementally.
#[derive(Debug)]
pub struct ScalarFile {
    path: PathBuf,
    /// Where the first record not yet read starts.
    offset: u64,
    /// The file's identity when last read (device, inode): a replaced file is read anew.
    identity: Option<(u64, u64)>,
    /// Set once a damaged record is met: nothing past it is read again.
    damaged: Option<(u64, &'static str)>,
    series: BTreeMap<String, Vec<Point>>,
}

impl ScalarFile {
    /// A reader of `path` that has read nothing yet.
    pub fn new(path: impl Into<PathBuf>) -> ScalarFile {
        ScalarFile { path: path.into(), offset: 0, identity: None, damaged: None, series: BTreeMap::new() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The series read so far, by tag, in file order.
    pub fn series(&self) -> &BTreeMap<String, Vec<Point>> {
        &self.series
    }

    /// Read the records appended since the last call; returns how many points were added. A
    /// file that shrank (rewritten) is read again from its start.
    pub fn refresh(&mut self) -> Result<usize, ReadError> {
        let io = |source| ReadError::Io { path: self.path.clone(), source };
        let mut file = File::open(&self.path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        let len = meta.len();
        let identity = identity(&meta);
        if len < self.offset || identity != self.identity {
            self.offset = 0;
            self.damaged = None;
            self.series.clear();
            self.identity = identity;
        }
        if let Some((offset, what)) = self.damaged {
            return Err(ReadError::Corrupt { path: self.path.clone(), offset, what });
        }
        if len == self.offset {
            return Ok(0);
        }
        file.seek(SeekFrom::Start(self.offset)).map_err(io)?;
        let mut buf = Vec::with_capacity(usize::try_from(len - self.offset).unwrap_or(0));
        file.read_to_end(&mut buf).map_err(io)?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        let decoded = if buf.len() >= PARALLEL_BYTES && threads > 1 {
            decode_parallel(&buf, &mut self.series, threads)
        } else {
            decode_records(&buf, &mut self.series)
        };
        if let Some((pos, what)) = decoded.damage {
            return Err(self.damage(pos, what));
        }
        self.offset += decoded.consumed as u64;
        Ok(decoded.added)
    }

    fn damage(&mut self, pos: usize, what: &'static str) -> ReadError {
        let offset = self.offset + pos as u64;
        self.offset = offset;
        self.damaged = Some((offset, what));
        ReadError::Corrupt { path: self.path.clone(), offset, what }
    }
}

/// New data past this size is decoded on several threads (a first view of a long run).
const PARALLEL_BYTES: usize = 4 << 20;

/// What decoding a buffer of records gave.
#[derive(Debug, Default, PartialEq)]
struct Decoded {
    /// Points added.
    added: usize,
    /// Bytes of complete, good records.
    consumed: usize,
    /// Where a damaged record starts, and what is wrong with it.
    damage: Option<(usize, &'static str)>,
}

/// The length of the record starting at `pos`: `Ok(None)` when its header is not all there.
fn record_len(buf: &[u8], pos: usize) -> Result<Option<usize>, &'static str> {
    let Some(header) = buf.get(pos..pos + 12) else { return Ok(None) };
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&header[..8]);
    if masked_crc32c(&len_bytes) != u32::from_le_bytes([header[8], header[9], header[10], header[11]]) {
        return Err("the length's checksum does not match");
    }
    match usize::try_from(u64::from_le_bytes(len_bytes)) {
        Ok(n) if n < (1 << 31) => Ok(Some(n)),
        _ => Err("a record longer than 2 GiB"),
    }
}

/// Decode the complete records at the start of `buf` in order, stopping at a record still being
/// written (left for later) or at a damaged one.
fn decode_records(buf: &[u8], series: &mut BTreeMap<String, Vec<Point>>) -> Decoded {
    let mut d = Decoded::default();
    let mut pos = 0usize;
    loop {
        let n = match record_len(buf, pos) {
            Ok(Some(n)) => n,
            Ok(None) => break,
            Err(what) => {
                d.damage = Some((pos, what));
                break;
            }
        };
        // A record still being written: leave it for the next refresh.
        let (Some(data), Some(crc)) = (buf.get(pos + 12..pos + 12 + n), buf.get(pos + 12 + n..pos + 16 + n)) else {
            break;
        };
        if masked_crc32c(data) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            d.damage = Some((pos, "the data's checksum does not match"));
            break;
        }
        match decode_event(data, series) {
            Ok(k) => d.added += k,
            Err(what) => {
                d.damage = Some((pos, what));
                break;
            }
        }
        pos += 16 + n;
    }
    d.consumed = pos;
    d
}

/// [`decode_records`] on `threads` threads: the record boundaries are found first (headers
/// only), each share of whole records is decoded apart, and the shares are joined in file
/// order, up to the first damage.
fn decode_parallel(buf: &[u8], series: &mut BTreeMap<String, Vec<Point>>, threads: usize) -> Decoded {
    let mut starts = Vec::new();
    let mut pos = 0usize;
    let mut header_damage = None;
    loop {
        match record_len(buf, pos) {
            Ok(Some(n)) if pos + 16 + n <= buf.len() => {
                starts.push(pos);
                pos += 16 + n;
            }
            Ok(_) => break,
            Err(what) => {
                header_damage = Some((pos, what));
                break;
            }
        }
    }
    let end = pos;
    let per = starts.len().div_ceil(threads).max(1);
    let ranges: Vec<(usize, usize)> = starts
        .chunks(per)
        .enumerate()
        .map(|(i, c)| (c[0], starts.get((i + 1) * per).copied().unwrap_or(end)))
        .collect();
    let parts: Vec<(BTreeMap<String, Vec<Point>>, Decoded)> = std::thread::scope(|s| {
        let handles: Vec<_> = ranges
            .iter()
            .map(|&(a, b)| {
                s.spawn(move || {
                    let mut local = BTreeMap::new();
                    let d = decode_records(&buf[a..b], &mut local);
                    (local, d)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    let mut total = Decoded::default();
    for ((a, _), (local, d)) in ranges.iter().zip(parts) {
        for (tag, mut points) in local {
            series.entry(tag).or_default().append(&mut points);
        }
        total.added += d.added;
        total.consumed = a + d.consumed;
        if let Some((p, what)) = d.damage {
            total.damage = Some((a + p, what));
            return total;
        }
    }
    total.consumed = end;
    total.damage = header_damage;
    total
}

#[cfg(unix)]
fn identity(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// A cursor over protobuf bytes.
struct Wire<'a> {
    buf: &'a [u8],
    pos: usize,
}

const TRUNCATED: &str = "a protobuf field runs past the end of its record";

impl<'a> Wire<'a> {
    fn new(buf: &'a [u8]) -> Wire<'a> {
        Wire { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, &'static str> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or(TRUNCATED)?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err("a protobuf varint longer than 10 bytes")
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let s = self.buf.get(self.pos..self.pos.checked_add(n).ok_or(TRUNCATED)?).ok_or(TRUNCATED)?;
        self.pos += n;
        Ok(s)
    }

    /// The next field: its number and its value.
    fn field(&mut self) -> Result<Option<(u64, Field<'a>)>, &'static str> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Field::Varint(self.varint()?),
            1 => Field::Fixed64(self.take(8)?),
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| TRUNCATED)?;
                Field::Bytes(self.take(n)?)
            }
            5 => Field::Fixed32(self.take(4)?),
            _ => return Err("an unknown protobuf wire type"),
        };
        Ok(Some((key >> 3, value)))
    }
}

enum Field<'a> {
    Varint(u64),
    Fixed64(&'a [u8]),
    Fixed32(&'a [u8]),
    Bytes(&'a [u8]),
}

fn f64_of(b: &[u8]) -> f64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    f64::from_le_bytes(a)
}

fn f32_of(b: &[u8]) -> f64 {
    f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Decode one `Event` and add its scalar values (`simple_value`, or a one-element float or
/// double tensor as TensorFlow 2 writes scalars); returns how many were added.
fn decode_event(data: &[u8], series: &mut BTreeMap<String, Vec<Point>>) -> Result<usize, &'static str> {
    let (mut wall, mut step, mut summary) = (0.0, 0i64, None);
    let mut w = Wire::new(data);
    while let Some((n, f)) = w.field()? {
        match (n, f) {
            (1, Field::Fixed64(b)) => wall = f64_of(b),
            // int64 is a two's complement varint.
            (2, Field::Varint(v)) => step = v as i64,
            (5, Field::Bytes(b)) => summary = Some(b),
            _ => {}
        }
    }
    let Some(summary) = summary else { return Ok(0) };
    let mut added = 0;
    let mut s = Wire::new(summary);
    while let Some((n, f)) = s.field()? {
        let (1, Field::Bytes(value)) = (n, f) else { continue };
        let (mut tag, mut scalar) = (None, None);
        let mut v = Wire::new(value);
        while let Some((n, f)) = v.field()? {
            match (n, f) {
                (1, Field::Bytes(t)) => tag = Some(t),
                (2, Field::Fixed32(b)) => scalar = Some(f32_of(b)),
                (8, Field::Bytes(t)) => scalar = tensor_scalar(t)?,
                _ => {}
            }
        }
        if let (Some(tag), Some(value)) = (tag, scalar) {
            let tag = String::from_utf8_lossy(tag);
            let points = match series.get_mut(tag.as_ref()) {
                Some(p) => p,
                None => series.entry(tag.into_owned()).or_default(),
            };
            points.push(Point { step, wall, value });
            added += 1;
        }
    }
    Ok(added)
}

/// The value of a `TensorProto` holding one float or double and no dimensions.
fn tensor_scalar(t: &[u8]) -> Result<Option<f64>, &'static str> {
    let (mut dtype, mut has_dims, mut content, mut value) = (0, false, None, None);
    let mut w = Wire::new(t);
    while let Some((n, f)) = w.field()? {
        match (n, f) {
            (1, Field::Varint(d)) => dtype = d,
            (2, Field::Bytes(shape)) => has_dims = !shape.is_empty(),
            (4, Field::Bytes(c)) => content = Some(c),
            (5, Field::Fixed32(b)) => value = Some(f32_of(b)),
            (5, Field::Bytes(b)) if b.len() == 4 => value = Some(f32_of(b)),
            (6, Field::Fixed64(b)) => value = Some(f64_of(b)),
            (6, Field::Bytes(b)) if b.len() == 8 => value = Some(f64_of(b)),
            _ => {}
        }
    }
    if has_dims {
        return Ok(None);
    }
    Ok(match (dtype, content) {
        (1, Some(c)) if c.len() == 4 => Some(f32_of(c)),
        (2, Some(c)) if c.len() == 8 => Some(f64_of(c)),
        (1 | 2, None) => value,
        _ => None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;
    use std::io::Write as _;

    fn scalar_event(wall: f64, step: i64, tag: &str, v: f32) -> Vec<u8> {
        let mut e = Vec::new();
        encode_scalar_event(&mut e, wall, step, &[tag.to_owned()], &[v]);
        e
    }

    #[test]
    fn what_is_encoded_is_read_back_for_every_step_and_several_tags() {
        let mut tags: Vec<String> = vec!["a".into(), "loss/train".into()];
        tags.push("t".repeat(200));
        let mut series = BTreeMap::new();
        for step in [0i64, 1, 127, 128, 300, 1 << 40, -1] {
            let mut e = Vec::new();
            encode_scalar_event(&mut e, 12.5, step, &tags, &[1.5, -2.0, 7.0]);
            assert_eq!(decode_event(&e, &mut series).unwrap(), 3);
            assert_eq!(series["loss/train"].last(), Some(&Point { step, wall: 12.5, value: -2.0 }));
        }
        assert_eq!(series[&tags[2]].len(), 7);
        for v in [0u64, 1, 127, 128, 16_383, 16_384, u64::MAX] {
            let mut out = Vec::new();
            put_varint(v, &mut out);
            assert_eq!(out.len(), varint_len(v), "{v}");
        }
    }

    #[test]
    fn masked_crc_of_empty_and_known_input_matches_tensorflow() {
        assert_eq!(masked_crc32c(b""), 0xa282_ead8);
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

    #[test]
    fn a_half_written_record_is_read_once_it_is_complete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.out.tfevents.1");
        let mut bytes = Vec::new();
        frame(&mut bytes, &scalar_event(10.0, 1, "loss", 0.5));
        let mut second = Vec::new();
        frame(&mut second, &scalar_event(11.0, 300, "loss", 0.25));
        let mut f = File::create(&path).unwrap();
        f.write_all(&bytes).unwrap();
        f.write_all(&second[..7]).unwrap();
        f.flush().unwrap();
        let mut r = ScalarFile::new(&path);
        assert_eq!(r.refresh().unwrap(), 1);
        f.write_all(&second[7..]).unwrap();
        f.flush().unwrap();
        assert_eq!(r.refresh().unwrap(), 1);
        assert_eq!(r.refresh().unwrap(), 0);
        let loss = &r.series()["loss"];
        assert_eq!(loss[1], Point { step: 300, wall: 11.0, value: 0.25 });
    }

    #[test]
    fn a_damaged_record_is_reported_with_its_offset_and_earlier_points_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.out.tfevents.2");
        let mut bytes = Vec::new();
        frame(&mut bytes, &scalar_event(10.0, 1, "a", 1.0));
        let first = bytes.len();
        frame(&mut bytes, &scalar_event(10.0, 2, "a", 2.0));
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let mut r = ScalarFile::new(&path);
        let e = r.refresh().unwrap_err().to_string();
        assert!(e.contains(&format!("damaged at byte {first}")), "{e}");
        assert_eq!(r.series()["a"].len(), 1);
        // A replaced file (a new inode) is read again from its start.
        let mut fresh = Vec::new();
        frame(&mut fresh, &scalar_event(1.0, 5, "b", 3.0));
        frame(&mut fresh, &scalar_event(1.0, 6, "b", 4.0));
        let tmp = dir.path().join("new");
        std::fs::write(&tmp, &fresh).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        assert_eq!(r.refresh().unwrap(), 2);
        // So is one truncated in place.
        std::fs::write(&path, &fresh[..fresh.len() / 2]).unwrap();
        assert_eq!(r.refresh().unwrap(), 1);
        assert!(!r.series().contains_key("a"));
    }

    #[test]
    fn decoding_on_several_threads_gives_what_one_thread_gives() {
        let mut buf = Vec::new();
        let tags = ["a".to_owned(), "b".to_owned()];
        for i in 0..10_000i64 {
            let t = &tags[(i % 2) as usize..=(i % 2) as usize];
            frame(&mut buf, &scalar_event(i as f64, i, &t[0], i as f32));
        }
        let whole = buf.len();
        buf.extend_from_slice(&[1, 0, 0]); // the start of a record still being written
        let (mut one, mut many) = (BTreeMap::new(), BTreeMap::new());
        let d1 = decode_records(&buf, &mut one);
        for threads in [2, 3, 7] {
            many.clear();
            assert_eq!(decode_parallel(&buf, &mut many, threads), d1);
            assert_eq!(many, one);
        }
        assert_eq!(d1, Decoded { added: 10_000, consumed: whole, damage: None });
        // Damage in the middle: everything before it is kept, on one thread or several.
        let bad = whole / 2 + 3;
        buf[bad] ^= 0x55;
        let (mut one, mut many) = (BTreeMap::new(), BTreeMap::new());
        let d1 = decode_records(&buf, &mut one);
        assert!(d1.damage.is_some() && d1.consumed < whole);
        assert_eq!(decode_parallel(&buf, &mut many, 4), d1);
        assert_eq!(many, one);
    }

    #[test]
    fn a_scalar_tensor_is_read_and_other_tensors_are_not() {
        // TensorProto { dtype: DT_FLOAT, tensor_shape: {}, float_val: [2.5] }
        let scalar = [0x08, 0x01, 0x12, 0x00, 0x2d, 0, 0, 0x20, 0x40];
        assert_eq!(tensor_scalar(&scalar).unwrap(), Some(2.5));
        // with a dimension
        let vector = [0x08, 0x01, 0x12, 0x04, 0x12, 0x02, 0x08, 0x01, 0x2d, 0, 0, 0x20, 0x40];
        assert_eq!(tensor_scalar(&vector).unwrap(), None);
        // DT_STRING
        assert_eq!(tensor_scalar(&[0x08, 0x07, 0x22, 0x01, b'x']).unwrap(), None);
    }
}

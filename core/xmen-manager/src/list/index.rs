//! The list index: a rebuildable cache of every listed params.yml as a flattened, encoded row
//! (`$XMEN/cache/list-index.bin`), so that a warm `xmen list` stats files instead of parsing
//! YAML.
//!
//! **The YAML files stay the source of truth.** Each entry is keyed by the experiment folder
//! and holds the `params.yml` stamp it was read with: size, mtime and ctime in nanoseconds,
//! inode and device. A file whose stamp differs is parsed again. A stale row is never shown,
//! even on filesystems with coarse timestamps: like git's "racily clean" entries, an entry
//! whose file changed (mtime or ctime) less than [`IndexOptions::racy_window_ns`] (2 s) before
//! the moment it was read is parsed again on every run until that is no longer true, because a
//! later rewrite within the same timestamp tick would leave its stamp unchanged. Files are
//! stamped before they are read, so a write racing with the read only causes an extra parse.
//!
//! The file is written atomically (a temporary file, then a rename) and only when something
//! changed. A missing, truncated, corrupt or old-version index is ignored and rebuilt; failing
//! to write it never fails the listing.
//!
//! Layout: a magic and version, the time of the scan, the key table (the flattened column
//! names; rows refer to keys by their position), the entries (folder, stamp, the time the
//! file was read, a flag for unreadable files, the row encoded by the `codec` module), and a
//! checksum of everything before it.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use xmen_core::Value;
use xmen_record::Record;

use super::codec::{self, Corrupt, Reader};
use super::columns::flatten_record;
use crate::par::{par_chunks, par_chunks_beside};

const MAGIC: &[u8; 16] = b"xmen-list-index\0";
const VERSION: u64 = 2;
const FLAG_UNREADABLE: u8 = 1;

/// The file name of the index inside `$XMEN/cache`.
pub const INDEX_FILE: &str = "list-index.bin";

/// The status shown for a folder whose params.yml cannot be read.
pub const UNREADABLE: &str = "unreadable";

/// The key of the cell that holds why a row is unreadable.
pub const ERROR_KEY: &str = "_error";

/// Knobs of the index.
#[derive(Clone, Copy, Debug)]
pub struct IndexOptions {
    /// An entry whose file changed less than this long before it was read is re-read on every
    /// run (2 s: coarser than any timestamp granularity Linux filesystems use).
    pub racy_window_ns: i64,
    /// Worker threads for stats and parses (0: the machine's parallelism).
    pub threads: usize,
}

impl Default for IndexOptions {
    fn default() -> IndexOptions {
        IndexOptions { racy_window_ns: 2_000_000_000, threads: 0 }
    }
}

/// What a file's metadata must still say for its cached row to be reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Stamp {
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    ino: u64,
    dev: u64,
}

impl Stamp {
    #[cfg(unix)]
    fn of(st: &rustix::fs::Stat) -> Stamp {
        fn int<T: TryInto<i64>>(v: T) -> i64 {
            v.try_into().unwrap_or(0)
        }
        fn uint<T: TryInto<u64>>(v: T) -> u64 {
            v.try_into().unwrap_or(0)
        }
        let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
        Stamp {
            size: uint(st.st_size),
            mtime_ns: ns(int(st.st_mtime), int(st.st_mtime_nsec)),
            ctime_ns: ns(int(st.st_ctime), int(st.st_ctime_nsec)),
            ino: uint(st.st_ino),
            dev: uint(st.st_dev),
        }
    }

    #[cfg(not(unix))]
    fn of(m: &fs::Metadata) -> Stamp {
        let t = m.modified().map(system_ns).unwrap_or(0);
        Stamp { size: m.len(), mtime_ns: t, ctime_ns: t, ino: 0, dev: 0 }
    }

    /// The stamp of an open file.
    fn of_file(file: &fs::File) -> std::io::Result<Stamp> {
        #[cfg(unix)]
        return Ok(Stamp::of(&rustix::fs::fstat(file)?));
        #[cfg(not(unix))]
        return Ok(Stamp::of(&file.metadata()?));
    }

    fn newest_ns(&self) -> i64 {
        self.mtime_ns.max(self.ctime_ns)
    }
}

/// Stamp the params.yml of every folder of `chunk`, in order. On Unix each run of folders
/// sharing a parent (a set) is stamped with `statat` from the parent's descriptor, which skips
/// walking the common part of the path 100,000 times.
#[cfg(unix)]
fn stamp_chunk<S: AsRef<str>>(chunk: &[S]) -> Vec<std::io::Result<Stamp>> {
    use rustix::fs::{AtFlags, Mode, OFlags};
    let mut dir: Option<(&str, std::io::Result<std::os::fd::OwnedFd>)> = None;
    let mut rel = String::new();
    chunk
        .iter()
        .map(|folder| {
            let folder = folder.as_ref();
            let Some((parent, name)) = folder.rsplit_once('/').filter(|(p, n)| !p.is_empty() && !n.is_empty()) else {
                return Ok(Stamp::of(&rustix::fs::stat(params_path(folder).as_path())?));
            };
            if dir.as_ref().is_none_or(|(p, _)| *p != parent) {
                let fd = rustix::fs::open(parent, OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
                    .map_err(std::io::Error::from);
                dir = Some((parent, fd));
            }
            rel.clear();
            rel.push_str(name);
            rel.push_str("/params.yml");
            match &dir {
                Some((_, Ok(fd))) => Ok(Stamp::of(&rustix::fs::statat(fd, rel.as_str(), AtFlags::empty())?)),
                _ => Ok(Stamp::of(&rustix::fs::stat(params_path(folder).as_path())?)),
            }
        })
        .collect()
}

#[cfg(not(unix))]
fn stamp_chunk<S: AsRef<str>>(chunk: &[S]) -> Vec<std::io::Result<Stamp>> {
    chunk.iter().map(|f| fs::metadata(params_path(f.as_ref())).map(|m| Stamp::of(&m))).collect()
}

fn system_ns(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// How the index was used by one listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// Rows taken from the index.
    pub reused: usize,
    /// params.yml files parsed.
    pub parsed: usize,
    /// Why the index could not be used, when it was not (missing, corrupt, old version).
    pub rebuilt: Option<String>,
    /// Whether a new index was written.
    pub written: bool,
    /// Why writing the index failed, when it did (the listing is still complete).
    pub write_error: Option<String>,
}

/// A fast non-cryptographic hasher for the folder map and the listing's set of selected
/// folders (the index is a local cache and the folders come from the user's own xmen.yml: no
/// untrusted input to defend against), eight bytes at a time.
#[derive(Default)]
pub(crate) struct FoldHasher(u64);

impl std::hash::Hasher for FoldHasher {
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FoldHasher>>;

/// A set with the hasher of [`FastMap`].
pub(crate) type FastSet<K> = HashSet<K, std::hash::BuildHasherDefault<FoldHasher>>;

/// Where one row's encoded cells live.
#[derive(Clone, Debug)]
enum Blob {
    /// A byte range of the index file read at the start.
    Old(usize, usize),
    /// Freshly encoded.
    New(Vec<u8>),
}

/// One requested folder's row, still encoded.
#[derive(Clone, Debug)]
pub struct RawRow<'a> {
    /// The experiment folder (as linked), borrowed from the requested folders.
    pub folder: &'a str,
    /// Why its params.yml could not be read, when it could not.
    pub unreadable: Option<String>,
    blob: Blob,
    stamp: Option<(Stamp, i64)>,
}

/// The rows of the requested folders, in request order, and the key table they refer to.
#[derive(Debug)]
pub struct Rows<'a> {
    keys: Vec<String>,
    old: Vec<u8>,
    rows: Vec<RawRow<'a>>,
    /// How the index was used.
    pub stats: IndexStats,
}

impl<'f> Rows<'f> {
    /// The flattened column names; a row's cells refer to them by position.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The rows, in request order.
    pub fn rows(&self) -> &[RawRow<'f>] {
        &self.rows
    }

    fn blob<'a>(&'a self, row: &'a RawRow<'_>) -> &'a [u8] {
        match &row.blob {
            Blob::Old(a, b) => self.old.get(*a..*b).unwrap_or_default(),
            Blob::New(v) => v,
        }
    }

    /// The cells of `row` whose key id `wanted` accepts, in file order.
    pub fn cells(&self, row: &RawRow<'_>, wanted: impl Fn(u32) -> bool) -> Vec<(u32, Value)> {
        // Blobs are checked when the index is read or were just encoded.
        codec::decode_row(self.blob(row), wanted).unwrap_or_default()
    }

    /// Every key id `row` has, in order.
    pub fn key_ids(&self, row: &RawRow<'_>) -> Vec<u32> {
        codec::row_keys(self.blob(row)).unwrap_or_default()
    }
}

/// An entry of the index file: positions in its bytes and the stamp.
struct Entry {
    /// The byte range of the folder (as linked).
    folder: (usize, usize),
    stamp: Stamp,
    read_at: i64,
    unreadable: bool,
    blob: (usize, usize),
}

/// The parsed index file (its entries point into its bytes).
struct IndexFile {
    keys: Vec<String>,
    entries: Vec<Entry>,
}

impl Entry {
    /// The folder's bytes in `old`, the index file the entry was parsed from.
    fn folder<'a>(&self, old: &'a [u8]) -> &'a [u8] {
        old.get(self.folder.0..self.folder.1).unwrap_or_default()
    }
}

/// A checksum fast enough for tens of megabytes (four independent multiply-rotate lanes).
fn checksum(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut lanes = [K, K ^ 1, K ^ 2, K ^ 3];
    let mut chunks = bytes.chunks_exact(32);
    for c in &mut chunks {
        for (i, lane) in lanes.iter_mut().enumerate() {
            let mut w = [0u8; 8];
            w.copy_from_slice(&c[i * 8..i * 8 + 8]);
            *lane = (*lane ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(31);
        }
    }
    let mut h = bytes.len() as u64;
    for lane in lanes {
        h = (h ^ lane).wrapping_mul(K).rotate_left(27);
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

fn parse_index(bytes: &[u8]) -> Result<IndexFile, Corrupt> {
    if bytes.len() < MAGIC.len() + 24 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(Corrupt);
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    let mut s = [0u8; 8];
    s.copy_from_slice(sum);
    if u64::from_le_bytes(s) != checksum(body) {
        return Err(Corrupt);
    }
    let mut r = Reader::new(body);
    r.bytes(MAGIC.len())?;
    if r.u64()? != VERSION {
        return Err(Corrupt);
    }
    let nkeys = r.len()?;
    let mut keys = Vec::with_capacity(nkeys.min(1 << 20));
    for _ in 0..nkeys {
        keys.push(r.str()?.to_owned());
    }
    let n = r.len()?;
    let mut entries = Vec::with_capacity(n.min(1 << 24));
    for _ in 0..n {
        let name = r.str()?;
        let folder = (r.pos() - name.len(), r.pos());
        let stamp = Stamp {
            size: r.u64()?,
            mtime_ns: r.u64()? as i64,
            ctime_ns: r.u64()? as i64,
            ino: r.u64()?,
            dev: r.u64()?,
        };
        let read_at = r.u64()? as i64;
        let unreadable = r.u8()? & FLAG_UNREADABLE != 0;
        let len = r.len()?;
        let start = r.pos();
        // Rows are checked lazily: the checksum guards the bytes, decoding is bounds-checked
        // and a key id past the key table is never wanted by a reader.
        r.bytes(len)?;
        entries.push(Entry { folder, stamp, read_at, unreadable, blob: (start, start + len) });
    }
    if !r.at_end() {
        return Err(Corrupt);
    }
    Ok(IndexFile { keys, entries })
}

/// The params.yml of an experiment folder.
pub fn params_path(folder: &str) -> PathBuf {
    Path::new(folder).join("params.yml")
}

/// A fresh parse: the stamp taken before reading, and the row or why it is unreadable.
type Parsed = (Option<Stamp>, Result<Vec<(String, Value)>, String>);

/// Parse one folder's params.yml, reading it into `text` (a buffer reused by the thread).
fn parse_folder(folder: &str, text: &mut String) -> Parsed {
    let path = params_path(folder);
    let mut file = match fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => return (None, Err(missing_message(&path, &e))),
    };
    let stamp = match Stamp::of_file(&file) {
        Ok(s) => s,
        Err(e) => return (None, Err(format!("{}: cannot read its metadata: {e}", path.display()))),
    };
    text.clear();
    text.reserve(usize::try_from(stamp.size).unwrap_or(0).saturating_add(1));
    if let Err(e) = file.read_to_string(text) {
        return (Some(stamp), Err(format!("{}: cannot read: {e}", path.display())));
    }
    // Values only: a listing shows no help comments.
    match Record::parse_values(text, &path) {
        Ok(rec) => (Some(stamp), Ok(flatten_record(&rec, folder))),
        Err(e) => (Some(stamp), Err(e.to_string())),
    }
}

fn missing_message(path: &Path, e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        format!("{}: no such file (was the folder moved or deleted? `xmen relink` or `xmen unlink` it)", path.display())
    } else {
        format!("{}: cannot open: {e}", path.display())
    }
}

/// The cells of an unreadable row.
fn unreadable_cells(folder: &str, reason: &str) -> Vec<(String, Value)> {
    vec![
        ("_root".to_owned(), Value::Str(folder.to_owned())),
        ("_status".to_owned(), Value::Str(UNREADABLE.to_owned())),
        (ERROR_KEY.to_owned(), Value::Str(reason.to_owned())),
    ]
}

/// The key table being extended by fresh rows, shared by the parsing threads.
struct KeyTable {
    names: Vec<String>,
    ids: FastMap<String, u32>,
}

impl KeyTable {
    fn id(&mut self, key: &str) -> u32 {
        if let Some(id) = self.ids.get(key) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(key.to_owned());
        self.ids.insert(key.to_owned(), id);
        id
    }
}

/// One parsing thread's view of the shared [`KeyTable`]: the ids it has used, so that it locks
/// the table only for a key it has not seen (rows of one experiment set share their keys).
struct LocalKeys<'a> {
    shared: &'a Mutex<KeyTable>,
    ids: FastMap<String, u32>,
}

impl LocalKeys<'_> {
    fn id(&mut self, key: &str) -> u32 {
        if let Some(id) = self.ids.get(key) {
            return *id;
        }
        let id = self.shared.lock().unwrap_or_else(PoisonError::into_inner).id(key);
        self.ids.insert(key.to_owned(), id);
        id
    }

    fn encode(&mut self, cells: &[(String, Value)]) -> Vec<u8> {
        let mut out = Vec::with_capacity(cells.len() * 16);
        codec::put_varint(&mut out, cells.len() as u64);
        for (k, v) in cells {
            codec::put_varint(&mut out, u64::from(self.id(k)));
            codec::put_value(&mut out, v);
        }
        out
    }
}

/// The parsed index and the position of each requested folder's entry; `Ok(None)` for an
/// empty file, `Err` says why the index cannot be used.
type Found = Result<Option<(IndexFile, Vec<Option<usize>>)>, String>;

/// Read and parse the opened index and find the entry of each of `folders` (by position).
fn read_index<S: AsRef<str>>(mut file: fs::File, folders: &[S]) -> (Vec<u8>, Found) {
    let mut old = Vec::new();
    let size = file.metadata().map_or(0, |m| m.len());
    old.reserve_exact(usize::try_from(size).unwrap_or(0).saturating_add(1));
    if let Err(e) = file.read_to_end(&mut old) {
        return (Vec::new(), Err(format!("cannot read the index: {e}")));
    }
    if old.is_empty() {
        return (old, Ok(None));
    }
    let Ok(parsed) = parse_index(&old) else {
        return (old, Err("the index is corrupt or from another version; rebuilt".to_owned()));
    };
    // The index holds the last listing's folders first and in order, so the entry of folder
    // `i` is usually entry `i`; the map by folder is built only when one is not.
    let mut by_folder: Option<FastMap<&[u8], usize>> = None;
    let at = folders
        .iter()
        .enumerate()
        .map(|(i, folder)| match parsed.entries.get(i) {
            Some(e) if e.folder(&old) == folder.as_ref().as_bytes() => Some(i),
            _ => by_folder
                .get_or_insert_with(|| parsed.entries.iter().enumerate().map(|(i, e)| (e.folder(&old), i)).collect())
                .get(folder.as_ref().as_bytes())
                .copied(),
        })
        .collect();
    (old, Ok(Some((parsed, at))))
}

/// Read the rows of `folders` (experiment folders, in order), through the index at `index`
/// when given. `linked` is every folder still linked: entries of other folders are dropped
/// when the index is rewritten.
pub fn load_rows<'a, S: AsRef<str> + Sync>(
    folders: &'a [S],
    linked: &[String],
    index: Option<&Path>,
    opts: IndexOptions,
) -> Rows<'a> {
    let scan_start = system_ns(SystemTime::now());
    let mut stats = IndexStats::default();
    // With an index, every requested params.yml is stamped (on the worker threads) while this
    // thread reads the index and finds each folder's entry; without one, every file is parsed
    // and stamped as it is read.
    let opened = match index.map(fs::File::open) {
        Some(Ok(file)) => Some(file),
        Some(Err(e)) => {
            stats.rebuilt = Some(if e.kind() == std::io::ErrorKind::NotFound {
                "no index yet".to_owned()
            } else {
                format!("cannot read the index: {e}")
            });
            None
        }
        None => None,
    };
    let (stamps, (old, found)) = match opened {
        Some(file) => par_chunks_beside(folders, opts.threads, 512, 64, stamp_chunk, || read_index(file, folders)),
        None => (Vec::new(), (Vec::new(), Ok(None))),
    };
    let (parsed_index, at) = match found {
        Ok(Some((file, at))) => (Some(file), at),
        Ok(None) => (None, Vec::new()),
        Err(why) => {
            stats.rebuilt = Some(why);
            (None, Vec::new())
        }
    };

    // Keep the cached row when the stamp is unchanged and the entry is not racy.
    // A row still to parse holds an empty blob until it is parsed below.
    let mut rows: Vec<RawRow<'a>> = Vec::with_capacity(folders.len());
    let mut to_parse: Vec<usize> = Vec::new();
    for (i, folder) in folders.iter().enumerate() {
        let folder = folder.as_ref();
        let cached = match (stamps.get(i), &parsed_index, at.get(i).copied().flatten()) {
            (Some(Ok(stamp)), Some(file), Some(at)) => {
                let e = &file.entries[at];
                let racy = e.stamp.newest_ns().saturating_add(opts.racy_window_ns) >= e.read_at;
                (e.stamp == *stamp && !racy).then(|| RawRow {
                    folder,
                    unreadable: e.unreadable.then(|| error_text(&old, e, &file.keys)),
                    blob: Blob::Old(e.blob.0, e.blob.1),
                    stamp: Some((e.stamp, e.read_at)),
                })
            }
            _ => None,
        };
        rows.push(cached.unwrap_or_else(|| {
            to_parse.push(i);
            RawRow { folder, unreadable: None, blob: Blob::New(Vec::new()), stamp: None }
        }));
    }
    stats.reused = folders.len() - to_parse.len();
    stats.parsed = to_parse.len();

    let mut keys =
        KeyTable { names: parsed_index.as_ref().map(|f| f.keys.clone()).unwrap_or_default(), ids: FastMap::default() };
    if !to_parse.is_empty() {
        keys.ids = keys.names.iter().enumerate().map(|(i, k)| (k.clone(), i as u32)).collect();
        // Each thread parses, flattens and encodes its share, so a cold run holds encoded rows,
        // never all the parsed records, and nothing but the key table is shared.
        let shared = Mutex::new(keys);
        let fresh = par_chunks(&to_parse, opts.threads, 64, |part| {
            let mut local = LocalKeys { shared: &shared, ids: FastMap::default() };
            let mut text = String::new();
            part.iter()
                .map(|&i| {
                    let folder = folders[i].as_ref();
                    let (stamp, result) = parse_folder(folder, &mut text);
                    let (blob, unreadable) = match result {
                        Ok(cells) => (local.encode(&cells), None),
                        Err(reason) => (local.encode(&unreadable_cells(folder, &reason)), Some(reason)),
                    };
                    RawRow { folder, unreadable, blob: Blob::New(blob), stamp: stamp.map(|s| (s, scan_start)) }
                })
                .collect()
        });
        for (&i, row) in to_parse.iter().zip(fresh) {
            rows[i] = row;
        }
        keys = shared.into_inner().unwrap_or_else(PoisonError::into_inner);
    }

    let mut out = Rows { keys: Vec::new(), old: Vec::new(), rows, stats };
    if let Some(path) = index {
        let stale_entries = parsed_index.as_ref().is_some_and(|f| f.entries.len() > linked.len());
        if out.stats.parsed > 0 || stale_entries {
            let bytes = write_index_bytes(&out.rows, &old, parsed_index.as_ref(), &keys.names, linked);
            match write_atomic(path, &bytes) {
                Ok(()) => out.stats.written = true,
                Err(e) => out.stats.write_error = Some(format!("cannot write {}: {e}", path.display())),
            }
        }
    }
    out.keys = keys.names;
    out.old = old;
    out
}

fn error_text(old: &[u8], e: &Entry, keys: &[String]) -> String {
    let cells = codec::decode_row(old.get(e.blob.0..e.blob.1).unwrap_or_default(), |id| {
        keys.get(id as usize).is_some_and(|k| k == ERROR_KEY)
    })
    .unwrap_or_default();
    match cells.into_iter().next() {
        Some((_, Value::Str(s))) => s,
        _ => UNREADABLE.to_owned(),
    }
}

fn put_entry(out: &mut Vec<u8>, folder: &[u8], stamp: Stamp, read_at: i64, unreadable: bool, blob: &[u8]) {
    codec::put_varint(out, folder.len() as u64);
    out.extend_from_slice(folder);
    for v in [stamp.size, stamp.mtime_ns as u64, stamp.ctime_ns as u64, stamp.ino, stamp.dev, read_at as u64] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.push(if unreadable { FLAG_UNREADABLE } else { 0 });
    codec::put_varint(out, blob.len() as u64);
    out.extend_from_slice(blob);
}

fn write_index_bytes(
    rows: &[RawRow<'_>],
    old: &[u8],
    file: Option<&IndexFile>,
    keys: &[String],
    linked: &[String],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(old.len() + rows.len() * 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    codec::put_varint(&mut out, keys.len() as u64);
    for k in keys {
        codec::put_str(&mut out, k);
    }
    let requested: HashSet<&[u8]> = rows.iter().map(|r| r.folder.as_bytes()).collect();
    let linked: HashSet<&[u8]> = linked.iter().map(|l| l.trim_end_matches('/').as_bytes()).collect();
    // folder, stamp, read at, unreadable, encoded row
    type Out<'a> = (&'a [u8], Stamp, i64, bool, &'a [u8]);
    let mut entries: Vec<Out<'_>> = Vec::with_capacity(rows.len());
    for r in rows {
        // A file that could not even be stamped (missing) is not cached.
        if let Some((stamp, read_at)) = r.stamp {
            let blob = match &r.blob {
                Blob::Old(a, b) => old.get(*a..*b).unwrap_or_default(),
                Blob::New(v) => v.as_slice(),
            };
            entries.push((r.folder.as_bytes(), stamp, read_at, r.unreadable.is_some(), blob));
        }
    }
    if let Some(f) = file {
        for e in &f.entries {
            let folder = e.folder(old);
            if !requested.contains(folder) && linked.contains(folder) {
                entries.push((
                    folder,
                    e.stamp,
                    e.read_at,
                    e.unreadable,
                    old.get(e.blob.0..e.blob.1).unwrap_or_default(),
                ));
            }
        }
    }
    codec::put_varint(&mut out, entries.len() as u64);
    for (folder, stamp, read_at, unreadable, blob) in entries {
        put_entry(&mut out, folder, stamp, read_at, unreadable, blob);
    }
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// Write `bytes` to `path` through a temporary file in the same folder and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> String {
        let folder = dir.join(name);
        fs::create_dir_all(&folder).unwrap_or_default();
        fs::write(folder.join("params.yml"), text).unwrap_or_default();
        folder.display().to_string()
    }

    fn lr_of(rows: &Rows<'_>, i: usize) -> Option<Value> {
        let lr = rows.keys().iter().position(|k| k == "lr")? as u32;
        rows.cells(&rows.rows()[i], |id| id == lr).into_iter().next().map(|(_, v)| v)
    }

    #[test]
    fn a_warm_index_is_reused_and_a_changed_file_is_parsed_again() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let index = t.path().join("cache").join(INDEX_FILE);
        let a = write(t.path(), "a", "_status: registered\nlr: 0.1\n");
        let b = write(t.path(), "b", "_status: registered\nlr: 0.2\n");
        let folders = vec![a.clone(), b.clone()];
        // no racy window: the stamps alone decide
        let opts = IndexOptions { racy_window_ns: -1, threads: 1 };
        let cold = load_rows(&folders, &folders, Some(&index), opts);
        assert_eq!((cold.stats.parsed, cold.stats.reused, cold.stats.written), (2, 0, true));
        let warm = load_rows(&folders, &folders, Some(&index), opts);
        assert_eq!((warm.stats.parsed, warm.stats.reused, warm.stats.written), (0, 2, false));
        assert_eq!(lr_of(&warm, 1), Some(Value::Float(0.2)));
        // a rewrite through a new inode (what the record crate does) changes the stamp
        let tmp = t.path().join("b").join("params.yml.tmp");
        fs::write(&tmp, "_status: registered\nlr: 0.3\n").unwrap_or_default();
        fs::rename(&tmp, t.path().join("b").join("params.yml")).unwrap_or_default();
        let again = load_rows(&folders, &folders, Some(&index), opts);
        assert_eq!((again.stats.parsed, again.stats.reused), (1, 1));
        assert_eq!(lr_of(&again, 1), Some(Value::Float(0.3)));
        assert_eq!(lr_of(&again, 0), Some(Value::Float(0.1)));
    }

    #[test]
    fn an_in_place_same_size_rewrite_with_the_old_mtime_is_seen_through_ctime() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let index = t.path().join(INDEX_FILE);
        let a = write(t.path(), "a", "lr: 0.1\n");
        let folders = vec![a];
        // the racy window off: only the stamp can notice
        let opts = IndexOptions { racy_window_ns: -1, threads: 1 };
        load_rows(&folders, &folders, Some(&index), opts);
        let file = t.path().join("a").join("params.yml");
        let mtime = fs::metadata(&file).and_then(|m| m.modified()).unwrap_or_else(|e| panic!("{e}"));
        // past the kernel's timestamp tick (a jiffy, at most 10 ms)
        std::thread::sleep(std::time::Duration::from_millis(30));
        fs::write(&file, "lr: 0.2\n").unwrap_or_else(|e| panic!("{e}"));
        let f = fs::File::options().write(true).open(&file).unwrap_or_else(|e| panic!("{e}"));
        f.set_modified(mtime).unwrap_or_else(|e| panic!("{e}"));
        drop(f);
        let rows = load_rows(&folders, &folders, Some(&index), opts);
        assert_eq!(rows.stats.parsed, 1);
        assert_eq!(lr_of(&rows, 0), Some(Value::Float(0.2)));
    }

    #[test]
    fn recent_files_are_racy_and_always_reparsed() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let index = t.path().join(INDEX_FILE);
        let a = write(t.path(), "a", "lr: 0.1\n");
        let folders = vec![a];
        let opts = IndexOptions { racy_window_ns: 60_000_000_000, threads: 1 };
        load_rows(&folders, &folders, Some(&index), opts);
        let warm = load_rows(&folders, &folders, Some(&index), opts);
        assert_eq!(warm.stats.parsed, 1, "a file changed within the window is not trusted");
    }

    #[test]
    fn a_corrupt_or_truncated_index_is_rebuilt() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let index = t.path().join(INDEX_FILE);
        let a = write(t.path(), "a", "lr: 0.1\n");
        let folders = vec![a];
        let opts = IndexOptions { racy_window_ns: -1, threads: 1 };
        load_rows(&folders, &folders, Some(&index), opts);
        let good = fs::read(&index).unwrap_or_default();
        for bad in [b"garbage".to_vec(), good[..good.len() / 2].to_vec(), {
            let mut flipped = good.clone();
            let mid = flipped.len() / 2;
            flipped[mid] ^= 0x40;
            flipped
        }] {
            fs::write(&index, &bad).unwrap_or_default();
            let rows = load_rows(&folders, &folders, Some(&index), opts);
            assert!(rows.stats.rebuilt.is_some() && rows.stats.written, "{:?}", rows.stats);
            assert_eq!(lr_of(&rows, 0), Some(Value::Float(0.1)));
        }
    }

    #[test]
    fn unreadable_and_missing_files_become_unreadable_rows() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let index = t.path().join(INDEX_FILE);
        let bad = write(t.path(), "bad", "a: [1, 2\n");
        let gone = t.path().join("gone").display().to_string();
        let folders = vec![bad, gone];
        let opts = IndexOptions { racy_window_ns: -1, threads: 1 };
        for _ in 0..2 {
            let rows = load_rows(&folders, &folders, Some(&index), opts);
            let why: Vec<String> = rows.rows().iter().map(|r| r.unreadable.clone().unwrap_or_default()).collect();
            assert!(why[0].contains("bad/params.yml") && why[0].contains("invalid YAML"), "{why:?}");
            assert!(why[1].contains("gone/params.yml") && why[1].contains("no such file"), "{why:?}");
        }
    }
}

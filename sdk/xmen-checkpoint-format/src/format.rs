//! The checkpoint file: `{folder}/{step}.safetensors`, one object per file.
//!
//! A safetensors file (readable by Python's `safetensors` and by tch) holding the object's
//! tensors, with text metadata: the object's own entries plus
//!
//! | key | value |
//! |---|---|
//! | `step`, `epoch`, `era`, `eon`, `supereon` | each non-zero counter at the save (missing ones read as 0) |
//! | `version` | JSON: `{"type": <the object's Rust type>, "xmen": <the writer's xmen version>}` |
//! | `date` | `%I:%M%p %B %d, %Y` (`05:59PM November 27, 2026`) |
//! | `format` | `xmen-checkpoint/1` |
//! | `monitor`, `score` | with `top_k`: the ranked variable and its value |
//!
//! Files are written to a temporary file in the same folder, flushed to disk, then renamed
//! over the final name, so a reader (or a run killed mid-save) only ever sees complete files.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use xmen_core::hook::Snapshot;
use xmen_core::spec::Trigger;
use xmen_core::value::{DType, StateDict, Tensor};

use crate::error::CheckpointError;

/// The extension of checkpoint files.
pub const EXTENSION: &str = "safetensors";
/// The value of the `format` metadata entry.
pub const FORMAT: &str = "xmen-checkpoint/1";
/// Metadata keys xmen writes itself; an object's own metadata may not use them.
pub const RESERVED_KEYS: [&str; 10] =
    ["step", "epoch", "era", "eon", "supereon", "version", "date", "format", "monitor", "score"];

/// TEST ONLY: when this environment variable holds a number of milliseconds, each checkpoint
/// write sleeps that long between writing its temporary file and renaming it, so a test can
/// kill the writer at the most dangerous moment. Never set it in production.
pub const PAUSE_BEFORE_RENAME_ENV: &str = "XMEN_TEST_CKPT_PAUSE_BEFORE_RENAME_MS";

/// The file of `step` in an object's folder.
pub fn file_path(folder: &Path, step: u64) -> PathBuf {
    folder.join(format!("{step}.{EXTENSION}"))
}

/// The step of a checkpoint file name (`40.safetensors` -> 40); `None` for anything else.
pub fn step_of(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(EXTENSION)?.strip_suffix('.')?;
    if stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// The checkpoints in an object's folder, oldest step first. A missing folder has none.
pub fn steps(folder: &Path) -> Result<Vec<(u64, PathBuf)>, CheckpointError> {
    let entries = match fs::read_dir(folder) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(CheckpointError::io("list the checkpoints in", folder, e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| CheckpointError::io("list the checkpoints in", folder, e))?;
        let path = entry.path();
        if let Some(step) = step_of(&path) {
            if path.is_file() {
                found.push((step, path));
            }
        }
    }
    found.sort();
    Ok(found)
}

fn dtype_to_st(d: DType) -> Result<Dtype, String> {
    Ok(match d {
        DType::Bool => Dtype::BOOL,
        DType::U8 => Dtype::U8,
        DType::I8 => Dtype::I8,
        DType::I16 => Dtype::I16,
        DType::I32 => Dtype::I32,
        DType::I64 => Dtype::I64,
        DType::F16 => Dtype::F16,
        DType::BF16 => Dtype::BF16,
        DType::F32 => Dtype::F32,
        DType::F64 => Dtype::F64,
        other => return Err(format!("dtype {} has no safetensors form", other.name())),
    })
}

fn dtype_from_st(d: Dtype) -> Option<DType> {
    Some(match d {
        Dtype::BOOL => DType::Bool,
        Dtype::U8 => DType::U8,
        Dtype::I8 => DType::I8,
        Dtype::I16 => DType::I16,
        Dtype::I32 => DType::I32,
        Dtype::I64 => DType::I64,
        Dtype::F16 => DType::F16,
        Dtype::BF16 => DType::BF16,
        Dtype::F32 => DType::F32,
        Dtype::F64 => DType::F64,
        _ => return None,
    })
}

/// The metadata xmen adds to an object's own.
fn file_metadata(
    snapshot: &Snapshot,
    counters: [u64; 5],
    score: Option<(&str, f64)>,
) -> Result<HashMap<String, String>, String> {
    let mut meta = HashMap::new();
    for (k, v) in &snapshot.state.metadata {
        if RESERVED_KEYS.contains(&k.as_str()) {
            return Err(format!(
                "its metadata key `{k}` is reserved for xmen's own checkpoint metadata ({}); rename it",
                RESERVED_KEYS.join(", ")
            ));
        }
        meta.insert(k.clone(), v.clone());
    }
    for t in Trigger::ALL {
        let c = counters[t.index()];
        if c != 0 {
            meta.insert(t.name().to_owned(), c.to_string());
        }
    }
    let version = serde_json::json!({"type": snapshot.type_name, "xmen": env!("CARGO_PKG_VERSION")});
    meta.insert("version".into(), version.to_string());
    meta.insert("date".into(), xmen_core::pyfmt::now_long());
    meta.insert("format".into(), FORMAT.into());
    if let Some((name, value)) = score {
        meta.insert("monitor".into(), name.to_owned());
        meta.insert("score".into(), format!("{value:?}"));
    }
    Ok(meta)
}

/// The bytes of a checkpoint file of `snapshot` taken at `counters`.
pub fn encode(snapshot: &Snapshot, counters: [u64; 5], score: Option<(&str, f64)>) -> Result<Vec<u8>, String> {
    let meta = file_metadata(snapshot, counters, score)?;
    let mut views = Vec::with_capacity(snapshot.state.tensors.len());
    for (name, t) in &snapshot.state.tensors {
        let shape: Vec<usize> = t.shape.iter().map(|&d| d as usize).collect();
        let view = TensorView::new(dtype_to_st(t.dtype)?, shape, &t.data)
            .map_err(|e| format!("tensor `{name}` (shape {:?}, {}): {e}", t.shape, t.dtype.name()))?;
        views.push((name.as_str(), view));
    }
    let mut seen = std::collections::HashSet::new();
    for (name, _) in &views {
        if !seen.insert(*name) {
            return Err(format!("two tensors are called `{name}`; tensor names must be unique"));
        }
    }
    safetensors::tensor::serialize(views, Some(meta)).map_err(|e| e.to_string())
}

/// A checkpoint file read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// The object's tensors (sorted by name) and its own metadata (xmen's keys removed).
    pub state: StateDict,
    /// The counters at the save (`step` first; missing ones are 0).
    pub counters: [u64; 5],
    /// Every metadata entry, xmen's included.
    pub metadata: BTreeMap<String, String>,
}

/// The counters recorded in a checkpoint's metadata (missing ones are 0).
pub fn counters_of(metadata: &BTreeMap<String, String>) -> [u64; 5] {
    let mut counters = [0; 5];
    for t in Trigger::ALL {
        if let Some(c) = metadata.get(t.name()).and_then(|v| v.parse().ok()) {
            counters[t.index()] = c;
        }
    }
    counters
}

/// Parse the bytes of a checkpoint file (`path` names it in errors).
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Decoded, CheckpointError> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| CheckpointError::format(path, e.to_string()))?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| CheckpointError::format(path, e.to_string()))?;
    let metadata: BTreeMap<String, String> =
        header.metadata().as_ref().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
    let mut tensors = Vec::new();
    for (name, view) in st.iter() {
        let dtype = dtype_from_st(view.dtype()).ok_or_else(|| {
            CheckpointError::format(
                path,
                format!("tensor `{name}` has dtype {:?}, which xmen cannot hold", view.dtype()),
            )
        })?;
        let shape = view.shape().iter().map(|&d| d as u64).collect();
        let t = tensor(dtype, shape, view.data().to_vec())
            .map_err(|e| CheckpointError::format(path, format!("tensor `{name}`: {e}")))?;
        tensors.push((name.to_owned(), t));
    }
    // The header is a map: give the tensors a stable order.
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let own = metadata
        .iter()
        .filter(|(k, _)| !RESERVED_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Decoded { state: StateDict { tensors, metadata: own }, counters: counters_of(&metadata), metadata })
}

/// Read and parse a checkpoint file.
pub fn read(path: &Path) -> Result<Decoded, CheckpointError> {
    let bytes = fs::read(path).map_err(|e| CheckpointError::io("read", path, e))?;
    decode(path, &bytes)
}

/// Only the metadata of a checkpoint file (reads the header, not the tensors).
pub fn read_metadata(path: &Path) -> Result<BTreeMap<String, String>, CheckpointError> {
    let mut f = File::open(path).map_err(|e| CheckpointError::io("open", path, e))?;
    let mut n = [0u8; 8];
    f.read_exact(&mut n).map_err(|e| CheckpointError::io("read the header of", path, e))?;
    let n = u64::from_le_bytes(n);
    if n > 100_000_000 {
        return Err(CheckpointError::format(path, format!("its header claims {n} bytes")));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header).map_err(|e| CheckpointError::io("read the header of", path, e))?;
    let json: serde_json::Value =
        serde_json::from_slice(&header).map_err(|e| CheckpointError::format(path, format!("its header: {e}")))?;
    let mut out = BTreeMap::new();
    if let Some(meta) = json.get("__metadata__").and_then(|m| m.as_object()) {
        for (k, v) in meta {
            if let Some(s) = v.as_str() {
                out.insert(k.clone(), s.to_owned());
            }
        }
    }
    Ok(out)
}

fn temp_path(target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Whether `name` is a temporary file of an unfinished checkpoint write.
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp") && name.contains(&format!(".{EXTENSION}."))
}

/// Remove the temporary files that writers killed mid-save left in `folder` (one run writes
/// a folder at a time). Returns how many were removed.
pub fn remove_stale_temps(folder: &Path) -> usize {
    let Ok(entries) = fs::read_dir(folder) else { return 0 };
    let own = format!(".{}.", std::process::id());
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            is_temp_name(&name) && !name.contains(&own)
        })
        .filter(|e| fs::remove_file(e.path()).is_ok())
        .count()
}

fn pause_before_rename() {
    if let Some(ms) = std::env::var(PAUSE_BEFORE_RENAME_ENV).ok().and_then(|s| s.parse::<u64>().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Write `bytes` to `path` atomically and durably: a temporary file in the same folder,
/// fsync, rename onto `path`, fsync of the folder. Nothing is ever deleted here.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let tmp = temp_path(path);
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| CheckpointError::io("create", &tmp, e))?;
        f.write_all(bytes).map_err(|e| CheckpointError::io("write", &tmp, e))?;
        f.sync_all().map_err(|e| CheckpointError::io("flush to disk", &tmp, e))?;
        drop(f);
        pause_before_rename();
        fs::rename(&tmp, path).map_err(|e| CheckpointError::io("rename a temporary file onto", path, e))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
        return written;
    }
    if let Some(dir) = path.parent() {
        // Makes the rename itself durable; a folder that cannot be opened is not an error.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Save `snapshot` as `{folder}/{step}.safetensors` (the step counter names the file, whatever
/// the trigger) and return the file's path.
pub fn save(
    folder: &Path,
    snapshot: &Snapshot,
    counters: [u64; 5],
    score: Option<(&str, f64)>,
) -> Result<PathBuf, CheckpointError> {
    fs::create_dir_all(folder).map_err(|e| CheckpointError::io("create the folder", folder, e))?;
    let path = file_path(folder, counters[Trigger::Step.index()]);
    let bytes =
        encode(snapshot, counters, score).map_err(|reason| CheckpointError::Format { path: path.clone(), reason })?;
    write_atomic(&path, &bytes)?;
    Ok(path)
}

/// A dense tensor of `dtype` from raw little-endian bytes, checking the length.
pub fn tensor(dtype: DType, shape: Vec<u64>, data: Vec<u8>) -> Result<Tensor, String> {
    let n: u64 = shape.iter().product();
    let want = n as usize * dtype.size();
    if data.len() != want {
        return Err(format!("shape {shape:?} of {} needs {want} bytes, found {}", dtype.name(), data.len()));
    }
    Ok(Tensor { dtype, shape, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_integer_stems_with_the_extension_are_checkpoints() {
        for (name, want) in [
            ("40.safetensors", Some(40)),
            ("0.safetensors", Some(0)),
            ("120.safetensors", Some(120)),
            ("a.safetensors", None),
            ("-1.safetensors", None),
            ("40.pt", None),
            (".40.safetensors.12.0.tmp", None),
            ("40safetensors", None),
        ] {
            assert_eq!(step_of(Path::new(name)), want, "{name}");
        }
        assert!(is_temp_name(".40.safetensors.12.0.tmp"));
        assert!(!is_temp_name("40.safetensors"));
    }

    #[test]
    fn a_file_round_trips_tensors_counters_and_metadata() -> Result<(), Box<dyn std::error::Error>> {
        let snap = Snapshot {
            type_name: "demo".into(),
            state: StateDict {
                tensors: vec![
                    ("fc.weight".into(), Tensor::from_f32(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])),
                    ("fc.bias".into(), Tensor::from_f64(&[2], &[0.5, -0.5])),
                ],
                metadata: vec![("note".into(), "hi".into())],
            },
        };
        let bytes = encode(&snap, [40, 2, 0, 0, 0], Some(("val_loss", 0.25)))?;
        let d = decode(Path::new("x.safetensors"), &bytes)?;
        assert_eq!(d.counters, [40, 2, 0, 0, 0]);
        assert_eq!(d.state.metadata, [("note".to_owned(), "hi".to_owned())]);
        assert_eq!(d.state.tensor("fc.weight"), snap.state.tensor("fc.weight"));
        assert_eq!(d.state.tensor("fc.bias"), snap.state.tensor("fc.bias"));
        assert_eq!(d.metadata.get("score").map(String::as_str), Some("0.25"));
        assert_eq!(d.metadata.get("format").map(String::as_str), Some(FORMAT));
        assert!(!d.metadata.contains_key("era"), "zero counters are not written");
        let version: serde_json::Value = serde_json::from_str(&d.metadata["version"])?;
        assert_eq!(version["type"], "demo");
        Ok(())
    }

    #[test]
    fn reserved_metadata_keys_are_refused_by_name() {
        let snap = Snapshot {
            type_name: "demo".into(),
            state: StateDict { tensors: vec![], metadata: vec![("step".into(), "3".into())] },
        };
        let e = encode(&snap, [1, 0, 0, 0, 0], None).err().unwrap_or_default();
        assert!(e.contains("`step` is reserved"), "{e}");
    }

    #[test]
    fn the_header_alone_gives_the_metadata() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let snap = Snapshot { type_name: "t".into(), state: StateDict::default() };
        let path = save(dir.path(), &snap, [7, 1, 0, 0, 0], Some(("acc", f64::NAN)))?;
        assert_eq!(path, dir.path().join("7.safetensors"));
        let meta = read_metadata(&path)?;
        assert_eq!(meta.get("step").map(String::as_str), Some("7"));
        assert!(meta.get("score").and_then(|s| s.parse::<f64>().ok()).is_some_and(f64::is_nan));
        assert_eq!(steps(dir.path())?, vec![(7, path)]);
        Ok(())
    }
}

//! The compact binary encoding of flattened rows used by the list index.
//!
//! A row is `varint n` then `n` cells of `varint key-id` + value; a value is a tag byte and its
//! payload (varints for lengths and zig-zag ints, 8 little-endian bytes for floats). Key ids
//! point into the index's key table, so a reader can skip every cell whose column it does not
//! need without allocating: that projection is what makes a warm `xmen list` over 100,000 rows
//! fast.

use xmen_core::pyfmt;
use xmen_core::Value;

/// The data ended early or holds an unknown tag: the index is corrupt and must be rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

const NONE: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const STR: u8 = 5;
const LIST: u8 = 6;
const MAP: u8 = 7;

/// Append an unsigned LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Append a length-prefixed string.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Append one value. Kinds YAML cannot hold (tensors, images, handles) are stored as their
/// Python `str()`.
pub fn put_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::None => out.push(NONE),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Int(i) => {
            out.push(INT);
            put_varint(out, ((i << 1) ^ (i >> 63)) as u64);
        }
        Value::Float(f) => {
            out.push(FLOAT);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Str(s) => {
            out.push(STR);
            put_str(out, s);
        }
        Value::List(items) => {
            out.push(LIST);
            put_varint(out, items.len() as u64);
            for item in items {
                put_value(out, item);
            }
        }
        Value::Map(entries) => {
            out.push(MAP);
            put_varint(out, entries.len() as u64);
            for (k, item) in entries {
                put_str(out, k);
                put_value(out, item);
            }
        }
        other => {
            out.push(STR);
            put_str(out, &pyfmt::str_of(other));
        }
    }
}

/// A bounds-checked reader over encoded bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Read from the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// The read position.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Whether everything has been read.
    pub fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// The next `n` bytes.
    #[inline]
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        let end = self.pos.checked_add(n).ok_or(Corrupt)?;
        let b = self.buf.get(self.pos..end).ok_or(Corrupt)?;
        self.pos = end;
        Ok(b)
    }

    /// One byte.
    #[inline]
    pub fn u8(&mut self) -> Result<u8, Corrupt> {
        let b = *self.buf.get(self.pos).ok_or(Corrupt)?;
        self.pos += 1;
        Ok(b)
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> Result<u64, Corrupt> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// An unsigned varint.
    #[inline]
    pub fn varint(&mut self) -> Result<u64, Corrupt> {
        // Ids, lengths and small ints take one byte.
        if let Some(&b) = self.buf.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        self.varint_long()
    }

    fn varint_long(&mut self) -> Result<u64, Corrupt> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Corrupt)
    }

    /// A varint used as a length or count.
    pub fn len(&mut self) -> Result<usize, Corrupt> {
        usize::try_from(self.varint()?).map_err(|_| Corrupt)
    }

    /// A length-prefixed string, borrowed.
    pub fn str(&mut self) -> Result<&'a str, Corrupt> {
        let n = self.len()?;
        std::str::from_utf8(self.bytes(n)?).map_err(|_| Corrupt)
    }

    /// One value.
    pub fn value(&mut self) -> Result<Value, Corrupt> {
        Ok(match self.u8()? {
            NONE => Value::None,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            INT => {
                let z = self.varint()?;
                Value::Int(((z >> 1) as i64) ^ -((z & 1) as i64))
            }
            FLOAT => Value::Float(f64::from_bits(self.u64()?)),
            STR => Value::Str(self.str()?.to_owned()),
            LIST => {
                let n = self.len()?;
                let mut items = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    items.push(self.value()?);
                }
                Value::List(items)
            }
            MAP => {
                let n = self.len()?;
                let mut entries = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    let k = self.str()?.to_owned();
                    entries.push((k, self.value()?));
                }
                Value::Map(entries)
            }
            _ => return Err(Corrupt),
        })
    }

    /// Step over one value without building it (scalars inline: a row is mostly scalars a
    /// listing does not show, and this runs once per cell of every row of a warm listing).
    #[inline(always)]
    pub fn skip_value(&mut self) -> Result<(), Corrupt> {
        match self.u8()? {
            NONE | FALSE | TRUE => Ok(()),
            INT => self.varint().map(|_| ()),
            FLOAT => self.bytes(8).map(|_| ()),
            STR => {
                let n = self.len()?;
                self.bytes(n).map(|_| ())
            }
            tag => self.skip_container(tag),
        }
    }

    fn skip_container(&mut self, tag: u8) -> Result<(), Corrupt> {
        match tag {
            LIST => {
                for _ in 0..self.len()? {
                    self.skip_value()?;
                }
            }
            MAP => {
                for _ in 0..self.len()? {
                    let n = self.len()?;
                    self.bytes(n)?;
                    self.skip_value()?;
                }
            }
            _ => return Err(Corrupt),
        }
        Ok(())
    }
}

/// Encode a row whose keys are already interned as ids (the index encodes as it interns).
#[cfg(test)]
pub fn encode_row(cells: &[(u32, Value)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(cells.len() * 16);
    put_varint(&mut out, cells.len() as u64);
    for (id, v) in cells {
        put_varint(&mut out, u64::from(*id));
        put_value(&mut out, v);
    }
    out
}

/// Decode the cells of a row whose key id `wanted` accepts, skipping the others.
pub fn decode_row(blob: &[u8], wanted: impl Fn(u32) -> bool) -> Result<Vec<(u32, Value)>, Corrupt> {
    let mut r = Reader::new(blob);
    let n = r.len()?;
    let mut cells = Vec::new();
    for _ in 0..n {
        let id = u32::try_from(r.varint()?).map_err(|_| Corrupt)?;
        if wanted(id) {
            cells.push((id, r.value()?));
        } else {
            r.skip_value()?;
        }
    }
    if !r.at_end() {
        return Err(Corrupt);
    }
    Ok(cells)
}

/// Every key id a row uses, in order.
pub fn row_keys(blob: &[u8]) -> Result<Vec<u32>, Corrupt> {
    let mut r = Reader::new(blob);
    let n = r.len()?;
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        ids.push(u32::try_from(r.varint()?).map_err(|_| Corrupt)?);
        r.skip_value()?;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_skip() {
        let values = [
            Value::None,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(0),
            Value::Int(-1),
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Float(1e-8),
            Value::Float(f64::INFINITY),
            Value::Str("héllo".into()),
            Value::List(vec![Value::Int(3), Value::Str("a".into())]),
            Value::Map(vec![("k".into(), Value::List(vec![]))]),
        ];
        let cells: Vec<(u32, Value)> = values.iter().cloned().enumerate().map(|(i, v)| (i as u32 * 300, v)).collect();
        let blob = encode_row(&cells);
        assert_eq!(decode_row(&blob, |_| true), Ok(cells.clone()));
        let some = decode_row(&blob, |id| id == 300 * 9).unwrap_or_default();
        assert_eq!(some, vec![(2700, Value::Str("héllo".into()))]);
        assert_eq!(row_keys(&blob).unwrap_or_default().len(), values.len());
        // truncation anywhere is detected, never a panic
        for cut in 0..blob.len() {
            assert_eq!(decode_row(&blob[..cut], |_| true), Err(Corrupt), "cut at {cut}");
        }
    }
}

//! The check every library file passes before anything maps it: header, platform, extent,
//! manifest, ABI.
//!
//! Key design choice: `dlopen` trusts the file. A truncated library maps pages past the end
//! of the file and the first touch of one kills the process with SIGBUS, with no message and
//! the run's record left `running`; a library for another ELF class or machine fails with a
//! linker message that names neither the cause nor the fix. So the file is read here first,
//! without mapping it: only its headers and the manifest's section are read (`object`'s
//! `ReadCache`), which is also what makes `xmen hooks list` cheap on large debug builds.

use std::fs::File;
use std::path::Path;

use object::{Object, ObjectSection, ObjectSegment, ReadCache, ReadRef};

use crate::manifest::{Manifest, ManifestError};

/// The ELF identification bytes: magic, class, data (byte order).
const ELF_MAGIC: &[u8; 4] = b"\x7fELF";

/// This program's architecture, as `object` names it (`None`: not checked).
fn host_architecture() -> Option<object::Architecture> {
    use object::Architecture as A;
    Some(match std::env::consts::ARCH {
        "x86_64" => A::X86_64,
        "x86" => A::I386,
        "aarch64" => A::Aarch64,
        "arm" => A::Arm,
        "riscv64" => A::Riscv64,
        "powerpc64" => A::PowerPc64,
        "s390x" => A::S390x,
        "loongarch64" => A::LoongArch64,
        "mips64" => A::Mips64,
        _ => return None,
    })
}

/// Why the ELF identification of `ident` (the first 16 bytes) does not fit this program, if it
/// does not: the wrong class (32/64-bit) or byte order.
pub(crate) fn foreign_ident(ident: &[u8]) -> Option<String> {
    let host_class: u8 = if cfg!(target_pointer_width = "64") { 2 } else { 1 };
    let host_data: u8 = if cfg!(target_endian = "little") { 1 } else { 2 };
    let class = |c: u8| match c {
        1 => "32-bit (ELFCLASS32)".to_owned(),
        2 => "64-bit (ELFCLASS64)".to_owned(),
        other => format!("an unknown ELF class {other}"),
    };
    let data = |d: u8| match d {
        1 => "little-endian".to_owned(),
        2 => "big-endian".to_owned(),
        other => format!("an unknown byte order {other}"),
    };
    let (lib_class, lib_data) = (*ident.get(4)?, *ident.get(5)?);
    if lib_class != host_class {
        return Some(format!("the file is {}, this program is {}", class(lib_class), class(host_class)));
    }
    if lib_data != host_data {
        return Some(format!("the file is {}, this program is {}", data(lib_data), data(host_data)));
    }
    None
}

/// Read and check the library at `path` (see the module docs): its manifest.
pub(crate) fn read_checked(path: &Path) -> Result<Manifest, ManifestError> {
    let io = |source| ManifestError::Io { path: path.to_path_buf(), source };
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let cache = ReadCache::new(file);
    let damaged = |reason: String| ManifestError::Damaged { path: path.to_path_buf(), reason };
    let ident = cache.read_bytes_at(0, 16.min(len)).unwrap_or_default();
    if ident.starts_with(ELF_MAGIC) {
        if ident.len() < 16 {
            return Err(damaged(format!("{len} bytes, shorter than an ELF header")));
        }
        if let Some(reason) = foreign_ident(ident) {
            return Err(ManifestError::Foreign { path: path.to_path_buf(), reason });
        }
    }
    let obj = object::File::parse(&cache).map_err(|e| {
        if ident.starts_with(ELF_MAGIC) {
            damaged(e.to_string())
        } else {
            ManifestError::NotALibrary { path: path.to_path_buf(), reason: e.to_string() }
        }
    })?;
    if let (Some(host), lib) = (host_architecture(), obj.architecture()) {
        if host != lib {
            return Err(ManifestError::Foreign {
                path: path.to_path_buf(),
                reason: format!("the file is for {lib:?}, this program runs on {host:?}"),
            });
        }
    }
    if obj.kind() != object::ObjectKind::Dynamic {
        return Err(ManifestError::NotALibrary {
            path: path.to_path_buf(),
            reason: format!("a {:?} object, not a shared library", obj.kind()),
        });
    }
    // What the loader maps must lie inside the file: a truncated copy fails here, not as SIGBUS.
    for seg in obj.segments() {
        let (offset, size) = seg.file_range();
        if offset.checked_add(size).is_none_or(|end| end > len) {
            return Err(damaged(format!(
                "a segment spans bytes {offset}..{} but the file has {len}",
                offset.saturating_add(size)
            )));
        }
    }
    for section in obj.sections() {
        if let Some((offset, size)) = section.file_range() {
            if offset.checked_add(size).is_none_or(|end| end > len) {
                let name = section.name().unwrap_or("?");
                return Err(damaged(format!(
                    "section {name} spans bytes {offset}..{} but the file has {len}",
                    offset.saturating_add(size)
                )));
            }
        }
    }
    Manifest::from_object(path, &obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrong_elf_class_or_byte_order_is_named() {
        let mut ident = *b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
        let host_class = if cfg!(target_pointer_width = "64") { 2 } else { 1 };
        ident[4] = host_class;
        assert_eq!(foreign_ident(&ident), None);
        ident[4] = 3 - host_class;
        let why = foreign_ident(&ident).unwrap_or_default();
        assert!(why.contains("ELFCLASS32") && why.contains("ELFCLASS64"), "{why}");
        ident[4] = host_class;
        ident[5] = if cfg!(target_endian = "little") { 2 } else { 1 };
        assert!(foreign_ident(&ident).is_some_and(|w| w.contains("endian")));
    }

    #[test]
    fn a_short_or_foreign_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let cases: [(&str, &[u8], &str); 3] = [
            ("short.so", b"\x7fELF\x02", "shorter than an ELF header"),
            ("text.so", b"hello, world", "not a shared library"),
            ("empty.so", b"", "not a shared library"),
        ];
        for (name, bytes, want) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
            let e = read_checked(&path).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains(want) && e.contains(name), "{name}: {e}");
        }
    }
}

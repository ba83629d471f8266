//! The manifest every hook library embeds beside its root module, so that `xmen hooks list`
//! can describe a library from the file alone, without loading it (loading runs the library's
//! constructors).
//!
//! `export_hooks!` builds it at compile time, from constants only (the library's crate name and
//! version, [`super::SDK_VERSION`], abi_stable's ABI version, and each hook's `NAME` and `HELP`), into an
//! exported static named [`SYMBOL`] placed in its own section ([`SECTION`]
//! on ELF). A hook's options and examples come from functions, which cannot run at compile
//! time: `xmen hooks install` records them beside the library.
//!
//! Layout (all integers little-endian `u32`): the 16-byte [`MAGIC`], the abi_stable
//! ABI major and minor, a string count, then each string as its length and UTF-8 bytes:
//! `library`, `version`, `sdk_version`, then `name`, `help` for each hook. Append-only: a later
//! format may add strings after the hooks only behind a new magic.

/// The first 16 bytes of every manifest (format 1).
pub const MAGIC: &[u8; 16] = b"xmen-hook-mf-v1\0";
/// The exported symbol holding the manifest.
pub const SYMBOL: &str = "xmen_hook_manifest";
/// The ELF section holding the manifest.
pub const SECTION: &str = ".xmen_manifest";
/// abi_stable's ABI version (major, minor), which its loader checks before anything else.
pub const ABI: (u32, u32) = {
    let h = abi_stable::library::AbiHeader::VALUE;
    (h.abi_major, h.abi_minor)
};

/// The encoded size of a manifest holding `parts`.
pub const fn encoded_len(parts: &[&str]) -> usize {
    let mut n = MAGIC.len() + 12;
    let mut i = 0;
    while i < parts.len() {
        n += 4 + parts[i].len();
        i += 1;
    }
    n
}

const fn put(out: &mut [u8], at: usize, bytes: &[u8]) -> usize {
    let mut i = 0;
    while i < bytes.len() {
        out[at + i] = bytes[i];
        i += 1;
    }
    at + bytes.len()
}

/// Encode `parts` (`library`, `version`, `sdk_version`, then `name`, `help` per hook);
/// `N` must be [`encoded_len`]`(parts)` (a wrong `N` fails to compile in a `static`).
pub const fn encode<const N: usize>(parts: &[&str]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = put(&mut out, 0, MAGIC);
    at = put(&mut out, at, &ABI.0.to_le_bytes());
    at = put(&mut out, at, &ABI.1.to_le_bytes());
    at = put(&mut out, at, &(parts.len() as u32).to_le_bytes());
    let mut i = 0;
    while i < parts.len() {
        at = put(&mut out, at, &(parts[i].len() as u32).to_le_bytes());
        at = put(&mut out, at, parts[i].as_bytes());
        i += 1;
    }
    assert!(at == N, "manifest size mismatch");
    out
}

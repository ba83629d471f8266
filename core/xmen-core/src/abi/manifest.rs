//! The manifest every hook library embeds beside its root module, so that `xmen hooks list`
//! can describe a library from the file alone, without loading it (loading runs the library's
//! constructors).
//!
//! `export_hooks!` builds it at compile time, from constants only: the library's crate name and
//! version, [`super::SDK_VERSION`], abi_stable's ABI version, and each hook's `NAME`, `HELP` and
//! declared [`OPTIONS`](crate::hook::NewHook::OPTIONS) and [`EXAMPLES`](crate::hook::NewHook::EXAMPLES),
//! into an exported static named [`SYMBOL`] placed in its own section ([`SECTION`] on ELF).
//!
//! Layout of format 2 (integers are little-endian `u32`, a string is its length and its UTF-8
//! bytes): the 16-byte [`MAGIC`], the abi_stable ABI major and minor, the strings `library`,
//! `version` and `sdk_version`, the number of hooks, and per hook its `name`, `help` and number
//! of options, then per option its `name`, `kind`, `help`, whether it has a default (0 or 1)
//! and the default (empty when it has none), then the number of examples and each example.
//! Format 1 ([`MAGIC_V1`], hook ABI 0.1) had a string
//! count, then `library`, `version`, `sdk_version`, and `name`, `help` per hook. Append-only: a
//! later format goes behind a new magic.

use crate::hook::{NewHook, OptionDecl};

/// The first 16 bytes of every manifest of format 2.
pub const MAGIC: &[u8; 16] = b"xmen-hook-mf-v2\0";
/// The first 16 bytes of a manifest of format 1 (libraries built for hook ABI 0.1).
pub const MAGIC_V1: &[u8; 16] = b"xmen-hook-mf-v1\0";
/// The exported symbol holding the manifest.
pub const SYMBOL: &str = "xmen_hook_manifest";
/// The ELF section holding the manifest.
pub const SECTION: &str = ".xmen_manifest";
/// abi_stable's ABI version (major, minor), which its loader checks before anything else.
pub const ABI: (u32, u32) = {
    let h = abi_stable::library::AbiHeader::VALUE;
    (h.abi_major, h.abi_minor)
};

/// What a manifest says about a library (the input of [`encode`]).
#[derive(Clone, Copy, Debug)]
pub struct LibraryManifest {
    /// The crate name.
    pub library: &'static str,
    /// The crate version.
    pub version: &'static str,
    /// The hook ABI version ([`super::SDK_VERSION`]).
    pub sdk_version: &'static str,
    /// The hooks, in declaration order.
    pub hooks: &'static [HookManifest],
}

/// What a manifest says about one hook.
#[derive(Clone, Copy, Debug)]
pub struct HookManifest {
    /// Its name in configuration.
    pub name: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// Its declared options.
    pub options: &'static [OptionDecl],
    /// Its example specs.
    pub examples: &'static [&'static str],
}

impl HookManifest {
    /// The manifest entry of a hook type.
    pub const fn of<H: NewHook>() -> HookManifest {
        HookManifest { name: H::NAME, help: H::HELP, options: H::OPTIONS, examples: H::EXAMPLES }
    }
}

/// The encoded size of a manifest.
pub const fn encoded_len(m: &LibraryManifest) -> usize {
    let mut n = MAGIC.len() + 8 + str_len(m.library) + str_len(m.version) + str_len(m.sdk_version) + 4;
    let mut i = 0;
    while i < m.hooks.len() {
        let h = &m.hooks[i];
        n += str_len(h.name) + str_len(h.help) + 4;
        let mut j = 0;
        while j < h.options.len() {
            let o = &h.options[j];
            let default = match o.default {
                Some(d) => d,
                None => "",
            };
            n += str_len(o.name) + str_len(o.kind) + str_len(o.help) + 4 + str_len(default);
            j += 1;
        }
        n += 4;
        let mut k = 0;
        while k < h.examples.len() {
            n += str_len(h.examples[k]);
            k += 1;
        }
        i += 1;
    }
    n
}

const fn str_len(s: &str) -> usize {
    4 + s.len()
}

const fn put(out: &mut [u8], at: usize, bytes: &[u8]) -> usize {
    let mut i = 0;
    while i < bytes.len() {
        out[at + i] = bytes[i];
        i += 1;
    }
    at + bytes.len()
}

const fn put_u32(out: &mut [u8], at: usize, n: usize) -> usize {
    assert!(n <= u32::MAX as usize, "a manifest string or list is too long");
    put(out, at, &(n as u32).to_le_bytes())
}

const fn put_str(out: &mut [u8], at: usize, s: &str) -> usize {
    let at = put_u32(out, at, s.len());
    put(out, at, s.as_bytes())
}

/// Encode a manifest; `N` must be [`encoded_len`]`(m)` (a wrong `N` fails to compile in a `static`).
pub const fn encode<const N: usize>(m: &LibraryManifest) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = put(&mut out, 0, MAGIC);
    at = put_u32(&mut out, at, ABI.0 as usize);
    at = put_u32(&mut out, at, ABI.1 as usize);
    at = put_str(&mut out, at, m.library);
    at = put_str(&mut out, at, m.version);
    at = put_str(&mut out, at, m.sdk_version);
    at = put_u32(&mut out, at, m.hooks.len());
    let mut i = 0;
    while i < m.hooks.len() {
        let h = &m.hooks[i];
        at = put_str(&mut out, at, h.name);
        at = put_str(&mut out, at, h.help);
        at = put_u32(&mut out, at, h.options.len());
        let mut j = 0;
        while j < h.options.len() {
            let o = &h.options[j];
            at = put_str(&mut out, at, o.name);
            at = put_str(&mut out, at, o.kind);
            at = put_str(&mut out, at, o.help);
            let (has, default) = match o.default {
                Some(d) => (1, d),
                None => (0, ""),
            };
            at = put_u32(&mut out, at, has);
            at = put_str(&mut out, at, default);
            j += 1;
        }
        at = put_u32(&mut out, at, h.examples.len());
        let mut k = 0;
        while k < h.examples.len() {
            at = put_str(&mut out, at, h.examples[k]);
            k += 1;
        }
        i += 1;
    }
    assert!(at == N, "manifest size mismatch");
    out
}

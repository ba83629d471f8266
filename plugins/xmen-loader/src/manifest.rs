//! Hook library manifests: what a library is and provides, read from the file without
//! loading it.
//!
//! Key design choice: describing a library must never run its code, because loading a shared
//! library runs its constructors. So `export_hooks!` embeds a manifest built at compile time
//! (see `xmen_core::abi::manifest`) and this module reads it with the `object` crate, as bytes.
//! That manifest holds the library's name and versions and each hook's name, one-line help,
//! declared options and example specs: everything `hooks list`, `hooks info` and the validation
//! of `_hooks` entries need, so nothing is written beside an installed library.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::library::LibraryInfo;
use object::{Object, ObjectSection, ObjectSymbol};
use xmen_core::abi::{manifest as embedded, CRATE_VERSION, SDK_VERSION};
use xmen_core::hook::OptionInfo;

/// One hook as a manifest describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestHook {
    /// The name configuration uses (`logger`).
    pub name: String,
    /// One line of help.
    pub help: String,
    /// Its declared options, from the compiled-in manifest (`None`: a library of manifest
    /// format 1, hook ABI 0.1, which declared none).
    pub options: Option<Vec<OptionInfo>>,
    /// Its example specs (`None` for manifest format 1).
    pub examples: Option<Vec<String>>,
}

impl ManifestHook {
    /// Its declared options, when known without running the library (from the compiled-in
    /// manifest). Validation of `_hooks` entries goes through this accessor.
    pub fn declared_options(&self) -> Option<&[OptionInfo]> {
        self.options.as_deref()
    }

    /// The declared option called `name`, when the options are known.
    pub fn option(&self, name: &str) -> Option<&OptionInfo> {
        self.options.as_ref()?.iter().find(|o| o.name == name)
    }

    /// Whether the hook declares option `name` (false when its options are not known).
    pub fn declares(&self, name: &str) -> bool {
        self.option(name).is_some()
    }
}

/// What a hook library says about itself, read without loading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The library's crate name (`xmen-hook-logger`).
    pub library: String,
    /// The library's crate version.
    pub version: String,
    /// The version of xmen-core (the SDK) it was built against.
    pub sdk_version: String,
    /// abi_stable's ABI version (major, minor) it was built with.
    pub abi: (u32, u32),
    /// Its hooks, in declaration order.
    pub hooks: Vec<ManifestHook>,
}

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // the fields are named for what they hold
pub enum ManifestError {
    /// The file could not be read.
    #[error("hook library {path}: cannot read it: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// Not an object file this platform's tools know.
    #[error("hook library {path}: not a shared library ({reason}); build the hook crate with crate-type [\"cdylib\"]")]
    NotALibrary { path: PathBuf, reason: String },
    /// A shared library without the embedded manifest.
    #[error("hook library {path}: no xmen manifest (symbol `{symbol}`): it is not an xmen hook library, or was built with an SDK older than manifests; a hook crate must call `xmen::export_hooks!(...)`, so rebuild it against the current xmen SDK", symbol = embedded::SYMBOL)]
    Missing { path: PathBuf },
    /// A library for another platform (ELF class, byte order or machine): skipped by the search,
    /// refused by the loader.
    #[error("hook library {path}: built for another platform ({reason}); rebuild it on this machine (or for its target) with `cargo build --release`")]
    Foreign { path: PathBuf, reason: String },
    /// A truncated or damaged file: loading it would crash the process (SIGBUS), so it is refused.
    #[error("hook library {path}: the file is damaged or truncated ({reason}); rebuild it, or reinstall it with `xmen hooks install`")]
    Damaged { path: PathBuf, reason: String },
    /// The manifest is there but cannot be decoded.
    #[error("hook library {path}: its xmen manifest is malformed ({reason}); rebuild it against the current xmen SDK")]
    Malformed { path: PathBuf, reason: String },
}

/// Whether a library's SDK version can be loaded by this program, by abi_stable's rule
/// (`lib_header.rs`, `check_version`): same major version and, for 0.x, a library minor
/// version at least the host's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Compatibility {
    /// abi_stable will accept the version (the layout check still runs at load).
    Compatible,
    /// abi_stable will refuse it: the message says why and how to fix it.
    Incompatible(String),
}

fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    let mut it = v.split(['-', '+']).next()?.split('.').map(|p| p.parse::<u64>().ok());
    Some((it.next()??, it.next()??, it.next().flatten().unwrap_or(0)))
}

impl Manifest {
    /// Read the manifest embedded in the library at `path`.
    ///
    /// The file is checked first, reading only its headers and the manifest's section (see
    /// the loader's `check` module): one built for another platform is [`ManifestError::Foreign`], a
    /// truncated or damaged one [`ManifestError::Damaged`]. This is the check that runs before
    /// any `dlopen`, so a file that would crash the loader never reaches it.
    pub fn read(path: &Path) -> Result<Manifest, ManifestError> {
        crate::check::read_checked(path)
    }

    /// Decode the manifest embedded in a library's bytes.
    pub fn from_library_bytes(path: &Path, bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let file = object::File::parse(bytes)
            .map_err(|e| ManifestError::NotALibrary { path: path.to_path_buf(), reason: e.to_string() })?;
        Manifest::from_object(path, &file)
    }

    /// Decode the manifest embedded in a parsed object file.
    pub(crate) fn from_object<'d, R: object::ReadRef<'d>>(
        path: &Path,
        file: &object::File<'d, R>,
    ) -> Result<Manifest, ManifestError> {
        let data = manifest_bytes(file).ok_or_else(|| ManifestError::Missing { path: path.to_path_buf() })?;
        decode(data).map_err(|reason| ManifestError::Malformed { path: path.to_path_buf(), reason })
    }

    /// The options the hook called `name` declares, when they are known without running the
    /// library (`None`: not known; validation then checks names and types of nothing).
    pub fn declared_options(&self, name: &str) -> Option<&[OptionInfo]> {
        self.hook(name).and_then(ManifestHook::declared_options)
    }

    /// The names of its hooks, in declaration order.
    pub fn hook_names(&self) -> Vec<&str> {
        self.hooks.iter().map(|h| h.name.as_str()).collect()
    }

    /// Whether this program can load the library (see [`Compatibility`]).
    pub fn compatibility(&self) -> Compatibility {
        let (host_abi, lib_abi) = (embedded::ABI, self.abi);
        if host_abi.0 != lib_abi.0 || (host_abi.0 == 0 && host_abi.1 != lib_abi.1) {
            return Compatibility::Incompatible(format!(
                "built with abi_stable ABI {}.{}, but this program uses {}.{}; rebuild it against xmen-hook {CRATE_VERSION}",
                lib_abi.0, lib_abi.1, host_abi.0, host_abi.1
            ));
        }
        let (Some(host), Some(lib)) = (parse_version(SDK_VERSION), parse_version(&self.sdk_version)) else {
            return Compatibility::Incompatible(format!(
                "its hook ABI version {:?} is not a version number; rebuild it against xmen-hook {CRATE_VERSION}",
                self.sdk_version
            ));
        };
        if host.0 != lib.0 || (host.0 == 0 && host.1 > lib.1) {
            return Compatibility::Incompatible(crate::error::rebuild_message(&self.sdk_version, SDK_VERSION));
        }
        Compatibility::Compatible
    }

    /// The hook called `name`, if the library provides it.
    pub fn hook(&self, name: &str) -> Option<&ManifestHook> {
        self.hooks.iter().find(|h| h.name == name)
    }

    /// Every way the manifest disagrees with what the loaded library reports (its root
    /// module's `describe`), as sentences; empty when they agree.
    pub fn disagreements(&self, actual: &LibraryInfo) -> Vec<String> {
        let mut out = Vec::new();
        let field = |out: &mut Vec<String>, what: &str, manifest: &str, library: &str| {
            if manifest != library {
                out.push(format!("the manifest says {what} {manifest:?}, the library says {library:?}"));
            }
        };
        field(&mut out, "library", &self.library, &actual.library);
        field(&mut out, "version", &self.version, &actual.version);
        field(&mut out, "SDK version", &self.sdk_version, &actual.sdk_version);
        let names = |v: Vec<&str>| v.join(", ");
        let ours: Vec<&str> = self.hooks.iter().map(|h| h.name.as_str()).collect();
        let theirs: Vec<&str> = actual.hooks.iter().map(|h| h.name.as_str()).collect();
        if ours != theirs {
            out.push(format!("the manifest lists hooks [{}], the library provides [{}]", names(ours), names(theirs)));
        } else {
            for (m, a) in self.hooks.iter().zip(&actual.hooks) {
                if m.help != a.help {
                    out.push(format!("hook {}: the manifest's help differs from the library's", m.name));
                }
            }
        }
        out
    }
}

/// The embedded manifest's bytes: its own section on ELF, else the exported symbol.
fn manifest_bytes<'d, R: object::ReadRef<'d>>(file: &object::File<'d, R>) -> Option<&'d [u8]> {
    if let Some(data) = file.section_by_name(embedded::SECTION).and_then(|s| s.data().ok()) {
        if data.starts_with(embedded::MAGIC) {
            return Some(data);
        }
    }
    let apple = format!("_{}", embedded::SYMBOL);
    let is = |s: &object::Symbol<'d, '_, R>| s.name().is_ok_and(|n| n == embedded::SYMBOL || n == apple);
    // The manifest is an exported static: on ELF it is in the dynamic symbol table (a few
    // dozen names), so the full symbol table (thousands in an unstripped build, each name one
    // read through `ReadCache`) is searched only on the other formats, which have no dynamic one.
    let symbol = if file.format() == object::BinaryFormat::Elf {
        file.dynamic_symbols().find(is)?
    } else {
        file.symbols().find(is)?
    };
    let section = file.section_by_index(symbol.section_index()?).ok()?;
    let data = section.data().ok()?;
    let offset = usize::try_from(symbol.address().checked_sub(section.address())?).ok()?;
    data.get(offset..)
}

/// Reads the integers and strings of an embedded manifest, saying where it ran out.
struct Reader<'d> {
    data: &'d [u8],
    at: usize,
}

impl Reader<'_> {
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.data.get(self.at..self.at + 4).ok_or("truncated")?;
        self.at += 4;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn len(&mut self) -> Result<usize, String> {
        usize::try_from(self.u32()?).map_err(|e| e.to_string())
    }
    fn string(&mut self) -> Result<String, String> {
        let len = self.len()?;
        let bytes = self.data.get(self.at..self.at + len).ok_or("truncated string")?;
        self.at += len;
        String::from_utf8(bytes.to_vec()).map_err(|_| "a string is not UTF-8".to_owned())
    }
}

fn decode(data: &[u8]) -> Result<Manifest, String> {
    if data.starts_with(embedded::MAGIC_V1) {
        return decode_v1(data);
    }
    if !data.starts_with(embedded::MAGIC) {
        return Err("unknown manifest format".into());
    }
    let mut r = Reader { data, at: embedded::MAGIC.len() };
    let abi = (r.u32()?, r.u32()?);
    let (library, version, sdk_version) = (r.string()?, r.string()?, r.string()?);
    let count = r.len()?;
    let mut hooks = Vec::new();
    for _ in 0..count {
        let (name, help) = (r.string()?, r.string()?);
        let n = r.len()?;
        let mut options = Vec::new();
        for _ in 0..n {
            let (name, kind, help) = (r.string()?, r.string()?, r.string()?);
            let has_default = r.u32()? == 1;
            let default = r.string()?;
            options.push(OptionInfo { name, kind, help, default: has_default.then_some(default) });
        }
        let n = r.len()?;
        let examples = (0..n).map(|_| r.string()).collect::<Result<Vec<_>, _>>()?;
        hooks.push(ManifestHook { name, help, options: Some(options), examples: Some(examples) });
    }
    Ok(Manifest { library, version, sdk_version, abi, hooks })
}

/// Format 1 (hook ABI 0.1): strings only, no options.
fn decode_v1(data: &[u8]) -> Result<Manifest, String> {
    let mut r = Reader { data, at: embedded::MAGIC_V1.len() };
    let abi = (r.u32()?, r.u32()?);
    let count = r.len()?;
    if count < 3 || (count - 3) % 2 != 0 {
        return Err(format!("{count} strings, expected 3 plus 2 per hook"));
    }
    let mut parts = Vec::with_capacity(count);
    for _ in 0..count {
        parts.push(r.string()?);
    }
    let mut it = parts.into_iter();
    let mut next = || it.next().unwrap_or_default();
    let (library, version, sdk_version) = (next(), next(), next());
    let hooks = (0..(count - 3) / 2)
        .map(|_| ManifestHook { name: next(), help: next(), options: None, examples: None })
        .collect();
    Ok(Manifest { library, version, sdk_version, abi, hooks })
}

impl fmt::Display for Manifest {
    /// `xmen-hook-logger 0.1.0 (SDK 0.1.0, ABI 0.11)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} (SDK {}, ABI {}.{})", self.library, self.version, self.sdk_version, self.abi.0, self.abi.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded_v1(parts: &[&str]) -> Vec<u8> {
        let mut out = embedded::MAGIC_V1.to_vec();
        out.extend(embedded::ABI.0.to_le_bytes());
        out.extend(embedded::ABI.1.to_le_bytes());
        out.extend((parts.len() as u32).to_le_bytes());
        for p in parts {
            out.extend((p.len() as u32).to_le_bytes());
            out.extend(p.as_bytes());
        }
        out
    }

    const OPTS: &[xmen_core::hook::OptionDecl] = &[
        xmen_core::hook::OptionDecl::new("format", "str", "a format").default("''"),
        xmen_core::hook::OptionDecl::new("join", "str", "a separator"),
    ];
    const LIB: embedded::LibraryManifest = embedded::LibraryManifest {
        library: "xmen-hook-x",
        version: "1.2.3",
        sdk_version: "0.2.0",
        hooks: &[
            embedded::HookManifest { name: "x", help: "does x", options: OPTS, examples: &["a@1s", "b@1e"] },
            embedded::HookManifest { name: "y", help: "does y", options: &[], examples: &[] },
        ],
    };

    #[test]
    fn the_const_encoder_and_the_decoder_agree_options_included() {
        const BYTES: [u8; embedded::encoded_len(&LIB)] = embedded::encode(&LIB);
        let m = decode(&BYTES).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((m.library.as_str(), m.version.as_str(), m.sdk_version.as_str()), ("xmen-hook-x", "1.2.3", "0.2.0"));
        assert_eq!(
            m.hooks.iter().map(|h| (h.name.as_str(), h.help.as_str())).collect::<Vec<_>>(),
            [("x", "does x"), ("y", "does y")]
        );
        let x = &m.hooks[0];
        assert_eq!(x.option("format").map(|o| (o.kind.as_str(), o.default.as_deref())), Some(("str", Some("''"))));
        assert_eq!(x.option("join").map(|o| (o.help.as_str(), o.default.as_deref())), Some(("a separator", None)));
        assert!(x.declares("join") && !x.declares("directory") && m.hooks[1].options == Some(Vec::new()));
        assert_eq!(
            (x.examples.clone(), m.hooks[1].examples.clone()),
            (Some(vec!["a@1s".into(), "b@1e".into()]), Some(vec![]))
        );
    }

    #[test]
    fn a_format_1_manifest_still_decodes_without_options() {
        let m =
            decode(&encoded_v1(&["xmen-hook-x", "1.2.3", "0.1.0", "x", "does x"])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (m.sdk_version.as_str(), m.hooks[0].name.as_str(), m.hooks[0].options.clone()),
            ("0.1.0", "x", None)
        );
    }

    #[test]
    fn malformed_manifests_are_refused_with_a_reason() {
        const BYTES: [u8; embedded::encoded_len(&LIB)] = embedded::encode(&LIB);
        let table: [(&[u8], &str); 4] = [
            (b"nope", "unknown manifest format"),
            (&encoded_v1(&["a", "b"]), "2 strings"),
            (&encoded_v1(&["a", "b", "c", "d", "e"])[..40], "truncated"),
            (&BYTES[..BYTES.len() - 3], "truncated"),
        ];
        for (bytes, want) in table {
            let e = decode(bytes).err().unwrap_or_default();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
        }
    }

    #[test]
    fn sdk_versions_follow_abi_stables_rule() {
        let m = |v: &str| Manifest {
            library: "l".into(),
            version: "1".into(),
            sdk_version: v.into(),
            abi: embedded::ABI,
            hooks: Vec::new(),
        };
        assert_eq!(m(SDK_VERSION).compatibility(), Compatibility::Compatible);
        // 0.1.0 is the hook ABI before host services became one request, 0.2.0 before the
        // run_params and system_meta requests.
        for bad in ["0.0.1", "0.1.0", "0.2.0", "7.0.0", "x"] {
            assert!(matches!(m(bad).compatibility(), Compatibility::Incompatible(_)), "{bad}");
        }
        // A library built for a newer minor version loads (the root module only grows).
        assert!(matches!(m("0.4.0").compatibility(), Compatibility::Compatible));
        let Compatibility::Incompatible(why) = m("0.1.0").compatibility() else { unreachable!() };
        assert!(why.starts_with("built for hook ABI 0.1.0, but this program uses hook ABI 0.3.0; rebuild"), "{why}");
    }

    #[test]
    fn a_file_that_is_not_a_library_is_named() {
        let e = Manifest::from_library_bytes(Path::new("/x/lib.so"), b"hello").err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("/x/lib.so") && e.contains("not a shared library")));
    }
}

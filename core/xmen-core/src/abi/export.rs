//! The glue `export_hooks!` expands to: the root module, the library header and the macro itself.

use super::*;
use abi_stable::library::LibHeader;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::RStr;

/// Build the root module of a library (called by the loader through the exported header).
#[doc(hidden)]
pub fn root_module<S: HookSet>(library: &'static str, version: &'static str) -> HookLibRef {
    HookLib {
        library: RStr::from_str(library),
        version: RStr::from_str(version),
        sdk_version: RStr::from_str(SDK_VERSION),
        describe: describe_set::<S>,
        new_hook: new_hook_in_set::<S>,
    }
    .leak_into_prefix()
}

/// The exported library header of a root-module constructor (used by `export_hooks!`).
#[doc(hidden)]
pub const fn lib_header(ctor: extern "C" fn() -> abi_stable::library::RootModuleResult) -> LibHeader {
    // SAFETY: `from_constructor` requires that `ctor` return the root module of type
    // `HookLibRef` (the loader casts the result to it). `ctor` is only ever
    // `__xmen_erased_root_module` from `export_hooks!` (or a fixture copying it), which wraps
    // `root_module::<_>()`, a `HookLibRef`. Executed by the test `a_library_header_loads_its_own_root_module`.
    unsafe { LibHeader::from_constructor::<HookLibRef>(ctor, abi_stable::library::CheckTypeLayout::Yes) }
}

/// Call a root-module constructor the way abi_stable's loader expects (used by `export_hooks!`).
#[doc(hidden)]
pub fn call_root_module_loader(f: fn() -> HookLibRef) -> abi_stable::library::RootModuleResult {
    abi_stable::library::__call_root_module_loader(f)
}

/// Export the hooks of a library crate (a `cdylib`): the abi_stable root module and the
/// [`manifest`] that describes the library without loading it.
///
/// ```ignore
/// xmen::export_hooks!(Logger, Timer);
/// ```
#[macro_export]
macro_rules! export_hooks {
    // The embedded manifest (see `xmen_core::abi::manifest`). `#[doc(hidden)]`: an arm for the
    // macro itself and for test fixtures that need a manifest disagreeing with their library.
    (@manifest $manifest:expr) => {
        #[doc(hidden)]
        const __XMEN_MANIFEST: $crate::abi::manifest::LibraryManifest = $manifest;
        /// The library's manifest, read from the file by `xmen hooks list` without loading it.
        #[no_mangle]
        #[used]
        #[cfg_attr(all(unix, not(target_vendor = "apple")), link_section = ".xmen_manifest")]
        #[allow(unsafe_code, non_upper_case_globals)]
        pub static xmen_hook_manifest: [u8; $crate::abi::manifest::encoded_len(&__XMEN_MANIFEST)] =
            $crate::abi::manifest::encode(&__XMEN_MANIFEST);
    };
    ($($hook:ty),+ $(,)?) => {
        $crate::export_hooks!(@manifest $crate::abi::manifest::LibraryManifest {
            library: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
            sdk_version: $crate::abi::SDK_VERSION,
            hooks: &[$($crate::abi::manifest::HookManifest::of::<$hook>()),+],
        });
        #[doc(hidden)]
        pub struct __XmenHookSet;
        impl $crate::abi::HookSet for __XmenHookSet {
            fn entries() -> ::std::vec::Vec<$crate::abi::HookEntry> {
                ::std::vec![$($crate::abi::HookEntry::of::<$hook>()),+]
            }
        }
        #[doc(hidden)]
        pub fn __xmen_root_module() -> $crate::abi::HookLibRef {
            $crate::abi::root_module::<__XmenHookSet>(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        }
        #[doc(hidden)]
        pub extern "C" fn __xmen_erased_root_module() -> $crate::abi::abi_stable::library::RootModuleResult {
            $crate::abi::call_root_module_loader(__xmen_root_module)
        }
        /// The library header abi_stable's loader looks for.
        #[no_mangle]
        #[allow(unsafe_code, non_upper_case_globals)]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::abi::abi_stable::library::LibHeader =
            $crate::abi::lib_header(__xmen_erased_root_module);
    };
}

/// The exported name of abi_stable's library header, as `export_hooks!` spells it (a
/// `#[no_mangle]` static needs the literal name). A test checks it against
/// `abi_stable::library::ROOT_MODULE_LOADER_NAME`, so an abi_stable that mangles it otherwise
/// fails the build's tests rather than every load.
#[doc(hidden)]
pub const ROOT_MODULE_SYMBOL: &str = "_1as_0lib_1header_0root_bmodule_bloader";

#[cfg(test)]
mod tests {
    use super::ROOT_MODULE_SYMBOL;

    #[test]
    fn the_hand_written_header_symbol_is_the_one_abi_stable_looks_up() {
        assert_eq!(ROOT_MODULE_SYMBOL, abi_stable::library::ROOT_MODULE_LOADER_NAME);
        // ... and it is the name the macro gives its static.
        let source = include_str!("export.rs");
        assert!(source.contains(&format!("pub static {ROOT_MODULE_SYMBOL}:")), "export_hooks! exports another name");
    }
}

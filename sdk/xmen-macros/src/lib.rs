//! Procedural macros of the xmen SDK. Use them through the `xmen` crate
//! (`#[derive(xmen::Experiment)]`, `#[xmen::experiment]`), which documents them with examples.
//!
//! **Key design choice: every check that needs another type's parameters runs in a constant,
//! not in the macro.** A macro sees one item's tokens, so it cannot know the parameters of a
//! flattened part. The derive therefore emits a declaration tree (`Parameters::DECLS`) built
//! from constants and a `const` item that walks it: two parts declaring the same name, or a
//! `defaults(...)` override naming a parameter the part lacks, stop compilation with one error
//! that names both owners. Each field type is touched through exactly one generated constant
//! (a conversion or part table), so a field that is neither a parameter type nor an experiment
//! gives one error at that field, not a cascade. Like serde_derive, the macros parse the whole
//! input first, collect every misuse, and emit only the errors when there are any.

mod attrs;
mod derive;
mod functional;

use proc_macro::TokenStream;

/// Derive `xmen::Parameters` for a struct: each named field is a parameter. Documented on
/// `xmen::Experiment` (the re-export).
#[proc_macro_derive(Experiment, attributes(param, xmen))]
pub fn derive_experiment(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive::expand(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Turn a function into an experiment type (the functional API). Documented on
/// `xmen::experiment` (the re-export).
#[proc_macro_attribute]
pub fn experiment(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = syn::parse_macro_input!(item as syn::ItemFn);
    functional::expand(args.into(), item).unwrap_or_else(syn::Error::into_compile_error).into()
}

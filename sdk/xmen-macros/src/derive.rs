//! `#[derive(Experiment)]`: parse the struct into [`Field`]s, then expand into one
//! `impl xmen::Parameters` inside a `const _: () = { ... }` block that also runs the
//! declaration checks.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;
use syn::{Data, DeriveInput, Expr, Fields, Ident, Type};

use crate::attrs::{self, Errors};

enum Kind {
    Param { default: Option<Expr>, help: String },
    Flatten { defaults: Vec<(Ident, Expr)> },
    Skip,
}

struct Field {
    ident: Ident,
    name: String,
    ty: Type,
    kind: Kind,
}

struct Input {
    ident: Ident,
    name: String,
    description: String,
    function: bool,
    /// `None` for a unit struct.
    fields: Option<Vec<Field>>,
}

fn parse(input: &DeriveInput) -> syn::Result<Input> {
    let mut errors = Errors::default();
    let ident = input.ident.clone();
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => Some(named.named.iter().collect::<Vec<_>>()),
            Fields::Unit => None,
            Fields::Unnamed(_) => {
                return Err(syn::Error::new(
                    s.struct_token.span,
                    format_args!(
                        "`#[derive(Experiment)]` needs named fields, one per parameter, but `{ident}` is a \
                         tuple struct; write `struct {ident} {{ name: Type, ... }}`"
                    ),
                ))
            }
        },
        Data::Enum(e) => {
            return Err(syn::Error::new(
                e.enum_token.span,
                format_args!(
                    "`#[derive(Experiment)]` works on structs whose named fields are the parameters, but \
                     `{ident}` is an enum"
                ),
            ))
        }
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span,
                format_args!(
                    "`#[derive(Experiment)]` works on structs whose named fields are the parameters, but \
                     `{ident}` is a union"
                ),
            ))
        }
    };
    if !input.generics.params.is_empty() {
        errors.at(
            input.generics.span(),
            "`#[derive(Experiment)]` does not support generic structs: an experiment's parameters must have \
             concrete types",
        );
    }
    let type_attrs = attrs::type_attrs(&input.attrs, &mut errors);
    let mut parsed = Vec::new();
    for f in fields.iter().flatten() {
        let Some(fident) = f.ident.clone() else { continue };
        let a = attrs::param_attrs(&f.attrs, &mut errors);
        let name = fident.unraw().to_string();
        let kind = if a.skip.is_some() {
            Kind::Skip
        } else if a.flatten.is_some() {
            Kind::Flatten { defaults: a.defaults }
        } else {
            if name.starts_with('_') {
                errors.at(
                    fident.span(),
                    format_args!(
                        "parameter names cannot start with `_` (reserved for special fields like `_root`); \
                         rename `{name}` or mark it `#[param(skip)]`"
                    ),
                );
            }
            Kind::Param { help: attrs::help_text(&f.attrs, a.help.as_deref()), default: a.default }
        };
        parsed.push(Field { ident: fident, name, ty: f.ty.clone(), kind });
    }
    errors.finish()?;
    Ok(Input {
        name: type_attrs.name.unwrap_or_else(|| ident.to_string()),
        ident,
        description: attrs::doc_lines(&input.attrs).join("\n"),
        function: type_attrs.function,
        fields: fields.map(|_| parsed),
    })
}

/// A default expression typed as the field: string literals go through `Into`, so
/// `default = "Hello"` works for a `String`.
fn default_value(ty: &Type, default: Option<&Expr>) -> TokenStream {
    match default {
        Some(Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) => {
            quote_spanned! {s.span()=> { let v: #ty = ::core::convert::Into::into(#s); v } }
        }
        Some(e) => quote_spanned! {e.span()=> { let v: #ty = #e; v } },
        None => quote_spanned! {ty.span()=> <#ty as ::core::default::Default>::default() },
    }
}

pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let input = parse(input)?;
    let p = quote!(::xmen::__private);
    let ident = &input.ident;
    let name = &input.name;
    let description = &input.description;
    let function = input.function;
    let fields: &[Field] = input.fields.as_deref().unwrap_or(&[]);

    let mut tables = Vec::new();
    let mut decls = Vec::new();
    let mut infos = Vec::new();
    let mut inits = Vec::new();
    let mut values = Vec::new();
    let mut sets = Vec::new();
    let mut checks = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let (fid, fname, ty) = (&f.ident, &f.name, &f.ty);
        match &f.kind {
            Kind::Param { default, help } => {
                let conv = format_ident!("__XMEN_CONV_{}", i);
                let ty_text = attrs::type_text(ty);
                tables.push(quote_spanned! {ty.span()=>
                    const #conv: #p::Conv<#ty> = #p::conv::<#ty>();
                });
                decls.push(quote! { #p::Decl::Own { name: #fname, owner: #name } });
                infos.push(quote! { __infos.push(#p::ParamInfo::declared(#fname, #ty_text, #help, #name)); });
                let init = default_value(ty, default.as_ref());
                inits.push(quote! { #fid: #init });
                values
                    .push(quote! { __out.push((::std::string::String::from(#fname), (#conv.to_value)(&self.#fid))); });
                sets.push(quote! {
                    if __name == #fname {
                        self.#fid = (#conv.from_value)(__value).map_err(|e| e.named(#fname, #ty_text))?;
                        return ::core::result::Result::Ok(true);
                    }
                });
            }
            Kind::Flatten { defaults } => {
                let part = format_ident!("__XMEN_PART_{}", i);
                tables.push(quote_spanned! {ty.span()=>
                    const #part: #p::Part<#ty> = #p::part::<#ty>();
                });
                decls.push(quote! { #p::Decl::Part { via: #fname, decls: #part.decls } });
                infos.push(quote! { __infos.extend((#part.parameters)()); });
                let overrides = defaults.iter().map(|(k, e)| {
                    let k = k.to_string();
                    quote_spanned! {e.span()=> (#k, ::core::convert::Into::<#p::Value>::into(#e)) }
                });
                inits.push(quote! {
                    #fid: {
                        let mut __part = (#part.defaults)();
                        #p::override_defaults(&mut __part, #part.set, #name, #fname, &[#(#overrides),*]);
                        __part
                    }
                });
                for (k, _) in defaults {
                    let key = k.to_string();
                    checks.push(quote_spanned! {k.span()=> #p::check_override(#part.decls, #key, #name, #fname); });
                }
                values.push(quote! { __out.extend((#part.values)(&self.#fid)); });
                sets.push(quote! {
                    if (#part.set)(&mut self.#fid, __name, __value)? {
                        return ::core::result::Result::Ok(true);
                    }
                });
            }
            Kind::Skip => inits.push(quote_spanned! {ty.span()=> #fid: <#ty as ::core::default::Default>::default() }),
        }
    }
    let construct = if input.fields.is_some() { quote!(Self { #(#inits),* }) } else { quote!(Self) };

    Ok(quote! {
        #[allow(non_upper_case_globals, clippy::all)]
        const _: () = {
            #(#tables)*

            #[automatically_derived]
            impl ::xmen::Parameters for #ident {
                const NAME: &'static str = #name;
                const DESCRIPTION: &'static str = #description;
                const DECLS: &'static [#p::Decl] = &[#(#decls),*];
                const SOURCE: #p::Source = #p::Source {
                    crate_name: ::core::env!("CARGO_PKG_NAME"),
                    crate_version: ::core::env!("CARGO_PKG_VERSION"),
                    manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
                    module: ::core::module_path!(),
                    function: #function,
                };

                fn parameters() -> ::std::vec::Vec<#p::ParamInfo> {
                    let mut __infos = ::std::vec::Vec::new();
                    #(#infos)*
                    #p::fill_defaults(&mut __infos, <Self as ::xmen::Parameters>::values(
                        &<Self as ::xmen::Parameters>::from_defaults(),
                    ));
                    __infos
                }

                fn from_defaults() -> Self {
                    #construct
                }

                fn values(&self) -> ::std::vec::Vec<(::std::string::String, #p::Value)> {
                    let mut __out = ::std::vec::Vec::new();
                    #(#values)*
                    __out
                }

                fn set(
                    &mut self,
                    __name: &str,
                    __value: &#p::Value,
                ) -> ::core::result::Result<bool, #p::ParamError> {
                    #(#sets)*
                    let _ = (__name, __value);
                    ::core::result::Result::Ok(false)
                }
            }

            #p::check_decls(<#ident as ::xmen::Parameters>::DECLS, #name);
            #(#checks)*
        };
    })
}

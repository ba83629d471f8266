//! `#[experiment]` (the functional API): keep the function, and generate a struct with one field per
//! parameter argument that derives `Experiment` and whose `run` calls the function.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;
use syn::{FnArg, Ident, ItemFn, Pat};

use crate::attrs::Errors;

/// `hello_world` -> `HelloWorld`.
fn camel_case(name: &str) -> String {
    name.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

pub fn expand(args: TokenStream, mut item: ItemFn) -> syn::Result<TokenStream> {
    let mut type_name: Option<Ident> = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("name") {
            type_name = Some(meta.value()?.parse()?);
            Ok(())
        } else {
            Err(meta.error("unknown `#[experiment]` key; expected `name = TypeName`"))
        }
    });
    syn::parse::Parser::parse2(parser, args)?;

    let mut errors = Errors::default();
    let sig = &item.sig;
    if let Some(c) = &sig.constness {
        errors.at(c.span, "an experiment function cannot be `const`");
    }
    if let Some(a) = &sig.asyncness {
        errors.at(a.span, "an experiment function cannot be `async`; run async code inside it with your runtime");
    }
    if let Some(u) = &sig.unsafety {
        errors.at(u.span, "an experiment function cannot be `unsafe`");
    }
    if !sig.generics.params.is_empty() {
        errors.at(sig.generics.span(), "an experiment function cannot be generic: its parameters need concrete types");
    }
    let fn_ident = sig.ident.clone();
    let fn_name = fn_ident.unraw().to_string();
    let ident = type_name.unwrap_or_else(|| format_ident!("{}", camel_case(&fn_name), span = fn_ident.span()));
    let vis = item.vis.clone();

    let mut fields = Vec::new();
    let mut call_args = Vec::new();
    let mut has_root = false;
    for (i, arg) in item.sig.inputs.iter_mut().enumerate() {
        let FnArg::Typed(pt) = arg else {
            errors.at(arg.span(), "an experiment function cannot take `self`");
            continue;
        };
        let param_attrs: Vec<_> = pt.attrs.iter().filter(|a| a.path().is_ident("param")).cloned().collect();
        pt.attrs.retain(|a| !a.path().is_ident("param"));
        if i == 0 {
            has_root = true;
            if let Some(a) = param_attrs.first() {
                errors.at(
                    a.span(),
                    "the first argument receives the experiment's `&xmen::Root`; it is not a parameter, so it takes \
                     no `#[param]`",
                );
            }
            call_args.push(quote!(__root));
            continue;
        }
        let name = match &*pt.pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
            other => {
                errors.at(other.span(), "a parameter argument must be a plain name, like `lr: f64`");
                continue;
            }
        };
        let ty = &pt.ty;
        fields.push(quote! { #(#param_attrs)* #vis #name: #ty });
        call_args.push(quote_spanned! {ty.span()=> ::core::clone::Clone::clone(&self.#name) });
    }
    if !has_root {
        errors.at(
            item.sig.paren_token.span.join(),
            "an experiment function takes the experiment's `&xmen::Root` as its first argument, then its \
             parameters: `fn name(root: &xmen::Root, #[param(default = 1)] x: i64)`",
        );
    }
    errors.finish()?;

    let docs: Vec<_> = item.attrs.iter().filter(|a| a.path().is_ident("doc")).cloned().collect();
    Ok(quote! {
        #item

        #(#docs)*
        #[derive(::xmen::Experiment)]
        #[xmen(name = #fn_name, function)]
        #vis struct #ident {
            #(#fields),*
        }

        #[automatically_derived]
        impl ::xmen::Experiment for #ident {
            fn run(&mut self, __root: &::xmen::Root) -> ::xmen::RunResult {
                ::xmen::__private::into_run_result(#fn_ident(#(#call_args),*))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::camel_case;

    #[test]
    fn function_names_become_type_names() {
        for (given, want) in [("hello_world", "HelloWorld"), ("train", "Train"), ("a__b_", "AB"), ("x1_y", "X1Y")] {
            assert_eq!(camel_case(given), want);
        }
    }
}

//! Parsing `#[param(...)]`, `#[xmen(...)]` and doc comments into plain data; every misuse is
//! collected, so one pass reports all of them.

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;
use syn::{Attribute, Expr, Ident, LitStr};

/// The keys `#[param(...)]` accepts, for error messages.
pub const PARAM_KEYS: &str = "default, help, flatten, defaults, skip";

/// Collects errors so that all of them are reported at once.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    pub fn at(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.push(syn::Error::new(span, msg));
    }

    pub fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// What `#[param(...)]` says about one field or function argument.
#[derive(Default)]
pub struct ParamAttrs {
    pub default: Option<Expr>,
    pub help: Option<String>,
    pub flatten: Option<Span>,
    pub defaults: Vec<(Ident, Expr)>,
    pub defaults_span: Option<Span>,
    pub skip: Option<Span>,
}

/// Read every `#[param(...)]` attribute of `attrs`.
pub fn param_attrs(attrs: &[Attribute], errors: &mut Errors) -> ParamAttrs {
    let mut out = ParamAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("param")) {
        let res = attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(|i| i.unraw().to_string()).unwrap_or_default();
            match key.as_str() {
                "default" => {
                    let expr: Expr = meta.value()?.parse()?;
                    if out.default.replace(expr).is_some() {
                        errors.at(meta.path.span(), "`default` is given twice; keep one");
                    }
                }
                "help" => {
                    let lit: LitStr = meta.value()?.parse()?;
                    out.help = Some(lit.value());
                }
                "flatten" => out.flatten = Some(meta.path.span()),
                "skip" => out.skip = Some(meta.path.span()),
                "defaults" => {
                    out.defaults_span = Some(meta.path.span());
                    meta.parse_nested_meta(|inner| {
                        let Some(name) = inner.path.get_ident().map(syn::ext::IdentExt::unraw) else {
                            return Err(inner.error("expected `name = value`, e.g. `defaults(lr = 0.01)`"));
                        };
                        let expr: Expr = inner.value()?.parse()?;
                        out.defaults.push((name, expr));
                        Ok(())
                    })?;
                }
                _ => {
                    return Err(meta.error(format_args!(
                        "unknown `#[param]` key `{}`; expected one of: {PARAM_KEYS}",
                        path_text(&meta.path)
                    )))
                }
            }
            Ok(())
        });
        if let Err(e) = res {
            errors.push(e);
        }
    }
    check_combinations(&out, errors);
    out
}

fn check_combinations(a: &ParamAttrs, errors: &mut Errors) {
    if let Some(span) = a.flatten {
        if a.default.is_some() {
            errors.at(
                span,
                "`flatten` and `default` cannot be combined: a flattened part takes its defaults from its own \
                 fields; override them with `defaults(name = value)`",
            );
        }
        if a.help.is_some() {
            errors
                .at(span, "`flatten` and `help` cannot be combined: a flattened part's parameters keep their own help");
        }
    } else if let Some(span) = a.defaults_span {
        errors.at(
            span,
            "`defaults(...)` overrides the defaults of a flattened part; add `flatten` or use `default = ...`",
        );
    }
    if let Some(span) = a.skip {
        if a.flatten.is_some() || a.default.is_some() || a.help.is_some() {
            errors.at(span, "`skip` cannot be combined with other `#[param]` keys: a skipped field is not a parameter");
        }
    }
}

fn path_text(p: &syn::Path) -> String {
    p.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
}

/// What `#[xmen(...)]` on the struct says.
#[derive(Default)]
pub struct TypeAttrs {
    pub name: Option<String>,
    pub function: bool,
}

/// Read `#[xmen(name = "...", function)]` (the second is emitted by `#[experiment]`).
pub fn type_attrs(attrs: &[Attribute], errors: &mut Errors) -> TypeAttrs {
    let mut out = TypeAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("xmen")) {
        let res = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                out.name = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("function") {
                out.function = true;
            } else {
                return Err(meta.error(format_args!(
                    "unknown `#[xmen]` key `{}`; expected `name = \"...\"`",
                    path_text(&meta.path)
                )));
            }
            Ok(())
        });
        if let Err(e) = res {
            errors.push(e);
        }
    }
    out
}

/// The text of the doc comments: one leading space stripped from each line, surrounding blank
/// lines dropped.
pub fn doc_lines(attrs: &[Attribute]) -> Vec<String> {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &nv.value {
                for line in s.value().lines() {
                    lines.push(line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned());
                }
            }
        }
    }
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    lines
}

/// A parameter's help: its doc comment (or `help = "..."`) on one line.
pub fn help_text(attrs: &[Attribute], explicit: Option<&str>) -> String {
    match explicit {
        Some(h) => h.split_whitespace().collect::<Vec<_>>().join(" "),
        None => doc_lines(attrs).join(" ").split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// A type as readable text: `Vec<f64>`, `Option<String>`, `BTreeMap<String, i64>`.
pub fn type_text(ty: &syn::Type) -> String {
    let raw = quote::ToTokens::to_token_stream(ty).to_string();
    let mut s = raw.replace(" :: ", "::").replace(":: ", "::").replace(" < ", "<").replace("< ", "<");
    s = s.replace(" >", ">").replace(" ,", ",").replace("& ", "&").replace("[ ", "[").replace(" ]", "]");
    s = s.replace(" ;", ";").replace("( ", "(").replace(" )", ")");
    s
}

//! Where the runtime items the generated code names live.
//!
//! Every derive accepts `crate = path` for users who rename or re-export the runtime crate
//! (`extern crate aggregato as renamed;`), as `#[serde(crate = "...")]` does.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::token::Paren;
use syn::{Ident, Path, PathSegment, Token, Type, TypePath, TypeTuple};

/// The runtime crate: the user's `crate = path` override, or `::aggregato`.
pub(crate) fn runtime_crate(custom: Option<Path>) -> Path {
    custom.unwrap_or_else(|| absolute(&["aggregato"]))
}

/// `::core::convert::Infallible`, the error of an aggregate that never rejects a command.
pub(crate) fn infallible() -> Type {
    Type::Path(TypePath {
        attrs: Vec::new(),
        qself: None,
        path: absolute(&["core", "convert", "Infallible"]),
    })
}

/// `()`, the services of an aggregate that needs none.
pub(crate) fn unit_type() -> Type {
    Type::Tuple(TypeTuple {
        attrs: Vec::new(),
        paren_token: Paren::default(),
        elems: Punctuated::new(),
    })
}

/// `::first::second::...`, resolved from the crate root whatever the user's module imports.
fn absolute(segments: &[&str]) -> Path {
    Path {
        leading_colon: Some(<Token![::]>::default()),
        segments: segments
            .iter()
            .map(|name| PathSegment::from(Ident::new(name, Span::call_site())))
            .collect(),
    }
}

/// The type that stands in for a type the user left out or got wrong, in the stand-ins a
/// derive emits beside its errors: `Unreachable`, which implements what such a type must.
pub(crate) fn stand_in_type(krate: &Path) -> Type {
    syn::parse_quote!(#krate::__private::Unreachable)
}

/// The name of a generated item: the user's `custom` one, or `{ident}{suffix}`.
pub(crate) fn enum_name(custom: Option<Ident>, ident: &Ident, suffix: &str) -> Ident {
    custom.unwrap_or_else(|| Ident::new(&format!("{ident}{suffix}"), ident.span()))
}

//! Attribute values whose mistakes darling would report in its own words ("Unexpected type
//! `bool`", "Unknown value: `5s`"): these say what to write instead.

use darling::FromMeta;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Lit, Meta};

use super::diagnostics::{display_path, error_at};

/// A key that takes no value, such as `#[entity(id)]` or `#[projection(dead_letter)]`:
/// darling's `Flag`, but `id = true` is told to drop the value.
#[derive(Clone, Copy, Default)]
pub(crate) struct Marker(Option<Span>);

impl Marker {
    /// Whether the key was written.
    pub(crate) fn is_present(self) -> bool {
        self.0.is_some()
    }

    /// Where the key was written, or the call site when it was not.
    pub(crate) fn span(self) -> Span {
        self.0.unwrap_or_else(Span::call_site)
    }
}

impl FromMeta for Marker {
    fn from_none() -> Option<Self> {
        Some(Self(None))
    }

    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let (key, value) = match item {
            Meta::Path(path) => return Ok(Self(Some(path.span()))),
            Meta::NameValue(pair) => (display_path(&pair.path), pair.value.span()),
            Meta::List(list) => (display_path(&list.path), list.delimiter.span().join()),
        };
        Err(error_at(
            value,
            format!("`{key}` takes no value: write `{key}` alone, without `= ...`"),
        ))
    }
}

/// A duration in whole milliseconds, such as `timeout_ms = 5000`.
#[derive(Clone, Copy)]
pub(crate) struct Millis {
    pub(crate) value: u64,
    pub(crate) span: Span,
}

impl FromMeta for Millis {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let wrong = |span| {
            error_at(
                span,
                "`timeout_ms` takes a whole number of milliseconds, such as `timeout_ms = 5000` \
                 for five seconds",
            )
        };
        let Meta::NameValue(pair) = item else {
            return Err(wrong(item.span()));
        };
        match &pair.value {
            Expr::Lit(literal) => match &literal.lit {
                Lit::Int(int) => int
                    .base10_parse()
                    .map(|value| Self {
                        value,
                        span: int.span(),
                    })
                    .map_err(|_| wrong(int.span())),
                other => Err(wrong(other.span())),
            },
            other => Err(wrong(other.span())),
        }
    }
}

/// A string, such as `name = "balances"`, with where it was written; a value of another kind
/// (`name = balances`) is told to quote it.
#[derive(Clone)]
pub(crate) struct Text {
    pub(crate) value: String,
    pub(crate) span: Span,
}

impl FromMeta for Text {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let key = display_path(item.path());
        let Meta::NameValue(pair) = item else {
            return Err(error_at(
                item.span(),
                format!("`{key}` takes a string: write `{key} = \"...\"`"),
            ));
        };
        match &pair.value {
            Expr::Lit(literal) => match &literal.lit {
                Lit::Str(text) => Ok(Self {
                    value: text.value(),
                    span: text.span(),
                }),
                other => Err(not_text(&key, other.span(), other)),
            },
            other => Err(not_text(&key, other.span(), other)),
        }
    }
}

fn not_text(key: &str, span: Span, written: &impl quote::ToTokens) -> darling::Error {
    let written = super::diagnostics::display_tokens(written);
    error_at(
        span,
        format!("`{key}` takes a string: write `{key} = \"{written}\"`, in quotes"),
    )
}

/// A whole number, such as `version = 2`, with where it was written; a quoted one or another
/// kind of value is told what to write.
#[derive(Clone, Copy)]
pub(crate) struct Number {
    pub(crate) value: u32,
    pub(crate) span: Span,
}

impl FromMeta for Number {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let key = display_path(item.path());
        let wrong = |span| {
            error_at(
                span,
                format!("`{key}` takes a whole number, unquoted, such as `{key} = 2`"),
            )
        };
        let Meta::NameValue(pair) = item else {
            return Err(wrong(item.span()));
        };
        match &pair.value {
            Expr::Lit(literal) => match &literal.lit {
                Lit::Int(int) => int
                    .base10_parse()
                    .map(|value| Self {
                        value,
                        span: int.span(),
                    })
                    .map_err(|_| wrong(int.span())),
                other => Err(wrong(other.span())),
            },
            other => Err(wrong(other.span())),
        }
    }
}

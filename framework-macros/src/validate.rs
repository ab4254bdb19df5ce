//! Rules and error helpers shared by several derives.

use std::fmt::Display;

use darling::util::SpannedValue;
use proc_macro2::Span;

/// An error pointing at `span`.
pub(crate) fn error_at(span: Span, message: impl Display) -> darling::Error {
    syn::Error::new(span, message).into()
}

/// A stored name (`name = "..."`) must not be empty: it is written with every event or
/// stream, and an empty one cannot be told apart.
pub(crate) fn stored_name(
    name: &SpannedValue<String>,
    what: &str,
    example: &str,
) -> darling::Result<()> {
    if name.trim().is_empty() {
        return Err(error_at(
            name.span(),
            format!(
                "the stored {what} name is empty: write a name such as `name = \"{example}\"`, \
                 or remove `name` to use the type's name"
            ),
        ));
    }
    Ok(())
}

/// A name that prefixes stream ids (`"{name}-{id}"`: aggregates, entities, sagas) must not
/// contain `-`, or the stream ids of two types could collide (`A-b` + `c` and `A` + `b-c`).
pub(crate) fn stream_prefix(name: &SpannedValue<String>, what: &str) -> darling::Result<()> {
    if name.contains('-') {
        return Err(error_at(
            name.span(),
            format!(
                "the stored {what} name `{}` contains `-`: stream ids are `{{name}}-{{id}}`, so a \
                 `-` in the name could make two types' stream ids collide; use `.` or `_` instead",
                name.as_str()
            ),
        ));
    }
    Ok(())
}

/// Ends a validation: every accumulated error if there is any, else the model. The caller
/// builds the model only when each required piece was found, and pushes an error for each
/// missing one, so `None` without an error is a bug in this crate, not in the user's code.
pub(crate) fn finish<T>(
    errors: darling::error::Accumulator,
    model: Option<T>,
) -> darling::Result<T> {
    errors.finish()?;
    model.ok_or_else(|| {
        darling::Error::custom(
            "aggregato-macros found nothing wrong yet built nothing; please report this bug",
        )
    })
}

/// A path as the user would write it: `crate::bank::MoneyDeposited`, `Recorded<u8>`.
pub(crate) fn display_path(path: &syn::Path) -> String {
    display_tokens(path)
}

/// A path or type as the user would write it: `legacy::Credited<u32>`.
pub(crate) fn display_tokens(tokens: &impl quote::ToTokens) -> String {
    let written = tokens.to_token_stream().to_string();
    [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
    ]
    .iter()
    .fold(written, |text, (spaced, tight)| text.replace(spaced, tight))
}

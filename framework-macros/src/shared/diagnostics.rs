//! Errors as every derive reports them: at a span, all together, with types written as the
//! user writes them and a "did you mean" for a misspelled name.

use std::fmt::Display;

use proc_macro2::Span;

/// An error pointing at `span`.
pub(crate) fn error_at(span: Span, message: impl Display) -> darling::Error {
    syn::Error::new(span, message).into()
}

/// Ends a check that builds its model only when each required piece was found: every
/// accumulated error if there is any, else the model. `None` without an error is a bug in this
/// crate, not in the user's code.
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

/// A path, type or receiver as the user would write it: `legacy::Credited<u32>`, `&'a self`,
/// `self: Box<Self>`.
pub(crate) fn display_tokens(tokens: &impl quote::ToTokens) -> String {
    let written = tokens.to_token_stream().to_string();
    [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        (" : ", ": "),
    ]
    .iter()
    .fold(written, |text, (spaced, tight)| text.replace(spaced, tight))
}

/// The candidate nearest to a misspelled `name`, if one is near enough to be a typo: the rule
/// darling uses for its "did you mean" on unknown keys (Jaro-Winkler similarity above 0.8), so
/// that every suggestion of these derives is made the same way.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(similarity, _)| *similarity > 0.8)
        .max_by(|(left, _), (right, _)| left.total_cmp(right))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::{did_you_mean, display_tokens};

    #[test]
    fn tokens_read_as_written() -> syn::Result<()> {
        for written in [
            "&self",
            "&'a self",
            "mut self",
            "self: Box<Self>",
            "&mut self",
        ] {
            let receiver: syn::Receiver = syn::parse_str(written)?;
            assert_eq!(display_tokens(&receiver), written);
        }
        for written in [
            "legacy::Credited<u32>",
            "::aggregato",
            "HashMap<String, Vec<u8>>",
        ] {
            let ty: syn::Type = syn::parse_str(written)?;
            assert_eq!(display_tokens(&ty), written);
        }
        Ok(())
    }

    #[test]
    fn a_typo_finds_the_nearest_candidate() {
        let methods = ["refund", "release_stock", "notify"];
        assert_eq!(did_you_mean("refnd", methods), Some("refund"));
        assert_eq!(did_you_mean("release_stck", methods), Some("release_stock"));
        assert_eq!(did_you_mean("cancel_order", methods), None);
    }
}

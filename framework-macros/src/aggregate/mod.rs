//! `#[derive(Aggregate)]`: the event and command enums of an aggregate, their encoding, and
//! the `Aggregate` impl that dispatches to the user's `Handle<C>` and `Apply<E>` impls.

mod expand;
mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

/// Expands `#[derive(Aggregate)]` on `input`: the generated items, or every error found in
/// the input.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    derive(input).unwrap_or_else(darling::Error::write_errors)
}

fn derive(input: TokenStream) -> darling::Result<TokenStream> {
    let input = syn::parse2(input)?;
    let aggregate = validate::validate(model::AggregateInput::parse(&input)?)?;
    Ok(expand::aggregate(&aggregate))
}

//! `#[derive(DomainEvent)]`: a stored name and schema version for one event type.

mod expand;
mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

/// Expands `#[derive(DomainEvent)]` on `input`: the impl, or the errors found in the input.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    derive(input).unwrap_or_else(darling::Error::write_errors)
}

fn derive(input: TokenStream) -> darling::Result<TokenStream> {
    let input = syn::parse2(input)?;
    let event = validate::validate(model::EventInput::parse(&input)?)?;
    Ok(expand::domain_event(&event))
}

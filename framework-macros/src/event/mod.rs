//! `#[derive(DomainEvent)]`: a stored name and schema version for one event type.

mod expand;
mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

use crate::shared::derive;

/// Expands `#[derive(DomainEvent)]` on `input`: the impl, or the errors found in the input.
/// No stand-in: the type itself is the user's, and without the impl only the places that
/// need it as an event fail.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    derive::run(
        input,
        |input, errors| {
            validate::owned_fields(input, errors);
            validate::validate(model::EventInput::parse(input, errors), errors)
        },
        expand::domain_event,
        |_| TokenStream::new(),
    )
}

//! `#[derive(DomainEvent)]`: a stored name and schema version for one event type.

mod expand;
mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

use crate::shared::diagnostics::expansion_or_stand_ins;

/// Expands `#[derive(DomainEvent)]` on `input`: the impl, or the errors found in the input.
/// No stand-in: the type itself is the user's, and without the impl only the places that
/// need it as an event fail.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    let mut errors = darling::Error::accumulator();
    let parsed = model::EventInput::parse(&input, &mut errors);
    let event = validate::validate(parsed, &mut errors);
    expansion_or_stand_ins(errors, || expand::domain_event(&event), TokenStream::new)
}

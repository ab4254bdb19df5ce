//! `#[derive(Projection)]`: the event enum a projection reads, and the `Projection` impl whose
//! filter names the listed events (and aggregates) and whose dispatch calls the user's
//! `Project<E>` impls.

mod expand;
mod fallback;
mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

use crate::shared::derive;

/// Expands `#[derive(Projection)]` on `input`: the generated items, or every error found in
/// the input together with stand-ins, from the same model, that keep the user's `Project<E>`
/// impls from failing as well.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    derive::run(
        input,
        |input, errors| validate::validate(model::ProjectionInput::parse(input, errors), errors),
        expand::projection,
        fallback::stand_ins,
    )
}

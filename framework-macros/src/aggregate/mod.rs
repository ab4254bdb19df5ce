//! `#[derive(Aggregate)]`: the event and command enums of an aggregate, their encoding, and
//! the `Aggregate` impl that dispatches to the user's `Handle<C>` and `Apply<E>` impls.

mod expand;
mod fallback;
mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

use crate::shared::derive;

/// Expands `#[derive(Aggregate)]` on `input`: the generated items, or every error found in
/// the input together with stand-ins, from the same model, that keep the user's other items
/// from failing as well.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    derive::run(
        input,
        |input, errors| validate::validate(model::AggregateInput::parse(input, errors), errors),
        expand::aggregate,
        fallback::stand_ins,
    )
}

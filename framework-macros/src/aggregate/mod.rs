//! `#[derive(Aggregate)]`: the event and command enums of an aggregate, their encoding, and
//! the `Aggregate` impl that dispatches to the user's `Handle<C>` and `Apply<E>` impls.

mod expand;
mod fallback;
mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::shared::diagnostics::expansion_or_stand_ins;

/// Expands `#[derive(Aggregate)]` on `input`: the generated items, or every error found in
/// the input together with stand-ins, from the same model, that keep the user's other items
/// from failing as well.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    let mut errors = darling::Error::accumulator();
    let parsed = model::AggregateInput::parse(&input, &mut errors);
    let aggregate = validate::validate(parsed, &mut errors);
    expansion_or_stand_ins(
        errors,
        || expand::aggregate(&aggregate),
        || fallback::stand_ins(&aggregate),
    )
}

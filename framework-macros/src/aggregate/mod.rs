//! `#[derive(Aggregate)]`: the event and command enums of an aggregate, their encoding, and
//! the `Aggregate` impl that dispatches to the user's `Handle<C>` and `Apply<E>` impls.

pub(crate) mod expand;
pub(crate) mod fallback;
pub(crate) mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use syn::DeriveInput;

/// Expands `#[derive(Aggregate)]` on `input`: the generated items, or every error found in
/// the input together with stand-ins that keep the user's other items from failing as well.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    derive(&input).unwrap_or_else(|errors| {
        let mut tokens = errors.write_errors();
        tokens.extend(fallback::stand_ins(&input));
        tokens
    })
}

fn derive(input: &DeriveInput) -> darling::Result<TokenStream> {
    let aggregate = validate::validate(model::AggregateInput::parse(input)?)?;
    Ok(expand::aggregate(&aggregate))
}

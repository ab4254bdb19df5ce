//! `#[derive(Saga)]` and `#[saga_steps]`: a saga's name and services, and the ordered steps
//! of its `impl` block with their compensations, as the runtime's `Saga` and `SagaSteps`
//! impls plus a typed step enum.

mod expand;
mod fallback;
mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::Item;

use model::StepsBlock;

use crate::shared::derive::{self, expansion_or_stand_ins};

/// Expands `#[derive(Saga)]` on `input`: the impl, or every error found in the input together
/// with a stand-in impl that keeps `#[saga_steps]` and the user's other items from failing too.
pub(crate) fn expand_derive(input: TokenStream) -> TokenStream {
    derive::run(input, validate::saga, expand::saga, fallback::saga)
}

/// Expands `#[saga_steps(args)]` on `item`: the impl block without its `#[step(...)]`
/// attributes, followed by the generated items, or by every error found and stand-ins.
pub(crate) fn expand_steps(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Impl(item)) => item,
        Ok(other) => return not_an_impl(&other),
        Err(error) => {
            let mut tokens = error.into_compile_error();
            tokens.extend(item);
            return tokens;
        }
    };
    let block = StepsBlock::read(item);
    let mut tokens = block.item.to_token_stream();
    let mut errors = darling::Error::accumulator();
    let args = validate::parse_args(args, &mut errors);
    let steps = errors.handle(validate::steps(&args, &block));
    tokens.extend(expansion_or_stand_ins(
        errors,
        || steps.as_ref().map(expand::steps).unwrap_or_default(),
        || fallback::steps(&args, &block),
    ));
    tokens
}

/// `#[saga_steps]` on anything but an `impl` block: the error, and the item unchanged.
fn not_an_impl(item: &Item) -> TokenStream {
    let span = syn::spanned::Spanned::span(item);
    let error = syn::Error::new(
        span,
        "`#[saga_steps]` goes on the `impl` block of a `#[derive(Saga)]` struct, whose step \
         methods carry `#[step(...)]`: write it above `impl YourSaga { .. }`",
    );
    let mut tokens = error.into_compile_error();
    item.to_tokens(&mut tokens);
    tokens
}

/// `#[step(...)]` outside a `#[saga_steps]` block, where it has no meaning: the error saying
/// what to add, and the method unchanged. Inside a block, `#[saga_steps]` removes the
/// attribute before it could run.
pub(crate) fn stray_step(item: TokenStream) -> TokenStream {
    let error = syn::Error::new(
        proc_macro2::Span::call_site(),
        "`#[step]` marks a saga step only inside an `impl` block under `#[saga_steps]`: add \
         `#[saga_steps]` above the `impl` block of the `#[derive(Saga)]` struct",
    );
    let mut tokens = error.into_compile_error();
    tokens.extend(item);
    tokens
}

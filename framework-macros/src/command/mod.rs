//! `#[derive(Command)]`: names the aggregate a command targets.

mod expand;
mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

use crate::shared::derive;

/// Expands `#[derive(Command)]` on `input`: the impl, or the errors found in the input with
/// the impl as a stand-in when its target is known, so that the aggregate listing the
/// command does not fail as well.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    derive::run(
        input,
        |input, errors| validate::validate(model::CommandInput::parse(input, errors), errors),
        expand::command,
        expand::command,
    )
}

//! `#[derive(Command)]`: names the aggregate a command targets.

mod expand;
mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

use crate::shared::diagnostics::expansion_or_stand_ins;

/// Expands `#[derive(Command)]` on `input`: the impl, or the errors found in the input with
/// the impl as a stand-in when its target is known, so that the aggregate listing the
/// command does not fail as well.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    let mut errors = darling::Error::accumulator();
    let parsed = model::CommandInput::parse(&input, &mut errors);
    let command = validate::validate(parsed, &mut errors);
    let expand = || expand::command(&command);
    expansion_or_stand_ins(errors, expand, expand)
}

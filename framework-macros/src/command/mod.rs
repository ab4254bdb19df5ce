//! `#[derive(Command)]`: names the aggregate a command targets.

mod expand;
mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

/// Expands `#[derive(Command)]` on `input`: the impl, or the errors found in the input.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    derive(input).unwrap_or_else(darling::Error::write_errors)
}

fn derive(input: TokenStream) -> darling::Result<TokenStream> {
    let input = syn::parse2(input)?;
    let command = validate::validate(model::CommandInput::parse(&input)?)?;
    Ok(expand::command(&command))
}

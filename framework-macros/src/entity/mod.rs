//! `#[derive(Entity)]`: the Created/Updated/Deleted events and Create/Update/Delete commands
//! of a CRUD entity, the event and command enums (with any events and commands the user adds),
//! and the `Entity` impl whose generated handler enforces the lifecycle.

mod expand;
mod fallback;
mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use syn::DeriveInput;

/// Expands `#[derive(Entity)]` on `input`: the generated items, or every error found in the
/// input together with stand-ins that keep the user's other items from failing as well.
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
    let entity = validate::validate(model::EntityInput::parse(input)?)?;
    Ok(expand::entity(&entity))
}

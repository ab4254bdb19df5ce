//! `#[derive(Entity)]`: the Created/Updated/Deleted events and Create/Update/Delete commands
//! of a CRUD entity, the event and command enums (with any events and commands the user adds),
//! and the `Entity` impl whose generated handler enforces the lifecycle.

mod expand;
mod fallback;
mod handler;
mod messages;
mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::shared::diagnostics::expansion_or_stand_ins;

/// Expands `#[derive(Entity)]` on `input`: the generated items, or every error found in the
/// input together with stand-ins, from the same model, that keep the user's other items from
/// failing as well.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    let mut errors = darling::Error::accumulator();
    let parsed = model::EntityInput::parse(&input, &mut errors);
    let entity = validate::validate(parsed, &mut errors);
    expansion_or_stand_ins(
        errors,
        || expand::entity(&entity),
        || fallback::stand_ins(&entity),
    )
}

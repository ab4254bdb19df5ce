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

use crate::shared::derive;

/// Expands `#[derive(Entity)]` on `input`: the generated items, or every error found in the
/// input together with stand-ins, from the same model, that keep the user's other items from
/// failing as well.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    derive::run(
        input,
        |input, errors| validate::validate(model::EntityInput::parse(input, errors), errors),
        expand::entity,
        fallback::stand_ins,
    )
}

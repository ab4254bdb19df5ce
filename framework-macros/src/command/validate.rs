//! The rules of `#[command(...)]` that darling cannot express.

use darling::util::SpannedValue;
use syn::parse_quote;
use syn::spanned::Spanned;

use super::model::{Command, CommandInput};
use crate::paths::runtime_crate;
use crate::validate::{error_at, finish, stored_name};

/// Checks that the target aggregate (or entity) is named once and the name is usable, reporting every mistake
/// at once.
pub(super) fn validate(input: CommandInput) -> darling::Result<Command> {
    let mut errors = darling::Error::accumulator();
    if let Some(name) = &input.name {
        errors.handle(stored_name(name, "command", "DepositMoney"));
    }
    let krate = runtime_crate(input.krate);
    let aggregate = match (input.aggregate, input.entity) {
        (Some(aggregate), None) => Some(aggregate),
        (None, Some(entity)) => Some(parse_quote!(#krate::entity::EntityState<#entity>)),
        (Some(_), Some(entity)) => {
            errors.push(error_at(
                entity.span(),
                "a command targets either an aggregate or an entity: keep `aggregate = ...` \
                 or `entity = ...`, not both",
            ));
            None
        }
        (None, None) => {
            errors.push(error_at(
                input.ident.span(),
                format!(
                    "`{}` does not say which aggregate it targets: \
                     add `#[command(aggregate = YourAggregate)]`, or \
                     `#[command(entity = YourEntity)]` to add it to a `#[derive(Entity)]` struct",
                    input.ident
                ),
            ));
            None
        }
    };
    let model = aggregate.map(|aggregate| Command {
        krate,
        name: input
            .name
            .map_or_else(|| input.ident.to_string(), SpannedValue::into_inner),
        ident: input.ident,
        generics: input.generics,
        aggregate,
    });
    finish(errors, model)
}

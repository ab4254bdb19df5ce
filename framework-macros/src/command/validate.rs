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
    let CommandInput {
        ident,
        generics,
        options,
    } = input;
    let mut errors = darling::Error::accumulator();
    if let Some(name) = &options.name {
        errors.handle(stored_name(name, "command", "DepositMoney"));
    }
    let krate = runtime_crate(options.krate);
    let aggregate = match (options.aggregate, options.entity) {
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
                ident.span(),
                format!(
                    "`{}` does not say which aggregate it targets: \
                     add `#[command(aggregate = YourAggregate)]`, or \
                     `#[command(entity = YourEntity)]` to add it to a `#[derive(Entity)]` struct",
                    ident
                ),
            ));
            None
        }
    };
    let model = aggregate.map(|aggregate| Command {
        krate,
        name: options
            .name
            .map_or_else(|| ident.to_string(), SpannedValue::into_inner),
        ident,
        generics,
        aggregate,
    });
    finish(errors, model)
}

//! The rules of `#[command(...)]` that darling cannot express.

use darling::error::Accumulator;
use darling::util::SpannedValue;
use syn::parse_quote;
use syn::spanned::Spanned;

use super::model::{Command, CommandInput};
use crate::shared::diagnostics::error_at;
use crate::shared::dummy::local_crate;
use crate::shared::paths::runtime_crate;
use crate::shared::rules::stored_name;

/// Checks that the target aggregate (or entity) is named once and the name is usable,
/// reporting every mistake at once, and builds the model.
pub(super) fn validate(input: CommandInput, errors: &mut Accumulator) -> Command {
    let CommandInput {
        ident,
        generics,
        options: read,
    } = input;
    // With a mistake in the attribute, the target that seems absent may be the misspelled key.
    let report_missing = read.is_clean();
    let options = read.options;
    if let Some(name) = &options.name {
        errors.handle(stored_name(name, "command", "DepositMoney"));
    }
    let runtime = runtime_crate(options.krate);
    let krate = local_crate();
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
        (None, None) if !report_missing => None,
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
    Command {
        runtime,
        krate,
        name: options
            .name
            .map_or_else(|| ident.to_string(), SpannedValue::into_inner),
        ident,
        generics,
        aggregate,
    }
}

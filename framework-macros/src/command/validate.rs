//! The rules of `#[command(...)]` that darling cannot express.

use darling::util::SpannedValue;

use super::model::{Command, CommandInput};
use crate::paths::runtime_crate;
use crate::validate::{error_at, finish, stored_name};

/// Checks that the target aggregate is named and the name is usable, reporting every mistake
/// at once.
pub(super) fn validate(input: CommandInput) -> darling::Result<Command> {
    let mut errors = darling::Error::accumulator();
    if let Some(name) = &input.name {
        errors.handle(stored_name(name, "command", "DepositMoney"));
    }
    let aggregate = input.aggregate.or_else(|| {
        errors.push(error_at(
            input.ident.span(),
            format!(
                "`{}` does not say which aggregate it targets: \
                 add `#[command(aggregate = YourAggregate)]`",
                input.ident
            ),
        ));
        None
    });
    let model = aggregate.map(|aggregate| Command {
        krate: runtime_crate(input.krate),
        name: input
            .name
            .map_or_else(|| input.ident.to_string(), SpannedValue::into_inner),
        ident: input.ident,
        generics: input.generics,
        aggregate,
    });
    finish(errors, model)
}

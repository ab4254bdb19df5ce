//! Commands: requests to change one aggregate, which it may accept or reject.

use crate::aggregate::Aggregate;
use crate::checks::CommandData;

/// A command addressed to the aggregate `Self::Aggregate`.
///
/// Derived with `#[derive(Command)]` and `#[command(aggregate = Type)]`. The aggregate derive
/// checks that every type listed in its `commands(...)` targets it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a command",
    label = "listed as a command but has no `Command` impl",
    note = "add `#[derive(aggregato::Command)]` and `#[command(aggregate = YourAggregate)]` to `{Self}`"
)]
pub trait Command: CommandData {
    /// The aggregate this command targets.
    type Aggregate: Aggregate;
    /// The command's name, for logs and traces.
    const COMMAND_TYPE: &'static str;
}

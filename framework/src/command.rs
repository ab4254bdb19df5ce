//! Commands: requests to change one aggregate, which it may accept or reject.

use crate::aggregate::Aggregate;
use crate::checks::CommandData;

/// A command addressed to the aggregate `Self::Aggregate`.
///
/// Derived with `#[derive(Command)]` and `#[command(aggregate = Type)]`. The aggregate derive
/// checks that every type listed in its `commands(...)` targets it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a command",
    label = "listed as a command, but does not implement `Command`",
    note = "a command needs `#[derive(Debug, Clone, aggregato::Command)]` and `#[command(aggregate = YourAggregate)]`; or, if `{Self}` is an event, list it in `events(...)`"
)]
pub trait Command: CommandData {
    /// The aggregate this command targets.
    type Aggregate: Aggregate;
    /// The command's name, for logs and traces.
    const COMMAND_TYPE: &'static str;
}

//! `#[derive(Command)]`: its keys and what it generates.
//!
//! Derives [`Command`](trait@crate::Command): names the aggregate a command targets.
//!
//! The type must also be `Clone`, `Debug`, `Send`, `Sync` and `'static`. List it in the
//! target's `#[aggregate(commands(...))]`; the aggregate derive checks that the two agree.
//!
//! ```
//! use aggregato::prelude::*;
//! # use serde::{Deserialize, Serialize};
//! # #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
//! # pub struct MoneyDeposited {
//! #     pub amount: u64,
//! # }
//! # #[derive(Debug, Default, Aggregate)]
//! # #[aggregate(id = String, events(MoneyDeposited), commands(DepositMoney))]
//! # pub struct BankAccount;
//! # impl Handle<DepositMoney> for BankAccount {
//! #     async fn handle(
//! #         &self,
//! #         command: DepositMoney,
//! #         _: &(),
//! #     ) -> Result<Vec<BankAccountEvent>, std::convert::Infallible> {
//! #         Ok(vec![MoneyDeposited { amount: command.amount }.into()])
//! #     }
//! # }
//! # impl Apply<MoneyDeposited> for BankAccount {
//! #     fn apply(&mut self, _: &MoneyDeposited) {}
//! # }
//!
//! #[derive(Debug, Clone, Command)]
//! #[command(aggregate = BankAccount)]
//! pub struct DepositMoney {
//!     pub amount: u64,
//! }
//!
//! assert_eq!(DepositMoney::COMMAND_TYPE, "DepositMoney");
//! ```
//!
//! ## `#[command(...)]` keys
//!
//! | key | required | meaning |
//! |---|---|---|
//! | `aggregate = Type` | yes, or `entity` | [`Command::Aggregate`](crate::Command::Aggregate), the aggregate that handles the command. |
//! | `entity = Type` | instead of `aggregate` | For a command added to a `#[derive(Entity)]` struct: `Command::Aggregate` is [`EntityState<Type>`](crate::EntityState). |
//! | `name = "..."` | no | [`Command::COMMAND_TYPE`](crate::Command::COMMAND_TYPE), the command's name for logs and traces. Default: the type's name. Must not be empty. |
//! | `crate = path` | no | Where the runtime crate is, when it is not `::aggregato`. |

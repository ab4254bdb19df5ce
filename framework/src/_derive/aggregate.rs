//! `#[derive(Aggregate)]`: its keys and what it generates.
//!
//! Derives [`Aggregate`](trait@crate::Aggregate) for the struct holding an aggregate's state, and generates
//! its event and command enums.
//!
//! The struct must have named fields, or none (a unit struct), must implement `Default` (the
//! state before the first event, [`Aggregate::initial_state`](crate::Aggregate::initial_state))
//! unless `initial = path` names a function that returns it, and cannot be generic. For each type `C` listed in
//! `commands(...)` the user writes `impl `[`Handle<C>`](crate::Handle)` for TheAggregate`, and for each type `E`
//! listed in `events(...)`, `impl `[`Apply<E>`](crate::Apply)` for TheAggregate`; the derive dispatches to them.
//!
//! ```
//! use aggregato::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! # #[derive(Debug, thiserror::Error)]
//! # #[error("rejected")]
//! # pub struct BankError;
//! # pub struct RiskServices;
//! # type AccountId = String;
//! # #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
//! # pub struct AccountOpened;
//! #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
//! pub struct MoneyDeposited {
//!     pub amount: u64,
//! }
//!
//! #[derive(Debug, Clone, Command)]
//! #[command(aggregate = BankAccount)]
//! pub struct DepositMoney {
//!     pub amount: u64,
//! }
//!
//! #[derive(Debug, Default, Aggregate)]
//! #[aggregate(
//!     id = AccountId,
//!     error = BankError,
//!     services = RiskServices,
//!     events(AccountOpened, MoneyDeposited),
//!     commands(DepositMoney),
//! )]
//! pub struct BankAccount {
//!     balance: u64,
//! }
//!
//! impl Handle<DepositMoney> for BankAccount {
//!     async fn handle(
//!         &self,
//!         command: DepositMoney,
//!         _services: &RiskServices,
//!     ) -> Result<Vec<BankAccountEvent>, BankError> {
//!         Ok(vec![MoneyDeposited { amount: command.amount }.into()])
//!     }
//! }
//!
//! impl Apply<MoneyDeposited> for BankAccount {
//!     fn apply(&mut self, event: &MoneyDeposited) {
//!         self.balance += event.amount;
//!     }
//! }
//! # impl Apply<AccountOpened> for BankAccount {
//! #     fn apply(&mut self, _: &AccountOpened) {}
//! # }
//!
//! // `evolve` takes any event of the set and dispatches to the `Apply<E>` impl; `apply` is
//! // that impl. With the prelude both are in scope, and neither call is ambiguous.
//! let mut account = BankAccount::default();
//! account.evolve(&MoneyDeposited { amount: 5 }.into());
//! account.apply(&MoneyDeposited { amount: 2 });
//! assert_eq!(account.balance, 7);
//! ```
//!
//! ## `#[aggregate(...)]` keys
//!
//! | key | required | meaning |
//! |---|---|---|
//! | `id = Type` | yes | [`Aggregate::Id`](crate::Aggregate::Id), the identity of one instance (`Display + Clone + ...`). |
//! | `events(A, B, ...)` | yes, non-empty | The event types, each a [`DomainEvent`](trait@crate::DomainEvent), each at most once. |
//! | `commands(C, D, ...)` | yes, non-empty | The command types, each a [`Command`](trait@crate::Command) whose `aggregate` is this struct, each at most once. |
//! | `error = Type` | no | [`Aggregate::Error`](crate::Aggregate::Error), the domain error of a rejected command. Default `::core::convert::Infallible`. |
//! | `services = Type` | no | [`Aggregate::Services`](crate::Aggregate::Services), handed to every handler. Default `()`. |
//! | `name = "..."` | no | [`Aggregate::AGGREGATE_TYPE`](crate::Aggregate::AGGREGATE_TYPE), the stored type name that prefixes stream ids. Default: the struct's name. Changing it orphans stored streams. |
//! | `snapshot_version = N` | no | [`Aggregate::SNAPSHOT_VERSION`](crate::Aggregate::SNAPSHOT_VERSION), the version of the state's schema that snapshots record; raise it when the state's serialized form or meaning changes, and snapshots taken before are ignored (the aggregate is rebuilt from its events). Default 1. |
//! | `initial = path` | no | A function `fn() -> Self` that [`Aggregate::initial_state`](crate::Aggregate::initial_state) calls: the state before the first event. Default: `Default::default`, which the struct must then implement. |
//! | `event_enum = Ident` | no | The name of the generated event enum. Default `{Struct}Event`. |
//! | `command_enum = Ident` | no | The name of the generated command enum. Default `{Struct}Command`. |
//! | `crate = path` | no | Where the runtime crate is, when it is not `::aggregato` (e.g. after `extern crate aggregato as renamed;`). |
//!
//! A `Type` is any type, written as in Rust code: `services = Arc<dyn Clock + Send + Sync>`,
//! `error = Rejected<(u8, String)>`, `id = my::Id<'static>`. The same holds for every key of
//! every derive here that takes a type.
//!
//! ## What it generates
//!
//! With the struct's visibility:
//!
//! - `enum {Struct}Event`, one tuple variant per listed event, named after the last segment of
//!   its path (`bank::MoneyDeposited` becomes `MoneyDeposited(bank::MoneyDeposited)`); `Debug`,
//!   `Clone`, `From<E>` for each event, `PartialEq` when every event is `PartialEq`, serde
//!   `Serialize`/`Deserialize` as `{"type": name, "version": n, "data": payload}`, and
//!   [`EventSet`](crate::EventSet).
//! - `enum {Struct}Command`, one variant per listed command; `Debug`, `Clone`, `From<C>`.
//! - `impl Aggregate for {Struct}`, whose [`Aggregate::decide`](crate::Aggregate::decide) and
//!   [`Aggregate::evolve`](crate::Aggregate::evolve) dispatch to your impls.
//! - Compile-time checks: each listed command targets this aggregate; no two listed events
//!   share a stored name.

//! `#[derive(Projection)]`: its keys and what it generates.
//!
//! Derives [`Projection`](trait@crate::Projection) for the struct holding a read model, and
//! generates the enum of the events it reads.
//!
//! The struct must have named fields, or none (a unit struct), and cannot be generic. For each
//! type `E` listed in `events(...)` the user writes `impl `[`Project<E>`](crate::Project)` for
//! TheProjection`; the derive dispatches to them, and a listed event without one is a compile
//! error at the listed type.
//!
//! ```
//! use aggregato::prelude::*;
//! use aggregato::projection::{BoxError, Context};
//! use serde::{Deserialize, Serialize};
//! use std::collections::HashMap;
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
//! pub struct AccountOpened;
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
//! #[event(aliases("Deposited"))]
//! pub struct MoneyDeposited {
//!     pub amount: u64,
//! }
//! # #[derive(Debug, Clone, Command)]
//! # #[command(aggregate = BankAccount)]
//! # pub struct OpenAccount;
//! # #[derive(Debug, Default, Aggregate)]
//! # #[aggregate(id = String, events(AccountOpened, MoneyDeposited), commands(OpenAccount))]
//! # pub struct BankAccount;
//! # impl Handle<OpenAccount> for BankAccount {
//! #     async fn handle(&self, _: OpenAccount, _: &())
//! #         -> Result<Vec<BankAccountEvent>, std::convert::Infallible> { Ok(vec![]) }
//! # }
//! # impl Apply<AccountOpened> for BankAccount { fn apply(&mut self, _: &AccountOpened) {} }
//! # impl Apply<MoneyDeposited> for BankAccount { fn apply(&mut self, _: &MoneyDeposited) {} }
//!
//! #[derive(Debug, Default, Projection)]
//! #[projection(
//!     events(AccountOpened, MoneyDeposited),
//!     aggregates(BankAccount),
//!     name = "balances",
//!     version = 2,
//!     reset = truncate,
//! )]
//! pub struct Balances {
//!     balances: HashMap<String, u64>,
//! }
//!
//! impl Balances {
//!     async fn truncate(&mut self, _transaction: &mut ()) -> Result<(), BoxError> {
//!         self.balances.clear();
//!         Ok(())
//!     }
//! }
//!
//! impl Project<AccountOpened> for Balances {
//!     async fn project(
//!         &mut self,
//!         _event: AccountOpened,
//!         context: &mut Context<'_, ()>,
//!     ) -> Result<(), BoxError> {
//!         self.balances.insert(context.aggregate_id().to_owned(), 0);
//!         Ok(())
//!     }
//! }
//!
//! impl Project<MoneyDeposited> for Balances {
//!     async fn project(
//!         &mut self,
//!         event: MoneyDeposited,
//!         context: &mut Context<'_, ()>,
//!     ) -> Result<(), BoxError> {
//!         *self.balances.entry(context.aggregate_id().to_owned()).or_default() += event.amount;
//!         Ok(())
//!     }
//! }
//!
//! // The filter a runner hands the store: the listed events under their stored names and
//! // former names, of the listed aggregates.
//! let filter = Balances::filter();
//! assert_eq!(
//!     filter.allowed_event_types(),
//!     Some(&["AccountOpened".to_owned(), "MoneyDeposited".into(), "Deposited".into()][..])
//! );
//! assert_eq!(filter.allowed_aggregate_types(), Some(&["BankAccount".to_owned()][..]));
//! assert_eq!((Balances::NAME, Balances::VERSION), ("balances", 2));
//! assert!(Balances::RESETTABLE);
//! ```
//!
//! ## `#[projection(...)]` keys
//!
//! | key | required | meaning |
//! |---|---|---|
//! | `events(A, B, ...)` | yes, non-empty | The event types it reads, each a [`DomainEvent`](trait@crate::DomainEvent) with an `impl Project<E>`, each at most once. |
//! | `aggregates(X, Y, ...)` | no | [`Aggregate`](trait@crate::Aggregate) types: the filter keeps only events of their [`AGGREGATE_TYPE`](crate::Aggregate::AGGREGATE_TYPE)s. Default: the listed events of any aggregate. |
//! | `transaction = Type` | no | [`Projection::Transaction`](crate::Projection::Transaction), what the handlers write through: `sqlx::PgConnection`, `sqlx::SqliteConnection`. Default `()`. |
//! | `error = Type` | no | [`Projection::Error`](crate::Projection::Error), the handlers' error (`Into<BoxError>`). Default [`BoxError`](crate::projection::BoxError). |
//! | `name = "..."` | no | [`Projection::NAME`](crate::Projection::NAME), the name its checkpoint is stored under. Default: the struct's name. |
//! | `version = N` | no | [`Projection::VERSION`](crate::Projection::VERSION), at least 1; raise it to rebuild beside the running version. Default 1. |
//! | `dead_letter` | no | [`Projection::ON_FAILURE`](crate::Projection::ON_FAILURE) is [`OnFailure::DeadLetter`](crate::projection::OnFailure::DeadLetter): an event that keeps failing is recorded and skipped. Default `Stop`. |
//! | `reset = method` | no | The method [`Projection::reset`](crate::Projection::reset) calls, `async fn method(&mut self, transaction: &mut Self::Transaction) -> Result<(), Self::Error>`; sets [`RESETTABLE`](crate::Projection::RESETTABLE). Without it, a rebuild is refused. |
//! | `activate = method` | no | The method [`Projection::activate`](crate::Projection::activate) calls, with the same signature. Default: nothing. |
//! | `crate = path` | no | Where the runtime crate is, when it is not `::aggregato`. |
//!
//! A hook method cannot be named like a method of the traits (`reset`, `activate`,
//! `dispatch`, `filter`, `project`): `Self::reset` could be the trait's own.
//!
//! ## What it generates
//!
//! With the struct's visibility:
//!
//! - `enum {Struct}Event`, one tuple variant per listed event, as an aggregate's event enum:
//!   `Debug`, `Clone`, `From<E>`, `PartialEq` when every event is, serde, and
//!   [`EventSet`](crate::EventSet), whose `decode` also reads each event's former names.
//! - `impl Projection for {Struct}`, whose [`filter`](crate::Projection::filter) names the
//!   listed events (with their aliases) and aggregates, and whose
//!   [`dispatch`](crate::Projection::dispatch) calls your `Project<E>` impls.
//! - Compile-time checks: no two listed events share a stored name.

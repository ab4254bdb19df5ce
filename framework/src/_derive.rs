//! Every derive of aggregato, its attribute keys, and what it generates: the reference for
//! `#[derive(Aggregate)]`, `#[derive(DomainEvent)]`, `#[derive(Command)]`, `#[derive(Entity)]`,
//! `#[derive(Saga)]` and `#[saga_steps]`, as clap keeps its derive reference in `clap::_derive`.
//!
//! This module holds no items: it is documentation only. The derives themselves are re-exported
//! at the crate root and in the [prelude](crate::prelude) under the default `derive` feature, so
//! `use aggregato::prelude::*;` is all a domain module writes.
//!
//! - [`#[derive(Aggregate)]`](#deriveaggregate)
//! - [`#[derive(DomainEvent)]`](#derivedomainevent)
//! - [`#[derive(Command)]`](#derivecommand)
//! - [`#[derive(Entity)]`](#deriveentity)
//! - [`#[derive(Saga)]`](#derivesaga)
//! - [`#[saga_steps]` and `#[step(...)]`](#saga_steps-and-step)
//!
//! ## Conventions every derive shares
//!
//! A key means the same thing, with the same value syntax, wherever it appears:
//!
//! | key | value | in | meaning |
//! |---|---|---|---|
//! | `name = "..."` | a string, not empty | every derive | The stored (or logged) name, kept when the type is renamed. Default: the type's name. A name that prefixes stream ids (aggregates, entities, sagas) contains no `-`. |
//! | `version = N` | an integer, at least 1 | `event`, `entity` | The schema version of the stored payload. Default 1. |
//! | `id = Type`, `error = Type`, `services = Type`, `aggregate = Type`, `entity = Type`, `upcast_from = Type` | a type, unquoted | where listed below | Any type, written as in Rust code: `services = Arc<dyn Clock + Send + Sync>`, `error = Rejected<(u8, String)>`, `id = my::Id<'static>`. A quoted type (`services = "Arc<Clock>"`) is read too. |
//! | `events(A, ...)`, `commands(C, ...)` | a list of type paths | `aggregate`, `entity` | The event and command types, each at most once. |
//! | `event_enum = Ident`, `command_enum = Ident`, `step_enum = Ident` | an identifier | `aggregate`, `entity`, `saga_steps` | The name of a generated enum. Default `{Struct}Event`, `{Struct}Command`, `{Saga}Step`. |
//! | `validate = path` | a function path | `entity`, its fields | A validator, `fn(&T) -> Result<(), Error>`. |
//! | `crate = path` | a path | every derive | Where the runtime crate is, when it is not `::aggregato` (e.g. after `extern crate aggregato as renamed;`), as `#[serde(crate = "...")]`. |
//!
//! Each derive reports every mistake of one annotation at once, each at the token that is wrong
//! and with the fix in the message: an unknown key comes with a "did you mean". Mistakes only the
//! compiler can see (a listed command without a handler, a listed event that is not a
//! `DomainEvent`, two events with the same stored name) are reported at the type as listed in
//! `events(...)` or `commands(...)`. Beside the errors, the derive still emits stand-ins for what
//! it would generate (the enums, an impl that decides nothing), so that the rest of your code
//! compiles and only the real mistakes are reported.
//!
//! The impls a derive generates sit in a `const _: () = { ... };` and are marked
//! `#[automatically_derived]`; only the items you name (the enums, an entity's events and
//! commands, the step enum) are added to your module, each documented, so a
//! `#![deny(missing_docs)]` crate still compiles.
//!
//! ## `#[derive(Aggregate)]`
//!
//! Derives [`Aggregate`](trait@crate::Aggregate) for the struct holding an aggregate's state, and generates
//! its event and command enums.
//!
//! The struct must have named fields, or none (a unit struct), must implement `Default` (the
//! state before the first event) and cannot be generic. For each type `C` listed in
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
//! ### `#[aggregate(...)]` keys
//!
//! | key | required | meaning |
//! |---|---|---|
//! | `id = Type` | yes | [`Aggregate::Id`](crate::Aggregate::Id), the identity of one instance (`Display + Clone + ...`). |
//! | `events(A, B, ...)` | yes, non-empty | The event types, each a [`DomainEvent`](trait@crate::DomainEvent), each at most once. |
//! | `commands(C, D, ...)` | yes, non-empty | The command types, each a [`Command`](trait@crate::Command) whose `aggregate` is this struct, each at most once. |
//! | `error = Type` | no | [`Aggregate::Error`](crate::Aggregate::Error), the domain error of a rejected command. Default `::core::convert::Infallible`. |
//! | `services = Type` | no | [`Aggregate::Services`](crate::Aggregate::Services), handed to every handler. Default `()`. |
//! | `name = "..."` | no | [`Aggregate::AGGREGATE_TYPE`](crate::Aggregate::AGGREGATE_TYPE), the stored type name that prefixes stream ids. Default: the struct's name. Changing it orphans stored streams. |
//! | `event_enum = Ident` | no | The name of the generated event enum. Default `{Struct}Event`. |
//! | `command_enum = Ident` | no | The name of the generated command enum. Default `{Struct}Command`. |
//! | `crate = path` | no | Where the runtime crate is, when it is not `::aggregato` (e.g. after `extern crate aggregato as renamed;`). |
//!
//! A `Type` is any type, written as in Rust code: `services = Arc<dyn Clock + Send + Sync>`,
//! `error = Rejected<(u8, String)>`, `id = my::Id<'static>`. The same holds for every key of
//! every derive here that takes a type.
//!
//! ### What it generates
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
//!
//! ## `#[derive(DomainEvent)]`
//!
//! Derives [`DomainEvent`](trait@crate::DomainEvent): a stable stored name and a schema version for one event
//! type.
//!
//! Works on any struct or enum; the type must also be serde `Serialize` and `Deserialize`,
//! `Clone`, `Debug`, `Send`, `Sync` and `'static`. On a generic type the impl holds for the
//! type arguments that meet those bounds.
//!
//! ```
//! use aggregato::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
//! #[event(name = "MoneyDeposited", version = 2)]
//! pub struct Deposited {
//!     pub amount: u64,
//! }
//!
//! assert_eq!(Deposited::EVENT_TYPE, "MoneyDeposited");
//! assert_eq!(Deposited::EVENT_VERSION, 2);
//! ```
//!
//! ### `#[event(...)]` keys, all optional
//!
//! | key | meaning |
//! |---|---|
//! | `name = "..."` | [`DomainEvent::EVENT_TYPE`](crate::DomainEvent::EVENT_TYPE), stored with every event. Default: the type's name. Keep it when renaming the type. Must not be empty. |
//! | `version = N` | [`DomainEvent::EVENT_VERSION`](crate::DomainEvent::EVENT_VERSION), the payload's schema version. Default 1; must be at least 1. |
//! | `upcast_from = Type` | The previous schema of this event: a `DomainEvent` with the same `name` and a lower `version`, with `impl From<Type> for ThisEvent`. Payloads stored at older versions decode as `Type` (and, through its own `upcast_from`, older still) and are converted up. Needs `version` of 2 or more; not on generic types. |
//! | `crate = path` | Where the runtime crate is, when it is not `::aggregato`. |
//!
//! ### Changing an event's schema
//!
//! Stored events are never rewritten. Keep the old shape as its own type and point the new
//! one at it:
//!
//! ```
//! use aggregato::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! /// The first schema, kept to read old payloads.
//! #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
//! #[event(name = "MoneyDeposited", version = 1)]
//! pub struct MoneyDepositedV1 {
//!     pub amount: u64,
//! }
//!
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
//! #[event(name = "MoneyDeposited", version = 2, upcast_from = MoneyDepositedV1)]
//! pub struct MoneyDeposited {
//!     pub amount: u64,
//!     pub currency: String,
//! }
//!
//! impl From<MoneyDepositedV1> for MoneyDeposited {
//!     fn from(old: MoneyDepositedV1) -> Self {
//!         Self { amount: old.amount, currency: "EUR".to_owned() }
//!     }
//! }
//!
//! let stored_at_v1 = serde_json::json!({ "amount": 5 });
//! let event = MoneyDeposited::decode_stored(1, &stored_at_v1)?;
//! assert_eq!(event, MoneyDeposited { amount: 5, currency: "EUR".to_owned() });
//! # Ok::<(), aggregato::DecodeError>(())
//! ```
//!
//! ## `#[derive(Command)]`
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
//! ### `#[command(...)]` keys
//!
//! | key | required | meaning |
//! |---|---|---|
//! | `aggregate = Type` | yes, or `entity` | [`Command::Aggregate`](crate::Command::Aggregate), the aggregate that handles the command. |
//! | `entity = Type` | instead of `aggregate` | For a command added to a `#[derive(Entity)]` struct: `Command::Aggregate` is [`EntityState<Type>`](crate::EntityState). |
//! | `name = "..."` | no | [`Command::COMMAND_TYPE`](crate::Command::COMMAND_TYPE), the command's name for logs and traces. Default: the type's name. Must not be empty. |
//! | `crate = path` | no | Where the runtime crate is, when it is not `::aggregato`. |
//!
//! ## `#[derive(Entity)]`
//!
//! Derives the whole event-sourced lifecycle of a CRUD entity from its fields: the events
//! `{Struct}Created`, `{Struct}Updated` and `{Struct}Deleted`, the commands `Create{Struct}`,
//! `Update{Struct}` and `Delete{Struct}`, the enums `{Struct}Event` and `{Struct}Command`, and
//! [`Entity`](trait@crate::Entity), which makes [`EntityState<Struct>`](crate::EntityState) an
//! [`Aggregate`](trait@crate::Aggregate).
//!
//! The struct must have named fields, one of them `#[entity(id)]`, and cannot be generic.
//!
//! ```
//! use aggregato::prelude::*;
//!
//! #[derive(Debug, thiserror::Error, PartialEq)]
//! pub enum CatalogueError {
//!     #[error("a price must be positive")]
//!     FreeProduct,
//! }
//!
//! fn positive(price_cents: &u64) -> Result<(), CatalogueError> {
//!     if *price_cents == 0 { Err(CatalogueError::FreeProduct) } else { Ok(()) }
//! }
//!
//! #[derive(Debug, Clone, PartialEq, Entity)]
//! #[entity(error = CatalogueError)]
//! pub struct Product {
//!     #[entity(id)]
//!     pub id: String,
//!     pub name: String,
//!     #[entity(validate = positive)]
//!     pub price_cents: u64,
//!     #[entity(readonly)]
//!     pub sku: String,
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let created = ProductCreated {
//!     id: "p1".into(),
//!     name: "Mug".into(),
//!     price_cents: 900,
//!     sku: "MUG-1".into(),
//! };
//! // An update records only the fields that change.
//! AggregateFixture::<EntityState<Product>>::new()
//!     .given([created.clone()])
//!     .when(UpdateProduct { name: Some("Mug".into()), price_cents: Some(1200) })
//!     .then_events([ProductUpdated { name: None, price_cents: Some(1200) }])
//!     .await;
//! // Validation rejects before anything is recorded.
//! AggregateFixture::<EntityState<Product>>::new()
//!     .given([created])
//!     .when(UpdateProduct { price_cents: Some(0), ..Default::default() })
//!     .then_error(EntityError::Rejected(CatalogueError::FreeProduct))
//!     .await;
//! # });
//! ```
//!
//! ### The generated handler
//!
//! | command | absent | live | deleted |
//! |---|---|---|---|
//! | `Create{Struct}` | `{Struct}Created` | [`EntityError::AlreadyExists`](crate::EntityError::AlreadyExists) | [`EntityError::Deleted`](crate::EntityError::Deleted) |
//! | `Update{Struct}` | `EntityError::NotFound` | `{Struct}Updated` with the changed fields, or nothing if none changes | `EntityError::Deleted` |
//! | `Delete{Struct}` | `EntityError::NotFound` | `{Struct}Deleted` | `EntityError::Deleted` |
//!
//! Before a create or update is accepted, each field validator checks each value the command
//! carries, then the struct validator checks the entity as it would be after the command;
//! the first error rejects the command as
//! [`EntityError::Rejected(error)`](crate::EntityError::Rejected) and nothing is
//! recorded. Updated fields are compared with `!=`, so their types must be `PartialEq`.
//!
//! The handler cannot see the id a command is executed on, so a create records the id its
//! command carries: execute `Create{Struct}` on that same id. The repository refuses a create
//! executed on another id with [`RepositoryError::WrongInstance`](crate::RepositoryError::WrongInstance) and
//! stores nothing, since the generated [`Entity::event_instance`](crate::Entity::event_instance) names the id of each `{Struct}Created`.
//!
//! ### `#[entity(...)]` on the struct, all optional
//!
//! | key | meaning |
//! |---|---|
//! | `name = "..."` | The stored entity type ([`Aggregate::AGGREGATE_TYPE`](crate::Aggregate::AGGREGATE_TYPE), the stream id prefix) and the prefix of the stored event names: `name = "Catalog.Product"` stores `Catalog.ProductCreated`, ... Default: the struct's name. Changing it orphans stored streams. |
//! | `version = N` | The schema version of the three generated events. Default 1. Generated events have no `upcast_from`: events stored at another version do not load. |
//! | `error = Type` | The error of validators and of the handlers of added commands, carried by `EntityError::Rejected`. Default `Infallible`; required with `validate`. |
//! | `services = Type` | What the handlers of added commands receive. Default `()`. |
//! | `validate = path` | `fn(&Struct) -> Result<(), Error>`, run on the would-be entity of each create and update. An update needs `Struct: Clone` for it. |
//! | `events(A, ...)` | Event types you add; each needs `impl Apply<A> for EntityState<Struct>`. |
//! | `commands(C, ...)` | Command types you add (`#[command(entity = Struct)]`); each needs `impl Handle<C> for EntityState<Struct>`. |
//! | `event_enum = Ident` | The name of the generated event enum. Default `{Struct}Event`. |
//! | `command_enum = Ident` | The name of the generated command enum. Default `{Struct}Command`. |
//! | `crate = path` | Where the runtime crate is, when it is not `::aggregato`. |
//!
//! ### `#[entity(...)]` on a field
//!
//! | key | meaning |
//! |---|---|
//! | `id` | The identity ([`Aggregate::Id`](crate::Aggregate::Id) is its type). Exactly one field. Set at creation, never updated. |
//! | `readonly` | Set at creation, absent from the update patch. |
//! | `skip` | Not stored in any event; starts at its type's `Default` when the entity is created. |
//! | `validate = path` | `fn(&FieldType) -> Result<(), Error>`, run on every value a command carries for the field. |
//!
//! ## `#[derive(Saga)]`
//!
//! Derives [`Saga`](crate::saga::Saga) for the struct holding a saga's data: its stored name and
//! the services its steps receive.
//!
//! The struct must have named fields (or none), must not be generic, and must be serde
//! `Serialize` and `Deserialize`: the executor records the data after every step. Declare the
//! steps with [`#[saga_steps]`](macro@crate::saga_steps) on the struct's `impl` block.
//!
//! ```
//! use aggregato::prelude::*;
//! use aggregato::saga::{Saga, StepKey, StepResult};
//! use serde::{Deserialize, Serialize};
//!
//! pub struct Mailer;
//!
//! #[derive(Debug, Serialize, Deserialize, Saga)]
//! #[saga(name = "Welcome", services = Mailer)]
//! pub struct WelcomeCustomer {
//!     email: String,
//!     sent: bool,
//! }
//!
//! #[saga_steps]
//! impl WelcomeCustomer {
//!     #[step(no_compensation)]
//!     async fn send_mail(&mut self, _mailer: &Mailer, _key: StepKey) -> StepResult {
//!         self.sent = true;
//!         Ok(())
//!     }
//! }
//!
//! assert_eq!(WelcomeCustomer::SAGA_TYPE, "Welcome");
//! ```
//!
//! ### `#[saga(...)]` keys, all optional
//!
//! | key | meaning |
//! |---|---|
//! | `name = "..."` | [`Saga::SAGA_TYPE`](crate::saga::Saga::SAGA_TYPE), the stored name: the prefix of each instance's stream and the aggregate type of its events. Default: the struct's name. Keep it when renaming the struct. Must not be empty. |
//! | `services = Type` | [`Saga::Services`](crate::saga::Saga::Services), what the steps receive (`Send + Sync + 'static`). Default `()`. |
//! | `crate = path` | Where the runtime crate is, when it is not `::aggregato`. |
//!
//! ## `#[saga_steps]` and `#[step(...)]`
//!
//! Declares a saga's steps: implements [`SagaSteps`](crate::saga::SagaSteps) from the `#[step(...)]`
//! methods of the saga's `impl` block, and generates the step enum `{Saga}Step`.
//!
//! Goes on an inherent, non-generic `impl` block of a [`#[derive(Saga)]`](derive@crate::Saga) struct. The methods marked
//! `#[step(...)]` are the steps, in declaration order; the others (compensations, helpers)
//! are left as they are. Every step and compensation is
//!
//! ```text
//! async fn name(&mut self, services: &Services, key: StepKey) -> Result<(), E>
//! ```
//!
//! where `Services` is the saga's `services = ..` (`()` by default), `E` is any
//! `Display` error ([`StepResult`](crate::saga::StepResult) is `Result<(), `[`StepError`](crate::saga::StepError)`>`),
//! and `key` is the step's idempotency key, a [`StepKey`](crate::saga::StepKey): `"{SAGA_TYPE}/{saga id}/{step}"` (with `/compensate` for a
//! compensation). All three parameters are required; name an unused one `_services` or `_key`.
//!
//! ```
//! use aggregato::prelude::*;
//! use aggregato::saga::{SagaSteps, StepKey, StepKind, StepResult};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Serialize, Deserialize, Saga)]
//! pub struct PlaceOrder {
//!     reserved: bool,
//!     paid: bool,
//! }
//!
//! #[saga_steps]
//! impl PlaceOrder {
//!     #[step(compensate = release_stock, timeout_ms = 5000)]
//!     async fn reserve_stock(&mut self, _: &(), _key: StepKey) -> StepResult {
//!         self.reserved = true;
//!         Ok(())
//!     }
//!
//!     #[step(compensate = refund)]
//!     async fn charge_card(&mut self, _: &(), _key: StepKey) -> Result<(), String> {
//!         self.paid = true;
//!         Ok(())
//!     }
//!
//!     #[step(pivot)]
//!     async fn ship(&mut self, _: &(), _key: StepKey) -> StepResult {
//!         Ok(())
//!     }
//!
//!     #[step(no_compensation)]
//!     async fn notify(&mut self, _: &(), _key: StepKey) -> StepResult {
//!         Ok(())
//!     }
//!
//!     async fn release_stock(&mut self, _: &(), _key: StepKey) -> StepResult {
//!         self.reserved = false;
//!         Ok(())
//!     }
//!
//!     async fn refund(&mut self, _: &(), _key: StepKey) -> StepResult {
//!         self.paid = false;
//!         Ok(())
//!     }
//! }
//!
//! assert_eq!(PlaceOrder::STEPS[0].name, "reserve_stock");
//! assert_eq!(
//!     PlaceOrder::STEPS[1].kind,
//!     StepKind::Compensable { compensation: "refund" }
//! );
//! assert_eq!(PlaceOrderStep::Ship.index(), 2);
//! assert_eq!(PlaceOrderStep::ALL.len(), PlaceOrder::STEPS.len());
//! ```
//!
//! ### `#[step(...)]` options
//!
//! Each step says how it is undone, with exactly one of:
//!
//! | option | meaning |
//! |---|---|
//! | `compensate = method` | If a later step fails (before the pivot), `method`, a method of the same block that is not a step, undoes this one. |
//! | `pivot` | The point of no return, at most one per saga. If it fails, the steps before it are compensated; once it has completed, the steps after it are retried until they succeed, never compensated, so they cannot name a compensation either. |
//! | `no_compensation` | Nothing to undo (a read, a notification). |
//!
//! and optionally `timeout_ms = N`: a run of the step (or its compensation) that takes longer
//! than `N` milliseconds is interrupted. Without it, the executor's default applies. A step
//! interrupted so has an unknown outcome (its participant may have done the work), recorded
//! as [`StepTimedOut`](crate::saga::SagaEvent::StepTimedOut): before the pivot it is compensated along with the completed steps, so
//! its compensation must succeed when there is nothing to undo; a `pivot` is run again with
//! the same `StepKey` until it answers, and the saga ends failed (not compensated) if it never
//! does within the forward [`RetryPolicy`](crate::RetryPolicy) of the
//! [`SagaExecutor`](crate::saga::SagaExecutor). A compensation interrupted so is a failed attempt,
//! retried.
//!
//! ### `#[saga_steps(...)]` arguments, all optional
//!
//! | argument | meaning |
//! |---|---|
//! | `step_enum = Ident` | The name of the generated step enum. Default `{Saga}Step`. |
//! | `crate = path` | Where the runtime crate is, when it is not `::aggregato`. |
//!
//! ### What it generates
//!
//! - The `impl` block, without the `#[step(...)]` attributes.
//! - `impl SagaSteps`: [`STEPS`](crate::saga::SagaSteps::STEPS) (each step's name, [kind](crate::saga::StepKind) and timeout, in
//!   order) and the dispatch of `run_step` and `compensate_step` to the methods.
//! - `pub enum {Saga}Step`, one variant per step in `PascalCase` (`reserve_stock` becomes
//!   `ReserveStock`), with `ALL`, `name()`, `index()` and `from_name()`, for referring to
//!   steps by type in tests and observers.

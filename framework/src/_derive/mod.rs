//! Every derive of aggregato, its attribute keys, and what it generates: the reference for
//! `#[derive(Aggregate)]`, `#[derive(DomainEvent)]`, `#[derive(Command)]`, `#[derive(Entity)]`,
//! `#[derive(Projection)]`, `#[derive(Saga)]` and `#[saga_steps]`, as clap keeps its derive reference in `clap::_derive`.
//!
//! These modules hold no items: they are documentation only, one per derive. The derives themselves are re-exported
//! at the crate root and in the [prelude](crate::prelude) under the default `derive` feature, so
//! `use aggregato::prelude::*;` is all a domain module writes.
//!
//! - [`#[derive(Aggregate)]`](aggregate)
//! - [`#[derive(DomainEvent)]`](event)
//! - [`#[derive(Command)]`](command)
//! - [`#[derive(Entity)]`](entity)
//! - [`#[derive(Projection)]`](projection)
//! - [`#[derive(Saga)]`](saga)
//! - [`#[saga_steps]` and `#[step(...)]`](saga_steps)
//!
//! ## Conventions every derive shares
//!
//! A key means the same thing, with the same value syntax, wherever it appears:
//!
//! | key | value | in | meaning |
//! |---|---|---|---|
//! | `name = "..."` | a string, not empty | every derive | The stored (or logged) name, kept when the type is renamed. Default: the type's name. A name that prefixes stream ids (aggregates, entities, sagas) contains no `-`. |
//! | `version = N` | an integer, at least 1 | `event`, `entity`, `projection` | The schema version of the stored payload (of a projection: its version, rebuilt beside the running one when raised). Default 1. |
//! | `id = Type`, `error = Type`, `services = Type`, `transaction = Type`, `aggregate = Type`, `entity = Type`, `upcast_from = Type` | a type, unquoted | where listed below | Any type, written as in Rust code: `services = Arc<dyn Clock + Send + Sync>`, `error = Rejected<(u8, String)>`, `id = my::Id<'static>`. A quoted type (`services = "Arc<Clock>"`) is read too. |
//! | `events(A, ...)`, `commands(C, ...)` | a list of type paths | `aggregate`, `entity`, `projection` (events) | The event and command types, each at most once. |
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

pub mod aggregate;
pub mod command;
pub mod entity;
pub mod event;
pub mod projection;
pub mod saga;
pub mod saga_steps;

//! `#[derive(Entity)]`: its keys and what it generates.
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
//! ## The generated handler
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
//! ## `#[entity(...)]` on the struct, all optional
//!
//! | key | meaning |
//! |---|---|
//! | `name = "..."` | The stored entity type ([`Aggregate::AGGREGATE_TYPE`](crate::Aggregate::AGGREGATE_TYPE), the stream id prefix) and the prefix of the stored event names: `name = "Catalog.Product"` stores `Catalog.ProductCreated`, ... Default: the struct's name. Changing it orphans stored streams. |
//! | `version = N` | The schema version of the three generated events. Default 1. Events stored at an older version load only through `upcast(...)` (a Deleted event, which carries nothing, loads at any version up to `N`). |
//! | `upcast(created = CreatedV1, updated = UpdatedV1)` | The event types, written by you with `#[derive(DomainEvent)]` and the generated event's stored name at their older version, that the generated Created and Updated events were stored as before `version` was raised; each converts into the generated event with `From`, as [`upcast_from`](macro@crate::DomainEvent) does for a hand-written event. Either may be left out. |
//! | `error = Type` | The error of validators and of the handlers of added commands, carried by `EntityError::Rejected`. Default `Infallible`; required with `validate`. |
//! | `services = Type` | What the handlers of added commands receive. Default `()`. |
//! | `validate = path` | `fn(&Struct) -> Result<(), Error>`, run on the would-be entity of each create and update. An update needs `Struct: Clone` for it. |
//! | `events(A, ...)` | Event types you add; each needs `impl Apply<A> for EntityState<Struct>`. |
//! | `commands(C, ...)` | Command types you add (`#[command(entity = Struct)]`); each needs `impl Handle<C> for EntityState<Struct>`. |
//! | `event_enum = Ident` | The name of the generated event enum. Default `{Struct}Event`. |
//! | `command_enum = Ident` | The name of the generated command enum. Default `{Struct}Command`. |
//! | `crate = path` | Where the runtime crate is, when it is not `::aggregato`. |
//!
//! ## `#[entity(...)]` on a field
//!
//! | key | meaning |
//! |---|---|
//! | `id` | The identity ([`Aggregate::Id`](crate::Aggregate::Id) is its type). Exactly one field. Set at creation, never updated. |
//! | `readonly` | Set at creation, absent from the update patch. |
//! | `skip` | Not stored in any event; starts at its type's `Default` when the entity is created. |
//! | `validate = path` | `fn(&FieldType) -> Result<(), Error>`, run on every value a command carries for the field. |

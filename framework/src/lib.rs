//! Event-sourced domain models for Rust, without the boilerplate.
//!
//! You write plain structs for your events, commands and aggregate state, and one handler or
//! apply function per type. `#[derive(Aggregate)]` writes the event and command enums, their
//! serde encoding under stable names, and the dispatch of every command to its handler and
//! every event to its apply. The runtime stores the events, rebuilds aggregates from them and
//! appends new ones under optimistic concurrency, retrying when another writer got there first.
//!
//! `use aggregato::prelude::*;` brings in the derives and everything a domain module usually
//! names.
//!
//! # A tour
//!
//! ## An aggregate, tested and run
//!
//! Events are serde structs with a stored name and schema version (by default the type's name
//! and 1). Commands name the aggregate they target. The aggregate lists both; the derive
//! generates `CounterEvent` and `CounterCommand` (a variant per listed type, with `From`
//! impls) and the [`Aggregate`] impl. A handler *decides* (read-only, returns events or a
//! domain error, may be async and use injected services); an apply *evolves* the state, and is
//! the only place it changes.
//!
//! ```
//! use aggregato::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
//! pub struct Incremented { pub by: u32 }
//!
//! #[derive(Debug, Clone, Command)]
//! #[command(aggregate = Counter)]
//! pub struct Increment { pub by: u32 }
//!
//! #[derive(Debug, PartialEq, thiserror::Error)]
//! #[error("the counter would pass its limit of {0}")]
//! pub struct Overflow(u32);
//!
//! /// Injected into the repository (or fixture), handed to every handler.
//! #[derive(Debug, Default)]
//! pub struct Limits { pub max: u32 }
//!
//! #[derive(Debug, Default, Aggregate)]
//! #[aggregate(id = String, error = Overflow, services = Limits,
//!             events(Incremented), commands(Increment))]
//! pub struct Counter { pub total: u32 }
//!
//! impl Handle<Increment> for Counter {
//!     async fn handle(&self, command: Increment, limits: &Limits)
//!         -> Result<Vec<CounterEvent>, Overflow>
//!     {
//!         if self.total + command.by > limits.max {
//!             return Err(Overflow(limits.max));
//!         }
//!         Ok(vec![Incremented { by: command.by }.into()])
//!     }
//! }
//!
//! impl Apply<Incremented> for Counter {
//!     fn apply(&mut self, event: &Incremented) { self.total += event.by; }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Given/when/then, no store involved:
//! AggregateFixture::<Counter>::new_with_services(Limits { max: 10 })
//!     .given([Incremented { by: 8 }])
//!     .when(Increment { by: 5 })
//!     .then_error(Overflow(10))
//!     .await;
//!
//! // A repository loads, decides, appends expecting the loaded version, retries on conflict.
//! let store = InMemoryEventStore::new();
//! let counters = Repository::<Counter, _>::new_with_services(store, Limits { max: 10 });
//! let id = "visits".to_owned();
//! counters.execute(&id, Increment { by: 3 }).await?;
//! let committed = counters
//!     .execute_with_metadata(&id, Increment { by: 4 }, Metadata::new().with_actor("alice"))
//!     .await?;
//! assert_eq!(committed[0].version, 2);
//! assert_eq!(committed[0].metadata.actor.as_deref(), Some("alice"));
//! assert_eq!(counters.load(&id).await?.state().total, 7);
//! # Ok(())
//! # }
//! ```
//!
//! A missing handler or apply, a type listed twice, a command aimed at another aggregate: each
//! is a compile error at the line you wrote, saying what to do. Every derive documents its
//! attributes: [`Aggregate`](macro@Aggregate), [`DomainEvent`](macro@DomainEvent)
//! (including `upcast_from`, which loads events stored under an older schema),
//! [`Command`](macro@Command), [`Entity`](macro@Entity), [`Projection`](macro@Projection),
//! [`Saga`](macro@Saga) and [`saga_steps`].
//!
//! ## Where things are
//!
//! | module | for |
//! |---|---|
//! | [`aggregate`] | the [`Aggregate`] trait and the per-type [`Handle`] and [`Apply`] the derive dispatches to |
//! | [`event`], [`command`] | [`DomainEvent`], the aggregate's [`EventSet`], the stored [`EventEnvelope`] and its [`Metadata`]; [`Command`] |
//! | [`entity`] | CRUD entities: `#[derive(Entity)]` generates the Created/Updated/Deleted events and commands of a struct; the aggregate is [`EntityState`] |
//! | [`repository`] | [`Repository`]: load, decide, append, retry ([`RetryPolicy`]), snapshots, a state cache |
//! | [`root`] | [`AggregateRoot`]: one loaded instance, for load-decide-save by hand |
//! | [`store`] | the [`EventStore`] trait and the stores; snapshot storage; what a store implementer needs |
//! | [`subscription`] | [`Subscription`]: read the global log from a checkpoint, then follow it |
//! | [`saga`] | sagas: ordered steps with compensations, run durably by a [`saga::SagaExecutor`] |
//! | `privacy` | personal data (feature `privacy`): field encryption with a key per subject, crypto-shredding, key stores |
//! | [`testing`] | [`testing::AggregateFixture`] for given/when/then tests; the store conformance suite (feature `testing`) |
//!
//! ## Stores
//!
//! [`EventStore`] is an object-safe async trait: an atomic batch `append` with an
//! [`ExpectedVersion`], `read_stream` from a version, `read_all` in global order. Every
//! built-in store keeps the same promises and passes the same conformance suite:
//!
//! - [`InMemoryEventStore`]: a real store, not durable; for tests, demos and benchmarks;
//! - `SqliteEventStore` (feature `sqlite`): embedded and durable, one file;
//! - `PostgresEventStore` (feature `postgres`): the production store.
//!
//! A store keeps exactly what it is given or refuses it whole ([`StoreError::Refused`]), and
//! stored data that does not read back is a [`StoreError::Corrupt`] naming the stream and
//! version, never a panic. The [`store`] module has the details, and the types only a store
//! implementer or an error handler names ([`store::ReplayEvent`], [`store::CorruptionReason`],
//! ...).
//!
//! ## Snapshots and the state cache
//!
//! A repository is made with [`Repository::new`] (or [`Repository::new_with_services`]) and
//! configured with `with_*` setters. [`Repository::with_snapshots_every`] keeps a
//! [`store::Snapshot`] of an aggregate's state every N events and loads the newest one plus
//! the events after it; [`Repository::with_state_cache`] keeps the states recently used
//! aggregates were left in, so a command on one is a single append. Neither can make a
//! command decide on a stale state: the store's version check has the last word.
//!
//! ```
//! # use aggregato::prelude::*;
//! # use serde::{Deserialize, Serialize};
//! # #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
//! # pub struct Added { pub n: u64 }
//! # #[derive(Debug, Clone, Command)]
//! # #[command(aggregate = Tally)]
//! # pub struct Add { pub n: u64 }
//! // Snapshots need a serde state.
//! #[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
//! #[aggregate(id = String, events(Added), commands(Add))]
//! pub struct Tally { total: u64 }
//! # impl Handle<Add> for Tally {
//! #     async fn handle(&self, c: Add, _: &()) -> Result<Vec<TallyEvent>, std::convert::Infallible> {
//! #         Ok(vec![Added { n: c.n }.into()])
//! #     }
//! # }
//! # impl Apply<Added> for Tally { fn apply(&mut self, e: &Added) { self.total += e.n; } }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tallies = Repository::<Tally, _>::new(InMemoryEventStore::new())
//!     .with_snapshots_every(100)
//!     .with_state_cache(10_000);
//! let id = "t1".to_owned();
//! for n in 0..250 {
//!     tallies.execute(&id, Add { n }).await?;
//! }
//! let snapshot = tallies.store().load_snapshot("Tally-t1").await?.expect("taken at 200");
//! assert_eq!(snapshot.version, 200);
//! assert_eq!(tallies.load(&id).await?.version(), 250); // snapshot 200, then events 201..=250
//! # Ok(())
//! # }
//! ```
//!
//! ## Sagas
//!
//! `#[derive(Saga)]` and `#[saga_steps]` turn a serde struct and an `impl` block of async steps
//! into a saga: steps run in order, each with its compensation, and a failure compensates the
//! completed steps in reverse order. A [`saga::SagaExecutor`] records every transition in the
//! saga's own stream, so a process that dies mid-saga resumes it on restart. See [`saga`].
//!
//! ## Projections
//!
//! `#[derive(Projection)]` turns a struct with one [`Project<E>`](Project) impl per event type
//! into a read model, and a [`ProjectionRunner`] feeds it from the log: it claims the
//! projection (one active runner across processes), catches up from its checkpoint, follows
//! the log live, and commits each batch with its checkpoint in one transaction on the SQL
//! checkpoint stores (exactly once), with fenced writes, retries, a failed state or dead
//! letters, rebuilds with progress, and blue/green versions. See [`projection`].
//!
//! # Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `derive` | yes | the derive macros (re-exported from `aggregato-macros`) |
//! | `sqlite` | no | `SqliteEventStore` and `SqliteCheckpoints` (projections), through sqlx (Rust 1.94 or later) |
//! | `postgres` | no | `PostgresEventStore` and `PostgresCheckpoints` (projections), through sqlx (Rust 1.94 or later) |
//! | `nats` | no | `outbox::nats`: the outbox publisher's broker on NATS JetStream (`NatsBroker`), and decoding on the consuming side, through async-nats (Rust 1.89 or later) |
//! | `rabbitmq` | no | `outbox::rabbitmq`: the outbox publisher's RabbitMQ broker (publisher confirms, mandatory routing) and a consumer loop through an inbox, on lapin |
//! | `kafka` | no | `outbox::kafka`: the outbox publisher's Kafka broker (`KafkaBroker`: idempotent producer, `acks=all`, key = stream id) and a consumer loop through an inbox that commits offsets after it, on rdkafka (builds the bundled librdkafka: needs a C compiler and `make`) |
//! | `privacy` | no | `privacy`: field encryption for personal data (AES-256-GCM, a key per data subject under a master key), crypto-shredding with `forget`, key stores in memory, SQLite and PostgreSQL (with those features) |
//! | `testing` | no | the event-store conformance suite (`aggregato::testing::conformance`) and the checkpoint-store suite (`aggregato::testing::checkpoints`) |
//!
//! The default build needs no database and no network.
#![forbid(unsafe_code)]

pub mod aggregate;
pub mod command;
pub mod entity;
pub mod event;
pub mod outbox;
#[cfg(feature = "privacy")]
pub mod privacy;
pub mod projection;
pub mod repository;
pub mod retry;
pub mod root;
pub mod saga;
pub mod store;
pub mod subscription;
pub mod testing;
mod trace;

#[cfg(feature = "derive")]
pub mod _derive;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

#[doc(hidden)]
pub mod checks;

pub use aggregate::{Aggregate, AggregateId, Apply, Handle};
pub use command::Command;
pub use entity::{Entity, EntityError, EntityState};
pub use event::{
    DecodeError, DomainEvent, EventEnvelope, EventSet, Metadata, NewEvent, RecordedEvent,
};
pub use projection::{Project, Projection, ProjectionRunner};
pub use repository::{Repository, RepositoryError, RepositoryResult};
pub use retry::RetryPolicy;
pub use root::AggregateRoot;
#[cfg(feature = "postgres")]
pub use store::PostgresEventStore;
#[cfg(feature = "sqlite")]
pub use store::SqliteEventStore;
pub use store::{EventFilter, EventStore, ExpectedVersion, InMemoryEventStore, StoreError};
pub use subscription::Subscription;

/// The derive macros. See [`_derive`] for their reference, and the crate docs for a tour.
#[cfg(feature = "derive")]
pub use aggregato_macros::{
    Aggregate, Command, DomainEvent, Entity, Projection, Saga, saga_steps, step,
};

/// Everything a domain module usually needs: `use aggregato::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "derive")]
    pub use aggregato_macros::{
        Aggregate, Command, DomainEvent, Entity, Projection, Saga, saga_steps, step,
    };

    pub use crate::aggregate::{Aggregate, Apply, Handle};
    pub use crate::command::Command;
    pub use crate::entity::{EntityError, EntityState};
    pub use crate::event::{DomainEvent, EventEnvelope, EventSet, Metadata};
    pub use crate::projection::{Project, Projection, ProjectionRunner};
    pub use crate::repository::{Repository, RepositoryError};
    pub use crate::retry::RetryPolicy;
    pub use crate::root::AggregateRoot;
    pub use crate::store::{
        EventFilter, EventStore, ExpectedVersion, InMemoryEventStore, SnapshotStore, StoreError,
    };
    pub use crate::subscription::Subscription;
    pub use crate::testing::AggregateFixture;
}

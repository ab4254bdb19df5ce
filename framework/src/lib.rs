#![doc = include_str!("../../README.md")]
#![forbid(unsafe_code)]

pub mod aggregate;
pub mod command;
pub mod entity;
pub mod event;
pub mod repository;
pub mod retry;
pub mod root;
pub mod saga;
pub mod store;
pub mod subscription;
pub mod testing;

#[cfg(feature = "derive")]
pub mod _derive;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use aggregate::{Aggregate, AggregateId, Apply, Handle};
pub use command::Command;
pub use entity::{Entity, EntityError, EntityState};
pub use event::{DecodeError, DomainEvent, EventEnvelope, EventSet, Metadata, NewEvent};
pub use repository::{Repository, RepositoryError, RepositoryResult};
pub use retry::RetryPolicy;
pub use root::AggregateRoot;
#[cfg(feature = "postgres")]
pub use store::PostgresEventStore;
#[cfg(feature = "sqlite")]
pub use store::SqliteEventStore;
pub use store::{
    CorruptionReason, EventStore, ExpectedVersion, InMemoryEventStore, RefusalReason, ReplayEvent,
    ReplayVisitor, Snapshot, SnapshotStore, StoreError, StoredPayload,
};
pub use subscription::Subscription;

/// The derive macros. See [`_derive`] for their reference, and the crate docs for a tour.
#[cfg(feature = "derive")]
pub use aggregato_macros::{Aggregate, Command, DomainEvent, Entity, Saga, saga_steps};

/// Everything a domain module usually needs: `use aggregato::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "derive")]
    pub use aggregato_macros::{Aggregate, Command, DomainEvent, Entity, Saga, saga_steps};

    pub use crate::aggregate::{Aggregate, Apply, Handle};
    pub use crate::command::Command;
    pub use crate::entity::{EntityError, EntityState};
    pub use crate::event::{DomainEvent, EventEnvelope, EventSet, Metadata};
    pub use crate::repository::{Repository, RepositoryError};
    pub use crate::retry::RetryPolicy;
    pub use crate::root::AggregateRoot;
    pub use crate::store::{
        EventStore, ExpectedVersion, InMemoryEventStore, SnapshotStore, StoreError,
    };
    pub use crate::subscription::Subscription;
    pub use crate::testing::AggregateFixture;
}

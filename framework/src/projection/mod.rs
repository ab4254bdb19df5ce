//! Projections: read models built from the event log, with checkpoints that make them exact.
//!
//! A projection is a user type that handles typed events of one or more aggregates, one
//! [`Project<E>`] impl per event type. `#[derive(Projection)]` lists the event types and
//! generates the [`Projection`] impl: the event enum it decodes into, the filter the store
//! applies in its query, and the dispatch to the handlers. A listed event without a handler is
//! a compile error at the listed type.
//!
//! A [`ProjectionRunner`] feeds it: it claims the projection (one active runner per projection
//! across processes), catches up from the stored checkpoint, then follows the log live. Each
//! batch of events is handled in one transaction of the [`CheckpointStore`], and the checkpoint
//! is written in that same transaction, fenced by the position it expects and the epoch of the
//! runner's claim, so a runner that lost its claim cannot commit.
//!
//! # Delivery guarantees
//!
//! - **Exactly once on SQL read models.** With `PostgresCheckpoints` or `SqliteCheckpoints`
//!   the handlers receive the transaction, and the read model's writes commit together with
//!   the checkpoint or not at all: after a crash at any point, the runner resumes where the
//!   last commit left off, and no event is applied twice or skipped.
//! - **At least once elsewhere.** A read model outside the checkpoint's database (memory,
//!   Redis, an HTTP service) cannot join that transaction: after a crash, the events of the
//!   batch that was in flight are handled again. Each handler gets the event's id
//!   ([`Context::event_id`]) to de-duplicate with.
//!
//! # Failures
//!
//! A handler that fails is retried with backoff ([`ProjectionRunner::with_retry`]). An event
//! that still fails either stops the projection in a failed state that names its position
//! ([`CheckpointStore::state`]), or, for a projection declared with `dead_letter`, is recorded
//! in the dead-letter table in the same transaction that moves the checkpoint past it. An
//! event is never skipped silently.

mod checkpoint;
mod context;
mod error;
mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
mod runner;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod sql;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::future::Future;

pub use checkpoint::{
    CheckpointStore, Claim, DeadLetter, Failure, ProjectionKey, ProjectionState, Status,
};
pub use context::Context;
pub use error::{BoxError, ProjectionError};
pub use memory::InMemoryCheckpoints;
#[cfg(feature = "postgres")]
pub use postgres::PostgresCheckpoints;
pub use runner::{
    DEFAULT_BATCH_SIZE, DEFAULT_LEASE, MIN_READ_SIZE, Progress, ProjectionRunner, RunOutcome,
};
#[cfg(any(feature = "postgres", feature = "sqlite"))]
pub use sql::CorruptCheckpoint;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteCheckpoints;

use crate::event::{DecodeError, EventSet};
use crate::store::{EventFilter, StoredEvent};

/// What a projection does with an event that keeps failing after its retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnFailure {
    /// Stop the projection in a failed state naming the event's position (the default). The
    /// next run starts with that event again.
    #[default]
    Stop,
    /// Record the event and its error in the dead-letter table, in the transaction that moves
    /// the checkpoint past it, and go on.
    DeadLetter,
}

/// A read model fed by the event log. Derive it with `#[derive(Projection)]`.
///
/// The derive lists the event types (`events(...)`), and optionally the aggregates they come
/// from (`aggregates(...)`), the transaction type the handlers receive (`transaction = ...`,
/// `()` by default), the error type (`error = ...`, [`BoxError`] by default), a name and
/// version for the checkpoint, the failure policy and the reset and activation hooks.
pub trait Projection: Send + 'static {
    /// The name its checkpoint is stored under; the type's name unless set.
    const NAME: &'static str;
    /// Its version. A new version builds beside the old one, with its own checkpoint, and
    /// takes over once it has caught up (see [`ProjectionRunner`]).
    const VERSION: u32;
    /// What it does with an event that keeps failing.
    const ON_FAILURE: OnFailure;
    /// Whether [`reset`](Self::reset) was given, so the projection can be rebuilt.
    const RESETTABLE: bool;

    /// The events it reads, decoded from the store: the derive's enum, one variant per listed
    /// type (any [`EventSet`]), or [`RawEvent`](crate::event::RawEvent) for a projection that
    /// passes events on undecoded (an outbox publisher).
    type Event: ProjectedEvent;
    /// What each handler receives to write through: `sqlx::PgConnection` for a PostgreSQL read
    /// model, `sqlx::SqliteConnection` for SQLite, `()` when the read model lives elsewhere.
    type Transaction: Send;
    /// The error its handlers return.
    type Error: Into<BoxError> + Send + 'static;

    /// The events it reads: its aggregate types and event types (with their former names).
    /// The store applies it in its query.
    fn filter() -> EventFilter;

    /// Hands `event` to the handler of its type.
    fn dispatch(
        &mut self,
        event: Self::Event,
        context: &mut Context<'_, Self::Transaction>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Finishes a batch: called once the batch's events were dispatched and before its
    /// checkpoint is written, in its transaction. A projection that buffers (an outbox
    /// publisher waiting for the broker's acknowledgements, a read model writing in bulk)
    /// completes its work here; an error fails the batch, which is retried from its first
    /// event. Nothing by default.
    fn flush(
        &mut self,
        transaction: &mut Self::Transaction,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        let _ = transaction;
        async { Ok(()) }
    }

    /// Whether `error` is permanent: trying the event again cannot help, so the projection
    /// gives up on it at once (stops, or dead-letters it) instead of retrying. `false` by
    /// default: every handler error is retried.
    fn is_permanent(error: &Self::Error) -> bool {
        let _ = error;
        false
    }

    /// Empties the read model before a rebuild, in the transaction that resets the checkpoint.
    /// The derive calls the method named by `reset = ...`; without it, a rebuild is refused.
    fn reset(
        &mut self,
        transaction: &mut Self::Transaction,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        let _ = transaction;
        async { Ok(()) }
    }

    /// Makes this version the one queries read (swaps a view, say), in the transaction that
    /// marks it active. The derive calls the method named by `activate = ...`; by default
    /// nothing is done, and queries ask [`CheckpointStore::active_version`].
    fn activate(
        &mut self,
        transaction: &mut Self::Transaction,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        let _ = transaction;
        async { Ok(()) }
    }
}

/// What a projection decodes each stored event into: any [`EventSet`] (the derive's event
/// enum), or [`RawEvent`](crate::event::RawEvent), the event as stored.
pub trait ProjectedEvent: Clone + Send + Sync + 'static {
    /// Decodes `event`'s payload.
    fn from_stored(event: &StoredEvent<'_>) -> Result<Self, DecodeError>;
}

impl<E: EventSet> ProjectedEvent for E {
    fn from_stored(event: &StoredEvent<'_>) -> Result<Self, DecodeError> {
        event.decode()
    }
}

impl ProjectedEvent for crate::event::RawEvent {
    fn from_stored(event: &StoredEvent<'_>) -> Result<Self, DecodeError> {
        Ok(Self::from_stored(
            event.event_type,
            event.event_version,
            event.payload,
        ))
    }
}

/// Handles one event type `E`: the per-type half of [`Projection::dispatch`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` lists the event `{E}` in `events(...)` but does not project it",
    label = "no `impl Project<{E}> for {Self}`",
    note = "add `impl aggregato::projection::Project<{E}> for {Self} {{ async fn project(&mut self, event: {E}, context: &mut aggregato::projection::Context<'_, Self::Transaction>) -> Result<(), Self::Error> {{ .. }} }}`, or remove `{E}` from `events(...)`"
)]
pub trait Project<E>: Projection {
    /// Updates the read model for `event`; `context` carries its envelope, whether it is
    /// replayed, and the transaction to write through.
    fn project(
        &mut self,
        event: E,
        context: &mut Context<'_, Self::Transaction>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

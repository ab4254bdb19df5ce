//! Event stores: append-only logs of streams with optimistic concurrency.
//!
//! [`EventStore`] is the one interface every backend implements; EventStoreDB's semantics are
//! the reference. [`InMemoryEventStore`] is the non-durable backend for tests and demos;
//! `sqlite::SqliteEventStore` (feature `sqlite`) and `postgres::PostgresEventStore` (feature
//! `postgres`) are the durable ones, through sqlx.
//! [`EventFilter`] narrows a read of the global log by aggregate type and event type, in the
//! store's own query.
//! The conformance suite (`aggregato::testing::conformance`, feature `testing`) checks any
//! backend against the same rules.

mod check;
mod filter;
mod memory;
mod replay;
pub mod snapshot;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
mod stored_event;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use crate::event::{DecodeError, EventEnvelope, NewEvent, RecordedEvent};

pub use crate::event::StoredPayload;
pub use check::MAX_JSON_DEPTH;
pub(crate) use check::{check_batch, check_snapshot, wrong_stream_type};
pub use filter::EventFilter;
/// An event and snapshot store in process memory: a real store, just not a durable one.
///
/// It keeps every promise of [`EventStore`] that the SQL stores keep, and passes the same
/// conformance suite:
///
/// - an append checks its [`ExpectedVersion`], and stores its batch whole or not at all;
/// - it is safe under concurrency: share it between tasks and threads (through an `Arc`, which
///   is a store too), and of appenders racing on one stream exactly one wins each version, the
///   others get [`StoreError::ConcurrencyConflict`];
/// - events get global positions in the order they commit, so a
///   [`Subscription`](crate::subscription::Subscription) reading the global log never skips
///   one, and is woken as soon as one is appended;
/// - re-appending an event id it holds returns the original record, and it refuses what it
///   could not give back as given ([`StoreError::Refused`]), as every store does;
/// - it keeps the newest [`Snapshot`] of each stream.
///
/// It is not durable: everything is gone when the store is dropped, and nothing is shared with
/// another process. For tests, demos and benchmarks; `SqliteEventStore`
/// (feature `sqlite`) is the embedded durable store.
pub use memory::InMemoryEventStore;
pub use replay::{ReplayEvent, ReplayVisitor};
pub use snapshot::{Snapshot, SnapshotStore};
#[cfg(feature = "postgres")]
pub use sql::postgres::{self, PostgresEventStore};
#[cfg(feature = "sqlite")]
pub use sql::sqlite::{self, SqliteEventStore};
pub use stored_event::{StoredEvent, StoredEventVisitor};

/// What the appender believes about the stream's current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpectedVersion {
    /// No check: append whatever the stream holds.
    Any,
    /// The stream must not exist yet (hold no event).
    NoStream,
    /// The stream must hold at least one event.
    StreamExists,
    /// The stream's last event must have exactly this version (`Exact(0)`: no event yet).
    Exact(u64),
}

impl ExpectedVersion {
    /// Whether a stream whose last version is `actual` (0 when empty) satisfies this.
    pub fn accepts(self, actual: u64) -> bool {
        match self {
            Self::Any => true,
            Self::NoStream => actual == 0,
            Self::StreamExists => actual > 0,
            Self::Exact(expected) => expected == actual,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any version"),
            Self::NoStream => f.write_str("no stream"),
            Self::StreamExists => f.write_str("an existing stream"),
            Self::Exact(version) => write!(f, "version {version}"),
        }
    }
}

/// Every way a store operation can fail.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The stream was not at the expected version: someone else appended first. Nothing of
    /// the batch was stored.
    #[error(
        "concurrency conflict on stream `{stream}`: expected {expected}, but it is at version {actual}"
    )]
    ConcurrencyConflict {
        /// The stream appended to.
        stream: String,
        /// What the appender expected.
        expected: ExpectedVersion,
        /// The stream's actual last version (0: no event).
        actual: u64,
    },
    /// A stored event could not be read back.
    #[error("corrupt event in stream `{stream}` at version {version}{}: {reason}", at_position(*position))]
    Corrupt {
        /// The stream holding it.
        stream: String,
        /// Its version in the stream.
        version: u64,
        /// Its global position, when the read that met it knows it (a read of the global log
        /// does; a stream replay may not). A [`Subscription`](crate::subscription::Subscription)
        /// can be moved past it with `skip_past`.
        position: Option<u64>,
        /// What is wrong with it.
        #[source]
        reason: CorruptionReason,
    },
    /// The store refused an event of the batch, because it could not be read back as it
    /// was given, or does not belong in the stream. Nothing of the batch was stored.
    #[error("event `{event_type}` ({event_id}) refused by stream `{stream}`: {reason}")]
    Refused {
        /// The stream appended to.
        stream: String,
        /// The refused event's id.
        event_id: uuid::Uuid,
        /// The refused event's stored name.
        event_type: String,
        /// Why it was refused.
        #[source]
        reason: RefusalReason,
    },
    /// The store refused a snapshot it could not read back. Nothing was stored; the
    /// repository logs it and goes on without the snapshot.
    #[error("snapshot of stream `{stream}` at version {version} refused: {reason}")]
    SnapshotRefused {
        /// The snapshot's stream.
        stream: String,
        /// The stream version the snapshot is of.
        version: u64,
        /// Why it was refused.
        #[source]
        reason: RefusalReason,
    },
    /// A store was asked to open with a setting it cannot honour (a schema name the database
    /// would misread, say). Nothing was created.
    #[error("invalid store configuration: {0}")]
    InvalidConfig(String),
    /// The backend (database, driver, connection) failed.
    #[error("event store backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What is wrong with a stored event.
#[derive(Debug, thiserror::Error)]
pub enum CorruptionReason {
    /// The payload does not decode into the aggregate's events.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The stored metadata is not valid.
    #[error("metadata does not deserialize: {0}")]
    Metadata(#[source] serde_json::Error),
    /// The stored payload is not valid JSON.
    #[error("payload is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The stream's versions are not 1, 2, 3, ... without gaps.
    #[error("expected version {expected} next, found {found}")]
    VersionGap {
        /// The version that should come next.
        expected: u64,
        /// The version found.
        found: u64,
    },
    /// The event belongs to another aggregate type than the one reading the stream.
    #[error("it is of aggregate type `{found}`, not `{expected}`")]
    AggregateType {
        /// The aggregate type reading the stream.
        expected: String,
        /// The aggregate type the event was stored with.
        found: String,
    },
    /// Any other inconsistency, described.
    #[error("{0}")]
    Other(String),
}

fn at_position(position: Option<u64>) -> String {
    position.map_or_else(String::new, |position| format!(" (position {position})"))
}

/// Why a store refused an event (see [`StoreError::Refused`]).
#[derive(Debug, thiserror::Error)]
pub enum RefusalReason {
    /// The payload (or a metadata value) nests arrays and objects deeper than a JSON reader
    /// accepts, so it could not be read back.
    #[error(
        "its {part} nests arrays and objects {depth} levels deep; at most {limit} can be read back"
    )]
    TooDeep {
        /// `payload` or `metadata`.
        part: &'static str,
        /// How deep it nests (counted up to one past the limit).
        depth: usize,
        /// The deepest nesting a store keeps.
        limit: usize,
    },
    /// The event is of another aggregate type than the stream's events (or than the other
    /// events of its batch): a stream holds the events of one aggregate type.
    #[error("it is of aggregate type `{found}`, but the stream holds `{expected}` events")]
    AggregateType {
        /// The aggregate type of the stream (or of the batch's first event).
        expected: String,
        /// The refused event's aggregate type.
        found: String,
    },
}

/// An append-only store of event streams.
///
/// Object-safe, so `Arc<dyn EventStore>` works wherever a store is expected.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Appends `events` to `stream` atomically (all or none) if the stream satisfies
    /// `expected`, and returns them as recorded, in order: ids, stream, versions, positions,
    /// times, names and metadata, without payloads ([`RecordedEvent`]), which the appender
    /// holds already and a store need not parse back.
    ///
    /// A stream holds the events of one aggregate type, and a store keeps only what it can
    /// read back: an event of another aggregate type than the stream's (or than its batch's
    /// first event), or whose payload or metadata nests deeper than
    /// [`MAX_JSON_DEPTH`], is refused with [`StoreError::Refused`] and nothing is stored.
    ///
    /// Events whose id the store already holds are not stored again and raise no error: they
    /// come back as originally recorded, in their place in the batch. A batch made only of
    /// such events succeeds whatever `expected` says (it repeats an append that happened), so
    /// a retried append is idempotent; a batch that mixes them with new events is checked
    /// against `expected` and appends only the new ones.
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Reads `stream` forward, starting at version `from_version` (1 for the whole stream).
    /// A stream that does not exist reads as empty.
    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
    ) -> Result<Vec<EventEnvelope>, StoreError>;

    /// Reads `stream` from `from_version` as [`read_stream`](Self::read_stream) does, but hands
    /// `visit` only what rebuilding an aggregate needs (versions, names, payloads), one event at
    /// a time and borrowed from the read, so nothing is copied per event. The repository
    /// replays through this; the SQL stores fetch four columns and pass payloads as JSON text.
    /// The default reads whole envelopes. An error from `visit` stops the replay and is
    /// returned.
    async fn replay_stream(
        &self,
        stream: &str,
        from_version: u64,
        visit: &mut ReplayVisitor<'_>,
    ) -> Result<(), StoreError> {
        for envelope in &self.read_stream(stream, from_version).await? {
            visit(ReplayEvent::from(envelope))?;
        }
        Ok(())
    }

    /// Reads all streams in global order: at most `limit` events that pass `filter` and
    /// whose position is greater than `after_position` (0 for the beginning). The next page
    /// starts after the last event returned; an empty page means the reader has caught up.
    ///
    /// The store applies the filter where the events are (in its query), so the events it
    /// skips are neither sent nor decoded.
    ///
    /// A stored event that passes the filter but cannot be read back ends the page early: the
    /// events before it come back, and the next read, starting after the last of them, fails
    /// with [`StoreError::Corrupt`] naming the event's position, so a reader can report it
    /// and move past it.
    async fn read_all_filtered(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<EventEnvelope>, StoreError>;

    /// Reads a page of the global log as [`read_all_filtered`](Self::read_all_filtered)
    /// does, but hands `visit` each event borrowed from the read, its payload in the store's
    /// own form, so a typed reader (a typed [`Subscription`](crate::subscription::Subscription),
    /// a projection) decodes it straight into its type: the SQL stores pass JSON text and
    /// build no `serde_json::Value`. The default reads whole envelopes.
    ///
    /// A stored event that cannot be read ends the page early, as for `read_all_filtered`: an
    /// error only when no event of the page was visited before it. An error from `visit`
    /// stops the read and is returned.
    async fn visit_all(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
        visit: &mut StoredEventVisitor<'_>,
    ) -> Result<(), StoreError> {
        for envelope in &self
            .read_all_filtered(after_position, limit, filter)
            .await?
        {
            visit(StoredEvent::from(envelope))?;
        }
        Ok(())
    }

    /// [`read_all_filtered`](Self::read_all_filtered) with the filter that lets every event
    /// through.
    async fn read_all(
        &self,
        after_position: u64,
        limit: usize,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.read_all_filtered(after_position, limit, &EventFilter::all())
            .await
    }

    /// The last version of `stream`, 0 when it holds no event.
    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError>;

    /// The event of `stream` stored under `event_id`, if there is one: how a repository finds
    /// what an idempotent command stored before. The default reads the stream; the SQL stores
    /// look the id up in their index.
    async fn find_event(
        &self,
        stream: &str,
        event_id: Uuid,
    ) -> Result<Option<EventEnvelope>, StoreError> {
        let events = self.read_stream(stream, 1).await?;
        Ok(events.into_iter().find(|event| event.event_id == event_id))
    }

    /// A wake-up hint for subscribers: a receiver whose value changes (to the newest known
    /// global position) whenever this store appends events. `None` (the default) means
    /// subscribers only poll. A hint may miss appends made by other processes, so subscribers
    /// keep polling as well; it only makes them react sooner.
    fn position_watch(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }

    /// The position of the newest event in the global log (0: none), when the store can
    /// tell; how a rebuild reports its progress. `None` (the default) means it cannot.
    async fn head_position(&self) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }
}

#[async_trait]
impl<S: EventStore + ?Sized> EventStore for Arc<S> {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        (**self).append(stream, expected, events).await
    }

    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        (**self).read_stream(stream, from_version).await
    }

    async fn replay_stream(
        &self,
        stream: &str,
        from_version: u64,
        visit: &mut ReplayVisitor<'_>,
    ) -> Result<(), StoreError> {
        (**self).replay_stream(stream, from_version, visit).await
    }

    async fn read_all_filtered(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        (**self)
            .read_all_filtered(after_position, limit, filter)
            .await
    }

    async fn visit_all(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
        visit: &mut StoredEventVisitor<'_>,
    ) -> Result<(), StoreError> {
        (**self)
            .visit_all(after_position, limit, filter, visit)
            .await
    }

    async fn read_all(
        &self,
        after_position: u64,
        limit: usize,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        (**self).read_all(after_position, limit).await
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        (**self).stream_version(stream).await
    }

    async fn find_event(
        &self,
        stream: &str,
        event_id: Uuid,
    ) -> Result<Option<EventEnvelope>, StoreError> {
        (**self).find_event(stream, event_id).await
    }

    fn position_watch(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        (**self).position_watch()
    }

    async fn head_position(&self) -> Result<Option<u64>, StoreError> {
        (**self).head_position().await
    }
}

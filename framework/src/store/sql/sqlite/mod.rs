//! [`SqliteEventStore`]: a durable event and snapshot store in one SQLite file (feature
//! `sqlite`), the default store of the runnable examples.
//!
//! # Schema
//!
//! The tables come from the migrations shipped with the crate (`framework/migrations/sqlite`),
//! embedded as [`MIGRATOR`]. Either let the store apply them
//! ([`SqliteEventStore::migrate`], or [`SqliteEventStore::connect`], which does it for you),
//! or copy the `.sql` files into your own migrations directory and apply them with the rest
//! of your schema. If your application runs its own sqlx migrations against the same file,
//! copying is the simpler path: sqlx's migrator refuses a database holding migrations it does
//! not know unless you call `Migrator::set_ignore_missing(true)` on yours.
//!
//! # Concurrency and global order
//!
//! An append is one `BEGIN IMMEDIATE` transaction: it takes SQLite's write lock before it
//! reads the stream's version, so the expected-version check, the position assignment
//! (`MAX(position) + 1, 2, ...`) and the insert happen under one lock, and a unique constraint
//! on `(stream_id, version)` backs the check. SQLite runs one write transaction at a time, so
//! positions commit in the order they are assigned: a reader of "all events after position
//! `p`" never misses an event that commits later with a lower position. Appenders in this
//! process also queue on an async lock before asking SQLite for its write lock, so they wait
//! their turn instead of polling SQLite's busy handler; other processes wait up to the busy
//! timeout (5 seconds with [`SqliteEventStore::connect`]).
//!
//! The connection uses WAL journaling, so readers never block the writer nor wait for it.
//!
//! # Example
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use aggregato::{EventStore, ExpectedVersion, Metadata, NewEvent, SqliteEventStore};
//!
//! let dir = std::env::temp_dir().join(format!("aggregato-doc-{}", uuid::Uuid::now_v7()));
//! std::fs::create_dir_all(&dir)?;
//! // Creates the file and applies the migrations.
//! let store = SqliteEventStore::connect(&dir.join("events.db").display().to_string()).await?;
//! let event = NewEvent {
//!     event_id: uuid::Uuid::now_v7(),
//!     aggregate_type: "Counter".to_owned(),
//!     event_type: "Incremented".to_owned(),
//!     event_version: 1,
//!     metadata: Metadata::new(),
//!     payload: serde_json::json!({ "by": 3 }).into(),
//! };
//! let recorded = store.append("Counter-1", ExpectedVersion::NoStream, vec![event]).await?;
//! assert_eq!((recorded[0].version, recorded[0].position), (1, 1));
//! let read = store.read_stream("Counter-1", 1).await?;
//! assert_eq!(read[0].payload, serde_json::json!({ "by": 3 }));
//! assert_eq!(read[0].clone().with_payload(()), recorded[0]);
//! # store.pool().close().await;
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Layout
//!
//! This file holds the store's type and its [`EventStore`] face; `connect.rs` opens and
//! migrates, `append.rs` checks and inserts a batch under the write lock, `read.rs` holds the
//! queries that read events and `snapshots.rs` is the
//! [`SnapshotStore`](crate::store::SnapshotStore).

mod append;
mod connect;
mod read;
mod snapshots;

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use tokio::sync::{Mutex, watch};

use crate::event::{EventEnvelope, NewEvent, RecordedEvent};
use crate::store::{
    EventFilter, EventStore, ExpectedVersion, ReplayVisitor, StoreError, StoredEventVisitor,
};

/// The SQLite schema migrations shipped with aggregato (`framework/migrations/sqlite`).
///
/// Run them with `MIGRATOR.run(&pool).await`, or copy the files into your own migration
/// setup; see the [module docs](self).
pub static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// An [`EventStore`] and [`SnapshotStore`](crate::store::SnapshotStore) in a SQLite
/// database. Cheap to clone: clones share the connection pool, the append queue and the
/// position watch.
#[derive(Debug, Clone)]
pub struct SqliteEventStore {
    pool: SqlitePool,
    shared: Arc<Shared>,
}

/// What the clones of one store share.
#[derive(Debug)]
struct Shared {
    /// Appenders of this process take turns here before taking SQLite's write lock.
    writer: Mutex<()>,
    /// The newest position this process committed, for subscribers.
    head: watch::Sender<u64>,
}

#[async_trait]
impl EventStore for SqliteEventStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let recorded = self.append_events(stream, expected, events).await?;
        self.announce(&recorded);
        Ok(recorded)
    }

    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.select_stream(stream, from_version).await
    }

    async fn replay_stream(
        &self,
        stream: &str,
        from_version: u64,
        visit: &mut ReplayVisitor<'_>,
    ) -> Result<(), StoreError> {
        self.select_replay(stream, from_version, visit).await
    }

    async fn read_all_filtered(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.select_page(after_position, limit, filter).await
    }

    async fn visit_all(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
        visit: &mut StoredEventVisitor<'_>,
    ) -> Result<(), StoreError> {
        self.visit_page(after_position, limit, filter, visit).await
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        self.select_version(stream).await
    }

    async fn find_event(
        &self,
        stream: &str,
        event_id: uuid::Uuid,
    ) -> Result<Option<EventEnvelope>, StoreError> {
        self.select_event(stream, event_id).await
    }

    async fn head_position(&self) -> Result<Option<u64>, StoreError> {
        self.select_head().await.map(Some)
    }

    /// Bumped after each append this process commits (through any clone of this store);
    /// appends by other processes are found by polling.
    fn position_watch(&self) -> Option<watch::Receiver<u64>> {
        Some(self.shared.head.subscribe())
    }
}

impl SqliteEventStore {
    /// Moves the position watch to the newest event of `recorded`.
    fn announce(&self, recorded: &[RecordedEvent]) {
        let Some(newest) = recorded.iter().map(|e| e.position).max() else {
            return;
        };
        self.shared.head.send_if_modified(|current| {
            let advanced = newest > *current;
            if advanced {
                *current = newest;
            }
            advanced
        });
    }
}

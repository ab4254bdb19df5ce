//! [`PostgresEventStore`]: the production event and snapshot store (feature `postgres`).
//!
//! # Schema
//!
//! The tables and the `aggregato_append` function come from the migrations shipped with the
//! crate (`framework/migrations/postgres`), embedded as [`MIGRATOR`]. Either let the store
//! apply them ([`PostgresEventStore::migrate`]; [`PostgresEventStore::connect`] and
//! [`PostgresEventStore::connect_in_schema`] do it for you), or copy the `.sql` files into
//! your own migrations directory and apply them with the rest of your schema. If your
//! application runs its own sqlx migrations against the same schema, copying is the simpler
//! path: sqlx's migrator refuses a database holding migrations it does not know unless you call
//! `Migrator::set_ignore_missing(true)` on yours. Everything is created in the current schema
//! (the first of `search_path`), so one database can hold several stores, one per schema.
//!
//! # Appends and global order
//!
//! An append is one call of the `aggregato_append` PL/pgSQL function in autocommit: one round
//! trip (once the statement is prepared on the connection), one transaction. The function
//! takes a transaction-scoped advisory lock keyed by the events table, checks the ids already
//! stored and the expected version, reserves a block of positions from the
//! `aggregato_positions` sequence, inserts the batch's new events with one multi-row
//! `INSERT ... SELECT FROM unnest(...)` and returns the batch as recorded: positions, versions
//! and times for the events it stored (the caller already holds their payloads and metadata),
//! whole rows only for events that were stored before (a retried append). A batch of new,
//! distinct ids, the append of every command, takes a fast path: one `INSERT ... RETURNING`,
//! and for a single event one index probe for its id and one `nextval`. A unique constraint
//! on `(stream_id, version)` backs the version check. Because the lock is held until commit,
//! positions commit in the order they are assigned: a reader of "all events after position
//! `p`" never misses an event that commits later with a lower position, the gap that positions
//! from a plain sequence leave under concurrent transactions. The price is that appends to one
//! schema run one at a time, commit included; the lock is held for nothing else.
//!
//! The checks rest on READ COMMITTED (each statement sees what committed before the lock was
//! granted). A server or pool whose sessions default to REPEATABLE READ or SERIALIZABLE is
//! fine: the function notices and refuses to run there (SQLSTATE `AG003`), and from then on the
//! store wraps each append in `BEGIN ISOLATION LEVEL READ COMMITTED` (two more round trips).
//!
//! A stream holds the events of one aggregate type: the function refuses a batch of another
//! type (SQLSTATE `AG002`, [`StoreError::Refused`]).
//!
//! # Stored JSON
//!
//! Payloads, metadata and snapshots are `json` columns, which keep the text they are given:
//! every `f64` comes back bit for bit (`jsonb` turns numbers into `numeric`, which has no
//! negative zero and prints large ones without exponent). `->`, `->>` and the other accessors
//! work on `json`; cast to `jsonb` for containment (`@>`) queries.
//!
//! Times (`recorded_at`, a snapshot's `taken_at`) are `timestamptz`, kept to the microsecond.
//!
//! # Wake-ups
//!
//! [`EventStore::position_watch`] is fed by PostgreSQL `LISTEN`/`NOTIFY`: each append notifies
//! the schema's channel (`aggregato_` and the MD5 of the schema name, which fits PostgreSQL's
//! 63-byte limit whatever the schema is called) with the new head position at commit, so
//! subscribers in any process connected to the same database wake up. The listener (one
//! extra connection from the pool) starts the first time a watch is asked for, and this
//! process's own appends also bump the watch directly.
//!
//! # Example
//!
//! ```no_run
//! # async fn example() -> Result<(), aggregato::StoreError> {
//! use aggregato::PostgresEventStore;
//!
//! let url = "postgres://app@localhost/app";
//! // The tables in the connection's default schema, migrated on connect:
//! let store = PostgresEventStore::connect(url).await?;
//! // Or a store of its own in schema `billing` (created if missing):
//! let billing = PostgresEventStore::connect_in_schema(url, "billing").await?;
//! // Or over your own pool, with the migrations applied by your own setup:
//! let pool = sqlx::PgPool::connect(url)
//!     .await
//!     .map_err(|error| aggregato::StoreError::Backend(error.into()))?;
//! let mine = PostgresEventStore::from_pool(pool);
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! This file holds the store's type and its [`EventStore`] face; `connect.rs` opens and
//! migrates, `append.rs` calls `aggregato_append` and turns its answer into envelopes,
//! `read.rs` holds the queries that read events, `notify.rs` feeds the position watch and
//! `snapshots.rs` is the [`SnapshotStore`](crate::store::SnapshotStore).

mod append;
mod connect;
mod notify;
mod read;
mod snapshots;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPool;
use tokio::sync::watch;

use self::notify::ListenerTask;
use crate::event::{EventEnvelope, NewEvent, RecordedEvent};
use crate::store::{
    EventFilter, EventStore, ExpectedVersion, ReplayVisitor, StoreError, StoredEventVisitor,
};

/// The PostgreSQL schema migrations shipped with aggregato (`framework/migrations/postgres`).
///
/// Run them with `MIGRATOR.run(&pool).await`, or copy the files into your own migration
/// setup; see the [module docs](self).
pub static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// An [`EventStore`] and [`SnapshotStore`](crate::store::SnapshotStore) in a PostgreSQL
/// schema. Cheap to clone: clones share the connection pool and the position watch.
#[derive(Debug, Clone)]
pub struct PostgresEventStore {
    pool: PgPool,
    shared: Arc<Shared>,
}

/// What the clones of one store share.
#[derive(Debug)]
struct Shared {
    /// The newest position known to have committed, for subscribers.
    head: watch::Sender<u64>,
    /// Set once an append found the session's isolation level is not READ COMMITTED: from
    /// then on appends pin it with an explicit transaction (two more round trips).
    pin_isolation: AtomicBool,
    /// The `LISTEN` task, started by the first `position_watch`, stopped with the store.
    listener: Mutex<Option<ListenerTask>>,
}

impl Shared {
    /// Moves the watch to `newest` if that is ahead of it (appends and notifications arrive
    /// in any order).
    fn advance(&self, newest: u64) {
        self.head.send_if_modified(|current| {
            let advanced = newest > *current;
            if advanced {
                *current = newest;
            }
            advanced
        });
    }
}

#[async_trait]
impl EventStore for PostgresEventStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.append_events(stream, expected, events).await
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

    /// Fed by `LISTEN`/`NOTIFY` (appends of every process on this schema) and by this
    /// process's own appends; see the [module docs](self).
    fn position_watch(&self) -> Option<watch::Receiver<u64>> {
        self.start_listener();
        Some(self.shared.head.subscribe())
    }
}

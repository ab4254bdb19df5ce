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
//!     payload: serde_json::json!({ "by": 3 }),
//! };
//! let recorded = store.append("Counter-1", ExpectedVersion::NoStream, vec![event]).await?;
//! assert_eq!((recorded[0].version, recorded[0].position), (1, 1));
//! assert_eq!(store.read_stream("Counter-1", 1).await?, recorded);
//! # store.pool().close().await;
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{QueryBuilder, Sqlite, SqlitePool, SqliteTransaction};
use time::OffsetDateTime;
use tokio::sync::{Mutex, watch};
use uuid::Uuid;

use super::{
    backend, decode_event, decode_page, decode_snapshot, event_columns, is_unique_violation,
    limit_to_db, metadata_json, replay_columns, snapshot_columns, to_db, visit_replay_row,
};
use crate::event::{EventEnvelope, NewEvent};
use crate::store::{
    EventFilter, EventStore, ExpectedVersion, ReplayVisitor, Snapshot, SnapshotStore, StoreError,
    check_batch, check_snapshot, wrong_stream_type,
};

/// The SQLite schema migrations shipped with aggregato (`framework/migrations/sqlite`).
///
/// Run them with `MIGRATOR.run(&pool).await`, or copy the files into your own migration
/// setup; see the [module docs](self).
pub static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// Rows per multi-row statement: each row binds 10 parameters, and SQLite allows 32766.
const ROWS_PER_STATEMENT: usize = 1_000;

/// An [`EventStore`] and [`SnapshotStore`] in a SQLite database. Cheap to clone: clones share
/// the connection pool, the append queue and the position watch.
#[derive(Debug, Clone)]
pub struct SqliteEventStore {
    pool: SqlitePool,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Appenders of this process take turns here before taking SQLite's write lock.
    writer: Mutex<()>,
    /// The newest position this process committed, for subscribers.
    head: watch::Sender<u64>,
}

impl SqliteEventStore {
    /// Opens (creating it if missing) the database at `url` (`sqlite://path/to/file.db`, or a
    /// bare path) in WAL mode with a 5-second busy timeout, and applies [`MIGRATOR`].
    ///
    /// Safe to call from several processes at once on a new file (instances of one service
    /// starting together): they take turns, for up to the busy timeout.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(BUSY_TIMEOUT);
        // Switching a new file to WAL needs an exclusive lock, and SQLite answers "database is
        // locked" at once, without its busy handler, while another connection is doing the
        // same: opening is retried with a short backoff, for as long as the busy timeout.
        let deadline = Instant::now() + BUSY_TIMEOUT;
        let mut pause = Duration::from_millis(5);
        loop {
            match Self::open(options.clone()).await {
                Err(error) if error.is_busy() && Instant::now() < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Err(OpenError::Sql(error)) => return Err(backend(error)),
                Err(OpenError::Migrate(error)) => return Err(backend(error)),
                Ok(store) => return Ok(store),
            }
        }
    }

    async fn open(options: SqliteConnectOptions) -> Result<Self, OpenError> {
        let pool = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .map_err(OpenError::Sql)?;
        let store = Self::from_pool(pool);
        store.run_migrations().await?;
        Ok(store)
    }

    /// A store over a pool you configured, with the schema already in place (see
    /// [`Self::migrate`]). Use a file database: each connection to `sqlite::memory:` is a
    /// database of its own.
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self {
            pool,
            shared: Arc::new(Shared {
                writer: Mutex::new(()),
                head: watch::Sender::new(0),
            }),
        }
    }

    /// Applies the pending migrations of [`MIGRATOR`]. Safe to run from several processes
    /// at once (instances of one service starting together on a new file): they take turns.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.run_migrations().await {
            Ok(()) => Ok(()),
            Err(OpenError::Sql(error)) => Err(backend(error)),
            Err(OpenError::Migrate(error)) => Err(backend(error)),
        }
    }

    async fn run_migrations(&self) -> Result<(), OpenError> {
        // sqlx's migrator takes no lock on SQLite, so two openers of a new file could both
        // find a migration missing and both apply it (the second failing on "table already
        // exists"). Holding SQLite's write lock from the start, with `BEGIN IMMEDIATE`, makes
        // them take turns: the second waits (up to the busy timeout), then finds the
        // migrations applied. The migrator's own transactions nest inside as savepoints.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(OpenError::Sql)?;
        MIGRATOR
            .run_direct(None, &mut *tx, false)
            .await
            .map_err(OpenError::Migrate)?;
        tx.commit().await.map_err(OpenError::Sql)
    }

    /// The connection pool, for queries of your own.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn append_in(
        tx: &mut SqliteTransaction<'static>,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        let held = stored_events(tx, &events).await?;
        let (actual, stream_type) = stream_head_in(tx, stream).await?;
        let is_pure_repeat =
            !events.is_empty() && events.iter().all(|e| held.contains_key(&e.event_id));
        if !is_pure_repeat && !expected.accepts(actual) {
            return Err(StoreError::ConcurrencyConflict {
                stream: stream.to_owned(),
                expected,
                actual,
            });
        }
        if !is_pure_repeat
            && let Some(stream_type) = stream_type
            && let Some(refused) = wrong_stream_type(stream, &events, &stream_type)
        {
            return Err(refused);
        }
        let head: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM aggregato_events")
                .fetch_one(&mut **tx)
                .await
                .map_err(backend)?;
        let recorded = record(
            stream,
            actual,
            u64::try_from(head).unwrap_or(0),
            held,
            events,
        );
        let fresh: Vec<&EventEnvelope> = recorded
            .iter()
            .filter(|e| e.is_new)
            .map(|e| &e.envelope)
            .collect();
        for chunk in fresh.chunks(ROWS_PER_STATEMENT) {
            match insert(tx, chunk).await {
                Ok(()) => {}
                // Unreachable while every writer follows this protocol; a writer that does not
                // is still refused by the constraint, and that is a conflict like any other.
                Err(InsertError::Sql(error)) if is_unique_violation(&error) => {
                    return Err(StoreError::ConcurrencyConflict {
                        stream: stream.to_owned(),
                        expected,
                        actual: stream_version_in(tx, stream).await?,
                    });
                }
                Err(InsertError::Sql(error)) => return Err(backend(error)),
                Err(InsertError::Store(error)) => return Err(error),
            }
        }
        Ok(recorded.into_iter().map(|e| e.envelope).collect())
    }

    fn announce(&self, recorded: &[EventEnvelope]) {
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

/// How long a connection waits for another's lock, and how long opening retries.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why opening the store failed.
enum OpenError {
    Sql(sqlx::Error),
    Migrate(sqlx::migrate::MigrateError),
}

impl OpenError {
    /// Whether SQLite said "database is locked" (`SQLITE_BUSY`, any extended code).
    fn is_busy(&self) -> bool {
        let error = match self {
            Self::Sql(error)
            | Self::Migrate(
                MigrateError::Execute(error) | MigrateError::ExecuteMigration(error, _),
            ) => error,
            Self::Migrate(_) => return false,
        };
        let sqlx::Error::Database(db) = error else {
            return false;
        };
        db.code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| code & 0xff == SQLITE_BUSY)
    }
}

/// SQLite's primary result code for "database is locked".
const SQLITE_BUSY: i32 = 5;

/// An event of the batch as recorded, and whether this append stores it.
struct Recorded {
    envelope: EventEnvelope,
    is_new: bool,
}

/// The batch as it will be recorded: stored ids as they were, new ones numbered after
/// `version` and `head`; an id repeated within the batch is stored once.
fn record(
    stream: &str,
    version: u64,
    head: u64,
    mut held: HashMap<Uuid, EventEnvelope>,
    events: Vec<NewEvent>,
) -> Vec<Recorded> {
    let recorded_at = OffsetDateTime::now_utc();
    let mut added = 0;
    let mut recorded = Vec::with_capacity(events.len());
    for event in events {
        if let Some(envelope) = held.get(&event.event_id) {
            recorded.push(Recorded {
                envelope: envelope.clone(),
                is_new: false,
            });
            continue;
        }
        added += 1;
        let envelope = EventEnvelope {
            event_id: event.event_id,
            stream_id: stream.to_owned(),
            aggregate_type: event.aggregate_type,
            version: version + added,
            position: head + added,
            recorded_at,
            event_type: event.event_type,
            event_version: event.event_version,
            metadata: event.metadata,
            payload: event.payload,
        };
        held.insert(envelope.event_id, envelope.clone());
        recorded.push(Recorded {
            envelope,
            is_new: true,
        });
    }
    recorded
}

/// The events of the batch whose ids are already stored.
async fn stored_events(
    tx: &mut SqliteTransaction<'static>,
    events: &[NewEvent],
) -> Result<HashMap<Uuid, EventEnvelope>, StoreError> {
    let mut held = HashMap::new();
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT ",
            event_columns!(),
            " FROM aggregato_events WHERE event_id IN ("
        ));
        let mut ids = query.separated(", ");
        for event in chunk {
            ids.push_bind(event.event_id);
        }
        query.push(")");
        let rows = query.build().fetch_all(&mut **tx).await.map_err(backend)?;
        for row in &rows {
            let envelope = decode(row)?;
            held.insert(envelope.event_id, envelope);
        }
    }
    Ok(held)
}

enum InsertError {
    Sql(sqlx::Error),
    Store(StoreError),
}

/// One multi-row insert of new events.
async fn insert(
    tx: &mut SqliteTransaction<'static>,
    events: &[&EventEnvelope],
) -> Result<(), InsertError> {
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let metadata = metadata_json(&event.metadata).map_err(InsertError::Store)?;
        rows.push((event, metadata.to_string()));
    }
    let mut query = QueryBuilder::<Sqlite>::new(concat!(
        "INSERT INTO aggregato_events (",
        event_columns!(),
        ") "
    ));
    query.push_values(rows, |mut row, (event, metadata)| {
        row.push_bind(to_db(event.position))
            .push_bind(event.event_id)
            .push_bind(event.stream_id.clone())
            .push_bind(to_db(event.version))
            .push_bind(event.aggregate_type.clone())
            .push_bind(event.event_type.clone())
            .push_bind(i64::from(event.event_version))
            .push_bind(event.recorded_at)
            .push_bind(metadata)
            .push_bind(event.payload.to_string());
    });
    query
        .build()
        .execute(&mut **tx)
        .await
        .map_err(InsertError::Sql)?;
    Ok(())
}

/// The last version of `stream` (0 when empty) and the aggregate type of its events.
async fn stream_head_in(
    tx: &mut SqliteTransaction<'static>,
    stream: &str,
) -> Result<(u64, Option<String>), StoreError> {
    let head: Option<(i64, String)> = sqlx::query_as(
        "SELECT version, aggregate_type FROM aggregato_events WHERE stream_id = ? \
         ORDER BY version DESC LIMIT 1",
    )
    .bind(stream)
    .fetch_optional(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(match head {
        Some((version, aggregate_type)) => {
            (u64::try_from(version).unwrap_or(0), Some(aggregate_type))
        }
        None => (0, None),
    })
}

async fn stream_version_in(
    tx: &mut SqliteTransaction<'static>,
    stream: &str,
) -> Result<u64, StoreError> {
    let version: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(version), 0) FROM aggregato_events WHERE stream_id = ?",
    )
    .bind(stream)
    .fetch_one(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(u64::try_from(version).unwrap_or(0))
}

/// A read of the global log, narrowed in SQL by the filter's lists that are given; its
/// parameters are the position, each given list as a JSON array of names, then the limit.
/// A list travels as one JSON parameter (`IN (SELECT value FROM json_each(?))`) rather than
/// one parameter per name, so there is one statement per shape, prepared once and cached.
fn read_all_sql(by_aggregate_type: bool, by_event_type: bool) -> &'static str {
    macro_rules! read_all {
        ($($condition:literal)?) => {
            concat!(
                "SELECT ",
                event_columns!(),
                " FROM aggregato_events WHERE position > ? ",
                $($condition,)?
                " ORDER BY position LIMIT ?"
            )
        };
    }
    match (by_aggregate_type, by_event_type) {
        (false, false) => read_all!(),
        (true, false) => read_all!("AND aggregate_type IN (SELECT value FROM json_each(?))"),
        (false, true) => read_all!("AND event_type IN (SELECT value FROM json_each(?))"),
        (true, true) => read_all!(
            "AND aggregate_type IN (SELECT value FROM json_each(?)) \
             AND event_type IN (SELECT value FROM json_each(?))"
        ),
    }
}

fn decode(row: &SqliteRow) -> Result<EventEnvelope, StoreError> {
    decode_event::<SqliteRow, String>(row)
}

#[async_trait]
impl EventStore for SqliteEventStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        check_batch(stream, &events)?;
        let recorded = {
            let _turn = self.shared.writer.lock().await;
            let mut tx = self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(backend)?;
            let recorded = Self::append_in(&mut tx, stream, expected, events).await?;
            tx.commit().await.map_err(backend)?;
            recorded
        };
        self.announce(&recorded);
        Ok(recorded)
    }

    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM aggregato_events WHERE stream_id = ? AND version >= ? ORDER BY version"
        ))
        .bind(stream)
        .bind(to_db(from_version))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(decode).collect()
    }

    async fn replay_stream(
        &self,
        stream: &str,
        from_version: u64,
        visit: &mut ReplayVisitor<'_>,
    ) -> Result<(), StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            replay_columns!(),
            " FROM aggregato_events WHERE stream_id = ? AND version >= ? ORDER BY version"
        ))
        .bind(stream)
        .bind(to_db(from_version))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        for row in &rows {
            visit_replay_row::<_, &str>(row, stream, |text| text, visit)?;
        }
        Ok(())
    }

    async fn read_all_filtered(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        if filter.is_none() {
            return Ok(Vec::new());
        }
        let aggregate_types = filter.allowed_aggregate_types();
        let event_types = filter.allowed_event_types();
        let mut query = sqlx::query(read_all_sql(
            aggregate_types.is_some(),
            event_types.is_some(),
        ))
        .bind(to_db(after_position));
        for list in [aggregate_types, event_types].into_iter().flatten() {
            query = query.bind(serde_json::to_string(list).map_err(backend)?);
        }
        let rows = query
            .bind(limit_to_db(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        decode_page(&rows, decode)
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        let version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM aggregato_events WHERE stream_id = ?",
        )
        .bind(stream)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(u64::try_from(version).unwrap_or(0))
    }

    /// Bumped after each append this process commits (through any clone of this store);
    /// appends by other processes are found by polling.
    fn position_watch(&self) -> Option<watch::Receiver<u64>> {
        Some(self.shared.head.subscribe())
    }
}

#[async_trait]
impl SnapshotStore for SqliteEventStore {
    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        check_snapshot(&snapshot)?;
        sqlx::query(
            "INSERT INTO aggregato_snapshots (stream_id, aggregate_type, version, payload, taken_at) \
             VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (stream_id) DO UPDATE SET \
                aggregate_type = excluded.aggregate_type, version = excluded.version, \
                payload = excluded.payload, taken_at = excluded.taken_at \
             WHERE excluded.version > aggregato_snapshots.version",
        )
        .bind(&snapshot.stream_id)
        .bind(&snapshot.aggregate_type)
        .bind(to_db(snapshot.version))
        .bind(snapshot.payload.to_string())
        .bind(snapshot.taken_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load_snapshot(&self, stream: &str) -> Result<Option<Snapshot>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            snapshot_columns!(),
            " FROM aggregato_snapshots WHERE stream_id = ?"
        ))
        .bind(stream)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref()
            .map(decode_snapshot::<SqliteRow, String>)
            .transpose()
    }
}

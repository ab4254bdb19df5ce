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
//! 63-byte limit whatever the schema is called) with the new head position at commit, so subscribers in any
//! process connected to the same database wake up. The listener (one extra connection from the
//! pool) starts the first time a watch is asked for, and this process's own appends also bump
//! the watch directly.
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

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::{
    backend, decode_event, decode_page, decode_snapshot, event_columns, is_unique_violation,
    limit_to_db, metadata_json, replay_columns, snapshot_columns, to_db, visit_replay_row,
};
use crate::event::{EventEnvelope, Metadata, NewEvent};
use crate::store::{
    EventFilter, EventStore, ExpectedVersion, RefusalReason, ReplayVisitor, Snapshot,
    SnapshotStore, StoreError, check_batch, check_snapshot,
};
use serde_json::value::RawValue;

/// The PostgreSQL schema migrations shipped with aggregato (`framework/migrations/postgres`).
///
/// Run them with `MIGRATOR.run(&pool).await`, or copy the files into your own migration
/// setup; see the [module docs](self).
pub static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// The SQLSTATE `aggregato_append` raises when the expected version does not hold.
const CONFLICT_SQLSTATE: &str = "AG001";
/// The SQLSTATE `aggregato_append` raises when the batch is of another aggregate type than the
/// stream (its DETAIL is the stream's type).
const AGGREGATE_TYPE_SQLSTATE: &str = "AG002";
/// The SQLSTATE `aggregato_append` raises when called outside READ COMMITTED.
const ISOLATION_SQLSTATE: &str = "AG003";
/// The SQL of one append: a call of `aggregato_append`, its columns renamed to the events
/// table's.
const APPEND_SQL: &str = "SELECT r_position AS position, r_event_id AS event_id, \
     r_stream_id AS stream_id, r_version AS version, r_aggregate_type AS aggregate_type, \
     r_event_type AS event_type, r_event_version AS event_version, \
     r_recorded_at AS recorded_at, r_metadata AS metadata, r_payload AS payload, \
     r_repeated AS repeated \
     FROM aggregato_append($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// An [`EventStore`] and [`SnapshotStore`] in a PostgreSQL schema. Cheap to clone: clones share
/// the connection pool and the position watch.
#[derive(Debug, Clone)]
pub struct PostgresEventStore {
    pool: PgPool,
    shared: Arc<Shared>,
}

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

#[derive(Debug)]
struct ListenerTask(JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Shared {
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

impl PostgresEventStore {
    /// Connects to `url` (`postgres://user@host/database`), using the connection's default
    /// `search_path`, and applies [`MIGRATOR`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(backend)?;
        Self::connect_with(options).await
    }

    /// Connects to `url` with every connection's `search_path` set to `schema` (created if
    /// missing), and applies [`MIGRATOR`] there: a store of its own inside a shared database.
    ///
    /// Safe to call from several processes at once on a new schema (instances of one service
    /// starting together): one creates it, the others find it. A name PostgreSQL would not
    /// take as it is written (empty, longer than 63 bytes, `$user`, `pg_...`) is refused
    /// with [`StoreError::InvalidConfig`] before anything is created.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        check_schema_name(schema)?;
        let options = PgConnectOptions::from_str(url).map_err(backend)?;
        let quoted = quote_identifier(schema);
        let mut connection = PgConnection::connect_with(&options)
            .await
            .map_err(backend)?;
        let created = sqlx::query(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {quoted}"
        )))
        .execute(&mut connection)
        .await;
        match created {
            Ok(_) => {}
            // `IF NOT EXISTS` checks before it inserts, so two sessions creating the schema at
            // once can both pass the check; the loser's insert then fails on the catalog's
            // unique index. Either way the schema now exists, which is all this needs.
            Err(error) if is_unique_violation(&error) || has_sqlstate(&error, DUPLICATE_SCHEMA) => {
            }
            Err(error) => return Err(backend(error)),
        }
        connection.close().await.map_err(backend)?;
        Self::connect_with(options.options([("search_path", quoted.as_str())])).await
    }

    async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .connect_with(options)
            .await
            .map_err(backend)?;
        let store = Self::from_pool(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// A store over a pool you configured, with the schema already in place (see
    /// [`Self::migrate`]). The store uses the tables of the pool's current schema.
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            shared: Arc::new(Shared {
                head: watch::Sender::new(0),
                pin_isolation: AtomicBool::new(false),
                listener: Mutex::new(None),
            }),
        }
    }

    /// Applies the pending migrations of [`MIGRATOR`] to the pool's current schema.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(backend)
    }

    /// The connection pool, for queries of your own.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Turns a failed `aggregato_append` call into a conflict or a refusal when that is what
    /// it is.
    async fn append_error(
        &self,
        error: sqlx::Error,
        stream: &str,
        expected: ExpectedVersion,
        columns: &Columns,
    ) -> StoreError {
        if let Some(stream_type) = detail_of(&error, AGGREGATE_TYPE_SQLSTATE)
            && let Some(refused) = columns.refusal(stream, stream_type)
        {
            return refused;
        }
        let reported = conflict_version(&error);
        if reported.is_none() && !is_unique_violation(&error) {
            return backend(error);
        }
        let actual = match reported {
            Some(actual) => actual,
            // A writer outside aggregato_append broke in: the constraint refused the batch.
            None => match self.stream_version(stream).await {
                Ok(actual) => actual,
                Err(error) => return error,
            },
        };
        StoreError::ConcurrencyConflict {
            stream: stream.to_owned(),
            expected,
            actual,
        }
    }

    /// The append inside an explicit READ COMMITTED transaction, for sessions whose default
    /// isolation level is another.
    async fn append_read_committed(
        &self,
        columns: &Columns,
        stream: &str,
        expected: ExpectedVersion,
    ) -> Result<Vec<PgRow>, sqlx::Error> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
            .await?;
        let rows = columns.append(&mut *tx, stream, expected).await?;
        tx.commit().await?;
        Ok(rows)
    }

    fn start_listener(&self) {
        let mut listener = self
            .shared
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let is_running = listener.as_ref().is_some_and(|task| !task.0.is_finished());
        if is_running {
            return;
        }
        // Without a runtime there is nothing to run the listener on: the watch then moves with
        // this process's appends only, and subscribers poll as always.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let task = runtime.spawn(listen(self.pool.clone(), Arc::downgrade(&self.shared)));
        *listener = Some(ListenerTask(task));
    }
}

/// `"name"`, with inner quotes doubled: any string as a PostgreSQL identifier.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// SQLSTATE `duplicate_schema`.
const DUPLICATE_SCHEMA: &str = "42P06";

/// The longest identifier PostgreSQL keeps whole (`NAMEDATALEN - 1` bytes); a longer one is
/// silently truncated, so the schema created and the one searched could differ.
const MAX_IDENTIFIER_BYTES: usize = 63;

/// Refuses schema names that PostgreSQL would not use as written in `search_path`: `$user`
/// (read as "the schema named after the current user", even quoted), `pg_...` (reserved for
/// the system; `pg_temp` is a session's temporary schema), names it would truncate, and the
/// empty name or one with a NUL byte (which it cannot store).
fn check_schema_name(schema: &str) -> Result<(), StoreError> {
    let problem = if schema.is_empty() {
        Some("it is empty".to_owned())
    } else if schema.len() > MAX_IDENTIFIER_BYTES {
        Some(format!(
            "it is {} bytes long; PostgreSQL truncates names to {MAX_IDENTIFIER_BYTES}",
            schema.len()
        ))
    } else if schema == "$user" {
        Some(
            "`$user` in a search_path means the current user's schema, not one of that name"
                .to_owned(),
        )
    } else if schema.starts_with("pg_") {
        Some("names starting with `pg_` are reserved for PostgreSQL's own schemas".to_owned())
    } else if schema.contains('\0') {
        Some("it contains a NUL byte".to_owned())
    } else {
        None
    };
    match problem {
        Some(problem) => Err(StoreError::InvalidConfig(format!(
            "schema name {schema:?} cannot be used: {problem}; choose another name"
        ))),
        None => Ok(()),
    }
}

/// The PostgreSQL error behind `error`, if it is one.
fn database_error(error: &sqlx::Error) -> Option<&PgDatabaseError> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    db.try_downcast_ref::<PgDatabaseError>()
}

/// Whether `error` is a PostgreSQL error with this SQLSTATE.
fn has_sqlstate(error: &sqlx::Error, code: &str) -> bool {
    database_error(error).is_some_and(|pg| pg.code() == code)
}

/// The DETAIL of a PostgreSQL error with this SQLSTATE.
fn detail_of<'e>(error: &'e sqlx::Error, code: &str) -> Option<&'e str> {
    database_error(error)
        .filter(|pg| pg.code() == code)
        .and_then(|pg| pg.detail())
}

/// The actual version a conflict raised by `aggregato_append` reports.
fn conflict_version(error: &sqlx::Error) -> Option<u64> {
    detail_of(error, CONFLICT_SQLSTATE)?.parse().ok()
}

/// Feeds the watch from `NOTIFY`s until the store is dropped. Failures are logged and retried:
/// the watch is only a hint, and subscribers keep polling.
async fn listen(pool: PgPool, shared: Weak<Shared>) {
    loop {
        if let Err(error) = listen_once(&pool, &shared).await {
            tracing::warn!(%error, "aggregato: LISTEN for new events failed; retrying");
        }
        if shared.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn listen_once(pool: &PgPool, shared: &Weak<Shared>) -> Result<(), sqlx::Error> {
    let channel: String = sqlx::query_scalar("SELECT aggregato_channel()")
        .fetch_one(pool)
        .await?;
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(&channel).await?;
    loop {
        let notification = listener.recv().await?;
        let Some(shared) = shared.upgrade() else {
            return Ok(());
        };
        if let Ok(position) = notification.payload().parse() {
            shared.advance(position);
        }
    }
}

/// A read of the global log, narrowed in SQL by the filter's lists that are given; its
/// parameters are the position, the limit, then each given list as a `text[]`. One statement
/// per shape, rather than `$3 IS NULL OR ...`, so the planner of a prepared statement can use
/// the `(aggregate_type, position)` index.
fn read_all_sql(by_aggregate_type: bool, by_event_type: bool) -> &'static str {
    macro_rules! read_all {
        ($($condition:literal)?) => {
            concat!(
                "SELECT ",
                event_columns!(),
                " FROM aggregato_events WHERE position > $1 ",
                $($condition,)?
                " ORDER BY position LIMIT $2"
            )
        };
    }
    match (by_aggregate_type, by_event_type) {
        (false, false) => read_all!(),
        (true, false) => read_all!("AND aggregate_type = ANY($3)"),
        (false, true) => read_all!("AND event_type = ANY($3)"),
        (true, true) => read_all!("AND aggregate_type = ANY($3) AND event_type = ANY($4)"),
    }
}

fn decode(row: &PgRow) -> Result<EventEnvelope, StoreError> {
    decode_event::<PgRow, serde_json::Value>(row)
}

/// The `p_expected` and `p_expected_version` arguments of `aggregato_append`.
fn expected_arguments(expected: ExpectedVersion) -> (&'static str, i64) {
    match expected {
        ExpectedVersion::Any => ("any", 0),
        ExpectedVersion::NoStream => ("no_stream", 0),
        ExpectedVersion::StreamExists => ("stream_exists", 0),
        ExpectedVersion::Exact(version) => ("exact", to_db(version)),
    }
}

/// The batch as the column arrays `aggregato_append` takes, kept to build the recorded
/// envelopes afterwards: events this call stores come back without metadata and payload.
#[derive(Default)]
struct Columns {
    event_ids: Vec<Uuid>,
    aggregate_types: Vec<String>,
    event_types: Vec<String>,
    event_versions: Vec<i64>,
    /// Metadata and payloads as JSON text, stored as given (the columns are `json`).
    metadata_json: Vec<String>,
    payload_json: Vec<String>,
    metadata: Vec<Metadata>,
    payloads: Vec<serde_json::Value>,
}

impl Columns {
    fn of(events: Vec<NewEvent>) -> Result<Self, StoreError> {
        let mut columns = Self::default();
        for event in events {
            columns.event_ids.push(event.event_id);
            columns
                .metadata_json
                .push(metadata_json(&event.metadata)?.to_string());
            columns.metadata.push(event.metadata);
            columns.event_versions.push(i64::from(event.event_version));
            columns.aggregate_types.push(event.aggregate_type);
            columns.event_types.push(event.event_type);
            columns.payload_json.push(event.payload.to_string());
            columns.payloads.push(event.payload);
        }
        Ok(columns)
    }

    /// The refusal of this batch by a stream of `stream_type` events.
    fn refusal(&self, stream: &str, stream_type: &str) -> Option<StoreError> {
        let index = self
            .aggregate_types
            .iter()
            .position(|aggregate_type| aggregate_type != stream_type)?;
        Some(StoreError::Refused {
            stream: stream.to_owned(),
            event_id: self.event_ids[index],
            event_type: self.event_types[index].clone(),
            reason: RefusalReason::AggregateType {
                expected: stream_type.to_owned(),
                found: self.aggregate_types[index].clone(),
            },
        })
    }

    /// Calls `aggregato_append` with this batch on `executor`.
    async fn append<'c, E>(
        &self,
        executor: E,
        stream: &str,
        expected: ExpectedVersion,
    ) -> Result<Vec<PgRow>, sqlx::Error>
    where
        E: sqlx::Executor<'c, Database = sqlx::Postgres>,
    {
        let (expected_kind, expected_version) = expected_arguments(expected);
        sqlx::query(APPEND_SQL)
            .bind(stream)
            .bind(expected_kind)
            .bind(expected_version)
            .bind(&self.event_ids[..])
            .bind(&self.aggregate_types[..])
            .bind(&self.event_types[..])
            .bind(&self.event_versions[..])
            .bind(&self.metadata_json[..])
            .bind(&self.payload_json[..])
            .fetch_all(executor)
            .await
    }

    /// The envelopes `aggregato_append` returned `rows` for, in batch order. A row flagged
    /// `repeated` is an event stored before (it comes back whole, as first recorded); any other
    /// is this batch's event at its index, or an earlier copy of it in the same batch.
    fn recorded(self, rows: &[PgRow]) -> Result<Vec<EventEnvelope>, StoreError> {
        if rows.len() != self.event_ids.len() {
            return Err(StoreError::Backend(
                format!(
                    "aggregato_append returned {} rows for a batch of {}",
                    rows.len(),
                    self.event_ids.len()
                )
                .into(),
            ));
        }
        let mut first_of_id: HashMap<Uuid, usize> = HashMap::new();
        let mut recorded: Vec<EventEnvelope> = Vec::with_capacity(rows.len());
        let batch = self
            .metadata
            .into_iter()
            .zip(self.payloads)
            .zip(self.aggregate_types.into_iter().zip(self.event_types));
        for (index, (row, ((metadata, payload), (aggregate_type, event_type)))) in
            rows.iter().zip(batch).enumerate()
        {
            let repeated: bool = row.try_get("repeated").map_err(backend)?;
            let event_id = self.event_ids[index];
            if repeated {
                recorded.push(decode(row)?);
                continue;
            }
            if let Some(&earlier) = first_of_id.get(&event_id) {
                let copy = recorded[earlier].clone();
                recorded.push(copy);
                continue;
            }
            first_of_id.insert(event_id, index);
            let (stream_id, version) = super::row_key(row)?;
            let position: i64 = row.try_get("position").map_err(backend)?;
            recorded.push(EventEnvelope {
                event_id,
                stream_id,
                aggregate_type,
                version,
                position: u64::try_from(position).map_err(backend)?,
                recorded_at: row.try_get("recorded_at").map_err(backend)?,
                event_type,
                event_version: u32::try_from(self.event_versions[index]).map_err(backend)?,
                metadata,
                payload,
            });
        }
        Ok(recorded)
    }
}

#[async_trait]
impl EventStore for PostgresEventStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        check_batch(stream, &events)?;
        let columns = Columns::of(events)?;
        let result = if self.shared.pin_isolation.load(Ordering::Relaxed) {
            self.append_read_committed(&columns, stream, expected).await
        } else {
            match columns.append(&self.pool, stream, expected).await {
                Err(error) if has_sqlstate(&error, ISOLATION_SQLSTATE) => {
                    tracing::debug!(
                        "aggregato: the session's isolation level is not READ COMMITTED; \
                         appends pin it from now on"
                    );
                    self.shared.pin_isolation.store(true, Ordering::Relaxed);
                    self.append_read_committed(&columns, stream, expected).await
                }
                result => result,
            }
        };
        let rows = match result {
            Ok(rows) => rows,
            Err(error) => return Err(self.append_error(error, stream, expected, &columns).await),
        };
        let recorded = columns.recorded(&rows)?;
        if let Some(newest) = recorded.iter().map(|e| e.position).max() {
            self.shared.advance(newest);
        }
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
            " FROM aggregato_events WHERE stream_id = $1 AND version >= $2 ORDER BY version"
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
            " FROM aggregato_events WHERE stream_id = $1 AND version >= $2 ORDER BY version"
        ))
        .bind(stream)
        .bind(to_db(from_version))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        for row in &rows {
            visit_replay_row::<_, sqlx::types::Json<&RawValue>>(
                row,
                stream,
                |json| json.0.get(),
                visit,
            )?;
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
        .bind(to_db(after_position))
        .bind(limit_to_db(limit));
        for list in [aggregate_types, event_types].into_iter().flatten() {
            query = query.bind(list);
        }
        // A prepared statement turns to a generic plan after five runs, and a generic plan
        // cannot know how few rows the lists select: it walks the whole log in position order
        // instead of the `(aggregate_type, position)` index. Filtered reads are planned for
        // their lists every time (a fraction of a millisecond; a page is up to hundreds of
        // rows).
        let query = query.persistent(filter.is_all());
        let rows = query.fetch_all(&self.pool).await.map_err(backend)?;
        decode_page(&rows, decode)
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        let version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM aggregato_events WHERE stream_id = $1",
        )
        .bind(stream)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(u64::try_from(version).unwrap_or(0))
    }

    /// Fed by `LISTEN`/`NOTIFY` (appends of every process on this schema) and by this
    /// process's own appends; see the [module docs](self).
    fn position_watch(&self) -> Option<watch::Receiver<u64>> {
        self.start_listener();
        Some(self.shared.head.subscribe())
    }
}

#[async_trait]
impl SnapshotStore for PostgresEventStore {
    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        check_snapshot(&snapshot)?;
        sqlx::query(
            "INSERT INTO aggregato_snapshots (stream_id, aggregate_type, version, payload, taken_at) \
             VALUES ($1, $2, $3, $4::json, $5) \
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
            " FROM aggregato_snapshots WHERE stream_id = $1"
        ))
        .bind(stream)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref()
            .map(decode_snapshot::<PgRow, serde_json::Value>)
            .transpose()
    }
}

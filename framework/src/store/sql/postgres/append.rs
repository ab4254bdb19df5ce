//! One append: a call of the `aggregato_append` function (see the [module docs](super)) with
//! the batch as column arrays, pinned to READ COMMITTED when the session defaults to another
//! level; its failures turned into conflicts and refusals; its rows turned back into the
//! batch's envelopes.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use sqlx::Row;
use sqlx::postgres::{PgDatabaseError, PgRow};
use uuid::Uuid;

use super::PostgresEventStore;
use super::read::decode;
use crate::event::{EventEnvelope, NewEvent, RecordedEvent};
use crate::store::sql::{backend, is_unique_violation, metadata_json, row_key, to_db};
use crate::store::{ExpectedVersion, RefusalReason, StoreError, check_batch};

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

impl PostgresEventStore {
    /// [`EventStore::append`](crate::store::EventStore::append) on this store.
    pub(super) async fn append_events(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        check_batch(stream, &events)?;
        let batch = Batch::of(events)?;
        let result = if self.shared.pin_isolation.load(Ordering::Relaxed) {
            self.append_read_committed(&batch, stream, expected).await
        } else {
            match batch.append(&self.pool, stream, expected).await {
                Err(error) if has_sqlstate(&error, ISOLATION_SQLSTATE) => {
                    tracing::debug!(
                        "aggregato: the session's isolation level is not READ COMMITTED; \
                         appends pin it from now on"
                    );
                    self.shared.pin_isolation.store(true, Ordering::Relaxed);
                    self.append_read_committed(&batch, stream, expected).await
                }
                result => result,
            }
        };
        let rows = match result {
            Ok(rows) => rows,
            Err(error) => return Err(self.append_error(error, stream, expected, &batch).await),
        };
        let recorded = batch.recorded(&rows)?;
        if let Some(newest) = recorded.iter().map(|e| e.position).max() {
            self.shared.advance(newest);
        }
        Ok(recorded)
    }

    /// Turns a failed `aggregato_append` call into a conflict or a refusal when that is what
    /// it is.
    async fn append_error(
        &self,
        error: sqlx::Error,
        stream: &str,
        expected: ExpectedVersion,
        batch: &Batch,
    ) -> StoreError {
        if let Some(stream_type) = detail_of(&error, AGGREGATE_TYPE_SQLSTATE)
            && let Some(refused) = batch.refusal(stream, stream_type)
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
            None => match self.select_version(stream).await {
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
        batch: &Batch,
        stream: &str,
        expected: ExpectedVersion,
    ) -> Result<Vec<PgRow>, sqlx::Error> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
            .await?;
        let rows = batch.append(&mut *tx, stream, expected).await?;
        tx.commit().await?;
        Ok(rows)
    }
}

/// The batch being appended, one entry per event, kept to build the recorded envelopes from
/// `aggregato_append`'s rows: the events it stores come back without metadata and payload.
struct Batch {
    events: Vec<BatchEvent>,
}

/// One event of a [`Batch`]: the event as given (its payload is the JSON text stored as
/// given: the columns are `json`), and its metadata as JSON text.
struct BatchEvent {
    event: NewEvent,
    metadata_json: String,
}

impl Batch {
    fn of(events: Vec<NewEvent>) -> Result<Self, StoreError> {
        let events = events
            .into_iter()
            .map(|event| {
                Ok(BatchEvent {
                    metadata_json: metadata_json(&event.metadata)?.to_string(),
                    event,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Self { events })
    }

    /// The refusal of this batch by a stream of `stream_type` events.
    fn refusal(&self, stream: &str, stream_type: &str) -> Option<StoreError> {
        let refused = self
            .events
            .iter()
            .map(|entry| &entry.event)
            .find(|event| event.aggregate_type != stream_type)?;
        Some(StoreError::Refused {
            stream: stream.to_owned(),
            event_id: refused.event_id,
            event_type: refused.event_type.clone(),
            reason: RefusalReason::AggregateType {
                expected: stream_type.to_owned(),
                found: refused.aggregate_type.clone(),
            },
        })
    }

    /// Calls `aggregato_append` with this batch on `executor`. The function takes the batch as
    /// one array per column (it inserts with `unnest`), so the arrays are gathered here.
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
        let column =
            |get: fn(&BatchEvent) -> &str| -> Vec<&str> { self.events.iter().map(get).collect() };
        let event_ids: Vec<Uuid> = self.events.iter().map(|e| e.event.event_id).collect();
        let event_versions: Vec<i64> = self
            .events
            .iter()
            .map(|e| i64::from(e.event.event_version))
            .collect();
        sqlx::query(APPEND_SQL)
            .bind(stream)
            .bind(expected_kind)
            .bind(expected_version)
            .bind(event_ids)
            .bind(column(|e| &e.event.aggregate_type))
            .bind(column(|e| &e.event.event_type))
            .bind(event_versions)
            .bind(column(|e| &e.metadata_json))
            .bind(column(|e| e.event.payload.as_str()))
            .fetch_all(executor)
            .await
    }

    /// The events `aggregato_append` returned `rows` for, in batch order. A row flagged
    /// `repeated` is an event stored before (it comes back as first recorded); any other is
    /// this batch's event at its index, or an earlier copy of it in the same batch.
    fn recorded(self, rows: &[PgRow]) -> Result<Vec<RecordedEvent>, StoreError> {
        if rows.len() != self.events.len() {
            return Err(StoreError::Backend(
                format!(
                    "aggregato_append returned {} rows for a batch of {}",
                    rows.len(),
                    self.events.len()
                )
                .into(),
            ));
        }
        let mut first_of_id: HashMap<Uuid, usize> = HashMap::new();
        let mut recorded: Vec<RecordedEvent> = Vec::with_capacity(rows.len());
        for (index, (row, entry)) in rows.iter().zip(self.events).enumerate() {
            let repeated: bool = row.try_get("repeated").map_err(backend)?;
            if repeated {
                // Decoded whole, so a corrupt stored row is reported as a read would report it.
                let stored: EventEnvelope = decode(row)?;
                recorded.push(stored.with_payload(()));
                continue;
            }
            if let Some(&earlier) = first_of_id.get(&entry.event.event_id) {
                let copy = recorded[earlier].clone();
                recorded.push(copy);
                continue;
            }
            first_of_id.insert(entry.event.event_id, index);
            recorded.push(stored_as(entry.event, row)?);
        }
        Ok(recorded)
    }
}

/// `event` as this append stored it: where and when from its row, the rest as given.
fn stored_as(event: NewEvent, row: &PgRow) -> Result<RecordedEvent, StoreError> {
    let (stream_id, version) = row_key(row)?;
    let position: i64 = row.try_get("position").map_err(backend)?;
    Ok(EventEnvelope {
        event_id: event.event_id,
        stream_id,
        aggregate_type: event.aggregate_type,
        version,
        position: u64::try_from(position).map_err(backend)?,
        recorded_at: row.try_get("recorded_at").map_err(backend)?,
        event_type: event.event_type,
        event_version: event.event_version,
        metadata: event.metadata,
        payload: (),
    })
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

/// The PostgreSQL error behind `error`, if it is one.
fn database_error(error: &sqlx::Error) -> Option<&PgDatabaseError> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    db.try_downcast_ref::<PgDatabaseError>()
}

/// Whether `error` is a PostgreSQL error with this SQLSTATE.
pub(super) fn has_sqlstate(error: &sqlx::Error, code: &str) -> bool {
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

//! One append: a `BEGIN IMMEDIATE` transaction (see the [module docs](super)) that reads the
//! ids already stored and the stream's head, checks the expected version and the stream's
//! aggregate type, numbers the new events after the head and inserts them in multi-row
//! statements.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Sqlite, SqliteTransaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::SqliteEventStore;
use super::read::decode;
use crate::event::{EventEnvelope, NewEvent, Payload, RecordedEvent};
use crate::store::sql::{backend, event_columns, is_unique_violation, metadata_json, to_db};
use crate::store::{ExpectedVersion, StoreError, check_batch, wrong_stream_type};

/// Rows per multi-row statement: each row binds 10 parameters, and SQLite allows 32766.
const ROWS_PER_STATEMENT: usize = 1_000;

impl SqliteEventStore {
    /// [`EventStore::append`](crate::store::EventStore::append) on this store, without the
    /// wake-up of subscribers.
    pub(super) async fn append_events(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        check_batch(stream, &events)?;
        let _turn = self.shared.writer.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(backend)?;
        let recorded = Self::append_in(&mut tx, stream, expected, events).await?;
        tx.commit().await.map_err(backend)?;
        Ok(recorded)
    }

    async fn append_in(
        tx: &mut SqliteTransaction<'static>,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
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
        let fresh: Vec<(&RecordedEvent, &Payload)> = recorded
            .iter()
            .filter_map(|e| Some((&e.envelope, e.new_payload.as_ref()?)))
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
}

/// An event of the batch as recorded, and its payload if this append stores it.
struct Recorded {
    envelope: RecordedEvent,
    new_payload: Option<Payload>,
}

/// The batch as it will be recorded: stored ids as they were, new ones numbered after
/// `version` and `head`; an id repeated within the batch is stored once.
fn record(
    stream: &str,
    version: u64,
    head: u64,
    mut held: HashMap<Uuid, RecordedEvent>,
    events: Vec<NewEvent>,
) -> Vec<Recorded> {
    let recorded_at = OffsetDateTime::now_utc();
    let mut added = 0;
    let mut recorded = Vec::with_capacity(events.len());
    for event in events {
        if let Some(envelope) = held.get(&event.event_id) {
            recorded.push(Recorded {
                envelope: envelope.clone(),
                new_payload: None,
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
            payload: (),
        };
        held.insert(envelope.event_id, envelope.clone());
        recorded.push(Recorded {
            envelope,
            new_payload: Some(event.payload),
        });
    }
    recorded
}

/// The events of the batch whose ids are already stored.
async fn stored_events(
    tx: &mut SqliteTransaction<'static>,
    events: &[NewEvent],
) -> Result<HashMap<Uuid, RecordedEvent>, StoreError> {
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
            // Decoded whole, so a corrupt stored row is reported as a read would report it.
            let envelope: EventEnvelope = decode(row)?;
            held.insert(envelope.event_id, envelope.with_payload(()));
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
    events: &[(&RecordedEvent, &Payload)],
) -> Result<(), InsertError> {
    let mut rows = Vec::with_capacity(events.len());
    for &(event, payload) in events {
        let metadata = metadata_json(&event.metadata).map_err(InsertError::Store)?;
        rows.push((event, metadata.to_string(), payload));
    }
    let mut query = QueryBuilder::<Sqlite>::new(concat!(
        "INSERT INTO aggregato_events (",
        event_columns!(),
        ") "
    ));
    query.push_values(rows, |mut row, (event, metadata, payload)| {
        row.push_bind(to_db(event.position))
            .push_bind(event.event_id)
            .push_bind(event.stream_id.clone())
            .push_bind(to_db(event.version))
            .push_bind(event.aggregate_type.clone())
            .push_bind(event.event_type.clone())
            .push_bind(i64::from(event.event_version))
            .push_bind(event.recorded_at)
            .push_bind(metadata)
            .push_bind(payload.as_str().to_owned());
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

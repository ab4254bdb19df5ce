//! What the SQL stores share: turning a database row into an [`EventEnvelope`] (or a
//! [`StoreError::Corrupt`] naming the row's stream and version), and mapping driver errors.
//!
//! Each backend module owns its SQL and its concurrency story; this module holds no SQL.

use serde::de::DeserializeOwned;
use sqlx::{ColumnIndex, Decode, Row, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{CorruptionReason, ReplayEvent, ReplayVisitor, StoreError, StoredPayload};
use crate::event::{EventEnvelope, Metadata};

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod visit;

pub(crate) use visit::visit_page;

/// The columns every event query selects, in the order of the events table; a macro so that
/// queries stay `&'static str` literals (`concat!`), which sqlx accepts as SQL without review.
macro_rules! event_columns {
    () => {
        "position, event_id, stream_id, version, aggregate_type, event_type, event_version, \
         recorded_at, metadata, payload"
    };
}
pub(crate) use event_columns;

/// The columns every snapshot query selects.
macro_rules! snapshot_columns {
    () => {
        "stream_id, aggregate_type, version, schema_version, payload, taken_at"
    };
}
pub(crate) use snapshot_columns;

/// A stored JSON column as the backend hands it over: SQLite keeps text that may not even be
/// JSON, PostgreSQL's `jsonb` is always valid JSON but not always the expected shape.
pub(crate) enum StoredJson {
    Text(String),
    Value(serde_json::Value),
}

impl From<String> for StoredJson {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<serde_json::Value> for StoredJson {
    fn from(value: serde_json::Value) -> Self {
        Self::Value(value)
    }
}

impl StoredJson {
    /// Any JSON value; only text can fail.
    fn into_value(self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Self::Text(text) => serde_json::from_str(&text),
            Self::Value(value) => Ok(value),
        }
    }

    /// A typed value; text that is not JSON and JSON of the wrong shape both fail.
    fn into_typed<T: DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        match self {
            Self::Text(text) => serde_json::from_str(&text),
            Self::Value(value) => serde_json::from_value(value),
        }
    }
}

/// A driver failure, as [`StoreError::Backend`].
pub(crate) fn backend(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(error))
}

/// Whether `error` is the database refusing a duplicate key: another writer stored the same
/// stream version (or event id) first.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// A count or version for a database integer column. No store reaches `i64::MAX`, so clamping
/// larger values keeps every comparison right ("after position 2^64 - 1" is "after the end").
pub(crate) fn to_db(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// [`to_db`] for a `usize` limit.
pub(crate) fn limit_to_db(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// A stored schema version, which must fit the `u32` of [`crate::DomainEvent::EVENT_VERSION`].
fn to_event_version(value: i64) -> Result<u32, CorruptionReason> {
    u32::try_from(value)
        .map_err(|_| CorruptionReason::Other(format!("event_version out of range: {value}")))
}

/// An integer column that must not be negative.
fn to_u64(value: i64, column: &str) -> Result<u64, CorruptionReason> {
    u64::try_from(value)
        .map_err(|_| CorruptionReason::Other(format!("{column} is negative: {value}")))
}

/// The row's stream and version: what every corruption report names. A row whose key columns
/// do not even decode is a backend failure, since there is nothing to name.
pub(crate) fn row_key<'r, R>(row: &'r R) -> Result<(String, u64), StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let stream: String = row.try_get("stream_id").map_err(backend)?;
    let version: i64 = row.try_get("version").map_err(backend)?;
    let version = to_u64(version, "version").map_err(|reason| StoreError::Corrupt {
        stream: stream.clone(),
        version: 0,
        position: None,
        reason,
    })?;
    Ok((stream, version))
}

/// One column of a row whose stream and version are known; a value of the wrong type is a
/// corruption of that event.
fn column<'r, R, T>(row: &'r R, name: &'static str) -> Result<T, CorruptionReason>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    row.try_get(name)
        .map_err(|error| CorruptionReason::Other(format!("column {name}: {error}")))
}

/// The columns a replay query selects, in this order (decoded by index: no name lookups per
/// row).
macro_rules! replay_columns {
    () => {
        "version, aggregate_type, event_type, event_version, payload"
    };
}
pub(crate) use replay_columns;

/// Hands one row of `replay_columns!()` of `stream` to `visit`, its payload borrowed from the
/// row as JSON text (`P` is how the backend hands it over; `as_json` gets the text).
pub(crate) fn visit_replay_row<'r, R, P>(
    row: &'r R,
    stream: &str,
    as_json: fn(&P) -> &str,
    visit: &mut ReplayVisitor<'_>,
) -> Result<(), StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    &'r str: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    P: Decode<'r, R::Database> + Type<R::Database>,
{
    let version: i64 = row.try_get(0).map_err(backend)?;
    let corrupt = |version, reason| StoreError::Corrupt {
        stream: stream.to_owned(),
        version,
        position: None,
        reason,
    };
    let version = to_u64(version, "version").map_err(|reason| corrupt(0, reason))?;
    let other = |name: &str, error: sqlx::Error| {
        corrupt(
            version,
            CorruptionReason::Other(format!("column {name}: {error}")),
        )
    };
    let aggregate_type: &str = row
        .try_get(1)
        .map_err(|error| other("aggregate_type", error))?;
    let event_type: &str = row.try_get(2).map_err(|error| other("event_type", error))?;
    let event_version: i64 = row
        .try_get(3)
        .map_err(|error| other("event_version", error))?;
    let event_version =
        to_event_version(event_version).map_err(|reason| corrupt(version, reason))?;
    let payload: P = row.try_get(4).map_err(|error| other("payload", error))?;
    visit(ReplayEvent {
        version,
        aggregate_type,
        event_type,
        event_version,
        payload: StoredPayload::Json(as_json(&payload)),
    })
}

/// Decodes one row of `event_columns!()`; `J` is how the backend stores JSON.
pub(crate) fn decode_event<'r, R, J>(row: &'r R) -> Result<EventEnvelope, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Uuid: Decode<'r, R::Database> + Type<R::Database>,
    OffsetDateTime: Decode<'r, R::Database> + Type<R::Database>,
    J: Decode<'r, R::Database> + Type<R::Database> + Into<StoredJson>,
{
    let (stream, version) = row_key(row)?;
    decode_fields::<R, J>(row, stream.clone(), version).map_err(|reason| StoreError::Corrupt {
        stream,
        version,
        position: row
            .try_get::<i64, _>("position")
            .ok()
            .and_then(|position| u64::try_from(position).ok()),
        reason,
    })
}

/// Decodes the rows of a read of the global log, in order. A row that does not decode ends
/// the page early (see [`crate::store::EventStore::read_all`]): it is an error only when it
/// comes first, so the events before it are not held back by it.
pub(crate) fn decode_page<R>(
    rows: &[R],
    decode: fn(&R) -> Result<EventEnvelope, StoreError>,
) -> Result<Vec<EventEnvelope>, StoreError> {
    let mut page = Vec::with_capacity(rows.len());
    for row in rows {
        match decode(row) {
            Ok(envelope) => page.push(envelope),
            Err(_) if !page.is_empty() => break,
            Err(error) => return Err(error),
        }
    }
    Ok(page)
}

fn decode_fields<'r, R, J>(
    row: &'r R,
    stream_id: String,
    version: u64,
) -> Result<EventEnvelope, CorruptionReason>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Uuid: Decode<'r, R::Database> + Type<R::Database>,
    OffsetDateTime: Decode<'r, R::Database> + Type<R::Database>,
    J: Decode<'r, R::Database> + Type<R::Database> + Into<StoredJson>,
{
    let event_version = to_event_version(column(row, "event_version")?)?;
    let metadata: J = column(row, "metadata")?;
    let payload: J = column(row, "payload")?;
    Ok(EventEnvelope {
        event_id: column(row, "event_id")?,
        stream_id,
        aggregate_type: column(row, "aggregate_type")?,
        version,
        position: to_u64(column(row, "position")?, "position")?,
        recorded_at: column(row, "recorded_at")?,
        event_type: column(row, "event_type")?,
        event_version,
        metadata: metadata
            .into()
            .into_typed::<Metadata>()
            .map_err(CorruptionReason::Metadata)?,
        payload: payload
            .into()
            .into_value()
            .map_err(CorruptionReason::Json)?,
    })
}

/// Decodes one row of `snapshot_columns!()`; a payload that is not JSON is corrupt.
pub(crate) fn decode_snapshot<'r, R, J>(row: &'r R) -> Result<super::Snapshot, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    OffsetDateTime: Decode<'r, R::Database> + Type<R::Database>,
    J: Decode<'r, R::Database> + Type<R::Database> + Into<StoredJson>,
{
    let (stream_id, version) = row_key(row)?;
    let fields = || -> Result<super::Snapshot, CorruptionReason> {
        let payload: J = column(row, "payload")?;
        Ok(super::Snapshot {
            stream_id: stream_id.clone(),
            aggregate_type: column(row, "aggregate_type")?,
            version,
            schema_version: u32::try_from(column::<R, i64>(row, "schema_version")?)
                .map_err(|_| CorruptionReason::Other("schema_version out of range".to_owned()))?,
            payload: payload
                .into()
                .into_value()
                .map_err(CorruptionReason::Json)?,
            taken_at: column(row, "taken_at")?,
        })
    };
    fields().map_err(|reason| StoreError::Corrupt {
        stream: stream_id.clone(),
        version,
        position: None,
        reason,
    })
}

/// Serializes metadata for storage. [`Metadata`] is plain data with string keys, so this only
/// fails if a free-form value cannot be serialized, which `serde_json::Value` always can.
pub(crate) fn metadata_json(metadata: &Metadata) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(metadata).map_err(backend)
}

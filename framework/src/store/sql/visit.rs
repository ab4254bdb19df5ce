//! A page of the global log handed to a [`StoredEventVisitor`] row by row, each event's text
//! columns and payload borrowed from its row: what the SQL stores'
//! [`EventStore::visit_all`](crate::store::EventStore::visit_all) shares.

use sqlx::{ColumnIndex, Decode, Row, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{backend, column, to_event_version, to_u64};
use crate::event::{Metadata, StoredPayload};
use crate::store::{CorruptionReason, StoreError, StoredEvent, StoredEventVisitor};

/// Hands the rows of `event_columns!()` to `visit` in order; `J` is how the backend hands over
/// a JSON column, `as_json` gets its text. A row that does not decode ends the page early, as
/// [`super::decode_page`] does: an error only when it comes first.
pub(crate) fn visit_page<'r, R, J>(
    rows: &'r [R],
    as_json: fn(&J) -> &str,
    visit: &mut StoredEventVisitor<'_>,
) -> Result<(), StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    &'r str: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Uuid: Decode<'r, R::Database> + Type<R::Database>,
    OffsetDateTime: Decode<'r, R::Database> + Type<R::Database>,
    J: Decode<'r, R::Database> + Type<R::Database>,
{
    for (index, row) in rows.iter().enumerate() {
        let read = EventRow::<J>::read(row).and_then(|event| {
            let metadata: Metadata = serde_json::from_str(as_json(&event.metadata))
                .map_err(|error| event.corrupt(CorruptionReason::Metadata(error)))?;
            Ok((event, metadata))
        });
        let (event, metadata) = match read {
            Ok(read) => read,
            Err(_) if index > 0 => break,
            Err(error) => return Err(error),
        };
        visit(StoredEvent {
            position: event.position,
            event_id: event.event_id,
            stream_id: event.stream_id,
            aggregate_type: event.aggregate_type,
            version: event.version,
            recorded_at: event.recorded_at,
            event_type: event.event_type,
            event_version: event.event_version,
            metadata: &metadata,
            payload: StoredPayload::Json(as_json(&event.payload)),
        })?;
    }
    Ok(())
}

/// The columns of one row, borrowed from it where they are text.
struct EventRow<'r, J> {
    position: u64,
    event_id: Uuid,
    stream_id: &'r str,
    aggregate_type: &'r str,
    version: u64,
    recorded_at: OffsetDateTime,
    event_type: &'r str,
    event_version: u32,
    metadata: J,
    payload: J,
}

impl<'r, J> EventRow<'r, J> {
    fn read<R>(row: &'r R) -> Result<Self, StoreError>
    where
        R: Row,
        &'static str: ColumnIndex<R>,
        &'r str: Decode<'r, R::Database> + Type<R::Database>,
        i64: Decode<'r, R::Database> + Type<R::Database>,
        Uuid: Decode<'r, R::Database> + Type<R::Database>,
        OffsetDateTime: Decode<'r, R::Database> + Type<R::Database>,
        J: Decode<'r, R::Database> + Type<R::Database>,
    {
        // Without its stream and version there is nothing to name: a backend failure.
        let stream_id: &str = row.try_get("stream_id").map_err(backend)?;
        let version: i64 = row.try_get("version").map_err(backend)?;
        let corrupt = |version, reason| StoreError::Corrupt {
            stream: stream_id.to_owned(),
            version,
            position: row
                .try_get::<i64, _>("position")
                .ok()
                .and_then(|position| u64::try_from(position).ok()),
            reason,
        };
        let version = to_u64(version, "version").map_err(|reason| corrupt(0, reason))?;
        let fields = || -> Result<Self, CorruptionReason> {
            Ok(Self {
                position: to_u64(column(row, "position")?, "position")?,
                event_id: column(row, "event_id")?,
                stream_id,
                aggregate_type: column(row, "aggregate_type")?,
                version,
                recorded_at: column(row, "recorded_at")?,
                event_type: column(row, "event_type")?,
                event_version: to_event_version(column(row, "event_version")?)?,
                metadata: column(row, "metadata")?,
                payload: column(row, "payload")?,
            })
        };
        fields().map_err(|reason| corrupt(version, reason))
    }

    fn corrupt(&self, reason: CorruptionReason) -> StoreError {
        StoreError::Corrupt {
            stream: self.stream_id.to_owned(),
            version: self.version,
            position: Some(self.position),
            reason,
        }
    }
}

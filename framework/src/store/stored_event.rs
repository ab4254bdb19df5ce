//! One event of the global log as a reader of the log sees it, borrowed from the store's read:
//! what [`EventStore::visit_all`](super::EventStore::visit_all) hands its visitor, so a typed
//! consumer decodes each payload straight from the stored form (JSON text, for the SQL
//! stores) without an intermediate `serde_json::Value`.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{CorruptionReason, StoreError};
use crate::event::{DecodeError, EventEnvelope, EventSet, Metadata, StoredPayload};

/// What [`EventStore::visit_all`](super::EventStore::visit_all) calls for each event, in
/// global order. An error stops the read and is returned from it.
pub type StoredEventVisitor<'v> = dyn FnMut(StoredEvent<'_>) -> Result<(), StoreError> + Send + 'v;

/// One event of the global log, borrowed from the store's read: an [`EventEnvelope`] whose
/// payload has not been decoded yet.
#[derive(Debug, Clone, Copy)]
pub struct StoredEvent<'a> {
    /// Its position in the store's global order.
    pub position: u64,
    /// Its unique id.
    pub event_id: Uuid,
    /// The stream it belongs to.
    pub stream_id: &'a str,
    /// The aggregate type of the stream.
    pub aggregate_type: &'a str,
    /// Its version in the stream.
    pub version: u64,
    /// When the store recorded it.
    pub recorded_at: OffsetDateTime,
    /// Its stored name.
    pub event_type: &'a str,
    /// Its schema version.
    pub event_version: u32,
    /// Correlation, causation, actor and free-form context.
    pub metadata: &'a Metadata,
    /// Its payload, as the store holds it.
    pub payload: StoredPayload<'a>,
}

impl StoredEvent<'_> {
    /// Decodes the payload into an aggregate's event set.
    pub fn decode<E: EventSet>(&self) -> Result<E, DecodeError> {
        E::decode(self.event_type, self.event_version, self.payload)
    }

    /// The envelope of this event around `payload` (its decoded form).
    pub fn to_envelope<P>(&self, payload: P) -> EventEnvelope<P> {
        EventEnvelope {
            event_id: self.event_id,
            stream_id: self.stream_id.to_owned(),
            aggregate_type: self.aggregate_type.to_owned(),
            version: self.version,
            position: self.position,
            recorded_at: self.recorded_at,
            event_type: self.event_type.to_owned(),
            event_version: self.event_version,
            metadata: self.metadata.clone(),
            payload,
        }
    }

    /// A [`StoreError::Corrupt`] naming this event, for a payload (or anything else of it)
    /// that cannot be read.
    pub fn corrupt(&self, reason: CorruptionReason) -> StoreError {
        StoreError::Corrupt {
            stream: self.stream_id.to_owned(),
            version: self.version,
            position: Some(self.position),
            reason,
        }
    }
}

impl<'a> From<&'a EventEnvelope> for StoredEvent<'a> {
    fn from(envelope: &'a EventEnvelope) -> Self {
        Self {
            position: envelope.position,
            event_id: envelope.event_id,
            stream_id: &envelope.stream_id,
            aggregate_type: &envelope.aggregate_type,
            version: envelope.version,
            recorded_at: envelope.recorded_at,
            event_type: &envelope.event_type,
            event_version: envelope.event_version,
            metadata: &envelope.metadata,
            payload: StoredPayload::Value(&envelope.payload),
        }
    }
}

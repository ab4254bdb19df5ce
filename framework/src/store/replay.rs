//! What rebuilding an aggregate reads from a stream: each event's version, name, schema
//! version and payload, and nothing else, handed to a visitor one event at a time and borrowed
//! from the store's read buffer, so replaying allocates nothing per event beyond decoding it.

use crate::event::{DecodeError, EventEnvelope, EventSet, StoredPayload};

/// What [`EventStore::replay_stream`](super::EventStore::replay_stream) calls for each event,
/// in version order. An error stops the replay and is returned from it.
pub type ReplayVisitor<'v> =
    dyn FnMut(ReplayEvent<'_>) -> Result<(), super::StoreError> + Send + 'v;

/// One event of a stream as read to rebuild an aggregate.
#[derive(Debug, Clone, Copy)]
pub struct ReplayEvent<'a> {
    /// Its version in the stream.
    pub version: u64,
    /// The aggregate type it was stored with: a replay checks it is the one it rebuilds.
    pub aggregate_type: &'a str,
    /// Its stored name.
    pub event_type: &'a str,
    /// Its schema version.
    pub event_version: u32,
    /// Its payload.
    pub payload: StoredPayload<'a>,
}

impl ReplayEvent<'_> {
    /// Decodes the payload into the aggregate's event set.
    pub fn decode<E: EventSet>(&self) -> Result<E, DecodeError> {
        E::decode(self.event_type, self.event_version, self.payload)
    }
}

impl<'a> From<&'a EventEnvelope> for ReplayEvent<'a> {
    fn from(envelope: &'a EventEnvelope) -> Self {
        Self {
            version: envelope.version,
            aggregate_type: &envelope.aggregate_type,
            event_type: &envelope.event_type,
            event_version: envelope.event_version,
            payload: StoredPayload::Value(&envelope.payload),
        }
    }
}

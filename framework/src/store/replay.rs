//! What rebuilding an aggregate reads from a stream: each event's version, name, schema
//! version and payload, and nothing else.

use serde_json::value::RawValue;

use crate::event::{DecodeError, EventEnvelope, EventSet};

/// One event of a stream as read to rebuild an aggregate ([`EventStore::read_stream_for_replay`]).
///
/// [`EventStore::read_stream_for_replay`]: super::EventStore::read_stream_for_replay
#[derive(Debug, Clone)]
pub struct ReplayEvent {
    /// Its version in the stream.
    pub version: u64,
    /// Its stored name.
    pub event_type: String,
    /// Its schema version.
    pub event_version: u32,
    /// Its payload.
    pub payload: ReplayPayload,
}

/// The payload of a [`ReplayEvent`], in whichever form the store holds it.
#[derive(Debug, Clone)]
pub enum ReplayPayload {
    /// Parsed JSON, from a store that keeps payloads as values.
    Value(serde_json::Value),
    /// JSON text, from a store that keeps payloads as text: decoded straight into the event
    /// type, without building a `Value` first.
    Json(Box<RawValue>),
}

impl ReplayEvent {
    /// Decodes the payload into the aggregate's event set.
    pub fn decode<E: EventSet>(&self) -> Result<E, DecodeError> {
        match &self.payload {
            ReplayPayload::Value(value) => E::decode(&self.event_type, self.event_version, value),
            ReplayPayload::Json(json) => {
                E::decode_json(&self.event_type, self.event_version, json.get())
            }
        }
    }
}

impl From<EventEnvelope> for ReplayEvent {
    fn from(envelope: EventEnvelope) -> Self {
        Self {
            version: envelope.version,
            event_type: envelope.event_type,
            event_version: envelope.event_version,
            payload: ReplayPayload::Value(envelope.payload),
        }
    }
}

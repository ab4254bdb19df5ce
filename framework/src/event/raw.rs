//! An event as stored, not decoded into a Rust type: for readers that pass events on (the
//! outbox) rather than act on their fields.

use super::{Payload, StoredPayload};

/// An event as stored: its name, schema version and JSON payload. A projection whose `Event`
/// is `RawEvent` receives every event its filter lets through, whatever its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    /// Its stored name.
    pub event_type: String,
    /// Its schema version.
    pub event_version: u32,
    /// Its payload, JSON text.
    pub payload: Payload,
}

impl RawEvent {
    /// The raw event of a stored one.
    pub fn from_stored(event_type: &str, event_version: u32, payload: StoredPayload<'_>) -> Self {
        Self {
            event_type: event_type.to_owned(),
            event_version,
            payload: match payload {
                StoredPayload::Value(value) => Payload::from(value),
                StoredPayload::Json(text) => Payload::trusted(text.to_owned()),
            },
        }
    }
}

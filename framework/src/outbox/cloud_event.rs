//! The wire format: CloudEvents 1.0, JSON, structured mode.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::event::{DecodeError, EventEnvelope, EventSet, Metadata, Payload, StoredPayload};

/// The CloudEvents spec version this crate writes and reads.
pub const SPEC_VERSION: &str = "1.0";

/// One event as a CloudEvents 1.0 event in structured JSON: the context attributes (`id` =
/// the event id, `source`, `type` = the stored event name, `subject` = the stream id, `time`,
/// `datacontenttype`), `data` = the event's payload, and extension attributes for what the
/// envelope holds beside: the aggregate type, the event's schema version, its version in the
/// stream, its global position, and the correlation and causation ids.
///
/// Extension values that can exceed CloudEvents' 32-bit integers (versions, positions) are
/// written as strings, as the spec asks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CloudEvent {
    /// Always `"1.0"`.
    pub specversion: String,
    /// The event's id (the message id).
    pub id: Uuid,
    /// Who published it: a URI naming the service (`Publisher::with_source`).
    pub source: String,
    /// The event's stored name.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The stream it belongs to.
    pub subject: String,
    /// When the store recorded it.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// Always `"application/json"`.
    pub datacontenttype: String,
    /// The payload, as stored.
    pub data: Box<RawValue>,
    /// Extension: the aggregate type of the stream.
    pub aggregatetype: String,
    /// Extension: the event's schema version.
    #[serde(with = "as_string")]
    pub eventversion: u32,
    /// Extension: its version in the stream.
    #[serde(with = "as_string")]
    pub streamversion: u64,
    /// Extension: its position in the publisher's global log.
    #[serde(with = "as_string")]
    pub position: u64,
    /// Extension: the correlation id, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlationid: Option<Uuid>,
    /// Extension: the causation id, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causationid: Option<Uuid>,
}

/// Why a message body is not an event this side can read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CloudEventError {
    /// Not CloudEvents JSON of this shape.
    #[error("not a CloudEvents 1.0 JSON event: {0}")]
    Format(#[from] serde_json::Error),
    /// A spec version this crate does not read.
    #[error("CloudEvents spec version `{0}` is not 1.0")]
    SpecVersion(String),
    /// The data is not JSON.
    #[error("CloudEvents data content type `{0}` is not application/json")]
    ContentType(String),
    /// The payload does not decode into the consumer's events.
    #[error("event {id} (`{event_type}`) does not decode: {source}")]
    Decode {
        /// The event id.
        id: Uuid,
        /// The stored name.
        event_type: String,
        /// Why.
        #[source]
        source: DecodeError,
    },
}

impl CloudEvent {
    /// The CloudEvent of `envelope` (its payload left out) around `payload`, from `source`.
    pub fn new(
        envelope: &EventEnvelope<()>,
        payload: &Payload,
        source: &str,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            specversion: SPEC_VERSION.to_owned(),
            id: envelope.event_id,
            source: source.to_owned(),
            event_type: envelope.event_type.clone(),
            subject: envelope.stream_id.clone(),
            time: envelope.recorded_at,
            datacontenttype: "application/json".to_owned(),
            data: RawValue::from_string(payload.as_str().to_owned())?,
            aggregatetype: envelope.aggregate_type.clone(),
            eventversion: envelope.event_version,
            streamversion: envelope.version,
            position: envelope.position,
            correlationid: envelope.metadata.correlation_id,
            causationid: envelope.metadata.causation_id,
        })
    }

    /// The structured-mode JSON body.
    pub fn to_vec(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// Reads a structured-mode JSON body, checking the spec version and content type.
    pub fn from_slice(body: &[u8]) -> Result<Self, CloudEventError> {
        let event: Self = serde_json::from_slice(body)?;
        if event.specversion != SPEC_VERSION {
            return Err(CloudEventError::SpecVersion(event.specversion));
        }
        if event.datacontenttype != "application/json" {
            return Err(CloudEventError::ContentType(event.datacontenttype));
        }
        Ok(event)
    }

    /// The typed event and its envelope: what the consumer's handlers take.
    pub fn decode<E: EventSet>(&self) -> Result<EventEnvelope<E>, CloudEventError> {
        let decode_error = |source| CloudEventError::Decode {
            id: self.id,
            event_type: self.event_type.clone(),
            source,
        };
        let event_version = self.eventversion;
        let payload = E::decode(
            &self.event_type,
            event_version,
            StoredPayload::Json(self.data.get()),
        )
        .map_err(decode_error)?;
        Ok(EventEnvelope {
            event_id: self.id,
            stream_id: self.subject.clone(),
            aggregate_type: self.aggregatetype.clone(),
            version: self.streamversion,
            position: self.position,
            recorded_at: self.time,
            event_type: self.event_type.clone(),
            event_version,
            metadata: Metadata {
                correlation_id: self.correlationid,
                causation_id: self.causationid,
                ..Metadata::default()
            },
            payload,
        })
    }
}

/// Integers written as JSON strings, read from strings or numbers.
mod as_string {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<T: Display, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub(super) fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: FromStr<Err: Display> + TryFrom<u64>,
        D: Deserializer<'de>,
    {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Text(String),
            Number(u64),
        }
        match Either::deserialize(deserializer)? {
            Either::Number(number) => T::try_from(number)
                .map_err(|_| serde::de::Error::custom(format!("{number} is out of range"))),
            Either::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

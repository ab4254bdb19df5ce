//! Domain events, the envelope they are stored in, and their encoding.
//!
//! A [`DomainEvent`] is one fact type (a struct the user owns). An [`EventSet`] is the closed
//! set of facts of one aggregate (the enum `#[derive(Aggregate)]` generates); it knows how to
//! turn each fact into a stored payload and back. [`EventEnvelope`] is what a store returns:
//! the payload plus where and when it was recorded.

use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

mod payload;
mod raw;

pub use payload::{Payload, to_payload};
pub use raw::RawEvent;

/// One type of domain event: a serde-serializable fact with a stable name and schema version.
///
/// Derived with `#[derive(DomainEvent)]`; `#[event(name = "...", version = N)]` overrides the
/// defaults (the type's name, version 1). The name is stored with every event forever: rename
/// the Rust type freely, but keep the name.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a domain event",
    label = "listed as an event but has no `DomainEvent` impl",
    note = "add `#[derive(aggregato::DomainEvent, serde::Serialize, serde::Deserialize, Clone, Debug)]` to `{Self}`; or, if `{Self}` is a command, list it in `commands(...)`"
)]
pub trait DomainEvent: crate::checks::EventData {
    /// The stable stored name of this event type.
    const EVENT_TYPE: &'static str;
    /// The schema version of this event type, starting at 1.
    const EVENT_VERSION: u32;
    /// Names this event was stored under before it was renamed (`#[event(aliases("Old"))]`):
    /// a stored event of one of them decodes as this one. New events are stored under
    /// [`Self::EVENT_TYPE`]. None by default.
    const EVENT_ALIASES: &'static [&'static str] = &[];
    /// Where the outbox routes this event (`#[event(route = "payments.settled")]`), instead of
    /// by its aggregate type and stored name: see
    /// [`OutgoingMessage::route`](crate::outbox::OutgoingMessage::route). `None` by default.
    const EVENT_ROUTE: Option<&'static str> = None;

    /// Rebuilds this event from a payload stored at `stored_version`, in whichever form the
    /// store hands it over (a `&serde_json::Value`, or JSON text decoded straight into the
    /// type: see [`StoredPayload`]).
    ///
    /// By default only [`Self::EVENT_VERSION`] is accepted. `#[event(version = 2,
    /// upcast_from = MoneyDepositedV1)]` accepts the older versions too: a payload stored at
    /// an older version is decoded as that older type and converted with `From`, step by
    /// step up the chain.
    fn decode_stored<'a>(
        stored_version: u32,
        payload: impl Into<StoredPayload<'a>>,
    ) -> Result<Self, DecodeError> {
        if stored_version != Self::EVENT_VERSION {
            return Err(DecodeError::unsupported_version::<Self>(stored_version));
        }
        decode_current(payload.into())
    }
}

/// The closed set of events of one aggregate, usually the enum `#[derive(Aggregate)]`
/// generates.
///
/// It serializes as `{"type": name, "version": n, "data": payload}`; stores keep the name and
/// version in their own columns and the payload alone.
pub trait EventSet: Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static {
    /// Every stored name in the set, in declaration order.
    const EVENT_TYPES: &'static [&'static str];
    /// Every event of the set with its route (`#[event(route = "...")]`), in declaration order;
    /// a [`Publisher`](crate::outbox::Publisher) given the table
    /// ([`with_routes`](crate::outbox::Publisher::with_routes)) routes by it. Empty by default
    /// (a hand-written set routes nothing).
    const EVENT_ROUTES: &'static [EventRoute] = &[];

    /// The stored name of this event.
    fn event_type(&self) -> &'static str;
    /// The schema version of this event.
    fn event_version(&self) -> u32;
    /// This event's payload, without its name. A value JSON cannot hold (a `NaN` or infinite
    /// float) is an error, never a lossy payload: see [`to_payload`].
    fn encode(&self) -> Result<serde_json::Value, serde_json::Error>;
    /// This event's payload as the JSON text an append carries, with the refusals of
    /// [`encode`](Self::encode). `#[derive(Aggregate)]` serializes the event straight to text
    /// ([`Payload::encode`]); the default goes through [`encode`](Self::encode)'s `Value`,
    /// which suits a hand-written set that edits the `Value`.
    fn encode_payload(&self) -> Result<Payload, serde_json::Error> {
        self.encode().map(Payload::from)
    }
    /// Rebuilds an event from its stored name, version and payload (a `&serde_json::Value`
    /// or JSON text: see [`StoredPayload`]).
    fn decode<'a>(
        event_type: &str,
        event_version: u32,
        payload: impl Into<StoredPayload<'a>>,
    ) -> Result<Self, DecodeError>;
}

/// One event of an [`EventSet`] and where the outbox routes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRoute {
    /// The stored name ([`DomainEvent::EVENT_TYPE`]).
    pub event_type: &'static str,
    /// Names it was stored under before ([`DomainEvent::EVENT_ALIASES`]): an old event
    /// published again is routed as a new one.
    pub aliases: &'static [&'static str],
    /// Its route ([`DomainEvent::EVENT_ROUTE`]); `None` routes it by aggregate type and name.
    pub route: Option<&'static str>,
}

/// A stored payload, in whichever form the store holds it. Every decode takes either:
/// parsed JSON from a store that keeps values, or JSON text from one that keeps text, which is
/// deserialized straight into the event type without building a `Value` first.
/// `&serde_json::Value` and `&str` convert into it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum StoredPayload<'a> {
    /// Parsed JSON.
    Value(&'a serde_json::Value),
    /// JSON text.
    Json(&'a str),
}

impl<'a> From<&'a serde_json::Value> for StoredPayload<'a> {
    fn from(value: &'a serde_json::Value) -> Self {
        Self::Value(value)
    }
}

impl<'a> From<&'a str> for StoredPayload<'a> {
    fn from(json: &'a str) -> Self {
        Self::Json(json)
    }
}

impl StoredPayload<'_> {
    /// Deserializes the payload into `T`.
    pub fn deserialize<T: DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        match self {
            Self::Value(value) => T::deserialize(value),
            Self::Json(json) => serde_json::from_str(json),
        }
    }
}

/// Deserializes a payload stored at `T`'s own version.
pub(crate) fn decode_current<T: DomainEvent>(payload: StoredPayload<'_>) -> Result<T, DecodeError> {
    payload
        .deserialize()
        .map_err(|source| DecodeError::Payload {
            event_type: T::EVENT_TYPE.to_owned(),
            source,
        })
}

/// Why a stored payload could not become an event.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The stored name belongs to no event of this aggregate.
    #[error("unknown event type `{event_type}`")]
    UnknownEventType {
        /// The stored name.
        event_type: String,
    },
    /// The stored schema version is not one the code can read: newer than the event type, or
    /// older than its oldest `upcast_from` schema.
    #[error(
        "event `{event_type}` is stored at version {stored} but the code knows version {known}"
    )]
    UnsupportedVersion {
        /// The stored name.
        event_type: String,
        /// The version on record.
        stored: u32,
        /// The version of the Rust type.
        known: u32,
    },
    /// The payload does not deserialize into the event type.
    #[error("payload of `{event_type}` does not deserialize: {source}")]
    Payload {
        /// The stored name.
        event_type: String,
        /// serde's reason.
        #[source]
        source: serde_json::Error,
    },
}

impl DecodeError {
    /// `stored` is a version `T` cannot read.
    pub(crate) fn unsupported_version<T: DomainEvent>(stored: u32) -> Self {
        Self::UnsupportedVersion {
            event_type: T::EVENT_TYPE.to_owned(),
            stored,
            known: T::EVENT_VERSION,
        }
    }
}

/// Context recorded with every event: who caused it and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Groups every event caused, directly or not, by one original request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<Uuid>,
    /// The id of the message (command or event) that directly caused this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    /// Who asked for it: a user, a service, a saga.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Anything else worth keeping.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Metadata {
    /// Empty metadata.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the correlation id.
    pub fn with_correlation_id(mut self, id: Uuid) -> Self {
        self.correlation_id = Some(id);
        self
    }
    /// Sets the causation id.
    pub fn with_causation_id(mut self, id: Uuid) -> Self {
        self.causation_id = Some(id);
        self
    }
    /// Sets the actor.
    pub fn with_actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }
    /// Adds a free-form entry.
    pub fn with_extra(mut self, key: impl Into<String>, value: serde_json::Value) -> Self {
        self.extra.insert(key.into(), value);
        self
    }
}

/// An event to append: its payload, already encoded, and what the store must keep with it.
///
/// [`NewEvent::encode`] builds one from an aggregate's event; by hand, a `serde_json::Value`
/// converts into the payload:
///
/// ```
/// use aggregato::{Metadata, NewEvent};
///
/// let event = NewEvent {
///     event_id: uuid::Uuid::now_v7(),
///     aggregate_type: "Account".into(),
///     event_type: "MoneyDeposited".into(),
///     event_version: 1,
///     metadata: Metadata::new(),
///     payload: serde_json::json!({"amount": 100}).into(),
/// };
/// assert_eq!(event.payload.as_str(), r#"{"amount":100}"#);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Unique id (UUID v7). Appending an id the store already holds is a no-op.
    pub event_id: Uuid,
    /// The aggregate type of the stream.
    pub aggregate_type: String,
    /// The stored event name.
    pub event_type: String,
    /// The event's schema version.
    pub event_version: u32,
    /// Correlation, causation, actor and free-form context.
    pub metadata: Metadata,
    /// The encoded payload: JSON text.
    pub payload: Payload,
}

impl NewEvent {
    /// Encodes `event` for appending, with a fresh UUID v7 id.
    pub fn encode<E: EventSet>(
        aggregate_type: &str,
        event: &E,
        metadata: Metadata,
    ) -> Result<Self, serde_json::Error> {
        Self::encode_as(Uuid::now_v7(), aggregate_type, event, metadata)
    }

    /// Encodes `event` for appending under the id `event_id`: appending it again (a retry
    /// after a lost reply) returns the stored event instead of storing a second one.
    pub fn encode_as<E: EventSet>(
        event_id: Uuid,
        aggregate_type: &str,
        event: &E,
        metadata: Metadata,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            event_id,
            aggregate_type: aggregate_type.to_owned(),
            event_type: event.event_type().to_owned(),
            event_version: event.event_version(),
            metadata,
            payload: event.encode_payload()?,
        })
    }
}

/// What an append hands back for each event of its batch: where and when it was recorded,
/// without its payload (the appender has it already, typed). An event whose id was stored
/// before comes back as first recorded.
pub type RecordedEvent = EventEnvelope<()>;

/// A recorded event: its payload (`P`, encoded JSON by default, or a decoded event) and where
/// and when it was stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope<P = serde_json::Value> {
    /// Unique id (UUID v7).
    pub event_id: Uuid,
    /// The stream it belongs to (`"{aggregate type}-{id}"` for aggregates).
    pub stream_id: String,
    /// The aggregate type of the stream.
    pub aggregate_type: String,
    /// Its version in the stream: 1 for the first event, then 2, 3, ...
    pub version: u64,
    /// Its position in the store's global order: 1, 2, ... without reuse.
    pub position: u64,
    /// When the store recorded it.
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    /// The stored event name.
    pub event_type: String,
    /// The event's schema version.
    pub event_version: u32,
    /// Correlation, causation, actor and free-form context.
    pub metadata: Metadata,
    /// The event itself.
    pub payload: P,
}

impl EventEnvelope {
    /// Decodes the payload into the aggregate's event set, keeping the envelope.
    pub fn decode<E: EventSet>(self) -> Result<EventEnvelope<E>, DecodeError> {
        let payload = E::decode(&self.event_type, self.event_version, &self.payload)?;
        Ok(self.with_payload(payload))
    }
}

impl<P> EventEnvelope<P> {
    /// The same envelope around another payload.
    pub fn with_payload<Q>(self, payload: Q) -> EventEnvelope<Q> {
        EventEnvelope {
            event_id: self.event_id,
            stream_id: self.stream_id,
            aggregate_type: self.aggregate_type,
            version: self.version,
            position: self.position,
            recorded_at: self.recorded_at,
            event_type: self.event_type,
            event_version: self.event_version,
            metadata: self.metadata,
            payload,
        }
    }
}

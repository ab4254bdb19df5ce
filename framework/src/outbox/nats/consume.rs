//! The consuming side: a JetStream message back into a CloudEvent.

use async_nats::jetstream::Message;
use time::OffsetDateTime;

use crate::outbox::{CloudEvent, CloudEventError};

/// The CloudEvent in `message`'s body (as [`NatsBroker`](super::NatsBroker) published it);
/// [`CloudEvent::decode`] turns it into the aggregate's typed events. Its `id` is the event
/// id: the message id the [inbox](crate::outbox::inbox) records.
pub fn decode(message: &Message) -> Result<CloudEvent, CloudEventError> {
    CloudEvent::from_slice(&message.payload)
}

/// When JetStream stored `message` (a redelivery keeps the time of the copy it redelivers):
/// the `sent_at` to give the inbox. `None` for a message that did not come from a JetStream
/// consumer (it has no ack subject to read the time from).
pub fn published_at(message: &Message) -> Option<OffsetDateTime> {
    message.info().ok().map(|info| info.published)
}

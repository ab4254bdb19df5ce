//! What a broker must do for the outbox: publish a batch of messages and say, for all of them
//! at once, whether the broker acknowledged them.

use std::borrow::Cow;
use std::future::Future;

use uuid::Uuid;

use crate::projection::BoxError;

/// One event on its way to a broker: its CloudEvents body, and what routing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The message id: the event's id. Brokers that de-duplicate get it as their message id
    /// (`Nats-Msg-Id`, RabbitMQ's `message_id`, a Kafka header), and the inbox records it.
    pub id: Uuid,
    /// The event's stream: the key that keeps one aggregate's events in order.
    pub stream_id: String,
    /// The aggregate type of the stream.
    pub aggregate_type: String,
    /// The event's stored name.
    pub event_type: String,
    /// Where the event's type says it goes (`#[event(route = "payments.settled")]`), when the
    /// [`Publisher`](super::Publisher) was given its aggregate's routes
    /// ([`with_routes`](super::Publisher::with_routes)); `None` otherwise.
    ///
    /// Each broker reads it in its own terms: NATS publishes to the subject
    /// `<prefix>.<route>`, RabbitMQ uses it as the routing key (the exchange stays the
    /// aggregate type's), and Kafka publishes to the topic `<prefix>.<route>`. A router the
    /// broker was given (`NatsBroker::with_router`, `RabbitMqBroker::with_routing_key`,
    /// `KafkaBroker::with_topics`) wins over it: the
    /// router sees the whole message, this field included, and decides. Without either, the
    /// broker routes by aggregate type and event type.
    ///
    /// A route is words of ASCII letters, digits, `_` and `-` separated by single dots
    /// (checked where the attribute is written), which every one of those brokers carries.
    pub route: Option<Cow<'static, str>>,
    /// Its version in the stream.
    pub version: u64,
    /// Its position in the global log.
    pub position: u64,
    /// The message body: a CloudEvents 1.0 event in structured JSON
    /// ([`CloudEvent`](super::CloudEvent)).
    pub body: Vec<u8>,
}

/// Why a broker did not take a batch. Nothing in a failed batch counts as published: the
/// publisher's checkpoint stays before it, and the batch is published again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The broker could not be reached, or did not acknowledge in time; the batch is tried
    /// again with backoff. (A timed-out publish may still have been written: the message id
    /// lets consumers drop the second copy.)
    #[error("the broker is unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// No queue, stream or subscriber takes messages for this destination: publishing would
    /// lose the message, so the publisher stops (a missing binding is a deployment mistake).
    #[error(
        "message {message_id} is unroutable: nothing is bound to `{destination}`; bind a queue or stream to it, or change the routing"
    )]
    Unroutable {
        /// Where it was sent (an exchange and routing key, a subject, a topic).
        destination: String,
        /// The message.
        message_id: Uuid,
    },
    /// The broker refused the message (a negative acknowledgement, a message too large).
    #[error("the broker refused message {message_id}: {reason}")]
    Rejected {
        /// The message.
        message_id: Uuid,
        /// What the broker said.
        reason: String,
    },
}

impl PublishError {
    /// Whether trying again cannot help: the publisher stops in its failed state instead of
    /// retrying.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, Self::Unavailable(_))
    }
}

/// A broker the outbox publishes to: Kafka, RabbitMQ or NATS JetStream through the crate's
/// features, or your own.
pub trait Broker: Send + 'static {
    /// Publishes `messages` in order and returns once the broker acknowledged every one of
    /// them (publishing them pipelined, not one round trip each), or with the first failure.
    /// Messages of one stream must reach the broker in the order given.
    fn publish(
        &mut self,
        messages: &[OutgoingMessage],
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}

//! Events leave the process: the event store is the outbox, a [`Publisher`] follows it and
//! hands each batch to a [`Broker`], and an [`inbox`] on the consuming side makes a
//! redelivered message have one effect.
//!
//! - **At least once, never lost.** A publisher is a [`Projection`](crate::Projection) of raw
//!   events run by a [`ProjectionRunner`](crate::ProjectionRunner): its checkpoint moves only
//!   after the broker acknowledged the whole batch, and one runner at a time publishes (the
//!   runner's claim), so per-stream order holds. A crash between the acknowledgement and the
//!   checkpoint publishes the batch again.
//! - **One effect per event.** The message id is the event id. Brokers drop duplicates within
//!   their window; the [`inbox`] drops them for as long as it keeps records.
//! - **The wire format** is CloudEvents 1.0 in structured JSON ([`CloudEvent`]); the consumer
//!   decodes it back into the aggregate's typed events with [`CloudEvent::decode`].
//!
//! Brokers: NATS JetStream (the `nats` module, feature `nats`), RabbitMQ (the `rabbitmq`
//! module, feature `rabbitmq`), Kafka (the `kafka` module, feature `kafka`), or any [`Broker`]
//! of your own.

mod broker;
mod cloud_event;
pub mod inbox;
#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "nats")]
pub mod nats;
mod publisher;
#[cfg(feature = "rabbitmq")]
pub mod rabbitmq;

pub use broker::{Broker, OutgoingMessage, PublishError};
pub use cloud_event::{CloudEvent, CloudEventError, SPEC_VERSION};
#[cfg(feature = "postgres")]
pub use inbox::postgres::PostgresInbox;
#[cfg(feature = "sqlite")]
pub use inbox::sqlite::SqliteInbox;
pub use inbox::{DeliveryHandler, DeliveryInbox, InboxError, Receipt};
pub use publisher::Publisher;

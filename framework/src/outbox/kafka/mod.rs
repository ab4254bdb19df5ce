//! Kafka (feature `kafka`): [`KafkaBroker`] publishes the outbox with the idempotent producer
//! and `acks=all`; [`consume`] handles messages through an inbox and commits offsets after it.
//!
//! **Topics and keys.** By default each aggregate type has a topic, `<prefix>.<aggregate
//! type>` (characters a topic name may not hold become `_`: [`topic_name`]);
//! [`with_topics`](KafkaBroker::with_topics) chooses another per message. The key is the
//! stream id, so one aggregate's events land on one partition, in order; the partitioner is
//! `murmur2_random`, the Java client's. Topics must exist: the producer asks the cluster not
//! to create them (`allow.auto.create.topics=false`), and a topic the cluster does not know
//! is [`PublishError::Unroutable`] (the publisher stops) once librdkafka gave up waiting for
//! it (`topic.metadata.propagation.max.ms`, 30 s by default). Create them with
//! [`KafkaBroker::create_topics`] or your deployment's tooling; a cluster that creates topics
//! on first use (`auto.create.topics.enable`) with too few partitions still keeps each
//! stream's order.
//!
//! **What counts as published.** A batch is handed to librdkafka whole, then every delivery
//! report is awaited; the batch counts only once all of them say stored. `acks=all` means
//! every in-sync replica has the message. The idempotent producer keeps one producer
//! session's retries from writing a message twice or out of order, but only within that
//! session: after a crash, or a delivery report that timed out (the message may have been
//! written all the same), the publisher publishes the batch again and Kafka stores a second
//! copy. The message id is the event id, so the consumer's [inbox](crate::outbox::inbox)
//! drops it. A message the cluster refuses (too large, an invalid or forbidden topic) is
//! [`PublishError::Rejected`]; a delivery that times out (`message.timeout.ms`,
//! [`DEFAULT_DELIVERY_TIMEOUT`]), a lost connection or a fatal producer error (the next
//! attempt makes a new producer) is [`PublishError::Unavailable`], retried.
//!
//! **The message.** The value is the CloudEvent in structured JSON, the key the stream id,
//! and two headers: [`CONTENT_TYPE_HEADER`] = [`CONTENT_TYPE`] (the CloudEvents Kafka
//! binding's structured mode) and [`MESSAGE_ID_HEADER`] = the event id, so a consumer can
//! de-duplicate without parsing the value. The timestamp is librdkafka's (when it was
//! produced).
//!
//! **Consuming.** Make a [`StreamConsumer`](rdkafka::consumer::StreamConsumer) from
//! [`consumer_config`] (manual offset commits), subscribe it, and run [`consume`] with an
//! inbox and a [`DeliveryHandler`](crate::outbox::DeliveryHandler): each message is
//! decoded, its effect and inbox record commit in one SQL transaction, and only then is its
//! offset committed. A redelivery (a rebalance, a crash before the offset commit, a second
//! copy the publisher wrote) is a duplicate with no effect:
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")]
//! # async fn run(inbox: aggregato::outbox::SqliteInbox) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use std::ops::ControlFlow;
//! use aggregato::outbox::{CloudEvent, DeliveryHandler};
//! use aggregato::outbox::kafka::{consume, consumer_config, rdkafka};
//! use rdkafka::consumer::{Consumer as _, StreamConsumer};
//!
//! struct Invoices;
//!
//! impl DeliveryHandler<sqlx::SqliteConnection> for Invoices {
//!     async fn handle(
//!         &mut self,
//!         event: &CloudEvent,
//!         connection: &mut sqlx::SqliteConnection,
//!     ) -> Result<(), aggregato::projection::BoxError> {
//!         // The effect, through the inbox's transaction: both commit, or neither.
//!         sqlx::query("INSERT INTO invoices (event_id) VALUES ($1)")
//!             .bind(event.id)
//!             .execute(connection)
//!             .await?;
//!         Ok(())
//!     }
//! }
//!
//! let consumer: StreamConsumer = consumer_config("127.0.0.1:9092", "billing").create()?;
//! consumer.subscribe(&["bank.BankAccount"])?;
//! consume(&consumer, &inbox, &mut Invoices, |_outcome| ControlFlow::Continue(())).await?;
//! # Ok(())
//! # }
//! ```
//!
//! rdkafka builds its bundled librdkafka from source (a C compiler and `make`), without TLS
//! or SASL; enable rdkafka's `ssl` or `sasl` features in your own manifest for those. The
//! crate re-exports [`rdkafka`] so your code uses the same version.

mod broker;
mod consumer;
mod topic;

pub use rdkafka;

pub use broker::{DEFAULT_DELIVERY_TIMEOUT, KafkaBroker, TopicError};
pub use consumer::{
    ConsumeError, MessageOutcome, MessagePosition, consume, consumer_config, decode,
    handle_message, message_id,
};
pub use topic::topic_name;

#[cfg(doc)]
use crate::outbox::PublishError;

/// The header naming the value's content type.
pub const CONTENT_TYPE_HEADER: &str = "content-type";
/// The value's content type: a CloudEvent in structured JSON.
pub const CONTENT_TYPE: &str = "application/cloudevents+json; charset=utf-8";
/// The header holding the message id: the event id, hyphenated
/// (`0190c8a4-...`), the same as the CloudEvent's `id`.
pub const MESSAGE_ID_HEADER: &str = "message-id";

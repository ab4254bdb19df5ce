//! The consuming side: Kafka messages decoded into [`CloudEvent`]s and handled through an
//! inbox, the offset committed only after the inbox's transaction.

use std::ops::ControlFlow;
use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer as _, ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers as _, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use uuid::Uuid;

use super::MESSAGE_ID_HEADER;
use crate::outbox::inbox::{DeliveryHandler, DeliveryInbox, InboxError, Receipt};
use crate::outbox::{CloudEvent, CloudEventError};
use crate::projection::BoxError;

/// The first pause before a message whose handling failed is handled again; it doubles up to
/// [`MAX_RETRY_PAUSE`].
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(100);
/// The longest pause between two attempts at one message.
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(5);

/// The consumer settings [`consume`] expects: `bootstrap.servers` = `brokers`, `group.id` =
/// `group`, `enable.auto.commit=false` (offsets are committed by [`consume`], after the
/// inbox's transaction), `auto.offset.reset=earliest` (a new group starts at the oldest
/// message, not after the newest) and `enable.partition.eof=false`. Add your own settings,
/// then `create()` a [`StreamConsumer`] and subscribe it.
pub fn consumer_config(brokers: &str, group: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false");
    config
}

/// The CloudEvent in `message`'s value (as [`KafkaBroker`](super::KafkaBroker) published
/// it); [`CloudEvent::decode`] turns it into the aggregate's typed events. Its `id` is the
/// event id: the message id the [inbox](crate::outbox::inbox) records. A message without a
/// value (a tombstone) is not a CloudEvent.
pub fn decode<M: Message>(message: &M) -> Result<CloudEvent, CloudEventError> {
    CloudEvent::from_slice(message.payload().unwrap_or_default())
}

/// The message id in `message`'s [`MESSAGE_ID_HEADER`] header, if it has one that is a UUID
/// (the event id; the same as the CloudEvent's `id`).
pub fn message_id<M: Message>(message: &M) -> Option<Uuid> {
    let headers = message.headers()?;
    headers
        .iter()
        .find(|header| header.key == MESSAGE_ID_HEADER)
        .and_then(|header| header.value)
        .and_then(|value| std::str::from_utf8(value).ok())
        .and_then(|value| value.parse().ok())
}

/// Where a message sits: what [`MessageOutcome::Skipped`] names, to find it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagePosition {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
}

impl MessagePosition {
    fn of<M: Message>(message: &M) -> Self {
        Self {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
        }
    }
}

/// What became of one message.
#[derive(Debug)]
#[non_exhaustive]
pub enum MessageOutcome {
    /// Handled for the first time: the effect and the record committed, then the offset.
    Handled {
        /// The message id (the event id).
        message_id: Uuid,
    },
    /// Handled before: the offset was committed, with no effect.
    Duplicate {
        /// The message id.
        message_id: Uuid,
    },
    /// The handler or the inbox's database failed: nothing was written and the offset did not
    /// move. [`consume`] handles the message again after a pause (Kafka has no requeue: the
    /// partition waits, which keeps its order).
    Failed {
        /// The message id.
        message_id: Uuid,
        /// Why.
        error: BoxError,
    },
    /// The message cannot be handled (not a CloudEvent, or older than the inbox keeps
    /// records): its offset was committed past it so the partition moves on. Copy it
    /// somewhere from its position if it matters (a dead-letter topic).
    Skipped {
        /// The message id, when the value could be read.
        message_id: Option<Uuid>,
        /// Where it is.
        position: MessagePosition,
        /// Why.
        error: BoxError,
    },
}

/// Why [`consume`] stopped before it was told to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsumeError {
    /// Receiving from Kafka, or committing an offset, failed. Messages whose offset was not
    /// committed are delivered again, and the inbox drops those that were handled.
    #[error("the Kafka consumer failed: {0}")]
    Kafka(#[from] KafkaError),
}

/// Handles one message through `inbox`: decodes it, records it and applies `handler`'s effect
/// in one transaction, commits that, and only then commits the message's offset on
/// `consumer` (asynchronously: a lost offset commit only means a redelivery the inbox
/// drops). A duplicate's offset is committed with no effect; a failed effect writes nothing
/// and leaves the offset where it was.
///
/// The inbox judges the message's age by the event's recording time (the CloudEvent's
/// `time`), not by when it was published: a republished old event may have been handled, and
/// its record purged, long ago.
pub async fn handle_message<I, H, C>(
    consumer: &StreamConsumer<C>,
    inbox: &I,
    handler: &mut H,
    message: &BorrowedMessage<'_>,
) -> Result<MessageOutcome, ConsumeError>
where
    I: DeliveryInbox,
    H: DeliveryHandler<I::Connection>,
    C: ConsumerContext + 'static,
{
    let outcome = match decode(message) {
        Ok(event) => handle_event(inbox, handler, &event, message).await,
        Err(error) => MessageOutcome::Skipped {
            message_id: message_id(message),
            position: MessagePosition::of(message),
            error: error.into(),
        },
    };
    if !matches!(outcome, MessageOutcome::Failed { .. }) {
        consumer.commit_message(message, CommitMode::Async)?;
    }
    Ok(outcome)
}

async fn handle_event<I, H>(
    inbox: &I,
    handler: &mut H,
    event: &CloudEvent,
    message: &BorrowedMessage<'_>,
) -> MessageOutcome
where
    I: DeliveryInbox,
    H: DeliveryHandler<I::Connection>,
{
    let message_id = event.id;
    match inbox.receive(message_id, event.time).await {
        Ok(Receipt::Duplicate) => MessageOutcome::Duplicate { message_id },
        Ok(Receipt::New(mut transaction)) => {
            match handler.handle(event, I::connection(&mut transaction)).await {
                // Dropping the transaction rolls the effect and the record back.
                Err(error) => MessageOutcome::Failed { message_id, error },
                Ok(()) => match I::commit(transaction).await {
                    Ok(()) => MessageOutcome::Handled { message_id },
                    Err(error) => MessageOutcome::Failed {
                        message_id,
                        error: error.into(),
                    },
                },
            }
        }
        Err(error @ InboxError::TooOld { .. }) => MessageOutcome::Skipped {
            message_id: Some(message_id),
            position: MessagePosition::of(message),
            error: error.into(),
        },
        Err(error) => MessageOutcome::Failed {
            message_id,
            error: error.into(),
        },
    }
}

/// Handles `consumer`'s messages one at a time through `inbox` ([`handle_message`]), telling
/// `on_outcome` what became of each, until it says to stop (`Break`); fails when receiving or
/// committing does. The consumer must be subscribed (or assigned), with
/// `enable.auto.commit=false` ([`consumer_config`]).
///
/// A message whose handling failed is handled again, after a pause growing from 100 ms to
/// 5 s, until it succeeds or `on_outcome` stops the loop: the partition waits rather than
/// lose its order. Before returning, the offsets of the messages done with are committed once
/// more, synchronously, so a consumer that stops cleanly is not handed its last messages
/// again (a message that failed is not among them: it is delivered again).
pub async fn consume<I, H, C>(
    consumer: &StreamConsumer<C>,
    inbox: &I,
    handler: &mut H,
    mut on_outcome: impl FnMut(&MessageOutcome) -> ControlFlow<()> + Send,
) -> Result<(), ConsumeError>
where
    I: DeliveryInbox,
    H: DeliveryHandler<I::Connection>,
    C: ConsumerContext + 'static,
{
    // The next offset of each partition whose message was done with, for the last commit:
    // not the consumer's position, which is past a message that failed.
    let mut done = TopicPartitionList::new();
    'messages: loop {
        let message = consumer.recv().await?;
        let mut pause = FIRST_RETRY_PAUSE;
        loop {
            let outcome = handle_message(consumer, inbox, handler, &message).await?;
            match &outcome {
                MessageOutcome::Failed { message_id, error } => {
                    tracing::warn!(%message_id, %error, "message not handled; retrying");
                }
                MessageOutcome::Skipped {
                    message_id,
                    position,
                    error,
                } => {
                    tracing::error!(?message_id, ?position, %error, "message skipped");
                }
                _ => {}
            }
            let failed = matches!(outcome, MessageOutcome::Failed { .. });
            if !failed {
                let (topic, partition) = (message.topic(), message.partition());
                let next = Offset::Offset(message.offset() + 1);
                if done.find_partition(topic, partition).is_some() {
                    done.set_partition_offset(topic, partition, next)?;
                } else {
                    done.add_partition_offset(topic, partition, next)?;
                }
            }
            if on_outcome(&outcome).is_break() {
                break 'messages;
            }
            if !failed {
                break;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_RETRY_PAUSE);
        }
    }
    if done.count() > 0 {
        consumer.commit(&done, CommitMode::Sync)?;
    }
    Ok(())
}

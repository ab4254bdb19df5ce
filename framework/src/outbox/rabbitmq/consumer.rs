//! The consuming side: deliveries decoded into [`CloudEvent`]s and handled through an inbox,
//! so a redelivered message has one effect.

use std::future::poll_fn;
use std::ops::ControlFlow;
use std::pin::Pin;

use futures_core::Stream;
use lapin::Consumer;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions, BasicRejectOptions};
use uuid::Uuid;

pub use crate::outbox::inbox::{DeliveryHandler, DeliveryInbox};
use crate::outbox::inbox::{InboxError, Receipt};
use crate::outbox::{CloudEvent, CloudEventError};
use crate::projection::BoxError;

/// The CloudEvent a delivery carries.
pub fn decode_delivery(delivery: &Delivery) -> Result<CloudEvent, CloudEventError> {
    CloudEvent::from_slice(&delivery.data)
}

/// What became of one delivery.
#[derive(Debug)]
#[non_exhaustive]
pub enum DeliveryOutcome {
    /// Handled for the first time: the effect and the record committed, then it was acked.
    Handled {
        /// The message id (the event id).
        message_id: Uuid,
    },
    /// Handled before: acked, with no effect.
    Duplicate {
        /// The message id.
        message_id: Uuid,
    },
    /// The handler or the inbox's database failed: nothing was written, and the message was
    /// requeued, to be handled again.
    Requeued {
        /// The message id.
        message_id: Uuid,
        /// Why.
        error: BoxError,
    },
    /// The message cannot be handled (not a CloudEvent, or older than the inbox keeps
    /// records): rejected without requeue, so the queue's dead-letter exchange, if any, parks
    /// it.
    Rejected {
        /// The message id, when the body could be read.
        message_id: Option<Uuid>,
        /// Why.
        error: BoxError,
    },
}

/// Why [`consume`] stopped before it was told to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsumeError {
    /// The channel or connection failed (acknowledging, or receiving). Messages not acked are
    /// redelivered, and the inbox drops those that were handled.
    #[error("the RabbitMQ consumer failed: {0}")]
    Broker(#[from] lapin::Error),
}

/// Handles one delivery through `inbox`: decodes it, records it and applies `handler`'s effect
/// in one transaction, commits, and only then acks; a duplicate is acked with no effect. A
/// failed effect writes nothing and requeues the message.
///
/// The inbox judges the message's age by the event's recording time (the CloudEvent's
/// `time`), not by when it was published: a republished old event may have been handled, and
/// its record purged, long ago.
pub async fn handle_delivery<I, H>(
    inbox: &I,
    handler: &mut H,
    delivery: &Delivery,
) -> Result<DeliveryOutcome, ConsumeError>
where
    I: DeliveryInbox,
    H: DeliveryHandler<I::Connection>,
{
    let event = match decode_delivery(delivery) {
        Ok(event) => event,
        Err(error) => {
            delivery
                .reject(BasicRejectOptions { requeue: false })
                .await?;
            return Ok(DeliveryOutcome::Rejected {
                message_id: None,
                error: error.into(),
            });
        }
    };
    let message_id = event.id;
    // The event's recording time, not the publish time: a republished old event is judged
    // by when it could first have been handled (the inbox refuses rather than risk a second
    // effect after its record was purged).
    let outcome = match inbox.receive(message_id, event.time).await {
        Ok(Receipt::Duplicate) => DeliveryOutcome::Duplicate { message_id },
        Ok(Receipt::New(mut transaction)) => {
            match handler
                .handle(&event, I::connection(&mut transaction))
                .await
            {
                // Dropping the transaction rolls the effect and the record back.
                Err(error) => DeliveryOutcome::Requeued { message_id, error },
                Ok(()) => match I::commit(transaction).await {
                    Ok(()) => DeliveryOutcome::Handled { message_id },
                    Err(error) => DeliveryOutcome::Requeued {
                        message_id,
                        error: error.into(),
                    },
                },
            }
        }
        Err(error @ InboxError::TooOld { .. }) => DeliveryOutcome::Rejected {
            message_id: Some(message_id),
            error: error.into(),
        },
        Err(error) => DeliveryOutcome::Requeued {
            message_id,
            error: error.into(),
        },
    };
    match &outcome {
        DeliveryOutcome::Handled { .. } | DeliveryOutcome::Duplicate { .. } => {
            delivery.ack(BasicAckOptions::default()).await?;
        }
        DeliveryOutcome::Requeued { .. } => {
            delivery
                .nack(BasicNackOptions {
                    multiple: false,
                    requeue: true,
                })
                .await?;
        }
        DeliveryOutcome::Rejected { .. } => {
            delivery
                .reject(BasicRejectOptions { requeue: false })
                .await?;
        }
    }
    Ok(outcome)
}

/// Handles `consumer`'s deliveries one at a time through `inbox` ([`handle_delivery`]),
/// telling `on_outcome` what became of each, until it says to stop (`Break`) or the consumer
/// is cancelled; fails when the channel or connection does.
///
/// One delivery at a time keeps per-stream order on a single queue; set the channel's
/// prefetch (`basic_qos`) to bound how many wait unacked.
pub async fn consume<I, H>(
    consumer: &mut Consumer,
    inbox: &I,
    handler: &mut H,
    mut on_outcome: impl FnMut(&DeliveryOutcome) -> ControlFlow<()> + Send,
) -> Result<(), ConsumeError>
where
    I: DeliveryInbox,
    H: DeliveryHandler<I::Connection>,
{
    while let Some(delivery) = poll_fn(|cx| Pin::new(&mut *consumer).poll_next(cx)).await {
        let delivery = delivery?;
        let outcome = handle_delivery(inbox, handler, &delivery).await?;
        match &outcome {
            DeliveryOutcome::Requeued { message_id, error } => {
                tracing::warn!(%message_id, %error, "message not handled; requeued");
            }
            DeliveryOutcome::Rejected { message_id, error } => {
                tracing::error!(?message_id, %error, "message rejected");
            }
            _ => {}
        }
        if on_outcome(&outcome).is_break() {
            break;
        }
    }
    Ok(())
}

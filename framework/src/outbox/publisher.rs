//! The publisher: a projection of raw events whose target is a broker.

use std::fmt;
use std::marker::PhantomData;

use super::{Broker, CloudEvent, OutgoingMessage, PublishError};
use crate::event::RawEvent;
use crate::projection::{Context, OnFailure, Projection};
use crate::store::EventFilter;

/// Publishes the log's events to a broker, as a [`Projection`] run by a
/// [`ProjectionRunner`](crate::ProjectionRunner): the event store is the outbox.
///
/// Each batch's events become CloudEvents messages ([`CloudEvent`]); the batch is handed to
/// the broker at its end ([`Projection::flush`]), and the checkpoint moves only once the broker
/// acknowledged every message of it. A crash between the acknowledgement and the checkpoint
/// publishes the batch again: delivery is at least once, never lost, and the message id is the
/// event id, so consumers drop the second copy (the broker's de-duplication within its window,
/// and the [inbox](super::inbox) beyond it). An unavailable broker is retried with the
/// runner's backoff (give it a policy that does not give up: [`Publisher::retry_policy`]); an
/// unroutable or refused message stops the publisher in its failed state, naming the event.
///
/// `T` is the transaction type of the checkpoint store (`()` for
/// [`InMemoryCheckpoints`](crate::projection::InMemoryCheckpoints), `sqlx::PgConnection` for
/// `PostgresCheckpoints`); the publisher writes nothing through it. Use
/// [`ProjectionRunner::with_name`](crate::ProjectionRunner::with_name) to give each publisher
/// its own checkpoint and [`with_filter`](crate::ProjectionRunner::with_filter) to choose what
/// it publishes.
pub struct Publisher<B, T = ()> {
    broker: B,
    source: String,
    /// The batch being built, in position order.
    pending: Vec<OutgoingMessage>,
    transaction: PhantomData<fn() -> T>,
}

impl<B: Broker, T> Publisher<B, T> {
    /// A publisher to `broker`, naming itself `source` in every message (a URI such as
    /// `"urn:service:orders"`).
    pub fn new(broker: B, source: impl Into<String>) -> Self {
        Self {
            broker,
            source: source.into(),
            pending: Vec::new(),
            transaction: PhantomData,
        }
    }

    /// The broker.
    pub fn broker(&self) -> &B {
        &self.broker
    }

    /// A retry policy for publishers: never give up on an unavailable broker, waiting from
    /// 100 ms up to 5 s between attempts.
    pub fn retry_policy() -> crate::RetryPolicy {
        crate::RetryPolicy::exponential(
            u32::MAX,
            std::time::Duration::from_millis(100),
            std::time::Duration::from_secs(5),
        )
    }
}

impl<B, T> fmt::Debug for Publisher<B, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("source", &self.source)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl<B: Broker, T: Send + 'static> Projection for Publisher<B, T> {
    const NAME: &'static str = "outbox";
    const VERSION: u32 = 1;
    const ON_FAILURE: OnFailure = OnFailure::Stop;
    const RESETTABLE: bool = false;
    type Event = RawEvent;
    type Transaction = T;
    type Error = PublishError;

    fn filter() -> EventFilter {
        EventFilter::all()
    }

    async fn dispatch(
        &mut self,
        event: RawEvent,
        context: &mut Context<'_, T>,
    ) -> Result<(), PublishError> {
        let position = context.position();
        // A batch that failed is handed out again from its first event: drop what it left.
        // Only then does the newest pending message sit at or past this one, so the common
        // case costs one comparison, not a scan of the batch.
        if self
            .pending
            .last()
            .is_some_and(|last| last.position >= position)
        {
            self.pending.retain(|message| message.position < position);
        }
        let envelope = context.envelope();
        let body = CloudEvent::new(envelope, &event.payload, &self.source)
            .and_then(|cloud_event| cloud_event.to_vec())
            .map_err(|error| PublishError::Rejected {
                message_id: envelope.event_id,
                reason: format!("the event does not encode as a CloudEvent: {error}"),
            })?;
        self.pending.push(OutgoingMessage {
            id: envelope.event_id,
            stream_id: envelope.stream_id.clone(),
            aggregate_type: envelope.aggregate_type.clone(),
            event_type: envelope.event_type.clone(),
            version: envelope.version,
            position,
            body,
        });
        Ok(())
    }

    async fn flush(&mut self, _: &mut T) -> Result<(), PublishError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.broker.publish(&self.pending).await?;
        self.pending.clear();
        Ok(())
    }

    fn is_permanent(error: &PublishError) -> bool {
        error.is_permanent()
    }
}

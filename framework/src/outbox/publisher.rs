//! The publisher: a projection of raw events whose target is a broker.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use super::{Broker, CloudEvent, OutgoingMessage, PublishError};
use crate::aggregate::Aggregate;
use crate::event::{EventSet, RawEvent};
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
///
/// **Routes.** Given an aggregate's routes ([`with_routes`](Self::with_routes)), each message
/// of an event whose type has `#[event(route = "...")]` carries it
/// ([`OutgoingMessage::route`]), and the broker sends it there unless a router of the broker's
/// own says otherwise.
pub struct Publisher<B, T = ()> {
    broker: B,
    source: String,
    /// Per aggregate type, per stored name (aliases included): the route.
    routes: HashMap<&'static str, HashMap<&'static str, &'static str>>,
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
            routes: HashMap::new(),
            pending: Vec::new(),
            transaction: PhantomData,
        }
    }

    /// Routes the events of aggregate `A` that have `#[event(route = "...")]` there (the
    /// table of its event set, [`EventSet::EVENT_ROUTES`]); its other events, and other
    /// aggregates' events, keep the broker's routing by aggregate type and event name. Call it
    /// once per aggregate whose routes count:
    ///
    /// ```
    /// # use aggregato::prelude::*;
    /// # use aggregato::outbox::{Broker, OutgoingMessage, Publisher, PublishError};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
    /// #[event(route = "payments.settled")]
    /// pub struct PaymentSettled { pub cents: u64 }
    ///
    /// # #[derive(Debug, Clone, Command)]
    /// # #[command(aggregate = Payment)]
    /// # pub struct Settle;
    /// #[derive(Debug, Default, Clone, Serialize, Deserialize, Aggregate)]
    /// #[aggregate(id = String, events(PaymentSettled), commands(Settle))]
    /// pub struct Payment;
    /// # impl Handle<Settle> for Payment {
    /// #     async fn handle(&self, _: Settle, _: &()) -> Result<Vec<PaymentEvent>, std::convert::Infallible> {
    /// #         Ok(vec![])
    /// #     }
    /// # }
    /// # impl Apply<PaymentSettled> for Payment {
    /// #     fn apply(&mut self, _: &PaymentSettled) {}
    /// # }
    /// # struct Printer;
    /// # impl Broker for Printer {
    /// #     async fn publish(&mut self, _: &[OutgoingMessage]) -> Result<(), PublishError> { Ok(()) }
    /// # }
    ///
    /// let publisher: Publisher<Printer> =
    ///     Publisher::new(Printer, "urn:service:payments").with_routes::<Payment>();
    /// assert_eq!(publisher.route("Payment", "PaymentSettled"), Some("payments.settled"));
    /// ```
    pub fn with_routes<A: Aggregate>(mut self) -> Self {
        let routes = self.routes.entry(A::AGGREGATE_TYPE).or_default();
        for entry in <A::Event as EventSet>::EVENT_ROUTES {
            if let Some(route) = entry.route {
                for name in std::iter::once(&entry.event_type).chain(entry.aliases) {
                    routes.insert(name, route);
                }
            }
        }
        self
    }

    /// The route of events named `event_type` of `aggregate_type`, if
    /// [`with_routes`](Self::with_routes) gave one.
    pub fn route(&self, aggregate_type: &str, event_type: &str) -> Option<&'static str> {
        self.routes
            .get(aggregate_type)
            .and_then(|routes| routes.get(event_type))
            .copied()
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
            .field("routes", &self.routes)
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
            route: self
                .route(&envelope.aggregate_type, &envelope.event_type)
                .map(Cow::Borrowed),
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

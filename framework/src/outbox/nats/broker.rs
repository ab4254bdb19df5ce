//! [`NatsBroker`]: publishing a batch to JetStream, pipelined, and reading the acks.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::context::{
    CreateStreamError, PublishAckFuture, PublishError as NatsPublishError, PublishErrorKind,
};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, stream};
use uuid::Uuid;

use super::subject::{Router, default_subject, routed_subject};
use crate::outbox::{Broker, OutgoingMessage, PublishError};

/// The `Content-Type` header of every message: a CloudEvent in structured JSON mode.
pub const CONTENT_TYPE: &str = "application/cloudevents+json; charset=utf-8";

/// How many acks one batch awaits at most at a time unless configured otherwise: below the
/// JetStream context's own limit of pending acks (5,000 by default), which a larger batch
/// would otherwise wait on forever while holding them itself.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1_000;

/// A [`Broker`] publishing to NATS JetStream through an [`async_nats::jetstream::Context`].
/// See the [module docs](super) for subjects, de-duplication and errors.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// use std::time::Duration;
/// use aggregato::outbox::Publisher;
/// use aggregato::outbox::nats::{NatsBroker, async_nats};
///
/// let client = async_nats::ConnectOptions::new()
///     // Start even while NATS is down: the publisher retries until it is up.
///     .retry_on_initial_connect()
///     .connect("nats://127.0.0.1:4222")
///     .await?;
/// let broker = NatsBroker::new(async_nats::jetstream::new(client), "orders");
/// // Every subject under `orders.`, duplicates dropped for 10 minutes.
/// broker.ensure_stream("ORDERS", Duration::from_secs(600)).await?;
/// let publisher: Publisher<NatsBroker> = Publisher::new(broker, "urn:service:orders");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct NatsBroker {
    context: jetstream::Context,
    prefix: String,
    /// A router of the user's, which wins over routes and the default.
    router: Option<Router>,
    max_in_flight: usize,
    duplicates: Arc<AtomicU64>,
}

impl NatsBroker {
    /// A broker publishing through `context` under the subject prefix `prefix` (one or more
    /// subject tokens, such as `"orders"` or `"acme.orders"`).
    pub fn new(context: jetstream::Context, prefix: impl Into<String>) -> Self {
        Self {
            context,
            prefix: prefix.into(),
            router: None,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            duplicates: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Publishes each message to the subject `router` returns for it instead of
    /// `<prefix>.<route>` or `<prefix>.<aggregate type>.<event type>`: the router wins over
    /// the message's [`route`](OutgoingMessage::route) (which it sees, and may use). A stream
    /// must take every subject it returns ([`ensure_stream`](Self::ensure_stream) binds
    /// `<prefix>.>` only). Route one aggregate's events to subjects of one stream, or they
    /// lose their order.
    pub fn with_router(
        mut self,
        router: impl Fn(&OutgoingMessage) -> String + Send + Sync + 'static,
    ) -> Self {
        self.router = Some(Arc::new(router));
        self
    }

    /// Awaits the oldest ack before sending more once `max_in_flight` messages of a batch are
    /// unacknowledged (at least 1; [`DEFAULT_MAX_IN_FLIGHT`] unless set). Keep it at most the
    /// context's `max_ack_inflight`.
    pub fn with_max_in_flight(mut self, max_in_flight: usize) -> Self {
        self.max_in_flight = max_in_flight.max(1);
        self
    }

    /// The subject prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The subject `message` is published to: the [router](Self::with_router)'s if one was
    /// set, else `<prefix>.<route>` for a message with a [`route`](OutgoingMessage::route),
    /// else `<prefix>.<aggregate type>.<event type>`.
    pub fn subject(&self, message: &OutgoingMessage) -> String {
        match (&self.router, &message.route) {
            (Some(router), _) => router(message),
            (None, Some(route)) => routed_subject(&self.prefix, route),
            (None, None) => default_subject(&self.prefix, message),
        }
    }

    /// The JetStream context.
    pub fn context(&self) -> &jetstream::Context {
        &self.context
    }

    /// How many messages the stream acknowledged as duplicates (already stored within its
    /// window) since this broker (or the broker it was cloned from) was made: republished
    /// batches, after a crash between the ack and the checkpoint.
    pub fn duplicates(&self) -> u64 {
        self.duplicates.load(Ordering::Relaxed)
    }

    /// The configuration of a stream named `name` taking every subject under the prefix
    /// (`<prefix>.>`), dropping a message whose `Nats-Msg-Id` it stored within
    /// `duplicate_window`; everything else is JetStream's default (file storage, limits
    /// retention, no limits). Change what you need and create it with the context.
    pub fn stream_config(
        &self,
        name: impl Into<String>,
        duplicate_window: Duration,
    ) -> stream::Config {
        stream::Config {
            name: name.into(),
            subjects: vec![format!("{}.>", self.prefix)],
            duplicate_window,
            ..Default::default()
        }
    }

    /// Creates the stream of [`stream_config`](Self::stream_config) unless a stream named
    /// `name` exists; an existing one is returned as it is (its subjects and window
    /// unchanged). The duplicate window bounds the broker's de-duplication only: the
    /// consumer's [inbox](crate::outbox::inbox) keeps its records far longer.
    pub async fn ensure_stream(
        &self,
        name: impl Into<String>,
        duplicate_window: Duration,
    ) -> Result<stream::Stream, CreateStreamError> {
        self.context
            .get_or_create_stream(self.stream_config(name, duplicate_window))
            .await
    }

    /// Sends one message; its ack is awaited later. When the context has no ack permit left
    /// (its limit of pending acks, without backpressure), awaits the oldest ack of the batch
    /// to free one and tries again.
    async fn send(
        &self,
        message: &OutgoingMessage,
        subject: &str,
        in_flight: &mut VecDeque<InFlight>,
    ) -> Result<PublishAckFuture, PublishError> {
        loop {
            let publish = PublishMessage::build()
                .payload(message.body.clone().into())
                .message_id(message.id.to_string())
                .header("Content-Type", CONTENT_TYPE);
            match self.context.send_publish(subject.to_owned(), publish).await {
                Ok(ack) => return Ok(ack),
                Err(error) if error.kind() == PublishErrorKind::MaxAckPending => {
                    match in_flight.pop_front() {
                        Some(oldest) => self.acknowledged(oldest).await?,
                        None => return Err(PublishError::Unavailable(Box::new(error))),
                    }
                }
                Err(error) => return Err(classify(error, subject, message.id)),
            }
        }
    }

    /// Awaits one ack.
    async fn acknowledged(&self, in_flight: InFlight) -> Result<(), PublishError> {
        let ack = in_flight
            .ack
            .await
            .map_err(|error| classify(error, &in_flight.subject, in_flight.message_id))?;
        if ack.duplicate {
            // Stored before, within the stream's window: acknowledged all the same.
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                message_id = %in_flight.message_id,
                stream = %ack.stream,
                sequence = ack.sequence,
                "JetStream already held the message"
            );
        }
        Ok(())
    }
}

/// A message sent, its ack not read yet.
struct InFlight {
    message_id: Uuid,
    subject: String,
    ack: PublishAckFuture,
}

impl fmt::Debug for NatsBroker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsBroker")
            .field("prefix", &self.prefix)
            .field("router", &self.router.is_some())
            .field("max_in_flight", &self.max_in_flight)
            .field("duplicates", &self.duplicates())
            .finish_non_exhaustive()
    }
}

impl Broker for NatsBroker {
    async fn publish(&mut self, messages: &[OutgoingMessage]) -> Result<(), PublishError> {
        let mut in_flight = VecDeque::with_capacity(messages.len().min(self.max_in_flight));
        for message in messages {
            if in_flight.len() >= self.max_in_flight
                && let Some(oldest) = in_flight.pop_front()
            {
                self.acknowledged(oldest).await?;
            }
            let subject = self.subject(message);
            let ack = self.send(message, &subject, &mut in_flight).await?;
            in_flight.push_back(InFlight {
                message_id: message.id,
                subject,
                ack,
            });
        }
        // Every message is on its way: now the acks, in order.
        while let Some(oldest) = in_flight.pop_front() {
            self.acknowledged(oldest).await?;
        }
        Ok(())
    }
}

/// What a JetStream publish error means for the outbox.
fn classify(error: NatsPublishError, subject: &str, message_id: Uuid) -> PublishError {
    match error.kind() {
        // "No responders": no stream listens on the subject.
        PublishErrorKind::StreamNotFound => PublishError::Unroutable {
            destination: subject.to_owned(),
            message_id,
        },
        PublishErrorKind::TimedOut
        | PublishErrorKind::BrokenPipe
        | PublishErrorKind::MaxAckPending => PublishError::Unavailable(Box::new(error)),
        PublishErrorKind::MaxPayloadExceeded
        | PublishErrorKind::WrongLastMessageId
        | PublishErrorKind::WrongLastSequence => PublishError::Rejected {
            message_id,
            reason: error.to_string(),
        },
        PublishErrorKind::Other => classify_other(error, subject, message_id),
    }
}

/// An error of kind `Other`: the stream's own refusal (a JetStream API error), an invalid
/// subject, or the client failing to send.
fn classify_other(error: NatsPublishError, subject: &str, message_id: Uuid) -> PublishError {
    let source = std::error::Error::source(&error);
    if let Some(api) = source.and_then(|source| source.downcast_ref::<jetstream::Error>()) {
        // 503: JetStream is temporarily unavailable (a leader election, say); other codes are
        // the stream refusing this message (its limits, a sealed stream).
        if api.code() >= 500 {
            return PublishError::Unavailable(Box::new(error));
        }
        return PublishError::Rejected {
            message_id,
            reason: error.to_string(),
        };
    }
    if source.is_some_and(|source| source.is::<async_nats::SubjectError>()) {
        return PublishError::Rejected {
            message_id,
            reason: format!("`{subject}` is not a subject one can publish to: {error}"),
        };
    }
    PublishError::Unavailable(Box::new(error))
}

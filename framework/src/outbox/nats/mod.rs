//! The outbox on NATS JetStream (feature `nats`): [`NatsBroker`] publishes, [`decode`] reads
//! on the consuming side.
//!
//! **Publishing.** Each event goes to the subject `<prefix>.<aggregate type>.<event type>`,
//! or `<prefix>.<route>` when its type has `#[event(route = "...")]` and the publisher was
//! given its aggregate's routes ([`Publisher::with_routes`](crate::outbox::Publisher::with_routes)),
//! or wherever [`NatsBroker::with_router`] says (a router wins over a route), as a CloudEvents
//! JSON body, with the header
//! `Nats-Msg-Id` = the event id, so the stream drops a second copy published within its
//! duplicate window (2 minutes unless the stream says otherwise); the ack of such a copy says
//! `duplicate`, and counts as acknowledged. A batch is sent whole before any ack is awaited.
//! A subject no stream listens on is [`PublishError::Unroutable`] (the publisher stops: a
//! missing stream is a deployment mistake, and JetStream would otherwise drop the message);
//! a lost connection or an ack that does not come in time (the context's timeout, 5 s by
//! default) is [`PublishError::Unavailable`], retried. [`NatsBroker::ensure_stream`] creates
//! the stream that takes every subject under the prefix.
//!
//! Messages of one aggregate stay in order within an attempt (one connection, one stream).
//! After an outage, a message lost on the way while later ones of the same batch were stored
//! is stored on the retry, after them: consumers that must see one stream's events strictly in
//! order compare the `streamversion` attribute with the last one they handled.
//!
//! **Consuming.** Read the stream with any JetStream consumer; for each message, [`decode`]
//! its body into a [`CloudEvent`] (and [`CloudEvent::decode`] that into your typed events),
//! handle it through an [inbox](crate::outbox::inbox) so a redelivery has no second effect,
//! and ack only after the inbox's transaction committed:
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")]
//! # async fn consume(
//! #     stream: aggregato::outbox::nats::async_nats::jetstream::stream::Stream,
//! #     inbox: aggregato::outbox::SqliteInbox,
//! # ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use aggregato::outbox::Receipt;
//! use aggregato::outbox::nats::{async_nats, decode, published_at};
//! use async_nats::jetstream::consumer::pull;
//! use futures_util::StreamExt as _;
//!
//! let consumer = stream
//!     .get_or_create_consumer("billing", pull::Config {
//!         durable_name: Some("billing".into()),
//!         ..Default::default()
//!     })
//!     .await?;
//! let mut messages = consumer.messages().await?;
//! while let Some(message) = messages.next().await {
//!     let message = message?;
//!     let event = decode(&message)?;
//!     // When JetStream stored it: a redelivery keeps the first copy's time.
//!     let sent_at = published_at(&message).unwrap_or(event.time);
//!     match inbox.receive(event.id, sent_at).await? {
//!         Receipt::New(mut transaction) => {
//!             // The effect, through the inbox's transaction: both commit, or neither.
//!             sqlx::query("INSERT INTO invoices (event_id) VALUES ($1)")
//!                 .bind(event.id)
//!                 .execute(transaction.connection())
//!                 .await?;
//!             transaction.commit().await?;
//!         }
//!         Receipt::Duplicate => {} // handled before: no second effect
//!     }
//!     message.ack().await?; // only after the commit
//! }
//! # Ok(())
//! # }
//! ```

mod broker;
mod consume;
mod subject;

/// The NATS client this module is built on, re-exported so its version matches.
pub use async_nats;
pub use broker::{CONTENT_TYPE, DEFAULT_MAX_IN_FLIGHT, NatsBroker};
pub use consume::{decode, published_at};
pub use subject::subject_token;

#[cfg(doc)]
use crate::outbox::{CloudEvent, PublishError};

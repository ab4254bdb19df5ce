//! The inbox: a consumer's record of the messages it handled, written in the same transaction
//! as the handler's effect, so a message delivered twice has one effect.
//!
//! ```text
//! match inbox.receive(message_id, sent_at).await? {
//!     Receipt::New(mut transaction) => {
//!         apply_the_effect(transaction.connection()).await?; // same transaction
//!         transaction.commit().await?;                        // effect and record, or neither
//!         ack(message).await?;                                // only after the commit
//!     }
//!     Receipt::Duplicate => ack(message).await?,              // handled before: no effect
//! }
//! ```
//!
//! An attempt that fails (the handler errs, the process dies before the commit) writes
//! nothing: the record and the effect roll back together, and the redelivery is handled as new.
//! Two deliveries of one message handled at once are serialized by the record's key: the
//! second waits for the first's commit, then sees a duplicate.
//!
//! Records are kept for the consumer's retention (7 days unless set) and
//! [`purge`](postgres::PostgresInbox::purge)d after. A message older than the retention might
//! have been handled and purged: rather than risk a second effect, it is refused with
//! [`InboxError::TooOld`]. Keep the retention longer than any redelivery can come back (the
//! broker's redelivery limits, a dead-letter queue replayed by an operator).
//!
//! When the effect is a command on an aggregate, the command's own idempotency does the same
//! job without a second table: [`Repository::execute_idempotent`](crate::Repository::execute_idempotent)
//! with the message id as the key.

mod delivery;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::time::Duration;

pub use delivery::{DeliveryHandler, DeliveryInbox};

use time::OffsetDateTime;
use uuid::Uuid;

/// How long a consumer's records are kept unless configured otherwise.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// What the inbox says of a message.
#[derive(Debug)]
pub enum Receipt<T> {
    /// Not handled before: apply its effect through the transaction (which holds its record),
    /// then commit, then acknowledge the message.
    New(T),
    /// Handled before: acknowledge it, and do nothing else.
    Duplicate,
}

/// Why the inbox could not take a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InboxError {
    /// The message was sent longer ago than the consumer keeps records: it may have been
    /// handled and its record purged, so it is refused rather than handled a second time.
    /// Nothing was written; park the message (a dead-letter queue) and look at it.
    #[error(
        "message {message_id} was sent at {sent_at}, longer ago than the inbox keeps records ({retention:?}): refused, as it may have been handled before"
    )]
    TooOld {
        /// The message.
        message_id: Uuid,
        /// When it was sent.
        sent_at: OffsetDateTime,
        /// The consumer's retention.
        retention: Duration,
    },
    /// The database failed.
    #[error("the inbox's database failed: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Whether a message sent at `sent_at` is older than `retention`.
#[cfg(any(feature = "postgres", feature = "sqlite"))]
fn too_old(sent_at: OffsetDateTime, retention: Duration) -> bool {
    OffsetDateTime::now_utc() - sent_at > retention
}

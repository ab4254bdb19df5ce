//! What the brokers' consumer loops (RabbitMQ's and Kafka's `consume`) need of an inbox and of
//! the code that applies a message's effect, so one handler serves every broker.

use std::future::Future;

use time::OffsetDateTime;
use uuid::Uuid;

use super::{InboxError, Receipt};
use crate::outbox::CloudEvent;
use crate::projection::BoxError;

/// An inbox the brokers' consumer loops record messages in: `PostgresInbox` (feature
/// `postgres`) and `SqliteInbox` (feature `sqlite`).
pub trait DeliveryInbox: Send + Sync {
    /// The connection the effect is written through (`PgConnection`, `SqliteConnection`).
    type Connection: Send;
    /// The transaction holding a new message's record.
    type Transaction: Send;

    /// Opens the transaction of `message_id`, or says it was handled before.
    fn receive(
        &self,
        message_id: Uuid,
        sent_at: OffsetDateTime,
    ) -> impl Future<Output = Result<Receipt<Self::Transaction>, InboxError>> + Send;

    /// The transaction's connection.
    fn connection(transaction: &mut Self::Transaction) -> &mut Self::Connection;

    /// Commits the effect and the record together.
    fn commit(
        transaction: Self::Transaction,
    ) -> impl Future<Output = Result<(), InboxError>> + Send;
}

#[cfg(feature = "postgres")]
impl DeliveryInbox for crate::outbox::PostgresInbox {
    type Connection = sqlx::PgConnection;
    type Transaction = crate::outbox::inbox::postgres::InboxTransaction;

    fn receive(
        &self,
        message_id: Uuid,
        sent_at: OffsetDateTime,
    ) -> impl Future<Output = Result<Receipt<Self::Transaction>, InboxError>> + Send {
        Self::receive(self, message_id, sent_at)
    }

    fn connection(transaction: &mut Self::Transaction) -> &mut Self::Connection {
        transaction.connection()
    }

    fn commit(
        transaction: Self::Transaction,
    ) -> impl Future<Output = Result<(), InboxError>> + Send {
        transaction.commit()
    }
}

#[cfg(feature = "sqlite")]
impl DeliveryInbox for crate::outbox::SqliteInbox {
    type Connection = sqlx::SqliteConnection;
    type Transaction = crate::outbox::inbox::sqlite::InboxTransaction;

    fn receive(
        &self,
        message_id: Uuid,
        sent_at: OffsetDateTime,
    ) -> impl Future<Output = Result<Receipt<Self::Transaction>, InboxError>> + Send {
        Self::receive(self, message_id, sent_at)
    }

    fn connection(transaction: &mut Self::Transaction) -> &mut Self::Connection {
        transaction.connection()
    }

    fn commit(
        transaction: Self::Transaction,
    ) -> impl Future<Output = Result<(), InboxError>> + Send {
        transaction.commit()
    }
}

/// What a consumer does with one event: its effect, written through the inbox's transaction
/// (`connection`), so the effect and the inbox record commit together.
pub trait DeliveryHandler<C>: Send {
    /// Applies `event`'s effect through `connection`. An error rolls the effect and the
    /// record back, and the message is handled again later (requeued on RabbitMQ, retried in
    /// place on Kafka).
    fn handle(
        &mut self,
        event: &CloudEvent,
        connection: &mut C,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;
}

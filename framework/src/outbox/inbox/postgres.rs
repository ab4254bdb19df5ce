//! The inbox on PostgreSQL.

use std::time::Duration;

use sqlx::postgres::{PgConnection, PgPool};
use sqlx::{Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{DEFAULT_RETENTION, InboxError, Receipt, too_old};

fn database(error: sqlx::Error) -> InboxError {
    InboxError::Database(Box::new(error))
}

/// A consumer's inbox in PostgreSQL (table `aggregato_inbox`, created by the event store's
/// migrations or [`migrate`](Self::migrate)).
#[derive(Debug, Clone)]
pub struct PostgresInbox {
    pool: PgPool,
    consumer: String,
    retention: Duration,
}

impl PostgresInbox {
    /// The inbox of `consumer` (a name per consuming service or handler) on `pool`.
    pub fn new(pool: PgPool, consumer: impl Into<String>) -> Self {
        Self {
            pool,
            consumer: consumer.into(),
            retention: DEFAULT_RETENTION,
        }
    }

    /// Keeps records for `retention` (7 days by default): messages sent longer ago are
    /// refused, and [`purge`](Self::purge) deletes older records.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Creates the table in the pool's schema if needed (the event store's migrations).
    /// Idempotent.
    pub async fn migrate(&self) -> Result<(), InboxError> {
        crate::store::postgres::MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|error| InboxError::Database(Box::new(error)))
    }

    /// Opens a transaction holding the record of `message_id` (sent at `sent_at`), or says it
    /// was handled before. See the [module docs](super).
    pub async fn receive(
        &self,
        message_id: Uuid,
        sent_at: OffsetDateTime,
    ) -> Result<Receipt<InboxTransaction>, InboxError> {
        let mut transaction = self.pool.begin().await.map_err(database)?;
        let recorded = sqlx::query(
            "INSERT INTO aggregato_inbox (consumer, message_id) VALUES ($1, $2) \
             ON CONFLICT (consumer, message_id) DO NOTHING",
        )
        .bind(&self.consumer)
        .bind(message_id)
        .execute(&mut *transaction)
        .await
        .map_err(database)?;
        if recorded.rows_affected() == 0 {
            transaction.rollback().await.map_err(database)?;
            return Ok(Receipt::Duplicate);
        }
        if too_old(sent_at, self.retention) {
            transaction.rollback().await.map_err(database)?;
            return Err(InboxError::TooOld {
                message_id,
                sent_at,
                retention: self.retention,
            });
        }
        Ok(Receipt::New(InboxTransaction { transaction }))
    }

    /// Deletes the records older than the retention; how many.
    pub async fn purge(&self) -> Result<u64, InboxError> {
        let purged = sqlx::query(
            "DELETE FROM aggregato_inbox WHERE consumer = $1 \
             AND received_at < now() - $2::bigint * interval '1 millisecond'",
        )
        .bind(&self.consumer)
        .bind(i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await
        .map_err(database)?;
        Ok(purged.rows_affected())
    }
}

/// The transaction of a new message: its inbox record is in it; apply the effect through
/// [`connection`](Self::connection), then [`commit`](Self::commit).
#[derive(Debug)]
pub struct InboxTransaction {
    transaction: Transaction<'static, Postgres>,
}

impl InboxTransaction {
    /// The connection to write the effect through.
    pub fn connection(&mut self) -> &mut PgConnection {
        &mut self.transaction
    }

    /// Commits the effect and the record together.
    pub async fn commit(self) -> Result<(), InboxError> {
        self.transaction.commit().await.map_err(database)
    }

    /// Rolls both back: the message stays unhandled (dropping the transaction does too).
    pub async fn rollback(self) -> Result<(), InboxError> {
        self.transaction.rollback().await.map_err(database)
    }
}

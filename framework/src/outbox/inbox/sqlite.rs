//! The inbox on SQLite.

use std::time::Duration;

use sqlx::sqlite::{SqliteConnection, SqlitePool};
use sqlx::{Sqlite, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{DEFAULT_RETENTION, InboxError, Receipt, too_old};

/// Now, in Unix milliseconds of this process's clock.
fn now_millis() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn database(error: sqlx::Error) -> InboxError {
    InboxError::Database(Box::new(error))
}

/// A consumer's inbox in SQLite (table `aggregato_inbox`, created by the event store's
/// migrations or [`migrate`](Self::migrate)).
#[derive(Debug, Clone)]
pub struct SqliteInbox {
    pool: SqlitePool,
    consumer: String,
    retention: Duration,
}

impl SqliteInbox {
    /// The inbox of `consumer` (a name per consuming service or handler) on `pool`.
    pub fn new(pool: SqlitePool, consumer: impl Into<String>) -> Self {
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
        crate::store::sqlite::MIGRATOR
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
        let mut transaction = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(database)?;
        let recorded = sqlx::query(
            "INSERT INTO aggregato_inbox (consumer, message_id, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (consumer, message_id) DO NOTHING",
        )
        .bind(&self.consumer)
        .bind(message_id)
        .bind(now_millis())
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
        let purged =
            sqlx::query("DELETE FROM aggregato_inbox WHERE consumer = $1 AND received_at < $2")
                .bind(&self.consumer)
                .bind(
                    now_millis().saturating_sub(
                        i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX),
                    ),
                )
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
    transaction: Transaction<'static, Sqlite>,
}

impl InboxTransaction {
    /// The connection to write the effect through.
    pub fn connection(&mut self) -> &mut SqliteConnection {
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

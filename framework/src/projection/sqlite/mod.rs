//! [`SqliteCheckpoints`]: projection checkpoints in SQLite (feature `sqlite`), in the read
//! model's database file, so a batch's writes and its checkpoint commit together.
//!
//! # Schema
//!
//! The tables `aggregato_checkpoints` and `aggregato_dead_letters` come with the event store's
//! migrations ([`MIGRATOR`](crate::store::sqlite::MIGRATOR)): a file opened by
//! [`SqliteEventStore::connect`](crate::SqliteEventStore::connect) has them, and
//! [`SqliteCheckpoints::migrate`] applies the same migrations (taking SQLite's write lock, as
//! the store does), so either is enough and running both is harmless.
//!
//! # Claims and fences
//!
//! As in PostgreSQL (see the `postgres` module), a claim is one upsert and every
//! checkpoint write is fenced by owner, epoch and expected position. SQLite has no server
//! clock: leases are Unix milliseconds of the application's clock, so hosts sharing a file
//! should keep their clocks close; safety rests on the epoch, not on them.
//!
//! Batches are `BEGIN IMMEDIATE` transactions: they take SQLite's write lock when they start,
//! so two writers never deadlock upgrading a read lock. While a batch is open every other
//! writer of the file waits for it (up to the pool's busy timeout); a claim that times out
//! there returns "not claimed" rather than an error.
//!
//! # Layout
//!
//! This file holds the type and its [`CheckpointStore`] face; `claims.rs` claims, renews,
//! releases and marks failures, `batch.rs` writes inside a batch, `reads.rs` reads states,
//! dead letters and the active version.

mod batch;
mod claims;
mod reads;

use std::time::Duration;

use sqlx::sqlite::{Sqlite, SqliteConnection, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    CheckpointStore, Claim, DeadLetter, Failure, ProjectionError, ProjectionKey, ProjectionState,
};

/// [`CheckpointStore`] in a SQLite database. Cheap to clone: clones share the pool.
///
/// ```no_run
/// # async fn example(pool: sqlx::SqlitePool) -> Result<(), aggregato::projection::ProjectionError> {
/// use aggregato::projection::sqlite::SqliteCheckpoints;
///
/// let checkpoints = SqliteCheckpoints::new(pool);
/// checkpoints.migrate().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteCheckpoints {
    pool: SqlitePool,
}

impl SqliteCheckpoints {
    /// Checkpoints in `pool`'s database (see [`Self::migrate`]). Use a file database: each
    /// connection to `sqlite::memory:` is a database of its own.
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// Applies the pending migrations of the event store's
    /// [`MIGRATOR`](crate::store::sqlite::MIGRATOR), which create the checkpoint tables.
    /// Idempotent, and safe from several processes at once.
    pub async fn migrate(&self) -> Result<(), ProjectionError> {
        crate::SqliteEventStore::from_pool(self.pool.clone())
            .migrate()
            .await
            .map_err(ProjectionError::checkpoint)
    }

    /// The connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// The application clock, in Unix milliseconds.
fn now_millis() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A time stored as Unix milliseconds.
fn time(millis: i64) -> Result<OffsetDateTime, String> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(|_| format!("time out of range: {millis} ms"))
}

/// A time as Unix milliseconds (sub-millisecond digits are dropped).
fn to_millis(time: OffsetDateTime) -> i64 {
    i64::try_from(time.unix_timestamp_nanos().div_euclid(1_000_000)).unwrap_or(i64::MAX)
}

impl CheckpointStore for SqliteCheckpoints {
    type Transaction = SqliteConnection;
    type Batch = sqlx::Transaction<'static, Sqlite>;

    async fn claim(
        &self,
        key: &ProjectionKey,
        owner: Uuid,
        lease: Duration,
    ) -> Result<Option<Claim>, ProjectionError> {
        self.claim_row(key, owner, lease).await
    }

    async fn renew(&self, claim: &Claim, lease: Duration) -> Result<bool, ProjectionError> {
        self.renew_row(claim, lease).await
    }

    async fn release(&self, claim: &Claim) -> Result<(), ProjectionError> {
        self.release_row(claim).await
    }

    async fn begin(&self) -> Result<Self::Batch, ProjectionError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(super::sql::failed)
    }

    fn transaction(batch: &mut Self::Batch) -> &mut Self::Transaction {
        batch
    }

    async fn advance(
        &self,
        batch: &mut Self::Batch,
        claim: &Claim,
        from: u64,
        to: u64,
        lease: Duration,
    ) -> Result<(), ProjectionError> {
        batch::advance(batch, claim, from, to, lease).await
    }

    async fn dead_letter(
        &self,
        batch: &mut Self::Batch,
        key: &ProjectionKey,
        letter: &DeadLetter,
    ) -> Result<(), ProjectionError> {
        batch::dead_letter(batch, key, letter).await
    }

    async fn rewind(
        &self,
        batch: &mut Self::Batch,
        claim: &Claim,
        from: u64,
    ) -> Result<(), ProjectionError> {
        batch::rewind(batch, claim, from).await
    }

    async fn activate(
        &self,
        batch: &mut Self::Batch,
        claim: &Claim,
    ) -> Result<(), ProjectionError> {
        batch::activate(batch, claim).await
    }

    async fn commit(&self, batch: Self::Batch) -> Result<(), ProjectionError> {
        batch.commit().await.map_err(super::sql::failed)
    }

    async fn rollback(&self, batch: Self::Batch) -> Result<(), ProjectionError> {
        batch.rollback().await.map_err(super::sql::failed)
    }

    async fn mark_failed(&self, claim: &Claim, failure: &Failure) -> Result<(), ProjectionError> {
        self.mark_failed_row(claim, failure).await
    }

    async fn state(&self, key: &ProjectionKey) -> Result<Option<ProjectionState>, ProjectionError> {
        reads::state(&self.pool, key).await
    }

    async fn dead_letters(&self, key: &ProjectionKey) -> Result<Vec<DeadLetter>, ProjectionError> {
        reads::dead_letters(&self.pool, key).await
    }

    async fn active_version(&self, name: &str) -> Result<Option<u32>, ProjectionError> {
        reads::active_version(&self.pool, name).await
    }
}

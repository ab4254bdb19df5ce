//! [`PostgresCheckpoints`]: projection checkpoints in PostgreSQL (feature `postgres`), in the
//! read model's database, so a batch's writes and its checkpoint commit together.
//!
//! # Schema
//!
//! The tables `aggregato_checkpoints` and `aggregato_dead_letters` come with the event store's
//! migrations ([`MIGRATOR`](crate::store::postgres::MIGRATOR)): a schema migrated by
//! [`PostgresEventStore::migrate`](crate::PostgresEventStore::migrate) (or
//! `connect_in_schema`) has them, and [`PostgresCheckpoints::migrate`] applies the same
//! migrations, so either is enough and running both is harmless.
//!
//! # Claims and fences
//!
//! A claim is one `INSERT ... ON CONFLICT DO UPDATE` that takes the row when it has no owner,
//! its lease has run out, or the claimant owns it already; a change of owner raises the epoch.
//! Leases are times of the server's clock (`now()`), so runners on hosts whose clocks
//! disagree still agree on who holds a lease. Safety does not rest on them anyway: every
//! checkpoint write names the owner, the epoch and the position it expects, so a runner that
//! was paused past its lease and then taken over commits nothing
//! ([`ProjectionError::Fenced`]).
//!
//! A claim never waits behind a runner frozen in an open batch (its transaction holds the
//! checkpoint row's lock): the claim runs with a short `lock_timeout`
//! ([`PostgresCheckpoints::with_claim_lock_timeout`], 200 ms by default) and a timeout means
//! "not claimed". Each batch sets `idle_in_transaction_session_timeout`
//! ([`PostgresCheckpoints::with_idle_in_transaction_timeout`], 10 s by default), so the server
//! ends the transaction of a runner that stopped talking to it, and the row is free again.
//!
//! A refused write ([`ProjectionError::Fenced`]) names the claim's epoch and the position it
//! expected: `from` for `advance` and `rewind`, the claim's position for `activate`, the
//! failing event's position for `mark_failed`. A rewind keeps the dead letters; a rebuild
//! that gives up on the same event again replaces its letter.
//! [`renew`](CheckpointStore::renew) and `release` wait for a batch of the same claim that is
//! still open (its transaction holds the row); call them between batches.
//!
//! Rows that do not decode (an unknown status, a negative count) are reported as
//! [`CorruptCheckpoint`](super::CorruptCheckpoint) inside [`ProjectionError::Checkpoint`].
//!
//! # Layout
//!
//! This file holds the type and its [`CheckpointStore`] face; `claims.rs` claims, renews,
//! releases and marks failures (each its own transaction), `batch.rs` writes inside a batch,
//! `reads.rs` reads states, dead letters and the active version.

mod batch;
mod claims;
mod reads;

use std::time::Duration;

use sqlx::postgres::{PgConnection, PgPool, Postgres};
use uuid::Uuid;

use super::{
    CheckpointStore, Claim, DeadLetter, Failure, ProjectionError, ProjectionKey, ProjectionState,
};

/// [`CheckpointStore`] in a PostgreSQL schema (the pool's current schema). Cheap to clone:
/// clones share the pool.
///
/// ```no_run
/// # async fn example(pool: sqlx::PgPool) -> Result<(), aggregato::projection::ProjectionError> {
/// use aggregato::projection::postgres::PostgresCheckpoints;
///
/// let checkpoints = PostgresCheckpoints::new(pool);
/// checkpoints.migrate().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PostgresCheckpoints {
    pool: PgPool,
    claim_lock_timeout: Duration,
    idle_timeout: Duration,
}

impl PostgresCheckpoints {
    /// Checkpoints in the current schema of `pool`'s connections (see [`Self::migrate`]).
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            claim_lock_timeout: Duration::from_millis(200),
            idle_timeout: Duration::from_secs(10),
        }
    }

    /// How long a claim waits for the checkpoint row's lock before it gives up ("not
    /// claimed"); 200 ms by default. Rounded to whole milliseconds, at least 1.
    pub fn with_claim_lock_timeout(mut self, timeout: Duration) -> Self {
        self.claim_lock_timeout = timeout;
        self
    }

    /// How long a batch may sit idle (its runner frozen, or gone without closing the
    /// connection) before the server ends it, releasing the checkpoint row; 10 s by default.
    /// Rounded to whole milliseconds, at least 1. Keep it longer than the longest pause
    /// between two statements of one batch (a slow handler doing work outside the database).
    pub fn with_idle_in_transaction_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Applies the pending migrations of the event store's
    /// [`MIGRATOR`](crate::store::postgres::MIGRATOR), which create the checkpoint
    /// tables, to the pool's current schema. Idempotent.
    pub async fn migrate(&self) -> Result<(), ProjectionError> {
        crate::store::postgres::MIGRATOR
            .run(&self.pool)
            .await
            .map_err(ProjectionError::checkpoint)
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// A duration as a whole number of milliseconds for a `SET` of a timeout (0 would disable it).
fn setting_millis(duration: Duration) -> u128 {
    duration.as_millis().max(1)
}

/// Whether `error` is a PostgreSQL error with this SQLSTATE.
fn has_sqlstate(error: &sqlx::Error, code: &str) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some(code))
}

impl CheckpointStore for PostgresCheckpoints {
    type Transaction = PgConnection;
    type Batch = sqlx::Transaction<'static, Postgres>;

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
        self.begin_batch().await
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

//! Claims, renewals, releases and failures: each one short transaction of its own.

use std::time::Duration;

use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::{PostgresCheckpoints, has_sqlstate, setting_millis};
use crate::projection::sql::{claim_columns, decode_claim, failed, fenced, lease_micros, to_db};
use crate::projection::{Claim, Failure, ProjectionError, ProjectionKey};

/// SQLSTATE `lock_not_available`: the claim's `lock_timeout` ran out.
const LOCK_NOT_AVAILABLE: &str = "55P03";

/// SQLSTATE `unique_violation`.
const UNIQUE_VIOLATION: &str = "23505";

/// How many times a first claim is tried when another version of the projection became
/// active at the same moment (the partial unique index refuses a second active row).
const FIRST_CLAIM_ATTEMPTS: u32 = 3;

/// Takes the row (creating it on the first claim of a version) when it has no owner, its
/// lease ran out, or `$3` owns it already; a change of owner raises the epoch. A new version
/// starts active only when no other version of the projection is, and replays up to the
/// active version's checkpoint otherwise. No row comes back when another runner holds it.
const CLAIM: &str = concat!(
    "INSERT INTO aggregato_checkpoints AS c ",
    "(name, version, position, epoch, owner, lease_until, status, active, replay_until, ",
    "updated_at) ",
    "VALUES ($1, $2, 0, 1, $3, now() + $4::bigint * interval '1 microsecond', 'running', ",
    "NOT EXISTS (SELECT 1 FROM aggregato_checkpoints WHERE name = $1 AND active), ",
    "COALESCE((SELECT position FROM aggregato_checkpoints WHERE name = $1 AND active), 0), ",
    "now()) ",
    "ON CONFLICT (name, version) DO UPDATE SET ",
    "epoch = CASE WHEN c.owner = EXCLUDED.owner THEN c.epoch ELSE c.epoch + 1 END, ",
    "owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until, updated_at = now() ",
    "WHERE c.owner IS NULL OR c.owner = EXCLUDED.owner ",
    "OR c.lease_until IS NULL OR c.lease_until <= now() ",
    "RETURNING ",
    claim_columns!()
);

impl PostgresCheckpoints {
    pub(super) async fn claim_row(
        &self,
        key: &ProjectionKey,
        owner: Uuid,
        lease: Duration,
    ) -> Result<Option<Claim>, ProjectionError> {
        let mut attempt = 1;
        loop {
            match self.try_claim(key, owner, lease).await {
                Err(error) if has_sqlstate(&error, LOCK_NOT_AVAILABLE) => return Ok(None),
                Err(error)
                    if has_sqlstate(&error, UNIQUE_VIOLATION) && attempt < FIRST_CLAIM_ATTEMPTS =>
                {
                    attempt += 1;
                }
                Err(error) => return Err(failed(error)),
                Ok(None) => return Ok(None),
                Ok(Some(row)) => return decode_claim(&row, key, owner).map(Some),
            }
        }
    }

    /// One claim, in a transaction whose `lock_timeout` keeps it from waiting behind a frozen
    /// runner's batch, and which the server ends if it is left open (the claiming future
    /// dropped between its statements), so an abandoned claim never holds the row.
    async fn try_claim(
        &self,
        key: &ProjectionKey,
        owner: Uuid,
        lease: Duration,
    ) -> Result<Option<sqlx::postgres::PgRow>, sqlx::Error> {
        let mut transaction = self
            .pool
            .begin_with(AssertSqlSafe(format!(
                "BEGIN; SET LOCAL lock_timeout = {}; \
                 SET LOCAL idle_in_transaction_session_timeout = {}",
                setting_millis(self.claim_lock_timeout),
                setting_millis(self.idle_timeout)
            )))
            .await?;
        let row = sqlx::query(CLAIM)
            .bind(&key.name)
            .bind(i64::from(key.version))
            .bind(owner)
            .bind(lease_micros(lease))
            .fetch_optional(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(row)
    }

    pub(super) async fn renew_row(
        &self,
        claim: &Claim,
        lease: Duration,
    ) -> Result<bool, ProjectionError> {
        let renewed = sqlx::query(
            "UPDATE aggregato_checkpoints \
             SET lease_until = now() + $5::bigint * interval '1 microsecond', updated_at = now() \
             WHERE name = $1 AND version = $2 AND owner = $3 AND epoch = $4 \
             AND status <> 'retired'",
        )
        .bind(&claim.key.name)
        .bind(i64::from(claim.key.version))
        .bind(claim.owner)
        .bind(to_db(claim.epoch))
        .bind(lease_micros(lease))
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(renewed.rows_affected() == 1)
    }

    pub(super) async fn release_row(&self, claim: &Claim) -> Result<(), ProjectionError> {
        // A claim already lost has nothing to release: not an error.
        sqlx::query(
            "UPDATE aggregato_checkpoints SET owner = NULL, lease_until = NULL, updated_at = now() \
             WHERE name = $1 AND version = $2 AND owner = $3 AND epoch = $4",
        )
        .bind(&claim.key.name)
        .bind(i64::from(claim.key.version))
        .bind(claim.owner)
        .bind(to_db(claim.epoch))
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    pub(super) async fn mark_failed_row(
        &self,
        claim: &Claim,
        failure: &Failure,
    ) -> Result<(), ProjectionError> {
        let marked = sqlx::query(
            "UPDATE aggregato_checkpoints SET status = 'failed', failed_position = $5, \
             failed_event_id = $6, failed_stream_id = $7, failed_version = $8, \
             failed_event_type = $9, failed_error = $10, failed_attempts = $11, \
             failed_at = $12, updated_at = now() \
             WHERE name = $1 AND version = $2 AND owner = $3 AND epoch = $4 \
             AND status <> 'retired'",
        )
        .bind(&claim.key.name)
        .bind(i64::from(claim.key.version))
        .bind(claim.owner)
        .bind(to_db(claim.epoch))
        .bind(to_db(failure.position))
        .bind(failure.event_id)
        .bind(&failure.stream_id)
        .bind(to_db(failure.version))
        .bind(&failure.event_type)
        .bind(&failure.error)
        .bind(i64::from(failure.attempts))
        .bind(failure.failed_at)
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        if marked.rows_affected() == 0 {
            return Err(fenced(claim, failure.position));
        }
        Ok(())
    }
}

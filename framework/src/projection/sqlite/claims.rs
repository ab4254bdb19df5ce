//! Claims, renewals, releases and failures: each one statement in autocommit.

use std::time::Duration;

use uuid::Uuid;

use super::{SqliteCheckpoints, now_millis, to_millis};
use crate::projection::sql::{claim_columns, decode_claim, failed, fenced, lease_millis, to_db};
use crate::projection::{Claim, Failure, ProjectionError, ProjectionKey};

/// Takes the row (creating it on the first claim of a version) when it has no owner, its
/// lease ran out (`?4` is now), or `?3` owns it already; a change of owner raises the epoch.
/// A new version starts active only when no other version of the projection is, and replays
/// up to the active version's checkpoint otherwise. SQLite runs one writer at a time, so the
/// reads of the other versions and the insert see one state.
const CLAIM: &str = concat!(
    "INSERT INTO aggregato_checkpoints ",
    "(name, version, position, epoch, owner, lease_until, status, active, replay_until, ",
    "updated_at) ",
    "VALUES (?1, ?2, 0, 1, ?3, ?5, 'running', ",
    "NOT EXISTS (SELECT 1 FROM aggregato_checkpoints WHERE name = ?1 AND active), ",
    "COALESCE((SELECT position FROM aggregato_checkpoints WHERE name = ?1 AND active), 0), ",
    "?4) ",
    "ON CONFLICT (name, version) DO UPDATE SET ",
    "epoch = CASE WHEN aggregato_checkpoints.owner = excluded.owner ",
    "THEN aggregato_checkpoints.epoch ELSE aggregato_checkpoints.epoch + 1 END, ",
    "owner = excluded.owner, lease_until = excluded.lease_until, updated_at = excluded.updated_at ",
    "WHERE aggregato_checkpoints.owner IS NULL OR aggregato_checkpoints.owner = excluded.owner ",
    "OR aggregato_checkpoints.lease_until IS NULL OR aggregato_checkpoints.lease_until <= ?4 ",
    "RETURNING ",
    claim_columns!()
);

/// SQLite's primary result code for "database is locked".
const SQLITE_BUSY: i32 = 5;

/// Whether SQLite said "database is locked" (`SQLITE_BUSY`, any extended code): another
/// connection held the write lock for longer than the busy timeout.
fn is_busy(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    db.code()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == SQLITE_BUSY)
}

impl SqliteCheckpoints {
    pub(super) async fn claim_row(
        &self,
        key: &ProjectionKey,
        owner: Uuid,
        lease: Duration,
    ) -> Result<Option<Claim>, ProjectionError> {
        let now = now_millis();
        let row = sqlx::query(CLAIM)
            .bind(&key.name)
            .bind(i64::from(key.version))
            .bind(owner)
            .bind(now)
            .bind(now.saturating_add(lease_millis(lease)))
            .fetch_optional(&self.pool)
            .await;
        match row {
            // A batch (of the holder, or of anyone) kept the file's write lock past the busy
            // timeout: not claimed this time.
            Err(error) if is_busy(&error) => Ok(None),
            Err(error) => Err(failed(error)),
            Ok(None) => Ok(None),
            Ok(Some(row)) => decode_claim(&row, key, owner).map(Some),
        }
    }

    pub(super) async fn renew_row(
        &self,
        claim: &Claim,
        lease: Duration,
    ) -> Result<bool, ProjectionError> {
        let now = now_millis();
        let renewed = sqlx::query(
            "UPDATE aggregato_checkpoints SET lease_until = ?5, updated_at = ?6 \
             WHERE name = ?1 AND version = ?2 AND owner = ?3 AND epoch = ?4 \
             AND status <> 'retired'",
        )
        .bind(&claim.key.name)
        .bind(i64::from(claim.key.version))
        .bind(claim.owner)
        .bind(to_db(claim.epoch))
        .bind(now.saturating_add(lease_millis(lease)))
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(renewed.rows_affected() == 1)
    }

    pub(super) async fn release_row(&self, claim: &Claim) -> Result<(), ProjectionError> {
        // A claim already lost has nothing to release: not an error.
        sqlx::query(
            "UPDATE aggregato_checkpoints SET owner = NULL, lease_until = NULL, updated_at = ?5 \
             WHERE name = ?1 AND version = ?2 AND owner = ?3 AND epoch = ?4",
        )
        .bind(&claim.key.name)
        .bind(i64::from(claim.key.version))
        .bind(claim.owner)
        .bind(to_db(claim.epoch))
        .bind(now_millis())
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
            "UPDATE aggregato_checkpoints SET status = 'failed', failed_position = ?5, \
             failed_event_id = ?6, failed_stream_id = ?7, failed_version = ?8, \
             failed_event_type = ?9, failed_error = ?10, failed_attempts = ?11, \
             failed_at = ?12, updated_at = ?13 \
             WHERE name = ?1 AND version = ?2 AND owner = ?3 AND epoch = ?4 \
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
        .bind(to_millis(failure.failed_at))
        .bind(now_millis())
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        if marked.rows_affected() == 0 {
            return Err(fenced(claim, failure.position));
        }
        Ok(())
    }
}

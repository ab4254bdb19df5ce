//! The writes made inside a batch: opening it, moving the checkpoint, dead letters, rewinds
//! and activation. Every one that touches the checkpoint is fenced by the claim's owner and
//! epoch; a fenced write changes nothing and the caller rolls the batch back.

use std::time::Duration;

use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Postgres};

use super::{PostgresCheckpoints, setting_millis};
use crate::projection::sql::{failed, fenced, lease_micros, to_db};
use crate::projection::{Claim, DeadLetter, ProjectionError, ProjectionKey};

/// Clears the failure columns (a `SET` list fragment).
macro_rules! clear_failure {
    () => {
        "failed_position = NULL, failed_event_id = NULL, failed_stream_id = NULL, \
         failed_version = NULL, failed_event_type = NULL, failed_error = NULL, \
         failed_attempts = NULL, failed_at = NULL"
    };
}

/// The fence of every checkpoint write (`$1` .. `$4`: name, version, owner, epoch).
macro_rules! fence {
    () => {
        " WHERE name = $1 AND version = $2 AND owner = $3 AND epoch = $4 \
          AND status <> 'retired'"
    };
}

impl PostgresCheckpoints {
    /// A transaction the server ends if it sits idle longer than the configured timeout, so a
    /// frozen runner does not keep the checkpoint row locked.
    pub(super) async fn begin_batch(
        &self,
    ) -> Result<sqlx::Transaction<'static, Postgres>, ProjectionError> {
        self.pool
            .begin_with(AssertSqlSafe(format!(
                "BEGIN; SET LOCAL idle_in_transaction_session_timeout = {}",
                setting_millis(self.idle_timeout)
            )))
            .await
            .map_err(failed)
    }
}

pub(super) async fn advance(
    connection: &mut PgConnection,
    claim: &Claim,
    from: u64,
    to: u64,
    lease: Duration,
) -> Result<(), ProjectionError> {
    // clock_timestamp(), not now(): now() is when the batch began, and the lease should run
    // from this write, after the batch's work.
    let moved = sqlx::query(concat!(
        "UPDATE aggregato_checkpoints SET position = $6, ",
        "lease_until = clock_timestamp() + $7::bigint * interval '1 microsecond', ",
        "status = 'running', updated_at = now(), ",
        clear_failure!(),
        fence!(),
        " AND position = $5"
    ))
    .bind(&claim.key.name)
    .bind(i64::from(claim.key.version))
    .bind(claim.owner)
    .bind(to_db(claim.epoch))
    .bind(to_db(from))
    .bind(to_db(to))
    .bind(lease_micros(lease))
    .execute(&mut *connection)
    .await
    .map_err(failed)?;
    if moved.rows_affected() == 0 {
        return Err(fenced(claim, from));
    }
    Ok(())
}

pub(super) async fn dead_letter(
    connection: &mut PgConnection,
    key: &ProjectionKey,
    letter: &DeadLetter,
) -> Result<(), ProjectionError> {
    // A letter for a position already recorded (the event failed again after a rewind
    // rebuilt past it) replaces the old one: the newest error is the one to read.
    sqlx::query(
        "INSERT INTO aggregato_dead_letters (name, version, position, event_id, stream_id, \
         stream_version, event_type, error, attempts, failed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (name, version, position) DO UPDATE SET event_id = EXCLUDED.event_id, \
         stream_id = EXCLUDED.stream_id, stream_version = EXCLUDED.stream_version, \
         event_type = EXCLUDED.event_type, error = EXCLUDED.error, \
         attempts = EXCLUDED.attempts, failed_at = EXCLUDED.failed_at",
    )
    .bind(&key.name)
    .bind(i64::from(key.version))
    .bind(to_db(letter.position))
    .bind(letter.event_id)
    .bind(&letter.stream_id)
    .bind(to_db(letter.version))
    .bind(&letter.event_type)
    .bind(&letter.error)
    .bind(i64::from(letter.attempts))
    .bind(letter.failed_at)
    .execute(&mut *connection)
    .await
    .map_err(failed)?;
    Ok(())
}

pub(super) async fn rewind(
    connection: &mut PgConnection,
    claim: &Claim,
    from: u64,
) -> Result<(), ProjectionError> {
    let rewound = sqlx::query(concat!(
        "UPDATE aggregato_checkpoints SET position = 0, ",
        "replay_until = GREATEST(replay_until, $5), status = 'running', updated_at = now(), ",
        clear_failure!(),
        fence!(),
        " AND position = $5"
    ))
    .bind(&claim.key.name)
    .bind(i64::from(claim.key.version))
    .bind(claim.owner)
    .bind(to_db(claim.epoch))
    .bind(to_db(from))
    .execute(&mut *connection)
    .await
    .map_err(failed)?;
    if rewound.rows_affected() == 0 {
        return Err(fenced(claim, from));
    }
    Ok(())
}

pub(super) async fn activate(
    connection: &mut PgConnection,
    claim: &Claim,
) -> Result<(), ProjectionError> {
    // First the fence, which also locks this version's row; then the others are retired
    // before this one is marked active, since the partial unique index on active rows is
    // checked row by row and would refuse two active rows even for a moment.
    let held = sqlx::query(concat!(
        "UPDATE aggregato_checkpoints SET updated_at = now()",
        fence!()
    ))
    .bind(&claim.key.name)
    .bind(i64::from(claim.key.version))
    .bind(claim.owner)
    .bind(to_db(claim.epoch))
    .execute(&mut *connection)
    .await
    .map_err(failed)?;
    if held.rows_affected() == 0 {
        return Err(fenced(claim, claim.position));
    }
    sqlx::query(concat!(
        "UPDATE aggregato_checkpoints SET active = FALSE, status = 'retired', updated_at = now(), ",
        clear_failure!(),
        " WHERE name = $1 AND version <> $2"
    ))
    .bind(&claim.key.name)
    .bind(i64::from(claim.key.version))
    .execute(&mut *connection)
    .await
    .map_err(failed)?;
    sqlx::query("UPDATE aggregato_checkpoints SET active = TRUE WHERE name = $1 AND version = $2")
        .bind(&claim.key.name)
        .bind(i64::from(claim.key.version))
        .execute(&mut *connection)
        .await
        .map_err(failed)?;
    Ok(())
}

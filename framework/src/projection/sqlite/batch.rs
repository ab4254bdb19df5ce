//! The writes made inside a batch: moving the checkpoint, dead letters, rewinds and
//! activation. Every one that touches the checkpoint is fenced by the claim's owner and
//! epoch; a fenced write changes nothing and the caller rolls the batch back.

use std::time::Duration;

use sqlx::sqlite::SqliteConnection;

use super::{now_millis, to_millis};
use crate::projection::sql::{failed, fenced, lease_millis, to_db};
use crate::projection::{Claim, DeadLetter, ProjectionError, ProjectionKey};

/// Clears the failure columns (a `SET` list fragment).
macro_rules! clear_failure {
    () => {
        "failed_position = NULL, failed_event_id = NULL, failed_stream_id = NULL, \
         failed_version = NULL, failed_event_type = NULL, failed_error = NULL, \
         failed_attempts = NULL, failed_at = NULL"
    };
}

/// The fence of every checkpoint write (`?1` .. `?4`: name, version, owner, epoch).
macro_rules! fence {
    () => {
        " WHERE name = ?1 AND version = ?2 AND owner = ?3 AND epoch = ?4 \
          AND status <> 'retired'"
    };
}

pub(super) async fn advance(
    connection: &mut SqliteConnection,
    claim: &Claim,
    from: u64,
    to: u64,
    lease: Duration,
) -> Result<(), ProjectionError> {
    let now = now_millis();
    let moved = sqlx::query(concat!(
        "UPDATE aggregato_checkpoints SET position = ?6, lease_until = ?7, ",
        "status = 'running', updated_at = ?8, ",
        clear_failure!(),
        fence!(),
        " AND position = ?5"
    ))
    .bind(&claim.key.name)
    .bind(i64::from(claim.key.version))
    .bind(claim.owner)
    .bind(to_db(claim.epoch))
    .bind(to_db(from))
    .bind(to_db(to))
    .bind(now.saturating_add(lease_millis(lease)))
    .bind(now)
    .execute(&mut *connection)
    .await
    .map_err(failed)?;
    if moved.rows_affected() == 0 {
        return Err(fenced(claim, from));
    }
    Ok(())
}

pub(super) async fn dead_letter(
    connection: &mut SqliteConnection,
    key: &ProjectionKey,
    letter: &DeadLetter,
) -> Result<(), ProjectionError> {
    // A letter for a position already recorded replaces the old one: the newest error is the
    // one to read.
    sqlx::query(
        "INSERT INTO aggregato_dead_letters (name, version, position, event_id, stream_id, \
         stream_version, event_type, error, attempts, failed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
         ON CONFLICT (name, version, position) DO UPDATE SET event_id = excluded.event_id, \
         stream_id = excluded.stream_id, stream_version = excluded.stream_version, \
         event_type = excluded.event_type, error = excluded.error, \
         attempts = excluded.attempts, failed_at = excluded.failed_at",
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
    .bind(to_millis(letter.failed_at))
    .execute(&mut *connection)
    .await
    .map_err(failed)?;
    Ok(())
}

pub(super) async fn rewind(
    connection: &mut SqliteConnection,
    claim: &Claim,
    from: u64,
) -> Result<(), ProjectionError> {
    let rewound = sqlx::query(concat!(
        "UPDATE aggregato_checkpoints SET position = 0, ",
        "replay_until = MAX(replay_until, ?5), status = 'running', updated_at = ?6, ",
        clear_failure!(),
        fence!(),
        " AND position = ?5"
    ))
    .bind(&claim.key.name)
    .bind(i64::from(claim.key.version))
    .bind(claim.owner)
    .bind(to_db(claim.epoch))
    .bind(to_db(from))
    .bind(now_millis())
    .execute(&mut *connection)
    .await
    .map_err(failed)?;
    if rewound.rows_affected() == 0 {
        return Err(fenced(claim, from));
    }
    Ok(())
}

pub(super) async fn activate(
    connection: &mut SqliteConnection,
    claim: &Claim,
) -> Result<(), ProjectionError> {
    let now = now_millis();
    // First the fence; then the others are retired before this one is marked active, since
    // the partial unique index on active rows is checked row by row.
    let held = sqlx::query(concat!(
        "UPDATE aggregato_checkpoints SET updated_at = ?5",
        fence!()
    ))
    .bind(&claim.key.name)
    .bind(i64::from(claim.key.version))
    .bind(claim.owner)
    .bind(to_db(claim.epoch))
    .bind(now)
    .execute(&mut *connection)
    .await
    .map_err(failed)?;
    if held.rows_affected() == 0 {
        return Err(fenced(claim, claim.position));
    }
    sqlx::query(concat!(
        "UPDATE aggregato_checkpoints SET active = 0, status = 'retired', updated_at = ?3, ",
        clear_failure!(),
        " WHERE name = ?1 AND version <> ?2"
    ))
    .bind(&claim.key.name)
    .bind(i64::from(claim.key.version))
    .bind(now)
    .execute(&mut *connection)
    .await
    .map_err(failed)?;
    sqlx::query("UPDATE aggregato_checkpoints SET active = 1 WHERE name = ?1 AND version = ?2")
        .bind(&claim.key.name)
        .bind(i64::from(claim.key.version))
        .execute(&mut *connection)
        .await
        .map_err(failed)?;
    Ok(())
}

//! Plain reads: a checkpoint's state, its dead letters, the active version of a projection.

use sqlx::sqlite::SqlitePool;

use super::time;
use crate::projection::sql::{
    dead_letter_columns, decode_dead_letter, decode_state, failed, state_columns, version_of,
};
use crate::projection::{DeadLetter, ProjectionError, ProjectionKey, ProjectionState};

pub(super) async fn state(
    pool: &SqlitePool,
    key: &ProjectionKey,
) -> Result<Option<ProjectionState>, ProjectionError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        state_columns!(),
        " FROM aggregato_checkpoints WHERE name = ?1 AND version = ?2"
    ))
    .bind(&key.name)
    .bind(i64::from(key.version))
    .fetch_optional(pool)
    .await
    .map_err(failed)?;
    row.map(|row| decode_state(&row, key, time)).transpose()
}

pub(super) async fn dead_letters(
    pool: &SqlitePool,
    key: &ProjectionKey,
) -> Result<Vec<DeadLetter>, ProjectionError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        dead_letter_columns!(),
        " FROM aggregato_dead_letters WHERE name = ?1 AND version = ?2 ORDER BY position"
    ))
    .bind(&key.name)
    .bind(i64::from(key.version))
    .fetch_all(pool)
    .await
    .map_err(failed)?;
    rows.iter()
        .map(|row| decode_dead_letter(row, key, time))
        .collect()
}

pub(super) async fn active_version(
    pool: &SqlitePool,
    name: &str,
) -> Result<Option<u32>, ProjectionError> {
    let version: Option<i64> =
        sqlx::query_scalar("SELECT version FROM aggregato_checkpoints WHERE name = ?1 AND active")
            .bind(name)
            .fetch_optional(pool)
            .await
            .map_err(failed)?;
    version.map(|version| version_of(name, version)).transpose()
}

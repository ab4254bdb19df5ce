//! [`PostgresEventStore`] as a [`SnapshotStore`]: the newest snapshot per stream, an older
//! one never replacing a newer.

use async_trait::async_trait;
use sqlx::postgres::PgRow;

use super::PostgresEventStore;
use crate::store::sql::{backend, decode_snapshot, snapshot_columns, to_db};
use crate::store::{Snapshot, SnapshotStore, StoreError, check_snapshot};

#[async_trait]
impl SnapshotStore for PostgresEventStore {
    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        check_snapshot(&snapshot)?;
        sqlx::query(
            "INSERT INTO aggregato_snapshots \
                (stream_id, aggregate_type, version, schema_version, payload, taken_at) \
             VALUES ($1, $2, $3, $4, $5::json, $6) \
             ON CONFLICT (stream_id) DO UPDATE SET \
                aggregate_type = excluded.aggregate_type, version = excluded.version, \
                schema_version = excluded.schema_version, payload = excluded.payload, \
                taken_at = excluded.taken_at \
             WHERE excluded.version > aggregato_snapshots.version \
                OR excluded.schema_version <> aggregato_snapshots.schema_version",
        )
        .bind(&snapshot.stream_id)
        .bind(&snapshot.aggregate_type)
        .bind(to_db(snapshot.version))
        .bind(i64::from(snapshot.schema_version))
        .bind(snapshot.payload.to_string())
        .bind(snapshot.taken_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load_snapshot(&self, stream: &str) -> Result<Option<Snapshot>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            snapshot_columns!(),
            " FROM aggregato_snapshots WHERE stream_id = $1"
        ))
        .bind(stream)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref()
            .map(decode_snapshot::<PgRow, serde_json::Value>)
            .transpose()
    }
}
